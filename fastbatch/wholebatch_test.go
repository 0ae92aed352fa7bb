package fastbatch

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/batchring/batchring/codec"
)

// TestLoneErrorThatIsNoRefusalNeverResendsAWrite: a single error object
// answering a whole batch proves the batch never ran only when it is a
// refusal (parse error, invalid request, batch limit, throttling). An
// internal error or a server-range code may come from a server that ran
// the batch and then failed to answer: the write in it is failed and never
// sent again, while the read is retried and answered.
func TestLoneErrorThatIsNoRefusalNeverResendsAWrite(t *testing.T) {
	for _, tc := range []struct {
		name            string
		code            int
		message         string
		wantSubmitSends int
	}{
		{"internal error", codec.CodeInternalError, "internal error", 1},
		{"server-range code", -32000, "server error", 1},
		{"custom code", -31999, "it broke", 1},
		{"parse error is a refusal", codec.CodeParseError, "parse error", 2},
		{"invalid request is a refusal", codec.CodeInvalidRequest, "Invalid Request", 2},
		{"throttling is a refusal", codec.CodeLimitExceeded, "limit exceeded", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newMemDoer()
			var first atomic.Bool
			d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
				if first.CompareAndSwap(false, true) {
					resp.SetBody(fmt.Appendf(nil, `{"jsonrpc":"2.0","id":null,"error":{"code":%d,"message":%q}}`, tc.code, tc.message))
					return nil
				}
				resp.SetBody(answerAll(reqs, nil))
				return nil
			}
			c := startClient(t, Config{EagerFlush: Off, MaxWait: 5 * time.Millisecond, MaxRetries: 2,
				RetryBackoff: time.Millisecond, MaxRetryBackoff: 2 * time.Millisecond}, d)
			res, err := c.SubmitMany(context.Background(), []Request{
				{Method: "query", Params: []byte(`{"n":1}`)},
				{Method: "submit", Params: []byte(`{"n":2}`)},
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := d.seen("submit", `{"n":2}`); got != tc.wantSubmitSends {
				t.Fatalf("write sent %d times, want %d", got, tc.wantSubmitSends)
			}
			if want := string(echoResult("query", []byte(`{"n":1}`))); res[0].Err != nil || string(res[0].Result) != want {
				t.Fatalf("read: %s, %v; want its answer", res[0].Result, res[0].Err)
			}
			if tc.wantSubmitSends == 2 {
				if res[1].Err != nil {
					t.Fatalf("write after a refusal: %v, want its answer", res[1].Err)
				}
				return
			}
			var be *BatchError
			var rpcErr *codec.Error
			if !errors.As(res[1].Err, &be) || !errors.As(res[1].Err, &rpcErr) || rpcErr.Code != tc.code {
				t.Fatalf("write got %v, want a *BatchError carrying the server's %d", res[1].Err, tc.code)
			}
		})
	}
}

// TestJSONRPCClientWriteIsNotResentAfterALoneInternalError: the same for
// the plain client's single call, which is a batch of one.
func TestJSONRPCClientWriteIsNotResentAfterALoneInternalError(t *testing.T) {
	d := newMemDoer()
	var first atomic.Bool
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		if first.CompareAndSwap(false, true) {
			resp.SetBodyString(`{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"internal error"}}`)
			return nil
		}
		resp.SetBody(answerAll(reqs, nil))
		return nil
	}
	j, err := NewJSONRPCClient(Config{Endpoint: testEndpoint, MaxRetries: 2,
		RetryBackoff: time.Millisecond, MaxRetryBackoff: 2 * time.Millisecond}, d)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	err = j.Call(context.Background(), "submit", []byte(`{"n":1}`), nil)
	var rpcErr *codec.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != codec.CodeInternalError {
		t.Fatalf("Call = %v, want the server's -32603", err)
	}
	if got := d.seen("submit", `{"n":1}`); got != 1 {
		t.Fatalf("write sent %d times, want 1", got)
	}
	// A read is retried and answered.
	first.Store(false)
	var out map[string]any
	if err := j.Call(context.Background(), "query", []byte(`{"n":2}`), &out); err != nil {
		t.Fatalf("read after a lone internal error: %v", err)
	}
	if got := d.seen("query", `{"n":2}`); got != 2 {
		t.Fatalf("read sent %d times, want 2 (one retry)", got)
	}
}
