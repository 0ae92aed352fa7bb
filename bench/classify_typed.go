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

// classifyTyped knows the error types of the batchring packages: the
// server's *codec.Error first (also inside a *fastbatch.BatchError), then
// *fastpool.StatusError, then fastpool's timeouts.
func classifyTyped(err error) (Outcome, bool) {
	var rpc *codec.Error
	if errors.As(err, &rpc) {
		return Outcome{Kind: RPCKind(rpc.Code), Throttled: rpc.Code == CodeRateLimited}, true
	}
	var se *fastpool.StatusError
	if errors.As(err, &se) {
		return Outcome{Kind: HTTPKind(se.StatusCode), Throttled: se.StatusCode == 429, RetryAfter: se.RetryAfter}, true
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
