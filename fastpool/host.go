package fastpool

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/sys/cpu"
)

// connBufSize is the per-connection bufio size, fasthttp's default.
const connBufSize = 4096

// A request larger than the connection's write buffer leaves in two or
// more write syscalls (bufio fills the buffer, flushes it, then writes the
// rest), and the server may wake for the first part alone. A batch of 40+
// calls is past 4 KiB, so the write buffer grows to the request, in powers
// of two, up to maxWriteBuf; bigger requests take the split path.
const (
	maxWriteBuf = 256 << 10
	// writeHeaderSlack covers the request line and headers fasthttp writes
	// before the body.
	writeHeaderSlack = 1 << 10
)

// fitWriteBuf makes c's write buffer hold a request with a body of n bytes
// in one piece, if that is at most maxWriteBuf. The buffer is empty
// between requests, so swapping it loses nothing.
func (c *conn) fitWriteBuf(n int) {
	need := n + writeHeaderSlack
	if need <= c.bw.Size() || need > maxWriteBuf {
		return
	}
	size := c.bw.Size()
	for size < need {
		size *= 2
	}
	c.bw = bufio.NewWriterSize(c.nc, min(size, maxWriteBuf))
}

// conn is one pooled HTTP/1.1 connection. It is owned by exactly one
// goroutine at a time: the attempt that acquired it, or the host's idle list.
type conn struct {
	h       *host
	shard   *hostShard // where its byte counts go: the current attempt's shard
	nc      net.Conn   // *tls.Conn or *countConn
	raw     net.Conn   // the TCP connection under nc
	br      *bufio.Reader
	bw      *bufio.Writer
	writes  int // write calls on the connection, for tests
	created time.Time
	used    time.Time // when it last went idle
	// written and read count bytes moved during the current attempt; they
	// tell "provably not sent" apart from "may have reached the server".
	written, read int64

	// Per-attempt deadline and cancellation state, touched only by the
	// goroutine that owns the connection (see watchCtx).
	sockDL   time.Time       // the deadline set on the socket; zero: none or unknown
	watching bool            // an attempt is running: watchCtx may extend sockDL
	ctx      context.Context // the attempt's context when it can be cancelled, else nil
	start    time.Time       // when the attempt began
	deadline time.Time       // the attempt's real deadline
	stop     func() bool     // the cancellation hook, once the attempt outlived cancelPoll
}

// cancelPoll bounds how long a cancellation of the caller's context can go
// unnoticed by an attempt blocked in a read or write. Registering a
// context.AfterFunc per request costs a lock, a map insert and two
// allocations on the context; on a context that many goroutines share, that
// lock is contended (about 3 µs of CPU per request under load). Instead an
// attempt with a cancellable context first runs under a socket deadline of
// at most cancelPoll: most requests finish before it and pay nothing. One
// that hits it checks the context and, if still wanted, moves the socket
// deadline to the real one and registers the hook, so it is interrupted at
// once from then on.
const cancelPoll = 5 * time.Millisecond

// maxDeadlineSlack is how much earlier than wanted a socket deadline left
// by the previous attempt may be and still be kept: setting one costs a
// clock read and a runtime timer update (about 170 ns here), and a kept
// deadline that fires early is simply extended by watchCtx.
const maxDeadlineSlack = 2 * time.Millisecond

// armDeadline makes the socket deadline want, or up to maxDeadlineSlack
// (and half the time left) earlier, never later.
func (c *conn) armDeadline(now, want time.Time) error {
	if !c.sockDL.IsZero() && !c.sockDL.After(want) && want.Sub(c.sockDL) <= min(maxDeadlineSlack, want.Sub(now)/2) {
		return nil
	}
	c.sockDL = want
	return c.nc.SetDeadline(want)
}

