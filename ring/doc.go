// Package ring is a bounded, generic, disruptor-style ring buffer: many
// producers, one consumer, batches on both sides.
//
// Producers claim slots with one atomic add on a claim cursor (one add for
// a whole [Ring.PublishBatch]) and commit them with one store per claim;
// each claim carries the sequence that proves it was fully written, so the
// consumer never sees a half-written item. The consumer takes everything
// available in one pass ([Ring.Drain]) and publishes its read cursor once
// per pass. The hot cursors sit on their own cache lines.
//
// Guarantees:
//   - No loss, no duplication: every Publish/PublishBatch that returns nil
//     (every TryPublish that returns true) is drained exactly once, even
//     across Close.
//   - Per-producer FIFO: items published by one goroutine are drained in
//     its publish order; a batch is drained contiguously.
//   - Every wait honours its context and Close. A producer that gives up
//     after it claimed a slot leaves a hole the consumer skips, so a
//     cancelled producer can never stall the consumer.
//   - Publish, PublishBatch, TryPublish, Drain and Wait allocate nothing
//     (a producer that parks on a full ring borrows a pooled channel, so
//     that path allocates only until the pool is warm).
//   - Drained slots are cleared: the ring keeps nothing reachable, and the
//     consumer hands each cache line back to the producers as its sole
//     owner, which halves the per-item cost across cores.
//
// With [WithSingleProducer] (one publishing goroutine at a time) the claim
// cursor doubles as the commit cursor and a publish costs one store instead
// of an atomic add and a store. On linux/amd64 that store is a plain one,
// with no locked instruction: the consumer pays for the ordering instead,
// with a membarrier system call (a few µs) when it parks or finishes after
// Close, never per item.
//
// How goroutines wait is a [WaitStrategy]: [HybridWait] (default: spin
// briefly, yield, then park; a producer pays for a wake-up only when the
// consumer is parked), [SpinWait], [YieldWait] or [BlockWait].
//
// Cross-core cache traffic, not instructions, bounds a per-item publish
// (see BENCHMARKS.md), so both sides keep out of each other's cache lines
// while data streams: a streaming consumer is held back in [Ring.Wait]
// until a run of items is there or [WithBatchDelay] (default 100 µs) has
// passed, and a producer that finds another producer writing right beside
// it yields after its commit, so that producers take turns on a busy
// machine instead of trading the claim cursor's line on every item.
//
// A consumer loop:
//
//	r, err := ring.New[*Call](4096)
//	if err != nil { ... }
//	go func() { _ = r.Publish(ctx, call) }() // any number of producers
//	buf := make([]*Call, 0, 256)
//	for r.Wait(ctx) == nil {
//		buf = r.Drain(buf[:0])
//		handle(buf)
//	}
//	// Wait returned ErrClosed (closed and drained) or ctx.Err().
package ring
