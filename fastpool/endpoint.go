package fastpool

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// EndpointSet is several URLs for one service (e.g. two nodes of one
// network). Do sends each request to the healthy endpoint with the fewest
// requests in flight and fails over to another endpoint when one fails,
// under the same idempotency rules as Pool.Do. Safe for concurrent use; it
// lives as long as its Pool.
type EndpointSet struct {
	p   *Pool
	eps []*endpoint
	rr  atomic.Uint32 // rotates ties so equal endpoints share load
}

type endpoint struct {
	url      string
	key      string // host key in the pool
	inFlight atomic.Int64
}

// NewEndpointSet returns a set over urls (absolute http or https URLs, each
// with the path requests go to, e.g. "http://node-1:26660/v3").
func (p *Pool) NewEndpointSet(urls ...string) (*EndpointSet, error) {
	if p.closed.Load() {
		return nil, ErrPoolClosed
	}
	if len(urls) == 0 {
		return nil, ErrNoEndpoints
	}
	s := &EndpointSet{p: p}
	var u fasthttp.URI
	for _, raw := range urls {
		if err := u.Parse(nil, []byte(raw)); err != nil {
			return nil, fmt.Errorf("%w: %q: %v", ErrInvalidURL, raw, err)
		}
		h, err := p.hostFor(&u)
		if err != nil {
			return nil, err
		}
		s.eps = append(s.eps, &endpoint{url: raw, key: h.key})
	}
	return s, nil
}

// URLs returns the set's URLs in the order given.
func (s *EndpointSet) URLs() []string {
	out := make([]string, len(s.eps))
	for i, ep := range s.eps {
		out[i] = ep.url
	}
	return out
}

// Do sets req's URI to the chosen endpoint's URL and sends it like
// Pool.Do. A retry goes to another endpoint when there is one (without
// backoff); a request that may have reached a failing endpoint is re-sent
// elsewhere only when idempotent.
func (s *EndpointSet) Do(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, opts ...RequestOption) error {
	return s.p.do(ctx, req, resp, applyOptions(opts), s)
}

// healthy reports the endpoint's host health; an unknown host (never used
// or dropped as stale) counts as healthy.
func (s *EndpointSet) healthy(ep *endpoint) bool {
	h := (*s.p.hosts.Load())[ep.key]
	return h == nil || !h.unhealthy.Load()
}

// pick returns the healthy endpoint with the fewest requests in flight,
// avoiding avoid (the one that just failed) when another exists. An
// unhealthy endpoint gets one trial request per MaxRetryDelay (it wins the
// next pick), so recovery is noticed without the monitor. When every
// endpoint is unhealthy it still picks one: a request is better than none.
func (s *EndpointSet) pick(avoid *endpoint) *endpoint {
	n := len(s.eps)
	if n == 1 {
		return s.eps[0]
	}
	hosts := *s.p.hosts.Load()
	start := int(s.rr.Add(1)) % n
	var best *endpoint
	var bestHost *host
	var now time.Time
	bestRank := int64(0)
	for i := range n {
		ep := s.eps[(start+i)%n]
		// rank: a due trial first, then healthy, then not the one that just
		// failed, then fewest in flight.
		rank := ep.inFlight.Load()
		if ep == avoid {
			rank += 1 << 40
		}
		h := hosts[ep.key]
		if h != nil && h.unhealthy.Load() {
			if now.IsZero() {
				now = time.Now()
			}
			if ep != avoid && h.trialDue(now) {
				rank = -1
			} else {
				rank += 1 << 50
			}
		}
		if best == nil || rank < bestRank {
			best, bestHost, bestRank = ep, h, rank
		}
	}
	if bestRank == -1 {
		bestHost.takeTrial(now)
	}
	return best
}

// hasOther reports whether a healthy endpoint other than ep exists.
func (s *EndpointSet) hasOther(ep *endpoint) bool {
	for _, e := range s.eps {
		if e != ep && s.healthy(e) {
			return true
		}
	}
	return false
}
