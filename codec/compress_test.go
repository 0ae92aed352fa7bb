package codec

import (
	"bytes"
	stdgzip "compress/gzip"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func TestCompressRoundTrip(t *testing.T) {
	inputs := [][]byte{nil, []byte("x"), benchResponseBody(), bytes.Repeat([]byte("0123456789"), 100000)}
	for _, enc := range []string{"", EncodingIdentity, EncodingGzip, EncodingZstd, "GZIP", " zstd ", "x-gzip"} {
		for _, in := range inputs {
			c, err := Compress([]byte("keep"), in, enc)
			if err != nil {
				t.Fatalf("%q: compress: %v", enc, err)
			}
			if !bytes.HasPrefix(c, []byte("keep")) {
				t.Fatalf("%q: compress must append to dst", enc)
			}
			d, err := Decompress([]byte("dst:"), c[4:], enc, len(in))
			if err != nil {
				t.Fatalf("%q len %d: decompress: %v", enc, len(in), err)
			}
			if !bytes.Equal(d, append([]byte("dst:"), in...)) {
				t.Fatalf("%q len %d: round trip differs", enc, len(in))
			}
		}
	}
}

// Bodies from other implementations decode too: the standard library's gzip
// and a streaming zstd writer without content size in the frame header.
func TestDecompressForeignBodies(t *testing.T) {
	body := benchResponseBody()
	var gz bytes.Buffer
	w := stdgzip.NewWriter(&gz)
	w.Write(body)
	w.Close()
	got, err := Decompress(nil, gz.Bytes(), "gzip", 0)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("stdlib gzip: %v", err)
	}

	var zs bytes.Buffer
	zw, err := zstd.NewWriter(&zs, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(body)
	zw.Close()
	got, err = Decompress(nil, zs.Bytes(), "zstd", 0)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("streamed zstd: %v", err)
	}
}

func TestDecompressErrors(t *testing.T) {
	body := benchResponseBody()
	gz, _ := Compress(nil, body, EncodingGzip)
	zs, _ := Compress(nil, body, EncodingZstd)
	tests := []struct {
		name  string
		src   []byte
		enc   string
		limit int
		want  error
	}{
		{name: "unknown encoding", src: body, enc: "br", want: ErrUnsupportedEncoding},
		{name: "stacked encodings are not supported", src: body, enc: "gzip, zstd", want: ErrUnsupportedEncoding},
		{name: "gzip past the limit", src: gz, enc: "gzip", limit: len(body) - 1, want: ErrTooLarge},
		{name: "zstd past the limit", src: zs, enc: "zstd", limit: len(body) - 1, want: ErrTooLarge},
		{name: "identity past the limit", src: body, enc: "identity", limit: 10, want: ErrTooLarge},
		{name: "gzip garbage", src: []byte("not gzip at all"), enc: "gzip", want: ErrCorrupt},
		{name: "zstd garbage", src: []byte("not zstd at all"), enc: "zstd", want: ErrCorrupt},
		{name: "truncated gzip", src: gz[:len(gz)/2], enc: "gzip", want: ErrCorrupt},
		{name: "truncated zstd", src: zs[:len(zs)/2], enc: "zstd", want: ErrCorrupt},
		{name: "gzip with trailing garbage", src: append(append([]byte{}, gz...), "junk"...), enc: "gzip", want: ErrCorrupt},
		{name: "empty gzip body", src: nil, enc: "gzip", want: ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("dst")
			got, err := Decompress(dst, tt.src, tt.enc, tt.limit)
			if !errors.Is(err, tt.want) {
				t.Fatalf("want %v, got %v", tt.want, err)
			}
			if string(got) != "dst" {
				t.Fatalf("on error dst must come back unchanged, got %q", got)
			}
		})
	}
	if _, err := Compress(nil, body, "br"); !errors.Is(err, ErrUnsupportedEncoding) {
		t.Fatalf("Compress with unknown encoding: %v", err)
	}
	if !SupportedEncoding("Zstd") || SupportedEncoding("deflate") {
		t.Fatal("SupportedEncoding")
	}
}

var updateBombs = flag.Bool("update-bombs", false, "regenerate testdata/bomb-64MiB.{gz,zst}")

