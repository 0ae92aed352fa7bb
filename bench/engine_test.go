package bench

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batchring/batchring/codec"
)

func testWorkload(t testing.TB) *Workload {
	t.Helper()
	w, err := NewWorkload([]Op{
		{Method: "query", Params: []byte(`{"scope":"acc://a"}`), Weight: 3},
		{Method: "node-info", Params: []byte(`{}`), Weight: 1, Priority: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// countingCaller records every call's send time and method.
type countingCaller struct {
	mu      sync.Mutex
	sent    []time.Time
	methods map[string]int
	delay   time.Duration
	fail    func(n int64) error
	n       atomic.Int64
}

func (c *countingCaller) Call(ctx context.Context, op *Op) error {
	n := c.n.Add(1)
	c.mu.Lock()
	c.sent = append(c.sent, time.Now())
	if c.methods == nil {
		c.methods = map[string]int{}
	}
	c.methods[op.Method]++
	c.mu.Unlock()
	if c.delay > 0 {
		select {
		case <-time.After(c.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if c.fail != nil {
		return c.fail(n)
	}
	return nil
}

func TestClosedLoopCallCount(t *testing.T) {
	c := &countingCaller{}
	res, err := Run(context.Background(), Config{Calls: 5000, Workers: 8}, testWorkload(t), c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Calls != 5000 || res.Latency.Count() != 5000 {
		t.Fatalf("measured %d calls (histogram %d), want 5000", res.Calls, res.Latency.Count())
	}
	if got := c.n.Load(); got != 5000 {
		t.Fatalf("caller saw %d calls, want 5000", got)
	}
	var perMethod, perBand int64
	for _, h := range res.Methods {
		perMethod += h.Count()
	}
	for _, h := range res.Bands {
		perBand += h.Count()
	}
	if perMethod != 5000 || perBand != 5000 {
		t.Fatalf("per method %d, per band %d, want 5000 each", perMethod, perBand)
	}
	// Weights 3:1 — with 5000 picks the share of query is 0.75 ± a few %.
	if q := float64(c.methods["query"]) / 5000; q < 0.7 || q > 0.8 {
		t.Fatalf("query share %.3f, want about 0.75", q)
	}
	if res.Loop != "closed" || res.Requests != 5000 || res.MeanBatchSize() != 1 {
		t.Fatalf("loop %q requests %d batch %.2f", res.Loop, res.Requests, res.MeanBatchSize())
	}
	var tl int64
	for _, iv := range res.Timeline {
		tl += iv.Calls
	}
	if tl != 5000 {
		t.Fatalf("timeline holds %d calls, want 5000", tl)
	}
}

// TestClosedLoopWarmUpNotRecorded: exactly the calls sent from the measured
// window's start on are recorded. The caller notes when each call reached it
// (a moment after the engine decided whether it is measured), so a call
// that reached it before Result.Start was a warm-up call, and at most one
// warm-up call per worker can reach it after. No assumption about how many
// calls fit in the warm-up, which a loaded machine would break.
func TestClosedLoopWarmUpNotRecorded(t *testing.T) {
	c := &countingCaller{delay: 200 * time.Microsecond}
	const workers = 4
	res, err := Run(context.Background(), Config{Duration: 200 * time.Millisecond, WarmUp: 200 * time.Millisecond, Workers: workers}, testWorkload(t), c)
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	var before, after int64
	for _, s := range c.sent {
		if s.Before(res.Start) {
			before++
		} else {
			after++
		}
	}
	c.mu.Unlock()
	if before == 0 || res.Calls == 0 {
		t.Fatalf("%d calls before the measured window, %d measured: want both", before, res.Calls)
	}
	if res.Calls > after || res.Calls < after-workers {
		t.Fatalf("measured %d calls; %d reached the caller in the measured window, %d before it", res.Calls, after, before)
	}
}

func TestOpenLoopNeverAheadOfSchedule(t *testing.T) {
	c := &countingCaller{}
	const rate = 2000.0
	cfg := Config{Rate: rate, Duration: 500 * time.Millisecond, WarmUp: 100 * time.Millisecond, Workers: 8}
	res, err := Run(context.Background(), cfg, testWorkload(t), c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Calls != 1000 {
		t.Fatalf("measured %d calls, want exactly rate × duration = 1000", res.Calls)
	}
	if got := c.n.Load(); got != 1200 {
		t.Fatalf("sent %d calls, want 1200 (200 warm-up + 1000)", got)
	}
	c.mu.Lock()
	sent := append([]time.Time(nil), c.sent...)
	c.mu.Unlock()
	sort.Slice(sent, func(i, j int) bool { return sent[i].Before(sent[j]) })
	start := res.Start.Add(-cfg.WarmUp) // the schedule's origin
	for i, s := range sent {
		// The i-th call (0-based) may not leave before start + i/rate: the
		// calls sent never exceed the rate asked.
		if slot := time.Duration(float64(i) / rate * 1e9); s.Sub(start) < slot {
			t.Fatalf("call %d sent %v after the start, before its slot at %v", i, s.Sub(start), slot)
		}
	}
	if res.Loop != "open" || res.RateAsked != rate {
		t.Fatalf("loop %q rate %v", res.Loop, res.RateAsked)
	}
}

func TestOpenLoopCountsFromIntendedTime(t *testing.T) {
	// One worker and a caller that takes 20 ms at 200 calls/s: the worker
	// falls behind, and every later call's latency includes the wait for its
	// slot, as a user would see it.
	c := &countingCaller{delay: 20 * time.Millisecond}
	res, err := Run(context.Background(), Config{Rate: 200, Calls: 20, Workers: 1}, testWorkload(t), c)
	if err != nil {
		t.Fatal(err)
	}
	// The last call was due at 95 ms and was sent at about 20 × 20 ms = 400 ms.
	if mx := res.Latency.Max(); mx < 250*time.Millisecond {
		t.Fatalf("max %v: the queueing behind a slow server was hidden", mx)
	}
}

type throttleErr struct{ after time.Duration }

func (e throttleErr) Error() string { return "throttled" }

// classifyThrottle is Classify that also knows throttleErr: a 429 with its
// Retry-After.
func classifyThrottle(err error) Outcome {
	var te throttleErr
	if errors.As(err, &te) {
		return Outcome{Kind: HTTPKind(429), Throttled: true, RetryAfter: te.after}
	}
	return Classify(err)
}

func TestErrorsByKindAndRetryAfterPause(t *testing.T) {
	var first atomic.Bool
	c := &countingCaller{fail: func(n int64) error {
		switch {
		case n == 1 && first.CompareAndSwap(false, true):
			return throttleErr{after: 300 * time.Millisecond}
		case n%5 == 0:
			return context.DeadlineExceeded
		case n%7 == 0:
			return errors.New("connection reset")
		}
		return nil
	}}
	classify := classifyThrottle
	res, err := Run(context.Background(), Config{Calls: 100, Workers: 1, Classify: classify}, testWorkload(t), c)
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	gap := c.sent[1].Sub(c.sent[0])
	c.mu.Unlock()
	if gap < 300*time.Millisecond {
		t.Fatalf("second call %v after a 429 with Retry-After 300ms", gap)
	}
	want := map[string]int64{"http 429": 1, KindTimeout: 20, KindTransport: 12}
	for k, n := range want {
		if res.ErrorsByKind[k] != n {
			t.Errorf("%s: %d errors, want %d (all: %v)", k, res.ErrorsByKind[k], n, res.ErrorsByKind)
		}
	}
	if res.Errors != 33 {
		t.Errorf("errors %d, want 33", res.Errors)
	}
}

// A -32005 error in a 200 body pauses the run like a 429 without
// Retry-After: for DefaultRetryAfter.
func TestRateLimitErrorObjectPauses(t *testing.T) {
	var first atomic.Bool
	c := &countingCaller{fail: func(n int64) error {
		if n == 1 && first.CompareAndSwap(false, true) {
			return &codec.Error{Code: CodeRateLimited, Message: "request rate limited"}
		}
		return nil
	}}
	res, err := Run(context.Background(), Config{Calls: 3, Workers: 1}, testWorkload(t), c)
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	gap := c.sent[1].Sub(c.sent[0])
	c.mu.Unlock()
	if gap < DefaultRetryAfter {
		t.Fatalf("second call %v after a -32005, want a pause of %v", gap, DefaultRetryAfter)
	}
	if n := res.ErrorsByKind["rpc -32005"]; n != 1 {
		t.Fatalf("rpc -32005 counted %d times, want 1 (all: %v)", n, res.ErrorsByKind)
	}
}

func TestRunCancelReturnsPartialResult(t *testing.T) {
	c := &countingCaller{delay: time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	res, err := Run(ctx, Config{Duration: time.Hour, Workers: 4}, testWorkload(t), c)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the context's", err)
	}
	if res == nil || res.Calls == 0 {
		t.Fatalf("no partial result: %+v", res)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero value works", Config{}, true},
		{"open loop", Config{Rate: 100, Duration: time.Second}, true},
		{"negative rate", Config{Rate: -1}, false},
		{"negative calls", Config{Calls: -1}, false},
		{"too many workers", Config{Workers: 2_000_000}, false},
		{"tiny interval", Config{Interval: time.Millisecond}, false},
		{"negative timeout", Config{Timeout: -1}, false},
		{"absurd schedule", Config{Rate: 1e8, Duration: 1e6 * time.Second}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrBadConfig) {
				t.Fatalf("%v is not ErrBadConfig", err)
			}
		})
	}
	if _, err := Run(context.Background(), Config{Rate: -1}, testWorkload(t), &countingCaller{}); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("Run with a bad config: %v", err)
	}
	if _, err := Run(context.Background(), Config{}, nil, &countingCaller{}); !errors.Is(err, ErrNoWorkload) {
		t.Fatalf("Run without workload: %v", err)
	}
}

func TestTicks(t *testing.T) {
	var mu sync.Mutex
	var ticks []Tick
	// A warm-up of six intervals: the collector need only wake once before
	// it ends to report a warm-up tick, even on a loaded machine (with two
	// intervals, one wake-up 50 ms late was enough to fail).
	cfg := Config{Rate: 500, Duration: 300 * time.Millisecond, WarmUp: 300 * time.Millisecond,
		Interval: 50 * time.Millisecond, Label: "t",
		OnTick: func(tk Tick) { mu.Lock(); ticks = append(ticks, tk); mu.Unlock() }}
	res, err := Run(context.Background(), cfg, testWorkload(t), &countingCaller{})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ticks) < 4 {
		t.Fatalf("%d ticks", len(ticks))
	}
	last := ticks[len(ticks)-1]
	if !last.Final || last.Calls != res.Calls || last.Label != "t" {
		t.Fatalf("last tick %+v, result calls %d", last, res.Calls)
	}
	warm := 0
	for _, tk := range ticks {
		if tk.WarmUp {
			warm++
			if tk.Calls != 0 {
				t.Fatalf("warm-up tick with calls: %+v", tk)
			}
		}
	}
	if warm == 0 {
		t.Fatal("no warm-up tick")
	}
}

// TestOpenLoopResumesAtRateAfter429: the calls that fell due during a 429
// pause are not sent in a burst when it ends (that would hit a server that
// just asked for less at many times the asked rate); sending resumes at the
// asked rate; the pause is reported as Result.Paused, and calls are
// measured from the moved schedule, so the pause is not added to each.
func TestOpenLoopResumesAtRateAfter429(t *testing.T) {
	const (
		rate  = 1000.0
		pause = 200 * time.Millisecond
	)
	var throttledAt atomic.Int64
	c := &countingCaller{fail: func(n int64) error {
		if n == 1 {
			throttledAt.Store(time.Now().UnixNano())
			return throttleErr{after: pause}
		}
		return nil
	}}
	classify := classifyThrottle
	res, err := Run(context.Background(), Config{Rate: rate, Calls: 500, Workers: 64, Classify: classify}, testWorkload(t), c)
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	sent := append([]time.Time(nil), c.sent...)
	c.mu.Unlock()
	resume := time.Unix(0, throttledAt.Load()).Add(pause)
	// In the first 100 ms after the pause the asked rate allows 100 calls;
	// a burst of the ~200 calls due during the pause would send 300. The
	// margin covers calls already past their wait when the 429 came back.
	window := 0
	for _, s := range sent {
		if !s.Before(resume) && s.Before(resume.Add(100*time.Millisecond)) {
			window++
		}
	}
	if window > 150 {
		t.Fatalf("%d calls in the 100 ms after a 429 pause at %v calls/s: a burst, not the asked rate", window, rate)
	}
	if res.Calls != 500 {
		t.Fatalf("measured %d calls, want 500", res.Calls)
	}
	// The pause is reported as such, and not added to the latency of every
	// call after it: the schedule moved back by it, and calls are measured
	// from the moved schedule (they used to all carry the whole pause).
	if res.Paused < pause {
		t.Fatalf("paused %v reported, want at least the %v asked", res.Paused, pause)
	}
	if p50 := res.Latency.Quantile(50); p50 > pause/4 {
		t.Fatalf("p50 %v: the %v pause was counted as the server's latency", p50, pause)
	}
}

// requestCountingCaller counts one HTTP request per call, as SingleCaller
// does, at the moment the call starts.
type requestCountingCaller struct {
	countingCaller
	requests atomic.Int64
}

func (c *requestCountingCaller) Call(ctx context.Context, op *Op) error {
	c.requests.Add(1)
	return c.countingCaller.Call(ctx, op)
}

func (c *requestCountingCaller) Requests() int64 { return c.requests.Load() }

// TestRequestsCountTheMeasuredWindow: with one request per call, Requests
// equals Calls, also when the collector is late to notice that the warm-up
// ended (here a slow OnTick on the last warm-up tick holds it 100 ms, as a
// blocked terminal would).
func TestRequestsCountTheMeasuredWindow(t *testing.T) {
	for _, cfg := range []Config{
		{Label: "closed", Workers: 4, Duration: 300 * time.Millisecond, WarmUp: 60 * time.Millisecond},
		{Label: "open", Rate: 2000, Workers: 8, Duration: 300 * time.Millisecond, WarmUp: 60 * time.Millisecond},
	} {
		t.Run(cfg.Label, func(t *testing.T) {
			c := &requestCountingCaller{countingCaller: countingCaller{delay: 200 * time.Microsecond}}
			cfg.Interval = 50 * time.Millisecond
			cfg.OnTick = func(tk Tick) {
				if tk.WarmUp {
					time.Sleep(100 * time.Millisecond)
				}
			}
			res, err := Run(context.Background(), cfg, testWorkload(t), c)
			if err != nil {
				t.Fatal(err)
			}
			// A warm-up call may start a moment after the first measured
			// one: at most one per worker.
			if d := res.Requests - res.Calls; d < -int64(cfg.Workers) || d > int64(cfg.Workers) {
				t.Fatalf("requests %d for %d calls of one request each", res.Requests, res.Calls)
			}
		})
	}
}

// TestTimelineHasNoSliversAfterAStall: when the collector is held up for
// several intervals (here by a slow OnTick), it resumes on the next interval
// boundary instead of ticking through the missed ones back to back, which
// made intervals of a few microseconds with absurd calls/s.
func TestTimelineHasNoSliversAfterAStall(t *testing.T) {
	const iv = 20 * time.Millisecond
	var once sync.Once
	cfg := Config{Workers: 2, Duration: 300 * time.Millisecond, Interval: iv,
		OnTick: func(tk Tick) {
			if tk.Elapsed > 50*time.Millisecond {
				once.Do(func() { time.Sleep(5 * iv) })
			}
		}}
	res, err := Run(context.Background(), cfg, testWorkload(t), &countingCaller{delay: 100 * time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	for i, iv := range res.Timeline[:len(res.Timeline)-1] { // the last one may be short
		if iv.Length < cfg.Interval/2 {
			t.Fatalf("interval %d of %d is %v long (%.0f calls/s): a sliver", i, len(res.Timeline), iv.Length, iv.Rate())
		}
	}
	var calls int64
	for _, iv := range res.Timeline {
		calls += iv.Calls
	}
	if calls != res.Calls {
		t.Fatalf("timeline holds %d calls, result %d", calls, res.Calls)
	}
}

// Each call runs under a deadline Timeout after its start to within 1 %:
// a worker's context is reused while that holds, replaced once it does not
// (the old one cancelled) or once it has ended.
func TestCallTimeoutDeadlines(t *testing.T) {
	const timeout = time.Second
	var deadlines []time.Time
	var ctxs []context.Context
	caller := CallerFunc(func(ctx context.Context, _ *Op) error {
		dl, ok := ctx.Deadline()
		if !ok {
			t.Fatal("call without a deadline")
		}
		deadlines = append(deadlines, dl)
		ctxs = append(ctxs, ctx)
		return nil
	})
	r := &run{cfg: Config{Timeout: timeout}, caller: caller}
	var ct callTimeout
	defer ct.stop()
	start := time.Now()
	op := &Op{}
	for _, at := range []time.Duration{0, 5 * time.Millisecond, 9 * time.Millisecond, 11 * time.Millisecond, 12 * time.Millisecond} {
		if err := r.call(context.Background(), &ct, start.Add(at), op); err != nil {
			t.Fatal(err)
		}
		dl := deadlines[len(deadlines)-1]
		if left := dl.Sub(start.Add(at)); left > timeout || left < timeout-timeout/timeoutSlack {
			t.Fatalf("call at +%v: %v of its timeout left, want within 1 %% of %v", at, left, timeout)
		}
	}
	// +0, +5 ms and +9 ms share the first context; +11 ms is past the
	// slack and gets a new one; +12 ms shares that.
	if ctxs[0] != ctxs[1] || ctxs[1] != ctxs[2] || ctxs[2] == ctxs[3] || ctxs[3] != ctxs[4] {
		t.Fatal("contexts not shared and replaced as the slack says")
	}
	if ctxs[0].Err() == nil {
		t.Fatal("the replaced context was not cancelled")
	}
	// A context that ended is never handed out again.
	ct.cancel()
	if err := r.call(context.Background(), &ct, start.Add(13*time.Millisecond), op); err != nil {
		t.Fatal(err)
	}
	if ctxs[5] == ctxs[4] || ctxs[5].Err() != nil {
		t.Fatal("an ended context was reused")
	}
}

// An open loop whose target cannot keep up (4 workers, 50 ms per call, 1000
// calls/s asked) used to go on until every ticket was sent, ten times its
// planned duration. Past the schedule's end and its grace it now stops
// sending; every measured ticket is either a measured call or counted as
// unsent, and the report says so.
func TestOpenLoopThatFallsBehindStopsAndCountsUnsent(t *testing.T) {
	c := &countingCaller{delay: 50 * time.Millisecond}
	res, err := Run(context.Background(), Config{Rate: 1000, Duration: 200 * time.Millisecond, Workers: 4}, testWorkload(t), c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Unsent == 0 {
		t.Fatalf("no call counted unsent: %d calls measured of 200", res.Calls)
	}
	if res.Calls+res.Unsent != 200 {
		t.Fatalf("%d calls + %d unsent, want the 200 tickets exactly", res.Calls, res.Unsent)
	}
	if got := c.n.Load(); got != res.Calls {
		t.Fatalf("caller saw %d calls, %d measured", got, res.Calls)
	}
	var b strings.Builder
	if err := WriteReport(&b, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "never sent") {
		t.Fatalf("report does not say calls were never sent:\n%s", b.String())
	}
}

// A Retry-After longer than MaxRetryAfter ends the run instead of being cut
// to MaxRetryAfter, which came back to someone else's node before it asked.
func TestRetryAfterBeyondTheMaxStopsTheRun(t *testing.T) {
	for _, rate := range []float64{0, 200} {
		c := &countingCaller{fail: func(n int64) error {
			if n == 3 {
				return throttleErr{after: MaxRetryAfter + time.Second}
			}
			return nil
		}}
		res, err := Run(context.Background(), Config{Rate: rate, Duration: 5 * time.Second, Workers: 1, Classify: classifyThrottle}, testWorkload(t), c)
		if err != nil {
			t.Fatal(err)
		}
		if res.Stopped == "" || !strings.Contains(res.Stopped, "Retry-After") {
			t.Fatalf("rate %v: Stopped = %q, want why", rate, res.Stopped)
		}
		if n := c.n.Load(); n != 3 {
			t.Fatalf("rate %v: %d calls sent, want none after the third (the 429)", rate, n)
		}
	}
}

// Calls slower than the histograms' range are counted as clipped, and the
// report warns that the max is a lower bound.
func TestClippedLatenciesAreCounted(t *testing.T) {
	c := &countingCaller{delay: 3 * time.Millisecond}
	res, err := Run(context.Background(), Config{Calls: 20, Workers: 2, MaxLatency: time.Millisecond}, testWorkload(t), c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Clipped != 20 {
		t.Fatalf("clipped %d, want all 20", res.Clipped)
	}
	var b strings.Builder
	if err := WriteReport(&b, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "lower bounds") {
		t.Fatalf("report does not warn about clipped latencies:\n%s", b.String())
	}
	m, err := Merge(res, res)
	if err != nil {
		t.Fatal(err)
	}
	if m.Clipped != 40 {
		t.Fatalf("merged clipped %d, want 40", m.Clipped)
	}
}

// stallCaller answers at once, except that calls sent before until wait
// for it: a target that stalls at the start of the run.
type stallCaller struct {
	until time.Time
	mu    sync.Mutex
	sent  []time.Time
}

func (c *stallCaller) Call(ctx context.Context, op *Op) error {
	now := time.Now()
	c.mu.Lock()
	c.sent = append(c.sent, now)
	c.mu.Unlock()
	if d := c.until.Sub(now); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// After a stall, an open loop sends the calls that fell due as workers come
// free: all at once unpaced (as wrk2 does), at most twice the rate when
// Paced, which loadgen uses for other people's nodes.
func TestPacedOpenLoopCatchesUpAtTwiceTheRateAtMost(t *testing.T) {
	for _, paced := range []bool{false, true} {
		c := &stallCaller{until: time.Now().Add(400 * time.Millisecond)}
		res, err := Run(context.Background(), Config{Rate: 50, Duration: time.Second, Workers: 4, Paced: paced}, testWorkload(t), c)
		if err != nil {
			t.Fatal(err)
		}
		if res.Calls != 50 {
			t.Fatalf("paced %v: %d calls, want 50", paced, res.Calls)
		}
		c.mu.Lock()
		burst := 0 // calls sent in the 40 ms after the stall ended
		for _, s := range c.sent {
			if !s.Before(c.until) && s.Before(c.until.Add(40*time.Millisecond)) {
				burst++
			}
		}
		c.mu.Unlock()
		// 50 calls/s is one per 20 ms; twice that is 2 in 40 ms (plus the
		// first). Unpaced, the ~16 calls due during the stall go out at once.
		if paced && burst > 4 {
			t.Fatalf("paced: %d calls in the 40 ms after a stall at 50 calls/s", burst)
		}
		if !paced && burst < 10 {
			t.Fatalf("unpaced: only %d calls in the 40 ms after the stall: the test does not make a backlog", burst)
		}
	}
}

// A closed loop's 429 pause that outlasts the run ends with the run: the
// workers used to sleep it out (up to MaxRetryAfter) past the duration.
func TestClosedLoopPauseEndsWithTheRun(t *testing.T) {
	c := &countingCaller{fail: func(n int64) error {
		if n == 5 {
			return throttleErr{after: 30 * time.Second}
		}
		return nil
	}}
	start := time.Now()
	res, err := Run(context.Background(), Config{Duration: 300 * time.Millisecond, Workers: 2, Classify: classifyThrottle}, testWorkload(t), c)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("a 300 ms run took %v: it slept out the pause", took)
	}
	if res.Paused <= 0 || res.Paused > time.Since(start) {
		t.Fatalf("paused %v reported, want the part of the 30 s asked that the run lasted", res.Paused)
	}
}

// A stopped open loop ends at once: its workers claim tickets ahead and
// sleep until their intended times, and used to sleep them all out (a
// minute at 1 call/s with 64 workers) after the run was stopped.
func TestStoppedOpenLoopEndsAtOnce(t *testing.T) {
	c := &countingCaller{fail: func(n int64) error {
		if n == 1 {
			time.Sleep(200 * time.Millisecond) // the other workers are asleep by then
			return throttleErr{after: MaxRetryAfter + time.Second}
		}
		return nil
	}}
	start := time.Now()
	res, err := Run(context.Background(), Config{Rate: 1, Duration: time.Minute, Workers: 64, Classify: classifyThrottle}, testWorkload(t), c)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the stopped run took %v to end", took)
	}
	if res.Stopped == "" || c.n.Load() != 1 {
		t.Fatalf("Stopped %q after %d calls, want a reason after the first", res.Stopped, c.n.Load())
	}
}

// throttleAfterStall is stallCaller whose first call to return after the
// stall ended (one the stall held, or one sent after it) answers, 100 ms
// later, a 429 asking for a 1 s pause.
type throttleAfterStall struct {
	stallCaller
	once        atomic.Bool
	throttledAt atomic.Int64
}

func (c *throttleAfterStall) Call(ctx context.Context, op *Op) error {
	if err := c.stallCaller.Call(ctx, op); err != nil {
		return err
	}
	if time.Now().After(c.until) && c.once.CompareAndSwap(false, true) {
		time.Sleep(100 * time.Millisecond)
		c.throttledAt.Store(time.Now().UnixNano())
		return throttleErr{after: time.Second}
	}
	return nil
}

// A Paced open loop catching up after a stall honours a 429 that comes in
// meanwhile: the calls waiting for a pacing slot used to go out during the
// pause.
func TestPacedOpenLoopSendsNothingDuringAPause(t *testing.T) {
	c := &throttleAfterStall{stallCaller: stallCaller{until: time.Now().Add(time.Second)}}
	if _, err := Run(context.Background(), Config{Rate: 20, Duration: 3 * time.Second, Workers: 16, Paced: true, Classify: classifyThrottle}, testWorkload(t), c); err != nil {
		t.Fatal(err)
	}
	if c.throttledAt.Load() == 0 {
		t.Fatal("no call was answered with the 429: the test tested nothing")
	}
	at := time.Unix(0, c.throttledAt.Load())
	c.mu.Lock()
	defer c.mu.Unlock()
	during := 0
	for _, s := range c.sent {
		if s.After(at.Add(10*time.Millisecond)) && s.Before(at.Add(900*time.Millisecond)) {
			during++
		}
	}
	if during > 0 {
		t.Fatalf("%d calls sent during the 1 s pause", during)
	}
}

// A closed loop with a call count whose last call got a 429 ends instead of
// sleeping out the pause; Paused counts only the part of a pause inside
// the run.
func TestClosedLoopPauseAfterTheLastCallAndPausedWithinTheRun(t *testing.T) {
	c := &countingCaller{fail: func(n int64) error {
		if n == 4 {
			return throttleErr{after: 3 * time.Second}
		}
		return nil
	}}
	start := time.Now()
	if _, err := Run(context.Background(), Config{Calls: 4, Workers: 2, Classify: classifyThrottle}, testWorkload(t), c); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("4 calls took %v: the pause after the last was slept out", took)
	}

	c = &countingCaller{delay: 10 * time.Millisecond, fail: func(n int64) error {
		if n == 60 { // about 0.3 s into a 1 s run of 2 workers, 10 ms a call
			return throttleErr{after: 30 * time.Second}
		}
		return nil
	}}
	res, err := Run(context.Background(), Config{Duration: time.Second, Workers: 2, Classify: classifyThrottle}, testWorkload(t), c)
	if err != nil {
		t.Fatal(err)
	}
	// At most the run's length, whenever the pause began: the 30 s asked
	// is cut at the run's end.
	if res.Paused <= 0 || res.Paused > time.Second {
		t.Fatalf("paused %v reported for a 30 s pause that began inside a 1 s run", res.Paused)
	}
}
