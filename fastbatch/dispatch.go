package fastbatch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/batchring/batchring/codec"
	"github.com/batchring/batchring/fastpool"
)

// sender is the send/decode/retry/split logic shared by Client's
// dispatchers and JSONRPCClient.
type sender struct {
	pool     Doer
	set      *settings
	endpoint []byte
	dedup    *dedupTable // nil when dedup is off
	counters *shardedCounters
	lifeCtx  context.Context
	start    time.Time
	idemOpts []fastpool.RequestOption
	wireIDs  atomic.Uint64
	// learned is the batch limit learned from Endpoint's rejections; 0 =
	// none. Lowered by each rejection; it expires limitTTL after it was
	// last lowered (see limit). JSONRPCClient stores its MaxBatchSize here
	// with no TTL.
	learned atomic.Int64
	// learnedAt is s.now() when learned was last lowered.
	learnedAt atomic.Int64
	// limitTTL is Config.LearnedLimitTTL; ≤ 0 never expires.
	limitTTL time.Duration
	// resubmit gives a dedup follower whose leader failed for the leader's
	// own reasons (its deadline) a fresh attempt, without blocking; it
	// returns the follower's error when it could not. Nil without dedup.
	resubmit func(f *call) error
}

func (s *sender) now() int64 { return int64(time.Since(s.start)) }

// limit returns the learned batch limit in force, 0 for none. A limit
// older than limitTTL is dropped here, so the next batches try the full
// size again.
func (s *sender) limit() int {
	l := s.learned.Load()
	if l > 0 && s.limitTTL > 0 && s.now()-s.learnedAt.Load() >= int64(s.limitTTL) {
		s.learned.CompareAndSwap(l, 0)
		return int(s.learned.Load())
	}
	return int(l)
}

// learn lowers the learned batch limit to n. learnedAt is set before the
// limit, so a reader never pairs a new limit with an old time (the worst
// case, an old limit with a new time, keeps it one TTL longer).
func (s *sender) learn(n int) {
	for {
		cur := int64(s.limit())
		if cur != 0 && cur <= int64(n) {
			return
		}
		s.learnedAt.Store(s.now())
		if s.learned.CompareAndSwap(cur, int64(n)) {
			return
		}
	}
}

// finish resolves c (and, for a dedup leader, every follower) with one
// outcome, recording it in w's stats when w is not nil.
func (s *sender) finish(c *call, result []byte, err error, w *worker) {
	var followers *call
	if c.deduped {
		followers = s.dedup.remove(c)
	}
	s.account(c, err, w)
	c.resolve(result, err)
	for f := followers; f != nil; {
		next := f.nextFollower
		f.nextFollower = nil
		s.account(f, err, w)
		f.resolve(result, err)
		f = next
	}
}

func (s *sender) account(c *call, err error, w *worker) {
	if err == nil {
		s.counters.add(c, ctrCompleted, 1)
	} else {
		s.counters.add(c, ctrFailed, 1)
	}
	if w != nil && w.stats != nil {
		w.latencies = append(w.latencies, w.now-c.enqueued)
	}
}

// answer is a decoded response element for one call of the batch.
type answer struct {
	result []byte
	err    *codec.Error
	ok     bool
}

// span is a contiguous run of a worker's calls still to send, with the
// history that bounds what may happen to it next.
type span struct {
	lo, hi   int
	attempts int // sends so far of these calls as a group
	splits   int
}

// worker sends batches. Client runs MaxConcurrentBatches of them; each owns
// its request, response and buffers, so sending allocates nothing in the
// steady state.
type worker struct {
	s     *sender
	stats *workerStats

	req  *fasthttp.Request
	resp *fasthttp.Response
	body []byte

	// base, when set, bounds every request and retry wait of the batch in
	// process instead of the sender's lifeCtx: JSONRPCClient.Batch runs on
	// its caller's goroutine, so its caller's cancellation must end the
	// request (Client's callers wait on their own calls and never need it).
	base context.Context

	calls   []*call
	stack   []span
	answers []answer
	now     int64

	// What the batch in process taught about the endpoint's limit (see
	// learnFromBatch): the spans of more than one call refused as a whole,
	// the positions of calls refused on their own, and the largest span
	// that got through.
	refused      []span
	refusedAlone []int
	maxOK        int
	// latencies are recorded into stats once per batch, under one lock.
	latencies []int64
}

