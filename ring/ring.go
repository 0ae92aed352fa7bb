package ring

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/cpu"
)

// MaxCapacity is the largest capacity [New] accepts (after rounding up to a
// power of two).
const MaxCapacity = 1 << 30

var (
	// ErrClosed is returned by Publish and PublishBatch after Close, and by
	// Wait once the ring is closed and everything published was drained.
	ErrClosed = errors.New("ring: closed")

	// ErrBatchTooLarge is returned by PublishBatch when the batch has more
	// items than the ring has slots: it could never be published at once.
	ErrBatchTooLarge = errors.New("ring: batch larger than ring capacity")

	// ErrCapacity is returned by New for a capacity ≤ 0 or > MaxCapacity.
	ErrCapacity = errors.New("ring: capacity out of range")
)

// slot is one cell of a multi-producer ring. commit holds the exclusive
// end of the claim that starts at this slot's current sequence s (s+1 for
// a single item, s+n for a batch of n) once every value of that claim is
// written; any value ≤ s is left over from an earlier lap (a claim there
// started at s-size or earlier and so ended by s) and means "not yet".
type slot[T any] struct {
	commit atomic.Uint64
	val    T
}

// Ring is a bounded multi-producer, single-consumer FIFO queue of T.
//
// Publish, TryPublish, PublishBatch, Len, Cap and Close are safe for
// concurrent use by any number of goroutines. Drain and Wait belong to the
// single consumer: they must not be called concurrently with each other or
// themselves (one goroutine, or goroutines handing the role over with
// proper synchronisation).
//
// Items published by one goroutine are drained in the order it published
// them; items of a PublishBatch are drained contiguously.
type Ring[T any] struct {
	_ cpu.CacheLinePad
	// claim is the next sequence to hand out. Producers own this line:
	// every multi-producer Publish does one atomic add here and nothing
	// else; a single-producer ring's one producer stores its commit here
	// (see single.go).
	claim atomic.Uint64
	// gate is a recent value of read (gate ≤ read always holds), kept on
	// the producers' own line: a producer whose claim fits below
	// gate+size needs not touch the consumer's line at all. Only when it
	// does not is read loaded and gate refreshed, about once per lap.
	gate atomic.Uint64
	_    cpu.CacheLinePad
	// read is the consumer's published cursor: every sequence below it has
	// been drained (or skipped), so its slot may be reused. Written once
	// per Drain that made progress.
	read atomic.Uint64
	_    cpu.CacheLinePad
	// parked holds parkedBit while the consumer sleeps in Wait (and, in a
	// single-producer ring, finishingBit once the consumer decides the
	// final cursor after Close; see single.go). Every publish loads
	// it, so it has a line of its own that is written only when the
	// consumer parks or wakes, and stays shared in every producer's cache
	// while data flows.
	parked atomic.Uint32
	// spFinal is the final cursor of a finished single-producer ring,
	// plus one (0 while undecided); written once, next to the flag that
	// announces it (see single.go).
	spFinal atomic.Uint64
	_       cpu.CacheLinePad
	// next and known are private to the consumer: next is the next
	// sequence to drain, known the end of the last claim seen committed
	// (next ≤ known; [next, known) can be drained without loading a
	// commit marker).
	next  uint64
	known uint64
	// short is set when the last Drain emptied the ring but found fewer
	// than slipItems items; slipped counts slip's spin iterations
	// (consumer-private, so spinning on it touches no line a producer
	// writes).
	short   bool
	slipped uint64
	// spEnd is the consumer's copy of the final cursor of a
	// single-producer ring (noEnd while undecided).
	spEnd uint64
	_     cpu.CacheLinePad
	// spNext and spGate belong to the one producer of a WithSingleProducer
	// ring (see single.go): its next sequence and a recent value of read
	// (spGate ≤ read). On a line of their own, they let a publish read
	// nothing another goroutine writes: its only access to a shared line
	// is the commit store on claim. Plain fields: single-producer mode
	// promises publishes are ordered by happens-before, and a violation
	// is a race the race detector reports.
	spNext uint64
	spGate uint64
	_      cpu.CacheLinePad

	// Read-mostly from here on.
	// slots holds the items of a multi-producer ring, each beside its
	// commit marker, so a per-item publish writes one cache line. vals
	// holds the items of a single-producer ring, which needs no markers:
	// packed densely, a word-sized T puts twice the items in each line the
	// consumer pulls over, and Drain copies runs with copy. Exactly one of
	// the two is allocated. (Markers in an array of their own, values dense,
	// helped PublishBatch by a third but cost a per-item multi-producer
	// publish a second contended line: MPSC/impl=ring/producers=2 was 58%
	// slower, p=0.015.)
	slots    []slot[T]
	vals     []T
	mask     uint64
	size     uint64
	strategy WaitStrategy
	// batchDelay and slipTarget drive slip (see WithBatchDelay);
	// batchDelay is 0 when Wait never holds the consumer back.
	batchDelay time.Duration
	slipTarget uint64
	slipChunk  int
	// single is set by WithSingleProducer: claim is then also the commit
	// cursor, items live in vals and there are no commit markers (see
	// single.go).
	single bool
	// light is set on a single-producer ring whose producer commits with
	// a plain store (see single.go and fence_linux_amd64.go).
	light  bool
	closed atomic.Bool
	// wake carries a token to a parked consumer (capacity 1).
	wake chan struct{}
	// space holds producers parked on a full ring.
	space waiterList
	// holes records claims abandoned by producers that gave up (context
	// ended or ring closed) after claiming; the consumer skips them.
	holes holeList
}

