package ring

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// WaitStrategy says how a goroutine waits when it cannot proceed: the
// consumer in [Ring.Wait] while the ring is empty, a producer in
// [Ring.Publish] or [Ring.PublishBatch] while the ring is full.
//
// Every strategy honours the caller's context and [Ring.Close]. The zero
// value is [HybridWait].
type WaitStrategy uint8

const (
	// HybridWait spins briefly, yields the processor a few times, then
	// parks the goroutine. A producer pays for a wake-up (one channel send)
	// only when the consumer is actually parked. It is the default and the
	// right choice when goroutines outnumber cores.
	HybridWait WaitStrategy = iota

	// SpinWait busy-polls and never parks: the lowest wake-up latency, at
	// the price of burning a whole core while waiting. Every 1024 polls it
	// offers its processor to other goroutines (runtime.Gosched), so a
	// goroutine it waits for that shares its P is not held off until the
	// scheduler's 10 ms preemption. Use it only when the waiting goroutine
	// has a core to itself; on an oversubscribed machine it steals time
	// from the goroutines it is waiting for.
	SpinWait

	// YieldWait spins briefly, then polls with runtime.Gosched between
	// checks. It never parks, so it still burns CPU while idle, but lets
	// other goroutines on the same core run.
	YieldWait

	// BlockWait parks at once (after one re-check) and is woken by the
	// other side: cheapest in CPU when idle, highest wake-up latency
	// (a few microseconds).
	BlockWait
)

// String returns the strategy's name.
func (s WaitStrategy) String() string {
	switch s {
	case HybridWait:
		return "hybrid"
	case SpinWait:
		return "spin"
	case YieldWait:
		return "yield"
	case BlockWait:
		return "block"
	}
	return fmt.Sprintf("WaitStrategy(%d)", uint8(s))
}

// valid reports whether s is one of the defined strategies.
func (s WaitStrategy) valid() bool { return s <= BlockWait }

// Tuning of the spin and yield phases. A spin iteration is a couple of
// atomic loads (a few ns); hybridSpins keeps the spin phase under about a
// microsecond, well below the few-µs cost of a park/unpark round trip, so a
// consumer that is fed continuously never parks, and an idle one gives its
// core away quickly (these machines have 2 vCPUs shared by producers and
// consumer: spinning for long starves the very producers being waited for).
const (
	hybridSpins  = 128  // spin iterations before yielding (HybridWait, YieldWait)
	hybridYields = 4    // runtime.Gosched calls before parking (HybridWait)
	ctxCheckMask = 63   // check ctx.Done() every 64 spin iterations (SpinWait)
	spinGosched  = 1023 // runtime.Gosched every 1024 spin iterations (SpinWait)
	// A consumer whose last Drain emptied the ring with fewer than
	// slipItems items (four cache lines of 8-byte values) and finds more
	// at once slips behind the producers (see Ring.Wait) until slipTarget
	// items (at most a quarter of the ring) are claimed or the batch delay
	// has passed. It spins on a private counter and looks at the claim
	// cursor every 16 rounds per target item, within [minSlipChunk,
	// maxSlipChunk] rounds and at most one round per nanosecond of the
	// delay (a round is about 0.3 ns on the machines in BENCHMARKS.md:
	// 20 µs for the full target of 4096; see slipChunkFor).
	slipItems    = 32
	slipTarget   = 4096
	minSlipChunk = 256
	maxSlipChunk = 65536
)

// DefaultBatchDelay is the longest Wait holds a streaming consumer back so
// that it drains runs of items instead of single ones (see
// [WithBatchDelay]).
const DefaultBatchDelay = 100 * time.Microsecond

const (
	// maxBatchDelay bounds WithBatchDelay: a consumer held back longer is
	// a configuration mistake, not a trade-off.
	maxBatchDelay = 10 * time.Millisecond
)

// backoff walks a waiting goroutine through its strategy's phases.
type backoff struct {
	strategy WaitStrategy
	spins    int
	yields   int
}

