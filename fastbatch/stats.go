package fastbatch

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/sys/cpu"
)

// Counter indexes of shardedCounters.
const (
	ctrSubmitted = iota
	ctrCompleted
	ctrFailed
	ctrDedupHits
	numCounters
)

const counterShards = 16

// shardedCounters are per-call counters touched by every submitter and
// dispatcher. A call's shard is picked from its address: pooled calls are
// mostly per-P, so cores rarely share a cache line and nothing takes a lock.
type shardedCounters struct {
	shards [counterShards]struct {
		n [numCounters]atomic.Int64
		_ cpu.CacheLinePad
	}
}

func newShardedCounters() *shardedCounters { return new(shardedCounters) }

func (s *shardedCounters) add(c *call, ctr int, d int64) {
	i := (uintptr(unsafe.Pointer(c)) >> 7) % counterShards
	s.shards[i].n[ctr].Add(d)
}

func (s *shardedCounters) sum() (out [numCounters]int64) {
	for i := range s.shards {
		for j := range out {
			out[j] += s.shards[i].n[j].Load()
		}
	}
	return out
}

// Histogram ranges: latency in microseconds (1 µs .. 10 min), batch size in
// calls; 2 significant digits keep each histogram small.
const (
	latencyMaxMicros = int64(10 * time.Minute / time.Microsecond)
	sizeMax          = maxBatchSize
)

// workerStats belongs to one dispatcher; only it writes. Counters are
// atomics so Stats can read them without stopping anyone; histograms sit
// behind a mutex only Stats contends for.
type workerStats struct {
	batchesSent   atomic.Uint64
	batchesFailed atomic.Uint64
	retries       atomic.Uint64
	splits        atomic.Uint64
	bytesSent     atomic.Uint64
	bytesReceived atomic.Uint64
	batchNanos    atomic.Int64

	mu      sync.Mutex
	latency *hdrhistogram.Histogram
	sizes   *hdrhistogram.Histogram
	_       cpu.CacheLinePad
}

func newWorkerStats() *workerStats {
	return &workerStats{
		latency: hdrhistogram.New(1, latencyMaxMicros, 2),
		sizes:   hdrhistogram.New(1, sizeMax, 2),
	}
}

func (w *workerStats) batchSent(calls, sent, received int, d time.Duration) {
	w.batchesSent.Add(1)
	w.bytesSent.Add(uint64(sent))
	w.bytesReceived.Add(uint64(received))
	w.batchNanos.Add(int64(d))
	w.mu.Lock()
	_ = w.sizes.RecordValue(int64(calls))
	w.mu.Unlock()
}

func (w *workerStats) recordLatencies(nanos []int64) {
	w.mu.Lock()
	for _, n := range nanos {
		_ = w.latency.RecordValue(min(max(n/1000, 1), latencyMaxMicros))
	}
	w.mu.Unlock()
}

// Stats is a snapshot of a Client's counters. Counters are cumulative since
// New; gauges are the value at the snapshot.
type Stats struct {
	// RequestsSubmitted counts calls accepted by Submit/Call/Go/SubmitMany
	// (dedup followers included).
	RequestsSubmitted uint64
	// RequestsCompleted counts calls resolved with a result.
	RequestsCompleted uint64
	// RequestsFailed counts calls resolved with an error (server errors,
	// timeouts, cancellations and batch failures).
	RequestsFailed uint64
	// BatchesSent counts HTTP requests made (retries and split halves
	// included).
	BatchesSent uint64
	// BatchesFailed counts HTTP requests that failed as a whole.
	BatchesFailed uint64
	// TotalBatchTime is the summed duration of every HTTP request.
	TotalBatchTime time.Duration
	// AverageBatchTime is TotalBatchTime / BatchesSent.
	AverageBatchTime time.Duration
	// DedupHits counts calls that shared an identical call in flight.
	DedupHits uint64
	// PendingRequests is calls submitted and not yet resolved.
	PendingRequests int64
	// ActiveFutures is the same count seen as futures awaiting an outcome
	// (kept for parity with the Python SDK's stats).
	ActiveFutures int64
	// ActiveBatches is batches in flight.
	ActiveBatches int64
	// DedupCacheSize is distinct read calls in flight in the dedup table.
	DedupCacheSize int
	// SuccessRate is RequestsCompleted / (RequestsCompleted + RequestsFailed),
	// 1 when nothing finished yet.
	SuccessRate float64
	// QueueDepth is calls waiting in each band's ring, index = band.
	QueueDepth []int
	// BatchSizeP50 and BatchSizeP99 are calls per HTTP request.
	BatchSizeP50, BatchSizeP99 int64
	// LatencyP50, LatencyP99, LatencyP999 and LatencyMax are from submit to
	// resolution, per call (1% precision).
	LatencyP50, LatencyP99, LatencyP999, LatencyMax time.Duration
	// Retries counts batches re-sent by fastbatch (the Doer's own retries
	// are in its stats).
	Retries uint64
	// Splits counts batches split in halves after a whole-batch rejection
	// or a connection dropped on a large batch.
	Splits uint64
	// LearnedLimits is the batch limit learned per endpoint (absent when
	// none was learned).
	LearnedLimits map[string]int
	// BytesSent and BytesReceived count request and response bodies.
	BytesSent, BytesReceived uint64
}

