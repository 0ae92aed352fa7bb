package fastpool

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzParseRetryAfter: the header comes from the network; the parser must
// never panic and never return a negative delay.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "120", " 5 ", "0", "-1", "1e9", "99999999999999999999",
		"Wed, 25 Nov 2026 05:00:30 GMT", "Wednesday, 25-Nov-26 05:00:30 GMT", "Wed Nov 25 05:00:30 2026", "", "\x00", "1\r\n"} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 11, 25, 5, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v []byte) {
		if d := parseRetryAfter(v, now); d < 0 {
			t.Fatalf("negative delay %v for %q", d, v)
		}
	})
}

// FuzzDecompress: response bodies come from the network; decoding must never
// panic, never return more than the limit, and round-trip what it decodes.
func FuzzDecompress(f *testing.F) {
	f.Add([]byte("gzip"), gz(f, []byte(`{"jsonrpc":"2.0","id":1,"result":null}`)), 64)
	f.Add([]byte("zstd"), zs(f, []byte(`{"jsonrpc":"2.0","id":1,"result":null}`)), 64)
	f.Add([]byte("gzip"), gz(f, make([]byte, 10000)), 1000)
	f.Add([]byte("zstd"), zs(f, make([]byte, 10000)), 1000)
	f.Add([]byte("gzip"), []byte("\x1f\x8b\x08\x00garbage"), 100)
	f.Add([]byte("zstd"), []byte("\x28\xb5\x2f\xfdgarbage"), 100)
	f.Add([]byte("br"), []byte("x"), 10)
	f.Fuzz(func(t *testing.T, enc, body []byte, limit int) {
		if limit < 0 || limit > 1<<20 {
			return
		}
		prefix := []byte("keep")
		out, err := decompress(bytes.Clone(prefix), body, enc, limit)
		if !bytes.HasPrefix(out, prefix) {
			t.Fatalf("dst prefix lost: %q", out)
		}
		if err == nil && len(out)-len(prefix) > limit {
			t.Fatalf("decoded %d bytes over the %d limit", len(out)-len(prefix), limit)
		}
		if errors.Is(err, ErrBodyTooLarge) && len(out) != len(prefix) {
			t.Fatal("partial output returned with ErrBodyTooLarge")
		}
	})
}
