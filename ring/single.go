package ring

import (
	"context"
	"math"
	"runtime"
)

// Single-producer mode (WithSingleProducer).
//
// With one producer there is nothing to arbitrate, so the claim cursor
// doubles as the commit cursor: the producer writes its values, then moves
// claim past them with one store, and the consumer reads claim instead of
// per-slot commit markers. The consumer touches the producer's line once
// per Drain, not once per item. A producer never claims before it has
// space, so a cancelled publish leaves no hole.
//
// The store is all a publish writes to shared memory, but two consumer
// events need store→load ordering against it (Dekker's pattern: the
// producer stores claim, then loads the consumer's flags; the consumer
// stores a flag, then loads claim): parking (the producer must see the
// parked flag or the consumer must see the item) and finishing after Close
// (the producer must learn whether its item will be drained). Normally both
// sides would pay a locked instruction for that. Where the kernel offers
// membarrier (linux/amd64, see fence_linux_amd64.go) the ring splits the
// cost asymmetrically: the producer commits with a plain store, and the
// consumer runs a heavy fence (a barrier on every CPU running this
// process) between its flag store and its load of claim. The rare side
// (park, finish) pays microseconds; the hot side (every publish) pays no
// locked instruction. Elsewhere, and under the race detector, the
// producer's store is sequentially consistent and the heavy fence is a
// no-op: the same protocol with symmetric fences.
//
// Finishing: the consumer sets finishingBit in parked, fences, loads claim
// and publishes it as the final cursor (spFinal). Items below it are
// drained; a publish that ends above it was not seen and fails with
// ErrClosed. A producer that sees finishingBit after its store waits for
// spFinal (set right after the fence, in the same call) to learn which.

const (
	// parkedBit in parked: the consumer sleeps in Wait.
	parkedBit = 1 << 0
	// finishingBit in parked: the consumer of a single-producer ring is
	// deciding (or has decided) the final cursor after Close.
	finishingBit = 1 << 1
	// noEnd is spEnd while the final cursor is undecided.
	noEnd = math.MaxUint64
)

// WithSingleProducer declares that at most one goroutine publishes at a
// time (Publish, PublishBatch and TryPublish are never called
// concurrently with each other). The ring then commits each publish with
// one store instead of an atomic add and a store; on linux/amd64 that
// store is a plain one, with no locked instruction (the consumer pays
// for the ordering when it parks, see single.go). Every other guarantee
// is unchanged. Breaking the promise is a data race: the race detector
// reports it, and with the locked commit (off linux/amd64, or under -race)
// a publish that finds the claim cursor moved under it panics rather than
// lose an item silently. The plain-store commit cannot detect it.
func WithSingleProducer() Option {
	return func(o *options) error {
		o.singleProducer = true
		return nil
	}
}

// commitSingle makes [s, s+n) visible, or reports false if the consumer
// declared the ring finished without it. Publish spells it out.
func (r *Ring[T]) commitSingle(s, n uint64) bool {
	if r.light {
		storeRelaxed(&r.claim, s+n)
	} else if !r.claim.CompareAndSwap(s, s+n) {
		concurrentPublish()
	}
	r.spNext = s + n
	if f := r.parked.Load(); f != 0 {
		return r.commitSlow(f, s+n)
	}
	return true
}

// concurrentPublish reports a broken WithSingleProducer promise caught by
// the locked commit's compare-and-swap.
func concurrentPublish() {
	panic("ring: concurrent publish on a WithSingleProducer ring")
}

// commitSlow handles a commit that found the consumer parked or finishing.
func (r *Ring[T]) commitSlow(flags uint32, end uint64) bool {
	if flags&finishingBit != 0 {
		final := r.spFinal.Load()
		for final == 0 {
			// The consumer is between its flag and its decision: a
			// membarrier call away.
			runtime.Gosched()
			final = r.spFinal.Load()
		}
		if end > final-1 {
			return false
		}
	}
	if flags&parkedBit != 0 {
		r.wakeConsumer()
	}
	return true
}

func (r *Ring[T]) tryPublishSingle(v T) bool {
	if r.closed.Load() {
		return false
	}
	s := r.spNext
	if s >= r.spGate+r.size && !r.hasSpace(s+1) {
		return false
	}
	i := s & r.mask
	r.vals[i] = v
	if !r.commitSingle(s, 1) {
		var zero T
		r.vals[i] = zero
		return false
	}
	return true
}

func (r *Ring[T]) publishBatchSingle(ctx context.Context, vs []T) error {
	n := uint64(len(vs))
	s := r.spNext
	if s+n > r.spGate+r.size && !r.hasSpace(s+n) {
		if err := r.waitSpace(ctx, s+n); err != nil {
			return err
		}
	}
	r.copyIn(s, vs)
	if !r.commitSingle(s, n) {
		var zero T
		for i := range n {
			r.vals[(s+i)&r.mask] = zero
		}
		return ErrClosed
	}
	return nil
}

// committedSingle is the end of what the consumer may drain: claim, capped
// at the final cursor once it is decided. Consumer only.
func (r *Ring[T]) committedSingle() uint64 {
	return min(r.claim.Load(), r.spEnd)
}

// finishedSingle is finished for single-producer mode. The first time it
// sees the ring closed it decides the final cursor (see the top of this
// file); from then on the ring is finished once everything below it is
// drained. Consumer only.
func (r *Ring[T]) finishedSingle() bool {
	if r.spEnd == noEnd {
		if !r.closed.Load() {
			return false
		}
		r.parked.Or(finishingBit)
		if r.light {
			heavyFence()
		}
		end := r.claim.Load()
		r.spEnd = end
		r.spFinal.Store(end + 1)
	}
	return r.next >= r.spEnd
}

// lockedCommitsForTest makes New build single-producer rings with the
// locked (symmetric) protocol even where light commits are available, so
// tests cover both. Set only by tests, before any ring is made.
var lockedCommitsForTest bool
