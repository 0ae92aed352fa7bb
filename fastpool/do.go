package fastpool

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"
)

// RequestOption changes how one request is handled. It is a small value
// (not a closure), so passing options allocates nothing; build one with a
// With… function.
type RequestOption struct {
	set requestOptions // fields this option turns on
}

type requestOptions struct {
	idempotent bool
}

// applyOptions merges opts into one value.
func applyOptions(opts []RequestOption) requestOptions {
	var o requestOptions
	for _, opt := range opts {
		o.idempotent = o.idempotent || opt.set.idempotent
	}
	return o
}

// WithIdempotent marks a request as safe to send twice, so it may be
// re-sent even after it may have reached the server (a reset or EOF while
// waiting for the response, a 502/503/504). Without it, only GET, HEAD, PUT,
// DELETE, OPTIONS and QUERY requests are treated as idempotent; anything
// else (POST) is re-sent only when it provably never reached the server.
func WithIdempotent() RequestOption { return RequestOption{set: requestOptions{idempotent: true}} }

// HasIdempotent reports whether opts include WithIdempotent. It lets other
// Do implementations (in-memory transports in tests) honour the option.
func HasIdempotent(opts ...RequestOption) bool { return applyOptions(opts).idempotent }

var pastTime = time.Unix(1, 0)

// Do sends req and reads the answer into resp, retrying per Config, within
// ctx (deadline and cancellation). req must carry an absolute http or https
// URI. On return resp holds the last response with its body decompressed
// (gzip, zstd) and Content-Encoding removed.
//
// Errors: nil for a final 2xx; *StatusError for any other final status (resp
// still holds that response); *RequestError when the last attempt failed in
// transport (it lists every attempt); ErrPoolClosed after Close. A caller
// that cannot get a connection in time gets an error matching
// ErrPoolExhausted and the context's error.
//
// A body set with SetBodyStream is read once: such a request is not re-sent
// after an attempt began writing it (only dial and connection-wait failures
// are retried), since a re-send would carry an empty body.
//
// Do may set User-Agent and Accept-Encoding on req when they are empty. It
// does not keep req or resp after it returns: a cancelled attempt is
// interrupted through its connection's deadline, in the calling goroutine,
// so nothing writes into resp later. Cancellation ends an attempt blocked
// on the network within 5 ms (at once once the attempt is older than
// that); a context deadline ends it exactly. A context whose Done channel
// is nil costs nothing to watch.
func (p *Pool) Do(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, opts ...RequestOption) error {
	return p.do(ctx, req, resp, applyOptions(opts), nil)
}

// isIdempotentMethod follows RFC 9110 section 9.2.2.
func isIdempotentMethod(req *fasthttp.Request) bool {
	h := &req.Header
	return h.IsGet() || h.IsHead() || h.IsPut() || h.IsDelete() || h.IsOptions() || h.IsTrace() || string(h.Method()) == "QUERY"
}

// retryableStatus reports whether a status is worth another attempt, and
// whether that holds for non-idempotent requests too. 429 means the server
// refused the request without acting on it (RFC 6585), so any request may be
// re-sent; a 502/503/504 may come after the origin did act on it.
func retryableStatus(code int) (retry, evenNonIdempotent bool) {
	switch code {
	case fasthttp.StatusTooManyRequests:
		return true, true
	case fasthttp.StatusBadGateway, fasthttp.StatusServiceUnavailable, fasthttp.StatusGatewayTimeout:
		return true, false
	}
	return false, false
}

