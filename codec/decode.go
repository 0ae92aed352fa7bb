package codec

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
)

// MaxUnmatchedErrors is how many *Error values an *UnmatchedError keeps;
// UnmatchedError.Count says how many elements were unmatched in all, so a
// hostile body of a million id-less elements cannot make DecodeBatch build a
// million errors.
const MaxUnmatchedErrors = 64

// maxBodySize is the largest body DecodeBatch accepts: element offsets are
// kept as uint32 to keep per-element scratch small.
const maxBodySize = math.MaxUint32

// elemKind says what a response element carries once the leniency rules
// (see DecodeBatch) are applied.
type elemKind uint8

const (
	kindResult     elemKind = iota // span is the result value
	kindError                      // span is the error value
	kindBoth                       // result and error both present
	kindNeither                    // neither result nor error
	kindBadVersion                 // "jsonrpc" present but not "2.0"
)

// element is the per-element scratch DecodeBatch keeps between validating
// the whole body and delivering: 24 bytes, pooled.
type element struct {
	id         uint64
	start, end uint32
	kind       elemKind
	dup        bool
}

// idIndex pairs an id with its element index for duplicate detection when
// ids do not arrive in increasing order.
type idIndex struct {
	id  uint64
	idx uint32
}

type decodeState struct {
	elems     []element
	unmatched []element // at most MaxUnmatchedErrors, id meaningless
	order     []idIndex
}

var decodeStates = sync.Pool{New: func() any { return new(decodeState) }}

// maxPooledElems keeps a state that decoded a huge body out of the pool so
// its scratch is not pinned forever.
const maxPooledElems = 1 << 14

func (st *decodeState) release() {
	if cap(st.elems) > maxPooledElems || cap(st.order) > maxPooledElems {
		return
	}
	st.elems = st.elems[:0]
	st.unmatched = st.unmatched[:0]
	st.order = st.order[:0]
	decodeStates.Put(st)
}

// DecodeBatch decodes a JSON-RPC 2.0 response body: an array of response
// objects answering a batch, or a single response object. It first validates
// the whole body, then calls fn once per usable element, in body order.
//
// Contract (stable; the batching client relies on it):
//
//   - Malformed body (empty, syntax error, truncated, an HTML page, trailing
//     data after the value, null, a scalar, an array holding a non-object,
//     nesting deeper than 1000, a body of 4 GiB or more): an error wrapping
//     ErrMalformedResponse, with the offset and a short excerpt; fn is not
//     called at all. A caller never sees part of a batch and then an error.
//   - Empty array "[]": ErrEmptyBatch, fn not called; no call was answered.
//   - A single object where an array was expected: if it carries an error,
//     *BatchRejectedError with the server's error (and its id, if usable); fn
//     is not called. Otherwise it is treated as a one-element array.
//   - Ids: a JSON number that is a non-negative integer fitting uint64, or a
//     string holding only such decimal digits ("7"). Anything else (null,
//     absent, negative, fractional, exponent, other strings) is unusable.
//     Elements may come in any order; unknown ids are passed to fn (the
//     caller ignores ids it did not send). Duplicate ids: the first in body
//     order wins and later ones are dropped, so fn is called at most once per
//     id; no per-call allocation is needed for this.
//   - Each element with a usable id gives exactly one fn call: with its raw
//     result (err nil), or with the server's *Error (result nil), or with an
//     *Error of Code CodeInvalidResponse (result nil) when the element has
//     both "result" and "error", neither, a "jsonrpc" member other than
//     "2.0", or an "error" member that is not an object with an integer
//     "code" (Data then holds that raw member).
//   - Leniency for JSON-RPC 1.0-style servers: a missing "jsonrpc" member is
//     accepted, "error": null counts as no error, and "result": null beside
//     an error object counts as no result. Unknown members are ignored; a
//     repeated member: the last one counts (as with encoding/json).
//   - Elements without a usable id (e.g. "id": null with an error: the server
//     could not read one request) are reported after every other element was
//     delivered, as *UnmatchedError holding the server's errors (or
//     CodeInvalidResponse errors for id-less elements without one). The
//     caller should fail its still-unanswered calls with them.
//   - Calls the server did not answer at all are not reported: DecodeBatch
//     does not know what was asked; the caller fails the ids fn never saw.
//
// Lifetime: result is a sub-slice of body holding the raw JSON value (never
// re-encoded or copied), valid as long as body is and must not be modified.
// *Error values own their memory and may be kept.
//
// Memory: besides errors handed to the caller, DecodeBatch uses pooled
// scratch of 24 bytes per element with a usable id (40 if ids arrive out of
// order), so at most a few times the body size even for hostile bodies, and
// it allocates nothing per call in steady state for success results.
// DecodeBatch never panics on any input and is safe for concurrent use; fn is
// called on the calling goroutine (a nil fn only validates).
func DecodeBatch(body []byte, fn func(id uint64, result []byte, err *Error)) error {
	if fn == nil {
		fn = func(uint64, []byte, *Error) {}
	}
	if uint64(len(body)) >= maxBodySize {
		return malformed(body[:64], 0, "body of 4 GiB or more")
	}
	i := skipSpace(body, 0)
	if i == len(body) {
		return malformed(body, i, "empty body")
	}
	switch body[i] {
	case '[':
		return decodeArray(body, i, fn)
	case '{':
		return decodeSingle(body, i, fn)
	}
	return malformed(body, i, "expected a JSON array or object")
}

