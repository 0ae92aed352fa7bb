package ring

import "context"

// Single-producer mode (WithSingleProducer).
//
// With one producer there is nothing to arbitrate, so the claim cursor
// doubles as the commit cursor: the producer writes its values, then moves
// claim past them with one compare-and-swap, and the consumer reads claim
// instead of per-slot commit markers. That is one locked instruction per
// publish instead of two (the add that claims and the store that commits),
// and the consumer touches the producer's line once per Drain, not once per
// item. A producer never claims before it has space, so a cancelled
// publish leaves no hole.
//
// Close needs a handshake, because the producer may have loaded "open"
// just before Close: the consumer declares the ring finished by swapping
// claim from its own cursor to cursor|finishedBit, and the producer commits
// with a swap from its sequence. Whichever swap wins decides: either the
// consumer sees the item, or the producer learns the ring is finished and
// returns ErrClosed with nothing delivered.

// finishedBit in claim marks a single-producer ring the consumer has
// declared finished (closed and fully drained).
const finishedBit = 1 << 63

// WithSingleProducer declares that at most one goroutine publishes at a
// time (Publish, PublishBatch and TryPublish are never called
// concurrently with each other). The ring then commits each publish with
// one atomic operation instead of two. Every other guarantee is unchanged.
// A concurrent publish is detected when two producers race for the same
// sequence and panics rather than lose an item.
func WithSingleProducer() Option {
	return func(o *options) error {
		o.singleProducer = true
		return nil
	}
}

// commitSingle makes [s, s+n) visible, or reports false if the consumer
// declared the ring finished first.
func (r *Ring[T]) commitSingle(s, n uint64) bool {
	if r.claim.CompareAndSwap(s, s+n) {
		r.spNext = s + n
		if r.parked.Load() != 0 {
			r.wakeConsumer()
		}
		return true
	}
	if r.claim.Load()&finishedBit == 0 {
		panic("ring: concurrent publish on a WithSingleProducer ring")
	}
	return false
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

// finishedSingle is finished for single-producer mode: it claims the end
// of the ring with the finishedBit handshake.
func (r *Ring[T]) finishedSingle() bool {
	if !r.closed.Load() {
		return false
	}
	return r.claim.Load() == r.next|finishedBit || r.claim.CompareAndSwap(r.next, r.next|finishedBit)
}
