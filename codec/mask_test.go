package codec

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// naiveSpecialMask is specialMask64 written the obvious way.
func naiveSpecialMask(blk *[64]byte) uint64 {
	var m uint64
	for k, c := range blk {
		if c == '"' || c == '\\' || c < 0x20 {
			m |= 1 << k
		}
	}
	return m
}

// TestSpecialMask64 holds the SIMD (where built) and the portable mask to
// the naive one: every byte value at every position, over a background of
// plain and of special bytes, and random blocks.
func TestSpecialMask64(t *testing.T) {
	check := func(blk *[64]byte) {
		t.Helper()
		want := naiveSpecialMask(blk)
		if got := specialMask64(blk); got != want {
			t.Fatalf("specialMask64(%q) = %064b, want %064b", blk[:], got, want)
		}
		if got := specialMask64Go(blk); got != want {
			t.Fatalf("specialMask64Go(%q) = %064b, want %064b", blk[:], got, want)
		}
	}
	for _, background := range []byte{'a', 0x80, 0xff, '"', 0x00, ' ', '\\'} {
		for pos := range 64 {
			for c := range 256 {
				var blk [64]byte
				for k := range blk {
					blk[k] = background
				}
				blk[pos] = byte(c)
				check(&blk)
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("\"\\\x00\x1f\x20\x21\x7f\x80\x9f\xa2\xdc\xff a0")
	for range 20000 {
		var blk [64]byte
		for k := range blk {
			if rng.IntN(2) == 0 {
				blk[k] = byte(rng.IntN(256))
			} else {
				blk[k] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		check(&blk)
	}
}

// TestScannerUnterminatedStringOffset: a string cut off in the last,
// partial mask block is reported at the end of the body, not past it.
func TestScannerUnterminatedStringOffset(t *testing.T) {
	for n := range 200 {
		body := `"` + strings.Repeat("x", n)
		err := validJSON([]byte(body))
		if err == nil {
			t.Fatalf("%d bytes: unterminated string accepted", len(body))
		}
		me, ok := err.(*malformedError)
		if !ok || me.msg != "unterminated string" || me.off != len(body) {
			t.Fatalf("%d bytes: err = %v, want unterminated string at offset %d", len(body), err, len(body))
		}
	}
}