func decodeSingle(body []byte, i int, fn func(uint64, []byte, *Error)) error {
	s := scanner{b: body}
	var el element
	var idOK bool
	end := s.element(i, &el, &idOK)
	if end < 0 {
		return s.syntaxError()
	}
	if end = skipSpace(body, end); end != len(body) {
		return malformed(body, end, "trailing data after JSON value")
	}
	if el.kind == kindError {
		return &BatchRejectedError{Err: parseError(body[el.start:el.end]), ID: el.id, HasID: idOK}
	}
	if !idOK {
		return &UnmatchedError{Errors: []*Error{unmatchedError(body, &el)}, Count: 1}
	}
	deliver(body, &el, fn)
	return nil
}

func decodeArray(body []byte, i int, fn func(uint64, []byte, *Error)) error {
	s := scanner{b: body}
	st := decodeStates.Get().(*decodeState)
	defer st.release()

	unmatched := 0
	increasing := true
	var lastID uint64
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == ']' {
		if end := skipSpace(body, i+1); end != len(body) {
			return malformed(body, end, "trailing data after JSON value")
		}
		return ErrEmptyBatch
	}
	for {
		if i >= len(body) {
			return malformed(body, i, "unexpected end of body")
		}
		if body[i] != '{' {
			return malformed(body, i, "batch element is not an object")
		}
		var el element
		var idOK bool
		if i = s.element(i, &el, &idOK); i < 0 {
			return s.syntaxError()
		}
		if idOK {
			if len(st.elems) > 0 && el.id <= lastID {
				increasing = false
			}
			lastID = el.id
			st.elems = append(st.elems, el)
		} else {
			if unmatched < MaxUnmatchedErrors {
				st.unmatched = append(st.unmatched, el)
			}
			unmatched++
		}
		i = skipSpace(body, i)
		if i >= len(body) {
			return malformed(body, i, "unexpected end of body")
		}
		if body[i] == ']' {
			break
		}
		if body[i] != ',' {
			return malformed(body, i, "expected ',' or ']' in array")
		}
		i = skipSpace(body, i+1)
	}
	if end := skipSpace(body, i+1); end != len(body) {
		return malformed(body, end, "trailing data after JSON value")
	}

	if !increasing {
		markDuplicates(st)
	}
	for k := range st.elems {
		if el := &st.elems[k]; !el.dup {
			deliver(body, el, fn)
		}
	}
	if unmatched == 0 {
		return nil
	}
	ue := &UnmatchedError{Errors: make([]*Error, len(st.unmatched)), Count: unmatched}
	for k := range st.unmatched {
		ue.Errors[k] = unmatchedError(body, &st.unmatched[k])
	}
	return ue
}

