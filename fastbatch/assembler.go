package fastbatch

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/cpu"
)

// batch is what the assembler hands a dispatcher: calls in send order.
type batch struct {
	calls []*call
	bytes int
}

var batchPool = sync.Pool{New: func() any { return new(batch) }}

func getBatch() *batch { return batchPool.Get().(*batch) }

func putBatch(b *batch) {
	clear(b.calls)
	b.calls = b.calls[:0]
	b.bytes = 0
	batchPool.Put(b)
}

// fifo is one band's staging queue: calls drained from the ring but not yet
// in a batch. Owned by the assembler goroutine.
type fifo struct {
	q    []*call
	head int
}

func (f *fifo) len() int     { return len(f.q) - f.head }
func (f *fifo) push(c *call) { f.q = append(f.q, c) }
func (f *fifo) peek() *call  { return f.q[f.head] }
func (f *fifo) pop() *call {
	c := f.q[f.head]
	f.q[f.head] = nil
	f.head++
	if f.head == len(f.q) {
		f.q = f.q[:0]
		f.head = 0
	}
	return c
}

// wireSize bounds a call's encoded size in a batch: codec.AppendRequest's
// 46 bytes around method and params (separator included) plus the wire id,
// counted at its widest (20 digits) since ids grow for the client's
// lifetime, so MaxBatchBytes holds however long it has run. (A method that
// needs JSON escapes adds its escapes; real ones need none.)
func wireSize(c *call) int { return len(c.method) + len(c.params) + 66 }

// assembler is the single goroutine that drains the band rings, highest
// band first, into batches and hands them to the dispatchers.
//
// Waking: producers publish, then load parked; the assembler stores parked,
// then re-checks every ring. Both are sequentially consistent atomics, so at
// least one side sees the other (no lost wake-up), and producers pay for a
// channel send only while the assembler is parked waiting for data.
type assembler struct {
	c *Client

	parked atomic.Bool
	_      cpu.CacheLinePad
	// inflight counts batches handed to dispatchers and not yet finished.
	inflight atomic.Int32
	_        cpu.CacheLinePad
	wake     chan struct{}

	staging     []fifo
	staged      int
	stagedBytes int
	scratch     []*call
	timer       *time.Timer
}

func newAssembler(c *Client) *assembler {
	a := &assembler{
		c:       c,
		wake:    make(chan struct{}, 1),
		staging: make([]fifo, c.set.bands),
	}
	return a
}

// poke wakes the assembler if it waits, and is otherwise remembered once.
func (a *assembler) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// wakeIfParked is the producers' side: a wake-up costs only while parked.
func (a *assembler) wakeIfParked() {
	if a.parked.Load() {
		a.poke()
	}
}

// limit is the batch size in force: MaxBatchSize or a smaller learned limit.
func (a *assembler) limit() int {
	n := a.c.set.maxBatchSize
	if l := a.c.snd.limit(); l > 0 && l < n {
		n = l
	}
	return n
}

// fill tops up each band's staging queue from its ring, up to one batch per
// band, so rings keep back-pressure on producers.
func (a *assembler) fill() {
	capPerBand := a.limit()
	if cap(a.scratch) < capPerBand {
		a.scratch = make([]*call, 0, capPerBand)
	}
	for b := len(a.staging) - 1; b >= 0; b-- {
		st := &a.staging[b]
		room := capPerBand - st.len()
		if room <= 0 {
			continue
		}
		got := a.c.bands[b].Drain(a.scratch[:0:room])
		for i, cl := range got {
			st.push(cl)
			a.stagedBytes += wireSize(cl)
			got[i] = nil
		}
		a.staged += len(got)
	}
}

// ringsEmpty reports whether every ring is empty.
func (a *assembler) ringsEmpty() bool {
	for _, r := range a.c.bands {
		if r.Len() > 0 {
			return false
		}
	}
	return true
}

// oldest returns the enqueue time of the oldest staged call.
func (a *assembler) oldest() int64 {
	t := int64(1<<63 - 1)
	for i := range a.staging {
		if st := &a.staging[i]; st.len() > 0 {
			t = min(t, st.peek().enqueued)
		}
	}
	return t
}

// ready reports whether a batch should leave now, given a free slot.
func (a *assembler) ready(now int64, flushing bool) bool {
	if a.staged == 0 {
		return false
	}
	s := &a.c.set
	return flushing || s.eager || a.staged >= a.limit() || a.stagedBytes >= s.maxBatchBytes ||
		now-a.oldest() >= int64(s.maxWait)
}

