package fastpool

import (
	"errors"
	"fmt"
	"sync"

	"github.com/batchring/batchring/codec"
	"github.com/valyala/fasthttp"
)

// acceptEncoding is what the pool asks for when compression is on: the
// codings codec.Decompress decodes.
const acceptEncoding = codec.AcceptEncoding

// ErrUnsupportedEncoding is returned for a response whose Content-Encoding
// the pool cannot decode (it also matches codec.ErrUnsupportedEncoding).
var ErrUnsupportedEncoding = errors.New("fastpool: unsupported Content-Encoding")

// bodyBufPool holds scratch buffers for decompressed bodies.
var bodyBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// maxPooledBody keeps huge decoded bodies from staying pinned in the pool.
const maxPooledBody = 4 << 20

// finishBody decodes a gzip or zstd body in place (into resp) with
// codec.Decompress under MaxResponseBodySize and removes Content-Encoding.
// An identity or empty body costs one header lookup.
func (p *Pool) finishBody(resp *fasthttp.Response) error {
	if p.cfg.DisableCompression {
		return nil // documented: the caller asked for the body as sent
	}
	enc := resp.Header.ContentEncoding()
	if len(enc) == 0 || string(enc) == codec.EncodingIdentity {
		return nil
	}
	if len(resp.Body()) == 0 {
		// A HEAD answer, a 204 or 304, a skipped body: nothing to decode
		// (an empty body is not a valid gzip stream, but it is no error).
		resp.Header.Del(fasthttp.HeaderContentEncoding)
		return nil
	}
	bp := bodyBufPool.Get().(*[]byte)
	out, err := codec.Decompress((*bp)[:0], resp.Body(), string(enc), p.cfg.MaxResponseBodySize)
	if err == nil {
		resp.SetBody(out)
		resp.Header.Del(fasthttp.HeaderContentEncoding)
	}
	if cap(out) <= maxPooledBody {
		*bp = out[:0]
		bodyBufPool.Put(bp)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, codec.ErrTooLarge):
		return fmt.Errorf("%w: %w", ErrBodyTooLarge, err)
	case errors.Is(err, codec.ErrUnsupportedEncoding):
		return fmt.Errorf("%w: %w", ErrUnsupportedEncoding, err)
	}
	return fmt.Errorf("fastpool: decoding %s body: %w", enc, err)
}
