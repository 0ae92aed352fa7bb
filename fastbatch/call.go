package fastbatch

import (
	"context"
	"sync"
	"sync/atomic"
)

// CallOption tunes one call. It is a small value, so passing options costs
// no allocation.
type CallOption struct {
	kind     optionKind
	priority int
}

type optionKind uint8

const (
	optNone optionKind = iota
	optPriority
	optIdempotent
)

// WithPriority puts the call into band p (clamped into [0, Bands-1]); higher
// bands are sent first under saturation. Default 0.
func WithPriority(p int) CallOption { return CallOption{kind: optPriority, priority: p} }

// WithIdempotent marks a write as safe to send twice: it may then be re-sent
// after a failure even if the first attempt may have reached the server.
// Reads are always treated as idempotent.
func WithIdempotent() CallOption { return CallOption{kind: optIdempotent} }

// callOptions is the folded form of []CallOption.
type callOptions struct {
	priority   int
	idempotent bool
}

func foldOptions(opts []CallOption) callOptions {
	var o callOptions
	for _, opt := range opts {
		switch opt.kind {
		case optPriority:
			o.priority = opt.priority
		case optIdempotent:
			o.idempotent = true
		}
	}
	return o
}

// call states. A call is resolved exactly once: the pipeline's resolve and a
// waiter's abandon race on one CompareAndSwap from statePending.
const (
	statePending uint32 = iota
	stateResolved
	stateAbandoned
)

// call is one queued JSON-RPC call. It is owned jointly by its waiter and
// the pipeline while pending; whoever finishes second returns it to the
// pool:
//   - resolve wins the CAS: the waiter receives on done, reads the outcome
//     and releases the call;
//   - abandon wins the CAS: the waiter returns at once and the pipeline
//     releases the call when it resolves it.
//
// Calls of a Future (fut != nil) are never touched by a waiter: the future
// holds its own outcome and the pipeline always releases the call.
type call struct {
	state atomic.Uint32
	done  chan struct{} // capacity 1, reused across lives

	ctx    context.Context
	method string
	params []byte
	// pbuf holds the params encoded by Submit or Go; the call owns it and
	// keeps it across lives in callPool, so encoding allocates nothing
	// once the pool is warm.
	pbuf       []byte
	band       int
	write      bool // never deduplicated; re-sent only if provably unsent
	idempotent bool // write marked WithIdempotent
	enqueued   int64
	fut        *Future
	stopWatch  func() bool // stops a Future's context watcher

	// dedup: a leader is in the dedup table and carries its followers; a
	// follower waits for its leader's answer and is never published.
	hash         uint64
	deduped      bool  // leader registered in the dedup table
	chainNext    *call // next leader with the same hash
	followers    *call // followers of this leader, linked by nextFollower
	nextFollower *call

	// dst, with appendResult set, is the caller's buffer the result is
	// appended to instead of a fresh copy (SubmitAppend).
	dst          []byte
	appendResult bool

	// outcome, written by resolve before done is signalled.
	result []byte
	err    error
}

// maxPooledParams is the largest params buffer a pooled call keeps.
const maxPooledParams = 4 << 10

var callPool = sync.Pool{New: func() any { return &call{done: make(chan struct{}, 1)} }}

func getCall() *call {
	c := callPool.Get().(*call)
	c.state.Store(statePending)
	return c
}

func putCall(c *call) {
	c.ctx = nil
	c.method = ""
	c.params = nil
	if cap(c.pbuf) > maxPooledParams {
		c.pbuf = nil // a rare huge call does not pin its buffer in the pool
	}
	c.fut = nil
	c.stopWatch = nil
	c.hash = 0
	c.deduped = false
	c.chainNext = nil
	c.followers = nil
	c.nextFollower = nil
	c.dst = nil
	c.appendResult = false
	c.result = nil
	c.err = nil
	callPool.Put(c)
}

