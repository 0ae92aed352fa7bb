package fastpool

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// holdServer accepts connections, reads what arrives and never answers,
// until the test ends. got is signalled once per request's first bytes.
func holdServer(t *testing.T) (url string, got <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 16)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				go func() { <-done; c.Close() }()
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
					select {
					case ch <- struct{}{}:
					default:
					}
				}
			})
		}
	})
	t.Cleanup(func() {
		close(done)
		ln.Close()
		wg.Wait()
	})
	return "http://" + ln.Addr().String() + "/", ch
}

// Close interrupts requests in flight: each returns ErrPoolClosed at once
// instead of waiting for an answer that will not come (RequestTimeout is a
// minute here), with a background and with a cancellable context, the
// latter past the first cancellation poll slice.
func TestCloseInterruptsRequestsInFlight(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ctx   func() (context.Context, context.CancelFunc)
		delay time.Duration
	}{
		{"background", func() (context.Context, context.CancelFunc) { return context.Background(), func() {} }, 0},
		{"cancellable", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, 3 * cancelPoll},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, got := holdServer(t)
			p, err := New(Config{RequestTimeout: time.Minute, MaxRetries: -1, HealthCheckInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			ctx, cancel := tc.ctx()
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				req.SetRequestURI(url)
				req.Header.SetMethod(fasthttp.MethodPost)
				req.SetBodyString(`{"jsonrpc":"2.0","id":1,"method":"status"}`)
				errc <- p.Do(ctx, req, resp)
			}()
			select {
			case <-got:
			case <-time.After(10 * time.Second):
				t.Fatal("the request never reached the server")
			}
			time.Sleep(tc.delay)
			start := time.Now()
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-errc:
				if !errors.Is(err, ErrPoolClosed) {
					t.Fatalf("Do returned %v, want ErrPoolClosed", err)
				}
			case <-time.After(20 * time.Second): // far below RequestTimeout
				t.Fatal("Do still waiting 20s after Close")
			}
			t.Logf("Do returned %v after Close", time.Since(start))
			if n := p.ActiveConnections(); n != 0 {
				t.Fatalf("%d connections open after Close", n)
			}
		})
	}
}