// watchCtx is called (by countConn, in the attempt's goroutine) when a read
// or write failed with err. It reports whether to try again: true only when
// err is a socket deadline that came before the attempt's real deadline (a
// kept early deadline, or the end of the first cancelPoll slice) and the
// attempt is still wanted. Past the slice, the socket then runs to the real
// deadline under the cancellation hook, so it is interrupted at once.
func (c *conn) watchCtx(err error) bool {
	if !c.watching || c.stop != nil || !errors.Is(err, os.ErrDeadlineExceeded) || c.poolClosed() {
		return false
	}
	now := time.Now()
	if !now.Before(c.deadline) || (c.ctx != nil && c.ctx.Err() != nil) {
		return false
	}
	next, hook := c.deadline, false
	if c.ctx != nil {
		if slice := c.start.Add(cancelPoll); now.Before(slice) && slice.Before(c.deadline) {
			next = slice // a kept deadline fired early: finish the slice first
		} else {
			hook = true
		}
	}
	c.sockDL = next
	if c.raw.SetDeadline(next) != nil {
		return false
	}
	if hook {
		raw := c.raw
		c.stop = context.AfterFunc(c.ctx, func() { _ = raw.SetDeadline(pastTime) })
	}
	if c.poolClosed() {
		// Close may have interrupted the socket before the deadline above
		// replaced its: interrupt it again (the next failure returns false).
		_ = c.raw.SetDeadline(pastTime)
	}
	return true
}

// poolClosed reports whether the connection's pool was closed.
func (c *conn) poolClosed() bool {
	return c.h != nil && c.h.p != nil && c.h.p.closed.Load()
}

// endAttempt drops the attempt's cancellation state. It reports whether the
// cancellation hook ran (or is running): the socket deadline may then be
// moved into the past at any moment, so the connection must not be reused.
func (c *conn) endAttempt() (interrupted bool) {
	interrupted = c.stop != nil && !c.stop()
	c.ctx, c.stop, c.watching = nil, nil, false
	return interrupted
}

// countConn counts wire bytes for stats and for the not-sent proof. It sits
// under TLS, so it counts what really crossed the socket.
type countConn struct {
	net.Conn
	c *conn
}

func (cc *countConn) Read(b []byte) (int, error) {
	for {
		n, err := cc.Conn.Read(b)
		if n > 0 {
			cc.c.read += int64(n)
			cc.c.shard.bytesRecv.Add(uint64(n))
			return n, err
		}
		if err == nil || !cc.c.watchCtx(err) {
			return n, err
		}
	}
}

func (cc *countConn) Write(b []byte) (int, error) {
	total := 0
	for {
		n, err := cc.Conn.Write(b)
		cc.c.writes++
		if n > 0 {
			cc.c.written += int64(n)
			cc.c.shard.bytesSent.Add(uint64(n))
		}
		total += n
		b = b[n:]
		if err == nil || !cc.c.watchCtx(err) {
			return total, err
		}
		if len(b) == 0 {
			return total, nil
		}
	}
}

// waiter is a caller blocked on a full host. It receives a connection, or
// nil meaning "a connection slot was freed, try again".
type waiter struct {
	ch    chan *conn
	total bool // blocked by MaxConns, not MaxConnsPerHost
}

// host is the state for one scheme+host+port: its connections (an idle LIFO
// stack and a count of open ones), its waiters, its stats and health.
type host struct {
	p     *Pool
	key   string // "http://127.0.0.1:8080"
	name  string // "127.0.0.1:8080" as written in URLs
	addr  string // dial address, default port filled in
	isTLS bool
	tls   *tls.Config

	mu      sync.Mutex
	idle    []*conn // most recently used last
	open    int     // open plus dialing connections
	waiters []*waiter
	dead    bool // dropped by the stale sweep or Close; no new connections
	// conns holds every open connection, idle or carrying an attempt, so
	// that Close can interrupt the attempts in flight. Changed only when a
	// connection is dialled or closed, never per request.
	conns map[*conn]struct{}

	consecFails atomic.Int32
	unhealthy   atomic.Bool
	unhealthyAt atomic.Int64 // unix nanos: marked unhealthy, or last trial
	created     time.Time

	// shards hold the per-request counters (see hostShard); len is a
	// power of two, shardMask = len-1.
	shards    []hostShard
	shardMask uint32
}

// hostShard is one slice of a host's request counters and latency
// histogram. Every attempt writes a handful of counters and records a
// latency; with one set per host those writes bounce one cache line (and a
// histogram lock) between every core sending to the host. An attempt picks
// a shard at random instead, and Stats sums them.
type hostShard struct {
	requests, errors, retries atomic.Uint64
	bytesSent, bytesRecv      atomic.Uint64
	inFlight                  atomic.Int64
	lastUse                   atomic.Int64 // unix nanos of the last request start

	latMu sync.Mutex
	lat   *hdrhistogram.Histogram // attempt latency in µs

	_ cpu.CacheLinePad // keeps the next shard's counters off this one's line
}