func newWorker(s *sender, stats *workerStats) *worker {
	return &worker{s: s, stats: stats, req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse()}
}

func (w *worker) release() {
	fasthttp.ReleaseRequest(w.req)
	fasthttp.ReleaseResponse(w.resp)
	w.req, w.resp = nil, nil
}

// run serves batches until ch is closed, telling a after each one.
func (w *worker) run(ch <-chan *batch, a *assembler) {
	defer w.release()
	for b := range ch {
		w.process(b.calls)
		putBatch(b)
		a.inflight.Add(-1)
		a.poke()
	}
}

// process sends calls as one batch, splitting and retrying as the server's
// answers demand, until every call is resolved.
func (w *worker) process(calls []*call) {
	w.calls = calls
	w.stack = append(w.stack[:0], span{lo: 0, hi: len(calls)})
	for len(w.stack) > 0 {
		sp := w.stack[len(w.stack)-1]
		w.stack = w.stack[:len(w.stack)-1]
		w.send(sp)
	}
	w.learnFromBatch()
	clear(w.calls)
	w.calls = nil
	if w.stats != nil && len(w.latencies) > 0 {
		w.stats.recordLatencies(w.latencies)
		w.latencies = w.latencies[:0]
	}
}

// keep reports whether c still has a waiter; a call nobody waits for is
// resolved with its context's error and not sent.
func (w *worker) keep(c *call) bool {
	if c.wanted() && c.ctx.Err() == nil {
		return true
	}
	if !c.deduped {
		w.s.finish(c, nil, ctxErrOf(c), nil)
		return false
	}
	// A dedup leader whose own caller is gone is still sent while one of
	// its followers waits.
	followers, dropped := w.s.dedup.dropIfNoFollowerWaits(c)
	if !dropped {
		return true
	}
	err := ctxErrOf(c)
	w.s.account(c, err, nil)
	c.resolve(nil, err)
	for f := followers; f != nil; {
		next := f.nextFollower
		f.nextFollower = nil
		ferr := ctxErrOf(f)
		w.s.account(f, ferr, nil)
		f.resolve(nil, ferr)
		f = next
	}
	return false
}

// baseCtx is the context every request of the current batch derives from.
func (w *worker) baseCtx() context.Context {
	if w.base != nil {
		return w.base
	}
	return w.s.lifeCtx
}

func ctxErrOf(c *call) error {
	if err := c.ctx.Err(); err != nil {
		return ctxError(err)
	}
	return context.Canceled
}

// deadline is the latest deadline among the calls' waiters; ok is false if
// one of them has none (then the Doer's own timeout bounds the request).
func (w *worker) deadline(cs []*call) (d time.Time, ok bool) {
	for _, c := range cs {
		cd, has := c.ctx.Deadline()
		if !has {
			return time.Time{}, false
		}
		if c.deduped && w.s.dedup.hasFollowers(c) {
			// A follower may wait longer than the leader's caller.
			return time.Time{}, false
		}
		if cd.After(d) {
			d = cd
		}
	}
	return d, true
}

