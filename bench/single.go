package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batchring/batchring/codec"
	"github.com/batchring/batchring/fastpool"
	"github.com/valyala/fasthttp"
)

// Defaults of SingleConfig.
const (
	// DefaultConnections is the connection limit when Connections is 0.
	DefaultConnections = 16
	// DefaultCallTimeout bounds one HTTP request when Timeout is 0.
	DefaultCallTimeout = 10 * time.Second
)

// ErrNoURL is returned by NewSingleCaller and NewBatchCaller without a URL.
var ErrNoURL = errors.New("bench: no target URL")

// SingleConfig configures a SingleCaller. The zero value needs only URL.
type SingleConfig struct {
	// URL is the JSON-RPC endpoint, e.g. "http://127.0.0.1:26660/v3".
	// Required.
	URL string
	// Connections caps the keep-alive connections to the target. Default 16.
	Connections int
	// Timeout bounds one request (write and whole response). Default 10s.
	Timeout time.Duration
	// Retries is how many times a failed request is re-sent (transport
	// errors before sending, 429, 502/503/504) by fastpool. Default 0: a
	// load generator reports what the server did instead of hiding it; the
	// engine itself pauses after a 429 as the server asks.
	Retries int
}

// Validate reports the first field out of range.
func (c SingleConfig) Validate() error {
	switch {
	case c.URL == "":
		return ErrNoURL
	case c.Connections < 0 || c.Connections > 100_000:
		return fmt.Errorf("%w: Connections %d: want 0 (default 16) up to 100000", ErrBadConfig, c.Connections)
	case c.Timeout < 0:
		return fmt.Errorf("%w: Timeout %v: want ≥ 0", ErrBadConfig, c.Timeout)
	case c.Retries < 0 || c.Retries > 100:
		return fmt.Errorf("%w: Retries %d: want 0 up to 100", ErrBadConfig, c.Retries)
	}
	return nil
}

// SingleCaller sends every call as its own HTTP request (one JSON-RPC
// request object per POST) through a fastpool.Pool. It is safe for
// concurrent use; Close it when done.
type SingleCaller struct {
	url      string
	pool     *fastpool.Pool
	requests atomic.Int64
	nextID   atomic.Uint64
	slots    sync.Pool // *singleSlot
}

// singleSlot is the per-call state, pooled so a call allocates nothing in
// steady state.
type singleSlot struct {
	req    fasthttp.Request
	resp   fasthttp.Response
	body   []byte
	id     uint64
	seen   bool
	rpcErr *codec.Error
	decode func(id uint64, result []byte, err *codec.Error)
}

// NewSingleCaller builds a SingleCaller with its own connection pool.
func NewSingleCaller(cfg SingleConfig) (*SingleCaller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pool, _, err := newCallerPool(cfg.Connections, cfg.Timeout, cfg.Retries)
	if err != nil {
		return nil, fmt.Errorf("bench: single caller: %w", err)
	}
	c := &SingleCaller{url: cfg.URL, pool: pool}
	c.slots.New = func() any {
		s := &singleSlot{}
		s.req.Header.SetMethod(fasthttp.MethodPost)
		s.req.Header.SetContentType("application/json")
		s.req.SetRequestURI(c.url)
		s.decode = func(id uint64, _ []byte, err *codec.Error) {
			if id == s.id {
				s.seen = true
				s.rpcErr = err
			}
		}
		return s
	}
	return c, nil
}

