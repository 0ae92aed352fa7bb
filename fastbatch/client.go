package fastbatch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bytedance/sonic"
	"github.com/valyala/fasthttp"

	"github.com/batchring/batchring/codec"
	"github.com/batchring/batchring/fastpool"
	"github.com/batchring/batchring/ring"
)

// Doer sends one HTTP request. *fastpool.Pool and *fastpool.EndpointSet
// satisfy it; tests and benchmarks plug in an in-memory one. fastbatch
// passes fastpool.WithIdempotent() iff every call in the batch is a read or
// was marked WithIdempotent.
//
// Do must leave the decompressed response in resp and return nil for a 2xx
// status; a *fastpool.StatusError for another final status (resp still
// holding the body); or another error for a transport failure
// (*fastpool.RequestError tells whether the request may have been sent).
type Doer interface {
	Do(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, opts ...fastpool.RequestOption) error
}

// jsonAPI decodes results for Call: sonic, standard-library compatible.
var jsonAPI = sonic.ConfigStd

func unmarshalResult(res []byte, v any) error {
	if v == nil {
		return nil
	}
	if err := jsonAPI.Unmarshal(res, v); err != nil {
		return fmt.Errorf("fastbatch: decode result: %w", err)
	}
	return nil
}

// client lifecycle states.
const (
	lifeNew int32 = iota
	lifeRunning
	lifeStopping
	lifeStopped
)

// Client batches calls from many goroutines into JSON-RPC 2.0 batch
// requests. It is safe for concurrent use. Create it with New, call Start,
// and Stop it when done.
type Client struct {
	set   settings
	snd   *sender
	owned *fastpool.Pool // private pool closed by Stop

	life   atomic.Int32
	lifeMu sync.Mutex // serialises Start with Stop's switch out of lifeRunning

	bands []*ring.Ring[*call]
	dedup *dedupTable

	asm         *assembler
	workers     []*worker
	workerStats []*workerStats
	batches     chan *batch

	lifeCancel context.CancelFunc
	wg         sync.WaitGroup
	// republishers are republish's goroutines waiting for ring room.
	republishers sync.WaitGroup
	stopOnce     sync.Once
	stopped      chan struct{}

	counters *shardedCounters
}

// New builds a client from cfg. A nil pool means a private fastpool.Pool
// with its defaults, started by Start and closed by Stop.
func New(cfg Config, pool Doer) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := cfg.settings()
	c := &Client{
		set:      s,
		stopped:  make(chan struct{}),
		counters: newShardedCounters(),
	}
	if s.dedup {
		c.dedup = newDedupTable()
	}
	c.bands = make([]*ring.Ring[*call], s.bands)
	for i := range c.bands {
		r, err := ring.New[*call](s.ringSize)
		if err != nil {
			return nil, fmt.Errorf("fastbatch: band %d ring: %w", i, err)
		}
		c.bands[i] = r
	}
	if pool == nil {
		p, err := fastpool.New(fastpool.Config{})
		if err != nil {
			return nil, fmt.Errorf("fastbatch: private pool: %w", err)
		}
		c.owned = p
		pool = p
	}
	lifeCtx, cancel := context.WithCancel(context.Background())
	c.lifeCancel = cancel
	c.snd = &sender{
		pool:     pool,
		set:      &c.set,
		endpoint: []byte(s.endpoint),
		dedup:    c.dedup,
		counters: c.counters,
		lifeCtx:  lifeCtx,
		start:    time.Now(),
		idemOpts: []fastpool.RequestOption{fastpool.WithIdempotent()},
		limitTTL: s.limitTTL,
	}
	if c.dedup != nil {
		c.snd.resubmit = c.resubmitFollower
	}
	c.batches = make(chan *batch)
	c.workers = make([]*worker, s.maxConcurrent)
	c.workerStats = make([]*workerStats, s.maxConcurrent)
	for i := range c.workers {
		c.workerStats[i] = newWorkerStats()
		c.workers[i] = newWorker(c.snd, c.workerStats[i])
	}
	c.asm = newAssembler(c)
	return c, nil
}

// NewHighThroughput builds a client with the HighThroughput preset: 200
// calls per batch, 50 ms MaxWait, 20 batches in flight, dedup on,
// EagerFlush off.
func NewHighThroughput(endpoint string, pool Doer) (*Client, error) {
	return New(HighThroughput(endpoint), pool)
}

// NewLowLatency builds a client with the LowLatency preset: 10 calls per
// batch, 10 ms MaxWait, 5 batches in flight, dedup off, EagerFlush on.
func NewLowLatency(endpoint string, pool Doer) (*Client, error) {
	return New(LowLatency(endpoint), pool)
}

