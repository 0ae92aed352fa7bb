package fastpool

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrPoolClosed is returned by every call made after Close.
	ErrPoolClosed = errors.New("fastpool: pool closed")
	// ErrPoolExhausted is returned when no connection became free before the
	// caller's deadline (or cancellation); it wraps the context's error, so
	// errors.Is(err, context.DeadlineExceeded) holds too.
	ErrPoolExhausted = errors.New("fastpool: no free connection before deadline")
	// ErrInvalidConfig is wrapped by Config.Validate errors.
	ErrInvalidConfig = errors.New("fastpool: invalid config")
	// ErrInvalidURL is returned for a request whose URI has no http/https
	// scheme or no host.
	ErrInvalidURL = errors.New("fastpool: invalid request URL")
	// ErrBodyTooLarge is returned when a response body exceeds
	// MaxResponseBodySize on the wire or after decompression. It is never
	// retried: the same request would get the same answer.
	ErrBodyTooLarge = errors.New("fastpool: response body exceeds MaxResponseBodySize")
	// ErrNoEndpoints is returned by NewEndpointSet without URLs.
	ErrNoEndpoints = errors.New("fastpool: endpoint set needs at least one URL")
)

// maxExcerpt is how much of a non-2xx body a StatusError keeps.
const maxExcerpt = 256

// StatusError is returned by Do for a final response whose status is not 2xx
// (after any retries of 429/502/503/504). The response passed to Do still
// holds the full last response (status, headers, decompressed body), so a
// caller can decode a JSON-RPC error object from a 400 or 500 body.
type StatusError struct {
	// StatusCode is the HTTP status of the final response.
	StatusCode int
	// Body is a copy of at most 256 bytes of the (decompressed) body.
	Body []byte
	// RetryAfter is the server's Retry-After, 0 when absent or unparsable.
	RetryAfter time.Duration
	// Method and Host name the request.
	Method, Host string
	// Attempts is how many attempts were made, this final one included.
	Attempts int
}

// Error implements error.
func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fastpool: %s %s: HTTP %d after %d attempt(s)", e.Method, e.Host, e.StatusCode, e.Attempts)
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (Retry-After %v)", e.RetryAfter)
	}
	if len(e.Body) > 0 {
		b.WriteString(": ")
		b.WriteString(strconv.Quote(string(e.Body)))
	}
	return b.String()
}

// RequestError is the final error when the last attempt failed in
// transport, or when the context ended while Do waited to retry a retryable
// status (Errs then ends with that *StatusError and the context's error). A
// final status answered by the server is a *StatusError instead, even when
// transport failures came before it. Errs holds one error per attempt in
// order; errors.Is/As see all of them (Unwrap() []error), so
// errors.Is(err, context.DeadlineExceeded) holds when an attempt ran out of
// time.
type RequestError struct {
	// Method and Host name the request.
	Method, Host string
	// Attempts is how many attempts were made.
	Attempts int
	// Errs holds the error of each attempt, in order, plus the context's
	// error when the context ended between attempts.
	Errs []error
	// MaybeSent is true when any attempt may have reached the server (bytes
	// were written to a connection). A non-idempotent request with
	// MaybeSent false provably never reached the server and is safe to
	// re-send.
	MaybeSent bool
}

// Error implements error.
func (e *RequestError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fastpool: %s %s failed after %d attempt(s)", e.Method, e.Host, e.Attempts)
	if e.MaybeSent {
		b.WriteString(" (may have reached the server)")
	}
	for i, err := range e.Errs {
		fmt.Fprintf(&b, "; #%d: %v", i+1, err)
	}
	return b.String()
}

// Unwrap returns the per-attempt errors.
func (e *RequestError) Unwrap() []error { return e.Errs }

// Timeout reports whether the request failed because time ran out.
func (e *RequestError) Timeout() bool {
	for _, err := range e.Errs {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrAttemptTimeout) {
			return true
		}
	}
	return false
}

// ErrAttemptTimeout is the error of an attempt that hit RequestTimeout
// before the context's deadline. Attempts that hit the context's deadline
// return context.DeadlineExceeded instead.
var ErrAttemptTimeout = errors.New("fastpool: attempt exceeded RequestTimeout")

// attemptError describes one failed attempt: where it failed and whether the
// request may have reached the server.
type attemptError struct {
	stage     string // "dial", "write", "read", "wait"
	reused    bool   // the connection was a reused keep-alive connection
	maybeSent bool
	err       error
}

func (e *attemptError) Error() string {
	var b strings.Builder
	b.WriteString(e.stage)
	if e.reused {
		b.WriteString(" (reused conn)")
	}
	if e.maybeSent {
		b.WriteString(" (maybe sent)")
	} else {
		b.WriteString(" (not sent)")
	}
	b.WriteString(": ")
	b.WriteString(e.err.Error())
	return b.String()
}

func (e *attemptError) Unwrap() error { return e.err }
