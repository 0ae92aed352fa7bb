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

// TestLoneInvalidRequestIsNoProofAWriteWasUnsent: a multi-call batch
// answered only by a bare -32600 on its first call looks like geth's batch
// limit but may be that call's own error from a server that ran the rest
// and lost their answers. The batch is split and re-sent only when every
// call may run twice; a write in it is never sent again, while geth's
// worded "batch too large" still splits.
func TestLoneInvalidRequestIsNoProofAWriteWasUnsent(t *testing.T) {
	for _, tc := range []struct {
		name, message, second string
		wantSubmitSends       int
		wantSplit             bool
	}{
		{"bare -32600 with a write is delivered, not re-sent", "Invalid Request", "submit", 1, false},
		{"bare -32600 with reads only is split", "Invalid Request", "query", 0, true},
		{"worded batch limit with a write is split", "batch too large", "submit", 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newMemDoer()
			var first atomic.Bool
			d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
				if len(reqs) > 1 && first.CompareAndSwap(false, true) {
					resp.SetBody(fmt.Appendf(nil, `[{"jsonrpc":"2.0","id":%s,"error":{"code":-32600,"message":%q}}]`, reqs[0].ID, tc.message))
					return nil
				}
				resp.SetBody(answerAll(reqs, nil))
				return nil
			}
			c := startClient(t, Config{EagerFlush: Off, MaxWait: 5 * time.Millisecond}, d)
			res, err := c.SubmitMany(context.Background(), []Request{
				{Method: "query", Params: []byte(`{"n":1}`)},
				{Method: tc.second, Params: []byte(`{"n":2}`)},
			})
			if err != nil {
				t.Fatal(err)
			}
			d.mu.Lock()
			firstSize := d.sizes[0]
			d.mu.Unlock()
			if firstSize != 2 {
				t.Fatalf("first request held %d calls, want both", firstSize)
			}
			if got := d.seen("submit", `{"n":2}`); tc.second == "submit" && got != tc.wantSubmitSends {
				t.Fatalf("write sent %d times, want %d", got, tc.wantSubmitSends)
			}
			split := d.requests.Load() > 1
			if split != tc.wantSplit {
				t.Fatalf("split = %v (%d requests), want %v", split, d.requests.Load(), tc.wantSplit)
			}
			if tc.wantSplit {
				for i, r := range res {
					if r.Err != nil {
						t.Fatalf("call %d after split: %v", i, r.Err)
					}
				}
				return
			}
			var rpcErr *codec.Error
			if !errors.As(res[0].Err, &rpcErr) || rpcErr.Code != codec.CodeInvalidRequest {
				t.Fatalf("first call got %v, want the server's -32600", res[0].Err)
			}
			if !errors.Is(res[1].Err, ErrNoResponse) {
				t.Fatalf("unanswered write got %v, want ErrNoResponse", res[1].Err)
			}
		})
	}
}

