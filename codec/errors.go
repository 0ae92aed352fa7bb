package codec

import (
	"errors"
	"strconv"
	"strings"
)

// JSON-RPC 2.0 error codes (https://www.jsonrpc.org/specification#error_object).
const (
	// CodeParseError: the server could not parse the request body as JSON.
	CodeParseError = -32700
	// CodeInvalidRequest: the JSON sent is not a valid request object (or an
	// empty batch, which the Accumulate server answers with this code).
	CodeInvalidRequest = -32600
	// CodeMethodNotFound: the method does not exist or is not available.
	CodeMethodNotFound = -32601
	// CodeInvalidParams: invalid method parameters.
	CodeInvalidParams = -32602
	// CodeInternalError: internal JSON-RPC error.
	CodeInternalError = -32603
	// CodeLimitExceeded is EIP-1474's "limit exceeded" (in the server
	// error range), which hosted providers send inside an HTTP 200 when
	// they throttle a client instead of answering 429.
	CodeLimitExceeded = -32005
	// CodeServerErrorMax is the upper end (inclusive) of the
	// implementation-defined server error range -32099..-32000.
	CodeServerErrorMax = -32000
	// CodeServerErrorMin is the lower end (inclusive) of the server error
	// range.
	CodeServerErrorMin = -32099
)

// Accumulate error code ranges (the node's pkg/api/v3 JSON-RPC handler).
const (
	// CodeAccumulateGeneral is the first Accumulate general error code; general
	// errors count down from it: -32800 .. -32899.
	CodeAccumulateGeneral = -32800
	// CodeAccumulateMetrics is the first Accumulate metrics error code; metrics
	// errors count down from it: -32900 .. -32999.
	CodeAccumulateMetrics = -32900
	// CodeProtocolBase is the base of Accumulate protocol errors, reported as
	// CodeProtocolBase - status (status 404 "not found" is -33404).
	CodeProtocolBase = -33000
	// CodeProtocolNotFound is the Accumulate protocol error "not found"
	// (status 404).
	CodeProtocolNotFound = CodeProtocolBase - 404
)

// CodeInvalidResponse is the client-side code of an *Error that this package
// makes up, never one the server sent: DecodeBatch delivers it for a response
// element it cannot use (both or neither of "result" and "error", a "jsonrpc"
// member other than "2.0", an "error" member that is not an error object, or
// an id that cannot be matched). It lies just outside the range the JSON-RPC
// 2.0 specification reserves (-32768..-32000) and outside the Accumulate
// ranges. Its Message always starts with "codec: ".
const CodeInvalidResponse = -32769

// IsServerError reports whether code lies in the JSON-RPC 2.0
// implementation-defined server error range -32099..-32000.
func IsServerError(code int) bool {
	return code >= CodeServerErrorMin && code <= CodeServerErrorMax
}

// IsAccumulateGeneral reports whether code is an Accumulate general error
// (-32800 .. -32899).
func IsAccumulateGeneral(code int) bool {
	return code <= CodeAccumulateGeneral && code > CodeAccumulateGeneral-100
}

// IsAccumulateMetrics reports whether code is an Accumulate metrics error
// (-32900 .. -32999).
func IsAccumulateMetrics(code int) bool {
	return code <= CodeAccumulateMetrics && code > CodeAccumulateMetrics-100
}

// ProtocolStatus returns the Accumulate protocol status carried by code
// (CodeProtocolBase - status, status 0..999) and whether code is a protocol
// error at all. ProtocolStatus(-33404) is (404, true).
func ProtocolStatus(code int) (status int, ok bool) {
	if code > CodeProtocolBase || code <= CodeProtocolBase-1000 {
		return 0, false
	}
	return CodeProtocolBase - code, true
}

// ProtocolCode is the inverse of ProtocolStatus: the JSON-RPC code the
// Accumulate node uses for protocol status s.
func ProtocolCode(status int) int { return CodeProtocolBase - status }

// NeverExecuted reports whether a JSON-RPC error with this code proves that
// the server did not execute the request, so re-sending it cannot apply a
// write twice. True for CodeParseError, CodeInvalidRequest (which also
// covers a batch refused as a whole, e.g. go-ethereum's "batch too large" and
// the Accumulate answer to an empty batch) and CodeMethodNotFound.
//
// CodeInvalidParams is deliberately false: some servers validate params
// inside the handler, after work may have begun. Server-range codes are false
// too (go-ethereum's -32003 "response too large" is sent after execution), as
// is CodeInvalidResponse (the server answered, so it may have executed).
// A whole-batch refusal is reported as *BatchRejectedError; apply
// NeverExecuted to its Err.Code.
func NeverExecuted(code int) bool {
	switch code {
	case CodeParseError, CodeInvalidRequest, CodeMethodNotFound:
		return true
	}
	return false
}

