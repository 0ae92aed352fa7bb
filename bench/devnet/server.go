package devnet

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batchring/batchring/codec"
	"github.com/valyala/fasthttp"
)

// Server is a running stand-in node. Its methods are safe for concurrent use.
type Server struct {
	cfg   Config
	url   string
	ln    net.Listener
	srv   *fasthttp.Server
	stats *counters
	cache *answerCache
	mis   atomic.Pointer[Misbehaviour]

	seq        atomic.Uint64 // JSON-RPC request sequence number, the fault generator's input
	start      time.Time     // monotonic origin for stallUntil
	stallUntil atomic.Int64  // ns since start; requests are held until then

	closing   chan struct{} // closed by Close: wakes every sleeping handler
	serveDone chan struct{}
	closeOnce sync.Once
	closeErr  error

	bucketMu     sync.Mutex
	bucketTokens float64
	bucketLast   time.Duration // since start

	connMu sync.Mutex
	conns  map[net.Conn]struct{} // open connections, force-closed if shutdown stalls
}

// Start validates cfg, listens on cfg.Addr and serves until Close. The server
// is accepting connections when Start returns.
func Start(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	s, err := newServer(cfg)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	go func() {
		defer close(s.serveDone)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// newServer builds a server that is not listening yet; cfg has its defaults.
func newServer(cfg Config) (*Server, error) {
	s := &Server{
		cfg:       cfg,
		stats:     newCounters(),
		cache:     newAnswerCache(cfg.CacheEntries),
		start:     time.Now(),
		closing:   make(chan struct{}),
		serveDone: make(chan struct{}),
		conns:     make(map[net.Conn]struct{}),
	}
	m := cfg.Misbehaviour
	s.mis.Store(&m)
	s.srv = &fasthttp.Server{
		Handler:               s.handle,
		Name:                  "batchring-devnet",
		MaxRequestBodySize:    cfg.MaxRequestBodyBytes,
		IdleTimeout:           30 * time.Second,
		ReadTimeout:           time.Minute,
		NoDefaultDate:         true,
		NoDefaultServerHeader: true,
		CloseOnShutdown:       true,
		Logger:                quietLogger{},
		ConnState:             s.connState,
		ErrorHandler:          errorHandler,
		// The worker pool's cleaner checks for Stop only between sleeps of
		// this length; Close waits it out so no goroutine outlives Close.
		MaxIdleWorkerDuration: workerIdle,
	}
	return s, nil
}

// workerIdle is fasthttp's MaxIdleWorkerDuration here: short, so that the
// worker pool's cleaner goroutine notices Stop soon after Close.
const workerIdle = 50 * time.Millisecond

// httpError answers a plain-text HTTP error. Unlike fasthttp's ctx.Error it
// does not reset the response header, which would re-enable the Date header
// and start fasthttp's process-wide date-refresh goroutine that never ends.
func httpError(ctx *fasthttp.RequestCtx, msg string, status int) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString(msg)
}

// errorHandler answers requests fasthttp could not read (too large, bad
// HTTP) without ctx.Error, for the reason httpError gives.
func errorHandler(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		httpError(ctx, "413 Request Entity Too Large", fasthttp.StatusRequestEntityTooLarge)
		return
	}
	httpError(ctx, "400 Bad Request: "+err.Error(), fasthttp.StatusBadRequest)
}

// quietLogger drops fasthttp's log lines: the faults this server injects
// (closed connections) would otherwise be logged as errors.
type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

func (s *Server) connState(c net.Conn, st fasthttp.ConnState) {
	s.connMu.Lock()
	switch st {
	case fasthttp.StateNew:
		s.conns[c] = struct{}{}
	case fasthttp.StateClosed, fasthttp.StateHijacked:
		delete(s.conns, c)
	}
	s.connMu.Unlock()
}

// URL returns the base URL, e.g. "http://127.0.0.1:41234"; clients post to
// URL()+"/v3" or URL()+"/v2".
func (s *Server) URL() string { return s.url }