// Start launches the assembler and the dispatchers. Calling it twice, or
// after Stop, is an error.
func (c *Client) Start() error {
	// lifeMu makes Start atomic for Stop: a Stop that sees lifeRunning
	// must also see the goroutines in wg, or it returns while Start is
	// still launching them (and uses workers they are about to own).
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	if c.life.Load() != lifeNew {
		return errors.New("fastbatch: Start called twice or after Stop")
	}
	// The private pool starts before the switch to running: a Submit that
	// sees lifeRunning publishes into rings the assembler will drain, so
	// there must be no way back to lifeNew after it.
	if c.owned != nil {
		if err := c.owned.Start(); err != nil {
			return fmt.Errorf("fastbatch: private pool: %w", err)
		}
	}
	c.life.Store(lifeRunning) // only Start and Stop change life, both under lifeMu
	if testHookStartRunning != nil {
		testHookStartRunning(c)
	}
	c.wg.Add(1 + len(c.workers))
	for _, w := range c.workers {
		go func() {
			defer c.wg.Done()
			w.run(c.batches, c.asm)
		}()
	}
	go func() {
		defer c.wg.Done()
		c.asm.run()
		close(c.batches)
	}()
	return nil
}

// Stop stops accepting calls, flushes everything queued, and waits for the
// batches in flight. When ctx ends first, in-flight requests are cancelled
// and every call still unanswered fails with ErrStopped. Stop returns when
// no goroutine of the client is left (and closes the private pool, if any);
// it returns ctx's error if it had to give up on calls. Calling Stop again
// waits for the first Stop and returns nil.
func (c *Client) Stop(ctx context.Context) error {
	first := false
	c.stopOnce.Do(func() { first = true })
	if !first {
		select {
		case <-c.stopped:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// Close the rings first: whatever was published is still drained and
	// sent, later publishes fail with ring.ErrClosed (→ ErrStopped). Only
	// then may the assembler see lifeStopping: it exits once it sees that
	// state with empty rings, so a Submit that passed its lifeRunning check
	// just before Stop must find the ring already closed, or its call would
	// land in a ring nobody drains any more and its caller wait forever.
	c.lifeMu.Lock()
	for _, r := range c.bands {
		r.Close()
	}
	if testHookStopRingsClosed != nil {
		testHookStopRingsClosed(c)
	}
	prev := c.life.Swap(lifeStopping)
	c.lifeMu.Unlock()
	var err error
	if prev == lifeRunning {
		c.asm.poke()
		done := make(chan struct{})
		go func() { c.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			err = ctx.Err()
			c.lifeCancel() // in-flight requests return; their calls fail with ErrStopped
			<-done
		}
	} else {
		for _, w := range c.workers {
			w.release()
		}
		// Never started: nothing can have been published.
		c.asm.failQueued(ErrStopped)
	}
	// The rings are closed, so a republish goroutine still waiting for
	// room has failed its call with ErrStopped or is about to.
	c.republishers.Wait()
	c.lifeCancel()
	if c.owned != nil {
		if cerr := c.owned.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	c.life.Store(lifeStopped)
	close(c.stopped)
	return err
}

// Submit sends one call and waits for its answer. params is encoded with
// codec.AppendParams (map keys sorted; []byte and json.RawMessage holding
// JSON are validated and copied) into a buffer the call owns, so params may
// be reused as soon as Submit returns. The result bytes are a copy owned by
// the caller.
//
// The outcome is exactly one of: the result; a *codec.Error from the server;
// ErrTimeout (ctx deadline) or ctx's error; ErrNotStarted; ErrStopped;
// ErrQueueFull (FailFast only); a *NoResponseError; a *BatchError for a
// batch-level failure; or, before anything is sent, an error wrapping
// codec.ErrInvalidParams or the encoder's error when params cannot be
// encoded.
func (c *Client) Submit(ctx context.Context, method string, params any, opts ...CallOption) ([]byte, error) {
	return c.submit(ctx, nil, false, method, params, opts)
}

// SubmitAppend is Submit that appends the result to dst and returns the
// extended slice, as the strconv.Append functions do, instead of
// allocating a copy: a caller that reuses one buffer makes calls without
// allocating. On failure it returns dst unchanged and the error. dst must
// not be used by anyone else until SubmitAppend returns.
func (c *Client) SubmitAppend(ctx context.Context, dst []byte, method string, params any, opts ...CallOption) ([]byte, error) {
	res, err := c.submit(ctx, dst, true, method, params, opts)
	if err != nil {
		return dst, err
	}
	return res, nil
}

func (c *Client) submit(ctx context.Context, dst []byte, appendResult bool, method string, params any, opts []CallOption) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxError(err)
	}
	o := foldOptions(opts)
	for counted := false; ; counted = true {
		cl, err := c.encodeCall(ctx, method, params, o)
		if err != nil {
			if counted {
				c.counters.add(nil, ctrSubmitted, -1)
			}
			return nil, err
		}
		cl.dst, cl.appendResult = dst, appendResult
		if err := c.enqueue(ctx, cl, counted); err != nil {
			putCall(cl)
			return nil, err
		}
		res, err := cl.wait(ctx)
		if err == errLeaderLost {
			continue // the call we followed never went out; lead one ourselves
		}
		return res, err
	}
}

// maxPooledResult is the largest result buffer Call keeps for reuse.
const maxPooledResult = 64 << 10

// resultBufs are Call's result buffers: the result is decoded out of one
// and the buffer reused, so Call skips Submit's copy of every answer.
// Nothing decoded may point into a reused buffer: jsonAPI (sonic's
// standard-library config) copies its input before decoding, and like
// encoding/json it hands an Unmarshaler bytes it must copy to keep.
var resultBufs = sync.Pool{New: func() any { return new([]byte) }}

// Call is Submit followed by decoding the result into result (with sonic,
// standard-library compatible; result may be nil to discard it). The
// result bytes are decoded out of a reused buffer rather than a copy per
// call (the decoder's own allocations remain), and nothing in result refers
// to them afterwards; so a result type's own UnmarshalJSON must copy what
// it keeps, as encoding/json requires.
func (c *Client) Call(ctx context.Context, method string, params, result any, opts ...CallOption) error {
	bp := resultBufs.Get().(*[]byte)
	res, err := c.SubmitAppend(ctx, (*bp)[:0], method, params, opts...)
	if err == nil {
		err = unmarshalResult(res, result)
	}
	if cap(res) <= maxPooledResult {
		*bp = res[:0]
		resultBufs.Put(bp)
	}
	return err
}

// Go submits a call without waiting and returns its Future. ctx governs the
// call: when it ends before the answer, the future resolves with ErrTimeout
// or ctx's error. params is encoded (or copied) as by Submit before Go
// returns, so it may be reused at once.
func (c *Client) Go(ctx context.Context, method string, params any, opts ...CallOption) *Future {
	f := newFuture()
	if err := ctx.Err(); err != nil {
		f.set(nil, ctxError(err))
		return f
	}
	cl, err := c.encodeCall(ctx, method, params, foldOptions(opts))
	if err != nil {
		f.set(nil, err)
		return f
	}
	cl.fut = f
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { f.set(nil, ctxError(ctx.Err())) })
		cl.stopWatch = stop
	}
	if err := c.enqueue(ctx, cl, false); err != nil {
		putCall(cl)
		f.set(nil, err)
		if stop != nil {
			stop()
		}
	}
	return f
}

