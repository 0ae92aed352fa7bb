package fastbatch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestJSONRPCClientCallReturnsWhenItsContextIsCancelled: the plain client
// sends on its caller's goroutine, so a cancelled context (one without a
// deadline) must end the request in flight; before, the caller stayed until
// the server answered or the pool's own timeout fired.
func TestJSONRPCClientCallReturnsWhenItsContextIsCancelled(t *testing.T) {
	d := newMemDoer()
	g := newGate()
	defer g.open()
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		if err := g.wait(ctx); err != nil {
			return err
		}
		resp.SetBody(answerAll(reqs, nil))
		return nil
	}
	j, err := NewJSONRPCClient(Config{Endpoint: testEndpoint}, d)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- j.Call(ctx, "query", map[string]int{"slow": 1}, nil) }()
	<-g.entered
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		g.open()
		<-done
		t.Fatal("Call kept waiting for the server after its context was cancelled")
	}
	// The worker is reused: the next call must not see the old context.
	g.open()
	if err := j.Call(context.Background(), "query", nil, nil); err != nil {
		t.Fatal(err)
	}
}

// TestJSONRPCClientCloseEndsCallsInFlight: Close cancels requests in flight
// and their callers get ErrStopped.
func TestJSONRPCClientCloseEndsCallsInFlight(t *testing.T) {
	d := newMemDoer()
	g := newGate()
	defer g.open()
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		if err := g.wait(ctx); err != nil {
			return err
		}
		resp.SetBody(answerAll(reqs, nil))
		return nil
	}
	j, err := NewJSONRPCClient(Config{Endpoint: testEndpoint}, d)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- j.Call(context.Background(), "query", nil, nil) }()
	<-g.entered
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrStopped) {
			t.Fatalf("got %v, want ErrStopped", err)
		}
	case <-time.After(5 * time.Second):
		g.open()
		<-done
		t.Fatal("Call kept waiting after Close")
	}
}
