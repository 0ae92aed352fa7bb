package ring

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// commitModes runs f once per commit protocol a single-producer ring can
// use here: "light" (plain-store commits ordered by the consumer's heavy
// fence; linux/amd64 without the race detector, where membarrier works)
// and "locked" (sequentially consistent commits).
func commitModes(t *testing.T, f func(t *testing.T)) {
	t.Run("light", func(t *testing.T) {
		if !lightCommits() {
			t.Skip("light commits unavailable here (not linux/amd64, race detector on, or membarrier refused); the locked run covers the protocol")
		}
		r := mustNew[int](t, 1, WithSingleProducer())
		if !r.light {
			t.Fatal("lightCommits() is true but New built a locked ring")
		}
		f(t)
	})
	t.Run("locked", func(t *testing.T) {
		// A package variable read by New: tests using it must not run in
		// parallel.
		lockedCommitsForTest = true
		defer func() { lockedCommitsForTest = false }()
		r := mustNew[int](t, 1, WithSingleProducer())
		if r.light {
			t.Fatal("lockedCommitsForTest is set but New built a light ring")
		}
		f(t)
	})
}

// TestSingleProducerCloseRace closes a single-producer ring at a random
// moment while its producer streams into it as fast as it can and the
// consumer drains as fast as it can, many times over. That is the finishing
// handshake's race: every publish that returned nil must be drained, in
// order, and nothing else.
func TestSingleProducerCloseRace(t *testing.T) {
	rounds := 2000
	if testing.Short() {
		rounds = 300
	}
	commitModes(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		flowing := 0 // rounds closed after items went through (not at once)
		for round := range rounds {
			// Each round gets its own deadline: on a loaded machine a
			// SpinWait round on a 1-slot ring can take seconds, and one
			// deadline for all rounds failed a run that was only slow.
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			r := mustNew[uint64](t, 1<<rng.IntN(7), WithSingleProducer(), WithWaitStrategy(strategies[round%len(strategies)]))
			published := make(chan uint64, 1)
			// fail ends the round from the consumer's side: it stops the
			// producer and waits for it first, so the producer cannot
			// report into a test that has already returned.
			fail := func(format string, args ...any) {
				t.Helper()
				r.Close()
				<-published
				cancel()
				t.Fatalf(format, args...)
			}
			go func() {
				var n uint64
				batch := make([]uint64, 0, r.Cap())
				for {
					var err error
					if n%7 == 3 && r.TryPublish(n) {
						n++
						continue
					}
					if n%5 == 4 {
						batch = batch[:0]
						for i := range min(uint64(r.Cap()), 3) {
							batch = append(batch, n+i)
						}
						err = r.PublishBatch(ctx, batch)
						if err == nil {
							n += uint64(len(batch))
						}
					} else if err = r.Publish(ctx, n); err == nil {
						n++
					}
					if err != nil {
						if !errors.Is(err, ErrClosed) {
							t.Errorf("publish: %v", err)
						}
						published <- n
						return
					}
				}
			}()
			// Close from a third goroutine after a short random spin, or
			// from the consumer once it has drained a random number of
			// items.
			closeAt := uint64(rng.IntN(2000))
			if round%2 == 0 {
				spin := rng.IntN(20000)
				closeAt = 1 << 62
				go func() {
					for i := 0; i < spin; i++ {
						spinSink.Add(1)
					}
					r.Close()
				}()
			}
			var got uint64
			buf := make([]uint64, 0, 16)
			var err error
			for {
				if err = r.Wait(ctx); err != nil {
					break
				}
				buf = r.Drain(buf[:0])
				for _, v := range buf {
					if v != got {
						fail("round %d: drained item %d, want %d (lost, duplicated or reordered)", round, v, got)
					}
					got++
				}
				if got >= closeAt {
					r.Close()
				}
			}
			if !errors.Is(err, ErrClosed) {
				fail("round %d: Wait: %v", round, err)
			}
			n := <-published
			cancel()
			if got != n {
				t.Fatalf("round %d: drained %d items, the producer got nil for %d", round, got, n)
			}
			if l := r.Len(); l != 0 {
				t.Fatalf("round %d: Len() = %d on a closed, drained ring", round, l)
			}
			if n > 0 {
				flowing++
			}
		}
		t.Logf("%d rounds, %d closed after items went through", rounds, flowing)
	})
}

// spinSink gives the closer's spin a side effect the compiler keeps.
var spinSink atomic.Uint64

// TestSingleProducerParkRace makes every publish race a consumer on its
// way to sleep: the parking handshake. The consumer parks at once when the
// ring is empty (BlockWait) and counts what it drained; the producer
// publishes the next item as soon as it sees the count move, after a short
// random spin, so the publish lands while the consumer sets its parked flag
// and looks at the ring one last time. A lost wake-up leaves the count
// still for a second.
//
// It checks the parking logic end to end (a publish that misses a parked
// consumer fails it); the exact store-buffer window the heavy fence closes
// is too narrow to hit reliably this way, so the fence itself has its own
// litmus test (TestHeavyFenceOrdersPlainStore).
func TestSingleProducerParkRace(t *testing.T) {
	items := 20000
	if testing.Short() {
		items = 3000
	}
	commitModes(t, func(t *testing.T) {
		ctx := testCtx(t)
		r := mustNew[int](t, 4, WithSingleProducer(), WithWaitStrategy(BlockWait))
		var drained atomic.Int64
		var wg sync.WaitGroup
		wg.Go(func() {
			defer r.Close()
			rng := rand.New(rand.NewPCG(3, 4))
			for i := range items {
				if err := r.Publish(ctx, i); err != nil {
					t.Errorf("Publish: %v", err)
					return
				}
				deadline := time.Now().Add(time.Second)
				for drained.Load() <= int64(i) {
					if time.Now().After(deadline) {
						t.Errorf("item %d published but not drained within a second: a lost wake-up", i)
						return
					}
					// Let the consumer run where it shares this P
					// (GOMAXPROCS=1): otherwise every hand-off waits for
					// preemption.
					runtime.Gosched()
				}
				for range rng.IntN(3000) {
					spinSink.Add(1)
				}
			}
		})
		defer wg.Wait()
		buf := make([]int, 0, 4)
		next := 0
		for {
			err := r.Wait(ctx)
			if errors.Is(err, ErrClosed) {
				break
			}
			if err != nil {
				t.Fatalf("Wait: %v", err)
			}
			buf = r.Drain(buf[:0])
			for _, v := range buf {
				if v != next {
					t.Fatalf("drained %d, want %d", v, next)
				}
				next++
			}
			drained.Store(int64(next))
		}
		if next != items {
			t.Fatalf("drained %d items, want %d", next, items)
		}
	})
}