// Stats returns a snapshot. It takes each dispatcher's histogram lock
// briefly; submitters are never blocked by it.
func (c *Client) Stats() Stats {
	n := c.counters.sum()
	st := Stats{
		RequestsSubmitted: uint64(n[ctrSubmitted]),
		RequestsCompleted: uint64(n[ctrCompleted]),
		RequestsFailed:    uint64(n[ctrFailed]),
		DedupHits:         uint64(n[ctrDedupHits]),
		PendingRequests:   n[ctrSubmitted] - n[ctrCompleted] - n[ctrFailed],
		ActiveBatches:     int64(c.asm.inflight.Load()),
		QueueDepth:        make([]int, len(c.bands)),
		SuccessRate:       1,
	}
	st.ActiveFutures = st.PendingRequests
	if done := st.RequestsCompleted + st.RequestsFailed; done > 0 {
		st.SuccessRate = float64(st.RequestsCompleted) / float64(done)
	}
	for i, r := range c.bands {
		st.QueueDepth[i] = r.Len()
	}
	if c.dedup != nil {
		st.DedupCacheSize = c.dedup.len()
	}
	lat := hdrhistogram.New(1, latencyMaxMicros, 2)
	sizes := hdrhistogram.New(1, sizeMax, 2)
	var nanos int64
	for _, w := range c.workerStats {
		st.BatchesSent += w.batchesSent.Load()
		st.BatchesFailed += w.batchesFailed.Load()
		st.Retries += w.retries.Load()
		st.Splits += w.splits.Load()
		st.BytesSent += w.bytesSent.Load()
		st.BytesReceived += w.bytesReceived.Load()
		nanos += w.batchNanos.Load()
		w.mu.Lock()
		lat.Merge(w.latency)
		sizes.Merge(w.sizes)
		w.mu.Unlock()
	}
	st.TotalBatchTime = time.Duration(nanos)
	if st.BatchesSent > 0 {
		st.AverageBatchTime = st.TotalBatchTime / time.Duration(st.BatchesSent)
	}
	st.BatchSizeP50 = sizes.ValueAtQuantile(50)
	st.BatchSizeP99 = sizes.ValueAtQuantile(99)
	st.LatencyP50 = time.Duration(lat.ValueAtQuantile(50)) * time.Microsecond
	st.LatencyP99 = time.Duration(lat.ValueAtQuantile(99)) * time.Microsecond
	st.LatencyP999 = time.Duration(lat.ValueAtQuantile(99.9)) * time.Microsecond
	st.LatencyMax = time.Duration(lat.Max()) * time.Microsecond
	if l := c.snd.limit(); l > 0 {
		st.LearnedLimits = map[string]int{c.set.endpoint: int(l)}
	}
	return st
}

// WritePrometheus writes s in the Prometheus text exposition format, metric
// names prefixed with "fastbatch_". It costs nothing unless called.
func (s Stats) WritePrometheus(w io.Writer) error {
	var err error
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	counter := func(name, help string, v uint64) {
		p("# HELP fastbatch_%s %s\n# TYPE fastbatch_%s counter\nfastbatch_%s %d\n", name, help, name, name, v)
	}
	gauge := func(name, help string, v float64) {
		p("# HELP fastbatch_%s %s\n# TYPE fastbatch_%s gauge\nfastbatch_%s %g\n", name, help, name, name, v)
	}
	counter("requests_submitted_total", "Calls submitted.", s.RequestsSubmitted)
	counter("requests_completed_total", "Calls resolved with a result.", s.RequestsCompleted)
	counter("requests_failed_total", "Calls resolved with an error.", s.RequestsFailed)
	counter("batches_sent_total", "HTTP requests sent.", s.BatchesSent)
	counter("batches_failed_total", "HTTP requests that failed as a whole.", s.BatchesFailed)
	counter("dedup_hits_total", "Calls that shared an identical call in flight.", s.DedupHits)
	counter("retries_total", "Batches re-sent by fastbatch.", s.Retries)
	counter("splits_total", "Batches split after a rejection.", s.Splits)
	counter("bytes_sent_total", "Request body bytes.", s.BytesSent)
	counter("bytes_received_total", "Response body bytes.", s.BytesReceived)
	gauge("pending_requests", "Calls submitted and not yet resolved.", float64(s.PendingRequests))
	gauge("active_batches", "Batches in flight.", float64(s.ActiveBatches))
	gauge("batch_size_p50", "Median calls per batch.", float64(s.BatchSizeP50))
	gauge("batch_size_p99", "99th percentile calls per batch.", float64(s.BatchSizeP99))
	gauge("latency_p50_seconds", "Median call latency.", s.LatencyP50.Seconds())
	gauge("latency_p99_seconds", "99th percentile call latency.", s.LatencyP99.Seconds())
	gauge("latency_p999_seconds", "99.9th percentile call latency.", s.LatencyP999.Seconds())
	p("# HELP fastbatch_queue_depth Calls waiting per priority band.\n# TYPE fastbatch_queue_depth gauge\n")
	for band, d := range s.QueueDepth {
		p("fastbatch_queue_depth{band=\"%d\"} %d\n", band, d)
	}
	if len(s.LearnedLimits) > 0 {
		p("# HELP fastbatch_learned_batch_limit Batch limit learned from the server.\n# TYPE fastbatch_learned_batch_limit gauge\n")
		for ep, l := range s.LearnedLimits {
			p("fastbatch_learned_batch_limit{endpoint=\"%s\"} %d\n", promLabel(ep), l)
		}
	}
	return err
}

// promLabel is endpoint as a Prometheus label value: without user info
// and query (which may hold credentials or API keys; a label is public),
// invalid UTF-8 replaced, and escaped as the text format wants (only \\,
// \" and \n; Go's %q escapes would make the scrape fail).
func promLabel(endpoint string) string {
	if u, err := url.Parse(endpoint); err == nil {
		u.User = nil
		u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
		endpoint = u.String()
	}
	endpoint = strings.ToValidUTF8(endpoint, "\uFFFD")
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(endpoint)
}
