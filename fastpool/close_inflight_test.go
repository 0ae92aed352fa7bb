package fastpool

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// holdServer reads what arrives and never answers. got is signalled when
// request bytes arrive.
func holdServer(t *testing.T) (url string, got <-chan struct{}) {
	t.Helper()
	ch := make(chan struct{}, 16)
	addr := tcpServer(t, func(c net.Conn) {
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
	return "http://" + addr + "/", ch
}

// doInBackground runs one request to url (POST when post) with ctx on its
// own goroutine and waits until got says it reached the server; the
// returned channel delivers Do's error.
func doInBackground(t *testing.T, ctx context.Context, p *Pool, url string, post bool, got <-chan struct{}) <-chan error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI(url)
		if post {
			req.Header.SetMethod(fasthttp.MethodPost)
			req.SetBodyString(`{"jsonrpc":"2.0","id":1,"method":"status"}`)
		}
		errc <- p.Do(ctx, req, resp)
	}()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the request never reached the server")
	}
	return errc
}

// closeAndExpectInterrupted closes p and checks that the request behind
// errc returns ErrPoolClosed long before the minute it would otherwise wait.
func closeAndExpectInterrupted(t *testing.T, p *Pool, errc <-chan error) {
	t.Helper()
	start := time.Now()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrPoolClosed) {
			t.Fatalf("Do returned %v, want ErrPoolClosed", err)
		}
	case <-time.After(15 * time.Second): // far below the minute it would wait
		t.Fatal("Do still waiting 15s after Close")
	}
	t.Logf("Do returned %v after Close", time.Since(start))
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
			errc := doInBackground(t, ctx, p, url, true, got)
			time.Sleep(tc.delay)
			closeAndExpectInterrupted(t, p, errc)
			if n := p.ActiveConnections(); n != 0 {
				t.Fatalf("%d connections open after Close", n)
			}
		})
	}
}

// TestCloseInterruptsDialsAndRetryWaits: the two places a Do waits outside
// a connection's read or write, which interruptAll cannot reach, end at
// Close too: a TLS handshake with a server that never answers it (the
// connection is not registered until the handshake is done), and a
// Retry-After wait between attempts.
func TestCloseInterruptsDialsAndRetryWaits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) (url string, got <-chan struct{})
	}{
		{"TLS handshake", func(t *testing.T) (string, <-chan struct{}) {
			url, got := holdServer(t)
			return "https" + url[len("http"):], got
		}},
		{"Retry-After wait", func(t *testing.T) (string, <-chan struct{}) {
			got := make(chan struct{}, 16)
			s := startFast(t, func(ctx *fasthttp.RequestCtx) {
				ctx.SetStatusCode(fasthttp.StatusTooManyRequests)
				ctx.Response.Header.Set("Retry-After", "25")
				select {
				case got <- struct{}{}:
				default:
				}
			})
			return s.URL + "/", got
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, got := tc.start(t)
			p, err := New(Config{RequestTimeout: time.Minute, ConnectTimeout: time.Minute, MaxRetryDelay: time.Minute, HealthCheckInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			errc := doInBackground(t, context.Background(), p, url, false, got)
			time.Sleep(50 * time.Millisecond) // into the handshake's read, or the wait
			closeAndExpectInterrupted(t, p, errc)
		})
	}
}

// TestStaleSweepNeverDropsAHostInUse: the sweep decides a host is stale
// from counters read without its lock, so a request may take one of its
// idle connections just before the host is dropped. A dropped host is out
// of Close's reach (and a new one for the same key would get its own
// MaxConnsPerHost). dropHost itself must therefore refuse a host with a
// connection in use: Close still interrupts the request.
func TestStaleSweepNeverDropsAHostInUse(t *testing.T) {
	url, got := holdServer(t)
	p, err := New(Config{RequestTimeout: time.Minute, MaxRetries: -1, HealthCheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	errc := doInBackground(t, context.Background(), p, url, true, got)
	hosts := *p.hosts.Load()
	if len(hosts) != 1 {
		t.Fatalf("%d hosts, want 1", len(hosts))
	}
	for _, h := range hosts {
		p.dropHost(h) // as the sweep does when it read inFlight == 0 just before the request
	}
	if n := len(*p.hosts.Load()); n != 1 {
		t.Fatal("a host with a request in flight was dropped")
	}
	closeAndExpectInterrupted(t, p, errc)
}
