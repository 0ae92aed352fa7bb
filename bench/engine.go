package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Engine errors.
var (
	// ErrBadConfig is returned (wrapped, naming the field) by Config.Validate.
	ErrBadConfig = errors.New("bench: bad config")
	// ErrNoWorkload is returned by Run without a workload or caller.
	ErrNoWorkload = errors.New("bench: no workload or caller")
)

// Defaults of Config.
const (
	// DefaultDuration is the measured duration when neither Duration nor
	// Calls is set.
	DefaultDuration = 10 * time.Second
	// DefaultClosedWorkers is the closed-loop concurrency when Workers is 0.
	DefaultClosedWorkers = 16
	// DefaultInterval is the timeline and progress interval.
	DefaultInterval = time.Second
	// DefaultMaxLatency is the highest latency a histogram tells apart;
	// longer calls are recorded as this value.
	DefaultMaxLatency = 10 * time.Minute
	// DefaultRetryAfter is how long the engine pauses after an HTTP 429 that
	// carries no Retry-After header.
	DefaultRetryAfter = time.Second
	// MaxRetryAfter is the longest Retry-After a run waits out. A longer
	// one ends the run (Result.Stopped says so) rather than coming back
	// before the server asked or stopping a run for hours.
	MaxRetryAfter = time.Minute
)

// Config configures one run of the engine. The zero value is a 10-second
// closed-loop run with 16 workers.
type Config struct {
	// Label names the run in reports ("single", "batch"). Default "run".
	Label string
	// Target is the endpoint, for reports only.
	Target string
	// Rate is the open-loop target rate in calls/s: calls are scheduled at
	// fixed intended times and each latency is measured from its intended
	// time, so a stalled server shows its stall (no coordinated omission).
	// Calls are never sent before their intended time, so the calls sent
	// since the start never exceed Rate × elapsed; after a stall of the
	// target, though, the calls that fell due during it go out as soon as
	// workers are free (as wrk2 does). Once the schedule's end has passed
	// by max(1s, a tenth of the run, Timeout), calls not yet sent are not
	// sent: Result.Unsent counts them, and the run ends. 0 (the default)
	// runs a closed loop: Workers callers, each sending its next call when
	// the last one is answered.
	Rate float64
	// Duration is the measured time, after the warm-up. Default 10s unless
	// Calls is set.
	Duration time.Duration
	// Calls, when > 0, is the number of measured calls; the run ends after
	// them instead of after Duration. In open loop it takes Calls/Rate.
	Calls int64
	// WarmUp is run before the measured window at the same rate (or the same
	// concurrency); its calls are not recorded. Default 0.
	WarmUp time.Duration
	// Workers is the number of concurrent callers. Default: 16 in closed
	// loop; Rate/10 clamped to [64, 4096] in open loop, so a server that is
	// 100 ms slow is still called at the asked rate. In open loop, a call
	// that finds every worker busy is sent late but still measured from its
	// intended time.
	Workers int
	// Timeout bounds each call through its context, to within 1 % (each
	// worker reuses a context while most of its deadline is left, rather
	// than making one per call). Default 0: the caller's own timeout
	// applies.
	Timeout time.Duration
	// Interval is the resolution of the timeline and of OnTick. Default 1s.
	Interval time.Duration
	// OnTick, if set, is called after every interval (and every interval of
	// the warm-up), from one goroutine, never concurrently with itself.
	OnTick func(Tick)
	// Classify sorts a caller's errors into kinds. Default Classify.
	Classify func(error) Outcome
	// IgnoreRetryAfter turns off the pause after an HTTP 429. By default a
	// 429 stops all sending until its Retry-After (DefaultRetryAfter without
	// one) has passed; one longer than MaxRetryAfter ends the run. In open
	// loop the rest of the schedule then moves back by the pause, so sending
	// resumes at Rate instead of bursting out the calls that fell due during
	// the pause (the run lasts that much longer), and each call is measured
	// from its intended time in the moved schedule: the pause is the
	// server's request, not its latency, and would otherwise be added to
	// every later call. Result.Paused reports the time paused.
	IgnoreRetryAfter bool
	// Paced, in open loop, keeps consecutive sends at least half a period
	// (1/(2×Rate)) apart, so that after a stall of the target the calls
	// that fell due go out at twice Rate at most while the schedule catches
	// up, not all at once. Calls on schedule are not delayed (only a call
	// more than a period and 5 ms behind waits for a slot). loadgen sets
	// it for targets that are not on this machine.
	Paced bool
	// MaxLatency is the largest latency the histograms tell apart. Default
	// DefaultMaxLatency, or 2×Timeout if that is larger.
	MaxLatency time.Duration
	// Seed seeds the op picker. Default 0 (a fixed seed: runs pick the same
	// sequence per worker).
	Seed uint64
}

