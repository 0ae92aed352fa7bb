package fastbatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/batchring/batchring/bench/devnet"
	"github.com/batchring/batchring/codec"
	"github.com/batchring/batchring/fastpool"
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

// TestOneOversizedCallTeachesNoBatchLimit: a stand-in node with a request
// body limit refuses (HTTP 413) every batch holding one huge call. Splitting
// finds that call, which fails with the server's 413; the refusals are all
// explained by it, so no batch limit is learned and the next batch of
// ordinary calls goes out whole, in one request.
func TestOneOversizedCallTeachesNoBatchLimit(t *testing.T) {
	srv, pool := startDevnetConfig(t, devnet.Config{Seed: 7, MaxRequestBodyBytes: 16 << 10})
	c := startClient(t, Config{Endpoint: srv.URL() + "/v3", EagerFlush: Off, MaxWait: 10 * time.Millisecond, MaxBatchSize: 64}, pool)
	reqs := queryRequests(64, "acc://oversized%d.acme")
	huge := 37
	reqs[huge].Params = queryParams("acc://" + strings.Repeat("x", 20<<10) + ".acme")
	res, err := c.SubmitMany(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	var se *fastpool.StatusError
	if !errors.As(res[huge].Err, &se) || se.StatusCode != fasthttp.StatusRequestEntityTooLarge {
		t.Fatalf("the oversized call got %v, want the server's 413", res[huge].Err)
	}
	res = append(res[:huge], res[huge+1:]...)
	checkResults(t, append(reqs[:huge:huge], reqs[huge+1:]...), res)
	st := c.Stats()
	if st.Splits == 0 {
		t.Fatal("the refused batch was not split")
	}
	if len(st.LearnedLimits) != 0 {
		t.Fatalf("one oversized call taught a batch limit: %v", st.LearnedLimits)
	}
	before := srv.Stats().Requests
	submitAndCheck(t, c, queryRequests(64, "acc://after%d.acme"))
	if n := srv.Stats().Requests - before; n != 1 {
		t.Fatalf("64 ordinary calls took %d requests after the oversized one, want 1", n)
	}
}

// TestSizeRefusalsNextToABadCallStillTeachTheLimit: with a real batch
// limit (10 calls, HTTP 413) and one call refused on its own besides, the
// refusals of spans without that call still teach a limit, and it is one
// that got through (≤ 10), not halved down to one call.
func TestSizeRefusalsNextToABadCallStillTeachTheLimit(t *testing.T) {
	srv, pool := startDevnetConfig(t, devnet.Config{Seed: 7, MaxRequestBodyBytes: 16 << 10,
		Misbehaviour: devnet.Misbehaviour{MaxBatchSize: 10, BatchLimit: devnet.LimitHTTP413}})
	c := startClient(t, Config{Endpoint: srv.URL() + "/v3", EagerFlush: Off, MaxWait: 10 * time.Millisecond, MaxBatchSize: 64}, pool)
	reqs := queryRequests(64, "acc://mixed%d.acme")
	reqs[5].Params = queryParams("acc://" + strings.Repeat("y", 20<<10) + ".acme")
	res, err := c.SubmitMany(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	if res[5].Err == nil {
		t.Fatal("the oversized call was answered")
	}
	checkResults(t, append(reqs[:5:5], reqs[6:]...), append(res[:5:5], res[6:]...))
	if l := c.Stats().LearnedLimits[srv.URL()+"/v3"]; l < 5 || l > 10 {
		t.Fatalf("learned limit %d, want the size that got through (5..10)", l)
	}
}

// TestServerThatNeverAnswersIsNotSplit: a request timeout is no sign of a
// batch too large. A batch sent to a server that accepts it and never
// answers fails after one request (the Doer and the client retrying
// nothing here), instead of being halved into 2n-1 requests that each wait
// out the timeout.
func TestServerThatNeverAnswersIsNotSplit(t *testing.T) {
	release := make(chan struct{})
	var requests atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hs.Close()
	defer close(release)
	pool, err := fastpool.New(fastpool.Config{RequestTimeout: 100 * time.Millisecond, MaxRetries: -1, HealthCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() }) // after the client's Stop (cleanups run last first)
	c := startClient(t, Config{Endpoint: hs.URL + "/v3", EagerFlush: Off, MaxWait: 5 * time.Millisecond, MaxRetries: -1}, pool)
	res, err := c.SubmitMany(context.Background(), queryRequests(8, "acc://hung%d.acme"))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		var be *BatchError
		if !errors.As(r.Err, &be) || !errors.Is(r.Err, fastpool.ErrAttemptTimeout) {
			t.Fatalf("call %d: %v, want a *BatchError for the attempt's timeout", i, r.Err)
		}
	}
	if n := requests.Load(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	if st := c.Stats(); st.Splits != 0 || len(st.LearnedLimits) != 0 {
		t.Fatalf("a timeout split the batch (%d splits) or taught a limit (%v)", st.Splits, st.LearnedLimits)
	}
}

// TestHTTP429WithAnErrorObjectIsThrottling: a 429 whose body is a single
// JSON-RPC error object (a proxy's, say -32000) is throttling, not a batch
// refusal: the batch is retried whole after Retry-After, never split, no
// limit is learned, and the write in it, refused unprocessed, is sent again.
func TestHTTP429WithAnErrorObjectIsThrottling(t *testing.T) {
	var n atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"slow down"}}`))
			return
		}
		var reqs []wireReq
		if err := json.NewDecoder(r.Body).Decode(&reqs); err != nil {
			t.Error(err)
		}
		_, _ = w.Write(answerAll(reqs, nil))
	}))
	defer hs.Close()
	pool, err := fastpool.New(fastpool.Config{MaxRetries: -1, HealthCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	c := startClient(t, Config{Endpoint: hs.URL + "/v3", EagerFlush: Off, MaxWait: 5 * time.Millisecond}, pool)
	start := time.Now()
	res, err := c.SubmitMany(context.Background(), []Request{
		{Method: "query", Params: []byte(`{"n":1}`)},
		{Method: "submit", Params: []byte(`{"n":2}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("call %d: %v", i, r.Err)
		}
	}
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("retried after %v, before the Retry-After of 1s", waited)
	}
	if got := n.Load(); got != 2 {
		t.Fatalf("%d requests, want 2 (the 429, then the batch whole)", got)
	}
	if st := c.Stats(); st.Splits != 0 || len(st.LearnedLimits) != 0 {
		t.Fatalf("throttling was taken for a size refusal: %d splits, learned %v", st.Splits, st.LearnedLimits)
	}
}

