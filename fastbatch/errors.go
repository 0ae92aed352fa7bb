package fastbatch

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrTimeout is returned when a call's context deadline passes before
	// its answer arrives. errors.Is(ErrTimeout, context.DeadlineExceeded)
	// holds, so code written for the context error keeps working.
	ErrTimeout error = timeoutError{}

	// ErrStopped is returned by calls submitted after Stop began, and by
	// calls Stop had to abandon when its context ended.
	ErrStopped = errors.New("fastbatch: client stopped")

	// ErrNotStarted is returned by calls submitted before Start.
	ErrNotStarted = errors.New("fastbatch: client not started")

	// ErrQueueFull is returned by Submit when its band's ring is full and
	// Config.QueueFull is FailFast.
	ErrQueueFull = errors.New("fastbatch: queue full")

	// ErrNoResponse is matched by *NoResponseError: the server answered the
	// batch but left this call out.
	ErrNoResponse = errors.New("fastbatch: no response for call")

	// ErrPending is returned by Future.Result before the future resolved.
	ErrPending = errors.New("fastbatch: future not resolved yet")
)

// timeoutError is ErrTimeout's type: it matches both itself and
// context.DeadlineExceeded.
type timeoutError struct{}

func (timeoutError) Error() string   { return "fastbatch: call timed out" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// Is makes errors.Is(ErrTimeout, context.DeadlineExceeded) true.
func (timeoutError) Is(target error) bool {
	return target == context.DeadlineExceeded || target == (timeoutError{})
}

// ctxError maps a context error to what a caller sees: ErrTimeout for a
// deadline, the context's own error otherwise (context.Canceled or a cause).
func ctxError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return ErrTimeout
	}
	return err
}

// NoResponseError says the server answered a batch without an element for
// this call. errors.Is(err, ErrNoResponse) holds.
type NoResponseError struct {
	// Method is the JSON-RPC method of the unanswered call.
	Method string
}

// Error names the unanswered method.
func (e *NoResponseError) Error() string {
	return "fastbatch: no response for call to " + e.Method
}

// Unwrap returns ErrNoResponse.
func (e *NoResponseError) Unwrap() error { return ErrNoResponse }

// BatchError reports a failure of a whole batch — transport, HTTP status,
// a malformed body — delivered to each call it affected. Match it with
// errors.As; Unwrap gives the cause (a *fastpool.RequestError, a
// *fastpool.StatusError, a *codec.BatchRejectedError, …).
type BatchError struct {
	// Endpoint is the URL the batch was sent to.
	Endpoint string
	// Calls is how many calls the failing request carried.
	Calls int
	// Attempts is how many times fastbatch sent this group of calls (each
	// possibly retried inside the Doer as well).
	Attempts int
	// Splits is how many times the batch was split before this failure.
	Splits int
	// Err is the cause.
	Err error
}

// Error says how many calls failed where, after how many attempts and
// splits, and why.
func (e *BatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fastbatch: batch of %d call(s) to %s failed after %d attempt(s)", e.Calls, e.Endpoint, e.Attempts)
	if e.Splits > 0 {
		fmt.Fprintf(&b, " and %d split(s)", e.Splits)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *BatchError) Unwrap() error { return e.Err }
