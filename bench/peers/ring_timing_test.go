package peers

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/Workiva/go-datastructures/queue"

	"github.com/batchring/batchring/ring"
)

// Side-by-side queue benchmarks: batchring's ring.Ring, a buffered channel
// and Workiva's queue.RingBuffer (a lock-free MPMC ring built on CAS loops,
// the usual pick for a Go ring buffer), all at the same capacity, in one
// run. ns/op is per item; each benchmark checks the sum of what arrived.
//
// Items are *uint64 pointing into a shared table rather than integers:
// Workiva stores interface{}, and boxing a pointer does not allocate,
// so no implementation pays for an allocation the others do not.

// capacity of every queue under test (ring.Ring and Workiva round up to a
// power of two; the channel gets exactly this buffer).
const capacity = 1 << 14

// drainBuf is how many items the ring consumer takes per Drain at most.
const drainBuf = 4096

// values is what producers send pointers to: values[i] == i+1.
var values = func() []uint64 {
	v := make([]uint64, 1024)
	for i := range v {
		v[i] = uint64(i + 1)
	}
	return v
}()

// queueImpl moves items from producers to one consumer.
type queueImpl interface {
	// produce sends count items (pointers into values) and returns their sum.
	produce(count int) (uint64, error)
	// consume receives n items and returns their sum.
	consume(n int) (uint64, error)
}

// BenchmarkSPSC: one producer, one consumer. impl=ring is configured for
// this shape (ring.WithSingleProducer), as in the ring package's own SPSC
// benchmark.
func BenchmarkSPSC(b *testing.B) {
	for _, impl := range []string{"ring", "chan", "workiva"} {
		b.Run("impl="+impl, func(b *testing.B) { run(b, impl, 1) })
	}
}

// BenchmarkMPSC: N producers, one consumer. impl=ring publishes one item
// per Publish, impl=ring-batch32 32 per PublishBatch.
func BenchmarkMPSC(b *testing.B) {
	for _, impl := range []string{"ring", "ring-batch32", "chan", "workiva"} {
		for _, producers := range []int{2, 4, 8} {
			b.Run(fmt.Sprintf("impl=%s/producers=%d", impl, producers), func(b *testing.B) {
				run(b, impl, producers)
			})
		}
	}
}

func newImpl(b *testing.B, impl string, producers int) queueImpl {
	switch impl {
	case "ring", "ring-batch32":
		var opts []ring.Option
		if producers == 1 {
			opts = append(opts, ring.WithSingleProducer())
		}
		r, err := ring.New[*uint64](capacity, opts...)
		if err != nil {
			b.Fatal(err)
		}
		batch := 1
		if impl == "ring-batch32" {
			batch = 32
		}
		return &ringImpl{r: r, batch: batch}
	case "chan":
		return chanImpl(make(chan *uint64, capacity))
	case "workiva":
		return workivaImpl{queue.NewRingBuffer(capacity)}
	}
	b.Fatalf("unknown impl %q", impl)
	return nil
}

// run moves b.N items from producers goroutines to the benchmark goroutine.
func run(b *testing.B, impl string, producers int) {
	q := newImpl(b, impl, producers)
	n := b.N
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		sums  = make([]uint64, producers)
		errs  = make(chan error, producers)
	)
	for p := range producers {
		count := n / producers
		if p < n%producers {
			count++
		}
		wg.Go(func() {
			<-start
			sum, err := q.produce(count)
			if err != nil {
				errs <- err
			}
			sums[p] = sum
		})
	}
	b.ReportAllocs()
	b.ResetTimer()
	close(start)
	got, err := q.consume(n)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	var want uint64
	for _, s := range sums {
		want += s
	}
	if got != want {
		b.Fatalf("received sum %d, want %d", got, want)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
}

type ringImpl struct {
	r     *ring.Ring[*uint64]
	batch int
}

func (q *ringImpl) produce(count int) (uint64, error) {
	ctx := context.Background()
	var sum uint64
	if q.batch == 1 {
		for i := range count {
			p := &values[i&1023]
			sum += *p
			if err := q.r.Publish(ctx, p); err != nil {
				return sum, err
			}
		}
		return sum, nil
	}
	vs := make([]*uint64, q.batch)
	for i := 0; i < count; {
		k := min(q.batch, count-i)
		for j := range k {
			vs[j] = &values[(i+j)&1023]
			sum += *vs[j]
		}
		if err := q.r.PublishBatch(ctx, vs[:k]); err != nil {
			return sum, err
		}
		i += k
	}
	return sum, nil
}

func (q *ringImpl) consume(n int) (uint64, error) {
	ctx := context.Background()
	buf := make([]*uint64, 0, drainBuf)
	var sum uint64
	for received := 0; received < n; {
		if err := q.r.Wait(ctx); err != nil {
			return sum, err
		}
		buf = q.r.Drain(buf[:0])
		for _, p := range buf {
			sum += *p
		}
		received += len(buf)
	}
	return sum, nil
}

type chanImpl chan *uint64

func (q chanImpl) produce(count int) (uint64, error) {
	var sum uint64
	for i := range count {
		p := &values[i&1023]
		sum += *p
		q <- p
	}
	return sum, nil
}

func (q chanImpl) consume(n int) (uint64, error) {
	var sum uint64
	for range n {
		sum += *<-q
	}
	return sum, nil
}

type workivaImpl struct{ rb *queue.RingBuffer }

func (q workivaImpl) produce(count int) (uint64, error) {
	var sum uint64
	for i := range count {
		p := &values[i&1023]
		sum += *p
		if err := q.rb.Put(p); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

func (q workivaImpl) consume(n int) (uint64, error) {
	var sum uint64
	for range n {
		v, err := q.rb.Get()
		if err != nil {
			return sum, err
		}
		sum += *v.(*uint64)
	}
	return sum, nil
}
