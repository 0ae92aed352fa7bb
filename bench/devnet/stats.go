package devnet

import (
	"math/bits"
	"sync/atomic"
)

// Kinds of injected faults, the keys of Stats.Injected.
const (
	InjectedDropBefore   = "drop_before"        // connection closed, request not processed
	InjectedDropAfter    = "drop_after"         // request processed, connection closed unanswered
	InjectedRateLimited  = "rate_limited"       // HTTP 429
	InjectedServerError  = "server_error"       // HTTP 500/502/503
	InjectedBatchLimit   = "batch_limit"        // batch refused for its size
	InjectedResponseSize = "response_too_large" // elements answered -32003
	InjectedReordered    = "reordered"          // batch answers shuffled
	InjectedMissing      = "missing"            // batch elements left unanswered
	InjectedLatency      = "latency"            // requests delayed by Latency*
	InjectedStalled      = "stalled"            // requests held by Stall
)

var injectedKinds = []string{
	InjectedDropBefore, InjectedDropAfter, InjectedRateLimited, InjectedServerError,
	InjectedBatchLimit, InjectedResponseSize, InjectedReordered, InjectedMissing,
	InjectedLatency, InjectedStalled,
}

// Stats is a snapshot of the server's counters, the same data GET
// /debug/stats serves as JSON. Counters only grow until ResetStats.
type Stats struct {
	// Requests is the number of POSTs to /v2 and /v3, faulted ones included.
	Requests uint64 `json:"requests"`
	// Calls is the number of request objects processed, notifications
	// included, invalid elements excluded.
	Calls uint64 `json:"calls"`
	// Notifications is the number of calls without an id.
	Notifications uint64 `json:"notifications"`
	// Singles is the number of bodies holding one request object.
	Singles uint64 `json:"singles"`
	// Batches is the number of non-empty array bodies.
	Batches uint64 `json:"batches"`
	// BatchSizes is the histogram of batch sizes (array bodies only), in
	// power-of-two buckets; empty buckets are left out.
	BatchSizes []BatchSizeBucket `json:"batchSizes"`
	// ParseErrors counts bodies answered -32700.
	ParseErrors uint64 `json:"parseErrors"`
	// InvalidRequests counts bodies and elements answered -32600.
	InvalidRequests uint64 `json:"invalidRequests"`
	// Injected counts injected faults by kind (the Injected… constants);
	// every kind is present.
	Injected map[string]uint64 `json:"injected"`
	// Methods counts calls by "v2.<method>" or "v3.<method>"; methods the
	// server does not serve are counted under "unknown".
	Methods map[string]uint64 `json:"methods"`
	// BytesIn and BytesOut count request and response body bytes on the
	// JSON-RPC paths (BytesOut after compression).
	BytesIn  uint64 `json:"bytesIn"`
	BytesOut uint64 `json:"bytesOut"`
}

// BatchSizeBucket counts batches with Min ≤ size ≤ Max.
type BatchSizeBucket struct {
	Min   int    `json:"min"`
	Max   int    `json:"max"`
	Count uint64 `json:"count"`
}

const sizeBuckets = 17 // 1, 2–3, 4–7, …, ≥ 65536

// counters are the live counters; every field is updated atomically so
// handlers on many connections can count without a lock.
type counters struct {
	requests, calls, notifications, singles, batches atomic.Uint64
	parseErrors, invalid, bytesIn, bytesOut          atomic.Uint64
	sizes                                            [sizeBuckets]atomic.Uint64
	injected                                         map[string]*atomic.Uint64
	methods                                          map[string]*atomic.Uint64 // keyed "v3.query"; read-only after init
	methodsByAPI                                     [3]map[string]*atomic.Uint64
	unknownMethod                                    atomic.Uint64
}

func newCounters() *counters {
	c := &counters{injected: map[string]*atomic.Uint64{}, methods: map[string]*atomic.Uint64{}}
	for _, k := range injectedKinds {
		c.injected[k] = new(atomic.Uint64)
	}
	c.methodsByAPI[apiV2] = map[string]*atomic.Uint64{}
	c.methodsByAPI[apiV3] = map[string]*atomic.Uint64{}
	for m := range v2Methods {
		n := new(atomic.Uint64)
		c.methods["v2."+m] = n
		c.methodsByAPI[apiV2][m] = n
	}
	for m := range v3Methods {
		n := new(atomic.Uint64)
		c.methods["v3."+m] = n
		c.methodsByAPI[apiV3][m] = n
	}
	return c
}

func (c *counters) inject(kind string, n uint64) { c.injected[kind].Add(n) }

func (c *counters) method(v api, m []byte) {
	if n := c.methodsByAPI[v][string(m)]; n != nil {
		n.Add(1)
		return
	}
	c.unknownMethod.Add(1)
}

func (c *counters) batchSize(n int) {
	c.sizes[min(bits.Len(uint(n))-1, sizeBuckets-1)].Add(1)
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Requests:        c.requests.Load(),
		Calls:           c.calls.Load(),
		Notifications:   c.notifications.Load(),
		Singles:         c.singles.Load(),
		Batches:         c.batches.Load(),
		ParseErrors:     c.parseErrors.Load(),
		InvalidRequests: c.invalid.Load(),
		BytesIn:         c.bytesIn.Load(),
		BytesOut:        c.bytesOut.Load(),
		Injected:        make(map[string]uint64, len(c.injected)),
		Methods:         make(map[string]uint64),
		BatchSizes:      []BatchSizeBucket{},
	}
	for i := range c.sizes {
		if n := c.sizes[i].Load(); n > 0 {
			b := BatchSizeBucket{Min: 1 << i, Max: 1<<(i+1) - 1, Count: n}
			if i == sizeBuckets-1 {
				b.Max = 1<<31 - 1
			}
			s.BatchSizes = append(s.BatchSizes, b)
		}
	}
	for k, v := range c.injected {
		s.Injected[k] = v.Load()
	}
	for k, v := range c.methods {
		if n := v.Load(); n > 0 {
			s.Methods[k] = n
		}
	}
	if n := c.unknownMethod.Load(); n > 0 {
		s.Methods["unknown"] = n
	}
	return s
}

func (c *counters) reset() {
	for _, a := range []*atomic.Uint64{&c.requests, &c.calls, &c.notifications, &c.singles, &c.batches,
		&c.parseErrors, &c.invalid, &c.bytesIn, &c.bytesOut, &c.unknownMethod} {
		a.Store(0)
	}
	for i := range c.sizes {
		c.sizes[i].Store(0)
	}
	for _, v := range c.injected {
		v.Store(0)
	}
	for _, v := range c.methods {
		v.Store(0)
	}
}
