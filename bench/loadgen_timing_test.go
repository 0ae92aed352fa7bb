package bench

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkLoadgen measures the engine's own overhead per scheduled call with
// a caller that does nothing: picking the op, the clock reads, recording
// into the histograms (overall, method, band, interval) and the timeline.
// impl=bare is the floor: the same workers calling the same no-op caller
// with only a shared call counter.
func BenchmarkLoadgen(b *testing.B) {
	load := testWorkload(b)
	noop := CallerFunc(func(context.Context, *Op) error { return nil })
	workers := runtime.GOMAXPROCS(0)

	b.Run("impl=bare", func(b *testing.B) {
		b.ReportAllocs()
		var next atomic.Int64
		var wg sync.WaitGroup
		n := int64(b.N)
		b.ResetTimer()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx := context.Background()
				for next.Add(1) <= n {
					_ = noop.Call(ctx, &load.ops[0])
				}
			}()
		}
		wg.Wait()
	})
	b.Run("impl=engine/loop=closed", func(b *testing.B) {
		b.ReportAllocs()
		b.ResetTimer()
		res, err := Run(context.Background(), Config{Calls: int64(b.N), Workers: workers}, load, noop)
		if err != nil {
			b.Fatal(err)
		}
		if res.Calls != int64(b.N) {
			b.Fatalf("recorded %d of %d calls", res.Calls, b.N)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/call")
	})
	b.Run("impl=engine/loop=open", func(b *testing.B) {
		// A rate far above what the machine can schedule: every call is due
		// at once, so this measures the open loop's bookkeeping, not sleeping.
		b.ReportAllocs()
		b.ResetTimer()
		res, err := Run(context.Background(), Config{Rate: 1e8, Calls: int64(b.N), Workers: workers}, load, noop)
		if err != nil {
			b.Fatal(err)
		}
		if res.Calls != int64(b.N) {
			b.Fatalf("recorded %d of %d calls", res.Calls, b.N)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/call")
	})
}