// Request is one call of SubmitMany or JSONRPCClient.Batch.
type Request struct {
	// Method is the JSON-RPC method.
	Method string
	// Params is encoded with codec.EncodeParams; nil sends no params.
	Params any
	// Priority is the band, as WithPriority (SubmitMany only).
	Priority int
	// Idempotent marks a write safe to re-send, as WithIdempotent.
	Idempotent bool
}

// Result is the outcome of one Request.
type Result struct {
	// Result is the raw JSON result, owned by the caller; nil on error.
	Result []byte
	// Err is the call's error (see Submit), or nil.
	Err error
}

// SubmitMany submits every request, publishing each band's calls with one
// ring operation, and waits for all of them. Results are in request order;
// each call's failure is in its Result. The error is non-nil only when the
// client is not running.
func (c *Client) SubmitMany(ctx context.Context, reqs []Request) ([]Result, error) {
	if l := c.life.Load(); l != lifeRunning {
		return nil, c.lifeError(l)
	}
	results := make([]Result, len(reqs))
	calls := make([]*call, len(reqs))
	params := make([][]byte, len(reqs))
	perBand := make([][]*call, c.set.bands)
	for i, r := range reqs {
		p, err := codec.EncodeParams(r.Params)
		if err != nil {
			results[i].Err = fmt.Errorf("fastbatch: %s: encode params: %w", r.Method, err)
			continue
		}
		params[i] = p
		cl := c.newCall(ctx, r.Method, p, callOptions{priority: r.Priority, idempotent: r.Idempotent})
		calls[i] = cl
		c.counters.add(cl, ctrSubmitted, 1)
		if c.dedup != nil && !cl.write && c.dedup.joinOrLead(cl) {
			c.counters.add(cl, ctrDedupHits, 1)
			continue
		}
		perBand[cl.band] = append(perBand[cl.band], cl)
	}
	// Highest band first: PublishBatch waits for room, and a full low band
	// must not hold back this request's higher-priority calls.
	for b := len(perBand) - 1; b >= 0; b-- {
		cs := perBand[b]
		for len(cs) > 0 {
			n := min(len(cs), c.bands[b].Cap())
			if err := c.bands[b].PublishBatch(ctx, cs[:n]); err != nil {
				c.failUnpublished(cs, c.publishError(ctx, err))
				break
			}
			cs = cs[n:]
			c.asm.wakeIfParked()
		}
	}
	for i, cl := range calls {
		if cl == nil {
			continue
		}
		res, err := cl.wait(ctx)
		for err == errLeaderLost {
			// The identical call we followed was never sent: send our own.
			r := reqs[i]
			cl = c.newCall(ctx, r.Method, params[i], callOptions{priority: r.Priority, idempotent: r.Idempotent})
			if err = c.enqueue(ctx, cl, true); err != nil {
				putCall(cl)
				break
			}
			res, err = cl.wait(ctx)
		}
		results[i] = Result{Result: res, Err: err}
	}
	return results, nil
}

