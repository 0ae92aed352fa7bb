package fastpool

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"go.uber.org/goleak"
)

// serverGoroutines are started by the fasthttp *servers* the tests run, never
// by the pool (which uses no fasthttp.Server): the server worker pool's
// cleaner and the Date-header updater sleep on after Shutdown. Everything
// else, fasthttp client goroutines included, must be gone.
var serverGoroutines = []goleak.Option{
	goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
	goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, serverGoroutines...)
}

// fastServer is a fasthttp server on 127.0.0.1 for tests.
type fastServer struct {
	URL  string
	Addr string
	srv  *fasthttp.Server
	done chan struct{}
}

func startFast(t testing.TB, h fasthttp.RequestHandler) *fastServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveFast(t, ln, h)
}

func serveFast(t testing.TB, ln net.Listener, h fasthttp.RequestHandler) *fastServer {
	s := &fastServer{
		URL:  "http://" + ln.Addr().String(),
		Addr: ln.Addr().String(),
		srv:  &fasthttp.Server{Handler: h, IdleTimeout: 10 * time.Second, CloseOnShutdown: true},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	t.Cleanup(s.Stop)
	return s
}

// Stop closes the listener and every connection, and waits for Serve.
func (s *fastServer) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.ShutdownWithContext(ctx)
	<-s.done
}

// startNet is an httptest (net/http) server; closed at cleanup.
func startNet(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

// newPool builds a pool with fast retries for tests and closes it at
// cleanup.
func newPool(t testing.TB, cfg Config) *Pool {
	t.Helper()
	if cfg.RetryDelay == 0 {
		cfg.RetryDelay = 5 * time.Millisecond
	}
	if cfg.MaxRetryDelay == 0 {
		cfg.MaxRetryDelay = 50 * time.Millisecond
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// eventually polls cond until it holds or 5s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// freeAddr returns a loopback address nobody listens on (right now).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func doPost(ctx context.Context, d interface {
	Do(context.Context, *fasthttp.Request, *fasthttp.Response, ...RequestOption) error
}, url string, body []byte, opts ...RequestOption) (int, []byte, error) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI(url)
	req.SetBody(body)
	req.Header.SetContentType("application/json")
	err := d.Do(ctx, req, resp, opts...)
	return resp.StatusCode(), append([]byte(nil), resp.Body()...), err
}

// tcpServer accepts loopback TCP connections and runs serve on each, in its
// own goroutine, until the test ends; then it closes the listener and every
// connection and waits for the goroutines. It returns "host:port".
func tcpServer(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				serve(c)
			})
		}
	})
	return ln.Addr().String()
}
