package bench

import "context"

// Caller makes one call of a workload against a target and reports how it
// ended. The engine calls it from many goroutines at once, so an
// implementation must be safe for concurrent use.
//
// Call returns nil when the target answered with a result, and an error
// otherwise: a JSON-RPC error object, an HTTP status, a timeout or a
// transport failure. The engine sorts errors into kinds with
// Config.Classify. The op is owned by the engine and must not be kept or
// modified after Call returns.
type Caller interface {
	Call(ctx context.Context, op *Op) error
}

// CallerFunc adapts a function to the Caller interface.
type CallerFunc func(ctx context.Context, op *Op) error

// Call calls f(ctx, op).
func (f CallerFunc) Call(ctx context.Context, op *Op) error { return f(ctx, op) }

// RequestCounter is implemented by callers that know how many HTTP requests
// they have sent so far (a batching caller sends fewer requests than calls).
// The engine reads it at the start and end of the measured window to report
// requests/s and the mean batch size; a caller that does not implement it is
// taken to send one request per call.
type RequestCounter interface {
	Requests() int64
}
