package ring

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var strategies = []WaitStrategy{HybridWait, SpinWait, YieldWait, BlockWait}

// waitTimeout bounds every blocking call in these tests: a hang fails the
// test instead of stalling CI. It is never used to assert timing.
const waitTimeout = 60 * time.Second

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

func mustNew[T any](t *testing.T, capacity int, opts ...Option) *Ring[T] {
	t.Helper()
	r, err := New[T](capacity, opts...)
	if err != nil {
		t.Fatalf("New(%d): %v", capacity, err)
	}
	return r
}

func TestNewCapacity(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		wantCap  int
		wantErr  error
	}{
		{"zero is rejected", 0, 0, ErrCapacity},
		{"negative is rejected", -5, 0, ErrCapacity},
		{"above MaxCapacity is rejected", MaxCapacity + 1, 0, ErrCapacity},
		{"one stays one", 1, 1, nil},
		{"two stays two", 2, 2, nil},
		{"three rounds up to four", 3, 4, nil},
		{"1000 rounds up to 1024", 1000, 1024, nil},
		{"power of two is kept", 4096, 4096, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New[int](tt.capacity)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("New(%d) error = %v, want %v", tt.capacity, err, tt.wantErr)
			}
			if err != nil {
				if r != nil {
					t.Fatalf("New(%d) returned a ring with an error", tt.capacity)
				}
				return
			}
			if got := r.Cap(); got != tt.wantCap {
				t.Fatalf("Cap() = %d, want %d", got, tt.wantCap)
			}
			if got := r.Len(); got != 0 {
				t.Fatalf("Len() of new ring = %d, want 0", got)
			}
		})
	}
}

func TestNewOptions(t *testing.T) {
	for _, s := range strategies {
		if _, err := New[int](8, WithWaitStrategy(s)); err != nil {
			t.Errorf("WithWaitStrategy(%v): %v", s, err)
		}
	}
	if _, err := New[int](8, WithWaitStrategy(WaitStrategy(99))); err == nil {
		t.Error("WithWaitStrategy(99) accepted an unknown strategy")
	}
	if _, err := New[int](8, nil); err != nil {
		t.Errorf("nil option: %v", err)
	}
	if got := WaitStrategy(99).String(); got != "WaitStrategy(99)" {
		t.Errorf("String() of unknown strategy = %q", got)
	}
	for s, want := range map[WaitStrategy]string{HybridWait: "hybrid", SpinWait: "spin", YieldWait: "yield", BlockWait: "block"} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", uint8(s), got, want)
		}
	}
}