// markDuplicates flags every element whose id already appeared earlier in
// body order.
func markDuplicates(st *decodeState) {
	st.order = slices.Grow(st.order[:0], len(st.elems))
	for k, el := range st.elems {
		st.order = append(st.order, idIndex{id: el.id, idx: uint32(k)})
	}
	slices.SortFunc(st.order, func(a, b idIndex) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		case a.idx < b.idx:
			return -1
		case a.idx > b.idx:
			return 1
		}
		return 0
	})
	for k := 1; k < len(st.order); k++ {
		if st.order[k].id == st.order[k-1].id {
			st.elems[st.order[k].idx].dup = true
		}
	}
}

func deliver(body []byte, el *element, fn func(uint64, []byte, *Error)) {
	switch el.kind {
	case kindResult:
		fn(el.id, body[el.start:el.end:el.end], nil)
	case kindError:
		fn(el.id, nil, parseError(body[el.start:el.end]))
	default:
		fn(el.id, nil, invalidElement(el.kind))
	}
}

func invalidElement(k elemKind) *Error {
	switch k {
	case kindBoth:
		return &Error{Code: CodeInvalidResponse, Message: "codec: response has both result and error"}
	case kindNeither:
		return &Error{Code: CodeInvalidResponse, Message: "codec: response has neither result nor error"}
	default:
		return &Error{Code: CodeInvalidResponse, Message: `codec: response "jsonrpc" member is not "2.0"`}
	}
}

// unmatchedError is the error reported for an element without usable id.
func unmatchedError(body []byte, el *element) *Error {
	switch el.kind {
	case kindError:
		return parseError(body[el.start:el.end])
	case kindResult:
		return &Error{Code: CodeInvalidResponse, Message: "codec: result without usable id"}
	}
	return invalidElement(el.kind)
}

// element parses the response object at b[i] (which is '{') into el and
// reports whether its id is usable. It returns the index after the object or
// -1 with the scanner's error set.
func (s *scanner) element(i int, el *element, idOK *bool) int {
	b := s.b
	var (
		resStart, resEnd = -1, -1
		errStart, errEnd = -1, -1
		resNull, errNull bool
		badVersion       bool
	)
	*idOK = false
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
		goto classify
	}
	for {
		if i >= len(b) {
			return s.fail(i, "unexpected end of body")
		}
		if b[i] != '"' {
			return s.fail(i, "expected object key")
		}
		keyStart := i + 1
		if i = s.str(keyStart); i < 0 {
			return i
		}
		key := b[keyStart : i-1]
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return s.fail(i, "expected ':' after object key")
		}
		i = skipSpace(b, i+1)
		vStart := i
		if i = s.value(i, 1); i < 0 {
			return i
		}
		v := b[vStart:i]
		switch string(key) {
		case "result":
			resStart, resEnd, resNull = vStart, i, string(v) == "null"
		case "error":
			errStart, errEnd, errNull = vStart, i, string(v) == "null"
		case "id":
			el.id, *idOK = parseID(v)
		case "jsonrpc":
			badVersion = string(v) != `"2.0"`
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return s.fail(i, "unexpected end of body")
		}
		if b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if b[i] != '}' {
			return s.fail(i, "expected ',' or '}' in object")
		}
		i++
		break
	}
classify:
	hasErr := errStart >= 0 && !errNull
	hasRes := resStart >= 0 && !(resNull && hasErr)
	switch {
	case badVersion:
		el.kind = kindBadVersion
	case hasErr && hasRes:
		el.kind = kindBoth
	case hasErr:
		el.kind, el.start, el.end = kindError, uint32(errStart), uint32(errEnd)
	case hasRes:
		el.kind, el.start, el.end = kindResult, uint32(resStart), uint32(resEnd)
	default:
		el.kind = kindNeither
	}
	return i
}

