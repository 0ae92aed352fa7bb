package bench

import (
	"errors"

	"github.com/batchring/batchring/codec"
	"github.com/batchring/batchring/fastpool"
)

// timeouter is implemented by transport errors that know they ran out of
// time (*fastpool.RequestError, net.Error).
type timeouter interface {
	Timeout() bool
}

// classifyTyped knows the error types of the batchring packages: an HTTP
// 429 first (whatever error object its body held: the pause needs its
// Retry-After), then the server's *codec.Error (also inside a
// *fastbatch.BatchError), then *fastpool.StatusError, then fastpool's
// timeouts.
func classifyTyped(err error) (Outcome, bool) {
	var se *fastpool.StatusError
	isStatus := errors.As(err, &se)
	if isStatus && se.StatusCode == 429 {
		return Outcome{Kind: HTTPKind(se.StatusCode), Throttled: true, RetryAfter: se.RetryAfter}, true
	}
	var rpc *codec.Error
	if errors.As(err, &rpc) {
		return Outcome{Kind: RPCKind(rpc.Code), Throttled: rpc.Code == CodeRateLimited}, true
	}
	if isStatus { // not a 429: that returned above
		return Outcome{Kind: HTTPKind(se.StatusCode), RetryAfter: se.RetryAfter}, true
	}
	if errors.Is(err, fastpool.ErrAttemptTimeout) {
		return Outcome{Kind: KindTimeout}, true
	}
	var to timeouter
	if errors.As(err, &to) && to.Timeout() {
		return Outcome{Kind: KindTimeout}, true
	}
	return Outcome{}, false
}