// shardCount is a power of two, about twice the cores that can send at once,
// so two concurrent attempts rarely share a shard; at most 16, since each
// shard's histogram takes about 27 KB.
func shardCount() int {
	n := 1
	for n < 2*runtime.GOMAXPROCS(0) && n < 16 {
		n *= 2
	}
	return n
}

// shard picks a shard for one attempt (math/rand/v2's top-level functions
// use a per-thread generator: no shared state).
func (h *host) shard() *hostShard { return &h.shards[rand.Uint32()&h.shardMask] }

// counters sums the shards.
func (h *host) counters() (c hostCounters) {
	for i := range h.shards {
		s := &h.shards[i]
		c.requests += s.requests.Load()
		c.errors += s.errors.Load()
		c.retries += s.retries.Load()
		c.bytesSent += s.bytesSent.Load()
		c.bytesRecv += s.bytesRecv.Load()
		c.inFlight += s.inFlight.Load()
		c.lastUse = max(c.lastUse, s.lastUse.Load())
	}
	return c
}

type hostCounters struct {
	requests, errors, retries, bytesSent, bytesRecv uint64
	inFlight, lastUse                               int64
}

func newHost(p *Pool, key, name, addr string, isTLS bool) *host {
	n := shardCount()
	h := &host{
		p: p, key: key, name: name, addr: addr, isTLS: isTLS,
		created:   time.Now(),
		shards:    make([]hostShard, n),
		shardMask: uint32(n - 1),
	}
	for i := range h.shards {
		h.shards[i].lat = hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 2)
	}
	h.shards[0].lastUse.Store(h.created.UnixNano())
	if isTLS {
		if p.cfg.TLSConfig != nil {
			h.tls = p.cfg.TLSConfig.Clone()
		} else {
			h.tls = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if h.tls.ClientSessionCache == nil {
			// Resume sessions: a redial (after an idle timeout, a server
			// restart) then skips the full handshake.
			h.tls.ClientSessionCache = tls.NewLRUClientSessionCache(16)
		}
		if h.tls.ServerName == "" {
			hn, _, err := net.SplitHostPort(addr)
			if err != nil {
				hn = addr
			}
			h.tls.ServerName = hn
		}
	}
	return h
}

// errHostGone tells Do to look the host up again: the stale sweep dropped it
// between lookup and use.
var errHostGone = &attemptError{stage: "wait", err: errStale}

var errStale = staleErr{}

type staleErr struct{}

func (staleErr) Error() string { return "fastpool: host state dropped" }