// bombs returns a small body of each coding that expands to 64 MiB of zeros,
// from testdata (building the gzip one takes seconds under -race);
// -update-bombs regenerates the files.
func bombs(t *testing.T) map[string][]byte {
	t.Helper()
	const n = 64 << 20
	files := map[string]string{"gzip": "testdata/bomb-64MiB.gz", "zstd": "testdata/bomb-64MiB.zst"}
	out := map[string][]byte{}
	if !*updateBombs {
		for enc, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			out[enc] = b
		}
		return out
	}
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	io.CopyN(w, zeroReader{}, int64(n))
	w.Close()
	out["gzip"] = gz.Bytes()
	var zs bytes.Buffer
	zw, _ := zstd.NewWriter(&zs, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	io.CopyN(zw, zeroReader{}, int64(n))
	zw.Close()
	out["zstd"] = zs.Bytes()
	for enc, file := range files {
		if err := os.WriteFile(file, out[enc], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Bodies hundreds of times smaller than their expansion stop at the limit,
// and the decoder does not allocate much more than the limit on the way.
func TestDecompressBombIsBounded(t *testing.T) {
	const expanded, limit = 64 << 20, 1 << 20
	for enc, bomb := range bombs(t) {
		t.Run(enc, func(t *testing.T) {
			if len(bomb) > expanded/500 {
				t.Fatalf("bomb is %d bytes, want a small body", len(bomb))
			}
			Decompress(nil, []byte{}, enc, limit) // warm the pool so its decoder is not counted
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			out, err := Decompress(nil, bomb, enc, limit)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrTooLarge) || out != nil {
				t.Fatalf("want ErrTooLarge and nil, got %d bytes, %v", len(out), err)
			}
			if !strings.Contains(err.Error(), "1048576") {
				t.Fatalf("error should name the limit: %v", err)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%s: %d-byte bomb, allocated %d bytes with limit %d", enc, len(bomb), alloc, limit)
			// Output growth (geometric, capped at limit+1) plus, for zstd, the
			// history window a frame may ask for (at most zstdMaxWindow).
			if alloc > 3*limit+zstdMaxWindow+(1<<20) {
				t.Fatalf("allocated %d bytes for a %d-byte limit", alloc, limit)
			}
		})
	}
}

// Pooled encoders and decoders shared by many goroutines: every round trip
// gives back exactly its own input (under -race this also checks the pools
// hand out private state).
func TestCompressConcurrent(t *testing.T) {
	body := benchResponseBody()
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			enc := []string{EncodingGzip, EncodingZstd}[g%2]
			var c, d []byte
			for i := 0; i < 30; i++ {
				in := append([]byte(strconv.Itoa(g*1000+i)), body[:len(body)/(1+i%4)]...)
				var err error
				if c, err = Compress(c[:0], in, enc); err == nil {
					d, err = Decompress(d[:0], c, enc, len(in))
				}
				if err == nil && !bytes.Equal(d, in) {
					err = errors.New(enc + ": round trip returned another goroutine's or a corrupted body")
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// A limit of math.MaxInt (no practical cap) used to overflow limit+1 and
// panic in makeslice on every compressed body.
func TestDecompressWithNoPracticalLimit(t *testing.T) {
	body := bytes.Repeat([]byte(`{"jsonrpc":"2.0","id":1,"result":"x"}`), 100)
	for _, enc := range []string{EncodingGzip, EncodingZstd} {
		c, err := Compress(nil, body, enc)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Decompress(nil, c, enc, math.MaxInt)
		if err != nil || !bytes.Equal(out, body) {
			t.Fatalf("%s: %d bytes, %v", enc, len(out), err)
		}
	}
}

// countingZeros is an endless stream of zero bytes that counts what was read.
type countingZeros struct{ n int }

func (z *countingZeros) Read(p []byte) (int, error) {
	clear(p)
	z.n += len(p)
	return len(p), nil
}

// readLimited never reads (and so never holds) more than limit+1 bytes: it
// used to let append round the buffer up and read into all of it, up to
// 1.24× the limit before noticing.
func TestReadLimitedReadsAtMostLimitPlusOne(t *testing.T) {
	for _, limit := range []int{1000, 1 << 20, 32 << 20} {
		z := &countingZeros{}
		if _, err := readLimited(z, nil, 100, limit); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("limit %d: %v, want ErrTooLarge", limit, err)
		}
		if z.n > limit+1 {
			t.Fatalf("limit %d: read %d bytes, more than limit+1", limit, z.n)
		}
	}
}