func TestPublishDrainOrder(t *testing.T) {
	ctx := testCtx(t)
	r := mustNew[int](t, 8)
	for i := range 5 {
		if err := r.Publish(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.Len(); got != 5 {
		t.Fatalf("Len() = %d, want 5", got)
	}
	if err := r.Wait(ctx); err != nil {
		t.Fatalf("Wait with data: %v", err)
	}
	got := r.Drain(make([]int, 0, 16))
	if fmt.Sprint(got) != "[0 1 2 3 4]" {
		t.Fatalf("Drain = %v", got)
	}
	if got := r.Len(); got != 0 {
		t.Fatalf("Len() after drain = %d, want 0", got)
	}
	if got := r.Drain(nil); len(got) != 0 {
		t.Fatalf("Drain(nil) = %v", got)
	}
}

func TestDrainRespectsRoomAndSplitsBatches(t *testing.T) {
	ctx := testCtx(t)
	r := mustNew[int](t, 16)
	if err := r.PublishBatch(ctx, []int{1, 2, 3, 4, 5}); err != nil {
		t.Fatal(err)
	}
	if err := r.Publish(ctx, 6); err != nil {
		t.Fatal(err)
	}
	if err := r.PublishBatch(ctx, []int{7, 8, 9}); err != nil {
		t.Fatal(err)
	}
	// Existing elements of dst are kept; only cap-len items are added.
	dst := make([]int, 1, 3)
	dst[0] = -1
	var all []int
	for range 10 {
		dst = r.Drain(dst[:1])
		if len(dst) > 3 {
			t.Fatalf("Drain grew dst past its capacity: %v", dst)
		}
		if dst[0] != -1 {
			t.Fatalf("Drain overwrote dst[0]: %v", dst)
		}
		all = append(all, dst[1:]...)
	}
	if fmt.Sprint(all) != "[1 2 3 4 5 6 7 8 9]" {
		t.Fatalf("drained %v", all)
	}
	full := make([]int, 4)
	if got := r.Drain(full); len(got) != 4 {
		t.Fatalf("Drain into a full slice changed its length: %v", got)
	}
}

func TestPublishBatchWrapsAround(t *testing.T) {
	ctx := testCtx(t)
	r := mustNew[int](t, 8)
	buf := make([]int, 0, 8)
	want := 0
	// Batches of 5 on 8 slots start at every offset and wrap often.
	for round := range 40 {
		batch := make([]int, 5)
		for i := range batch {
			batch[i] = round*5 + i
		}
		if err := r.PublishBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		batch[0] = -1 // the ring copied the batch
		buf = r.Drain(buf[:0])
		for _, v := range buf {
			if v != want {
				t.Fatalf("round %d: got %d, want %d (drained %v)", round, v, want, buf)
			}
			want++
		}
	}
	if want != 200 {
		t.Fatalf("drained %d items, want 200", want)
	}
}

func TestPublishBatchTooLarge(t *testing.T) {
	ctx := testCtx(t)
	r := mustNew[int](t, 4)
	err := r.PublishBatch(ctx, make([]int, 5))
	if !errors.Is(err, ErrBatchTooLarge) {
		t.Fatalf("PublishBatch(5 items, cap 4) = %v, want ErrBatchTooLarge", err)
	}
	if r.Len() != 0 {
		t.Fatalf("Len() = %d after a rejected batch", r.Len())
	}
	if err := r.PublishBatch(ctx, []int{1, 2, 3, 4}); err != nil {
		t.Fatalf("PublishBatch of exactly Cap items: %v", err)
	}
	if err := r.PublishBatch(ctx, nil); err != nil {
		t.Fatalf("empty PublishBatch: %v", err)
	}
	if got := r.Drain(make([]int, 0, 8)); fmt.Sprint(got) != "[1 2 3 4]" {
		t.Fatalf("Drain = %v", got)
	}
}

func TestTryPublishOnFullRing(t *testing.T) {
	r := mustNew[int](t, 2)
	if !r.TryPublish(1) || !r.TryPublish(2) {
		t.Fatal("TryPublish failed on a ring with free slots")
	}
	if r.TryPublish(3) {
		t.Fatal("TryPublish succeeded on a full ring")
	}
	if got := r.Len(); got != 2 {
		t.Fatalf("Len() = %d, want 2", got)
	}
	if got := r.Drain(make([]int, 0, 1)); fmt.Sprint(got) != "[1]" {
		t.Fatalf("Drain = %v", got)
	}
	if !r.TryPublish(4) {
		t.Fatal("TryPublish failed after a slot was freed")
	}
	if got := r.Drain(make([]int, 0, 4)); fmt.Sprint(got) != "[2 4]" {
		t.Fatalf("Drain = %v", got)
	}
	r.Close()
	if r.TryPublish(5) {
		t.Fatal("TryPublish succeeded on a closed ring")
	}
}

func TestCloseSemantics(t *testing.T) {
	ctx := testCtx(t)
	r := mustNew[int](t, 8)
	for i := range 3 {
		if err := r.Publish(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	if r.Closed() {
		t.Fatal("Closed before Close")
	}
	r.Close()
	r.Close() // idempotent
	if !r.Closed() || r.TryPublish(9) {
		t.Fatalf("after Close: Closed %v; TryPublish must fail", r.Closed())
	}
	if err := r.Publish(ctx, 9); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish after Close = %v, want ErrClosed", err)
	}
	if err := r.PublishBatch(ctx, []int{9}); !errors.Is(err, ErrClosed) {
		t.Fatalf("PublishBatch after Close = %v, want ErrClosed", err)
	}
	if err := r.PublishBatch(ctx, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("empty PublishBatch after Close = %v, want ErrClosed", err)
	}
	// What was published before Close is still delivered.
	if err := r.Wait(ctx); err != nil {
		t.Fatalf("Wait on closed ring with data = %v, want nil", err)
	}
	if got := r.Drain(make([]int, 0, 2)); fmt.Sprint(got) != "[0 1]" {
		t.Fatalf("Drain = %v", got)
	}
	if err := r.Wait(ctx); err != nil {
		t.Fatalf("Wait on closed ring with data = %v, want nil", err)
	}
	if got := r.Drain(make([]int, 0, 2)); fmt.Sprint(got) != "[2]" {
		t.Fatalf("Drain = %v", got)
	}
	for range 2 {
		if err := r.Wait(ctx); !errors.Is(err, ErrClosed) {
			t.Fatalf("Wait on closed, drained ring = %v, want ErrClosed", err)
		}
	}
	if got := ErrClosed.Error(); got != "ring: closed" {
		t.Fatalf("ErrClosed message = %q", got)
	}
}

func TestCloseWakesParkedConsumer(t *testing.T) {
	for _, s := range strategies {
		t.Run(s.String(), func(t *testing.T) {
			ctx := testCtx(t)
			r := mustNew[int](t, 4, WithWaitStrategy(s))
			errc := make(chan error, 1)
			go func() { errc <- r.Wait(ctx) }()
			time.Sleep(5 * time.Millisecond) // let it reach its wait; correctness does not depend on it
			r.Close()
			if err := <-errc; !errors.Is(err, ErrClosed) {
				t.Fatalf("Wait = %v, want ErrClosed", err)
			}
		})
	}
}

func TestWaitWakesOnPublish(t *testing.T) {
	for _, s := range strategies {
		t.Run(s.String(), func(t *testing.T) {
			ctx := testCtx(t)
			r := mustNew[int](t, 4, WithWaitStrategy(s))
			errc := make(chan error, 1)
			go func() { errc <- r.Wait(ctx) }()
			time.Sleep(5 * time.Millisecond)
			if err := r.Publish(ctx, 7); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatalf("Wait = %v, want nil", err)
			}
			if got := r.Drain(make([]int, 0, 4)); fmt.Sprint(got) != "[7]" {
				t.Fatalf("Drain = %v", got)
			}
		})
	}
}

func TestWaitContextEndsWhileEmpty(t *testing.T) {
	for _, s := range strategies {
		t.Run(s.String(), func(t *testing.T) {
			r := mustNew[int](t, 4, WithWaitStrategy(s))
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := r.Wait(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("Wait with canceled ctx = %v, want context.Canceled", err)
			}
			dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer dcancel()
			if err := r.Wait(dctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Wait with deadline = %v, want context.DeadlineExceeded", err)
			}
			// Data beats an ended context.
			if !r.TryPublish(1) {
				t.Fatal("TryPublish failed")
			}
			if err := r.Wait(ctx); err != nil {
				t.Fatalf("Wait with data and canceled ctx = %v, want nil", err)
			}
		})
	}
}

// TestPublishContextEndsWhileFull checks that a producer that gives up
// after claiming its slot neither loses nor reorders other items and does
// not stall the consumer.
func TestPublishContextEndsWhileFull(t *testing.T) {
	for _, s := range strategies {
		t.Run(s.String(), func(t *testing.T) {
			ctx := testCtx(t)
			r := mustNew[int](t, 2, WithWaitStrategy(s))
			for i := range 2 {
				if err := r.Publish(ctx, i); err != nil {
					t.Fatal(err)
				}
			}
			dctx, dcancel := context.WithTimeout(ctx, 10*time.Millisecond)
			defer dcancel()
			if err := r.Publish(dctx, 100); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Publish on full ring = %v, want context.DeadlineExceeded", err)
			}
			cctx, ccancel := context.WithCancel(ctx)
			ccancel()
			if err := r.PublishBatch(cctx, []int{101, 102}); !errors.Is(err, context.Canceled) {
				t.Fatalf("PublishBatch on full ring = %v, want context.Canceled", err)
			}
			// The consumer gets 0 and 1, skips both abandoned claims, and
			// sees later items in order.
			var got []int
			buf := make([]int, 0, 4)
			for i := 2; i < 6; i++ {
				buf = r.Drain(buf[:0])
				got = append(got, buf...)
				if err := r.Publish(ctx, i); err != nil {
					t.Fatal(err)
				}
			}
			r.Close()
			for r.Wait(ctx) == nil {
				got = append(got, r.Drain(buf[:0])...)
			}
			if err := r.Wait(ctx); !errors.Is(err, ErrClosed) {
				t.Fatalf("final Wait = %v, want ErrClosed", err)
			}
			if fmt.Sprint(got) != "[0 1 2 3 4 5]" {
				t.Fatalf("drained %v, want [0 1 2 3 4 5]", got)
			}
		})
	}
}

func TestCloseReleasesBlockedProducers(t *testing.T) {
	for _, s := range strategies {
		t.Run(s.String(), func(t *testing.T) {
			ctx := testCtx(t)
			r := mustNew[int](t, 1, WithWaitStrategy(s))
			if err := r.Publish(ctx, 1); err != nil {
				t.Fatal(err)
			}
			const blocked = 3
			errc := make(chan error, blocked)
			for i := range blocked {
				go func() {
					if i == 0 {
						errc <- r.PublishBatch(ctx, []int{2})
						return
					}
					errc <- r.Publish(ctx, 2)
				}()
			}
			time.Sleep(5 * time.Millisecond)
			r.Close()
			for range blocked {
				if err := <-errc; !errors.Is(err, ErrClosed) {
					t.Fatalf("blocked publish after Close = %v, want ErrClosed", err)
				}
			}
			var got []int
			for r.Wait(ctx) == nil {
				got = r.Drain(make([]int, 0, 4))
			}
			if fmt.Sprint(got) != "[1]" {
				t.Fatalf("drained %v, want [1]", got)
			}
		})
	}
}

func TestDrainClearsSlots(t *testing.T) {
	ctx := testCtx(t)
	r := mustNew[*int](t, 4)
	for range 3 {
		v := new(int)
		if err := r.Publish(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.Drain(make([]*int, 0, 4)); len(got) != 3 {
		t.Fatalf("Drain returned %d items", len(got))
	}
	for i := range r.slots {
		if r.slots[i].val != nil {
			t.Fatalf("slot %d still references a drained item", i)
		}
	}
	single := mustNew[*int](t, 4, WithSingleProducer())
	for range 3 {
		if err := single.Publish(ctx, new(int)); err != nil {
			t.Fatal(err)
		}
	}
	if got := single.Drain(make([]*int, 0, 4)); len(got) != 3 {
		t.Fatalf("single-producer Drain returned %d items", len(got))
	}
	for i := range single.vals {
		if single.vals[i] != nil {
			t.Fatalf("single-producer slot %d still references a drained item", i)
		}
	}
	// Pointer-free values are cleared too (see Drain).
	ints := mustNew[int](t, 4)
	for i := range 3 {
		if err := ints.Publish(ctx, i+1); err != nil {
			t.Fatal(err)
		}
	}
	if got := ints.Drain(make([]int, 0, 4)); len(got) != 3 {
		t.Fatalf("int Drain returned %d items", len(got))
	}
	for i := range ints.slots {
		if ints.slots[i].val != 0 {
			t.Fatalf("int slot %d still holds %d after Drain", i, ints.slots[i].val)
		}
	}
}

// item encodes producer and per-producer sequence so the consumer can check
// loss, duplication and per-producer order.
func item(producer, seq int) uint64 { return uint64(producer)<<32 | uint64(seq) }

// checker verifies that the items of each producer arrive exactly once and
// in order.
type checker struct {
	t    *testing.T
	next []int
}

func (c *checker) see(v uint64) {
	p, seq := int(v>>32), int(uint32(v))
	if seq != c.next[p] {
		c.t.Fatalf("producer %d: got item %d, want %d (lost, duplicated or reordered)", p, seq, c.next[p])
	}
	c.next[p]++
}

// TestStress runs producers against one consumer on small and larger rings
// with every wait strategy and every publish style mixed, and checks no
// loss, no duplication and per-producer FIFO order.
func TestStress(t *testing.T) {
	total := 20_000
	if testing.Short() {
		total = 4_000
	}
	for _, producers := range []int{1, 2, 4, 8} {
		for _, capacity := range []int{1, 2, 64, 1024} {
			for _, s := range strategies {
				items := total
				if s == SpinWait || s == YieldWait {
					// Goroutines that never park hand a small ring over
					// slowly when they outnumber free cores (CI shares 2
					// cores with other jobs); fewer items keep the run
					// short while still wrapping the ring many times.
					items = total / 4
					if capacity <= 2 {
						items = total / 20
					}
				}
				name := fmt.Sprintf("producers=%d/cap=%d/%v", producers, capacity, s)
				t.Run(name, func(t *testing.T) {
					stress(t, producers, capacity, items/producers, WithWaitStrategy(s))
				})
				if producers == 1 {
					t.Run(name+"/single", func(t *testing.T) {
						stress(t, producers, capacity, items/producers, WithWaitStrategy(s), WithSingleProducer())
					})
				}
			}
		}
	}
}

func stress(t *testing.T, producers, capacity, perProducer int, opts ...Option) {
	ctx := testCtx(t)
	r := mustNew[uint64](t, capacity, opts...)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(p), 7))
			batch := make([]uint64, 0, r.Cap())
			for seq := 0; seq < perProducer; {
				switch rng.IntN(3) {
				case 0:
					if err := r.Publish(ctx, item(p, seq)); err != nil {
						t.Errorf("Publish: %v", err)
						return
					}
					seq++
				case 1:
					if r.TryPublish(item(p, seq)) {
						seq++
					}
				case 2:
					n := min(1+rng.IntN(r.Cap()), perProducer-seq)
					batch = batch[:0]
					for i := range n {
						batch = append(batch, item(p, seq+i))
					}
					if err := r.PublishBatch(ctx, batch); err != nil {
						t.Errorf("PublishBatch: %v", err)
						return
					}
					seq += n
				}
			}
		})
	}
	go func() {
		wg.Wait()
		r.Close()
	}()
	c := checker{t: t, next: make([]int, producers)}
	buf := make([]uint64, 0, 37)
	received := 0
	var err error
	for {
		if err = r.Wait(ctx); err != nil {
			break
		}
		buf = r.Drain(buf[:0])
		if len(buf) == 0 {
			t.Fatal("Wait returned nil but Drain found nothing")
		}
		for _, v := range buf {
			c.see(v)
		}
		received += len(buf)
	}
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("consumer stopped with %v after %d items", err, received)
	}
	if want := producers * perProducer; received != want {
		t.Fatalf("received %d items, want %d", received, want)
	}
}