// Addr returns the listening address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops accepting, wakes held and delayed requests, closes every
// connection and returns when no goroutine of the server is left. A second
// Close returns ErrClosed.
func (s *Server) Close() error {
	err := ErrClosed
	s.closeOnce.Do(func() {
		close(s.closing)
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		shutErr := s.srv.ShutdownWithContext(ctx)
		cancel()
		if shutErr != nil {
			// Connections in the middle of a request (a client that sent
			// half a body) do not go idle by themselves: close them.
			s.connMu.Lock()
			for c := range s.conns {
				_ = c.Close()
			}
			s.connMu.Unlock()
			shutErr = s.srv.Shutdown()
		}
		// Serve may not have registered the listener yet, in which case
		// Shutdown had nothing to close; closing it here makes Serve return
		// either way.
		_ = s.ln.Close()
		<-s.serveDone
		time.Sleep(workerIdle + workerIdle/2)
		s.closeErr = shutErr
		err = shutErr
	})
	return err
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// ResetStats zeroes every counter.
func (s *Server) ResetStats() { s.stats.reset() }

// SetMisbehaviour validates m and makes it the fault set for requests that
// arrive from now on; requests in progress keep the set they started with.
func (s *Server) SetMisbehaviour(m Misbehaviour) error {
	if err := m.Validate(); err != nil {
		return err
	}
	s.mis.Store(&m)
	return nil
}

// Misbehaviour returns the current fault set.
func (s *Server) Misbehaviour() Misbehaviour { return *s.mis.Load() }

// Update applies fn to a copy of the current fault set and installs the
// result if it validates. Concurrent Updates are serialised by
// compare-and-swap, so none is lost; fn may therefore run more than once and
// must only edit the fault set it is given.
func (s *Server) Update(fn func(*Misbehaviour)) error {
	for {
		old := s.mis.Load()
		m := *old
		fn(&m)
		if err := m.Validate(); err != nil {
			return err
		}
		if s.mis.CompareAndSwap(old, &m) {
			return nil
		}
	}
}

// Stall holds every request that arrives, and every request in progress
// before it answers, until d has passed from now. Overlapping stalls extend
// to the latest end. Close ends a stall.
func (s *Server) Stall(d time.Duration) {
	until := int64(time.Since(s.start) + d)
	for {
		old := s.stallUntil.Load()
		if old >= until || s.stallUntil.CompareAndSwap(old, until) {
			return
		}
	}
}

// admit takes a token from the rate-limit bucket, which refills at perSecond
// tokens a second up to perSecond; it reports false when the bucket is empty.
func (s *Server) admit(perSecond int) bool {
	now := time.Since(s.start)
	s.bucketMu.Lock()
	defer s.bucketMu.Unlock()
	if s.bucketLast == 0 {
		s.bucketTokens = float64(perSecond)
	} else {
		s.bucketTokens += (now - s.bucketLast).Seconds() * float64(perSecond)
	}
	s.bucketTokens = min(s.bucketTokens, float64(perSecond))
	s.bucketLast = now
	if s.bucketTokens < 1 {
		return false
	}
	s.bucketTokens--
	return true
}

// holdIfStalled blocks while a stall is in force; it reports whether it
// held the request.
func (s *Server) holdIfStalled() bool {
	held := false
	for {
		left := time.Duration(s.stallUntil.Load()) - time.Since(s.start)
		if left <= 0 || !s.sleep(left) {
			return held
		}
		held = true
	}
}

// sleep waits d or until Close; it reports false when Close cut it short.
func (s *Server) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.closing:
		return false
	}
}

func (s *Server) handle(ctx *fasthttp.RequestCtx) {
	path := ctx.Path()
	if string(path) == "/debug/stats" {
		s.serveStats(ctx)
		return
	}
	v := apiOf(string(path))
	if v == apiNone {
		httpError(ctx, "404 page not found: the stand-in serves POST /v2 and /v3", fasthttp.StatusNotFound)
		return
	}
	if !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", "POST")
		httpError(ctx, "method not allowed: JSON-RPC wants POST", fasthttp.StatusMethodNotAllowed)
		return
	}
	s.serveRPC(ctx, v)
}

