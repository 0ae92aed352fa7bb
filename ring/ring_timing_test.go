package ring

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/cpu"
)

// benchCapacity is the ring size and the channel buffer of the peer. Wake-up
// latency sets the size a ring needs (capacity × ns/item must cover the
// consumer's wake-up, several µs when it parked); see DESIGN.md.
const benchCapacity = 1 << 14

// drainBuf is how many items the consumer takes per Drain at most.
const drainBuf = 4096

// BenchmarkSPSC: one producer, one consumer, one Publish (or send) per
// item. ns/op is per item. impl=ring is the ring configured for this shape
// (WithSingleProducer: one atomic op per publish); impl=ring-mp is the
// default multi-producer ring driven by one goroutine, for comparison.
func BenchmarkSPSC(b *testing.B) {
	b.Run("impl=ring", func(b *testing.B) { benchRing(b, 1, 1, WithSingleProducer()) })
	b.Run("impl=ring-mp", func(b *testing.B) { benchRing(b, 1, 1) })
	b.Run("impl=chan", func(b *testing.B) { benchChan(b, 1) })
}

// BenchmarkMPSC: N producers, one consumer. ns/op is per item. impl=ring
// publishes one item per Publish, impl=ring-batch32 32 items per
// PublishBatch; impl=chan is a channel buffered at the ring's capacity.
func BenchmarkMPSC(b *testing.B) {
	for _, impl := range []string{"ring", "ring-batch32", "chan"} {
		for _, producers := range []int{2, 4, 8} {
			b.Run(fmt.Sprintf("impl=%s/producers=%d", impl, producers), func(b *testing.B) {
				switch impl {
				case "ring":
					benchRing(b, producers, 1)
				case "ring-batch32":
					benchRing(b, producers, 32)
				case "chan":
					benchChan(b, producers)
				}
			})
		}
	}
}

// share returns how many of n items producer p of producers sends, and the
// sum of the values 1..count it sends.
func share(n, producers, p int) (count int, sum uint64) {
	count = n / producers
	if p < n%producers {
		count++
	}
	return count, uint64(count) * uint64(count+1) / 2
}