// step spends one round of waiting (a spin or a yield) and reports whether
// the caller should park instead. It returns ctx.Err() once done is closed;
// in the spin phase the context is polled only every few rounds.
func (b *backoff) step(ctx context.Context, done <-chan struct{}) (park bool, err error) {
	switch b.strategy {
	case SpinWait:
		b.spins++
		if b.spins&ctxCheckMask == 0 {
			if err := pollDone(ctx, done); err != nil {
				return false, err
			}
			if b.spins&spinGosched == 0 {
				runtime.Gosched()
			}
		}
		return false, nil
	case YieldWait:
		if b.spins < hybridSpins {
			b.spins++
			return false, nil
		}
		if err := pollDone(ctx, done); err != nil {
			return false, err
		}
		runtime.Gosched()
		return false, nil
	case HybridWait:
		if b.spins < hybridSpins {
			b.spins++
			return false, nil
		}
		if b.yields < hybridYields {
			b.yields++
			if err := pollDone(ctx, done); err != nil {
				return false, err
			}
			runtime.Gosched()
			return false, nil
		}
	}
	return true, nil
}

// pollDone returns ctx.Err() if done is closed, without blocking.
func pollDone(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return ctx.Err()
	default:
		return nil
	}
}

// options is what the Option functions fill.
type options struct {
	strategy       WaitStrategy
	singleProducer bool
	batchDelay     time.Duration
	batchDelaySet  bool
}

// WithBatchDelay sets how long, at most, [Ring.Wait] holds back a consumer
// that is streaming: one whose last Drain emptied the ring with only a few
// items and that finds more at once. Such a consumer runs close behind the
// producers and pulls the cache lines they are writing over to its own
// core, so every publish pays for cross-core transfers (several times the
// cost of the publish itself, see BENCHMARKS.md). Held back until a run
// of items is there (4096, or a quarter of the ring if smaller) or d has
// passed, it drains whole cache lines the producers are done with.
//
// The default is [DefaultBatchDelay] (100 µs). d = 0 turns the delay off
// (lowest latency per item, lower throughput under a steady stream); d
// must be between 0 and 10 ms. A consumer that found the ring empty, or
// that drained a long run, is never held back, and the delay ends early
// when the ring is closed. SpinWait rings never delay.
func WithBatchDelay(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 || d > maxBatchDelay {
			return fmt.Errorf("ring: batch delay %v out of range (want 0..%v)", d, maxBatchDelay)
		}
		o.batchDelay, o.batchDelaySet = d, true
		return nil
	}
}

// Option configures a Ring in [New]. Options validate their arguments: an
// invalid one makes New return an error.
type Option func(*options) error

// WithWaitStrategy sets how producers and the consumer wait (default
// [HybridWait]).
func WithWaitStrategy(s WaitStrategy) Option {
	return func(o *options) error {
		if !s.valid() {
			return fmt.Errorf("ring: invalid wait strategy %d (want HybridWait, SpinWait, YieldWait or BlockWait)", uint8(s))
		}
		o.strategy = s
		return nil
	}
}

// waiterList parks producers waiting for space without allocating in the
// steady state: each waiter brings a 1-buffered channel from waiterChans,
// registers it, re-checks its condition, and sleeps on it. The consumer,
// after it advances the read cursor, wakes every registered waiter.
//
// No lost wake-up: a waiter increments n (sequentially consistent) before
// it re-checks the read cursor; the consumer stores the read cursor before
// it loads n. One of the two sees the other.
type waiterList struct {
	n     atomic.Int32 // registered waiters; read without the lock as a fast "anyone?" check
	mu    sync.Mutex
	chans []chan struct{}
}

// waiterChans recycles waiter channels; a chan is pointer-shaped, so Put
// does not allocate.
var waiterChans = sync.Pool{New: func() any { return make(chan struct{}, 1) }}

// register adds ch to the list.
func (w *waiterList) register(ch chan struct{}) {
	w.mu.Lock()
	w.chans = append(w.chans, ch)
	w.n.Add(1)
	w.mu.Unlock()
}

// unregister removes ch after its owner stopped waiting. If wakeAll already
// took ch off the list, the token it sent is consumed so ch can be reused.
func (w *waiterList) unregister(ch chan struct{}) {
	w.mu.Lock()
	for i, c := range w.chans {
		if c == ch {
			last := len(w.chans) - 1
			w.chans[i] = w.chans[last]
			w.chans[last] = nil
			w.chans = w.chans[:last]
			w.n.Add(-1)
			w.mu.Unlock()
			return
		}
	}
	w.mu.Unlock()
	// wakeAll sent exactly one token under the lock before dropping ch.
	<-ch
}

// wakeAll wakes every registered waiter.
func (w *waiterList) wakeAll() {
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	for i, ch := range w.chans {
		select {
		case ch <- struct{}{}: // one token per registration, capacity 1
		default: // a token is already there: the waiter wakes anyway
		}
		w.chans[i] = nil
	}
	w.chans = w.chans[:0]
	w.n.Store(0)
	w.mu.Unlock()
}