// send makes one attempt at sp and decides what happens to each call.
func (w *worker) send(sp span) {
	s := w.s
	// Calls nobody waits for any more are not sent (nor re-sent).
	k := sp.lo
	for i := sp.lo; i < sp.hi; i++ {
		if c := w.calls[i]; w.keep(c) {
			w.calls[k] = c
			k++
		}
	}
	sp.hi = k
	cs := w.calls[sp.lo:sp.hi]
	n := len(cs)
	if n == 0 {
		return
	}
	if lim := s.limit(); lim > 0 && n > lim {
		// Learned after this batch was assembled: cut it to the limit
		// (pushed in reverse so the first chunk goes first).
		for hi := sp.hi; hi > sp.lo; {
			lo := sp.lo + ((hi-sp.lo-1)/lim)*lim
			w.stack = append(w.stack, span{lo: lo, hi: hi, attempts: sp.attempts, splits: sp.splits})
			hi = lo
		}
		return
	}

	ctx := w.baseCtx()
	cancel := context.CancelFunc(func() {})
	if d, ok := w.deadline(cs); ok {
		ctx, cancel = context.WithDeadline(ctx, d)
	}
	base := s.wireIDs.Add(uint64(n)) - uint64(n)
	idempotent := true
	w.body = append(w.body[:0], '[')
	for i, c := range cs {
		if i > 0 {
			w.body = append(w.body, ',')
		}
		w.body = codec.AppendRequest(w.body, base+uint64(i), c.method, c.params)
		if c.write && !c.idempotent {
			idempotent = false
		}
	}
	w.body = append(w.body, ']')

	req, resp := w.req, w.resp
	req.Reset()
	resp.Reset()
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURIBytes(s.endpoint)
	req.Header.SetContentType("application/json")
	req.SetBodyRaw(w.body)
	var opts []fastpool.RequestOption
	if idempotent {
		opts = s.idemOpts
	}
	start := time.Now()
	err := s.pool.Do(ctx, req, resp, opts...)
	elapsed := time.Since(start)
	ctxErr := ctx.Err()
	cancel()
	w.now = s.now()
	if w.stats != nil {
		w.stats.batchSent(n, len(w.body), len(resp.Body()), elapsed)
	}

	if ctxErr != nil && err != nil {
		// Stop gave up, or every waiter's deadline passed.
		w.failAll(cs, sp, err, ctxErr)
		return
	}

	var status *fastpool.StatusError
	if err != nil {
		status = asError[*fastpool.StatusError](err)
	}
	if err != nil && status == nil {
		var reqErr *fastpool.RequestError
		maybeSent, timeout := true, false
		if errors.As(err, &reqErr) {
			maybeSent, timeout = reqErr.MaybeSent, reqErr.Timeout()
		} else if errors.Is(err, fastpool.ErrPoolExhausted) || errors.Is(err, fastpool.ErrPoolClosed) {
			maybeSent = false
		}
		// A server that never answers is no server that closes the
		// connection on large batches: halving the batch would only send
		// more requests to wait for, each for the Doer's full timeout.
		w.failed(sp, err, failure{retryable: true, maybeSent: maybeSent, transport: !timeout, doerRetried: idempotent})
		return
	}
	if status != nil && status.StatusCode == http.StatusRequestEntityTooLarge {
		w.rejected(sp, err)
		return
	}

	// 2xx, or an error status whose body may hold JSON-RPC answers.
	if cap(w.answers) < n {
		w.answers = make([]answer, n)
	}
	ans := w.answers[:n]
	clear(ans)
	answered := 0
	decErr := codec.DecodeBatch(resp.Body(), func(id uint64, result []byte, e *codec.Error) {
		if id < base || id-base >= uint64(n) || ans[id-base].ok {
			return // unknown or duplicate id: first answer wins
		}
		ans[id-base] = answer{result: result, err: e, ok: true}
		answered++
	})
	var rejected *codec.BatchRejectedError
	var unmatched *codec.UnmatchedError
	if decErr != nil {
		rejected = asError[*codec.BatchRejectedError](decErr)
		unmatched = asError[*codec.UnmatchedError](decErr)
	}
	switch {
	case rejected != nil:
		if status != nil && status.StatusCode == http.StatusTooManyRequests {
			// A 429 is throttling whatever error object its body holds:
			// refused unprocessed (RFC 6585), retried whole after its
			// Retry-After, never split.
			w.failed(sp, fmt.Errorf("%w (body: %w)", err, rejected.Err), failure{retryable: true, retryAfter: status.RetryAfter})
			return
		}
		if status != nil && status.StatusCode >= 500 {
			// A server error with a JSON-RPC error body for the batch.
			w.failed(sp, rejected.Err, failure{retryable: true, maybeSent: true, retryAfter: status.RetryAfter})
			return
		}
		if id := rejected.ID; rejected.HasID && n > 1 && id >= base && id-base < uint64(n) &&
			!isBatchLimit(rejected.Err, false) && !resendable(cs) {
			// A bare error object naming one of the calls may be that
			// call's own answer from a server that ran the batch and
			// answered only it: no proof the writes were unsent. Give the
			// named call its error and the rest ErrNoResponse.
			ans[id-base] = answer{err: rejected.Err, ok: true}
			w.deliver(cs, ans, nil)
			return
		}
		var retryAfter time.Duration
		if status != nil {
			retryAfter = status.RetryAfter
		}
		if !refusal(rejected.Err) {
			// An error object for the whole batch that is no refusal (an
			// internal error, a server-range or custom code) may come from
			// a server that ran the batch and then failed to answer it:
			// the writes in it may have run, so they are failed now and
			// never re-sent. The reads are retried on their own, like any
			// retry (backoff, MaxRetries, deadlines): the error answered a
			// batch they are no longer part of.
			n0 := sp.hi - sp.lo
			if sp = w.failWrites(sp, sp.attempts+1, rejected.Err); sp.lo == sp.hi {
				return
			}
			if sp.hi-sp.lo < n0 {
				w.failed(sp, rejected.Err, failure{retryable: true, retryAfter: retryAfter})
				return
			}
		}
		switch {
		case !isBatchLimit(rejected.Err, false) && isRateLimit(rejected.Err):
			// Throttled, not too large: halves would be more requests to
			// a server asking for fewer. Retry the batch whole, after
			// Retry-After or the backoff.
			w.failed(sp, rejected.Err, failure{retryable: true, retryAfter: retryAfter})
			return
		case rejected.Err.Code == codec.CodeInternalError && sp.attempts < w.s.set.maxRetries &&
			!isBatchLimit(rejected.Err, false):
			// A server fault for the whole batch is most likely
			// transient: retry it whole. Only if it persists through
			// MaxRetries is it treated as a size refusal in disguise
			// (split below).
			w.failed(sp, rejected.Err, failure{retryable: true, retryAfter: retryAfter})
			return
		}
		w.rejected(sp, rejected.Err)
		return
	case unmatched != nil:
		var first error = decErr
		if len(unmatched.Errors) > 0 {
			first = unmatched.Errors[0]
		}
		w.deliver(cs, ans, first)
		return
	case errors.Is(decErr, codec.ErrEmptyBatch):
		w.deliver(cs, ans, nil)
		return
	case decErr != nil:
		if status != nil {
			w.failed(sp, err, failure{retryable: retryableStatus(status.StatusCode), maybeSent: status.StatusCode != http.StatusTooManyRequests, retryAfter: status.RetryAfter})
			return
		}
		w.failed(sp, decErr, failure{retryable: true, maybeSent: true})
		return
	case n > 1 && answered == 1 && ans[0].ok && ans[0].err != nil && isBatchLimit(ans[0].err, resendable(cs)):
		// geth: a one-element array with "batch too large" on the first id.
		w.rejected(sp, ans[0].err)
		return
	}
	if answered > 0 {
		w.maxOK = max(w.maxOK, n)
	}
	w.deliver(cs, ans, nil)
}