// New returns a ring with capacity rounded up to the next power of two. It
// fails with [ErrCapacity] for capacity ≤ 0 or above [MaxCapacity], and with
// an error naming the bad option if an option is invalid. All slots are
// allocated here; publishing and draining allocate nothing.
func New[T any](capacity int, opts ...Option) (*Ring[T], error) {
	if capacity <= 0 || capacity > MaxCapacity {
		return nil, fmt.Errorf("%w: %d (want 1..%d)", ErrCapacity, capacity, MaxCapacity)
	}
	var o options
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	size := uint64(1)
	for size < uint64(capacity) {
		size <<= 1
	}
	delay := DefaultBatchDelay
	if o.batchDelaySet {
		delay = o.batchDelay
	}
	if o.strategy == SpinWait {
		delay = 0
	}
	target := min(slipTarget, max(size/4, 1))
	r := &Ring[T]{
		mask:       size - 1,
		size:       size,
		strategy:   o.strategy,
		batchDelay: delay,
		slipTarget: target,
		slipChunk:  slipChunkFor(target, delay),
		single:     o.singleProducer,
		light:      o.singleProducer && !lockedCommitsForTest && lightCommits(),
		spEnd:      noEnd,
		wake:       make(chan struct{}, 1),
	}
	if r.single {
		r.vals = make([]T, size)
	} else {
		r.slots = make([]slot[T], size)
	}
	return r, nil
}

// Cap returns the number of slots (the capacity given to New, rounded up to
// a power of two).
func (r *Ring[T]) Cap() int { return int(r.size) }

// Len returns a snapshot of the number of slots in use: claimed by a
// producer and not yet drained, including publishes still in flight. It is
// at most Cap. On a closed multi-producer ring whose Wait has returned
// ErrClosed it may stay above 0 by at most the number of publishes that
// raced Close: they claimed a slot, found the ring closed and abandoned it,
// and no consumer is left to skip it.
func (r *Ring[T]) Len() int {
	read := r.read.Load()
	claim := r.claim.Load()
	if f := r.spFinal.Load(); f != 0 {
		// A finished single-producer ring: a publish that lost the race
		// with Close moved claim past the final cursor but was not taken.
		claim = min(claim, f-1)
	}
	if claim <= read {
		return 0
	}
	if n := claim - read; n < r.size {
		return int(n)
	}
	return int(r.size)
}

