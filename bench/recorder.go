package bench

import (
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/sys/cpu"
)

// Histogram precision: the overall histogram keeps 3 significant digits
// (0.1%), the per-method, per-band and per-interval ones 2 (1%), which keeps
// a recorder at a few hundred KB however many methods a workload has.
const (
	totalDigits  = 3
	detailDigits = 2
)

// recorder holds the histograms and counters that a group of workers
// records into. Workers are spread over a few recorders (about 4 per CPU) so
// a recorder's lock is rarely contended; the collector takes the same lock
// once per interval to swap out the interval histogram. Latencies are in
// microseconds.
type recorder struct {
	_        cpu.CacheLinePad
	mu       sync.Mutex
	maxUS    int64
	total    *hdrhistogram.Histogram
	methods  []*hdrhistogram.Histogram
	bands    []*hdrhistogram.Histogram
	interval *hdrhistogram.Histogram
	calls    int64
	errors   int64
	icalls   int64 // since the last collect
	ierrors  int64
	kinds    map[string]int64
	clipped  int64 // calls slower than maxUS, recorded as maxUS
	_        cpu.CacheLinePad
}

func newHist(maxUS int64, digits int) *hdrhistogram.Histogram {
	return hdrhistogram.New(1, maxUS, digits)
}

func newRecorder(load *Workload, maxUS int64) *recorder {
	rec := &recorder{
		maxUS:    maxUS,
		total:    newHist(maxUS, totalDigits),
		methods:  make([]*hdrhistogram.Histogram, len(load.methods)),
		bands:    make([]*hdrhistogram.Histogram, len(load.bands)),
		interval: newHist(maxUS, detailDigits),
		kinds:    map[string]int64{},
	}
	for i := range rec.methods {
		rec.methods[i] = newHist(maxUS, detailDigits)
	}
	for i := range rec.bands {
		rec.bands[i] = newHist(maxUS, detailDigits)
	}
	return rec
}

// toMicros clamps a latency into a histogram's range, reporting whether it
// was above it.
func toMicros(d time.Duration, maxUS int64) (us int64, clipped bool) {
	us = d.Microseconds()
	if us < 1 {
		return 1, false
	}
	return min(us, maxUS), us > maxUS
}

// record adds one measured call. Failed calls are recorded too: a timeout
// that took 10 s is part of the latency the user sees.
func (rec *recorder) record(op *Op, latency time.Duration, kind string, failed bool) {
	us, clipped := toMicros(latency, rec.maxUS)
	rec.mu.Lock()
	if clipped {
		rec.clipped++
	}
	// Values are clamped into range above, so RecordValue cannot fail.
	_ = rec.total.RecordValue(us)
	_ = rec.methods[op.methodIndex].RecordValue(us)
	_ = rec.bands[op.bandIndex].RecordValue(us)
	_ = rec.interval.RecordValue(us)
	rec.calls++
	rec.icalls++
	if failed {
		rec.errors++
		rec.ierrors++
		rec.kinds[kind]++
	}
	rec.mu.Unlock()
}

// collector turns the recorders' interval data into the timeline and the
// progress ticks. It runs on one goroutine.
type collector struct {
	r        *run
	scratch  *hdrhistogram.Histogram
	timeline []Interval
	calls    int64
	errors   int64
}

func newCollector(r *run) *collector {
	return &collector{r: r, scratch: newHist(r.maxUS, detailDigits)}
}

func (c *collector) planned() time.Duration {
	if c.r.cfg.Rate > 0 {
		return time.Duration(float64(c.r.totalTickets-c.r.warmTickets) * c.r.period)
	}
	if c.r.cfg.Calls > 0 {
		return 0
	}
	return c.r.cfg.Duration
}

// loop ticks every interval until done is closed. Warm-up ticks carry no
// data; measured ticks are aligned on the measured start.
func (c *collector) loop(done <-chan struct{}) {
	r := c.r
	iv := r.cfg.Interval
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for now := time.Now(); now.Before(r.measureStart); now = time.Now() {
		wait := min(iv, r.measureStart.Sub(now))
		timer.Reset(wait)
		select {
		case <-done:
			c.collect(r.measureStart, time.Now(), true)
			return
		case <-timer.C:
		}
		if time.Now().Before(r.measureStart) && r.cfg.OnTick != nil {
			r.cfg.OnTick(Tick{Label: r.cfg.Label, WarmUp: true, Elapsed: time.Since(r.start), Planned: c.planned()})
		}
	}
	last := r.measureStart
	for k := 1; ; {
		next := r.measureStart.Add(time.Duration(k) * iv)
		timer.Reset(time.Until(next))
		select {
		case <-done:
			c.collect(last, time.Now(), true)
			return
		case <-timer.C:
		}
		now := time.Now()
		c.collect(last, now, false)
		last = now
		// The next tick is the first boundary at least half an interval
		// ahead. A collector held up for several intervals (a slow OnTick,
		// a descheduled process) must not then tick through the missed ones
		// back to back, nor stop just short of a boundary: either would
		// collect a sliver of microseconds, whose calls/s is a meaningless
		// spike in the timeline and the plot. Intervals stay within
		// [iv/2, 3iv/2] unless the collector itself is late.
		k = int((now.Sub(r.measureStart)+iv/2)/iv) + 1
	}
}

