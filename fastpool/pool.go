package fastpool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Pool is a pooled, health-checked, retrying HTTP/1.1 client. It keeps
// keep-alive connections per scheme+host+port under a per-host and a total
// limit. A Pool is safe for concurrent use; create it with New, optionally
// Start its health monitor, and Close it when done.
type Pool struct {
	cfg    Config
	dialer net.Dialer

	hosts   atomic.Pointer[map[string]*host] // copy-on-write: lookups take no lock
	hostsMu sync.Mutex                       // serializes writers of hosts

	totalOpen atomic.Int32 // open plus dialing connections, all hosts
	waiting   atomic.Int32 // waiters blocked by MaxConns

	retired hostTotals // counters of hosts dropped by the stale sweep

	// connCheckAfter is the idle time after which a connection is peeked
	// at before reuse (a field so tests can shorten it).
	connCheckAfter time.Duration

	// testHookTotalFull, when set (by tests), runs in acquire after the
	// total limit refused a slot and no idle connection could be evicted,
	// before the caller registers as a waiter.
	testHookTotalFull func()

	closed    atomic.Bool
	closeOnce sync.Once
	startMu   sync.Mutex
	started   bool
	stop      context.CancelFunc
	monitorWG sync.WaitGroup
	monitorCx context.Context
}

// New returns a Pool for cfg (zero fields take their defaults). It starts no
// goroutine; call Start for health checks and stale-host cleanup.
func New(cfg Config) (*Pool, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Pool{cfg: cfg.withDefaults(), connCheckAfter: connCheckAfter}
	// The pool owns its dialer: net.Dialer starts no background goroutine
	// (fasthttp's default TCPDialer keeps a DNS-cache cleaner alive), so
	// Close leaves nothing behind.
	p.dialer = net.Dialer{KeepAlive: 15 * time.Second}
	m := map[string]*host{}
	p.hosts.Store(&m)
	p.monitorCx, p.stop = context.WithCancel(context.Background())
	return p, nil
}

// Config returns the pool's configuration with defaults filled in.
func (p *Pool) Config() Config { return p.cfg }

// Close stops the health monitor and waits for it, closes every idle
// connection and makes every later call fail with ErrPoolClosed. Requests in
// flight are interrupted: their blocked reads and writes fail at once, Do
// returns an error wrapping ErrPoolClosed (a request interrupted after its
// bytes went out may still have reached the server, as the error says), and
// their connections are closed. Close is idempotent and always returns nil.
func (p *Pool) Close() error {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		p.startMu.Lock()
		p.stop()
		p.startMu.Unlock()
		p.monitorWG.Wait()
		for _, h := range *p.hosts.Load() {
			h.shutdown()
			h.interruptAll()
		}
	})
	return nil
}

// shutdown closes the idle connections and wakes every waiter (who then sees
// the pool closed or the host dead).
func (h *host) shutdown() {
	h.mu.Lock()
	h.dead = true
	idle := h.idle
	h.idle = nil
	ws := h.waiters
	h.waiters = nil
	for _, w := range ws {
		if w.total {
			h.p.waiting.Add(-1)
		}
	}
	h.mu.Unlock()
	for _, c := range idle {
		h.closeConn(c)
	}
	for _, w := range ws {
		w.ch <- nil
	}
}

// hostFor returns the host state for uri, creating it on first use.
func (p *Pool) hostFor(uri *fasthttp.URI) (*host, error) {
	scheme := uri.Scheme()
	name := uri.Host()
	if len(name) == 0 {
		return nil, fmt.Errorf("%w: no host in %q", ErrInvalidURL, uri.FullURI())
	}
	var isTLS bool
	switch {
	case bytes.Equal(scheme, strHTTP):
		isTLS = false
	case bytes.Equal(scheme, strHTTPS):
		isTLS = true
	default:
		return nil, fmt.Errorf("%w: scheme %q in %q", ErrInvalidURL, scheme, uri.FullURI())
	}
	var kb [96]byte
	key := append(append(append(kb[:0], scheme...), "://"...), name...)
	if h := (*p.hosts.Load())[string(key)]; h != nil {
		return h, nil
	}
	return p.addHost(string(key), string(name), isTLS)
}

var (
	strHTTP  = []byte("http")
	strHTTPS = []byte("https")
)

