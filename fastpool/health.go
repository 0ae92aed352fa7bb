package fastpool

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Start starts the health monitor: every HealthCheckInterval it probes each
// known host, and on every tick it closes idle connections past
// KeepAliveTimeout and drops hosts unused for MaxIdleTime. Close stops it and
// waits for it. Calling Start twice is a no-op; after Close it returns
// ErrPoolClosed.
func (p *Pool) Start() error {
	p.startMu.Lock()
	defer p.startMu.Unlock()
	if p.closed.Load() {
		return ErrPoolClosed
	}
	if p.started {
		return nil
	}
	p.started = true
	p.monitorWG.Add(1)
	go p.monitor(p.monitorCx)
	return nil
}

// tick is how often the monitor wakes: often enough to enforce the shortest
// of the three periods it serves within half of it.
func (p *Pool) tick() time.Duration {
	t := min(p.cfg.KeepAliveTimeout, p.cfg.MaxIdleTime)
	if p.cfg.HealthCheckInterval > 0 {
		t = min(t, p.cfg.HealthCheckInterval)
	}
	return max(t/2, time.Millisecond)
}

func (p *Pool) monitor(ctx context.Context) {
	defer p.monitorWG.Done()
	t := time.NewTicker(p.tick())
	defer t.Stop()
	lastProbe := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p.sweep(now)
			if p.cfg.HealthCheckInterval > 0 && now.Sub(lastProbe) >= p.cfg.HealthCheckInterval {
				lastProbe = now
				p.probeAll(ctx)
			}
		}
	}
}

// sweep closes expired idle connections and drops stale hosts.
func (p *Pool) sweep(now time.Time) {
	for _, h := range *p.hosts.Load() {
		for _, c := range h.takeIdle(now, p.cfg.KeepAliveTimeout) {
			h.closeConn(c)
		}
		if c := h.counters(); c.inFlight == 0 && now.Sub(time.Unix(0, c.lastUse)) > p.cfg.MaxIdleTime {
			p.dropHost(h)
		}
	}
}

// probeAll probes every host concurrently and waits for all probes (each
// bounded by the interval and RequestTimeout, and by ctx).
func (p *Pool) probeAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, h := range *p.hosts.Load() {
		wg.Go(func() { p.probe(ctx, h) })
	}
	wg.Wait()
}

// probe sends one health request to h. Any HTTP answer below 500 marks the
// host healthy; a transport failure or a 5xx marks it unhealthy. Probes do
// not count as use, so they never keep a stale host alive, and do not enter
// the request stats.
func (p *Pool) probe(ctx context.Context, h *host) {
	timeout := min(p.cfg.RequestTimeout, p.cfg.HealthCheckInterval)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(h.key + p.cfg.HealthCheckPath)
	req.Header.SetMethod(p.cfg.HealthCheckMethod)
	req.Header.SetUserAgent(p.cfg.UserAgent)
	if len(p.cfg.HealthCheckBody) > 0 {
		req.SetBody(p.cfg.HealthCheckBody)
		req.Header.SetContentType("application/json")
	}
	now := time.Now()
	dl, _ := ctx.Deadline()
	s := h.shard()
	s.inFlight.Add(1)
	_, err := p.roundTrip(ctx, h, s, req, resp, now, dl)
	s.inFlight.Add(-1)
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return // Close, not the host
	}
	if errors.Is(err, ErrPoolExhausted) {
		return // every connection busy: the host is loaded, not sick
	}
	if err == nil && resp.StatusCode() < 500 {
		h.consecFails.Store(0)
		h.unhealthy.Store(false)
	} else {
		h.markUnhealthy()
	}
}

// WarmUp opens one connection to each URL's host concurrently (a TCP dial
// and TLS handshake, no request) and parks it idle, so the first real
// request pays neither. Each failure is reported, joined with errors.Join,
// without stopping the others. A host already holding an idle connection is
// left as it is.
func (p *Pool) WarmUp(ctx context.Context, urls []string) error {
	if p.closed.Load() {
		return ErrPoolClosed
	}
	errs := make([]error, len(urls))
	var wg sync.WaitGroup
	for i, raw := range urls {
		wg.Go(func() {
			if err := p.warm(ctx, raw); err != nil {
				errs[i] = fmt.Errorf("fastpool: warm up %s: %w", raw, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (p *Pool) warm(ctx context.Context, raw string) error {
	var u fasthttp.URI
	if err := u.Parse(nil, []byte(raw)); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	h, err := p.hostFor(&u)
	if err != nil {
		return err
	}
	h.mu.Lock()
	n := len(h.idle)
	h.mu.Unlock()
	if n > 0 {
		return nil
	}
	now := time.Now()
	deadline := now.Add(p.cfg.ConnectTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	c, _, err := h.acquire(ctx, now, deadline)
	if err != nil {
		var ae *attemptError
		if errors.As(err, &ae) {
			return ae.err
		}
		return err
	}
	h.shard().lastUse.Store(now.UnixNano())
	h.release(c, time.Now())
	return nil
}