// failUnpublished resolves calls that could not be published: leaders lose
// their followers to errLeaderLost (they re-submit on their own), and the
// calls themselves get err.
func (c *Client) failUnpublished(cs []*call, err error) {
	for _, cl := range cs {
		c.dropLeader(cl)
		c.counters.add(cl, ctrFailed, 1)
		cl.resolve(nil, err)
	}
}

// WaitForCompletion returns when no call is queued or in flight, or ctx's
// error when it ends first.
func (c *Client) WaitForCompletion(ctx context.Context) error {
	wait := 50 * time.Microsecond
	for {
		s := c.counters.sum()
		if s[ctrSubmitted] == s[ctrCompleted]+s[ctrFailed] {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		wait = min(2*wait, 5*time.Millisecond)
	}
}

// testHookStartRunning, when set by a test, runs inside Start right after
// the switch to lifeRunning.
var testHookStartRunning func(c *Client)

// testHookStopRingsClosed, when set by a test, runs inside Stop between
// closing the rings and switching to lifeStopping.
var testHookStopRingsClosed func(c *Client)

// errLeaderLost tells a dedup follower that the call it followed was never
// sent (its own caller gave up before publishing), so it must submit again.
var errLeaderLost = errors.New("fastbatch: internal: dedup leader not published")

func (c *Client) newCall(ctx context.Context, method string, params []byte, o callOptions) *call {
	cl := getCall()
	cl.ctx = ctx
	cl.method = method
	cl.params = params
	cl.band = min(max(o.priority, 0), c.set.bands-1)
	cl.write = c.set.isWrite(method)
	cl.idempotent = o.idempotent
	cl.enqueued = c.snd.now()
	return cl
}

// encodeCall is newCall with params encoded into the call's own buffer.
func (c *Client) encodeCall(ctx context.Context, method string, params any, o callOptions) (*call, error) {
	cl := c.newCall(ctx, method, nil, o)
	cl.pbuf = cl.pbuf[:0]
	if err := codec.AppendParamsTo(&cl.pbuf, params); err != nil {
		putCall(cl)
		return nil, fmt.Errorf("fastbatch: %s: encode params: %w", method, err)
	}
	if len(cl.pbuf) > 0 {
		cl.params = cl.pbuf
	}
	return cl, nil
}

func (c *Client) now() int64 { return c.snd.now() }

func (c *Client) lifeError(l int32) error {
	if l == lifeNew {
		return ErrNotStarted
	}
	return ErrStopped
}

func (c *Client) publishError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, ring.ErrClosed):
		return ErrStopped
	case ctx.Err() != nil:
		return ctxError(ctx.Err())
	}
	return fmt.Errorf("fastbatch: publish: %w", err)
}