func (p *Pool) addHost(key, name string, isTLS bool) (*host, error) {
	p.hostsMu.Lock()
	defer p.hostsMu.Unlock()
	if p.closed.Load() {
		return nil, ErrPoolClosed
	}
	old := *p.hosts.Load()
	if h := old[key]; h != nil {
		return h, nil
	}
	addr := name
	if _, _, err := net.SplitHostPort(name); err != nil {
		if isTLS {
			addr = net.JoinHostPort(strings.Trim(name, "[]"), "443")
		} else {
			addr = net.JoinHostPort(strings.Trim(name, "[]"), "80")
		}
	}
	h := newHost(p, key, name, addr, isTLS)
	m := make(map[string]*host, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[key] = h
	p.hosts.Store(&m)
	return h, nil
}

// dropHost removes h from the map (the stale sweep) and folds its counters
// into the pool totals, unless a request is using or waiting for one of its
// connections. The sweep's idle check reads counters without h.mu, so an
// attempt may have taken a connection since; deciding under h.mu, and
// marking h dead and removing it from the map while still holding it,
// means such a request keeps a host that Close still reaches, no second
// host for the same key exceeds MaxConnsPerHost, and no request finds a
// dead host still in the map (it would look it up again and again).
// Requests that took h from the map before find it dead and look again.
func (p *Pool) dropHost(h *host) {
	p.hostsMu.Lock() // hostsMu, then h.mu: nothing takes them the other way
	old := *p.hosts.Load()
	if old[h.key] != h {
		p.hostsMu.Unlock()
		return
	}
	h.mu.Lock()
	if h.open > len(h.idle) || len(h.waiters) > 0 {
		h.mu.Unlock()
		p.hostsMu.Unlock()
		return
	}
	h.dead = true
	m := make(map[string]*host, len(old))
	for k, v := range old {
		if v != h {
			m[k] = v
		}
	}
	p.hosts.Store(&m)
	h.mu.Unlock()
	p.hostsMu.Unlock()
	h.shutdown()
	p.retired.add(h)
}

// reserveTotal takes one slot of MaxConns if one is free.
func (p *Pool) reserveTotal() bool {
	for {
		n := p.totalOpen.Load()
		if int(n) >= p.cfg.MaxConns {
			return false
		}
		if p.totalOpen.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// evictIdleExcept closes the longest-idle connection of a host other than
// except, to free a MaxConns slot. It reports whether it closed one.
func (p *Pool) evictIdleExcept(except *host) bool {
	for _, h := range *p.hosts.Load() {
		if h == except {
			continue
		}
		h.mu.Lock()
		if len(h.idle) == 0 {
			h.mu.Unlock()
			continue
		}
		c := h.idle[0]
		copy(h.idle, h.idle[1:])
		h.idle[len(h.idle)-1] = nil
		h.idle = h.idle[:len(h.idle)-1]
		h.mu.Unlock()
		h.closeConn(c) // may wake a waiter of h, which is fair
		return true
	}
	return false
}

// totalSlotFree reports whether a MaxConns slot is free or a host other
// than except holds an idle connection that could be evicted for one.
func (p *Pool) totalSlotFree(except *host) bool {
	if int(p.totalOpen.Load()) < p.cfg.MaxConns {
		return true
	}
	for _, h := range *p.hosts.Load() {
		if h == except {
			continue
		}
		h.mu.Lock()
		n := len(h.idle)
		h.mu.Unlock()
		if n > 0 {
			return true
		}
	}
	return false
}

// wakeAny wakes one waiter blocked by MaxConns on any host.
func (p *Pool) wakeAny() {
	for _, h := range *p.hosts.Load() {
		h.mu.Lock()
		var w *waiter
		for i, x := range h.waiters {
			if x.total {
				w = x
				copy(h.waiters[i:], h.waiters[i+1:])
				h.waiters[len(h.waiters)-1] = nil
				h.waiters = h.waiters[:len(h.waiters)-1]
				p.waiting.Add(-1)
				break
			}
		}
		h.mu.Unlock()
		if w != nil {
			w.ch <- nil
			return
		}
	}
}

// ActiveConnections returns the number of open connections (busy or idle)
// across all hosts.
func (p *Pool) ActiveConnections() int { return int(p.totalOpen.Load()) }

// mapTimeout turns a timeout of an attempt into the error a caller expects:
// the context's error when the context ended (so errors.Is with
// context.DeadlineExceeded or context.Canceled works), ErrAttemptTimeout when
// RequestTimeout fired first, else err itself.
func mapTimeout(ctx context.Context, deadline time.Time, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		if errors.Is(err, cerr) {
			return cerr
		}
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	var te interface{ Timeout() bool }
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &te) && te.Timeout()) {
		if ctxDL, ok := ctx.Deadline(); ok && !ctxDL.After(deadline) {
			return context.DeadlineExceeded
		}
		return fmt.Errorf("%w (%v)", ErrAttemptTimeout, err)
	}
	return err
}

// joinExhausted marks a connection-wait failure as ErrPoolExhausted while
// keeping the context's error visible to errors.Is.
func joinExhausted(err error) error {
	return &exhaustedError{cause: err}
}

type exhaustedError struct{ cause error }

func (e *exhaustedError) Error() string   { return ErrPoolExhausted.Error() + ": " + e.cause.Error() }
func (e *exhaustedError) Unwrap() []error { return []error{ErrPoolExhausted, e.cause} }
