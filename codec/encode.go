package codec

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/encoder"
)

// paramsAPI encodes params. SortMapKeys makes equal params give equal bytes,
// which the batching client's dedup relies on; EscapeHTML is off because
// nothing here is embedded in HTML; CompactMarshaler re-compacts the output
// of json.Marshaler implementations for the same reason (stable bytes).
var paramsAPI = sonic.Config{
	SortMapKeys:      true,
	CompactMarshaler: true,
	ValidateString:   true,
}.Froze()

// EncodeParams encodes v as the "params" member of a request.
//
//   - nil (and anything that encodes to JSON null) gives nil: no params.
//   - []byte and json.RawMessage are taken as pre-encoded JSON: they are
//     validated and returned as they are (same backing array, not copied), so
//     the caller must not modify them until the call has been sent.
//   - map[string]any, []any and map[string]string made of strings,
//     numbers, bools, nil and such maps and slices, nested at most 32
//     levels, are encoded directly, keys sorted, byte-for-byte as
//     encoding/json would (HTML escaping off), allocating only the result;
//   - structs and pointers to structs (also inside those maps and slices)
//     of plain fields are encoded from a per-type plan, byte-for-byte as
//     encoding/json would (HTML escaping off), allocating only the result;
//   - anything else (json.Marshaler implementations, embedded fields,
//     []byte, other map types, deeper nesting, ...) is encoded with sonic,
//     map keys sorted; sonic differs from encoding/json in small ways (it
//     leaves U+2028 and U+2029 unescaped, and writes an omitempty float
//     holding -0).
//
// Either way equal values give equal bytes, which dedup relies on.
//
// JSON-RPC 2.0 requires params to be a structured value: a result that is not
// a JSON object or array (e.g. a bare string or number), or invalid
// pre-encoded JSON, is an error wrapping ErrInvalidParams. EncodeParams is
// safe for concurrent use. AppendParams does the same into a caller's
// buffer.
func EncodeParams(v any) ([]byte, error) {
	var raw []byte
	switch p := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		raw = p
	case []byte:
		raw = p
	case map[string]any, []any, map[string]string:
		return encodeDirect(v, appendGeneric)
	default:
		return encodeDirect(v, appendReflect)
	}
	return checkParams(raw, true)
}

// encodeDirect is EncodeParams for values an append-style encoder of this
// package may handle (the generic path or a struct plan): it encodes into
// pooled scratch and returns a copy, or falls back to sonic for the whole
// value when enc refuses it.
func encodeDirect(v any, enc func(dst []byte, v any, depth int) ([]byte, bool)) ([]byte, error) {
	sp := scratchBufs.Get().(*[]byte)
	out, ok := enc((*sp)[:0], v, 0)
	var b []byte
	if ok {
		b = slices.Clone(out)
	}
	if cap(out) <= maxScratchBuf {
		*sp = out[:0]
		scratchBufs.Put(sp)
	}
	if !ok {
		var err error
		if b, err = paramsAPI.Marshal(v); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidParams, err)
		}
	}
	return checkParams(b, false)
}

// appendOpts are paramsAPI's options for sonic's append-style encoder,
// without ValidateString: that option re-validates the whole buffer, prefix
// included, so AppendParams checks only the bytes it appended.
const appendOpts = encoder.SortMapKeys | encoder.CompactMarshaler

// AppendParams is the append-style EncodeParams: it appends the encoding of
// v to dst and returns the extended slice, with the same rules (sorted map
// keys, pre-encoded []byte and json.RawMessage validated and copied, only a
// JSON object or array accepted, invalid UTF-8 in strings replaced by
// U+FFFD). nil and JSON null append nothing. On error dst is returned
// unchanged (its length; bytes past it may have been written). With a dst
// that has room, generic maps and plain structs append without allocating;
// what goes to sonic allocates about once there.
func AppendParams(dst []byte, v any) ([]byte, error) {
	return appendParams(dst, v, nil)
}

// AppendParamsTo is AppendParams appending to *dst in place, for a caller
// that keeps its buffer in memory it owns on the heap (a pooled struct's
// field, say): sonic's encoder needs a *[]byte that escapes, and handing
// it dst itself saves AppendParams a pooled holder per call. On error
// *dst keeps its length.
func AppendParamsTo(dst *[]byte, v any) error {
	start := len(*dst)
	out, err := appendParams(*dst, v, dst)
	if err != nil {
		*dst = (*dst)[:start]
		return err
	}
	*dst = out
	return nil
}

// appendParams is AppendParams; h, when not nil, is the holder sonic
// encodes through (it must point to heap memory).
func appendParams(dst []byte, v any, h *[]byte) ([]byte, error) {
	start := len(dst)
	switch p := v.(type) {
	case nil:
		return dst, nil
	case json.RawMessage:
		return appendRaw(dst, p)
	case []byte:
		return appendRaw(dst, p)
	case map[string]any, []any, map[string]string:
		if out, ok := appendGeneric(dst, v, 0); ok {
			return checkGeneric(dst, out)
		}
		// Not generic all the way down: sonic appends over what the generic
		// path wrote past len(dst).
	default:
		if out, ok := appendReflect(dst, v, 0); ok {
			return checkGeneric(dst, out)
		}
	}
	// sonic takes a *[]byte that escapes; a pooled holder saves allocating
	// a slice header per call.
	pooled := h == nil
	if pooled {
		h = bufHolders.Get().(*[]byte)
	}
	*h = dst
	err := encoder.EncodeInto(h, v, appendOpts)
	out := *h
	if pooled {
		*h = nil
		bufHolders.Put(h)
	}
	if err != nil {
		return dst, fmt.Errorf("%w: %v", ErrInvalidParams, err)
	}
	if tail := out[start:]; !utf8.Valid(tail) {
		fixed := correctUTF8(nil, tail)
		out = append(out[:start], fixed...)
	}
	p, err := checkParams(out[start:], false)
	if err != nil {
		return dst, err
	}
	if p == nil {
		return out[:start], nil
	}
	return out, nil
}