// acquire returns an idle connection (reused=true) or a fresh one, waiting
// for a free slot until ctx ends or deadline passes. Errors are
// *attemptError with maybeSent false.
func (h *host) acquire(ctx context.Context, now, deadline time.Time) (c *conn, reused bool, err error) {
	p := h.p
	var w *waiter
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		h.mu.Lock()
		if p.closed.Load() {
			h.mu.Unlock()
			return nil, false, &attemptError{stage: "wait", err: ErrPoolClosed}
		}
		if h.dead {
			h.mu.Unlock()
			return nil, false, errHostGone
		}
		if n := len(h.idle); n > 0 {
			c = h.idle[n-1]
			h.idle[n-1] = nil
			h.idle = h.idle[:n-1]
			h.mu.Unlock()
			// The stack is LIFO: if the top is past KeepAliveTimeout or was
			// closed by the server, it is discarded and the next one checked.
			// The liveness peek costs a syscall, so only connections idle
			// long enough for a server's idle timeout to have fired pay it;
			// a request written into a dead connection could not be retried
			// unless idempotent.
			if idle := now.Sub(c.used); idle <= p.cfg.KeepAliveTimeout && (idle < p.connCheckAfter || h.stillOpen(c)) {
				return c, true, nil
			}
			h.closeConn(c)
			continue
		}
		if h.open < p.cfg.MaxConnsPerHost {
			if p.reserveTotal() {
				h.open++
				h.mu.Unlock()
				c, err = h.dial(ctx, deadline)
				if err != nil {
					h.slotFreed()
					return nil, false, &attemptError{stage: "dial", err: p.attemptErr(ctx, deadline, err)}
				}
				return c, false, nil
			}
			// The total limit binds, not this host's: take an idle
			// connection away from another host rather than wait for its
			// keep-alive to expire.
			h.mu.Unlock()
			if p.evictIdleExcept(h) {
				continue
			}
			if p.testHookTotalFull != nil {
				p.testHookTotalFull()
			}
			h.mu.Lock()
			if h.dead || p.closed.Load() || len(h.idle) > 0 || h.open < p.cfg.MaxConnsPerHost && int(p.totalOpen.Load()) < p.cfg.MaxConns {
				// While the lock was free, Close ran, one of h's own
				// connections came back idle (its release saw nobody
				// waiting and woke nobody), or a slot was freed: look
				// again rather than wait unwoken.
				h.mu.Unlock()
				continue
			}
		}
		if w == nil {
			w = &waiter{ch: make(chan *conn, 1)}
		}
		// A waiter below its host's limit waits for the total limit: any
		// host that frees a slot must wake it.
		w.total = h.open < p.cfg.MaxConnsPerHost
		h.waiters = append(h.waiters, w)
		if w.total {
			p.waiting.Add(1)
		}
		h.mu.Unlock()
		if w.total && p.totalSlotFree(h) {
			// A slot was freed, or another host parked an idle connection,
			// between reserveTotal failing and p.waiting counting us: its
			// owner saw nobody waiting and woke nobody. Try again rather
			// than sleep to the deadline beside a free slot. (p.waiting is
			// raised before this check and read after every free, so one of
			// the two sides always sees the other.)
			h.mu.Lock()
			removed := h.removeWaiter(w)
			h.mu.Unlock()
			if removed {
				continue
			}
			// Already popped: a connection or a wake-up is on its way.
		}

		if timer == nil {
			timer = time.NewTimer(time.Until(deadline))
		}
		select {
		case c = <-w.ch:
			if c != nil {
				return c, true, nil
			}
			now = time.Now()
			continue
		case <-ctx.Done():
			err = ctx.Err()
		case <-timer.C:
			err = mapTimeout(ctx, deadline, context.DeadlineExceeded)
		}
		h.mu.Lock()
		removed := h.removeWaiter(w)
		h.mu.Unlock()
		if !removed {
			// A connection or a wake-up was handed to us as we gave up:
			// pass it on so nobody else misses it.
			if c = <-w.ch; c != nil {
				h.release(c, c.used)
			} else {
				h.wakeOne()
			}
		}
		return nil, false, &attemptError{stage: "wait", err: joinExhausted(err)}
	}
}

func (h *host) removeWaiter(w *waiter) bool {
	for i, x := range h.waiters {
		if x == w {
			copy(h.waiters[i:], h.waiters[i+1:])
			h.waiters[len(h.waiters)-1] = nil
			h.waiters = h.waiters[:len(h.waiters)-1]
			if w.total {
				h.p.waiting.Add(-1)
			}
			return true
		}
	}
	return false
}

// popWaiter must be called with h.mu held.
func (h *host) popWaiter() *waiter {
	if len(h.waiters) == 0 {
		return nil
	}
	w := h.waiters[0]
	copy(h.waiters, h.waiters[1:])
	h.waiters[len(h.waiters)-1] = nil
	h.waiters = h.waiters[:len(h.waiters)-1]
	if w.total {
		h.p.waiting.Add(-1)
	}
	return w
}

// release returns a healthy keep-alive connection: to a waiter if any,
// else to the idle stack. now is when its attempt ended.
func (h *host) release(c *conn, now time.Time) {
	c.used = now
	h.mu.Lock()
	if h.dead || h.p.closed.Load() {
		h.mu.Unlock()
		h.closeConn(c)
		return
	}
	if w := h.popWaiter(); w != nil {
		h.mu.Unlock()
		w.ch <- c
		return
	}
	if h.p.waiting.Load() > 0 {
		// Another host waits for the total limit: an idle connection here
		// would keep it waiting, so give the slot up instead.
		h.mu.Unlock()
		h.closeConn(c)
		return
	}
	h.idle = append(h.idle, c)
	h.mu.Unlock()
}

// closeConn closes a connection that is not in the idle stack and frees its
// slot.
func (h *host) closeConn(c *conn) {
	_ = c.nc.Close()
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	h.slotFreed()
}

// interruptAll moves the socket deadline of every open connection into the
// past: attempts blocked in a read or write fail at once, and see the pool
// closed (watchCtx does not re-arm, roundTrip reports ErrPoolClosed).
func (h *host) interruptAll() {
	h.mu.Lock()
	cs := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		cs = append(cs, c)
	}
	h.mu.Unlock()
	for _, c := range cs {
		_ = c.raw.SetDeadline(pastTime)
	}
}

