package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// HTTP header names and content-coding values for compressed bodies.
const (
	// HeaderAcceptEncoding is the request header that lists the codings a
	// client accepts for the response.
	HeaderAcceptEncoding = "Accept-Encoding"
	// HeaderContentEncoding is the header naming the coding of a body.
	HeaderContentEncoding = "Content-Encoding"

	// EncodingIdentity means no compression.
	EncodingIdentity = "identity"
	// EncodingGzip is gzip (RFC 1952).
	EncodingGzip = "gzip"
	// EncodingZstd is Zstandard (RFC 8878, content coding per RFC 9659).
	EncodingZstd = "zstd"

	// AcceptEncoding is the Accept-Encoding value a client sends to get
	// either coding this package decodes, zstd preferred.
	AcceptEncoding = "zstd, gzip"

	// DefaultDecompressLimit is the output limit Decompress applies when
	// given a limit ≤ 0: 64 MiB.
	DefaultDecompressLimit = 64 << 20
)

// zstdMaxWindow is the largest window a zstd body may ask for: RFC 9659
// limits the "zstd" content coding to an 8 MiB window, so a decoder never
// sets aside more than that for history whatever the frame header claims.
const zstdMaxWindow = 8 << 20

// gzipLevel trades ratio for speed: request bodies are compressed on the
// dispatch hot path, and JSON compresses well even at the fastest level.
const gzipLevel = gzip.BestSpeed

// coding is a parsed content coding.
type coding uint8

const (
	codingIdentity coding = iota
	codingGzip
	codingZstd
)

func parseCoding(enc string) (coding, error) {
	enc = strings.TrimSpace(enc)
	switch {
	case enc == "" || strings.EqualFold(enc, EncodingIdentity):
		return codingIdentity, nil
	case strings.EqualFold(enc, EncodingGzip) || strings.EqualFold(enc, "x-gzip"):
		return codingGzip, nil
	case strings.EqualFold(enc, EncodingZstd):
		return codingZstd, nil
	}
	if len(enc) > 32 {
		enc = enc[:32] + "…"
	}
	return 0, fmt.Errorf("%w: %q", ErrUnsupportedEncoding, enc)
}

// SupportedEncoding reports whether Decompress and Compress handle enc (a
// Content-Encoding value: "", identity, gzip, x-gzip or zstd, any case).
func SupportedEncoding(enc string) bool {
	_, err := parseCoding(enc)
	return err == nil
}

var (
	gzipReaders sync.Pool // *gzip.Reader
	gzipWriters = sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(nil, gzipLevel) // constant valid level: no error
		return w
	}}
	// zstd decoders are pooled for streaming with an output limit.
	// Concurrency 1 makes them decode synchronously, so a pooled decoder
	// owns no goroutine and needs no Close.
	zstdDecoders = sync.Pool{New: func() any {
		d, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(zstdMaxWindow),
			zstd.WithDecoderLowmem(true))
		if err != nil {
			panic("codec: zstd decoder options: " + err.Error()) // constant options
		}
		return d
	}}
	// One zstd encoder serves concurrent EncodeAll calls with up to
	// GOMAXPROCS internal encoder states (fewer would make concurrent
	// Compress calls queue); EncodeAll starts no goroutines.
	zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
		e, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithWindowSize(zstdMaxWindow),
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithZeroFrames(true))
		if err != nil {
			panic("codec: zstd encoder options: " + err.Error()) // constant options
		}
		return e
	})
)

// Decompress appends the decoding of src, compressed with the content coding
// enc, to dst and returns the extended slice. "" and "identity" copy src.
//
// The output is capped at limit bytes (DefaultDecompressLimit if limit ≤ 0;
// any limit over math.MaxInt/2 counts as math.MaxInt/2):
// past it Decompress stops and returns an error wrapping ErrTooLarge. The
// output buffer grows geometrically but never past limit+1 bytes, so a small
// hostile body cannot expand into gigabytes. zstd frames asking for a window over 8 MiB
// (the RFC 9659 limit for HTTP) are refused; a frame's window (≤ 8 MiB) is
// allocated once per pooled decoder and kept for reuse, so the worst case
// for one call is about 2×limit plus that window. Corrupt input gives an error
// wrapping ErrCorrupt, an unknown coding one wrapping
// ErrUnsupportedEncoding. On error the returned slice is dst unchanged.
// Decoders are pooled; Decompress is safe for concurrent use.
func Decompress(dst, src []byte, enc string, limit int) ([]byte, error) {
	c, err := parseCoding(enc)
	if err != nil {
		return dst, err
	}
	if limit <= 0 {
		limit = DefaultDecompressLimit
	}
	limit = min(limit, maxDecompressLimit) // limit+1 must not overflow
	switch c {
	case codingGzip:
		return gunzip(dst, src, limit)
	case codingZstd:
		return unzstd(dst, src, limit)
	}
	if len(src) > limit {
		return dst, fmt.Errorf("%w: identity body of %d bytes, limit %d", ErrTooLarge, len(src), limit)
	}
	return append(dst, src...), nil
}

