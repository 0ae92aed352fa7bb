package fastbatch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestPublishRacingStopIsNeverStranded replays the interleaving of a Submit
// that passed its lifecycle check just before Stop began and publishes
// while Stop is under way. Its call must either be refused by the ring
// (→ ErrStopped) or be flushed by Stop; it must never land in a ring the
// assembler has already given up on, leaving its caller waiting forever.
func TestPublishRacingStopIsNeverStranded(t *testing.T) {
	c, err := New(Config{Endpoint: testEndpoint}, newMemDoer())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	f := newFuture()
	published := false
	testHookStopRingsClosed = func(c *Client) {
		c.asm.poke()
		time.Sleep(20 * time.Millisecond) // the assembler looks at the client now
		cl := c.newCall(context.Background(), "query", []byte(`{"late":1}`), callOptions{})
		cl.fut = f
		c.counters.add(cl, ctrSubmitted, 1)
		if published = c.bands[0].TryPublish(cl); !published {
			putCall(cl) // what enqueue does: the caller gets ErrStopped
		}
	}
	defer func() { testHookStopRingsClosed = nil }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if !published {
		return
	}
	select {
	case <-f.Done():
	default:
		t.Fatal("a call published during Stop was neither refused nor flushed: its caller would wait forever")
	}
}

// TestStopRacingStartWaitsForTheGoroutinesStartLaunches: a Stop that
// arrives while Start is between switching to running and launching the
// assembler and dispatchers must not return before those goroutines exist
// and are gone again; it used to find an empty WaitGroup and return at once.
func TestStopRacingStartWaitsForTheGoroutinesStartLaunches(t *testing.T) {
	c, err := New(Config{Endpoint: testEndpoint}, newMemDoer())
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	stoppedEarly := false
	testHookStartRunning = func(c *Client) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			stopped <- c.Stop(ctx)
		}()
		select {
		case <-stopped:
			stoppedEarly = true
		case <-time.After(20 * time.Millisecond):
		}
	}
	defer func() { testHookStartRunning = nil }()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if stoppedEarly {
		t.Fatal("Stop returned while Start was still launching the client's goroutines")
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(context.Background(), "query", nil); !errors.Is(err, ErrStopped) {
		t.Fatalf("Submit after Stop: %v", err)
	}
}

// TestFutureFollowerOfATimedOutLeaderDuringStopGetsErrStopped: when a
// leader's own deadline ends its request while Stop flushes, a Future that
// joined it cannot be re-sent; it must fail with ErrStopped like a Submit
// follower, not inherit the leader's ErrTimeout with time left on its own.
func TestFutureFollowerOfATimedOutLeaderDuringStopGetsErrStopped(t *testing.T) {
	d := newMemDoer()
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		<-ctx.Done() // only the leader's deadline ends this request
		return ctx.Err()
	}
	c, err := New(Config{Endpoint: testEndpoint}, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	params := []byte(`{"scope":"acc://stop-follow.acme"}`)
	leadCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	lead := c.Go(leadCtx, "query", params)
	waitFor(t, func() bool { return d.requests.Load() == 1 })
	follower := c.Go(context.Background(), "query", params)
	waitFor(t, func() bool { return c.Stats().DedupHits == 1 })
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- c.Stop(ctx)
	}()
	waitFor(t, func() bool { return c.life.Load() >= lifeStopping })
	if leadCtx.Err() != nil {
		t.Fatal("the leader's deadline passed before Stop began: the scenario did not happen")
	}
	if _, err := lead.Wait(context.Background()); !errors.Is(err, ErrTimeout) {
		t.Fatalf("leader got %v, want ErrTimeout", err)
	}
	if _, err := follower.Wait(context.Background()); !errors.Is(err, ErrStopped) {
		t.Fatalf("follower got %v, want ErrStopped", err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}
