//go:build !amd64 || purego

package codec

// specialMask64 returns a mask with bit k set when blk[k] is '"', '\\' or a
// control character (below 0x20).
func specialMask64(blk *[64]byte) uint64 { return specialMask64Go(blk) }
