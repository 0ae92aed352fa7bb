package fastbatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"go.uber.org/goleak"

	"github.com/batchring/batchring/codec"
	"github.com/batchring/batchring/fastpool"
)

func TestMain(m *testing.M) {
	// Only the test servers' fasthttp goroutines are ignored: the process-
	// wide Date-header updater and a stopped server's worker-pool cleaner,
	// which exits on its own ten seconds later. Every client-side goroutine
	// (assembler, dispatchers, pool, dialer) must be gone.
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
	)
}

const testEndpoint = "http://127.0.0.1:1/v3"

// startClient builds and starts a client on d and stops it at cleanup.
func startClient(t testing.TB, cfg Config, d Doer) *Client {
	t.Helper()
	if cfg.Endpoint == "" {
		cfg.Endpoint = testEndpoint
	}
	c, err := New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return c
}

// gate blocks the in-memory server until opened.
type gate struct {
	ch      chan struct{}
	once    sync.Once
	entered chan struct{}
}

func newGate() *gate  { return &gate{ch: make(chan struct{}), entered: make(chan struct{}, 1024)} }
func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }
func (g *gate) wait(ctx context.Context) error {
	g.entered <- struct{}{}
	select {
	case <-g.ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestSubmitReturnsOwnAnswer(t *testing.T) {
	d := newMemDoer()
	c := startClient(t, Config{}, d)
	ctx := context.Background()
	res, err := c.Submit(ctx, "query", map[string]any{"scope": "acc://a.acme", "b": 1})
	if err != nil {
		t.Fatal(err)
	}
	want := string(echoResult("query", []byte(`{"b":1,"scope":"acc://a.acme"}`)))
	if string(res) != want {
		t.Fatalf("got %s, want %s", res, want)
	}
	var out struct {
		Method string
		Params map[string]any
	}
	if err := c.Call(ctx, "node-info", nil, &out); err != nil {
		t.Fatal(err)
	}
	if out.Method != "node-info" {
		t.Fatalf("Call decoded %+v", out)
	}
}

func TestConcurrentCallsAreBatchedAndEachGetsItsAnswer(t *testing.T) {
	d := newMemDoer()
	var inflight atomic.Int32
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		inflight.Add(1)
		time.Sleep(2 * time.Millisecond) // server is the bottleneck: batches must grow
		inflight.Add(-1)
		resp.SetBody(answerAll(reqs, nil))
		return nil
	}
	c := startClient(t, Config{MaxConcurrentBatches: 2}, d)
	const goroutines, per = 32, 50
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range per {
				p := fmt.Sprintf(`{"g":%d,"i":%d}`, g, i)
				res, err := c.Submit(context.Background(), "query", []byte(p))
				if err != nil {
					errs <- err
					return
				}
				if want := string(echoResult("query", []byte(p))); string(res) != want {
					errs <- fmt.Errorf("got %s want %s", res, want)
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
	if got := d.calls.Load(); got != goroutines*per {
		t.Fatalf("server saw %d calls, want %d (no loss, no duplication)", got, goroutines*per)
	}
	if r := d.requests.Load(); r >= goroutines*per/4 {
		t.Fatalf("%d HTTP requests for %d calls: batching did not happen", r, goroutines*per)
	}
	st := c.Stats()
	if st.RequestsSubmitted != goroutines*per || st.RequestsCompleted != goroutines*per || st.PendingRequests != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDedupIdenticalReadsShareOneWireCall(t *testing.T) {
	d, g := newGatedDoer()
	c := startClient(t, Config{}, d)
	params := map[string]string{"scope": "acc://dedup.acme"}
	const n = 8
	// The first caller leads; it is cancelled later and must not take the
	// others down with it.
	leadCtx, cancelLead := context.WithCancel(context.Background())
	lead := c.Go(leadCtx, "query", params)
	<-g.entered
	futs := make([]*Future, n)
	for i := range futs {
		futs[i] = c.Go(context.Background(), "query", params)
	}
	waitFor(t, func() bool { return c.Stats().DedupHits == n })
	cancelLead()
	if _, err := lead.Wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled leader got %v", err)
	}
	g.open()
	want := string(echoResult("query", []byte(`{"scope":"acc://dedup.acme"}`)))
	for i, f := range futs {
		res, err := f.Wait(context.Background())
		if err != nil || string(res) != want {
			t.Fatalf("follower %d: %s, %v", i, res, err)
		}
	}
	if got := d.seen("query", `{"scope":"acc://dedup.acme"}`); got != 1 {
		t.Fatalf("wire saw the call %d times, want 1", got)
	}
	// Once answered, the same call goes on the wire again.
	if _, err := c.Submit(context.Background(), "query", params); err != nil {
		t.Fatal(err)
	}
	if got := d.seen("query", `{"scope":"acc://dedup.acme"}`); got != 2 {
		t.Fatalf("wire saw the call %d times after completion, want 2", got)
	}
}

func TestWritesAreNeverDeduplicated(t *testing.T) {
	d, g := newGatedDoer()
	c := startClient(t, Config{}, d)
	futs := []*Future{}
	for range 4 {
		futs = append(futs, c.Go(context.Background(), "submit", map[string]string{"envelope": "x"}))
	}
	time.Sleep(10 * time.Millisecond)
	g.open()
	for _, f := range futs {
		if _, err := f.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := d.seen("submit", `{"envelope":"x"}`); got != 4 {
		t.Fatalf("wire saw %d submits, want 4", got)
	}
	if st := c.Stats(); st.DedupHits != 0 {
		t.Fatalf("dedup hits %d for writes", st.DedupHits)
	}
}

func TestContextEndedBeforeSendIsNotSent(t *testing.T) {
	d, g := newGatedDoer()
	c := startClient(t, Config{MaxConcurrentBatches: 1}, d)
	first := c.Go(context.Background(), "query", map[string]int{"n": 1})
	<-g.entered // the only dispatch slot is busy now
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Submit(ctx, "query", map[string]int{"n": 2})
		done <- err
	}()
	waitFor(t, func() bool { return c.Stats().RequestsSubmitted == 2 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller got %v", err)
	}
	g.open()
	if _, err := first.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitForCompletion(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := d.seen("query", `{"n":2}`); got != 0 {
		t.Fatalf("cancelled call was sent %d times", got)
	}
}

func TestCallerDeadlineAfterSendReturnsAtOnceWithErrTimeout(t *testing.T) {
	d := newMemDoer()
	g := newGate()
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		_ = g.wait(context.Background()) // the server ignores the client's impatience
		resp.SetBody(answerAll(reqs, nil))
		return nil
	}
	c := startClient(t, Config{}, d)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := c.Submit(ctx, "query", map[string]int{"slow": 1})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want ErrTimeout matching context.DeadlineExceeded", err)
	}
	g.open() // the late answer is dropped
	if err := c.WaitForCompletion(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.PendingRequests != 0 {
		t.Fatalf("pending %d after completion", st.PendingRequests)
	}
}

func TestErrTimeoutMatchesDeadlineExceeded(t *testing.T) {
	if !errors.Is(ErrTimeout, context.DeadlineExceeded) {
		t.Fatal("errors.Is(ErrTimeout, context.DeadlineExceeded) is false")
	}
	if errors.Is(ErrTimeout, context.Canceled) || errors.Is(ErrStopped, ErrTimeout) {
		t.Fatal("ErrTimeout matches too much")
	}
	if !strings.HasPrefix(ErrTimeout.Error(), "fastbatch: ") {
		t.Fatal("missing package prefix")
	}
}

func TestSubmitOutsideLifecycle(t *testing.T) {
	c, err := New(Config{Endpoint: testEndpoint}, newMemDoer())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(context.Background(), "query", nil); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("before Start: %v", err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err == nil {
		t.Fatal("second Start succeeded")
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(context.Background(), "query", nil); !errors.Is(err, ErrStopped) {
		t.Fatalf("after Stop: %v", err)
	}
	if f := c.Go(context.Background(), "query", nil); !errors.Is(mustErr(f), ErrStopped) {
		t.Fatal("Go after Stop did not fail with ErrStopped")
	}
	if _, err := c.SubmitMany(context.Background(), []Request{{Method: "query"}}); !errors.Is(err, ErrStopped) {
		t.Fatalf("SubmitMany after Stop: %v", err)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func mustErr(f *Future) error {
	_, err := f.Wait(context.Background())
	return err
}

func TestStopNeverStartedLeavesNothing(t *testing.T) {
	c, err := New(Config{Endpoint: testEndpoint}, newMemDoer())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestStopFlushesQueuedCalls(t *testing.T) {
	d := newMemDoer()
	c, err := New(Config{Endpoint: testEndpoint, EagerFlush: Off, MaxWait: time.Hour, MaxBatchSize: 1000}, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	futs := make([]*Future, 50)
	for i := range futs {
		futs[i] = c.Go(context.Background(), "query", map[string]int{"i": i})
	}
	time.Sleep(5 * time.Millisecond)
	if d.requests.Load() != 0 {
		t.Fatal("fill-or-wait sent a partial batch before MaxWait")
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, f := range futs {
		res, err := f.Result()
		if err != nil {
			t.Fatalf("call %d after Stop: %v", i, err)
		}
		if want := echoResult("query", fmt.Appendf(nil, `{"i":%d}`, i)); string(res) != string(want) {
			t.Fatalf("call %d: %s", i, res)
		}
	}
	if d.requests.Load() != 1 {
		t.Fatalf("flush used %d requests, want 1", d.requests.Load())
	}
}

func TestStopContextEndFailsLeftoversWithErrStopped(t *testing.T) {
	d := newMemDoer()
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		<-ctx.Done() // a server that never answers
		return ctx.Err()
	}
	c, err := New(Config{Endpoint: testEndpoint, MaxConcurrentBatches: 1, MaxBatchSize: 5}, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	futs := make([]*Future, 20)
	for i := range futs {
		futs[i] = c.Go(context.Background(), "query", map[string]int{"i": i})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop: %v", err)
	}
	for i, f := range futs {
		if _, err := f.Result(); !errors.Is(err, ErrStopped) {
			t.Fatalf("call %d: %v, want ErrStopped", i, err)
		}
	}
}

func TestQueueFullFailFast(t *testing.T) {
	d, g := newGatedDoer()
	c := startClient(t, Config{RingSize: 2, Bands: 1, MaxBatchSize: 1, MaxConcurrentBatches: 1, QueueFull: FailFast}, d)
	var futs []*Future
	full := false
	for i := 0; i < 100 && !full; i++ {
		f := c.Go(context.Background(), "query", map[string]int{"i": i})
		if _, err := f.Result(); errors.Is(err, ErrQueueFull) {
			full = true
			break
		}
		futs = append(futs, f)
	}
	if !full {
		t.Fatal("ErrQueueFull never returned")
	}
	g.open()
	for _, f := range futs {
		if _, err := f.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestQueueFullBlocksUntilContextEnds(t *testing.T) {
	d, g := newGatedDoer()
	c := startClient(t, Config{RingSize: 2, Bands: 1, MaxBatchSize: 1, MaxConcurrentBatches: 1}, d)
	var futs []*Future
	for i := range 3 { // 1 in flight, the rest staged or in the ring
		futs = append(futs, c.Go(context.Background(), "query", map[string]int{"i": i}))
	}
	waitFor(t, func() bool { return len(g.entered) == 1 })
	// Capacity is 1 in flight + 1 staged + 2 in the ring: of the next 6
	// calls at least 5 find the ring full and must give up when their
	// context ends, without being counted as submitted.
	for i := 3; i < 9; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		_, err := c.Submit(ctx, "query", map[string]int{"i": i})
		cancel()
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("call %d: %v, want ErrTimeout", i, err)
		}
	}
	if n := c.Stats().RequestsSubmitted; n > 4 {
		t.Fatalf("%d calls accepted by a client that holds at most 4", n)
	}
	g.open()
	for _, f := range futs {
		if _, err := f.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHigherBandsAreSentFirstUnderSaturation(t *testing.T) {
	d := newMemDoer()
	g := newGate()
	var order []string
	var mu sync.Mutex
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		if err := g.wait(ctx); err != nil {
			return err
		}
		mu.Lock()
		for _, r := range reqs {
			order = append(order, string(r.Params))
		}
		mu.Unlock()
		resp.SetBody(answerAll(reqs, nil))
		return nil
	}
	c := startClient(t, Config{MaxConcurrentBatches: 1, MaxBatchSize: 4, Bands: 4}, d)
	first := c.Go(context.Background(), "query", map[string]string{"p": "first"})
	<-g.entered
	var futs []*Future
	for i := range 4 {
		futs = append(futs, c.Go(context.Background(), "query", map[string]any{"p": "low", "i": i}, WithPriority(0)))
	}
	for i := range 4 {
		futs = append(futs, c.Go(context.Background(), "query", map[string]any{"p": "high", "i": i}, WithPriority(99))) // clamped to 3
	}
	waitFor(t, func() bool {
		return c.Stats().QueueDepth[0]+c.Stats().QueueDepth[3] == 8 || c.Stats().RequestsSubmitted == 9
	})
	time.Sleep(5 * time.Millisecond)
	g.open()
	_, _ = first.Wait(context.Background())
	for _, f := range futs {
		if _, err := f.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 9 {
		t.Fatalf("order %v", order)
	}
	for i, p := range order[1:5] {
		if !strings.Contains(p, "high") {
			t.Fatalf("position %d is %s; high band not first: %v", i+1, p, order)
		}
	}
}

func TestAgingLetsLowBandThroughUnderSaturation(t *testing.T) {
	d := newMemDoer()
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		time.Sleep(time.Millisecond)
		resp.SetBody(answerAll(reqs, nil))
		return nil
	}
	c := startClient(t, Config{MaxConcurrentBatches: 1, MaxBatchSize: 2, Bands: 2, AgingLimit: 20 * time.Millisecond}, d)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 { // keep the high band saturated
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = c.Submit(context.Background(), "query", map[string]int{"w": w, "i": i}, WithPriority(1))
			}
		})
	}
	time.Sleep(5 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.Submit(ctx, "query", map[string]string{"p": "low"}, WithPriority(0))
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("low-band call starved: %v", err)
	}
}

func TestMissingIDsFailOnlyThoseCalls(t *testing.T) {
	d := newMemDoer()
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		resp.SetBody(answerAll(reqs, func(i int, r wireReq) bool { return strings.Contains(string(r.Params), "drop") }))
		return nil
	}
	c := startClient(t, Config{EagerFlush: Off, MaxWait: 5 * time.Millisecond}, d)
	res, err := c.SubmitMany(context.Background(), []Request{
		{Method: "query", Params: map[string]string{"k": "keep1"}},
		{Method: "query-tx", Params: map[string]string{"k": "drop"}},
		{Method: "query", Params: map[string]string{"k": "keep2"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[2].Err != nil {
		t.Fatalf("answered calls failed: %v %v", res[0].Err, res[2].Err)
	}
	var nr *NoResponseError
	if !errors.As(res[1].Err, &nr) || nr.Method != "query-tx" || !errors.Is(res[1].Err, ErrNoResponse) {
		t.Fatalf("missing call got %v", res[1].Err)
	}
	if d.requests.Load() != 1 {
		t.Fatalf("%d requests, want 1", d.requests.Load())
	}
}

func TestOutOfOrderDuplicateAndUnknownAnswers(t *testing.T) {
	d := newMemDoer()
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		var b strings.Builder
		b.WriteString(`[{"jsonrpc":"2.0","id":999999999,"result":"stranger"}`)
		for i := len(reqs) - 1; i >= 0; i-- {
			r := reqs[i]
			fmt.Fprintf(&b, `,{"jsonrpc":"2.0","id":%s,"result":%s}`, r.ID, echoResult(r.Method, r.Params))
			fmt.Fprintf(&b, `,{"jsonrpc":"2.0","id":%s,"result":"duplicate"}`, r.ID)
		}
		b.WriteString("]")
		resp.SetBodyString(b.String())
		return nil
	}
	c := startClient(t, Config{EagerFlush: Off, MaxWait: 5 * time.Millisecond}, d)
	reqs := make([]Request, 10)
	for i := range reqs {
		reqs[i] = Request{Method: "query", Params: map[string]int{"i": i}}
	}
	res, err := c.SubmitMany(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if want := echoResult("query", fmt.Appendf(nil, `{"i":%d}`, i)); r.Err != nil || string(r.Result) != string(want) {
			t.Fatalf("call %d: %s %v", i, r.Result, r.Err)
		}
	}
}

func TestServerErrorObjectsAreTypedPerCall(t *testing.T) {
	d := newMemDoer()
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		var b strings.Builder
		b.WriteString("[")
		for i, r := range reqs {
			if i > 0 {
				b.WriteString(",")
			}
			if r.Method == "query" {
				fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%s,"error":{"code":-33404,"message":"not found","data":{"status":404}}}`, r.ID)
			} else {
				fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%s,"result":1}`, r.ID)
			}
		}
		b.WriteString("]")
		// A server that also flags the failure in the HTTP status.
		resp.SetStatusCode(500)
		resp.SetBodyString(b.String())
		return &fastpool.StatusError{StatusCode: 500, Method: "POST", Host: "test", Attempts: 1}
	}
	c := startClient(t, Config{EagerFlush: Off, MaxWait: 5 * time.Millisecond, MaxRetries: -1}, d)
	res, err := c.SubmitMany(context.Background(), []Request{{Method: "query", Params: map[string]string{"scope": "acc://missing"}}, {Method: "node-info"}})
	if err != nil {
		t.Fatal(err)
	}
	var rpcErr *codec.Error
	if !errors.As(res[0].Err, &rpcErr) || rpcErr.Code != -33404 || string(rpcErr.Data) != `{"status":404}` {
		t.Fatalf("got %v, want *codec.Error -33404", res[0].Err)
	}
	if res[1].Err != nil || string(res[1].Result) != "1" {
		t.Fatalf("second call: %s %v", res[1].Result, res[1].Err)
	}
}

func TestMalformedResponseFailsOnlyItsBatch(t *testing.T) {
	d := newMemDoer()
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		if strings.Contains(string(reqs[0].Params), "broken") {
			resp.SetBodyString("<html>bad gateway</html>")
			return nil
		}
		resp.SetBody(answerAll(reqs, nil))
		return nil
	}
	c := startClient(t, Config{MaxRetries: -1}, d)
	_, err := c.Submit(context.Background(), "query", map[string]string{"p": "broken"})
	var be *BatchError
	if !errors.As(err, &be) || !errors.Is(err, codec.ErrMalformedResponse) {
		t.Fatalf("got %v, want *BatchError wrapping codec.ErrMalformedResponse", err)
	}
	if _, err := c.Submit(context.Background(), "query", map[string]string{"p": "fine"}); err != nil {
		t.Fatalf("next batch affected: %v", err)
	}
}

func TestWritesAreNotResentAfterTheyMayHaveReachedTheServer(t *testing.T) {
	for _, tc := range []struct {
		name       string
		maybeSent  bool
		idempotent bool
		wantSends  int
		wantErr    bool
	}{
		{"maybe sent write fails without re-send", true, false, 1, true},
		{"provably unsent write is re-sent", false, false, 2, false},
		{"maybe sent idempotent write is re-sent", true, true, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newMemDoer()
			var sends atomic.Int32
			d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
				if sends.Add(1) == 1 {
					return &fastpool.RequestError{Method: "POST", Host: "test", Attempts: 1, Errs: []error{errors.New("connection reset")}, MaybeSent: tc.maybeSent}
				}
				resp.SetBody(answerAll(reqs, nil))
				return nil
			}
			c := startClient(t, Config{RetryBackoff: time.Millisecond}, d)
			var opts []CallOption
			if tc.idempotent {
				opts = append(opts, WithIdempotent())
			}
			_, err := c.Submit(context.Background(), "submit", map[string]string{"envelope": "e"}, opts...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			var be *BatchError
			if tc.wantErr && !errors.As(err, &be) {
				t.Fatalf("want *BatchError, got %v", err)
			}
			if int(sends.Load()) != tc.wantSends {
				t.Fatalf("sent %d times, want %d", sends.Load(), tc.wantSends)
			}
			d.mu.Lock()
			idem := d.idem[0]
			d.mu.Unlock()
			if idem != tc.idempotent {
				t.Fatalf("fastpool.WithIdempotent passed = %v, want %v", idem, tc.idempotent)
			}
		})
	}
}

func TestRetryHonoursCallerDeadline(t *testing.T) {
	d := newMemDoer()
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		resp.SetStatusCode(503)
		return &fastpool.StatusError{StatusCode: 503, RetryAfter: time.Hour, Method: "POST", Host: "test", Attempts: 1}
	}
	c := startClient(t, Config{MaxRetries: 5}, d)
	// Far shorter than the Retry-After, long enough that a loaded machine
	// does not end it before the first answer.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Submit(ctx, "query", nil)
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Fatalf("Submit took %v: it waited towards the Retry-After instead of answering", took)
	}
	// A Retry-After beyond the deadline is not slept: the caller gets the
	// server's failure, not ErrTimeout after waiting out its deadline.
	var be *BatchError
	if !errors.As(err, &be) {
		t.Fatalf("got %v, want *BatchError", err)
	}
	var se *fastpool.StatusError
	if !errors.As(err, &se) || se.StatusCode != 503 {
		t.Fatalf("cause lost: %v", err)
	}
	if d.requests.Load() != 1 {
		t.Fatalf("%d sends", d.requests.Load())
	}
}

func TestGoFutureResolvesOnContextEnd(t *testing.T) {
	d, g := newGatedDoer()
	c := startClient(t, Config{}, d)
	// Long enough that Go and Result run before it ends on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()
	f := c.Go(ctx, "query", map[string]int{"x": 1})
	if _, err := f.Result(); !errors.Is(err, ErrPending) {
		t.Fatalf("Result before resolution: %v", err)
	}
	<-f.Done()
	if _, err := f.Result(); !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v", err)
	}
	g.open()
	if err := c.WaitForCompletion(context.Background()); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := c.Go(context.Background(), "query", nil).Decode(context.Background(), &v); err != nil || v["method"] != "query" {
		t.Fatalf("Decode: %v %v", v, err)
	}
}

func TestEncodeErrorIsReported(t *testing.T) {
	c := startClient(t, Config{}, newMemDoer())
	_, err := c.Submit(context.Background(), "query", []byte("{not json"))
	if !errors.Is(err, codec.ErrInvalidParams) {
		t.Fatalf("got %v", err)
	}
	if _, err := c.Submit(context.Background(), "query", func() {}); err == nil {
		t.Fatal("unencodable params accepted")
	}
}

func TestStatsCoverTheSeedFields(t *testing.T) {
	d := newMemDoer()
	c := startClient(t, Config{}, d)
	for i := range 20 {
		if _, err := c.Submit(context.Background(), "query", map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	st := c.Stats()
	if st.RequestsSubmitted != 20 || st.RequestsCompleted != 20 || st.RequestsFailed != 0 || st.SuccessRate != 1 {
		t.Fatalf("%+v", st)
	}
	if st.BatchesSent == 0 || st.BytesSent == 0 || st.BytesReceived == 0 || st.BatchSizeP50 < 1 || st.LatencyP50 <= 0 || len(st.QueueDepth) != DefaultBands {
		t.Fatalf("%+v", st)
	}
	var b strings.Builder
	if err := st.WritePrometheus(&b); err != nil || !strings.Contains(b.String(), "fastbatch_requests_submitted_total 20") {
		t.Fatalf("prometheus: %v\n%s", err, b.String())
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string
	}{
		{"missing endpoint", Config{}, "Endpoint"},
		{"relative endpoint", Config{Endpoint: "/v3"}, "Endpoint"},
		{"negative bands", Config{Endpoint: testEndpoint, Bands: -1}, "Bands"},
		{"too many bands", Config{Endpoint: testEndpoint, Bands: 65}, "Bands"},
		{"negative batch size", Config{Endpoint: testEndpoint, MaxBatchSize: -1}, "MaxBatchSize"},
		{"negative wait", Config{Endpoint: testEndpoint, MaxWait: -1}, "MaxWait"},
		{"retries below -1", Config{Endpoint: testEndpoint, MaxRetries: -2}, "MaxRetries"},
		{"bad toggle", Config{Endpoint: testEndpoint, EagerFlush: 7}, "EagerFlush"},
		{"bad policy", Config{Endpoint: testEndpoint, QueueFull: 9}, "QueueFull"},
		{"rings too large in all", Config{Endpoint: testEndpoint, Bands: 64, RingSize: 1 << 24}, "Bands × RingSize"},
		{"default bands, rings too large", Config{Endpoint: testEndpoint, RingSize: 1 << 23}, "Bands × RingSize"},
		{"too large once rounded up", Config{Endpoint: testEndpoint, Bands: 3, RingSize: 1<<22 + 1}, "Bands × RingSize"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.field) || !strings.HasPrefix(err.Error(), "fastbatch: ") {
				t.Fatalf("got %v, want an error naming %s", err, tc.field)
			}
		})
	}
	for _, cfg := range []Config{{Endpoint: testEndpoint}, HighThroughput(testEndpoint), LowLatency(testEndpoint)} {
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	s := HighThroughput(testEndpoint).settings()
	if s.maxBatchSize != 200 || s.maxWait != 50*time.Millisecond || s.maxConcurrent != 20 || !s.dedup || s.eager {
		t.Fatalf("high throughput preset %+v", s)
	}
	s = LowLatency(testEndpoint).settings()
	if s.maxBatchSize != 10 || s.maxWait != 10*time.Millisecond || s.maxConcurrent != 5 || s.dedup || !s.eager {
		t.Fatalf("low latency preset %+v", s)
	}
	s = Config{Endpoint: testEndpoint}.settings()
	if !s.eager || !s.dedup || s.bands != 4 || s.maxBatchSize != 100 || s.maxBatchBytes != 1<<20 || s.maxWait != 100*time.Millisecond || s.maxConcurrent != 10 {
		t.Fatalf("zero config defaults %+v", s)
	}
}

func TestDefaultIsWrite(t *testing.T) {
	for m, want := range map[string]bool{
		"submit": true, "validate": true, "faucet": true, "execute": true, "execute-direct": true,
		"create-adi": true, "send-tokens": true, "add-credits": true, "update-key-page": true, "write-data-to": true,
		"query": false, "query-tx": false, "network-status": false, "node-info": false, "status": false, "describe": false,
	} {
		if DefaultIsWrite(m) != want {
			t.Errorf("DefaultIsWrite(%q) = %v", m, !want)
		}
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}

var _ = json.RawMessage{}

func TestMaxBatchBytesBoundsEachRequest(t *testing.T) {
	d := newMemDoer()
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		resp.SetBody(answerAll(reqs, nil))
		return nil
	}
	counting, maxBody := maxBodyDoer(d)
	c := startClient(t, Config{EagerFlush: Off, MaxWait: 5 * time.Millisecond, MaxBatchBytes: 2000}, counting)
	reqs := make([]Request, 60)
	for i := range reqs {
		reqs[i] = Request{Method: "query", Params: fmt.Appendf(nil, `{"pad":"%0200d"}`, i)}
	}
	res, err := c.SubmitMany(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if maxBody.Load() > 2000 {
		t.Fatalf("a request body of %d bytes exceeds MaxBatchBytes 2000", maxBody.Load())
	}
	if d.requests.Load() < 60*200/2000 {
		t.Fatalf("%d requests: batches were not cut by bytes", d.requests.Load())
	}
}

// maxBodyDoer wraps d, keeping the largest request body it saw.
func maxBodyDoer(d Doer) (Doer, *atomic.Int64) {
	maxBody := new(atomic.Int64)
	return doerFunc(func(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, opts ...fastpool.RequestOption) error {
		if n := int64(len(req.Body())); n > maxBody.Load() {
			maxBody.Store(n)
		}
		return d.Do(ctx, req, resp, opts...)
	}), maxBody
}

type doerFunc func(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, opts ...fastpool.RequestOption) error

func (f doerFunc) Do(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, opts ...fastpool.RequestOption) error {
	return f(ctx, req, resp, opts...)
}

func TestStopWhileSubmittingLosesNothing(t *testing.T) {
	d := newMemDoer()
	c, err := New(Config{Endpoint: testEndpoint, RingSize: 64, MaxConcurrentBatches: 2}, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	var ok, stopped atomic.Int64
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				p := fmt.Appendf(nil, `{"g":%d,"i":%d}`, g, i)
				var res []byte
				var err error
				if i%3 == 0 {
					res, err = c.Go(context.Background(), "query", p, WithPriority(i%4)).Wait(context.Background())
				} else {
					res, err = c.Submit(context.Background(), "query", p, WithPriority(i%4))
				}
				switch {
				case err == nil:
					if string(res) != string(echoResult("query", p)) {
						errs <- fmt.Errorf("wrong answer %s for %s", res, p)
						return
					}
					ok.Add(1)
				case errors.Is(err, ErrStopped):
					stopped.Add(1)
					return
				default:
					errs <- err
					return
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if stopped.Load() != 16 {
		t.Fatalf("%d goroutines saw ErrStopped, want 16", stopped.Load())
	}
	// Stop flushed: every call accepted before it was answered, and the
	// server saw each exactly once.
	if got := d.calls.Load(); got != ok.Load() {
		t.Fatalf("server saw %d calls, callers got %d answers", got, ok.Load())
	}
	st := c.Stats()
	if st.RequestsSubmitted != st.RequestsCompleted+st.RequestsFailed || st.PendingRequests != 0 {
		t.Fatalf("stats do not balance: %+v", st)
	}
}

func TestDedupFollowerOutlivesItsLeadersDeadline(t *testing.T) {
	for _, useFuture := range []bool{false, true} {
		t.Run(fmt.Sprintf("future=%v", useFuture), func(t *testing.T) {
			d := newMemDoer()
			var sends atomic.Int32
			joined := make(chan struct{})
			d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
				if sends.Add(1) == 1 {
					// The first request lasts until the follower has
					// joined (however slow the machine) and then until
					// the leader's deadline ends it: a timed answer could
					// beat either on a loaded machine.
					select {
					case <-joined:
					case <-time.After(10 * time.Second):
					}
					<-ctx.Done()
					return ctx.Err()
				}
				resp.SetBody(answerAll(reqs, nil))
				return nil
			}
			c := startClient(t, Config{}, d)
			params := []byte(`{"scope":"acc://follow.acme"}`)
			leadCtx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			lead := c.Go(leadCtx, "query", params)
			waitFor(t, func() bool { return d.requests.Load() == 1 }) // sent, alone
			type outcome struct {
				res []byte
				err error
			}
			done := make(chan outcome, 1)
			go func() {
				var o outcome
				if useFuture {
					o.res, o.err = c.Go(context.Background(), "query", params).Wait(context.Background())
				} else {
					o.res, o.err = c.Submit(context.Background(), "query", params)
				}
				done <- o
			}()
			waitFor(t, func() bool { return c.Stats().DedupHits == 1 })
			close(joined)
			var o outcome
			select {
			case o = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the follower never got an answer")
			}
			if o.err != nil || string(o.res) != string(echoResult("query", params)) {
				t.Fatalf("follower got %s, %v", o.res, o.err)
			}
			if _, err := lead.Wait(context.Background()); !errors.Is(err, ErrTimeout) {
				t.Fatalf("leader got %v", err)
			}
			if st := c.Stats(); st.DedupHits != 1 {
				t.Fatalf("dedup hits %d: the follower never joined", st.DedupHits)
			}
		})
	}
}

// A read of a higher band does not follow an identical read queued at a
// lower band (it would wait there, behind the priority it asked to skip);
// a read of a lower or equal band does follow.
func TestDedupFollowsOnlyLeadersOfItsBandOrHigher(t *testing.T) {
	d, g := newGatedDoer()
	c := startClient(t, Config{MaxConcurrentBatches: 1}, d)
	busy := c.Go(context.Background(), "status", nil)
	<-g.entered // the only dispatch slot is busy: what follows stays queued
	low := map[string]string{"scope": "acc://low.acme"}
	high := map[string]string{"scope": "acc://high.acme"}
	lowLeader := c.Go(context.Background(), "query", low, WithPriority(0))
	highCaller := c.Go(context.Background(), "query", low, WithPriority(3))
	highLeader := c.Go(context.Background(), "query", high, WithPriority(3))
	lowFollower := c.Go(context.Background(), "query", high, WithPriority(0))
	waitFor(t, func() bool { return c.Stats().RequestsSubmitted == 5 })
	if hits := c.Stats().DedupHits; hits != 1 {
		t.Fatalf("dedup hits %d, want 1 (only the low-band call following the high-band one)", hits)
	}
	g.open()
	for _, f := range []*Future{busy, lowLeader, highCaller, highLeader, lowFollower} {
		if _, err := f.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := d.seen("query", `{"scope":"acc://low.acme"}`); got != 2 {
		t.Fatalf("low-band read sent %d times, want 2 (the high-band copy on its own)", got)
	}
	if got := d.seen("query", `{"scope":"acc://high.acme"}`); got != 1 {
		t.Fatalf("high-band read sent %d times, want 1 (the low-band copy followed it)", got)
	}
}

// TestParamsReusableAfterGoReturns holds Submit's and Go's promise that
// params are encoded (or copied) before they return: a caller that
// overwrites its []byte params at once, while the call still waits behind
// a gated transport, must not change what goes on the wire or whose
// answer comes back.
func TestParamsReusableAfterGoReturns(t *testing.T) {
	d, g := newGatedDoer()
	c := startClient(t, Config{Dedup: Off}, d)
	buf := []byte(`{"scope":"acc://first.acme"}`)
	first := c.Go(context.Background(), "query", buf)
	<-g.entered // the first batch is on the wire, held by the gate
	second := c.Go(context.Background(), "query", buf)
	// Overwrite the caller's buffer in place while the second call is
	// still queued behind the gate.
	copy(buf, []byte(`{"scope":"acc://XXXXX.acme"}`))
	g.open()
	for i, f := range []*Future{first, second} {
		res, err := f.Wait(context.Background())
		want := string(echoResult("query", []byte(`{"scope":"acc://first.acme"}`)))
		if err != nil || string(res) != want {
			t.Fatalf("call %d: got %s, %v; want %s", i, res, err, want)
		}
	}
	if got := d.seen("query", `{"scope":"acc://XXXXX.acme"}`); got != 0 {
		t.Fatalf("the overwritten params went on the wire %d times", got)
	}
}

// TestMaxBatchBytesHoldsForSmallCallsAndLongLivedClients: the per-call size
// estimate used to assume a 48-byte envelope, two digits of wire id
// included; with many tiny calls and the long wire ids of a client that has
// run for a while (ids only grow), bodies came out 15 % over MaxBatchBytes.
func TestMaxBatchBytesHoldsForSmallCallsAndLongLivedClients(t *testing.T) {
	for _, firstID := range []uint64{0, 1e9, 1e18} {
		t.Run(fmt.Sprint(firstID), func(t *testing.T) {
			counting, maxBody := maxBodyDoer(newMemDoer()) // memDoer answers every call
			c := startClient(t, Config{EagerFlush: Off, MaxWait: 5 * time.Millisecond, MaxBatchBytes: 10000,
				MaxBatchSize: 1000, Dedup: Off}, counting)
			c.snd.wireIDs.Store(firstID)
			reqs := make([]Request, 2000)
			for i := range reqs {
				reqs[i] = Request{Method: "query", Params: fmt.Appendf(nil, `{"n":%d}`, i)}
			}
			res, err := c.SubmitMany(context.Background(), reqs)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				if r.Err != nil {
					t.Fatal(r.Err)
				}
			}
			if n := maxBody.Load(); n > 10000 {
				t.Fatalf("a request body of %d bytes exceeds MaxBatchBytes 10000", n)
			}
		})
	}
}

// TestPrometheusEndpointLabelIsValidAndCarriesNoSecrets: the learned-limit
// label is escaped as the text format wants (Go's %q escapes such as
// \u200b or \xff make a scrape fail), and user info and the query, where
// API keys live, are left out of a public label.
func TestPrometheusEndpointLabelIsValidAndCarriesNoSecrets(t *testing.T) {
	for _, tc := range []struct{ endpoint, want string }{
		{"https://user:secret@node.example/v3?apikey=k", `endpoint="https://node.example/v3"`},
		{"http://h/v3/\u00e9\u200b", `endpoint="http://h/v3/%C3%A9%E2%80%8B"`},
		{"http://h/v3\n\"\\\xff", `endpoint="http://h/v3\n\"\\` + "\uFFFD" + `"`}, // no URL: escaped as it is
	} {
		st := Stats{LearnedLimits: map[string]int{tc.endpoint: 7}}
		var b strings.Builder
		if err := st.WritePrometheus(&b); err != nil {
			t.Fatal(err)
		}
		line := ""
		for _, l := range strings.Split(b.String(), "\n") {
			if strings.HasPrefix(l, "fastbatch_learned_batch_limit{") {
				line = l
			}
		}
		if want := "fastbatch_learned_batch_limit{" + tc.want + "} 7"; line != want {
			t.Errorf("%q:\n got %s\nwant %s", tc.endpoint, line, want)
		}
	}
}