// TestStressAbandonAndClose has producers give up at random (short
// deadlines on a tiny, slowly drained ring) and closes the ring while they
// publish. Every publish that returned nil must arrive exactly once, in
// order per producer; nothing that failed may arrive; the consumer must
// finish with ErrClosed.
func TestStressAbandonAndClose(t *testing.T) {
	for _, s := range strategies {
		t.Run(s.String(), func(t *testing.T) {
			for round := range 4 {
				abandonAndClose(t, 6, 1<<round, WithWaitStrategy(s))
			}
		})
		t.Run(s.String()+"/single", func(t *testing.T) {
			for round := range 4 {
				abandonAndClose(t, 1, 1<<round, WithWaitStrategy(s), WithSingleProducer())
			}
		})
	}
}

func abandonAndClose(t *testing.T, producers, capacity int, opts ...Option) {
	ctx := testCtx(t)
	r := mustNew[uint64](t, capacity, opts...)
	var (
		published = make([][]uint64, producers) // what each producer got nil for
		wg        sync.WaitGroup
		stop      atomic.Bool
		abandoned atomic.Int64
	)
	for p := range producers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(p), 11))
			for seq := 0; !stop.Load(); seq++ {
				v := item(p, seq)
				pctx, cancel := context.WithTimeout(ctx, time.Duration(rng.IntN(200))*time.Microsecond)
				var err error
				if rng.IntN(4) == 0 {
					err = r.PublishBatch(pctx, []uint64{v})
				} else {
					err = r.Publish(pctx, v)
				}
				cancel()
				switch {
				case err == nil:
					published[p] = append(published[p], v)
				case errors.Is(err, ErrClosed):
					return
				case errors.Is(err, context.DeadlineExceeded):
					abandoned.Add(1)
				default:
					t.Errorf("Publish: %v", err)
					return
				}
			}
		})
	}
	var got []uint64
	buf := make([]uint64, 0, 3)
	deadline := time.Now().Add(30 * time.Millisecond)
	for {
		if time.Now().After(deadline) && !stop.Load() {
			stop.Store(true)
			r.Close()
		}
		wctx, cancel := context.WithTimeout(ctx, time.Millisecond)
		err := r.Wait(wctx)
		cancel()
		if errors.Is(err, ErrClosed) {
			break
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait: %v", err)
		}
		buf = r.Drain(buf[:0])
		got = append(got, buf...)
		time.Sleep(20 * time.Microsecond) // a slow consumer keeps the ring full
	}
	end := r.next // the claim cursor when Wait returned ErrClosed
	wg.Wait()
	// Every claim below end was drained or skipped. A producer that passed
	// Publish's first closed check before Close may claim (at or past end)
	// after Wait returned ErrClosed, see closed on its re-check and leave
	// its hole behind: nobody reads the ring any more, so that is no loss.
	r.holes.mu.Lock()
	for _, sp := range r.holes.spans {
		if sp.lo < end {
			t.Errorf("cap %d: abandoned claim [%d, %d) below the consumer's final cursor %d left unskipped", capacity, sp.lo, sp.hi, end)
		}
	}
	r.holes.mu.Unlock()
	t.Logf("cap %d: %d items drained, %d publishes gave up", capacity, len(got), abandoned.Load())
	want := make([][]uint64, producers)
	for _, v := range got {
		p := v >> 32
		want[p] = append(want[p], v)
	}
	for p := range producers {
		if fmt.Sprint(want[p]) != fmt.Sprint(published[p]) {
			t.Fatalf("cap %d producer %d: drained %d items, published %d; drained %v, published %v",
				capacity, p, len(want[p]), len(published[p]), want[p], published[p])
		}
	}
}

// TestLenStaysInRange checks Len against Cap while producers wait on a full
// ring (their claims run past the capacity).
func TestLenStaysInRange(t *testing.T) {
	ctx := testCtx(t)
	r := mustNew[int](t, 2)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { _ = r.Publish(ctx, 1) })
	}
	for r.Len() < 2 {
		time.Sleep(time.Millisecond)
	}
	if got := r.Len(); got > r.Cap() {
		t.Fatalf("Len() = %d > Cap() = %d", got, r.Cap())
	}
	n := 0
	for n < 4 {
		if err := r.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		n += len(r.Drain(make([]int, 0, 4)))
	}
	wg.Wait()
	if got := r.Len(); got != 0 {
		t.Fatalf("Len() after draining everything = %d", got)
	}
}