// Close stops the ring from accepting items: later (and currently waiting)
// publishes fail with [ErrClosed]; TryPublish returns false. Items already
// published stay available to Drain; once they are drained, Wait returns
// ErrClosed. Close never blocks and may be called more than once.
func (r *Ring[T]) Close() {
	if !r.closed.CompareAndSwap(false, true) {
		return
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
	r.space.wakeAll()
}

// Closed reports whether Close was called. A TryPublish that returned
// false after Close began sees it true, which tells a closed ring from a
// full one.
func (r *Ring[T]) Closed() bool { return r.closed.Load() }

// Publish adds v to the ring, waiting while the ring is full. It returns
// [ErrClosed] if the ring is or becomes closed before v is stored, or
// ctx.Err() if ctx ends while it waits for space; v is then not published.
// The context is consulted only when Publish has to wait.
func (r *Ring[T]) Publish(ctx context.Context, v T) error {
	if r.closed.Load() {
		return ErrClosed
	}
	if r.single {
		// The single-producer fast path is spelled out here rather than
		// called: Publish is too big to inline, and a second non-inlined
		// generic call is a measurable part of a ~6 ns publish.
		s := r.spNext
		if s >= r.spGate+r.size && !r.hasSpace(s+1) {
			if err := r.waitSpace(ctx, s+1); err != nil {
				return err
			}
		}
		i := s & r.mask
		r.vals[i] = v
		// commitSingle, spelled out: it is too big to inline.
		if r.light {
			storeRelaxed(&r.claim, s+1)
		} else if !r.claim.CompareAndSwap(s, s+1) {
			concurrentPublish()
		}
		r.spNext = s + 1
		if f := r.parked.Load(); f != 0 && !r.commitSlow(f, s+1) {
			var zero T
			r.vals[i] = zero
			return ErrClosed
		}
		return nil
	}
	s := r.claim.Add(1) - 1
	// Re-check after claiming: Close may have happened between the load
	// above and the add, and the consumer decides it is done by comparing
	// its cursor with claim after it saw closed. Both are sequentially
	// consistent, so either this load sees closed or the consumer sees
	// this claim (and then the hole registered below).
	if r.closed.Load() {
		r.abandon(s, 1)
		return ErrClosed
	}
	if s >= r.gate.Load()+r.size && !r.hasSpace(s+1) {
		if err := r.waitSpace(ctx, s+1); err != nil {
			r.abandon(s, 1)
			return err
		}
	}
	i := s & r.mask
	sl := &r.slots[i]
	// If the previous sequence is not committed yet, another producer
	// claimed it moments ago and is still writing: producers are running
	// side by side, bouncing the claim cursor's line between their cores
	// on every publish (a cross-core transfer, 75-250 ns on the machines
	// in BENCHMARKS.md). Once this item is committed, yield the processor,
	// so that on a machine with fewer cores than busy goroutines the
	// producers take turns (and the consumer gets a core) instead of
	// paying that transfer per item. A false alarm (the previous claim was
	// part of a batch, whose marker sits in its first slot, or abandoned)
	// costs one Gosched.
	contended := s > 0 && r.slots[(s-1)&r.mask].commit.Load() < s
	sl.val = v
	sl.commit.Store(s + 1)
	if r.parked.Load() != 0 {
		r.wakeConsumer()
	}
	if contended {
		runtime.Gosched()
	}
	return nil
}

// TryPublish adds v if a slot is free right now and reports whether it did.
// It never blocks; it returns false on a full or closed ring.
func (r *Ring[T]) TryPublish(v T) bool {
	if r.single {
		return r.tryPublishSingle(v)
	}
	var s uint64
	for {
		if r.closed.Load() {
			return false
		}
		s = r.claim.Load()
		if s >= r.gate.Load()+r.size && !r.hasSpace(s+1) {
			return false
		}
		// A CAS, not an add: claiming without free space would oblige us
		// to wait. Lock-free: a failure means another producer progressed.
		if r.claim.CompareAndSwap(s, s+1) {
			break
		}
	}
	if r.closed.Load() {
		r.abandon(s, 1)
		return false
	}
	i := s & r.mask
	sl := &r.slots[i]
	sl.val = v
	sl.commit.Store(s + 1)
	if r.parked.Load() != 0 {
		r.wakeConsumer()
	}
	return true
}

// PublishBatch adds all of vs as one contiguous run, claimed with a single
// atomic add and committed with a single store, waiting while there is not
// enough space for all of them. The consumer sees either none or all of vs,
// in order and uninterrupted by other producers' items. len(vs) > Cap()
// fails with [ErrBatchTooLarge]; errors are otherwise those of Publish, and
// on error no item of vs is published. vs is copied; the caller may reuse
// it when PublishBatch returns.
func (r *Ring[T]) PublishBatch(ctx context.Context, vs []T) error {
	n := uint64(len(vs))
	if n > r.size {
		return fmt.Errorf("%w: %d items, capacity %d", ErrBatchTooLarge, n, r.size)
	}
	if r.closed.Load() {
		return ErrClosed
	}
	if n == 0 {
		return nil
	}
	if r.single {
		return r.publishBatchSingle(ctx, vs)
	}
	s := r.claim.Add(n) - n
	if r.closed.Load() {
		r.abandon(s, n)
		return ErrClosed
	}
	if s+n > r.gate.Load()+r.size && !r.hasSpace(s+n) {
		if err := r.waitSpace(ctx, s+n); err != nil {
			r.abandon(s, n)
			return err
		}
	}
	r.copyIn(s, vs)
	// One commit marker for the whole batch, in the slot of its first
	// sequence: every value store in copyIn happens before this store.
	r.slots[s&r.mask].commit.Store(s + n)
	if r.parked.Load() != 0 {
		r.wakeConsumer()
	}
	return nil
}

// copyIn writes vs into the slots of sequences [s, s+len(vs)), which may
// wrap around the end of the slot array.
func (r *Ring[T]) copyIn(s uint64, vs []T) {
	first := s & r.mask
	head := min(uint64(len(vs)), r.size-first)
	if r.single {
		copy(r.vals[first:first+head], vs)
		copy(r.vals, vs[head:])
		return
	}
	for i, v := range vs[:head] {
		r.slots[first+uint64(i)].val = v
	}
	for i, v := range vs[head:] {
		r.slots[i].val = v
	}
}

// Drain appends to dst every item available now, oldest first, up to
// cap(dst)-len(dst) of them, and returns the extended slice. It never
// blocks and never allocates (dst is not grown). Drained slots are
// cleared, so the ring keeps nothing reachable. Consumer only.
//
// Clearing is also what makes a pointer-free T fast: the consumer's write
// leaves each cache line owned by the consumer's core alone, and a producer
// a lap later takes it over from that one owner rather than invalidating
// a line both cores share. On the machines in BENCHMARKS.md that halves
// the per-item cost (SPSC 24-25 → 10.4-10.7 ns/item, MPSC 2 producers
// 29 → 17 ns/item, side by side).
func (r *Ring[T]) Drain(dst []T) []T {
	room := uint64(cap(dst) - len(dst))
	if room == 0 {
		return dst
	}
	start := r.next
	next, known := start, r.known
	base := len(dst)
	out := dst[:cap(dst)]
	k := base
	if r.single {
		// claim is the commit cursor: one load covers every item.
		known = r.committedSingle()
	}
	for room > 0 {
		if next == known {
			if r.single {
				break
			}
			c := r.slots[next&r.mask].commit.Load()
			if c <= next {
				// Not committed: maybe an abandoned claim to skip.
				if hi, ok := r.holes.take(next); ok {
					next, known = hi, hi
					continue
				}
				break
			}
			known = c
		}
		n := min(known-next, room)
		room -= n
		if !r.single {
			for ; n > 0; n-- {
				sl := &r.slots[next&r.mask]
				out[k] = sl.val
				var zero T
				sl.val = zero
				k++
				next++
			}
			continue
		}
		// Copy [next, next+n) out, in at most two runs (the items may
		// wrap around the end of vals).
		for n > 0 {
			first := next & r.mask
			run := min(n, r.size-first)
			src := r.vals[first : first+run]
			copy(out[k:], src)
			clear(src)
			k += int(run)
			next += run
			n -= run
		}
	}
	r.next, r.known = next, known
	r.short = room > 0 && next-start < slipItems
	if next != start {
		r.publishRead(next)
	}
	return out[:k]
}

// Wait blocks until Drain has an item to return, then returns nil. It
// returns [ErrClosed] once the ring is closed and every published item has
// been drained, and ctx.Err() if ctx ends first. Items already available
// win over a closed ring or an ended context. Consumer only.
//
// A streaming consumer (its last Drain emptied the ring with a few items
// and more are there at once) is held back until a run of items is there,
// for at most the ring's batch delay ([WithBatchDelay], default 100 µs),
// so that it drains whole cache lines the producers are done with.
func (r *Ring[T]) Wait(ctx context.Context) error {
	if r.ready() {
		// Items are there at once: the consumer is keeping up with a
		// stream. If the last Drain emptied the ring with only a few
		// items, it is catching up item by item, close behind the
		// producers, pulling the lines they are writing to its core
		// (then every publish pays for cross-core transfers). Slip
		// behind until a run of items is there, or for at most the batch
		// delay (WithBatchDelay), so the next Drain takes whole cache
		// lines the producers are done with.
		if r.short && r.batchDelay > 0 {
			r.slip()
		}
		return nil
	}
	var done <-chan struct{}
	b := backoff{strategy: r.strategy}
	for {
		if r.ready() {
			return nil
		}
		if r.finished() {
			return ErrClosed
		}
		if done == nil {
			done = ctx.Done()
		}
		park, err := b.step(ctx, done)
		if err != nil {
			return err
		}
		if !park {
			continue
		}
		// Park. parkedBit is stored before the re-check and producers
		// store the commit (marker or claim) before they load parked,
		// both sequentially consistent (or, for a light single-producer
		// ring, ordered by the heavy fence), so a commit is either seen
		// here or wakes us.
		r.parked.Or(parkedBit)
		if r.light {
			heavyFence()
		}
		if r.ready() || r.finished() {
			r.parked.And(^uint32(parkedBit))
			continue
		}
		select {
		case <-r.wake:
		case <-done:
			r.parked.And(^uint32(parkedBit))
			return ctx.Err()
		}
		r.parked.And(^uint32(parkedBit))
	}
}

// slip spins on consumer-private memory until at least r.slipTarget items
// are claimed past the consumer's cursor, or r.batchDelay has passed. It
// looks at the claim cursor only once per r.slipChunk rounds: every look
// takes the line a single producer writes on every publish.
func (r *Ring[T]) slip() {
	start := time.Now()
	for {
		r.spin()
		if r.claim.Load()-r.next >= r.slipTarget || time.Since(start) >= r.batchDelay || r.closed.Load() {
			return
		}
	}
}

// slipChunkFor is how many spin rounds slip runs between two looks at the
// claim cursor: 16 per target item within [minSlipChunk, maxSlipChunk], and
// never more rounds than the delay has nanoseconds (a round takes about
// 0.3 ns), so a short delay is not overrun by a long chunk.
func slipChunkFor(target uint64, delay time.Duration) int {
	return min(max(int(target)*16, minSlipChunk), maxSlipChunk, max(int(delay.Nanoseconds()), 1))
}

// spin runs r.slipChunk rounds of a private counter.
//
//go:noinline
func (r *Ring[T]) spin() {
	for range r.slipChunk {
		r.slipped++
	}
}

// ready reports whether the slot at the consumer's cursor holds a committed
// item, skipping abandoned claims on the way. Consumer only.
func (r *Ring[T]) ready() bool {
	if r.single {
		return r.next < r.committedSingle()
	}
	for {
		next := r.next
		if next < r.known || r.slots[next&r.mask].commit.Load() > next {
			return true
		}
		hi, ok := r.holes.take(next)
		if !ok {
			return false
		}
		r.next, r.known = hi, hi
		r.publishRead(hi)
	}
}

// finished reports whether the ring is closed and every claim made before
// Close has been drained or skipped. A producer that claimed concurrently
// with Close either commits or abandons its claim and then wakes a parked
// consumer, so the consumer can sleep while such claims are outstanding.
// Consumer only.
func (r *Ring[T]) finished() bool {
	if r.single {
		return r.finishedSingle()
	}
	return r.closed.Load() && r.next == r.claim.Load()
}

// publishRead makes slots below next reusable and wakes producers parked on
// a full ring.
func (r *Ring[T]) publishRead(next uint64) {
	r.read.Store(next)
	r.space.wakeAll()
}

// wakeConsumer hands the parked consumer a token. Only the producer that
// clears parkedBit sends, so a burst of publishes costs one send.
func (r *Ring[T]) wakeConsumer() {
	for {
		f := r.parked.Load()
		if f&parkedBit == 0 {
			return
		}
		if r.parked.CompareAndSwap(f, f&^parkedBit) {
			select {
			case r.wake <- struct{}{}:
			default:
			}
			return
		}
	}
}

// abandon records the claim [s, s+n) that will never be committed, so the
// consumer skips it instead of waiting for it forever.
func (r *Ring[T]) abandon(s, n uint64) {
	r.holes.add(s, s+n)
	// holes.add stores with a sequentially consistent atomic before this
	// load, like a commit, so a parking consumer sees one or the other.
	if r.parked.Load() != 0 {
		r.wakeConsumer()
	}
}

// hasSpace reports whether the claim ending at end (exclusive) fits now,
// that is whether the consumer has passed end-size, and refreshes gate.
func (r *Ring[T]) hasSpace(end uint64) bool {
	read := r.read.Load()
	if r.single {
		r.spGate = read
		return end <= read+r.size
	}
	// A racing producer may store an older read: gate only ever holds some
	// value read had, so gate ≤ read still holds and the worst case is an
	// extra load of read later.
	if r.gate.Load() < read {
		r.gate.Store(read)
	}
	return end <= read+r.size
}

// waitSpace waits until the claim ending at end (exclusive) fits, that is
// until the consumer has passed end-size, following the ring's strategy.
func (r *Ring[T]) waitSpace(ctx context.Context, end uint64) error {
	done := ctx.Done()
	b := backoff{strategy: r.strategy}
	for {
		// Closed first: a producer still waiting when Close runs fails,
		// as Close promises, even if space frees up at the same time.
		if r.closed.Load() {
			return ErrClosed
		}
		if r.hasSpace(end) {
			return nil
		}
		park, err := b.step(ctx, done)
		if err != nil {
			return err
		}
		if !park {
			continue
		}
		if err := r.parkForSpace(ctx, done, end); err != nil {
			return err
		}
	}
}

// parkForSpace sleeps until the consumer advances, the ring closes or ctx
// ends. A nil return means "re-check", not "space is free".
func (r *Ring[T]) parkForSpace(ctx context.Context, done <-chan struct{}, end uint64) error {
	ch := waiterChans.Get().(chan struct{})
	r.space.register(ch)
	var err error
	if r.hasSpace(end) || r.closed.Load() {
		r.space.unregister(ch)
	} else {
		select {
		case <-ch:
		case <-done:
			r.space.unregister(ch)
			err = ctx.Err()
		}
	}
	waiterChans.Put(ch)
	return err
}

// holeList is the set of abandoned claims. Abandoning is rare (a producer
// gave up while waiting for space, or raced with Close), so a mutex and a
// slice do; count lets the consumer skip the lock when there is none.
type holeList struct {
	count atomic.Int32
	mu    sync.Mutex
	spans []span
}

// span is the claim [lo, hi).
type span struct{ lo, hi uint64 }

// add records the abandoned claim [lo, hi).
func (h *holeList) add(lo, hi uint64) {
	h.mu.Lock()
	h.spans = append(h.spans, span{lo, hi})
	h.count.Add(1)
	h.mu.Unlock()
}

// take removes the abandoned claim starting at lo, if any, and returns its
// end. The consumer only ever stands at the start of a claim, so lo is
// matched exactly.
func (h *holeList) take(lo uint64) (uint64, bool) {
	if h.count.Load() == 0 {
		return 0, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, sp := range h.spans {
		if sp.lo == lo {
			last := len(h.spans) - 1
			h.spans[i] = h.spans[last]
			h.spans = h.spans[:last]
			h.count.Add(-1)
			return sp.hi, true
		}
	}
	return 0, false
}
