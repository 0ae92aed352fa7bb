package fastbatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/batchring/batchring/bench/devnet"
	"github.com/batchring/batchring/codec"
	"github.com/batchring/batchring/fastpool"
)

// startDevnet starts the stand-in node and a pool with short backoffs.
func startDevnet(t testing.TB, m devnet.Misbehaviour) (*devnet.Server, *fastpool.Pool) {
	t.Helper()
	return startDevnetConfig(t, devnet.Config{Seed: 7, Misbehaviour: m})
}

// startDevnetConfig is startDevnet for a whole devnet.Config.
func startDevnetConfig(t testing.TB, cfg devnet.Config) (*devnet.Server, *fastpool.Pool) {
	t.Helper()
	srv, err := devnet.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := fastpool.New(fastpool.Config{
		RetryDelay:          time.Millisecond,
		MaxRetryDelay:       5 * time.Millisecond,
		HealthCheckInterval: -1,
		RequestTimeout:      5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Start(); err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: the client (registered later) stops
	// before the pool closes and the server goes away.
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("devnet close: %v", err)
		}
	})
	t.Cleanup(func() {
		if err := pool.Close(); err != nil {
			t.Errorf("pool close: %v", err)
		}
	})
	return srv, pool
}

func queryParams(scope string) []byte {
	return fmt.Appendf(nil, `{"query":{"queryType":"default"},"scope":%q}`, scope)
}

// checkAgainstExpected compares one outcome with the devnet's deterministic
// answer for the call's own params.
func checkAgainstExpected(method string, params, res []byte, err error) error {
	want, wantErr := expected(method, params)
	var rpcErr *codec.Error
	switch {
	case err == nil && wantErr == nil:
		if !bytes.Equal(res, want) {
			return fmt.Errorf("%s %s: got answer %.120s, want %.120s", method, params, res, want)
		}
	case errors.As(err, &rpcErr) && wantErr != nil:
		if rpcErr.Code != wantErr.Code || rpcErr.Message != wantErr.Message || !bytes.Equal(rpcErr.Data, wantErr.Data) {
			return fmt.Errorf("%s %s: got error %v, want %v", method, params, rpcErr, wantErr)
		}
	default:
		return fmt.Errorf("%s %s: got %.80s / %v, want %.80s / %v", method, params, res, err, want, wantErr)
	}
	return nil
}

type expectedAnswer struct {
	result []byte
	err    *codec.Error
}

// expectedCache memoizes devnet.Expected (deterministic by contract): the
// storm checks 100,000 answers, most of them for repeated params, and
// rendering each again under -race would dominate the test's time.
var expectedCache sync.Map

func expected(method string, params []byte) ([]byte, *codec.Error) {
	key := method + "\x00" + string(params)
	if v, ok := expectedCache.Load(key); ok {
		a := v.(expectedAnswer)
		return a.result, a.err
	}
	r, e := devnet.Expected("/v3", method, params)
	expectedCache.Store(key, expectedAnswer{r, e})
	return r, e
}