// learnIfLast runs learnFromBatch when the span in hand is the batch's
// last, before it resolves its calls: a caller that has the batch's last
// answer finds the learned limit in Stats, and its next batch under it.
// Every path that resolves a span for good calls it first (deliver,
// failAll, a lone refusal, a *BatchError); process learns again when the
// batch is done, a no-op by then unless the batch ended another way.
func (w *worker) learnIfLast() {
	if len(w.refused) > 0 && len(w.stack) == 0 {
		w.learnFromBatch()
	}
}

// learnFromBatch learns a batch limit from the refusals of the batch just
// processed: the largest size that got through, if a span without any call
// refused on its own was refused too. A refusal explained by one call
// (a huge one behind a 413, one the server cannot parse) says nothing
// about batch size, so a single bad call does not halve the limit down to
// one call per request; and no size is learned that this batch did not
// see get through.
func (w *worker) learnFromBatch() {
	bySize := false
	for _, r := range w.refused {
		explained := false
		for _, p := range w.refusedAlone {
			if p >= r.lo && p < r.hi {
				explained = true
				break
			}
		}
		if !explained {
			bySize = true
			break
		}
	}
	if bySize && w.maxOK > 0 {
		w.s.learn(w.maxOK)
	}
	w.refused = w.refused[:0]
	w.refusedAlone = w.refusedAlone[:0]
	w.maxOK = 0
}

// deliver resolves every call from its answer; unanswered calls fail with
// the server's unmatched error when it sent one, else *NoResponseError.
func (w *worker) deliver(cs []*call, ans []answer, unmatched error) {
	w.learnIfLast()
	for i, c := range cs {
		a := ans[i]
		switch {
		case a.ok && a.err != nil:
			w.s.finish(c, nil, a.err, w)
		case a.ok:
			w.s.finish(c, a.result, nil, w)
		case unmatched != nil:
			w.s.finish(c, nil, unmatched, w)
		default:
			w.s.finish(c, nil, &NoResponseError{Method: c.method}, w)
		}
	}
	clear(ans)
}