// Validate reports the first field out of range.
func (c Config) Validate() error {
	switch {
	case c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) || c.Rate > 1e8:
		return fmt.Errorf("%w: Rate %v: want 0 (closed loop) up to 1e8 calls/s", ErrBadConfig, c.Rate)
	case c.Duration < 0:
		return fmt.Errorf("%w: Duration %v: want ≥ 0", ErrBadConfig, c.Duration)
	case c.Calls < 0:
		return fmt.Errorf("%w: Calls %d: want ≥ 0", ErrBadConfig, c.Calls)
	case c.Rate > 0 && c.Calls > 0 && float64(c.Calls)/c.Rate > float64(math.MaxInt64/2)/1e9:
		return fmt.Errorf("%w: Calls %d at Rate %v takes too long", ErrBadConfig, c.Calls, c.Rate)
	case c.Rate > 0 && c.Rate*(c.Duration+c.WarmUp).Seconds() > 1e12:
		return fmt.Errorf("%w: Rate × Duration is more than 1e12 calls", ErrBadConfig)
	case c.WarmUp < 0:
		return fmt.Errorf("%w: WarmUp %v: want ≥ 0", ErrBadConfig, c.WarmUp)
	case c.Workers < 0 || c.Workers > 1_000_000:
		return fmt.Errorf("%w: Workers %d: want 0 (default) up to 1000000", ErrBadConfig, c.Workers)
	case c.Timeout < 0:
		return fmt.Errorf("%w: Timeout %v: want ≥ 0", ErrBadConfig, c.Timeout)
	case c.Interval != 0 && c.Interval < 10*time.Millisecond:
		return fmt.Errorf("%w: Interval %v: want 0 (default 1s) or ≥ 10ms", ErrBadConfig, c.Interval)
	case c.MaxLatency != 0 && c.MaxLatency < time.Millisecond:
		return fmt.Errorf("%w: MaxLatency %v: want 0 (default) or ≥ 1ms", ErrBadConfig, c.MaxLatency)
	}
	return nil
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.Label == "" {
		c.Label = "run"
	}
	if c.Duration == 0 && c.Calls == 0 {
		c.Duration = DefaultDuration
	}
	if c.Workers == 0 {
		if c.Rate > 0 {
			c.Workers = min(max(int(c.Rate/10), 64), 4096)
		} else {
			c.Workers = DefaultClosedWorkers
		}
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Classify == nil {
		c.Classify = Classify
	}
	if c.MaxLatency == 0 {
		c.MaxLatency = max(DefaultMaxLatency, 2*c.Timeout)
	}
	return c
}

// Tick is the progress of a run after one interval.
type Tick struct {
	// Label is Config.Label.
	Label string
	// WarmUp is true while the warm-up runs; nothing is recorded then.
	WarmUp bool
	// Elapsed is the time since the measured window began (since the start
	// during the warm-up).
	Elapsed time.Duration
	// Planned is the planned measured duration, 0 when unknown (closed loop
	// with a call count).
	Planned time.Duration
	// Calls and Errors are the measured totals so far.
	Calls, Errors int64
	// Rate is the calls/s answered in the last interval.
	Rate float64
	// P99 is the 99th percentile latency of the calls answered in the last
	// interval (0 if none).
	P99 time.Duration
	// Final is true for the last tick of a run.
	Final bool
}