// slotFreed gives back one connection slot (a closed connection or a failed
// dial) and wakes one waiter that may now dial.
func (h *host) slotFreed() {
	h.mu.Lock()
	h.open--
	h.mu.Unlock()
	h.p.totalOpen.Add(-1)
	h.wakeOne()
}

// wakeOne tells one waiter (on this host first, else on any host waiting on
// the total limit) to try again.
func (h *host) wakeOne() {
	h.mu.Lock()
	w := h.popWaiter()
	h.mu.Unlock()
	if w != nil {
		w.ch <- nil
		return
	}
	if h.p.waiting.Load() > 0 {
		h.p.wakeAny()
	}
}

// takeIdle removes and returns all idle connections (for Close, the stale
// sweep and eviction) older than olderThan (zero: all).
func (h *host) takeIdle(now time.Time, olderThan time.Duration) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := 0
	if olderThan > 0 {
		for i < len(h.idle) && now.Sub(h.idle[i].used) > olderThan {
			i++
		}
	} else {
		i = len(h.idle)
	}
	if i == 0 {
		return nil
	}
	out := make([]*conn, i)
	copy(out, h.idle[:i])
	m := copy(h.idle, h.idle[i:])
	clear(h.idle[m:])
	h.idle = h.idle[:m]
	return out
}

// dial opens a connection within ConnectTimeout, the attempt deadline and
// ctx.
func (h *host) dial(ctx context.Context, deadline time.Time) (*conn, error) {
	p := h.p
	dl := time.Now().Add(p.cfg.ConnectTimeout)
	if deadline.Before(dl) {
		dl = deadline
	}
	dctx, cancel := context.WithDeadline(ctx, dl)
	defer cancel()
	// The connection is not in h.conns until it is dialled, so Close's
	// interruptAll cannot reach it: Close cancels the dial (and the TLS
	// handshake) through monitorCx instead.
	defer context.AfterFunc(p.monitorCx, cancel)()
	raw, err := p.dialer.DialContext(dctx, "tcp", h.addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := raw.(*net.TCPConn); ok && p.cfg.DisableTCPNoDelay {
		_ = tc.SetNoDelay(false) // Go sets TCP_NODELAY by default
	}
	c := &conn{h: h, shard: &h.shards[0], raw: raw, created: time.Now()}
	cc := &countConn{Conn: raw, c: c}
	c.nc = cc
	if h.isTLS {
		tc := tls.Client(cc, h.tls)
		if err := tc.HandshakeContext(dctx); err != nil {
			_ = raw.Close()
			return nil, err
		}
		c.nc = tc
	}
	c.br = bufio.NewReaderSize(c.nc, connBufSize)
	c.bw = bufio.NewWriterSize(c.nc, connBufSize)
	// Registered for Close's interruptAll. A Close that ran while we
	// dialled is caught by roundTrip's closed check after it arms the
	// attempt's deadline.
	h.mu.Lock()
	if h.conns == nil {
		h.conns = make(map[*conn]struct{})
	}
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	return c, nil
}

// tlsPeekWait bounds the read that lets crypto/tls consume post-handshake
// records (TLS 1.3 session tickets) waiting on an idle connection.
const tlsPeekWait = 2 * time.Millisecond

// stillOpen reports whether an idle connection can carry a request. Bytes
// waiting on a plain connection are a protocol error (nothing was asked);
// on TLS they are usually session tickets sent after the handshake (a
// warmed-up connection), so crypto/tls reads them under a short deadline:
// a timeout means nothing else came and the connection is usable.
func (h *host) stillOpen(c *conn) bool {
	// The last attempt's deadline may have passed since; the runtime would
	// then fail the peek as if the connection were dead.
	c.sockDL = time.Time{} // cleared here, and the TLS peek below sets its own
	if err := c.raw.SetDeadline(time.Time{}); err != nil {
		return false
	}
	switch peekConn(c.raw) {
	case peekIdle:
		return true
	case peekData:
		if !h.isTLS {
			return false
		}
		if err := c.nc.SetReadDeadline(time.Now().Add(tlsPeekWait)); err != nil {
			return false
		}
		_, err := c.br.Peek(1)
		var ne net.Error
		return errors.As(err, &ne) && ne.Timeout() // data or EOF: unusable
	}
	return false
}