// parseID reads a usable id: a non-negative integer number, or a string
// holding only its decimal digits, that fits uint64.
func parseID(v []byte) (uint64, bool) {
	if len(v) >= 2 && v[0] == '"' {
		v = v[1 : len(v)-1]
	}
	if len(v) == 0 || len(v) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if !isDigit(c) {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseError turns a validated "error" member into an *Error. A member that
// is not an object with an integer "code" (and, if present, a string
// "message") gives a CodeInvalidResponse error whose Data is a copy of it.
func parseError(v []byte) *Error {
	bad := func() *Error {
		return &Error{Code: CodeInvalidResponse, Message: "codec: malformed error object", Data: slices.Clone(v)}
	}
	if len(v) == 0 || v[0] != '{' {
		return bad()
	}
	s := scanner{b: v}
	e := &Error{}
	haveCode := false
	i := skipSpace(v, 1)
	if i < len(v) && v[i] == '}' {
		return bad()
	}
	for i < len(v) {
		keyStart := i + 1
		i = s.str(keyStart)
		key := v[keyStart : i-1]
		i = skipSpace(v, i)
		i = skipSpace(v, i+1) // ':'
		vStart := i
		i = s.value(i, 1)
		val := v[vStart:i]
		switch string(key) {
		case "code":
			c, ok := parseCode(val)
			if !ok {
				return bad()
			}
			e.Code, haveCode = c, true
		case "message":
			if val[0] != '"' {
				return bad()
			}
			e.Message = unquote(val)
		case "data":
			e.Data = slices.Clone(val)
		}
		i = skipSpace(v, i)
		if i >= len(v) || v[i] == '}' {
			break
		}
		i = skipSpace(v, i+1) // ','
	}
	if !haveCode {
		return bad()
	}
	return e
}

// parseCode reads an integer error code that fits in int32 (JSON-RPC codes
// are 32-bit). A fractional or exponent form is refused.
func parseCode(v []byte) (int, bool) {
	neg := false
	if len(v) > 0 && v[0] == '-' {
		neg, v = true, v[1:]
	}
	if len(v) == 0 || len(v) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range v {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, false
	}
	return n, true
}

// DecodeResponse decodes the answer to a single, non-batch request sent with
// id (the plain client's path). It returns the raw result (a sub-slice of
// body, same lifetime rules as DecodeBatch), or the server's *Error for that
// call — also when the error object carries "id": null, as servers do for a
// request they could not parse — or an error wrapping ErrMalformedResponse
// when the body is malformed, answers another id, or answers nothing. Two
// exceptions: "[]" gives ErrEmptyBatch, and a result without a usable id
// gives an *Error with CodeInvalidResponse. A one-element array is accepted
// as well.
func DecodeResponse(body []byte, id uint64) ([]byte, error) {
	var (
		result    []byte
		rpcErr    *Error
		answered  bool
		otherID   uint64
		haveOther bool
	)
	err := DecodeBatch(body, func(got uint64, r []byte, e *Error) {
		if got != id {
			otherID, haveOther = got, true
			return
		}
		result, rpcErr, answered = r, e, true
	})
	var (
		rej *BatchRejectedError
		un  *UnmatchedError
	)
	switch {
	case answered:
		if rpcErr != nil {
			return nil, rpcErr
		}
		return result, nil
	case errors.As(err, &rej):
		if rej.HasID && rej.ID != id {
			return nil, fmt.Errorf("%w: error answers id %d, request had id %d: %w", ErrMalformedResponse, rej.ID, id, rej.Err)
		}
		return nil, rej.Err
	case errors.As(err, &un):
		return nil, un.Errors[0]
	case err != nil:
		return nil, err
	case haveOther:
		return nil, fmt.Errorf("%w: response answers id %d, request had id %d", ErrMalformedResponse, otherID, id)
	}
	return nil, fmt.Errorf("%w: no response element", ErrMalformedResponse)
}