// build takes up to one batch from staging: calls older than AgingLimit
// first (oldest band head first), then highest band first.
func (a *assembler) build(now int64) *batch {
	b := getBatch()
	limit := a.limit()
	aging := int64(a.c.set.agingLimit)
	for len(b.calls) < limit {
		band, t := -1, int64(1<<63-1)
		for i := range a.staging {
			st := &a.staging[i]
			if st.len() > 0 {
				if e := st.peek().enqueued; now-e >= aging && e < t {
					band, t = i, e
				}
			}
		}
		if band < 0 || !a.take(b, band, limit) {
			break
		}
	}
	for i := len(a.staging) - 1; i >= 0 && len(b.calls) < limit; i-- {
		for a.staging[i].len() > 0 && len(b.calls) < limit {
			if !a.take(b, i, limit) {
				return b
			}
		}
	}
	return b
}

// take moves the head of band into b unless it would overflow
// MaxBatchBytes (a single oversized call still goes alone).
func (a *assembler) take(b *batch, band, limit int) bool {
	st := &a.staging[band]
	size := wireSize(st.peek())
	if len(b.calls) > 0 && b.bytes+size > a.c.set.maxBatchBytes {
		return false
	}
	cl := st.pop()
	b.calls = append(b.calls, cl)
	b.bytes += size
	a.staged--
	a.stagedBytes -= size
	return true
}

// run is the assembler loop. It returns once Stop closed the rings and
// everything queued was handed to a dispatcher.
func (a *assembler) run() {
	a.timer = time.NewTimer(time.Hour)
	a.timer.Stop()
	defer a.timer.Stop()
	maxInflight := int32(a.c.set.maxConcurrent)
	for {
		flushing := a.c.life.Load() >= lifeStopping
		a.fill()
		now := a.c.now()
		for a.inflight.Load() < maxInflight && a.ready(now, flushing) {
			b := a.build(now)
			a.inflight.Add(1)
			a.c.batches <- b
			if s := &a.c.set; s.eager && !flushing && a.staged < a.limit() {
				// Another slot is free, but what is staged is only the
				// tail that arrived while this batch was built. The
				// callers the dispatchers just answered are runnable:
				// yield once so they publish before the next batch is
				// cut, instead of sending a train of tiny batches.
				runtime.Gosched()
			}
			a.fill()
		}
		slotFree := a.inflight.Load() < maxInflight
		if flushing && a.staged == 0 {
			if a.ringsEmpty() {
				return
			}
			// A producer claimed a slot but has not published yet.
			runtime.Gosched()
			continue
		}
		// Wait for data (only useful with a free slot and room in staging),
		// a free slot, or the oldest call's MaxWait.
		wantData := slotFree && a.staged < a.limit()
		if wantData {
			a.parked.Store(true)
			if !a.ringsEmpty() {
				a.parked.Store(false)
				// A publish is in flight (claimed, not yet committed) or
				// just landed; let its producer finish before looking again.
				runtime.Gosched()
				continue
			}
		}
		armed := false
		if slotFree && a.staged > 0 && !flushing {
			d := time.Duration(a.oldest() + int64(a.c.set.maxWait) - a.c.now())
			if d <= 0 {
				a.parked.Store(false)
				continue
			}
			a.timer.Reset(d)
			armed = true
		}
		if armed {
			select {
			case <-a.wake:
			case <-a.timer.C:
			}
			a.timer.Stop()
		} else {
			<-a.wake
		}
		a.parked.Store(false)
		if wantData {
			// Smart batching on few cores: the producer that woke us is
			// usually one of many runnable ones. Yielding once lets them
			// publish before we drain, so the batch holds all of them
			// instead of one; on an idle client it costs well under a
			// microsecond.
			runtime.Gosched()
		}
	}
}

// failQueued resolves every call still in the rings or staging with err;
// used only when the assembler never ran.
func (a *assembler) failQueued(err error) {
	for b := range a.staging {
		st := &a.staging[b]
		for st.len() > 0 {
			a.c.snd.finish(st.pop(), nil, err, nil)
		}
		for {
			got := a.c.bands[b].Drain(make([]*call, 0, 64))
			if len(got) == 0 {
				break
			}
			for _, cl := range got {
				a.c.snd.finish(cl, nil, err, nil)
			}
		}
	}
	a.staged, a.stagedBytes = 0, 0
}
