package fastpool

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fasthttp"
)

// acceptEncoding is what the pool asks for when compression is on.
const acceptEncoding = "gzip, zstd"

// ErrUnsupportedEncoding is returned for a response whose Content-Encoding
// the pool cannot decode.
var ErrUnsupportedEncoding = errors.New("fastpool: unsupported Content-Encoding")

// bodyBufPool holds scratch buffers for decompressed bodies.
var bodyBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// finishBody decodes a gzip or zstd body in place (into resp) under
// MaxResponseBodySize and removes Content-Encoding. Identity bodies cost one
// header lookup.
func (p *Pool) finishBody(resp *fasthttp.Response) error {
	enc := resp.Header.ContentEncoding()
	if len(enc) == 0 || string(enc) == "identity" {
		return nil
	}
	bp := bodyBufPool.Get().(*[]byte)
	out, err := decompress((*bp)[:0], resp.Body(), enc, p.cfg.MaxResponseBodySize)
	if err == nil {
		resp.SetBody(out)
		resp.Header.Del(fasthttp.HeaderContentEncoding)
	}
	if cap(out) <= 4<<20 { // don't pin huge buffers in the pool
		*bp = out[:0]
		bodyBufPool.Put(bp)
	}
	return err
}

var (
	gzipPool sync.Pool // *gzip.Reader
	zstdPool = sync.Pool{New: func() any {
		// Concurrency 1 and DecodeAll only: the decoder starts no goroutine,
		// so a pooled decoder dropped by the GC leaks nothing.
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			panic(err) // only on invalid options
		}
		return d
	}}
)

// decompress appends the decoding of src (Content-Encoding enc) to dst,
// failing with ErrBodyTooLarge once the output would exceed limit bytes.
func decompress(dst, src, enc []byte, limit int) ([]byte, error) {
	switch {
	case bytes.EqualFold(enc, []byte("gzip")), bytes.EqualFold(enc, []byte("x-gzip")):
		var zr *gzip.Reader
		if v := gzipPool.Get(); v != nil {
			zr = v.(*gzip.Reader)
			if err := zr.Reset(bytes.NewReader(src)); err != nil {
				gzipPool.Put(zr)
				return dst, fmt.Errorf("fastpool: gzip body: %w", err)
			}
		} else {
			var err error
			if zr, err = gzip.NewReader(bytes.NewReader(src)); err != nil {
				return dst, fmt.Errorf("fastpool: gzip body: %w", err)
			}
		}
		defer gzipPool.Put(zr)
		return readLimited(dst, zr, limit, "gzip")
	case bytes.EqualFold(enc, []byte("zstd")):
		d := zstdPool.Get().(*zstd.Decoder)
		defer zstdPool.Put(d)
		if err := d.Reset(bytes.NewReader(src)); err != nil {
			return dst, fmt.Errorf("fastpool: zstd body: %w", err)
		}
		out, err := readLimited(dst, d, limit, "zstd")
		_ = d.Reset(nil)
		return out, err
	}
	return dst, fmt.Errorf("%w: %q", ErrUnsupportedEncoding, enc)
}

// readLimited reads r to EOF into dst, never holding more than limit+1
// decoded bytes: a compression bomb costs at most limit bytes of memory.
func readLimited(dst []byte, r io.Reader, limit int, name string) ([]byte, error) {
	base := len(dst)
	for {
		if len(dst)-base > limit {
			return dst[:base], ErrBodyTooLarge
		}
		if len(dst) == cap(dst) {
			grow := min(max(cap(dst), 4096), limit+1-(len(dst)-base)+1)
			dst = slices.Grow(dst, grow)
		}
		room := dst[len(dst):cap(dst)]
		if most := limit + 1 - (len(dst) - base); len(room) > most {
			room = room[:most]
		}
		n, err := r.Read(room)
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			if len(dst)-base > limit {
				return dst[:base], ErrBodyTooLarge
			}
			return dst, nil
		}
		if err != nil {
			return dst[:base], fmt.Errorf("fastpool: %s body: %w", name, err)
		}
	}
}