var bufHolders = sync.Pool{New: func() any { return new([]byte) }}

// scratchBufs hold EncodeParams' working buffer for generic params, so the
// result is the only allocation; buffers grown past maxScratchBuf are
// dropped rather than pinned.
var scratchBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxScratchBuf = 64 << 10

// checkGeneric maps a generic value's encoding appended to dst[:start] to
// AppendParams' result.
func checkGeneric(dst, out []byte) ([]byte, error) {
	start := len(dst)
	p, err := checkParams(out[start:], false)
	if err != nil {
		return dst, err
	}
	if p == nil {
		return out[:start], nil
	}
	return out, nil
}

func appendRaw(dst, raw []byte) ([]byte, error) {
	p, err := checkParams(raw, true)
	if err != nil {
		return dst, err
	}
	return append(dst, p...), nil
}

// correctUTF8 appends b to dst with each byte of an invalid UTF-8 sequence
// replaced by the JSON escape \ufffd. Encoder output holds non-ASCII bytes
// only inside strings, where the escape is valid.
func correctUTF8(dst, b []byte) []byte {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, b[:size]...)
		}
		b = b[size:]
	}
	return dst
}

// checkParams validates encoded params (fully when untrusted) and maps null
// to nil.
func checkParams(b []byte, untrusted bool) ([]byte, error) {
	if untrusted {
		if err := validJSON(b); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidParams, err)
		}
	}
	i := skipSpace(b, 0)
	if i == len(b) {
		return nil, fmt.Errorf("%w: empty", ErrInvalidParams)
	}
	switch b[i] {
	case '{', '[':
		return b, nil
	case 'n':
		return nil, nil // validated above (or produced by sonic): it is null
	}
	return nil, fmt.Errorf("%w: params must be a JSON object or array, got %s", ErrInvalidParams, excerpt(b, i))
}

// AppendRequest appends one JSON-RPC 2.0 request object to dst and returns the
// extended slice:
//
//	{"jsonrpc":"2.0","id":ID,"method":"METHOD","params":PARAMS}
//
// method is escaped as a JSON string (invalid UTF-8 becomes U+FFFD). params
// must be valid JSON as returned by EncodeParams; it is copied verbatim and
// not validated again here. Empty params omit the "params" member. Only these
// four members are written (the Accumulate node refuses unknown ones).
// AppendRequest does not allocate when dst has room.
func AppendRequest(dst []byte, id uint64, method string, params []byte) []byte {
	dst = append(dst, `{"jsonrpc":"2.0","id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, `,"method":`...)
	dst = AppendString(dst, method)
	if len(params) > 0 {
		dst = append(dst, `,"params":`...)
		dst = append(dst, params...)
	}
	return append(dst, '}')
}

// AppendBatchStart appends the '[' that opens a batch.
func AppendBatchStart(dst []byte) []byte { return append(dst, '[') }

// AppendBatchRequest appends one request of a batch opened by
// AppendBatchStart: a ',' separator unless the last byte of dst is the '['
// that opened the batch, then the request as AppendRequest writes it.
func AppendBatchRequest(dst []byte, id uint64, method string, params []byte) []byte {
	if n := len(dst); n > 0 && dst[n-1] != '[' {
		dst = append(dst, ',')
	}
	return AppendRequest(dst, id, method, params)
}

// AppendBatchEnd appends the ']' that closes a batch. A batch must hold at
// least one request: JSON-RPC 2.0 servers answer "[]" with an error.
func AppendBatchEnd(dst []byte) []byte { return append(dst, ']') }

const hexDigits = "0123456789abcdef"

// safeASCII[c] is true for bytes that go into a JSON string unescaped.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// stringSpecials flags, in each byte's top bit, the bytes of x (eight
// bytes of a string, little-endian) that end or interrupt a plain run:
// '"', '\\' and control characters. Only the lowest flag is exact: borrows
// run upward from a flagged byte.
func stringSpecials(x uint64) uint64 {
	q := x ^ (lsb * '"')
	bs := x ^ (lsb * '\\')
	return (((x - lsb*0x20) &^ x) | ((q - lsb) &^ q) | ((bs - lsb) &^ bs)) & msb
}

// AppendString appends s as a quoted JSON string exactly as encoding/json
// does with HTML escaping off: '"', '\\' and control characters are escaped,
// invalid UTF-8 becomes U+FFFD, and U+2028/U+2029 are escaped so the output
// is also valid JavaScript.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time over plain ASCII (scopes, hashes, method
		// names): m flags the bytes stringSpecials does and those ≥ 0x80
		// (UTF-8, checked below); the lowest flag is exact.
		for i+8 <= len(s) {
			x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if m := stringSpecials(x) | x&msb; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
