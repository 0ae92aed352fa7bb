package fastbatch

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/batchring/batchring/fastpool"
)

// instantDoer answers every call of a batch at once with a fixed result,
// scanning the request for ids without a JSON parser, so the benchmark
// measures the client rather than the stand-in server.
type instantDoer struct {
	bufs sync.Pool
}

var idPrefix = []byte(`{"jsonrpc":"2.0","id":`)

func (d *instantDoer) Do(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, opts ...fastpool.RequestOption) error {
	bp, _ := d.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	out := append((*bp)[:0], '[')
	body := req.Body()
	for i := 0; i+len(idPrefix) <= len(body); {
		j := indexFrom(body, idPrefix, i)
		if j < 0 {
			break
		}
		k := j + len(idPrefix)
		e := k
		for e < len(body) && body[e] >= '0' && body[e] <= '9' {
			e++
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, idPrefix...)
		out = append(out, body[k:e]...)
		out = append(out, `,"result":{"recordType":"account","ok":true}}`...)
		i = e
	}
	out = append(out, ']')
	resp.SetStatusCode(fasthttp.StatusOK)
	resp.SetBody(out)
	*bp = out
	d.bufs.Put(bp)
	return nil
}

func indexFrom(b, sep []byte, from int) int {
	if i := bytes.Index(b[from:], sep); i >= 0 {
		return from + i
	}
	return -1
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkClientOverhead is the client-side cost of one call through the
// whole pipeline — encode (pre-encoded params), publish, assemble, encode
// the batch, decode the answer, resolve, copy the result — with a
// transport that answers instantly. Bar: ≤ 1 µs and ≤ 1 alloc per call.
// impl=fastbatch-append is the same through SubmitAppend into a buffer each
// caller reuses (no result copy).
func BenchmarkClientOverhead(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  Config
		// appendTo: SubmitAppend into a reused buffer instead of Submit.
		appendTo bool
	}{
		{"impl=fastbatch", Config{}, false},
		{"impl=fastbatch-nodedup", Config{Dedup: Off}, false},
		{"impl=fastbatch-2inflight", Config{MaxConcurrentBatches: 2}, false},
		{"impl=fastbatch-append", Config{}, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.cfg.Endpoint = testEndpoint
			c, err := New(bc.cfg, &instantDoer{})
			if err != nil {
				b.Fatal(err)
			}
			if err := c.Start(); err != nil {
				b.Fatal(err)
			}
			defer c.Stop(context.Background())
			var next atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(32) // 64 callers on 2 cores: enough to fill batches
			b.ResetTimer()
			cpu0 := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				g := next.Add(1)
				// Pre-encoded params, boxed once: converting a []byte to
				// `any` allocates, and that is the caller's choice (a pointer
				// to a params struct boxes for free).
				var params any = []byte(`{"query":{"queryType":"default"},"scope":"acc://bench` + strconv.FormatInt(g, 10) + `.acme/tokens"}`)
				ctx := context.Background()
				var buf []byte
				for pb.Next() {
					var err error
					if bc.appendTo {
						buf, err = c.SubmitAppend(ctx, buf[:0], "query", params)
					} else {
						_, err = c.Submit(ctx, "query", params)
					}
					if err != nil {
						panic(fmt.Sprint("submit: ", err))
					}
				}
			})
			b.StopTimer()
			// CPU per call, all goroutines of the process (the instant
			// transport included): wall-clock ns/op hides how many cores
			// were busy, and this machine is shared.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			st := c.Stats()
			b.ReportMetric(float64(st.BatchSizeP50), "calls/batch")
		})
	}
}

// BenchmarkLatencyUnderCPULoad is call latency while other goroutines keep
// every P busy (an indexer decoding blocks beside its calls, say): 2 spinning
// goroutines per P and 4 callers per P submitting through the instant
// transport. A call crosses three goroutines (caller, assembler,
// dispatcher), and each hand-off may wait for the scheduler to preempt a
// spinner (10 ms slices), so this measures how the pipeline's hand-offs and
// yields fare against the scheduler, not the client's CPU cost. Reports
// p50/p99/max of the calls (ns).
func BenchmarkLatencyUnderCPULoad(b *testing.B) {
	c, err := New(Config{Endpoint: testEndpoint}, &instantDoer{})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(); err != nil {
		b.Fatal(err)
	}
	defer c.Stop(context.Background())
	procs := runtime.GOMAXPROCS(0)
	var stop atomic.Bool
	var spinners sync.WaitGroup
	for range 2 * procs {
		spinners.Go(func() {
			x := 0
			for !stop.Load() {
				for j := range 1000 {
					x += j
				}
			}
			_ = x
		})
	}
	defer func() { stop.Store(true); spinners.Wait() }()
	var (
		mu   sync.Mutex
		lats []time.Duration
		next atomic.Int64
	)
	params := []byte(`{"scope":"acc://load.acme/tokens"}`)
	b.ResetTimer()
	var callers sync.WaitGroup
	for range 4 * procs {
		callers.Go(func() {
			mine := make([]time.Duration, 0, 64)
			for next.Add(1) <= int64(b.N) {
				start := time.Now()
				if _, err := c.Submit(context.Background(), "query", params); err != nil {
					panic(fmt.Sprint("submit: ", err))
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		})
	}
	callers.Wait()
	b.StopTimer()
	slices.Sort(lats)
	if len(lats) > 0 {
		b.ReportMetric(float64(lats[len(lats)/2]), "p50-ns")
		b.ReportMetric(float64(lats[len(lats)*99/100]), "p99-ns")
		b.ReportMetric(float64(lats[len(lats)-1]), "max-ns")
	}
}