func gunzip(dst, src []byte, limit int) ([]byte, error) {
	br := bytes.NewReader(src)
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(br)
	} else {
		err = zr.Reset(br)
	}
	if err != nil {
		if zr != nil {
			gzipReaders.Put(zr)
		}
		return dst, fmt.Errorf("%w: gzip: %v", ErrCorrupt, err)
	}
	out, err := readLimited(zr, dst, len(src), limit)
	_ = zr.Reset(eofReader{}) // drop the reference to src; error expected
	gzipReaders.Put(zr)
	if err != nil {
		return dst, wrapDecodeErr("gzip", err)
	}
	return out, nil
}

func unzstd(dst, src []byte, limit int) ([]byte, error) {
	d := zstdDecoders.Get().(*zstd.Decoder)
	// A bytes.Reader (not a bytes.Buffer) keeps the decoder streaming, so
	// readLimited's cap applies; with a Buffer it would decode all at once.
	if err := d.Reset(bytes.NewReader(src)); err != nil {
		zstdDecoders.Put(d)
		return dst, fmt.Errorf("%w: zstd: %v", ErrCorrupt, err)
	}
	out, err := readLimited(d, dst, len(src), limit)
	_ = d.Reset(nil) // drop the reference to src
	zstdDecoders.Put(d)
	if err != nil {
		return dst, wrapDecodeErr("zstd", err)
	}
	return out, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

func wrapDecodeErr(name string, err error) error {
	if errors.Is(err, ErrTooLarge) {
		return err
	}
	return fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
}

// maxDecompressLimit caps Decompress's limit: any larger value means no
// practical cap, and limit+1 must still fit in an int.
const maxDecompressLimit = math.MaxInt / 2

// readLimited appends everything r yields to dst, failing with ErrTooLarge
// once more than limit bytes arrived. The buffer grows geometrically from a
// guess of 4× the compressed size, each time to exactly the size asked (not
// append's rounded-up growth), and never past limit+1 bytes of output; no
// read goes past that either.
func readLimited(r io.Reader, dst []byte, srcLen, limit int) ([]byte, error) {
	start := len(dst)
	end := start + limit + 1 // limit+1 bytes prove the output too large
	want := min(max(4*srcLen, 512), limit+1)
	if cap(dst)-start < want {
		dst = growExact(dst, want)
	}
	for {
		if len(dst) == cap(dst) {
			got := len(dst) - start
			dst = growExact(dst, min(max(got, 512), end-len(dst)))
		}
		n, err := r.Read(dst[len(dst):min(cap(dst), end)])
		dst = dst[:len(dst)+n]
		if len(dst)-start > limit {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// growExact returns dst with room for n more bytes, reallocated to exactly
// that capacity (rounded only to the allocator's size class).
func growExact(dst []byte, n int) []byte {
	nb := make([]byte, len(dst), len(dst)+n)
	copy(nb, dst)
	return nb
}

// appendWriter is an io.Writer appending to a byte slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// Compress appends src compressed with the content coding enc to dst and
// returns the extended slice: gzip at its fastest level, zstd at its default
// level with an 8 MiB window (RFC 9659); "" and "identity" copy src. An
// unknown coding gives an error wrapping ErrUnsupportedEncoding. Encoders
// are pooled; Compress is safe for concurrent use.
func Compress(dst, src []byte, enc string) ([]byte, error) {
	c, err := parseCoding(enc)
	if err != nil {
		return dst, err
	}
	switch c {
	case codingGzip:
		zw := gzipWriters.Get().(*gzip.Writer)
		aw := appendWriter{b: dst}
		zw.Reset(&aw)
		_, err := zw.Write(src)
		if err == nil {
			err = zw.Close()
		}
		zw.Reset(io.Discard) // drop the reference to dst
		gzipWriters.Put(zw)
		if err != nil {
			return dst, fmt.Errorf("codec: gzip: %w", err)
		}
		return aw.b, nil
	case codingZstd:
		return zstdEncoder().EncodeAll(src, dst), nil
	}
	return append(dst, src...), nil
}