// Error is a JSON-RPC 2.0 error object. Servers send it as the "error" member
// of a response; this package also makes some up with CodeInvalidResponse.
//
// An *Error owns its memory: Message and Data never alias the response body,
// so it may be kept after the body's buffer is reused.
type Error struct {
	// Code is the error code (see the Code… constants).
	Code int
	// Message is the short description the server gave.
	Message string
	// Data is the raw JSON of the "data" member, nil if the server sent none.
	// For Accumulate protocol errors it holds the structured protocol error.
	Data []byte
}

// Error implements the error interface: "jsonrpc error CODE: MESSAGE".
func (e *Error) Error() string {
	var b strings.Builder
	b.Grow(len("jsonrpc error : ") + 8 + len(e.Message))
	b.WriteString("jsonrpc error ")
	b.WriteString(strconv.Itoa(e.Code))
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, &codec.Error{Code: codec.CodeMethodNotFound}) matches any
// message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && e != nil && t.Code == e.Code
}

// BatchRejectedError is returned by DecodeBatch when the server answered with
// a single error object where an array of responses was expected: the whole
// batch was refused (a batch limit, an empty batch, a parse error of the whole
// body). Match it with errors.As; errors.As(err, new(*codec.Error)) also
// finds the server's error object through Unwrap.
type BatchRejectedError struct {
	// Err is the server's error object (never nil).
	Err *Error
	// ID is the id the error object carried when HasID is true. A server that
	// answers a one-request batch with a bare object sets it to that request's
	// id; a whole-batch refusal usually carries "id": null (HasID false).
	ID uint64
	// HasID reports whether the error object carried a usable id.
	HasID bool
}

// Error implements the error interface.
func (e *BatchRejectedError) Error() string {
	return "codec: batch rejected by server: " + e.Err.Error()
}

// Unwrap returns the server's *Error.
func (e *BatchRejectedError) Unwrap() error { return e.Err }

// UnmatchedError is returned by DecodeBatch, after every matched element was
// delivered, when some elements of the response array carried no usable id
// (typically "id": null: the server could not read one request of the batch).
// The caller should fail its still-unanswered calls with these errors.
type UnmatchedError struct {
	// Errors holds one *Error per unmatched element, in body order: the
	// server's error object, or a CodeInvalidResponse error describing an
	// element that carried a result (or nothing usable) without a usable id.
	// At most MaxUnmatchedErrors are kept.
	Errors []*Error
	// Count is the number of unmatched elements in the body (≥ len(Errors)).
	Count int
}

// Error implements the error interface.
func (e *UnmatchedError) Error() string {
	if len(e.Errors) == 0 {
		return "codec: " + strconv.Itoa(e.Count) + " response elements without usable id"
	}
	if e.Count <= 1 {
		return "codec: 1 response element without usable id: " + e.Errors[0].Error()
	}
	return "codec: " + strconv.Itoa(e.Count) + " response elements without usable id, first: " + e.Errors[0].Error()
}

// Unwrap returns the unmatched *Error values, so errors.As finds the first.
func (e *UnmatchedError) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, x := range e.Errors {
		errs[i] = x
	}
	return errs
}

// Sentinel errors, matched with errors.Is.
var (
	// ErrMalformedResponse: the response body is not a JSON-RPC 2.0 response
	// or batch of responses (syntax error, truncation, an HTML page, trailing
	// garbage, null, a scalar, an array holding a non-object). The wrapping
	// error carries the offset and a short excerpt.
	ErrMalformedResponse = errors.New("codec: malformed response")
	// ErrEmptyBatch: the server answered with an empty array "[]": no call of
	// the batch was answered.
	ErrEmptyBatch = errors.New("codec: empty batch response")
	// ErrInvalidParams: params given to EncodeParams are not valid JSON or do
	// not encode to a JSON object or array.
	ErrInvalidParams = errors.New("codec: invalid params")
	// ErrUnsupportedEncoding: a content coding other than identity, gzip or
	// zstd.
	ErrUnsupportedEncoding = errors.New("codec: unsupported content encoding")
	// ErrTooLarge: decompressed output would exceed the caller's limit.
	ErrTooLarge = errors.New("codec: decompressed body exceeds limit")
	// ErrCorrupt: compressed input is not valid for its encoding.
	ErrCorrupt = errors.New("codec: corrupt compressed body")
)