// isBatchLimit reports whether a lone error answering a multi-call batch is
// a whole-batch limit (geth's -32600 "batch too large", providers' limit
// errors) rather than that call's own failure. A bare -32600 without such
// wording counts only when every call is safe to send again (resendable):
// it may as well be the first call's own error from a server that ran the
// others and lost their answers, so it proves nothing about writes.
func isBatchLimit(e *codec.Error, resendable bool) bool {
	m := strings.ToLower(e.Message)
	if strings.Contains(m, "batch") && (strings.Contains(m, "too large") || strings.Contains(m, "limit") || strings.Contains(m, "too many")) {
		return true
	}
	return resendable && e.Code == codec.CodeInvalidRequest
}

// refusal reports whether a lone error object answering a whole batch
// proves the server ran none of it: codec.NeverExecuted's codes (parse
// error, invalid request, method not found), a batch limit, or throttling.
func refusal(e *codec.Error) bool {
	return codec.NeverExecuted(e.Code) || isBatchLimit(e, false) || isRateLimit(e)
}

// isRateLimit reports whether a lone error answering a whole batch says the
// client is being throttled (-32005 "limit exceeded", or a message saying
// so) rather than that the batch is too large. Callers check isBatchLimit
// first: "batch limit exceeded" is about size whatever its code.
func isRateLimit(e *codec.Error) bool {
	if e.Code == codec.CodeLimitExceeded {
		return true
	}
	m := strings.ToLower(e.Message)
	return strings.Contains(m, "rate limit") || strings.Contains(m, "too many requests")
}

// resendable reports whether every call may be sent again even if the
// server may have run it: reads and writes marked WithIdempotent.
func resendable(cs []*call) bool {
	for _, c := range cs {
		if c.write && !c.idempotent {
			return false
		}
	}
	return true
}

func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code >= 500
}

// rejected handles a batch the server refused as a whole without executing
// it: split it in halves (the limit is learned once the batch is done, see
// learnFromBatch), or, for a single call, report the server's reason.
func (w *worker) rejected(sp span, reason error) {
	n := sp.hi - sp.lo
	if n > 1 {
		w.refused = append(w.refused, sp)
		w.split(sp, true)
		return
	}
	w.refusedAlone = append(w.refusedAlone, sp.lo)
	w.learnIfLast()
	w.s.finish(w.calls[sp.lo], nil, reason, w)
}

// split pushes both halves of sp; the first half is sent first.
func (w *worker) split(sp span, count bool) {
	mid := sp.lo + (sp.hi-sp.lo)/2
	splits := sp.splits
	if count {
		splits++
		if w.stats != nil {
			w.stats.splits.Add(1)
		}
	}
	w.stack = append(w.stack,
		span{lo: mid, hi: sp.hi, attempts: sp.attempts, splits: splits},
		span{lo: sp.lo, hi: mid, attempts: sp.attempts, splits: splits})
}

type failure struct {
	retryable bool
	maybeSent bool // the server may have executed the batch
	transport bool // the connection failed (e.g. closed on a large batch)
	// doerRetried: the Doer was allowed to retry (idempotent batch), so a
	// transport failure survived several attempts and is no random drop.
	doerRetried bool
	retryAfter  time.Duration
}