// wanted reports whether someone still waits for this call's own answer
// (followers are checked separately by the dedup table).
func (c *call) wanted() bool {
	if c.fut != nil {
		return c.fut.state.Load() == statePending
	}
	return c.state.Load() == statePending
}

// resolve hands the outcome to the waiter, exactly once. result is copied
// (or, for SubmitAppend, appended to the caller's dst), so the caller owns
// what it receives and body buffers can be reused. After
// resolve the pipeline must not touch c. It reports whether a waiter (or
// the future) received the outcome: false when the caller had already
// given up.
func (c *call) resolve(result []byte, err error) bool {
	if f := c.fut; f != nil {
		f.set(result, err)
		if c.stopWatch != nil {
			c.stopWatch() // the future's context watcher is not needed any more
		}
		putCall(c)
		return true
	}
	if !c.state.CompareAndSwap(statePending, stateResolved) {
		// The waiter gave up and left the call to the pipeline.
		putCall(c)
		return false
	}
	if err == nil {
		if c.appendResult {
			// The waiter is still blocked (resolve won the CAS), so
			// nothing else touches dst until it receives on done.
			c.result = append(c.dst, result...)
		} else {
			c.result = ownCopy(result)
		}
	}
	c.err = err
	c.done <- struct{}{}
	return true
}

// ownCopy returns a copy of result the caller owns. make+copy into a local
// compiles to one allocation that is not zeroed first.
func ownCopy(result []byte) []byte {
	r := make([]byte, len(result))
	copy(r, result)
	return r
}

// wait blocks until the call resolves or ctx ends; it releases the call
// unless the pipeline still owns it.
func (c *call) wait(ctx context.Context) ([]byte, error) {
	done := ctx.Done()
	if done == nil {
		// A context that never ends: a plain receive is cheaper than select.
		<-c.done
		res, err := c.result, c.err
		putCall(c)
		return res, err
	}
	select {
	case <-c.done:
	case <-done:
		if c.state.CompareAndSwap(statePending, stateAbandoned) {
			return nil, ctxError(ctx.Err())
		}
		// resolve won the race; its signal is on the way.
		<-c.done
	}
	res, err := c.result, c.err
	putCall(c)
	return res, err
}

// Future is the pending outcome of a call made with Client.Go. It is safe
// for concurrent use; its outcome is set exactly once.
type Future struct {
	state  atomic.Uint32
	done   chan struct{}
	result []byte
	err    error
}

func newFuture() *Future { return &Future{done: make(chan struct{})} }

// set resolves the future; later calls are no-ops. result is copied.
func (f *Future) set(result []byte, err error) bool {
	if !f.state.CompareAndSwap(statePending, stateResolved) {
		return false
	}
	if err == nil {
		f.result = ownCopy(result)
	}
	f.err = err
	close(f.done)
	return true
}

// Done is closed once the outcome is known.
func (f *Future) Done() <-chan struct{} { return f.done }

// Wait blocks until the outcome is known or ctx ends. Ending ctx here does
// not cancel the call: the context given to Go governs the call itself.
// The returned bytes are the future's own copy, not shared with the
// pipeline; every Wait, Result and Decode of the same future returns the
// same slice, so goroutines sharing a future must not modify it.
func (f *Future) Wait(ctx context.Context) ([]byte, error) {
	select {
	case <-f.done:
		return f.result, f.err
	case <-ctx.Done():
		return nil, ctxError(ctx.Err())
	}
}

// Result returns the outcome without blocking, or ErrPending while the call
// is still running.
func (f *Future) Result() ([]byte, error) {
	select {
	case <-f.done:
		return f.result, f.err
	default:
		return nil, ErrPending
	}
}

// Decode waits for the outcome (bounded by ctx) and unmarshals a successful
// result into v.
func (f *Future) Decode(ctx context.Context, v any) error {
	res, err := f.Wait(ctx)
	if err != nil {
		return err
	}
	return unmarshalResult(res, v)
}
