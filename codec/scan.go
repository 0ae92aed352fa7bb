package codec

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds nesting so a hostile "[[[[…" body cannot grow the stack
// without limit; real JSON-RPC payloads nest a few dozen levels at most.
const maxDepth = 1000

// scanner validates and skips JSON values in b. The zero error state is
// errMsg == ""; the first failure is kept. Methods return the index after
// the value, or -1 on failure.
type scanner struct {
	b      []byte
	errMsg string
	errOff int
	// mask is the special-byte map of the 64-byte block of b that ends at
	// mend: bit k is set when b[mend-64+k] is '"', '\\' or a control
	// character (mend == 0: no block mapped yet).
	mask uint64
	mend int
}

func (s *scanner) fail(i int, msg string) int {
	if s.errMsg == "" {
		s.errMsg = msg
		s.errOff = i
	}
	return -1
}

// isSpace reports JSON insignificant whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipSpace(b []byte, i int) int {
	// Most bodies have no whitespace: one compare settles the common case.
	for i < len(b) && b[i] <= ' ' && isSpace(b[i]) {
		i++
	}
	return i
}

// value skips the value starting at b[i] (no leading space).
func (s *scanner) value(i, depth int) int {
	b := s.b
	if i >= len(b) {
		return s.fail(i, "unexpected end of body")
	}
	switch c := b[i]; c {
	case '"':
		return s.str(i + 1)
	case '{':
		return s.object(i, depth+1)
	case '[':
		return s.array(i, depth+1)
	case 't':
		return s.literal(i, "true")
	case 'f':
		return s.literal(i, "false")
	case 'n':
		return s.literal(i, "null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return s.number(i)
		}
		return s.fail(i, "invalid character")
	}
}

func (s *scanner) literal(i int, lit string) int {
	if len(s.b)-i < len(lit) {
		return s.fail(len(s.b), "unexpected end of body")
	}
	if string(s.b[i:i+len(lit)]) != lit {
		return s.fail(i, "invalid literal")
	}
	return i + len(lit)
}

func (s *scanner) object(i, depth int) int {
	if depth > maxDepth {
		return s.fail(i, "nesting too deep")
	}
	b := s.b
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(b) {
			return s.fail(i, "unexpected end of body")
		}
		if b[i] != '"' {
			return s.fail(i, "expected object key")
		}
		if i = s.str(i + 1); i < 0 {
			return i
		}
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return s.fail(i, "expected ':' after object key")
		}
		i = skipSpace(b, i+1)
		if i = s.value(i, depth); i < 0 {
			return i
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return s.fail(i, "unexpected end of body")
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1
		default:
			return s.fail(i, "expected ',' or '}' in object")
		}
	}
}

func (s *scanner) array(i, depth int) int {
	if depth > maxDepth {
		return s.fail(i, "nesting too deep")
	}
	b := s.b
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1
	}
	for {
		if i = s.value(i, depth); i < 0 {
			return i
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return s.fail(i, "unexpected end of body")
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return i + 1
		default:
			return s.fail(i, "expected ',' or ']' in array")
		}
	}
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// str skips a string whose opening quote is at b[i-1]. Control characters
// must be escaped and escapes must be valid; invalid UTF-8 is accepted (as
// encoding/json does) because result bytes are handed on raw.
//
// It jumps from special byte to special byte through the bit map of the
// 64-byte block it is in, which is built once per block (with SIMD where
// there is an assembly version) and kept for the next strings in that
// block: a string costs a shift and a bit count, not a loop whose exit
// depends on its length.
func (s *scanner) str(i int) int {
	b := s.b
	for {
		if uint(i-(s.mend-64)) >= 64 {
			if i >= len(b) {
				return s.fail(len(b), "unterminated string")
			}
			s.loadMask(i)
		}
		m := s.mask >> uint(i-(s.mend-64))
		if m == 0 {
			i = s.mend // nothing special in the rest of the block
			continue
		}
		i += bits.TrailingZeros64(m)
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i+1 >= len(b) {
				return s.fail(i, "unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return s.fail(i, "unterminated string")
				}
				for _, h := range b[i+2 : i+6] {
					if unhex(h) < 0 {
						return s.fail(i, "invalid \\u escape")
					}
				}
				i += 6
			default:
				return s.fail(i, "invalid escape in string")
			}
		default: // c < 0x20
			return s.fail(i, "control character in string")
		}
	}
}