// failed handles a batch-level failure: writes that may have run are
// failed; the rest are split (transport failure of a multi-call batch that
// reached the server), retried within MaxRetries and the callers'
// deadlines, or failed with a *BatchError.
func (w *worker) failed(sp span, cause error, f failure) {
	s := w.s
	attempts := sp.attempts + 1
	if w.stats != nil {
		w.stats.batchesFailed.Add(1)
	}
	if f.maybeSent {
		sp = w.failWrites(sp, attempts, cause)
	}
	n := sp.hi - sp.lo
	if n == 0 {
		return
	}
	if f.transport && f.maybeSent && f.doerRetried {
		// A drop that survived the Doer's retries is no random one: if the
		// batch is halved (below), learnFromBatch takes it for a refusal.
		if n > 1 {
			w.refused = append(w.refused, sp)
		} else {
			w.refusedAlone = append(w.refusedAlone, sp.lo)
		}
	}
	if f.transport && f.maybeSent && n > 1 {
		// A server that drops the connection on a large batch: halve it.
		w.split(sp, true)
		return
	}
	if f.retryable && sp.attempts < s.set.maxRetries {
		d := s.backoff(sp.attempts, f.retryAfter)
		// Wait within the callers' deadlines; without one, a Retry-After
		// beyond MaxRetryBackoff is not waited out: a hostile or overloaded
		// server could otherwise park a dispatch slot and its callers for
		// as long as it likes, up to decades.
		dl, ok := w.deadline(w.calls[sp.lo:sp.hi])
		if (ok && time.Until(dl) > d) || (!ok && f.retryAfter <= s.set.maxRetryBackoff) {
			if w.stats != nil {
				w.stats.retries.Add(1)
			}
			t := time.NewTimer(d)
			base := w.baseCtx()
			select {
			case <-t.C:
			case <-base.Done():
				t.Stop()
				w.failAll(w.calls[sp.lo:sp.hi], sp, cause, base.Err())
				return
			}
			sp.attempts = attempts
			w.stack = append(w.stack, sp)
			return
		}
	}
	be := &BatchError{Endpoint: string(s.endpoint), Calls: n, Attempts: attempts, Splits: sp.splits, Err: cause}
	w.learnIfLast()
	for _, c := range w.calls[sp.lo:sp.hi] {
		s.finish(c, nil, be, w)
	}
}

// failWrites fails the writes of sp that are not marked idempotent, which
// may have run and so must not be sent again, with a *BatchError; it
// returns sp narrowed to the calls left.
func (w *worker) failWrites(sp span, attempts int, cause error) span {
	s := w.s
	k := sp.lo
	for i := sp.lo; i < sp.hi; i++ {
		c := w.calls[i]
		if c.write && !c.idempotent {
			s.finish(c, nil, &BatchError{Endpoint: string(s.endpoint), Calls: sp.hi - sp.lo, Attempts: attempts, Splits: sp.splits, Err: cause}, w)
			continue
		}
		w.calls[k] = c
		k++
	}
	sp.hi = k
	return sp
}

// failAll resolves calls after the request context ended: ErrStopped when
// Stop gave up, else each caller's own context error.
func (w *worker) failAll(cs []*call, sp span, cause, ctxErr error) {
	w.learnIfLast()
	if w.s.lifeCtx.Err() != nil {
		for _, c := range cs {
			w.s.finish(c, nil, ErrStopped, w)
		}
		return
	}
	for _, c := range cs {
		var err error
		if e := c.ctx.Err(); e != nil {
			err = ctxError(e)
		} else if d, ok := c.ctx.Deadline(); ok && !time.Now().Before(d) {
			err = ErrTimeout // the request's own timer for this deadline fired first
		} else {
			err = &BatchError{Endpoint: string(w.s.endpoint), Calls: len(cs), Attempts: sp.attempts + 1, Splits: sp.splits, Err: cause}
		}
		if !c.deduped {
			w.s.finish(c, nil, err, w)
			continue
		}
		// The leader's own deadline ended the request; followers that joined
		// later may still have time and must not inherit its timeout.
		followers := w.s.dedup.remove(c)
		w.s.account(c, err, w)
		c.resolve(nil, err)
		for f := followers; f != nil; {
			next := f.nextFollower
			f.nextFollower = nil
			switch {
			case f.ctx.Err() != nil:
				ferr := ctxError(f.ctx.Err())
				w.s.account(f, ferr, w)
				f.resolve(nil, ferr)
			default:
				ferr := err
				if w.s.resubmit != nil {
					ferr = w.s.resubmit(f)
				}
				if ferr != nil {
					w.s.account(f, ferr, w)
					f.resolve(nil, ferr)
				}
			}
			f = next
		}
	}
}

// backoff is full-jitter exponential backoff, at least retryAfter.
func (s *sender) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := s.set.retryBackoff << min(attempt, 20)
	if d > s.set.maxRetryBackoff || d <= 0 {
		d = s.set.maxRetryBackoff
	}
	d = d/2 + rand.N(d/2+1)
	return max(d, retryAfter)
}

// asError is errors.As returning the match; kept out of line so the target
// variable escapes only on the error path.
func asError[T error](err error) T {
	var target T
	errors.As(err, &target)
	return target
}