// Call sends op as one JSON-RPC request and reads its answer. It returns
// nil for a result, the server's *codec.Error for an error object (also when
// it came with an HTTP 4xx/5xx status), a *fastpool.StatusError for another
// non-2xx status, or the transport error.
//
// A deadline on ctx bounds the request. Cancellation alone is checked before
// the request is sent; a request in flight is then bounded by Timeout
// rather than interrupted, because hooking every request to a cancellable
// context costs about 3 µs of CPU per call (measured against the stand-in
// node), a third of what a loopback request costs.
func (c *SingleCaller) Call(ctx context.Context, op *Op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := c.slots.Get().(*singleSlot)
	s.seen, s.rpcErr = false, nil
	m := op.memo
	if m != nil {
		// An op of a Workload always goes out as the same bytes with the
		// same id: over HTTP/1.1 the connection pairs a request with its
		// answer, so the id need not change between calls.
		s.id = m.id
		req := m.request.Load()
		if req == nil {
			b := codec.AppendRequest(nil, s.id, op.Method, op.Params)
			m.request.CompareAndSwap(nil, &b)
			req = m.request.Load()
		}
		s.req.SetBodyRaw(*req)
	} else {
		s.id = c.nextID.Add(1)
		s.body = codec.AppendRequest(s.body[:0], s.id, op.Method, op.Params)
		s.req.SetBodyRaw(s.body)
	}
	c.requests.Add(1)
	err := c.pool.Do(requestContext(ctx), &s.req, &s.resp)
	body := s.resp.Body()
	switch {
	case err == nil && m != nil && isKnownGood(m, body):
		// Byte for byte the answer already validated as a success for
		// this op (a node answering the same read the same way): the
		// decode below would say the same.
	case err == nil || isStatusError(err):
		// A JSON-RPC server may answer a failing call with HTTP 400/500 and
		// an error object in the body: report the server's error.
		if derr := codec.DecodeBatch(body, s.decode); derr != nil {
			if rpc := rejected(derr); rpc != nil {
				err = withBodyError(err, rpc)
			} else if err == nil {
				err = fmt.Errorf("bench: %s: %w", op.Method, derr)
			}
		} else if s.rpcErr != nil {
			err = withBodyError(err, s.rpcErr)
		} else if !s.seen && err == nil {
			err = fmt.Errorf("bench: %s: %w", op.Method, errNoAnswer)
		} else if err == nil && m != nil && m.okBody.Load() == nil {
			good := append([]byte(nil), body...)
			m.okBody.CompareAndSwap(nil, &good)
		}
	}
	s.resp.Reset()
	c.slots.Put(s)
	return err
}

// isKnownGood reports whether body is the answer first validated as a
// success for the op.
func isKnownGood(m *opMemo, body []byte) bool {
	good := m.okBody.Load()
	return good != nil && bytes.Equal(*good, body)
}

// isStatusError reports a non-2xx answer. It is only called with an error,
// so the errors.As target's allocation stays off the success path.
func isStatusError(err error) bool {
	var se *fastpool.StatusError
	return errors.As(err, &se)
}

// withBodyError is the error of a call whose body held the server's error
// object rpc: rpc itself, except after an HTTP 429, whose status and
// Retry-After must survive for the engine to pause (a proxy's 429 may carry
// any error object).
func withBodyError(err error, rpc *codec.Error) error {
	var se *fastpool.StatusError
	if errors.As(err, &se) && se.StatusCode == http.StatusTooManyRequests {
		return fmt.Errorf("%w (body: %w)", err, rpc)
	}
	return rpc
}

// rejected returns the server's error object when the body was a single
// error object answering the call.
func rejected(err error) *codec.Error {
	var rej *codec.BatchRejectedError
	if errors.As(err, &rej) {
		return rej.Err
	}
	return nil
}

// requestContext keeps ctx when it carries a deadline, and otherwise drops
// its cancellation (see Call).
func requestContext(ctx context.Context) context.Context {
	if _, ok := ctx.Deadline(); ok {
		return ctx
	}
	return context.Background()
}

// errNoAnswer is a 2xx answer that does not answer the call's id.
var errNoAnswer = errors.New("answer does not carry the call's id")

// Requests returns the HTTP requests sent so far.
func (c *SingleCaller) Requests() int64 { return c.requests.Load() }

// Close closes the connection pool. Calls in flight finish first.
func (c *SingleCaller) Close() error { return c.pool.Close() }

// newCallerPool is the fastpool both callers send through, with the
// callers' defaults applied: DefaultConnections connections, a
// DefaultCallTimeout per call, and no retries unless asked (fastpool takes
// a negative count for none). It also returns the retry count it used.
func newCallerPool(conns int, timeout time.Duration, retries int) (*fastpool.Pool, int, error) {
	if conns == 0 {
		conns = DefaultConnections
	}
	if timeout == 0 {
		timeout = DefaultCallTimeout
	}
	if retries == 0 {
		retries = -1
	}
	pool, err := fastpool.New(fastpool.Config{
		MaxConns:            conns,
		MaxConnsPerHost:     conns,
		ConnectTimeout:      min(timeout, 10*time.Second),
		RequestTimeout:      timeout,
		MaxRetries:          retries,
		RetryDelay:          50 * time.Millisecond,
		HealthCheckInterval: -1,
		UserAgent:           "batchring-loadgen/1",
	})
	return pool, retries, err
}