// TestReadsLeftAfterALoneInternalErrorWaitForTheBackoff: the reads of a
// mixed batch answered by a lone -32603 are retried like any retry, after
// the backoff and within MaxRetries; they used to go straight back out, and
// then be split into back-to-back requests to a failing server.
func TestReadsLeftAfterALoneInternalErrorWaitForTheBackoff(t *testing.T) {
	for _, retries := range []int{1, -1} {
		d := newMemDoer()
		var mu sync.Mutex
		var at []time.Time
		d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
			mu.Lock()
			at = append(at, time.Now())
			mu.Unlock()
			resp.SetBodyString(`{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"internal error"}}`)
			return nil
		}
		c := startClient(t, Config{EagerFlush: Off, MaxWait: 5 * time.Millisecond, MaxRetries: retries,
			RetryBackoff: 200 * time.Millisecond, MaxRetryBackoff: 200 * time.Millisecond}, d)
		res, err := c.SubmitMany(context.Background(), []Request{
			{Method: "query", Params: []byte(`{"n":1}`)},
			{Method: "query", Params: []byte(`{"n":2}`)},
			{Method: "submit", Params: []byte(`{"n":3}`)},
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Err == nil {
				t.Fatalf("retries %d: call %d answered by a server that only fails", retries, i)
			}
		}
		mu.Lock()
		if retries < 0 && len(at) != 1 {
			t.Fatalf("MaxRetries -1: %d requests, want 1", len(at))
		}
		if retries > 0 && (len(at) < 2 || at[1].Sub(at[0]) < 100*time.Millisecond) {
			t.Fatalf("MaxRetries 1: requests at %v: the reads were re-sent without the backoff", at)
		}
		mu.Unlock()
	}
}
