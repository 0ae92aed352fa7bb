package ring_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/batchring/batchring/ring"
)

// Producers publish one item at a time; the consumer drains everything
// available in one pass until the ring is closed and empty.
func Example() {
	ctx := context.Background()
	r, err := ring.New[int](1024)
	if err != nil {
		panic(err)
	}
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			for i := range 100 {
				if err := r.Publish(ctx, p*100+i); err != nil {
					panic(err)
				}
			}
		})
	}
	go func() {
		wg.Wait()
		r.Close() // the consumer still gets everything published before
	}()

	sum, n := 0, 0
	buf := make([]int, 0, 256)
	for {
		if err := r.Wait(ctx); err != nil {
			fmt.Println("consumer done:", errors.Is(err, ring.ErrClosed))
			break
		}
		buf = r.Drain(buf[:0])
		for _, v := range buf {
			sum += v
		}
		n += len(buf)
	}
	fmt.Println(n, sum)
	// Output:
	// consumer done: true
	// 400 79800
}

// PublishBatch claims and commits a whole batch at once: the consumer sees
// it contiguously, never interleaved with other producers' items.
func ExampleRing_PublishBatch() {
	ctx := context.Background()
	r, _ := ring.New[string](8)
	if err := r.PublishBatch(ctx, []string{"a", "b", "c"}); err != nil {
		panic(err)
	}
	err := r.PublishBatch(ctx, make([]string, 9))
	fmt.Println(errors.Is(err, ring.ErrBatchTooLarge))
	fmt.Println(r.Drain(nil), r.Drain(make([]string, 0, 8)))
	// Output:
	// true
	// [] [a b c]
}

// TryPublish never blocks: it reports false on a full ring.
func ExampleRing_TryPublish() {
	r, _ := ring.New[int](2)
	fmt.Println(r.TryPublish(1), r.TryPublish(2), r.TryPublish(3), r.Len(), r.Cap())
	// Output: true true false 2 2
}

// A consumer that must never park (it has a core to itself) spins; one
// that shares cores with producers should keep the default HybridWait.
func ExampleWithWaitStrategy() {
	r, err := ring.New[int](4096, ring.WithWaitStrategy(ring.SpinWait))
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Cap(), ring.SpinWait)
	// Output: 4096 spin
}

// A consumer that reacts to each item (a latency-sensitive dispatcher, not
// a throughput pipeline) turns the batch delay off: Wait then returns as
// soon as anything is there, even while items stream in.
func ExampleWithBatchDelay() {
	ctx := context.Background()
	r, err := ring.New[string](1024, ring.WithBatchDelay(0))
	if err != nil {
		panic(err)
	}
	_ = r.Publish(ctx, "tick")
	if err := r.Wait(ctx); err != nil {
		panic(err)
	}
	fmt.Println(r.Drain(make([]string, 0, 16)))

	_, err = ring.New[string](1024, ring.WithBatchDelay(time.Hour))
	fmt.Println(err)
	// Output:
	// [tick]
	// ring: batch delay 1h0m0s out of range (want 0..10ms)
}