// loadMask maps the aligned 64-byte block of b holding b[i]. In a last,
// partial block the bytes past the end of b are not flagged.
func (s *scanner) loadMask(i int) {
	b := s.b
	base := i &^ 63
	if base+64 <= len(b) {
		s.mask = specialMask64((*[64]byte)(b[base : base+64]))
	} else {
		var blk [64]byte
		n := copy(blk[:], b[base:])
		s.mask = specialMask64(&blk) & (1<<n - 1) // the zero padding is not b
	}
	s.mend = base + 64
}

// specialMask64Go is the portable specialMask64: eight words, each mapped
// by specialBits.
func specialMask64Go(blk *[64]byte) uint64 {
	var m uint64
	for k := 0; k < 64; k += 8 {
		m |= specialBits(binary.LittleEndian.Uint64(blk[k:])) << k
	}
	return m
}

// specialBits returns a byte with bit k set when byte k of x (little-endian)
// is '"', '\\' or below 0x20. Unlike AppendString's stringSpecials every
// flag is exact.
func specialBits(x uint64) uint64 {
	const low7 = 0x7f7f7f7f7f7f7f7f
	q := x ^ (lsb * '"')
	bs := x ^ (lsb * '\\')
	ctl := x & (lsb * 0xe0)
	// t's top bit is clear in each byte where q, bs or ctl is zero.
	t := ((q&low7 + low7) | q) & ((bs&low7 + low7) | bs) & ((ctl&low7 + low7) | ctl)
	f := ^t & msb
	return ((f >> 7) * 0x0102040810204080) >> 56
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number skips -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number(i int) int {
	b := s.b
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return s.fail(i, "unexpected end of body")
	}
	switch {
	case b[i] == '0':
		i++
	case isDigit(b[i]):
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return s.fail(i, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return s.fail(i, "invalid number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return s.fail(i, "invalid number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i
}

// syntaxError formats the scanner's failure with an excerpt of the body.
func (s *scanner) syntaxError() error {
	return &malformedError{msg: s.errMsg, off: s.errOff, near: excerpt(s.b, s.errOff)}
}

// malformedError is the error behind ErrMalformedResponse.
type malformedError struct {
	msg  string
	off  int
	near string
}

func (e *malformedError) Error() string {
	return "codec: malformed response: " + e.msg + " at offset " + strconv.Itoa(e.off) + " near " + e.near
}

func (e *malformedError) Unwrap() error { return ErrMalformedResponse }

func malformed(b []byte, off int, msg string) error {
	return &malformedError{msg: msg, off: off, near: excerpt(b, off)}
}

// excerpt quotes at most 40 bytes of b starting a little before off.
func excerpt(b []byte, off int) string {
	const before, total = 8, 40
	start := max(off-before, 0)
	start = min(start, len(b))
	end := min(start+total, len(b))
	q := strconv.Quote(string(b[start:end]))
	if end < len(b) {
		q += "…"
	}
	return q
}

// validJSON reports whether b is exactly one JSON value with optional
// surrounding whitespace.
func validJSON(b []byte) error {
	s := scanner{b: b}
	i := skipSpace(b, 0)
	if i == len(b) {
		return malformed(b, i, "empty")
	}
	if i = s.value(i, 0); i < 0 {
		return s.syntaxError()
	}
	if i = skipSpace(b, i); i != len(b) {
		return malformed(b, i, "trailing data after JSON value")
	}
	return nil
}

// unquote decodes the JSON string literal q (quotes included, already
// validated by the scanner) into a Go string. Invalid UTF-8 and lone
// surrogates become U+FFFD, as with encoding/json.
func unquote(q []byte) string {
	q = q[1 : len(q)-1]
	simple := true
	for _, c := range q {
		if c == '\\' || c >= utf8.RuneSelf {
			simple = false
			break
		}
	}
	if simple {
		return string(q)
	}
	out := make([]byte, 0, len(q))
	for i := 0; i < len(q); {
		c := q[i]
		if c != '\\' {
			if c < utf8.RuneSelf {
				out = append(out, c)
				i++
				continue
			}
			r, size := utf8.DecodeRune(q[i:])
			out = utf8.AppendRune(out, r) // RuneError for invalid bytes
			i += size
			continue
		}
		switch e := q[i+1]; e {
		case 'u':
			r := hex4(q[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(q) && q[i] == '\\' && q[i+1] == 'u' {
					r2 = hex4(q[i+2:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			out = append(out, unescapeByte(e))
			i += 2
		}
	}
	return string(out)
}

func hex4(b []byte) rune {
	return rune(unhex(b[0])<<12 | unhex(b[1])<<8 | unhex(b[2])<<4 | unhex(b[3]))
}

func unescapeByte(e byte) byte {
	switch e {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return e // '"', '\\', '/'
}