// run is the state shared by the workers of one Run.
type run struct {
	cfg    Config
	load   *Workload
	caller Caller

	start        time.Time // first intended send time
	measureStart time.Time // start + WarmUp
	end          time.Time // closed loop with a duration: when to stop starting calls

	period       float64 // open loop: ns between intended send times
	warmTickets  int64   // open loop: tickets before measureStart
	totalTickets int64   // open loop: warmTickets + measured tickets
	next         atomic.Int64
	nextSend     atomic.Int64 // Paced: unix ns before which the next send waits
	paused       atomic.Int64 // ns of 429 pauses, for Result.Paused
	// sendBy is, in open loop, the latest time (before the shift) a ticket
	// is still sent: the schedule's end plus a grace. Past it, the target
	// cannot keep up and the tickets left are counted in unsent instead.
	sendBy     time.Time
	unsent     atomic.Int64
	stopped    atomic.Pointer[string] // why the run ended early; nil: it did not
	stopCh     chan struct{}          // closed with stopped, wakes sleeping workers
	pauseUntil atomic.Int64           // unix ns before which nobody sends (429)

	// Open loop: every 429 pause moves the rest of the schedule back by the
	// pause's length, so that sending resumes at the asked rate where it
	// stopped rather than bursting out every call that fell due during the
	// pause. Latency is measured from the moved intended times.
	shift      atomic.Int64 // ns added to every intended time to get its send time
	pauseMu    sync.Mutex   // serialises pause
	pauseBegan time.Time    // start of the pause in force
	shiftBase  int64        // shift before the pause in force

	recs  []*recorder
	maxUS int64

	reqOnce  sync.Once // startMeasuring
	reqStart int64     // the caller's Requests() when the measured window began
}

// Run runs cfg's load of the workload against caller and returns what it
// measured. It returns when every call it started has ended. When ctx is
// cancelled it stops sending, waits for calls in flight, and returns the
// result so far together with ctx's error.
func Run(ctx context.Context, cfg Config, load *Workload, caller Caller) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if load == nil || caller == nil {
		return nil, ErrNoWorkload
	}
	cfg = cfg.withDefaults()
	r := &run{cfg: cfg, load: load, caller: caller, maxUS: cfg.MaxLatency.Microseconds(), stopCh: make(chan struct{})}
	nrec := min(cfg.Workers, max(8, 4*runtime.GOMAXPROCS(0)))
	r.recs = make([]*recorder, nrec)
	for i := range r.recs {
		r.recs[i] = newRecorder(load, r.maxUS)
	}

	r.start = time.Now()
	r.measureStart = r.start.Add(cfg.WarmUp)
	if cfg.Rate > 0 {
		r.period = 1e9 / cfg.Rate
		r.warmTickets = int64(math.Ceil(cfg.WarmUp.Seconds() * cfg.Rate))
		measured := cfg.Calls
		if measured == 0 {
			measured = max(1, int64(math.Ceil(cfg.Duration.Seconds()*cfg.Rate)))
		}
		r.totalTickets = r.warmTickets + measured
		planned := time.Duration(float64(r.totalTickets) * r.period)
		r.sendBy = r.start.Add(planned + max(time.Second, planned/10, cfg.Timeout))
	} else if cfg.Calls == 0 {
		r.end = r.measureStart.Add(cfg.Duration)
	}

	col := newCollector(r)
	done := make(chan struct{})
	var colWG sync.WaitGroup
	colWG.Add(1)
	go func() {
		defer colWG.Done()
		col.loop(done)
	}()

	var wg sync.WaitGroup
	for i := 0; i < cfg.Workers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
			rec := r.recs[i%len(r.recs)]
			if cfg.Rate > 0 {
				r.openWorker(ctx, rec, rng)
			} else {
				r.closedWorker(ctx, rec, rng)
			}
		}(i)
	}
	wg.Wait()
	finished := time.Now()
	close(done)
	colWG.Wait()

	res := r.result(col, finished)
	return res, ctx.Err()
}

// openWorker sends the calls of the tickets it claims, each at its intended
// time, and measures each from that time.
func (r *run) openWorker(ctx context.Context, rec *recorder, rng *rand.Rand) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var ct callTimeout
	defer ct.stop()
	for {
		i := r.next.Add(1) - 1
		if i >= r.totalTickets {
			return
		}
		intended := r.start.Add(time.Duration(float64(i) * r.period))
		now, shift, ok := r.waitUntil(ctx, timer, intended, true)
		if !ok {
			return
		}
		if now.After(r.sendBy.Add(shift)) {
			r.abandonTickets(i)
			return
		}
		if r.cfg.Paced {
			// Only a call catching up, more than paceSlack or a period
			// behind its time, waits for a pacing slot: on schedule, timer
			// jitter alone (often a millisecond) would make calls queue
			// behind each other. After that wait it checks the schedule and
			// any 429 pause again.
			behind := now.Sub(intended.Add(shift)) >= max(time.Duration(r.period), paceSlack)
			for {
				if now, ok = r.paceSend(ctx, timer, now, behind); !ok {
					return
				}
				if p := r.pauseUntil.Load(); p == 0 || now.UnixNano() >= p {
					break
				}
				if now, shift, ok = r.waitUntil(ctx, timer, intended, true); !ok {
					return
				}
			}
		}
		if i >= r.warmTickets {
			r.startMeasuring()
		}
		op := r.load.pick(rng.Float64())
		// now (read by waitUntil) starts the call's timeout: the call may
		// start after its intended time.
		err := r.call(ctx, &ct, now, op)
		doneAt := time.Now()
		if cancelled(ctx) {
			return // the run was cancelled: this call says nothing about the server
		}
		// From the intended time in the schedule in force when it was sent:
		// a 429 pause moved it back (see run.shift).
		r.finish(rec, op, doneAt.Sub(intended.Add(shift)), err, i >= r.warmTickets)
	}
}

