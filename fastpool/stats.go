package fastpool

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// HostStats describes one scheme+host+port. Requests, Errors and Retries
// count attempts: a Do that succeeds on its second attempt adds 2 requests,
// 1 error and 1 retry.
type HostStats struct {
	Host          string        // "http://127.0.0.1:8080"
	Requests      uint64        // attempts sent (or tried) to this host
	Errors        uint64        // attempts that failed in transport or with a 5xx status
	Retries       uint64        // attempts that were retries
	BytesSent     uint64        // bytes written to its connections (on the wire, TLS included)
	BytesReceived uint64        // bytes read from its connections
	OpenConns     int           // open connections, busy or idle (dials in progress included)
	IdleConns     int           // idle keep-alive connections
	InFlight      int           // attempts running now
	Age           time.Duration // since the host was first used
	IdleTime      time.Duration // since the last request started
	ErrorRate     float64       // Errors / Requests
	P50, P99      time.Duration // attempt latency
	Healthy       bool          // false after a failed probe or UnhealthyAfter failures in a row
}

// Stats is a snapshot of the pool.
type Stats struct {
	Hosts []HostStats // sorted by Host

	// Totals over all hosts, including hosts dropped as stale.
	Requests, Errors, Retries uint64
	BytesSent, BytesReceived  uint64
	OpenConns, IdleConns      int
	InFlight                  int
}

// Stats returns a snapshot. It takes each host's lock briefly and never
// blocks the request path for long; safe to call while traffic flows.
func (p *Pool) Stats() Stats {
	var s Stats
	now := time.Now()
	for _, h := range *p.hosts.Load() {
		hs := h.stats(now)
		s.Hosts = append(s.Hosts, hs)
		s.Requests += hs.Requests
		s.Errors += hs.Errors
		s.Retries += hs.Retries
		s.BytesSent += hs.BytesSent
		s.BytesReceived += hs.BytesReceived
		s.IdleConns += hs.IdleConns
		s.InFlight += hs.InFlight
	}
	s.OpenConns = int(p.totalOpen.Load())
	s.Requests += p.retired.requests.Load()
	s.Errors += p.retired.errors.Load()
	s.Retries += p.retired.retries.Load()
	s.BytesSent += p.retired.bytesSent.Load()
	s.BytesReceived += p.retired.bytesRecv.Load()
	slices.SortFunc(s.Hosts, func(a, b HostStats) int {
		switch {
		case a.Host < b.Host:
			return -1
		case a.Host > b.Host:
			return 1
		}
		return 0
	})
	return s
}

func (h *host) stats(now time.Time) HostStats {
	c := h.counters()
	hs := HostStats{
		Host:          h.key,
		Requests:      c.requests,
		Errors:        c.errors,
		Retries:       c.retries,
		BytesSent:     c.bytesSent,
		BytesReceived: c.bytesRecv,
		InFlight:      int(c.inFlight),
		Age:           now.Sub(h.created),
		IdleTime:      now.Sub(time.Unix(0, c.lastUse)),
		Healthy:       !h.unhealthy.Load(),
	}
	if hs.Requests > 0 {
		hs.ErrorRate = float64(hs.Errors) / float64(hs.Requests)
	}
	h.mu.Lock()
	hs.OpenConns = h.open
	hs.IdleConns = len(h.idle)
	h.mu.Unlock()
	lat := hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 2)
	for i := range h.shards {
		s := &h.shards[i]
		s.latMu.Lock()
		lat.Merge(s.lat)
		s.latMu.Unlock()
	}
	hs.P50 = time.Duration(lat.ValueAtQuantile(50)) * time.Microsecond
	hs.P99 = time.Duration(lat.ValueAtQuantile(99)) * time.Microsecond
	return hs
}

func (s *hostShard) recordLatency(d time.Duration) {
	us := max(int64(d/time.Microsecond), 1)
	s.latMu.Lock()
	_ = s.lat.RecordValue(us) // beyond an hour: dropped, not wrapped
	s.latMu.Unlock()
}

// succeeded and failed drive the request-based health state.
func (h *host) succeeded() {
	if h.consecFails.Load() != 0 {
		h.consecFails.Store(0)
	}
	if h.unhealthy.Load() {
		h.unhealthy.Store(false)
	}
}

func (h *host) failed() {
	if int(h.consecFails.Add(1)) >= h.p.cfg.UnhealthyAfter {
		h.markUnhealthy()
	}
}

func (h *host) markUnhealthy() {
	if !h.unhealthy.Load() {
		h.unhealthyAt.Store(time.Now().UnixNano())
		h.unhealthy.Store(true)
	}
}

// trialDue reports whether an unhealthy host is due one trial request (at
// most one per MaxRetryDelay), so endpoint sets notice recovery even without
// the health monitor; takeTrial records that it was sent.
func (h *host) trialDue(now time.Time) bool {
	return now.UnixNano()-h.unhealthyAt.Load() >= int64(h.p.cfg.MaxRetryDelay)
}

func (h *host) takeTrial(now time.Time) { h.unhealthyAt.Store(now.UnixNano()) }

// hostTotals keeps the counters of hosts dropped by the stale sweep.
type hostTotals struct {
	requests, errors, retries, bytesSent, bytesRecv atomic.Uint64
}

func (t *hostTotals) add(h *host) {
	c := h.counters()
	t.requests.Add(c.requests)
	t.errors.Add(c.errors)
	t.retries.Add(c.retries)
	t.bytesSent.Add(c.bytesSent)
	t.bytesRecv.Add(c.bytesRecv)
}