func TestDevnetEveryCallerGetsTheAnswerToItsOwnParams(t *testing.T) {
	srv, pool := startDevnet(t, devnet.Misbehaviour{ReorderFraction: 1})
	c := startClient(t, Config{Endpoint: srv.URL() + "/v3"}, pool)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		wg.Go(func() {
			for i := range 40 {
				scope := fmt.Sprintf("acc://g%d-%d.acme/tokens", g, i%7)
				if i%5 == 0 {
					scope = fmt.Sprintf("acc://missing-%d.acme", i)
				}
				p := queryParams(scope)
				res, err := c.Submit(context.Background(), "query", p, WithPriority(i%4))
				if e := checkAgainstExpected("query", p, res, err); e != nil {
					errs <- e
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestWholeBatchRejectionIsSplitAndTheLimitLearned(t *testing.T) {
	for _, style := range []devnet.BatchLimitStyle{devnet.LimitWholeBatch, devnet.LimitGeth, devnet.LimitHTTP413, devnet.LimitClose} {
		t.Run(style.String(), func(t *testing.T) {
			srv, pool := startDevnet(t, devnet.Misbehaviour{MaxBatchSize: 10, BatchLimit: style})
			c := startClient(t, Config{Endpoint: srv.URL() + "/v3", EagerFlush: Off, MaxWait: 10 * time.Millisecond, MaxBatchSize: 64}, pool)
			reqs := queryRequests(64, "acc://split%d.acme")
			submitAndCheck(t, c, reqs)
			st := c.Stats()
			limit := st.LearnedLimits[srv.URL()+"/v3"]
			if st.Splits == 0 || limit == 0 || limit > 10 {
				t.Fatalf("splits %d, learned limit %d (server limit 10)", st.Splits, limit)
			}
			// Later batches stay under the learned limit: no more refusals.
			before := srv.Stats()
			res, err := c.SubmitMany(context.Background(), reqs)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				if r.Err != nil {
					t.Fatal(r.Err)
				}
			}
			after := srv.Stats()
			if n := after.Injected[devnet.InjectedBatchLimit] - before.Injected[devnet.InjectedBatchLimit]; n != 0 {
				t.Fatalf("%d batches refused after the limit was learned", n)
			}
		})
	}
}

func TestSingleCallStillRefusedReportsTheServersReason(t *testing.T) {
	// A server whose limit is below one call: every batch is refused.
	srv, pool := startDevnet(t, devnet.Misbehaviour{MaxBatchSize: 1, BatchLimit: devnet.LimitWholeBatch})
	_ = srv.SetMisbehaviour(devnet.Misbehaviour{MaxBatchSize: 1, BatchLimit: devnet.LimitWholeBatch})
	// Batches of one element are still arrays; the devnet only refuses
	// arrays longer than MaxBatchSize, so use a purpose-built answer.
	d := newMemDoer()
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		resp.SetBodyString(`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch limit 0 exceeded"}}`)
		return nil
	}
	c := startClient(t, Config{Endpoint: srv.URL() + "/v3", EagerFlush: Off, MaxWait: 5 * time.Millisecond}, d)
	_ = pool
	res, err := c.SubmitMany(context.Background(), []Request{{Method: "query"}, {Method: "query", Params: map[string]int{"x": 1}}, {Method: "status"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		var rpcErr *codec.Error
		if !errors.As(r.Err, &rpcErr) || rpcErr.Message != "batch limit 0 exceeded" {
			t.Fatalf("got %v, want the server's own reason", r.Err)
		}
	}
}

// statusServer is a purpose-built HTTP server answering every POST with the
// given status and body.
func statusServer(t *testing.T, status int, body func(req []byte) []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetStatusCode(status)
		ctx.SetContentType("application/json")
		ctx.SetBody(body(ctx.PostBody()))
	}}
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = s.Shutdown(); <-done })
	return "http://" + ln.Addr().String() + "/v3"
}

func TestHTTP400WithJSONRPCErrorBodyGivesTypedErrors(t *testing.T) {
	url := statusServer(t, 400, func(req []byte) []byte {
		var out bytes.Buffer
		out.WriteByte('[')
		i := 0
		_ = codec.DecodeBatch(bytes.ReplaceAll(req, []byte(`"method"`), []byte(`"result"`)), func(id uint64, _ []byte, _ *codec.Error) {
			if i > 0 {
				out.WriteByte(',')
			}
			i++
			fmt.Fprintf(&out, `{"jsonrpc":"2.0","id":%d,"error":{"code":-32602,"message":"invalid params"}}`, id)
		})
		out.WriteByte(']')
		return out.Bytes()
	})
	pool, err := fastpool.New(fastpool.Config{HealthCheckInterval: -1, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pool.Close() })
	c := startClient(t, Config{Endpoint: url}, pool)
	_, err = c.Submit(context.Background(), "query", map[string]int{"bad": 1})
	var rpcErr *codec.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != codec.CodeInvalidParams {
		t.Fatalf("got %v, want *codec.Error -32602", err)
	}
	var be *BatchError
	if errors.As(err, &be) {
		t.Fatalf("a JSON-RPC error surfaced as a batch failure: %v", err)
	}
}

func TestJSONRPCClientAgainstDevnet(t *testing.T) {
	srv, pool := startDevnet(t, devnet.Misbehaviour{ReorderFraction: 1, MaxBatchSize: 3, BatchLimit: devnet.LimitGeth})
	j, err := NewJSONRPCClient(Config{Endpoint: srv.URL() + "/v3"}, pool)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var info map[string]any
	if err := j.Call(context.Background(), "node-info", map[string]any{}, &info); err != nil {
		t.Fatal(err)
	}
	reqs := queryRequests(8, "acc://plain%d.acme")
	reqs[3].Params = queryParams("acc://missing.acme")
	res, err := j.Batch(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, reqs, res)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Batch(context.Background(), reqs); err == nil {
		t.Fatal("Batch after Close succeeded")
	}
}

func TestPrivatePoolIsClosedByStop(t *testing.T) {
	srv, err := devnet.Start(devnet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := New(Config{Endpoint: srv.URL() + "/v3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	p := queryParams("acc://private.acme")
	res, err := c.Submit(context.Background(), "query", p)
	if e := checkAgainstExpected("query", p, res, err); e != nil {
		t.Fatal(e)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	// goleak in TestMain checks the pool's goroutines are gone.
}

// TestStorm: 100,000 calls from 64 goroutines with random priorities and
// cancellations against a devnet that drops connections, answers 5xx and
// 429, refuses batches over a limit, shuffles and leaves out answers. Every
// call must end with exactly one outcome, and every success must be the
// devnet's answer to that call's own params. The calls go through Go,
// SubmitAppend (into one reused buffer per goroutine), Call and Submit.
func TestStorm(t *testing.T) {
	const goroutines = 64
	calls := 100_000
	if testing.Short() {
		calls = 10_000
	}
	srv, pool := startDevnet(t, devnet.Misbehaviour{
		DropBeforeFraction:  0.02,
		DropAfterFraction:   0.01,
		ServerErrorFraction: 0.03,
		RateLimitFraction:   0.02,
		RetryAfter:          -1,
		MaxBatchSize:        48,
		BatchLimit:          devnet.LimitGeth,
		ReorderFraction:     0.5,
		MissingFraction:     0.002,
	})
	c := startClient(t, Config{
		Endpoint:             srv.URL() + "/v3",
		MaxBatchSize:         100,
		MaxConcurrentBatches: 8,
		RetryBackoff:         time.Millisecond,
		MaxRetryBackoff:      5 * time.Millisecond,
	}, pool)

	var (
		success, rpcErrors, timeouts, cancels, noResponse, batchErrors atomic.Int64
		outcomes                                                       atomic.Int64
	)
	errs := make(chan error, goroutines)
	var wg sync.WaitGroup
	start := time.Now()
	for g := range goroutines {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 42))
			var buf []byte // SubmitAppend's, reused by every such call
			n := calls / goroutines
			if g < calls%goroutines {
				n++
			}
			for i := range n {
				method := "query"
				var p []byte
				switch k := rng.IntN(100); {
				case k < 70:
					p = queryParams(fmt.Sprintf("acc://storm%d.acme/tokens", rng.IntN(3000)))
				case k < 80:
					p = queryParams(fmt.Sprintf("acc://missing%d.acme", rng.IntN(100)))
				case k < 90:
					method = "network-status"
					p = fmt.Appendf(nil, `{"partition":"bvn%d"}`, rng.IntN(3))
				default:
					method = "submit"
					p = fmt.Appendf(nil, `{"envelope":{"n":"%d-%d"}}`, g, i)
				}
				ctx := context.Background()
				var cancel context.CancelFunc = func() {}
				switch k := rng.IntN(100); {
				case k < 3:
					ctx, cancel = context.WithTimeout(ctx, time.Duration(rng.IntN(3000))*time.Microsecond)
				case k < 5:
					ctx, cancel = context.WithCancel(ctx)
					if rng.IntN(2) == 0 {
						cancel()
					} else {
						time.AfterFunc(time.Duration(rng.IntN(2000))*time.Microsecond, cancel)
					}
				}
				var res []byte
				var err error
				switch i % 4 {
				case 0:
					res, err = c.Go(ctx, method, p, WithPriority(rng.IntN(6))).Wait(context.Background())
				case 1:
					// One buffer per goroutine, reused at once even after
					// a cancelled call: a late write into it would be a
					// race (and a wrong answer) here.
					buf, err = c.SubmitAppend(ctx, buf[:0], method, p, WithPriority(rng.IntN(6)))
					res = buf
				case 2:
					var raw json.RawMessage
					err = c.Call(ctx, method, p, &raw, WithPriority(rng.IntN(6)))
					res = raw
				default:
					res, err = c.Submit(ctx, method, p, WithPriority(rng.IntN(6)))
				}
				cancel()
				outcomes.Add(1)
				var rpcErr *codec.Error
				var be *BatchError
				switch {
				case err == nil:
					success.Add(1)
					if e := checkAgainstExpected(method, p, res, nil); e != nil {
						errs <- e
						return
					}
				case errors.As(err, &rpcErr):
					rpcErrors.Add(1)
					if e := checkAgainstExpected(method, p, nil, err); e != nil {
						errs <- e
						return
					}
				case errors.Is(err, ErrTimeout):
					timeouts.Add(1)
				case errors.Is(err, context.Canceled):
					cancels.Add(1)
				case errors.Is(err, ErrNoResponse):
					noResponse.Add(1)
				case errors.As(err, &be):
					batchErrors.Add(1)
				default:
					errs <- fmt.Errorf("unexpected outcome for %s %s: %v", method, p, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.WaitForCompletion(ctx); err != nil {
		t.Fatalf("WaitForCompletion: %v", err)
	}
	st := c.Stats()
	sum := success.Load() + rpcErrors.Load() + timeouts.Load() + cancels.Load() + noResponse.Load() + batchErrors.Load()
	if outcomes.Load() != int64(calls) || sum != int64(calls) {
		t.Fatalf("%d outcomes (%d classified) for %d calls", outcomes.Load(), sum, calls)
	}
	if st.RequestsSubmitted != st.RequestsCompleted+st.RequestsFailed || st.PendingRequests != 0 {
		t.Fatalf("client stats do not balance: %+v", st)
	}
	if success.Load() < int64(calls)/2 {
		t.Fatalf("only %d of %d calls succeeded", success.Load(), calls)
	}
	t.Logf("%d calls in %v: %d ok, %d rpc errors, %d timeouts, %d cancelled, %d unanswered, %d batch errors; %d batches (p50 %d calls), %d retries, %d splits, learned %v, dedup hits %d",
		calls, time.Since(start).Round(time.Millisecond), success.Load(), rpcErrors.Load(), timeouts.Load(), cancels.Load(), noResponse.Load(), batchErrors.Load(),
		st.BatchesSent, st.BatchSizeP50, st.Retries, st.Splits, st.LearnedLimits, st.DedupHits)
}

func TestTransientServerFaultsAreRetriedWithinTheDeadline(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    devnet.Misbehaviour
		kind string
	}{
		{"429 with Retry-After 0", devnet.Misbehaviour{RateLimitFraction: 1}, devnet.InjectedRateLimited},
		{"5xx", devnet.Misbehaviour{ServerErrorFraction: 1}, devnet.InjectedServerError},
		{"connection dropped before processing", devnet.Misbehaviour{DropBeforeFraction: 1}, devnet.InjectedDropBefore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, pool := startDevnet(t, tc.m)
			c := startClient(t, Config{Endpoint: srv.URL() + "/v3", RetryBackoff: 50 * time.Millisecond, MaxRetryBackoff: 200 * time.Millisecond, MaxRetries: 5}, pool)
			// The server recovers only once the pool's own attempts (1 + 3
			// retries) were all refused, so the call needs fastbatch's retry.
			recovered := make(chan struct{})
			go func() {
				defer close(recovered)
				for srv.Stats().Injected[tc.kind] < 4 {
					time.Sleep(100 * time.Microsecond)
				}
				_ = srv.SetMisbehaviour(devnet.Misbehaviour{})
			}()
			defer func() { <-recovered }()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			p := queryParams("acc://retry.acme")
			res, err := c.Submit(ctx, "query", p)
			if e := checkAgainstExpected("query", p, res, err); e != nil {
				t.Fatal(e)
			}
			if n := srv.Stats().Injected[tc.kind]; n == 0 {
				t.Fatalf("no %s injected", tc.kind)
			}
			if st := c.Stats(); st.Retries == 0 {
				t.Fatalf("fastbatch did not retry: %+v", st)
			}
		})
	}
}

func TestWriteIsNotResentAfterTheServerMayHaveRunIt(t *testing.T) {
	// The devnet runs the batch and then drops the connection: a write
	// must fail rather than risk running twice.
	srv, pool := startDevnet(t, devnet.Misbehaviour{DropAfterFraction: 1})
	c := startClient(t, Config{Endpoint: srv.URL() + "/v3", RetryBackoff: time.Millisecond}, pool)
	_, err := c.Submit(context.Background(), "submit", []byte(`{"envelope":{"n":"once"}}`))
	var be *BatchError
	if !errors.As(err, &be) {
		t.Fatalf("got %v, want *BatchError", err)
	}
	if n := srv.Stats().Requests; n != 1 {
		t.Fatalf("the write reached the server %d times, want 1", n)
	}
}

// A learned limit expires after LearnedLimitTTL: the client tries the full
// batch size again, and learns the limit anew while the server still
// refuses. A negative TTL keeps it.
func TestLearnedLimitExpires(t *testing.T) {
	// Long enough that the first round (a few batches) ends well inside it.
	const ttl = time.Second
	for _, tc := range []struct {
		name    string
		ttl     time.Duration
		expires bool
	}{{"ttl", ttl, true}, {"forever", -1, false}} {
		t.Run(tc.name, func(t *testing.T) {
			srv, pool := startDevnet(t, devnet.Misbehaviour{MaxBatchSize: 10, BatchLimit: devnet.LimitWholeBatch})
			ep := srv.URL() + "/v3"
			c := startClient(t, Config{Endpoint: ep, EagerFlush: Off, MaxWait: 10 * time.Millisecond, MaxBatchSize: 64, LearnedLimitTTL: tc.ttl}, pool)
			reqs := queryRequests(64, "acc://ttl%d.acme")
			submitAndCheck(t, c, reqs)
			if l := c.Stats().LearnedLimits[ep]; l == 0 || l > 10 {
				t.Fatalf("learned limit %d, want 1..10", l)
			}
			time.Sleep(2 * ttl) // a lower bound: a slow machine only sleeps longer
			_, still := c.Stats().LearnedLimits[ep]
			if still == tc.expires {
				t.Fatalf("after %v: learned limit present = %v, want %v", 2*ttl, still, !tc.expires)
			}
			before := srv.Stats().Injected[devnet.InjectedBatchLimit]
			submitAndCheck(t, c, reqs)
			refused := srv.Stats().Injected[devnet.InjectedBatchLimit] - before
			switch {
			case tc.expires && refused == 0:
				t.Fatal("no batch over the old limit was tried after the limit expired")
			case !tc.expires && refused != 0:
				t.Fatalf("%d batches refused while the limit should hold", refused)
			}
			if l := c.Stats().LearnedLimits[ep]; l == 0 || l > 10 {
				t.Fatalf("limit after the second round %d, want 1..10", l)
			}
		})
	}
}

func TestLearnedLimitTTLValidated(t *testing.T) {
	cfg := Config{Endpoint: "http://127.0.0.1:1/v3", LearnedLimitTTL: 25 * time.Hour}
	if err := cfg.Validate(); err == nil {
		t.Fatal("LearnedLimitTTL of 25h accepted")
	}
	for _, d := range []time.Duration{-time.Hour, -1, 0, time.Hour} {
		cfg.LearnedLimitTTL = d
		if err := cfg.Validate(); err != nil {
			t.Errorf("LearnedLimitTTL %v: %v", d, err)
		}
	}
}

// queryRequests returns n query calls for the scopes format(0..n-1).
func queryRequests(n int, format string) []Request {
	reqs := make([]Request, n)
	for i := range reqs {
		reqs[i] = Request{Method: "query", Params: queryParams(fmt.Sprintf(format, i))}
	}
	return reqs
}

// submitAndCheck submits reqs as one SubmitMany and checks every answer
// against the devnet's deterministic answer for its own params.
func submitAndCheck(t *testing.T, c *Client, reqs []Request) {
	t.Helper()
	res, err := c.SubmitMany(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	checkResults(t, reqs, res)
}

// checkResults checks each query result against the devnet's deterministic
// answer for its own params.
func checkResults(t *testing.T, reqs []Request, res []Result) {
	t.Helper()
	if len(res) != len(reqs) {
		t.Fatalf("%d results for %d requests", len(res), len(reqs))
	}
	for i, r := range res {
		if e := checkAgainstExpected("query", reqs[i].Params.([]byte), r.Result, r.Err); e != nil {
			t.Fatal(e)
		}
	}
}

// TestRateLimitInBodyIsRetriedNotSplit: some providers refuse a request
// they rate-limit with HTTP 200 and one -32005 error object for the whole
// batch. That says nothing about the batch's size: splitting it would send
// more requests to a server asking for fewer, and learning a limit from it
// would shrink every later batch. The batch must be retried whole, after a
// backoff, until the server lets it through.
func TestRateLimitInBodyIsRetriedNotSplit(t *testing.T) {
	srv, pool := startDevnet(t, devnet.Misbehaviour{RateLimitFraction: 1, RateLimitInBody: true, RetryAfter: -1})
	c := startClient(t, Config{
		Endpoint:        srv.URL() + "/v3",
		MaxBatchSize:    16,
		MaxWait:         5 * time.Millisecond,
		EagerFlush:      Off,
		RetryBackoff:    20 * time.Millisecond,
		MaxRetryBackoff: 50 * time.Millisecond,
		MaxRetries:      8,
	}, pool)
	recovered := make(chan struct{})
	go func() {
		defer close(recovered)
		for srv.Stats().Injected[devnet.InjectedRateLimited] < 3 {
			time.Sleep(100 * time.Microsecond)
		}
		_ = srv.SetMisbehaviour(devnet.Misbehaviour{})
	}()
	defer func() { <-recovered }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	futs := make([]*Future, 16)
	params := make([][]byte, len(futs))
	for i := range futs {
		params[i] = queryParams(fmt.Sprintf("acc://ratelimited%d.acme", i))
		futs[i] = c.Go(ctx, "query", params[i])
	}
	for i, f := range futs {
		res, err := f.Wait(ctx)
		if e := checkAgainstExpected("query", params[i], res, err); e != nil {
			t.Fatalf("call %d: %v", i, e)
		}
	}
	st := c.Stats()
	if st.Splits != 0 || len(st.LearnedLimits) != 0 {
		t.Fatalf("a rate-limit refusal was taken for a size limit: %d splits, learned %v", st.Splits, st.LearnedLimits)
	}
	if st.Retries == 0 {
		t.Fatalf("no retry: %+v", st)
	}
}