// TestBareErrorNamingOneCallIsNoProofAWriteWasUnsent: a bare error object
// (not an array) carrying the id of one call of a multi-call batch is
// taken as a whole-batch refusal and split — unless a write is in the
// batch: the object may be that call's own answer from a server that ran
// the others, so the write is not sent again.
func TestBareErrorNamingOneCallIsNoProofAWriteWasUnsent(t *testing.T) {
	for _, tc := range []struct {
		name, second    string
		wantSubmitSends int
		wantSplit       bool
	}{
		{"with a write the error is delivered, not re-sent", "submit", 1, false},
		{"reads only are split and re-sent", "query", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newMemDoer()
			var first atomic.Bool
			d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
				if len(reqs) > 1 && first.CompareAndSwap(false, true) {
					resp.SetBody(fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32000,"message":"boom"}}`, reqs[0].ID))
					return nil
				}
				resp.SetBody(answerAll(reqs, nil))
				return nil
			}
			c := startClient(t, Config{EagerFlush: Off, MaxWait: 5 * time.Millisecond}, d)
			res, err := c.SubmitMany(context.Background(), []Request{
				{Method: "query", Params: []byte(`{"n":1}`)},
				{Method: tc.second, Params: []byte(`{"n":2}`)},
			})
			if err != nil {
				t.Fatal(err)
			}
			d.mu.Lock()
			firstSize := d.sizes[0]
			d.mu.Unlock()
			if firstSize != 2 {
				t.Fatalf("first request held %d calls, want both", firstSize)
			}
			if got := d.seen("submit", `{"n":2}`); tc.second == "submit" && got != tc.wantSubmitSends {
				t.Fatalf("write sent %d times, want %d", got, tc.wantSubmitSends)
			}
			if split := d.requests.Load() > 1; split != tc.wantSplit {
				t.Fatalf("split = %v (%d requests), want %v", split, d.requests.Load(), tc.wantSplit)
			}
			if tc.wantSplit {
				for i, r := range res {
					if r.Err != nil {
						t.Fatalf("call %d after split: %v", i, r.Err)
					}
				}
				return
			}
			var rpcErr *codec.Error
			if !errors.As(res[0].Err, &rpcErr) || rpcErr.Code != -32000 {
				t.Fatalf("named call got %v, want the server's -32000", res[0].Err)
			}
			if !errors.Is(res[1].Err, ErrNoResponse) {
				t.Fatalf("unanswered write got %v, want ErrNoResponse", res[1].Err)
			}
		})
	}
}

// TestWholeBatchInternalErrorIsRetriedBeforeSplit: a single -32603 error
// object for a whole batch is most likely a transient server fault, so the
// batch is retried whole (no split, no learned limit). Only a refusal that
// persists through MaxRetries is taken for a size limit in disguise and
// split, so a server that answers -32603 to anything larger than it can
// take still gets every call through.
func TestWholeBatchInternalErrorIsRetriedBeforeSplit(t *testing.T) {
	const internal = `{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"internal error"}}`
	for _, tc := range []struct {
		name      string
		refuse    func(reqs []wireReq, n int64) bool // n counts requests, from 1
		wantSplit bool
	}{
		{"transient: the first two requests fail", func(reqs []wireReq, n int64) bool { return n <= 2 }, false},
		{"persistent above 2 calls", func(reqs []wireReq, n int64) bool { return len(reqs) > 2 }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newMemDoer()
			var n atomic.Int64
			d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
				if tc.refuse(reqs, n.Add(1)) {
					resp.SetBodyString(internal)
					return nil
				}
				resp.SetBody(answerAll(reqs, nil))
				return nil
			}
			c := startClient(t, Config{EagerFlush: Off, MaxWait: 5 * time.Millisecond, MaxRetries: 3,
				RetryBackoff: time.Millisecond, MaxRetryBackoff: 2 * time.Millisecond}, d)
			reqs := make([]Request, 8)
			for i := range reqs {
				reqs[i] = Request{Method: "query", Params: fmt.Appendf(nil, `{"n":%d}`, i)}
			}
			res, err := c.SubmitMany(context.Background(), reqs)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res {
				if want := string(echoResult("query", reqs[i].Params.([]byte))); r.Err != nil || string(r.Result) != want {
					t.Fatalf("call %d: %s, %v", i, r.Result, r.Err)
				}
			}
			st := c.Stats()
			if split := st.Splits > 0; split != tc.wantSplit {
				t.Fatalf("splits %d, want split = %v (retries %d)", st.Splits, tc.wantSplit, st.Retries)
			}
			if st.Retries == 0 {
				t.Fatalf("no whole-batch retry before anything else: %+v", st)
			}
			if !tc.wantSplit && len(st.LearnedLimits) != 0 {
				t.Fatalf("a transient fault taught a batch limit: %v", st.LearnedLimits)
			}
		})
	}
}