// paceSlack is how late a Paced call may be and still count as on
// schedule: more than a timer's usual oversleep, far less than a stall.
const paceSlack = 5 * time.Millisecond

// paceSend takes the next send slot of a Paced open loop: now, unless
// behind (the call is catching up) and the last send was less
// than half a period ago; it waits for the slot and returns the time of
// sending. A call on schedule never waits but still takes its slot, so
// the calls catching up are spaced from it too.
func (r *run) paceSend(ctx context.Context, timer *time.Timer, now time.Time, behind bool) (time.Time, bool) {
	gap := int64(r.period / 2)
	for {
		slot := r.nextSend.Load()
		at := now.UnixNano()
		if behind {
			at = max(at, slot)
		}
		if !r.nextSend.CompareAndSwap(slot, max(slot, at+gap)) {
			continue
		}
		if at <= now.UnixNano() {
			return now, true
		}
		timer.Reset(time.Duration(at - now.UnixNano()))
		select {
		case <-ctx.Done():
			return time.Time{}, false
		case <-r.stopCh:
			return time.Time{}, false
		case <-timer.C:
		}
		return time.Now(), true
	}
}

// closedWorker sends its next call as soon as the last one is answered.
// The clock is read once per call: the end of one call is the start of the
// next, so the few dozen nanoseconds of recording between them count toward
// the next call's latency rather than costing a second clock read (about
// 100 ns on a VM's clock source, the engine's largest own cost).
func (r *run) closedWorker(ctx context.Context, rec *recorder, rng *rand.Rand) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var ct callTimeout
	defer ct.stop()
	var sent time.Time
	for {
		if r.pauseUntil.Load() != 0 || sent.IsZero() {
			if r.cfg.Calls > 0 && r.next.Load() >= r.cfg.Calls {
				return // every measured call is claimed: no pause to sleep out
			}
			if _, _, ok := r.waitUntil(ctx, timer, time.Time{}, false); !ok {
				return
			}
			sent = time.Now()
		} else if cancelled(ctx) || r.stopped.Load() != nil {
			return
		}
		measured := !sent.Before(r.measureStart)
		if measured {
			if r.cfg.Calls > 0 {
				if r.next.Add(1) > r.cfg.Calls {
					return
				}
			} else if !sent.Before(r.end) {
				return
			}
			r.startMeasuring()
		}
		op := r.load.pick(rng.Float64())
		err := r.call(ctx, &ct, sent, op)
		doneAt := time.Now()
		if cancelled(ctx) {
			return
		}
		r.finish(rec, op, doneAt.Sub(sent), err, measured)
		sent = doneAt
	}
}

// waitUntil sleeps until t (plus the schedule's shift when shifted) and
// past any 429 pause, and returns the time it last read (zero when it read
// none) and the shift it waited for; false when ctx ended or the run was
// stopped. A zero t with no pause in force returns at once without reading
// the clock (the closed loop's common case). The shift is read on every
// wake-up, so a pause that begins while a worker sleeps moves its call back
// too.
func (r *run) waitUntil(ctx context.Context, timer *time.Timer, t time.Time, shifted bool) (time.Time, time.Duration, bool) {
	for {
		if cancelled(ctx) || r.stopped.Load() != nil {
			return time.Time{}, 0, false
		}
		if t.IsZero() && r.pauseUntil.Load() == 0 {
			return time.Time{}, 0, true
		}
		now := time.Now()
		wake := t
		var shift time.Duration
		if shifted {
			shift = time.Duration(r.shift.Load())
			wake = t.Add(shift)
		}
		if p := r.pauseUntil.Load(); p > 0 {
			if pt := time.Unix(0, p); pt.After(wake) {
				wake = pt
			}
		}
		if !r.end.IsZero() && wake.After(r.end) {
			// A closed loop's pause ends with the run: the worker then
			// sees the end and stops instead of sleeping past it.
			wake = r.end
		}
		d := wake.Sub(now)
		if d <= 0 {
			return now, shift, true
		}
		timer.Reset(d)
		select {
		case <-ctx.Done():
			return time.Time{}, 0, false
		case <-r.stopCh:
			return time.Time{}, 0, false
		case <-timer.C:
		}
	}
}