// enqueue joins cl to an identical read in flight or publishes it into its
// band's ring, counting it as submitted unless counted says it already is
// (a dedup follower sending its own call after errLeaderLost stays counted
// throughout, so WaitForCompletion never sees it done while its caller
// still waits). On error cl was not published, is still the caller's, and
// is not counted.
func (c *Client) enqueue(ctx context.Context, cl *call, counted bool) error {
	if l := c.life.Load(); l != lifeRunning {
		if counted {
			c.counters.add(cl, ctrSubmitted, -1)
		}
		return c.lifeError(l)
	}
	if !counted {
		c.counters.add(cl, ctrSubmitted, 1)
	}
	if c.dedup != nil && !cl.write && c.dedup.joinOrLead(cl) {
		c.counters.add(cl, ctrDedupHits, 1)
		return nil
	}
	r := c.bands[cl.band]
	var err error
	if !r.TryPublish(cl) {
		if c.set.failFast {
			err = fullOrStopped(r)
		} else if err = r.Publish(ctx, cl); err != nil {
			err = c.publishError(ctx, err)
		}
	}
	if err != nil {
		c.counters.add(cl, ctrSubmitted, -1)
		c.dropLeader(cl)
		return err
	}
	c.asm.wakeIfParked()
	return nil
}

// dropLeader removes a leader that will never be sent from the dedup table;
// its followers submit again on their own.
func (c *Client) dropLeader(cl *call) {
	if !cl.deduped {
		return
	}
	for f := c.dedup.remove(cl); f != nil; {
		next := f.nextFollower
		f.nextFollower = nil
		if f.fut != nil {
			// A future has no goroutine of its own to retry on.
			c.resubmitFuture(f)
		} else {
			c.handBack(f)
		}
		f = next
	}
}

// resubmitFuture gives a future's call whose leader was lost its own
// attempt.
func (c *Client) resubmitFuture(f *call) {
	if !f.wanted() {
		c.counters.add(f, ctrFailed, 1)
		f.resolve(nil, context.Canceled)
		return
	}
	if err := c.republish(f); err != nil {
		c.counters.add(f, ctrFailed, 1)
		f.resolve(nil, err)
	}
}

// resubmitFollower runs on a dispatcher: a follower's own goroutine submits
// again (errLeaderLost); a future's call is republished without dedup (see
// republish). When it cannot be, it returns the error the follower gets
// (its leader's failure is not its own).
func (c *Client) resubmitFollower(f *call) error {
	if f.fut == nil {
		c.handBack(f)
		return nil
	}
	return c.republish(f)
}

// handBack gives a Submit follower whose leader failed for the leader's
// own reasons back to its caller (errLeaderLost), which sends a call of its
// own; it stays counted as submitted meanwhile. A caller that had already
// given up sends nothing: its call is counted failed here, or it would be
// pending for ever.
func (c *Client) handBack(f *call) {
	if !f.resolve(nil, errLeaderLost) {
		c.counters.add(nil, ctrFailed, 1)
	}
}

// republish gives a future's call, whose dedup leader failed for reasons
// of its own, an attempt of its own without dedup, still counted as
// submitted. It never blocks the goroutine it runs on (a dispatcher, which
// must not wait on a ring the assembler drains only when dispatchers are
// free, or the leader's caller, whose context has ended): when the ring is
// full and QueueFull is Block, a goroutine of the call's own waits for
// room until the future's context or Stop ends it. It returns nil when the
// call was published or handed to that goroutine, else the error the
// future gets: ErrStopped once Stop began, ErrQueueFull with FailFast.
func (c *Client) republish(f *call) error {
	f.hash, f.deduped, f.chainNext = 0, false, nil
	r := c.bands[f.band]
	if r.TryPublish(f) {
		c.asm.wakeIfParked()
		return nil
	}
	if c.set.failFast {
		return fullOrStopped(r)
	}
	// Added under lifeMu while running, so before Stop closes the rings
	// and then waits for these goroutines.
	c.lifeMu.Lock()
	if c.life.Load() != lifeRunning {
		c.lifeMu.Unlock()
		return ErrStopped
	}
	c.republishers.Add(1)
	c.lifeMu.Unlock()
	go func() {
		defer c.republishers.Done()
		if err := r.Publish(f.ctx, f); err != nil {
			c.counters.add(f, ctrFailed, 1)
			f.resolve(nil, c.publishError(f.ctx, err))
			return
		}
		c.asm.wakeIfParked()
	}()
	return nil
}

// fullOrStopped is the error for a call r's TryPublish refused with
// FailFast: ErrStopped when Stop had closed the ring, else ErrQueueFull.
// No lock: under overload FailFast refuses calls at full speed.
func fullOrStopped(r *ring.Ring[*call]) error {
	if r.Closed() {
		return ErrStopped
	}
	return ErrQueueFull
}