// do is the retry loop shared by Pool.Do and EndpointSet.Do (set != nil:
// each attempt picks an endpoint and sets req's URI to it).
func (p *Pool) do(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, o requestOptions, set *EndpointSet) error {
	if p.closed.Load() {
		return ErrPoolClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	idempotent := o.idempotent || isIdempotentMethod(req)
	// fasthttp reads a body stream once and drops it after writing: a
	// re-send would go out with an empty body. Such a request is retried
	// only while its stream is untouched (dial and connection-wait failures).
	bodyStream := req.IsBodyStream()
	if len(req.Header.UserAgent()) == 0 {
		req.Header.SetUserAgent(p.cfg.UserAgent)
	}
	if !p.cfg.DisableCompression && len(req.Header.Peek(fasthttp.HeaderAcceptEncoding)) == 0 {
		req.Header.Set(fasthttp.HeaderAcceptEncoding, acceptEncoding)
	}
	ctxDL, hasDL := ctx.Deadline()

	var (
		errs      []error // one per failed attempt; allocated only on failure
		maybeSent bool
		attempts  int
		lastEP    *endpoint
		h         *host
	)
	for {
		var ep *endpoint
		if set != nil {
			ep = set.pick(lastEP)
			req.SetRequestURI(ep.url)
		}
		var err error
		h, err = p.hostFor(req.URI())
		if err != nil {
			return err
		}
		now := time.Now()
		deadline := now.Add(p.cfg.RequestTimeout)
		if hasDL && ctxDL.Before(deadline) {
			deadline = ctxDL
		}
		attempts++
		if ep != nil {
			ep.inFlight.Add(1)
		}
		aerr := p.attempt(ctx, h, req, resp, now, deadline, attempts > 1)
		if ep != nil {
			ep.inFlight.Add(-1)
			lastEP = ep
		}
		if aerr == errHostGone {
			attempts-- // the sweep raced us; look the host up again
			continue
		}
		var status int
		if aerr == nil {
			status = resp.StatusCode()
			if status >= 200 && status < 300 {
				h.succeeded()
				return p.finish(resp, h, req, attempts)
			}
			retry, anyMethod := retryableStatus(status)
			if status >= 500 {
				h.shard().errors.Add(1)
				h.failed()
			} else {
				h.succeeded() // the server answered: it is alive
			}
			streamGone := bodyStream && !req.IsBodyStream()
			if !retry || !(anyMethod || idempotent) || attempts > p.cfg.MaxRetries || streamGone {
				return p.statusError(resp, h, req, attempts, errs, maybeSent)
			}
			wait := p.backoff(attempts)
			if ra := retryAfter(resp, now); ra > 0 {
				if ra > p.cfg.MaxRetryDelay {
					// Retrying earlier than the server asked would not honour
					// it; waiting longer than MaxRetryDelay is not allowed:
					// the status (with RetryAfter) is the answer.
					return p.statusError(resp, h, req, attempts, errs, maybeSent)
				}
				wait = ra
			}
			if set != nil && set.hasOther(lastEP) && !(status == fasthttp.StatusTooManyRequests) {
				wait = 0 // another endpoint may answer at once
			}
			if hasDL && time.Now().Add(wait).After(ctxDL) {
				// Waiting would pass the deadline: the status is the answer.
				return p.statusError(resp, h, req, attempts, errs, maybeSent)
			}
			if werr := p.sleepCtx(ctx, wait); werr != nil {
				_ = p.finishBody(resp)
				return &RequestError{Method: string(req.Header.Method()), Host: h.name, Attempts: attempts,
					Errs: append(errs, &StatusError{StatusCode: status, Method: string(req.Header.Method()), Host: h.name, Attempts: attempts}, werr), MaybeSent: true}
			}
			if status != fasthttp.StatusTooManyRequests {
				maybeSent = true // a 429 was refused unprocessed (RFC 6585)
			}
			errs = append(errs, &StatusError{StatusCode: status, Method: string(req.Header.Method()), Host: h.name, Attempts: attempts})
			continue
		}

		var ae *attemptError
		sent := true
		if errors.As(aerr, &ae) {
			sent = ae.maybeSent
		}
		maybeSent = maybeSent || sent
		errs = append(errs, aerr)
		if ae != nil && ae.stage != "wait" && ctx.Err() == nil {
			h.failed() // the caller giving up says nothing about the host
		}
		if streamGone := bodyStream && !req.IsBodyStream(); streamGone || !p.shouldRetry(ctx, aerr, sent, idempotent, attempts) {
			return &RequestError{Method: string(req.Header.Method()), Host: h.name, Attempts: attempts, Errs: errs, MaybeSent: maybeSent}
		}
		wait := p.backoff(attempts)
		if set != nil && set.hasOther(lastEP) {
			wait = 0 // fail over at once
		}
		if hasDL && time.Now().Add(wait).After(ctxDL) {
			errs = append(errs, context.DeadlineExceeded)
			return &RequestError{Method: string(req.Header.Method()), Host: h.name, Attempts: attempts, Errs: errs, MaybeSent: maybeSent}
		}
		if werr := p.sleepCtx(ctx, wait); werr != nil {
			errs = append(errs, werr)
			return &RequestError{Method: string(req.Header.Method()), Host: h.name, Attempts: attempts, Errs: errs, MaybeSent: maybeSent}
		}
	}
}

// shouldRetry decides after a transport failure.
func (p *Pool) shouldRetry(ctx context.Context, err error, maybeSent, idempotent bool, attempts int) bool {
	if attempts > p.cfg.MaxRetries || ctx.Err() != nil {
		return false
	}
	if errors.Is(err, ErrPoolClosed) || errors.Is(err, ErrBodyTooLarge) || isCertError(err) {
		return false
	}
	return !maybeSent || idempotent
}

// backoff is the jittered exponential delay before attempt n+1: a uniform
// value in [d/2, d] with d = RetryDelay·2^(n-1), capped by MaxRetryDelay.
func (p *Pool) backoff(n int) time.Duration {
	d := p.cfg.RetryDelay
	for i := 1; i < n && d < p.cfg.MaxRetryDelay; i++ {
		d *= 2
	}
	d = min(d, p.cfg.MaxRetryDelay)
	half := d / 2
	return half + rand.N(d-half+1)
}

func (p *Pool) sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.monitorCx.Done():
		// Close interrupts a backoff or Retry-After wait like any attempt
		// in flight.
		return fmt.Errorf("%w (retry wait interrupted)", ErrPoolClosed)
	}
}

