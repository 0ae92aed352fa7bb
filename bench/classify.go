package bench

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/batchring/batchring/codec"
)

// Error kinds that Classify reports besides "http NNN" and "rpc CODE".
const (
	KindTimeout   = "timeout"
	KindCanceled  = "canceled"
	KindTransport = "transport"
)

// CodeRateLimited is the JSON-RPC error code of "limit exceeded" (EIP-1474),
// which hosted providers and the devnet's --rate-limit-in-body send inside
// an HTTP 200 instead of a 429. Classify counts it as throttling, so the
// engine pauses for it as for a 429 (DefaultRetryAfter: the body carries no
// Retry-After).
const CodeRateLimited = codec.CodeLimitExceeded

// Outcome is how a failed call is counted.
type Outcome struct {
	// Kind is "timeout", "http 429", "http 503" (any HTTP status),
	// "rpc -33404" (a JSON-RPC error object, by code), "canceled" or
	// "transport".
	Kind string
	// Throttled is true for an HTTP 429 and for a JSON-RPC error with code
	// CodeRateLimited (-32005): the engine pauses sending.
	Throttled bool
	// RetryAfter is the server's Retry-After, 0 when it gave none.
	RetryAfter time.Duration
}

// statusCoder is implemented by errors that carry an HTTP status.
type statusCoder interface {
	error
	HTTPStatus() int
}

// Classify sorts an error from a caller: a JSON-RPC error object by its code
// (-32005 is throttling), an HTTP status (429 is throttling, with the
// Retry-After it carried), a
// timeout (context deadline or a transport timeout), a cancellation, and
// everything else as a transport error.
func Classify(err error) Outcome {
	if out, ok := classifyTyped(err); ok {
		return out
	}
	var sc statusCoder
	if errors.As(err, &sc) {
		code := sc.HTTPStatus()
		return Outcome{Kind: HTTPKind(code), Throttled: code == 429}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Outcome{Kind: KindTimeout}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return Outcome{Kind: KindTimeout}
	}
	if errors.Is(err, context.Canceled) {
		return Outcome{Kind: KindCanceled}
	}
	return Outcome{Kind: KindTransport}
}

// HTTPKind returns the kind of an HTTP status error, "http 503".
func HTTPKind(code int) string { return "http " + strconv.Itoa(code) }

// RPCKind returns the kind of a JSON-RPC error object, "rpc -32601".
func RPCKind(code int) string { return "rpc " + strconv.Itoa(code) }