func (s *Server) serveStats(ctx *fasthttp.RequestCtx) {
	switch {
	case ctx.IsGet():
		b, err := json.Marshal(s.Stats())
		if err != nil {
			httpError(ctx, err.Error(), fasthttp.StatusInternalServerError)
			return
		}
		ctx.SetContentType("application/json")
		ctx.SetBody(b)
	case ctx.IsDelete():
		s.ResetStats()
		ctx.SetStatusCode(fasthttp.StatusNoContent)
	default:
		ctx.Response.Header.Set("Allow", "GET, DELETE")
		httpError(ctx, "method not allowed", fasthttp.StatusMethodNotAllowed)
	}
}

// rng is splitmix64: a generator per request, seeded from Config.Seed and
// the request's sequence number, so fault decisions do not depend on which
// goroutine serves the request or on timing.
type rng struct{ state uint64 }

func newRNG(seed int64, seq uint64) rng {
	r := rng{state: uint64(seed) ^ (seq+1)*0x9e3779b97f4a7c15}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// hit draws once and reports whether an event of probability p happens.
// It always draws, so later decisions do not shift when p changes.
func (r *rng) hit(p float64) bool { return r.float() < p }

// normal returns a standard normal deviate (Box–Muller).
func (r *rng) normal() float64 {
	u1 := 1 - r.float() // (0, 1]
	u2 := r.float()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// requestFaults are the request-level fault decisions for one request.
type requestFaults struct {
	dropBefore, rateLimited, serverError bool
	statusPick                           uint64
	dropAfter, reorder                   bool
	jitter                               float64 // a standard normal deviate
}

// drawFaults draws a request's faults from r in a fixed order, every draw
// taken whatever m says, so one fault's setting does not shift another's.
func drawFaults(r *rng, m *Misbehaviour) requestFaults {
	var f requestFaults
	f.dropBefore = r.hit(m.DropBeforeFraction)
	f.rateLimited = r.hit(m.RateLimitFraction)
	f.serverError = r.hit(m.ServerErrorFraction)
	f.statusPick = r.next()
	f.dropAfter = r.hit(m.DropAfterFraction)
	f.reorder = r.hit(m.ReorderFraction)
	f.jitter = r.normal()
	return f
}

// scratch is per-request working memory, pooled.
type scratch struct {
	in    []byte // decoded request body (DecodeRequests)
	calls []call
	order []int32
	key   []byte
	out   []byte
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

const (
	jsonrpcPrefix   = `{"jsonrpc":"2.0","id":`
	idNull          = "null"
	contentTypeJSON = "application/json"
)

func (s *Server) serveRPC(ctx *fasthttp.RequestCtx, v api) {
	if s.holdIfStalled() {
		s.stats.inject(InjectedStalled, 1)
	}
	seq := s.seq.Add(1) - 1
	m := s.mis.Load()
	r := newRNG(s.cfg.Seed, seq)
	body := ctx.PostBody()
	s.stats.requests.Add(1)
	s.stats.bytesIn.Add(uint64(len(body)))

	f := drawFaults(&r, m)
	dropBefore, rateLimited, serverError, statusPick := f.dropBefore, f.rateLimited, f.serverError, f.statusPick
	dropAfter, reorder, jitter := f.dropAfter, f.reorder, f.jitter

	switch {
	case dropBefore:
		s.stats.inject(InjectedDropBefore, 1)
		s.dropConn(ctx)
		return
	case rateLimited || m.RateLimitPerSecond > 0 && !s.admit(m.RateLimitPerSecond):
		s.stats.inject(InjectedRateLimited, 1)
		if m.RetryAfter >= 0 {
			secs := (m.RetryAfter + time.Second - 1) / time.Second
			ctx.Response.Header.Set("Retry-After", strconv.FormatInt(int64(secs), 10))
		}
		if m.RateLimitInBody {
			ctx.Response.Header.SetContentType(contentTypeJSON)
			ctx.Response.SetBodyString(jsonrpcPrefix + idNull + `,"error":{"code":-32005,"message":"request rate limited"}}`)
			return
		}
		httpError(ctx, "429 Too Many Requests: devnet rate limit", fasthttp.StatusTooManyRequests)
		return
	case serverError:
		s.stats.inject(InjectedServerError, 1)
		code := [...]int{fasthttp.StatusInternalServerError, fasthttp.StatusBadGateway, fasthttp.StatusServiceUnavailable}[statusPick%3]
		httpError(ctx, strconv.Itoa(code)+" "+fasthttp.StatusMessage(code)+": devnet injected fault", code)
		return
	}

	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	if s.cfg.DecodeRequests {
		if enc := ctx.Request.Header.Peek(codec.HeaderContentEncoding); len(enc) > 0 {
			d, err := codec.Decompress(sc.in[:0], body, string(enc), s.cfg.MaxRequestBodyBytes)
			if err != nil {
				httpError(ctx, "400 Bad Request: "+err.Error(), fasthttp.StatusBadRequest)
				return
			}
			sc.in, body = d, d
		}
	}
	kind, calls := parseRequest(body, sc.calls[:0])
	sc.calls = calls
	out := ctx.Response.SwapBody(nil)[:0]

	switch kind {
	case kindParseError:
		s.stats.parseErrors.Add(1)
		out = append(out, jsonrpcPrefix+idNull...)
		out = append(out, answerParseError.member...)
	case kindInvalid:
		s.stats.invalid.Add(1)
		out = append(out, jsonrpcPrefix+idNull...)
		out = append(out, answerInvalidRequest.member...)
	case kindSingle:
		s.stats.singles.Add(1)
		c := &calls[0]
		s.count(v, c)
		if !c.notification() {
			out = appendElement(out, c, s.answerFor(v, c, sc))
		}
	case kindBatch:
		s.stats.batches.Add(1)
		s.stats.batchSize(len(calls))
		if m.MaxBatchSize > 0 && len(calls) > m.MaxBatchSize {
			s.stats.inject(InjectedBatchLimit, 1)
			switch m.BatchLimit {
			case LimitHTTP413:
				ctx.Response.SwapBody(out)
				httpError(ctx, "413 Request Entity Too Large: batch of "+strconv.Itoa(len(calls))+" exceeds "+strconv.Itoa(m.MaxBatchSize), fasthttp.StatusRequestEntityTooLarge)
				return
			case LimitClose:
				ctx.Response.SwapBody(out)
				s.dropConn(ctx)
				return
			case LimitGeth:
				// go-ethereum puts the error on the id of the first call
				// (notifications skipped); null when there is none.
				first := call{id: []byte(idNull)}
				for i := range calls {
					if calls[i].id != nil {
						first.id = calls[i].id
						break
					}
				}
				out = append(out, '[')
				out = appendElement(out, &first, answerBatchTooLarge)
				out = append(out, ']')
			default:
				// erigon's words and code (a plain error: -32000), id null.
				out = append(out, jsonrpcPrefix+idNull...)
				out = append(out, `,"error":{"code":-32000,"message":"batch limit `...)
				out = strconv.AppendInt(out, int64(m.MaxBatchSize), 10)
				out = append(out, ` exceeded (can increase by --rpc.batch.limit). Requested batch of size: `...)
				out = strconv.AppendInt(out, int64(len(calls)), 10)
				out = append(out, `"}}`...)
			}
			break
		}
		out = s.answerBatch(out, v, m, &r, reorder, sc)
	}

	if dropAfter {
		s.stats.inject(InjectedDropAfter, 1)
		ctx.Response.SwapBody(out)
		s.dropConn(ctx)
		return
	}
	if delay := m.Latency + time.Duration(len(calls))*m.LatencyPerCall; delay > 0 {
		if m.LatencyJitter > 0 {
			delay = time.Duration(float64(delay) * math.Exp(m.LatencyJitter*jitter))
		}
		s.stats.inject(InjectedLatency, 1)
		s.sleep(delay)
	}
	if s.holdIfStalled() {
		s.stats.inject(InjectedStalled, 1)
	}

	ctx.Response.Header.SetContentType(contentTypeJSON)
	if m.Compress && len(out) >= m.CompressMinBytes && len(out) > 0 {
		if enc := pickEncoding(ctx.Request.Header.Peek(codec.HeaderAcceptEncoding)); enc != "" {
			if z, err := codec.Compress(sc.out[:0], out, enc); err == nil {
				out, sc.out = z, out
				ctx.Response.Header.Set(codec.HeaderContentEncoding, enc)
				ctx.Response.Header.Add(fasthttp.HeaderVary, codec.HeaderAcceptEncoding)
			}
		}
	}
	s.stats.bytesOut.Add(uint64(len(out)))
	ctx.Response.SwapBody(out)
}

// dropConn closes the connection under the request without an answer.
// fasthttp's attempt to write the (empty) response then fails and it drops
// the connection; its error is not logged (quietLogger).
func (s *Server) dropConn(ctx *fasthttp.RequestCtx) {
	ctx.SetConnectionClose()
	_ = ctx.Conn().Close()
}

// count records a call in the counters.
func (s *Server) count(v api, c *call) {
	if c.invalid {
		s.stats.invalid.Add(1)
		return
	}
	s.stats.calls.Add(1)
	if c.id == nil {
		s.stats.notifications.Add(1)
	}
	s.stats.method(v, c.method)
}

// answerFor returns the (cached) answer to c.
func (s *Server) answerFor(v api, c *call, sc *scratch) *answer {
	if c.invalid {
		return answerInvalidRequest
	}
	sc.key = append(sc.key[:0], byte(v))
	sc.key = append(sc.key, c.method...)
	sc.key = append(sc.key, 0)
	sc.key = append(sc.key, c.params...)
	return s.cache.lookup(sc.key, v, c.method, c.params)
}

// appendElement renders one response element for c.
func appendElement(dst []byte, c *call, a *answer) []byte {
	dst = append(dst, jsonrpcPrefix...)
	if c.id == nil {
		dst = append(dst, idNull...)
	} else {
		dst = append(dst, c.id...)
	}
	return append(dst, a.member...)
}

// answerBatch renders the answer array of a batch, applying the missing,
// reorder and response-size faults.
func (s *Server) answerBatch(out []byte, v api, m *Misbehaviour, r *rng, reorder bool, sc *scratch) []byte {
	calls := sc.calls
	order := sc.order[:0]
	missing := 0
	for i := range calls {
		c := &calls[i]
		s.count(v, c)
		if c.notification() {
			continue
		}
		if r.hit(m.MissingFraction) {
			missing++
			continue
		}
		order = append(order, int32(i))
	}
	if len(order) == 0 && missing > 0 {
		// Keep one answer: a batch that loses every answer is a different
		// fault (an empty body), which the drop faults already cover.
		for i := range calls {
			if !calls[i].notification() {
				order = append(order, int32(i))
				missing--
				break
			}
		}
	}
	if missing > 0 {
		s.stats.inject(InjectedMissing, uint64(missing))
	}
	if reorder && len(order) > 1 {
		for i := len(order) - 1; i > 0; i-- {
			j := int(r.next() % uint64(i+1))
			order[i], order[j] = order[j], order[i]
		}
		s.stats.inject(InjectedReordered, 1)
	}
	sc.order = order
	if len(order) == 0 {
		return out // only notifications: empty body
	}
	out = append(out, '[')
	tooLarge := uint64(0)
	for k, i := range order {
		if k > 0 {
			out = append(out, ',')
		}
		c := &calls[i]
		var a *answer
		switch {
		case m.MaxResponseBytes > 0 && len(out) > m.MaxResponseBytes:
			a = answerTooLarge
			tooLarge++
		default:
			a = s.answerFor(v, c, sc)
		}
		out = appendElement(out, c, a)
	}
	if tooLarge > 0 {
		s.stats.inject(InjectedResponseSize, tooLarge)
	}
	return append(out, ']')
}