// benchRing moves b.N items through a Ring from producers goroutines to the
// benchmark goroutine, batch items per publish, and checks their sum.
func benchRing(b *testing.B, producers, batch int, opts ...Option) {
	ctx := context.Background()
	r, err := New[uint64](benchCapacity, opts...)
	if err != nil {
		b.Fatal(err)
	}
	n := b.N
	var (
		want  uint64
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make(chan error, producers)
	)
	for p := range producers {
		count, sum := share(n, producers, p)
		want += sum
		vs := make([]uint64, batch)
		wg.Go(func() {
			<-start
			if batch == 1 {
				for i := 1; i <= count; i++ {
					if err := r.Publish(ctx, uint64(i)); err != nil {
						errs <- err
						return
					}
				}
				return
			}
			for i := 1; i <= count; {
				k := min(batch, count-i+1)
				for j := range k {
					vs[j] = uint64(i + j)
				}
				if err := r.PublishBatch(ctx, vs[:k]); err != nil {
					errs <- err
					return
				}
				i += k
			}
		})
	}
	buf := make([]uint64, 0, drainBuf)
	b.ReportAllocs()
	b.ResetTimer()
	close(start)
	var got uint64
	for received := 0; received < n; {
		if err := r.Wait(ctx); err != nil {
			b.Fatal(err)
		}
		buf = r.Drain(buf[:0])
		for _, v := range buf {
			got += v
		}
		received += len(buf)
	}
	b.StopTimer()
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	if got != want {
		b.Fatalf("received sum %d, want %d", got, want)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
}

// benchChan is benchRing's peer: a channel buffered at the ring's capacity.
func benchChan(b *testing.B, producers int) {
	ch := make(chan uint64, benchCapacity)
	n := b.N
	var (
		want  uint64
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for p := range producers {
		count, sum := share(n, producers, p)
		want += sum
		wg.Go(func() {
			<-start
			for i := 1; i <= count; i++ {
				ch <- uint64(i)
			}
		})
	}
	b.ReportAllocs()
	b.ResetTimer()
	close(start)
	var got uint64
	for range n {
		got += <-ch
	}
	b.StopTimer()
	wg.Wait()
	if got != want {
		b.Fatalf("received sum %d, want %d", got, want)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkLockedOpFloor measures, on one goroutine with nothing shared,
// the locked instructions a publish cannot avoid: the multi-producer path
// pays an atomic add (claim) plus an atomic store (commit; XCHG on amd64),
// the single-producer path one compare-and-swap. It is the floor under
// BenchmarkSPSC and BenchmarkMPSC/impl=ring, before any cache line moves
// between cores.
func BenchmarkLockedOpFloor(b *testing.B) {
	var line struct {
		claim  atomic.Uint64
		_      cpu.CacheLinePad
		commit atomic.Uint64
	}
	b.Run("op=add+store", func(b *testing.B) {
		for i := range b.N {
			s := line.claim.Add(1)
			line.commit.Store(s + uint64(i))
		}
	})
	b.Run("op=cas", func(b *testing.B) {
		for range b.N {
			s := line.claim.Load()
			line.claim.CompareAndSwap(s, s+1)
		}
	})
}

// BenchmarkPublishUncontended measures the producer side of a publish with
// no consumer running: one goroutine publishes into a ring big enough for
// a whole round, which is then drained (and its sum checked) with the timer
// stopped. No cache line moves between cores, so this is the floor under
// BenchmarkSPSC (mode=single) and the per-producer floor under
// BenchmarkMPSC/impl=ring (mode=mp): the locked instruction(s) of
// BenchmarkLockedOpFloor plus the call, the closed and parked checks and
// the value store.
func BenchmarkPublishUncontended(b *testing.B) {
	const round = 1 << 16
	for _, mode := range []string{"single", "mp"} {
		b.Run("mode="+mode, func(b *testing.B) {
			var opts []Option
			if mode == "single" {
				opts = append(opts, WithSingleProducer())
			}
			r, err := New[uint64](round, opts...)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			buf := make([]uint64, 0, round)
			b.ReportAllocs()
			for i := 0; i < b.N; {
				k := min(b.N-i, round)
				for j := 1; j <= k; j++ {
					if err := r.Publish(ctx, uint64(j)); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				buf = r.Drain(buf[:0])
				var got uint64
				for _, v := range buf {
					got += v
				}
				if want := uint64(k) * uint64(k+1) / 2; len(buf) != k || got != want {
					b.Fatalf("drained %d items summing to %d, want %d summing to %d", len(buf), got, k, want)
				}
				b.StartTimer()
				i += k
			}
		})
	}
}

// BenchmarkLineTransfer measures what bounds a per-item publish across
// cores: the time for one cache line to move from one core to another.
// Two goroutines take turns writing one atomic counter; ns/op is one
// one-way transfer (half a round trip). On the 2-vCPU VMs in
// BENCHMARKS.md it varies from run to run with where the hypervisor places
// the two vCPUs, and with it every cross-core benchmark in this file.
func BenchmarkLineTransfer(b *testing.B) {
	var line struct {
		_ cpu.CacheLinePad
		x atomic.Uint64
		_ cpu.CacheLinePad
	}
	n := uint64(b.N)
	// wait spins until x holds want, offering the processor now and then
	// so that the benchmark also ends with GOMAXPROCS=1.
	wait := func(want uint64) {
		for i := 1; line.x.Load() != want; i++ {
			if i%1024 == 0 {
				runtime.Gosched()
			}
		}
	}
	var wg sync.WaitGroup
	b.ResetTimer()
	wg.Go(func() {
		for i := range n {
			wait(2*i + 1)
			line.x.Store(2*i + 2)
		}
	})
	for i := range n {
		wait(2 * i)
		line.x.Store(2*i + 1)
	}
	wg.Wait()
	b.StopTimer()
	// b.N round trips, two transfers each.
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*n), "ns/transfer")
}
