package ring

import (
	"testing"
	"time"
)

func TestWithBatchDelayValidates(t *testing.T) {
	for _, d := range []time.Duration{-time.Nanosecond, maxBatchDelay + time.Nanosecond} {
		if _, err := New[int](8, WithBatchDelay(d)); err == nil {
			t.Errorf("WithBatchDelay(%v) accepted", d)
		}
	}
	for _, d := range []time.Duration{0, time.Microsecond, maxBatchDelay} {
		r, err := New[int](8, WithBatchDelay(d))
		if err != nil {
			t.Fatalf("WithBatchDelay(%v): %v", d, err)
		}
		if r.batchDelay != d {
			t.Errorf("WithBatchDelay(%v): ring has %v", d, r.batchDelay)
		}
	}
	r, _ := New[int](8)
	if r.batchDelay != DefaultBatchDelay {
		t.Errorf("default batch delay %v, want %v", r.batchDelay, DefaultBatchDelay)
	}
	r, _ = New[int](8, WithWaitStrategy(SpinWait), WithBatchDelay(time.Millisecond))
	if r.batchDelay != 0 {
		t.Errorf("SpinWait ring has batch delay %v, want 0", r.batchDelay)
	}
	// A short delay is not overrun by a long spin between two looks.
	r, _ = New[int](1<<16, WithBatchDelay(time.Microsecond))
	if r.slipChunk > int(time.Microsecond) {
		t.Errorf("1 µs delay: %d spin rounds between looks, want at most 1000", r.slipChunk)
	}
	r, _ = New[int](8)
	if r.slipTarget != 2 {
		t.Errorf("slip target of an 8-slot ring = %d, want a quarter of it", r.slipTarget)
	}
}

// streamOnce makes the consumer "streaming": it drains a single item (the
// ring is then empty and the Drain short), and one more item is published,
// so the next Wait finds the ring non-empty at once.
func streamOnce(t *testing.T, r *Ring[int]) {
	t.Helper()
	ctx := testCtx(t)
	if err := r.Publish(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if got := r.Drain(make([]int, 0, 16)); len(got) != 1 {
		t.Fatalf("drained %v, want one item", got)
	}
	if err := r.Publish(ctx, 2); err != nil {
		t.Fatal(err)
	}
}

// A streaming consumer is held back until the run target is there or the
// delay has passed, and never longer than that: Wait returns nil with the
// one item that is there.
func TestWaitHoldsStreamingConsumerBackForAtMostTheDelay(t *testing.T) {
	const delay = 5 * time.Millisecond
	r, err := New[int](4096, WithBatchDelay(delay))
	if err != nil {
		t.Fatal(err)
	}
	streamOnce(t, r)
	start := time.Now()
	if err := r.Wait(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	// A lower bound only: a slow machine makes Wait later, never earlier.
	if el := time.Since(start); el < delay {
		t.Errorf("Wait returned after %v, before the %v batch delay", el, delay)
	}
	if got := r.Drain(make([]int, 0, 16)); len(got) != 1 || got[0] != 2 {
		t.Errorf("drained %v, want [2]", got)
	}
}

// The delay ends as soon as the run target is claimed.
func TestWaitDelayEndsAtRunTarget(t *testing.T) {
	r, err := New[int](16, WithBatchDelay(maxBatchDelay))
	if err != nil {
		t.Fatal(err)
	}
	streamOnce(t, r) // one item waiting; the target of a 16-slot ring is 4
	for i := range 3 {
		if err := r.Publish(testCtx(t), 3+i); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Wait(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	// The target is there at the first look: one chunk of spinning, not
	// the 10 ms delay.
	if r.slipped != uint64(r.slipChunk) {
		t.Errorf("held back %d spin rounds with the run target there, want one look (%d)", r.slipped, r.slipChunk)
	}
	if got := r.Drain(make([]int, 0, 16)); len(got) != 4 {
		t.Errorf("drained %v, want 4 items", got)
	}
}

// Without a delay, or when the last Drain was cut short by the room in
// dst rather than by an empty ring, Wait never holds the consumer back.
func TestWaitDoesNotDelay(t *testing.T) {
	r, err := New[int](4096, WithBatchDelay(0))
	if err != nil {
		t.Fatal(err)
	}
	streamOnce(t, r)
	if err := r.Wait(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if r.slipped != 0 {
		t.Errorf("WithBatchDelay(0): Wait slipped %d rounds", r.slipped)
	}

	r, err = New[int](4096)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	for i := range 3 {
		if err := r.Publish(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.Drain(make([]int, 0, 1)); len(got) != 1 {
		t.Fatalf("drained %v, want one item", got)
	}
	if err := r.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if r.slipped != 0 {
		t.Errorf("after a Drain limited by dst, Wait slipped %d rounds", r.slipped)
	}
}

// Close ends a delay at once: a consumer held back on a closed ring drains
// what is there and then sees ErrClosed.
func TestCloseEndsBatchDelay(t *testing.T) {
	r, err := New[int](4096, WithBatchDelay(maxBatchDelay))
	if err != nil {
		t.Fatal(err)
	}
	streamOnce(t, r)
	r.Close()
	if err := r.Wait(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if r.slipped != uint64(r.slipChunk) {
		t.Errorf("held back %d spin rounds on a closed ring, want one look (%d)", r.slipped, r.slipChunk)
	}
	if got := r.Drain(make([]int, 0, 16)); len(got) != 1 {
		t.Errorf("drained %v, want one item", got)
	}
	if err := r.Wait(testCtx(t)); err != ErrClosed {
		t.Errorf("Wait on a closed, drained ring: %v, want ErrClosed", err)
	}
}