// startMeasuring reads the caller's request count once, just before the
// first measured call is sent, so Requests counts what the measured window
// sent. (The collector used to read it when it woke up after the warm-up,
// which can be milliseconds late on a busy machine, or later still behind a
// slow OnTick: the requests sent meanwhile went missing.) Every worker calls
// it before a measured call; sync.Once holds them all until it is done.
func (r *run) startMeasuring() {
	r.reqOnce.Do(func() {
		if rc, ok := r.caller.(RequestCounter); ok {
			r.reqStart = rc.Requests()
		}
	})
}

// collect swaps out every recorder's interval data for [from, to).
func (c *collector) collect(from, to time.Time, final bool) {
	r := c.r
	c.scratch.Reset()
	var calls, errs int64
	for _, rec := range r.recs {
		rec.mu.Lock()
		c.scratch.Merge(rec.interval)
		rec.interval.Reset()
		calls += rec.icalls
		errs += rec.ierrors
		rec.icalls, rec.ierrors = 0, 0
		rec.mu.Unlock()
	}
	c.calls += calls
	c.errors += errs
	length := to.Sub(from)
	if length > 0 || calls > 0 {
		iv := Interval{Offset: from.Sub(r.measureStart), Length: length, Calls: calls, Errors: errs}
		if calls > 0 {
			iv.Latency = &Histogram{h: c.scratch.Clone()}
		}
		c.timeline = append(c.timeline, iv)
	}
	if r.cfg.OnTick != nil {
		t := Tick{Label: r.cfg.Label, Elapsed: to.Sub(r.measureStart), Planned: c.planned(),
			Calls: c.calls, Errors: c.errors, Final: final}
		if length > 0 {
			t.Rate = float64(calls) / length.Seconds()
		}
		if final && t.Elapsed > 0 {
			t.Rate = float64(c.calls) / t.Elapsed.Seconds() // the run's average
		}
		if calls > 0 {
			t.P99 = time.Duration(c.scratch.ValueAtQuantile(99)) * time.Microsecond
		}
		r.cfg.OnTick(t)
	}
}

// result merges the recorders into a Result.
func (r *run) result(c *collector, finished time.Time) *Result {
	res := &Result{
		Version:      ResultVersion,
		Label:        r.cfg.Label,
		Target:       r.cfg.Target,
		Loop:         "closed",
		Workers:      r.cfg.Workers,
		RateAsked:    r.cfg.Rate,
		Start:        r.measureStart,
		Elapsed:      max(0, finished.Sub(r.measureStart)),
		Interval:     r.cfg.Interval,
		Latency:      &Histogram{h: newHist(r.maxUS, totalDigits)},
		Methods:      map[string]*Histogram{},
		Bands:        map[int]*Histogram{},
		ErrorsByKind: map[string]int64{},
		Timeline:     c.timeline,
		Sources:      1,
	}
	if r.cfg.Rate > 0 {
		res.Loop = "open"
	}
	for _, m := range r.load.methods {
		res.Methods[m] = &Histogram{h: newHist(r.maxUS, detailDigits)}
	}
	for _, b := range r.load.bands {
		res.Bands[b] = &Histogram{h: newHist(r.maxUS, detailDigits)}
	}
	for _, rec := range r.recs {
		rec.mu.Lock()
		res.Latency.h.Merge(rec.total)
		for i, h := range rec.methods {
			res.Methods[r.load.methods[i]].h.Merge(h)
		}
		for i, h := range rec.bands {
			res.Bands[r.load.bands[i]].h.Merge(h)
		}
		res.Calls += rec.calls
		res.Errors += rec.errors
		res.Clipped += rec.clipped
		for k, n := range rec.kinds {
			res.ErrorsByKind[k] += n
		}
		rec.mu.Unlock()
	}
	res.Unsent = r.unsent.Load()
	// What was asked, less the part after the run ended (pauses are kept
	// as one union, so only the last can reach past the end).
	res.Paused = time.Duration(r.paused.Load() - max(0, r.pauseUntil.Load()-finished.UnixNano()))
	if p := r.stopped.Load(); p != nil {
		res.Stopped = *p
	}
	r.startMeasuring() // no measured call at all: no requests either
	if rc, ok := r.caller.(RequestCounter); ok {
		res.Requests = max(0, rc.Requests()-r.reqStart)
	} else {
		res.Requests = res.Calls
	}
	return res
}