// retryAfter parses Retry-After (delay-seconds or an HTTP date, RFC 9110
// section 10.2.3); 0 when absent or unparsable.
func retryAfter(resp *fasthttp.Response, now time.Time) time.Duration {
	v := resp.Header.Peek(fasthttp.HeaderRetryAfter)
	if len(v) == 0 {
		return 0
	}
	return parseRetryAfter(v, now)
}

// maxRetryAfterSecs caps a Retry-After in seconds (about 68 years), far
// beyond any MaxRetryDelay, so the Duration cannot overflow.
const maxRetryAfterSecs = 1 << 31

func parseRetryAfter(v []byte, now time.Time) time.Duration {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	if len(v) == 0 {
		return 0
	}
	if v[0] >= '0' && v[0] <= '9' {
		var secs int64
		for _, b := range v {
			if b < '0' || b > '9' {
				return 0
			}
			// Absurdly long saturates: the server's meaning is plain (not
			// soon), and reading it as no header would retry at once.
			secs = min(secs*10+int64(b-'0'), maxRetryAfterSecs)
		}
		return time.Duration(secs) * time.Second
	}
	// net/http.ParseTime takes all three date forms RFC 9110 section 5.6.7
	// requires recipients to accept (IMF-fixdate, RFC 850, asctime).
	t, err := http.ParseTime(string(v))
	if err != nil {
		return 0
	}
	if d := t.Sub(now); d > 0 {
		return d
	}
	return 0
}

// attempt runs one request on one connection. Errors are *attemptError
// telling whether the request may have reached the server. now is the one
// clock reading the attempt starts from (deadline, idle check, stats).
func (p *Pool) attempt(ctx context.Context, h *host, req *fasthttp.Request, resp *fasthttp.Response, now, deadline time.Time, isRetry bool) error {
	s := h.shard()
	s.inFlight.Add(1)
	s.lastUse.Store(now.UnixNano())
	s.requests.Add(1)
	if isRetry {
		s.retries.Add(1)
	}
	end, err := p.roundTrip(ctx, h, s, req, resp, now, deadline)
	s.inFlight.Add(-1)
	if err == errHostGone {
		s.requests.Add(^uint64(0))
		if isRetry {
			s.retries.Add(^uint64(0))
		}
		return err
	}
	if err != nil {
		end = time.Now()
		s.errors.Add(1)
	}
	s.recordLatency(end.Sub(now))
	return err
}