// abandonTickets ends an open loop that fell behind its schedule for good:
// ticket i (claimed, not sent) and every ticket nobody claimed yet are
// counted as unsent if they are measured ones. Tickets other workers
// claimed come here one by one.
func (r *run) abandonTickets(i int64) {
	if i >= r.warmTickets {
		r.unsent.Add(1)
	}
	if prev := r.next.Swap(r.totalTickets); prev < r.totalTickets {
		r.unsent.Add(r.totalTickets - max(prev, r.warmTickets))
	}
}

// stop ends the run early for reason: no call is sent any more; calls in
// flight finish and are recorded.
func (r *run) stop(reason string) {
	if r.stopped.CompareAndSwap(nil, &reason) {
		close(r.stopCh)
	}
}

// cancelled polls ctx without the lock that Err takes.
func cancelled(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	default:
		return false
	}
}

// timeoutSlack is how much of Timeout a worker's reused call context may
// have used up before it is replaced: a call's timeout is Timeout to within
// 1/timeoutSlack.
const timeoutSlack = 100

// callTimeout is a worker's context for its calls when Timeout is set. A
// context with a deadline costs an allocation and a runtime timer; made per
// call it was 18.6 % of loadgen's CPU in batch mode (make run). A worker
// runs one call at a time, so it reuses one context while the deadline is
// still at least Timeout·(1-1/timeoutSlack) away and replaces it (cancelling
// the old one: none of its calls is pending) otherwise; a 10 s timeout then
// costs one context per 100 ms per worker instead of one per call.
type callTimeout struct {
	ctx      context.Context
	cancel   context.CancelFunc
	deadline time.Time
}

// stop releases the current context; the worker's calls are done.
func (t *callTimeout) stop() {
	if t.cancel != nil {
		t.cancel()
	}
}

// call runs op under ctx and, when Timeout is set, a deadline Timeout
// (to within 1/timeoutSlack) after now, the call's start.
func (r *run) call(ctx context.Context, ct *callTimeout, now time.Time, op *Op) error {
	d := r.cfg.Timeout
	if d <= 0 {
		return r.caller.Call(ctx, op)
	}
	if ct.ctx == nil || ct.deadline.Sub(now) < d-d/timeoutSlack || ct.ctx.Err() != nil {
		ct.stop()
		ct.deadline = now.Add(d)
		ct.ctx, ct.cancel = context.WithDeadline(ctx, ct.deadline)
	}
	return r.caller.Call(ct.ctx, op)
}

// finish classifies err, honours a 429's Retry-After, and records the call
// if it is in the measured window.
func (r *run) finish(rec *recorder, op *Op, latency time.Duration, err error, measured bool) {
	kind := ""
	if err != nil {
		out := r.cfg.Classify(err)
		kind = out.Kind
		if out.Throttled && !r.cfg.IgnoreRetryAfter {
			r.pause(out.RetryAfter)
		}
	}
	if measured {
		rec.record(op, latency, kind, err != nil)
	}
}

// pause stops all sending for d (DefaultRetryAfter when d ≤ 0). In open
// loop it also moves the rest of the schedule back by the time from the
// pause's beginning to its (possibly extended) end, so the calls due during
// the pause go out at the asked rate after it, not all at once.
func (r *run) pause(d time.Duration) {
	if d <= 0 {
		d = DefaultRetryAfter
	}
	if d > MaxRetryAfter {
		r.stop(fmt.Sprintf("the server asked for a pause of %v (Retry-After), longer than the %v a run waits out", d, MaxRetryAfter))
		return
	}
	now := time.Now()
	until := now.Add(d).UnixNano()
	r.pauseMu.Lock()
	defer r.pauseMu.Unlock()
	cur := r.pauseUntil.Load()
	if cur >= until {
		return
	}
	if cur < now.UnixNano() { // no pause in force: a new one begins now
		r.pauseBegan = now
		r.shiftBase = r.shift.Load()
	}
	r.paused.Add(until - max(cur, now.UnixNano()))
	r.pauseUntil.Store(until)
	if r.cfg.Rate > 0 {
		r.shift.Store(r.shiftBase + until - r.pauseBegan.UnixNano())
	}
}
