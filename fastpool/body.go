package fastpool

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/valyala/fasthttp"
)

// bodyPrealloc caps what a response body buffer grows to before the bytes
// that fill it arrive. fasthttp's Response.ReadLimitBody allocates the whole
// Content-Length (or chunk size) a server claims as soon as it has read the
// header: a server sending only "Content-Length: 33554432" would cost 32 MiB
// per connection (3.2 GiB at MaxConns 100). Here a claim costs at most this
// much up front; beyond it the buffer grows as data comes in, so memory
// stays within a small multiple of what the server really sent.
const bodyPrealloc = 64 << 10

// maxInterimResponses is how many 1xx answers may precede the final one
// (fasthttp's limit).
const maxInterimResponses = 10

var (
	errTooManyInterim = errors.New("fastpool: too many 1xx interim responses")
	errBadChunk       = errors.New("fastpool: malformed chunked body")
)

// readResponse reads one response from br into resp (already Reset, with
// SkipBody set for HEAD) like fasthttp's Response.ReadLimitBody, except that
// the body buffer grows only as body bytes arrive (see bodyPrealloc). A body
// over maxBody is fasthttp.ErrBodyTooLarge.
func readResponse(br *bufio.Reader, resp *fasthttp.Response, maxBody int) error {
	if err := resp.Header.Read(br); err != nil {
		return err
	}
	for n := 0; ; n++ {
		code := resp.Header.StatusCode()
		if code < 100 || code > 199 || code == fasthttp.StatusSwitchingProtocols {
			break
		}
		if n >= maxInterimResponses {
			return errTooManyInterim
		}
		if err := resp.Header.Read(br); err != nil {
			return err
		}
	}
	if code := resp.Header.StatusCode(); resp.SkipBody || (code >= 100 && code < 200) || code == fasthttp.StatusNoContent || code == fasthttp.StatusNotModified {
		return nil // RFC 9110 section 6.4.1: these carry no content
	}
	switch cl := resp.Header.ContentLength(); {
	case cl >= 0:
		if cl > maxBody {
			return fasthttp.ErrBodyTooLarge
		}
		body, err := appendBody(br, resp.SwapBody(nil)[:0], cl, cl)
		resp.SwapBody(body)
		return err
	case cl == -1: // Transfer-Encoding: chunked
		body, err := appendChunked(br, resp.SwapBody(nil)[:0], maxBody)
		resp.SwapBody(body)
		if err != nil {
			return err
		}
		if err := resp.Header.ReadTrailer(br); err != nil {
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		return nil
	default:
		// Delimited by the connection closing: fasthttp already grows this
		// one as bytes arrive, under maxBody.
		return resp.ReadBody(br, maxBody)
	}
}

// appendBody appends exactly n bytes from br to dst. dst grows only in
// proportion to the bytes that have arrived (see growBody), and never past
// capLimit.
func appendBody(br *bufio.Reader, dst []byte, n, capLimit int) ([]byte, error) {
	want := len(dst) + n
	for len(dst) < want {
		if len(dst) == cap(dst) {
			dst = growBody(dst, capLimit, br.Buffered())
		}
		m, err := br.Read(dst[len(dst):min(cap(dst), want)])
		dst = dst[:len(dst)+m]
		if m == 0 {
			switch {
			case err == io.EOF:
				return dst, io.ErrUnexpectedEOF
			case err != nil:
				return dst, err
			default:
				return dst, io.ErrNoProgress
			}
		}
	}
	return dst, nil
}

// growBody returns a full dst with room for more: four times what arrived
// so far, or what is already buffered, or bodyPrealloc, whichever is most,
// but never beyond limit. Memory thus stays within 4x the received bytes
// (plus bodyPrealloc) whatever the server claims, and an honest 1 MiB body
// costs three allocations (64 KiB, 256 KiB, 1 MiB) instead of one.
func growBody(dst []byte, limit, buffered int) []byte {
	c := max(4*len(dst), len(dst)+buffered, bodyPrealloc)
	c = max(min(c, limit), len(dst)+1)
	b := make([]byte, len(dst), c)
	copy(b, dst)
	return b
}

// appendChunked appends a chunked body (RFC 9112 section 7.1) from br to
// dst, up to maxBody bytes of content, leaving br at the trailer section.
func appendChunked(br *bufio.Reader, dst []byte, maxBody int) ([]byte, error) {
	for {
		size, err := readChunkSize(br)
		if err != nil {
			return dst, err
		}
		if size == 0 {
			return dst, nil
		}
		if size > maxBody-len(dst) {
			return dst, fasthttp.ErrBodyTooLarge
		}
		// Capacity may run ahead of this chunk (up to maxBody, in
		// proportion to what arrived), so many small chunks do not each
		// cost a reallocation.
		if dst, err = appendBody(br, dst, size, maxBody); err != nil {
			return dst, err
		}
		if err := readCRLF(br); err != nil {
			return dst, err
		}
	}
}

// maxChunkSizeDigits keeps a chunk size well inside an int.
const maxChunkSizeDigits = 15

// readChunkSize reads "hex-size [OWS] [;ext] CRLF". Like fasthttp it refuses
// whitespace before an extension and a bare LF (request-smuggling vectors
// through proxies).
func readChunkSize(br *bufio.Reader) (int, error) {
	n, digits := 0, 0
	for {
		c, err := br.ReadByte()
		if err != nil {
			return 0, chunkErr(err)
		}
		var d int
		switch {
		case c >= '0' && c <= '9':
			d = int(c - '0')
		case c >= 'a' && c <= 'f':
			d = int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = int(c-'A') + 10
		default:
			if digits == 0 {
				return 0, fmt.Errorf("%w: chunk size expected, got %q", errBadChunk, c)
			}
			_ = br.UnreadByte()
			goto rest
		}
		if digits == maxChunkSizeDigits {
			return 0, fmt.Errorf("%w: chunk size too long", errBadChunk)
		}
		n = n<<4 | d
		digits++
	}
rest:
	inExt, ows := false, false
	for {
		c, err := br.ReadByte()
		if err != nil {
			return 0, chunkErr(err)
		}
		switch {
		case c == '\r':
			_ = br.UnreadByte()
			if err := readCRLF(br); err != nil {
				return 0, err
			}
			return n, nil
		case c == '\n':
			return 0, fmt.Errorf("%w: bare LF in chunk size line", errBadChunk)
		case inExt:
		case c == ' ' || c == '\t':
			ows = true
		case c == ';' && !ows:
			inExt = true
		default:
			return 0, fmt.Errorf("%w: %q after chunk size", errBadChunk, c)
		}
	}
}

func readCRLF(br *bufio.Reader) error {
	for _, want := range [2]byte{'\r', '\n'} {
		c, err := br.ReadByte()
		if err != nil {
			return chunkErr(err)
		}
		if c != want {
			return fmt.Errorf("%w: %q where CRLF belongs", errBadChunk, c)
		}
	}
	return nil
}

// chunkErr turns a clean EOF inside a chunked body into an unexpected one.
func chunkErr(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