// roundTrip runs one exchange on one connection. On success it returns the
// clock reading taken when the response was complete (so the caller's
// latency and the connection's idle time share one reading).
func (p *Pool) roundTrip(ctx context.Context, h *host, s *hostShard, req *fasthttp.Request, resp *fasthttp.Response, now, deadline time.Time) (time.Time, error) {
	c, reused, err := h.acquire(ctx, now, deadline)
	if err != nil {
		return time.Time{}, err
	}
	c.written, c.read, c.shard = 0, 0, s
	// Cancellation (not only the deadline) must end the attempt promptly,
	// in this goroutine, so the attempt never outlives Do and never writes
	// into a resp the caller already reused. A context without a Done
	// channel needs nothing beyond the deadline; a cancellable one is
	// watched as cancelPoll describes.
	sockDL := deadline
	c.watching, c.start, c.deadline = true, now, deadline
	if ctx.Done() != nil {
		if slice := now.Add(cancelPoll); slice.Before(deadline) {
			sockDL = slice
			c.ctx = ctx
		}
	}
	if err := c.armDeadline(now, sockDL); err != nil {
		c.endAttempt()
		h.closeConn(c)
		return time.Time{}, &attemptError{stage: "write", reused: reused, err: err}
	}
	// Close stores closed before it interrupts the open connections, and
	// the deadline above was set before this load: either Close's interrupt
	// comes after it, or this sees the pool closed.
	if p.closed.Load() {
		c.endAttempt()
		h.closeConn(c)
		return time.Time{}, &attemptError{stage: "write", reused: reused, err: ErrPoolClosed}
	}

	c.fitWriteBuf(len(req.Body()))
	err = req.Write(c.bw)
	if err == nil {
		err = c.bw.Flush()
	}
	if err != nil {
		c.endAttempt()
		h.closeConn(c)
		return time.Time{}, &attemptError{stage: "write", reused: reused, maybeSent: c.written > 0, err: p.attemptErr(ctx, deadline, err)}
	}
	// Like fasthttp's own transport: start from a clean response (a 204 must
	// not keep the previous body), keep the caller's SkipBody, skip the body
	// of a HEAD answer, and never stream (the connection goes back to the
	// pool when this returns).
	skipBody := resp.SkipBody || req.Header.IsHead()
	resp.Reset()
	resp.SkipBody = skipBody
	err = readResponse(c.br, resp, p.cfg.MaxResponseBodySize)
	resp.SkipBody = skipBody && !req.Header.IsHead()
	if err != nil {
		c.endAttempt()
		h.closeConn(c)
		if errors.Is(err, fasthttp.ErrBodyTooLarge) {
			err = ErrBodyTooLarge
		} else {
			err = p.attemptErr(ctx, deadline, err)
		}
		return time.Time{}, &attemptError{stage: "read", reused: reused, maybeSent: true, err: err}
	}
	end := time.Now()
	if c.endAttempt() || req.ConnectionClose() || resp.ConnectionClose() || c.br.Buffered() > 0 {
		// A connection whose deadline the cancel hook may have moved is not
		// reused even though this response arrived whole. Nor is one with
		// bytes buffered past the response: nothing else was asked, so they
		// are an unsolicited response that would answer the next request.
		h.closeConn(c)
	} else {
		h.release(c, end)
	}
	return end, nil
}

// attemptErr is the error of an attempt whose read or write failed:
// ErrPoolClosed once the pool is closed (Close interrupts every attempt in
// flight; fasthttp's reader reports that as its own timeout), else
// mapTimeout's mapping.
func (p *Pool) attemptErr(ctx context.Context, deadline time.Time, err error) error {
	if p.closed.Load() {
		return fmt.Errorf("%w (attempt interrupted: %v)", ErrPoolClosed, err)
	}
	return mapTimeout(ctx, deadline, err)
}

// finish decompresses a final 2xx response.
func (p *Pool) finish(resp *fasthttp.Response, h *host, req *fasthttp.Request, attempts int) error {
	if err := p.finishBody(resp); err != nil {
		h.shard().errors.Add(1)
		return &RequestError{Method: string(req.Header.Method()), Host: h.name, Attempts: attempts, Errs: []error{err}, MaybeSent: true}
	}
	return nil
}

func (p *Pool) statusError(resp *fasthttp.Response, h *host, req *fasthttp.Request, attempts int, errs []error, maybeSent bool) error {
	_ = p.finishBody(resp) // a body that fails to decode stays as received
	body := resp.Body()
	if len(body) > maxExcerpt {
		body = body[:maxExcerpt]
	}
	se := &StatusError{
		StatusCode: resp.StatusCode(),
		Body:       append([]byte(nil), body...),
		RetryAfter: retryAfter(resp, time.Now()),
		Method:     string(req.Header.Method()),
		Host:       h.name,
		Attempts:   attempts,
	}
	return se
}

// isCertError reports a TLS verification failure: retrying cannot fix it.
func isCertError(err error) bool {
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	return errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &hne) || errors.As(err, &cie)
}
