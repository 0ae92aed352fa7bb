//go:build amd64 && !purego

package codec

// specialMask64 returns a mask with bit k set when blk[k] is '"', '\\' or a
// control character (below 0x20), for the 64 bytes of blk. It uses
// SSE2, which every amd64 CPU has: four 16-byte compares instead of the
// portable version's eight rounds of word arithmetic.
//
//go:noescape
func specialMask64(blk *[64]byte) uint64
