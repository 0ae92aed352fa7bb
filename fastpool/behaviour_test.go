package fastpool

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fasthttp"
	"go.uber.org/goleak"
)

func TestSlowServerBeyondDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := startFast(t, func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/slow" {
			<-release
			ctx.SetBodyString("late")
			return
		}
		ctx.SetBodyString("fast")
	})
	defer close(release)
	p := newPool(t, Config{MaxConnsPerHost: 2, MaxConns: 2})

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := doPost(ctx, p, srv.URL+"/slow", []byte(`{}`), WithIdempotent())
	el := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want DeadlineExceeded, got %v", err)
	}
	if el > 2*time.Second {
		t.Fatalf("returned %v after a 100ms deadline", el)
	}
	// The pool stays usable, on the same limits.
	for range 5 {
		code, body, err := doPost(context.Background(), p, srv.URL+"/fast", nil)
		if err != nil || code != 200 || string(body) != "fast" {
			t.Fatalf("after timeout: %d %q %v", code, body, err)
		}
	}
}

// TestCancelReturnsPromptlyAndNeverWritesLate cancels (no deadline) a request
// stuck on a slow server, reuses the same resp for another request, then lets
// the slow server answer. Under -race any late write into resp would be a
// reported race or a wrong body.
func TestCancelReturnsPromptlyAndNeverWritesLate(t *testing.T) {
	release := make(chan struct{})
	srv := startFast(t, func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/slow" {
			<-release
			ctx.SetBodyString(strings.Repeat("L", 10000))
			return
		}
		ctx.SetBodyString("second")
	})
	p := newPool(t, Config{})
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(srv.URL + "/slow")

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := p.Do(ctx, req, resp)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want Canceled, got %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("cancel took %v", el)
	}
	req.SetRequestURI(srv.URL + "/fast")
	if err := p.Do(context.Background(), req, resp); err != nil {
		t.Fatal(err)
	}
	close(release)
	time.Sleep(50 * time.Millisecond) // give a (wrong) late writer its chance
	if string(resp.Body()) != "second" {
		t.Fatalf("resp overwritten: %.20q", resp.Body())
	}
	eventually(t, "cancelled connection closed", func() bool { return p.ActiveConnections() == 1 })
}

func TestTLSSelfSigned(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("secure"))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()

	p := newPool(t, Config{MaxRetries: 3})
	_, err := p.Get(context.Background(), srv.URL, nil)
	var re *RequestError
	if !errors.As(err, &re) || !isCertError(err) {
		t.Fatalf("self-signed certificate accepted by default or wrong error: %v", err)
	}
	if re.Attempts != 1 {
		t.Fatalf("a certificate error was retried: %d attempts", re.Attempts)
	}

	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	p2 := newPool(t, Config{TLSConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}})
	resp, err := p2.Get(context.Background(), srv.URL, nil)
	if err != nil || string(resp.Body) != "secure" {
		t.Fatalf("with RootCAs: %+v %v", resp, err)
	}
	if n := p2.Stats().Hosts[0].BytesReceived; n < uint64(len("secure")) {
		t.Fatalf("wire bytes %d", n)
	}
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zs(t testing.TB, b []byte) []byte {
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

func TestCompressedResponses(t *testing.T) {
	plain := []byte(`{"jsonrpc":"2.0","id":1,"result":{"data":"` + strings.Repeat("abc", 2000) + `"}}`)
	gzBody, zsBody := gz(t, plain), zs(t, plain)
	var sawAccept atomic.Value
	srv := startFast(t, func(ctx *fasthttp.RequestCtx) {
		sawAccept.Store(string(ctx.Request.Header.Peek("Accept-Encoding")))
		switch string(ctx.Path()) {
		case "/gzip":
			ctx.Response.Header.Set("Content-Encoding", "gzip")
			ctx.SetBody(gzBody)
		case "/zstd":
			ctx.Response.Header.Set("Content-Encoding", "zstd")
			ctx.SetBody(zsBody)
		case "/br":
			ctx.Response.Header.Set("Content-Encoding", "br")
			ctx.SetBody([]byte("xx"))
		default:
			ctx.SetBody(plain)
		}
	})
	p := newPool(t, Config{})
	for _, path := range []string{"/gzip", "/zstd", "/plain"} {
		t.Run(path, func(t *testing.T) {
			req := fasthttp.AcquireRequest()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI(srv.URL + path)
			if err := p.Do(context.Background(), req, resp); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(resp.Body(), plain) {
				t.Fatalf("body not decoded: %d bytes", len(resp.Body()))
			}
			if ce := resp.Header.Peek("Content-Encoding"); len(ce) != 0 {
				t.Fatalf("Content-Encoding left: %q", ce)
			}
			if a, _ := sawAccept.Load().(string); a != acceptEncoding {
				t.Fatalf("Accept-Encoding sent: %q", a)
			}
		})
	}
	_, err := p.Get(context.Background(), srv.URL+"/br", nil)
	if !errors.Is(err, ErrUnsupportedEncoding) {
		t.Fatalf("unknown encoding: %v", err)
	}
	if wire := p.Stats().BytesReceived; wire > uint64(3*len(plain)) {
		t.Fatalf("wire bytes %d suggest compressed bodies were not sent compressed", wire)
	}
}

func TestCompressionBombRefused(t *testing.T) {
	const limit = 1 << 20
	bomb := gz(t, make([]byte, 16<<20)) // 16 MiB of zeros, ~16 KiB on the wire
	zbomb := zs(t, make([]byte, 16<<20))
	var hits atomic.Int64
	srv := startFast(t, func(ctx *fasthttp.RequestCtx) {
		hits.Add(1)
		switch string(ctx.Path()) {
		case "/gzip":
			ctx.Response.Header.Set("Content-Encoding", "gzip")
			ctx.SetBody(bomb)
		case "/zstd":
			ctx.Response.Header.Set("Content-Encoding", "zstd")
			ctx.SetBody(zbomb)
		default: // too big on the wire already
			ctx.SetBody(make([]byte, 2*limit))
		}
	})
	p := newPool(t, Config{MaxResponseBodySize: limit})
	for _, path := range []string{"/gzip", "/zstd", "/wire"} {
		hits.Store(0)
		_, err := p.Get(context.Background(), srv.URL+path, nil)
		if !errors.Is(err, ErrBodyTooLarge) {
			t.Fatalf("%s: want ErrBodyTooLarge, got %v", path, err)
		}
		if hits.Load() != 1 {
			t.Fatalf("%s: body-too-large was retried (%d hits)", path, hits.Load())
		}
	}
}

// TestLimitsUnder200Callers runs 200 callers against two hosts and checks on
// the server side that no more than MaxConnsPerHost requests per host and
// MaxConns in total were ever being served at once (each needs its own
// connection; counting connections server-side would lag behind client
// closes), that no more distinct connections than the limits were open at
// once as seen by the client, and that every request was answered exactly
// once.
func TestLimitsUnder200Callers(t *testing.T) {
	const perHost, total, callers, each = 5, 8, 200, 10
	var active, maxActive atomic.Int64
	var hostActive, hostMax [2]atomic.Int64
	seen := make([]sync.Map, 2)
	bump := func(v *atomic.Int64, m *atomic.Int64, d int64) {
		n := v.Add(d)
		for {
			cur := m.Load()
			if n <= cur || m.CompareAndSwap(cur, n) {
				return
			}
		}
	}
	mk := func(i int) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			bump(&hostActive[i], &hostMax[i], 1)
			bump(&active, &maxActive, 1)
			defer bump(&hostActive[i], &hostMax[i], -1)
			defer bump(&active, &maxActive, -1)
			id := r.URL.Query().Get("id")
			if _, dup := seen[i].LoadOrStore(id, true); dup {
				t.Errorf("request %s answered twice", id)
			}
			time.Sleep(200 * time.Microsecond)
			_, _ = w.Write([]byte(id))
		}))
		t.Cleanup(s.Close)
		return s
	}
	srvs := []*httptest.Server{mk(0), mk(1)}
	p := newPool(t, Config{MaxConnsPerHost: perHost, MaxConns: total})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var failed atomic.Int64
	stopSampling := make(chan struct{})
	sampled := make(chan int)
	go func() {
		most := 0
		for {
			select {
			case <-stopSampling:
				sampled <- most
				return
			default:
			}
			for _, h := range p.Stats().Hosts {
				if h.OpenConns > perHost {
					t.Errorf("%s: %d open connections", h.Host, h.OpenConns)
				}
			}
			most = max(most, p.ActiveConnections())
			time.Sleep(100 * time.Microsecond)
		}
	}()
	for c := range callers {
		wg.Go(func() {
			for i := range each {
				id := strconv.Itoa(c*each + i)
				resp, err := p.Get(ctx, srvs[(c+i)%2].URL+"/?id="+id, nil)
				if err != nil || string(resp.Body) != id {
					failed.Add(1)
					t.Errorf("request %s: %v", id, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stopSampling)
	if most := <-sampled; most > total {
		t.Fatalf("pool had %d connections open", most)
	}
	if failed.Load() > 0 {
		t.FailNow()
	}
	n := 0
	for i := range seen {
		seen[i].Range(func(any, any) bool { n++; return true })
	}
	if n != callers*each {
		t.Fatalf("server saw %d distinct requests, want %d", n, callers*each)
	}
	if hostMax[0].Load() > perHost || hostMax[1].Load() > perHost {
		t.Fatalf("per-host limit broken: %d, %d > %d", hostMax[0].Load(), hostMax[1].Load(), perHost)
	}
	if maxActive.Load() > total {
		t.Fatalf("total limit broken: %d > %d", maxActive.Load(), total)
	}
	if hostMax[0].Load() < 2 || maxActive.Load() < perHost {
		t.Fatalf("no concurrency reached (per host %d, total %d): the test tested nothing", hostMax[0].Load(), maxActive.Load())
	}
}

func TestPoolExhaustedAtDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := startFast(t, func(ctx *fasthttp.RequestCtx) { <-release })
	p := newPool(t, Config{MaxConnsPerHost: 1, MaxConns: 1})
	done := make(chan error, 1)
	go func() {
		_, _, err := doPost(context.Background(), p, srv.URL, nil)
		done <- err
	}()
	eventually(t, "first request holding the only connection", func() bool { return p.Stats().InFlight == 1 && p.ActiveConnections() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err := doPost(ctx, p, srv.URL, nil)
	if !errors.Is(err, ErrPoolExhausted) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want ErrPoolExhausted and DeadlineExceeded, got %v", err)
	}
	var re *RequestError
	if !errors.As(err, &re) || re.MaybeSent {
		t.Fatalf("a connection wait must count as not sent: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestTotalLimitEvictsIdleOfOtherHost(t *testing.T) {
	a := startFast(t, echo)
	b := startFast(t, echo)
	p := newPool(t, Config{MaxConnsPerHost: 1, MaxConns: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 3 {
		for _, u := range []string{a.URL, b.URL} {
			if _, _, err := doPost(ctx, p, u, []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := p.ActiveConnections(); n != 1 {
		t.Fatalf("open connections %d, want 1", n)
	}
}

func TestHealthTransitionsAndStaleCleanup(t *testing.T) {
	var sick atomic.Bool
	var probes atomic.Int64
	srv := startFast(t, func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/health" {
			probes.Add(1)
			if sick.Load() {
				ctx.SetStatusCode(503)
			}
			return
		}
		ctx.SetBodyString("ok")
	})
	p := newPool(t, Config{
		HealthCheckInterval: 20 * time.Millisecond,
		HealthCheckPath:     "/health",
		KeepAliveTimeout:    time.Hour,
		MaxIdleTime:         time.Hour,
	})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal("second Start:", err)
	}
	if _, err := p.Get(context.Background(), srv.URL, nil); err != nil {
		t.Fatal(err)
	}
	healthy := func() bool { return p.Stats().Hosts[0].Healthy }
	sick.Store(true)
	eventually(t, "host marked unhealthy by the probe", func() bool { return !healthy() })
	sick.Store(false)
	eventually(t, "host healthy again", healthy)
	if probes.Load() < 2 {
		t.Fatal("no probes")
	}
	before := p.Stats().Requests

	// Request failures in a row mark a host unhealthy too.
	dead := "http://" + freeAddr(t)
	p2 := newPool(t, Config{MaxRetries: -1, UnhealthyAfter: 2})
	for range 2 {
		_, _ = p2.Get(context.Background(), dead, nil)
	}
	if st := p2.Stats(); st.Hosts[0].Healthy || st.Hosts[0].Errors != 2 {
		t.Fatalf("after 2 failures: %+v", st.Hosts[0])
	}
	if p.Stats().Requests != before {
		t.Fatal("probes counted as requests")
	}

	// Stale host cleanup: short idle timeouts drop connections, then the host.
	p3 := newPool(t, Config{
		HealthCheckInterval: -1,
		// Long enough that a stalled test goroutine does not see the
		// connection or the host go between Get and its check.
		KeepAliveTimeout: 300 * time.Millisecond,
		MaxIdleTime:      600 * time.Millisecond,
	})
	if err := p3.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := p3.Get(context.Background(), srv.URL, nil); err != nil {
		t.Fatal(err)
	}
	if p3.ActiveConnections() != 1 {
		t.Fatal("no connection kept")
	}
	eventually(t, "idle connection closed", func() bool { return p3.ActiveConnections() == 0 })
	eventually(t, "stale host dropped", func() bool { return len(p3.Stats().Hosts) == 0 })
	if st := p3.Stats(); st.Requests != 1 {
		t.Fatalf("totals lost with the host: %+v", st)
	}
	// A dropped host comes back on use.
	if _, err := p3.Get(context.Background(), srv.URL, nil); err != nil {
		t.Fatal(err)
	}
	if st := p3.Stats(); len(st.Hosts) != 1 || st.Requests != 2 {
		t.Fatalf("after reuse: %+v", st)
	}
}

// TestEndpointSetFailover stops one of two servers while 16 callers send
// idempotent requests through an endpoint set: every request must get its
// own answer, none lost.
func TestEndpointSetFailover(t *testing.T) {
	var served [2]atomic.Int64
	mk := func(i int) *fastServer {
		return startFast(t, func(ctx *fasthttp.RequestCtx) {
			served[i].Add(1)
			ctx.SetBody(ctx.PostBody())
		})
	}
	a, b := mk(0), mk(1)
	p := newPool(t, Config{MaxRetries: 5, UnhealthyAfter: 1})
	set, err := p.NewEndpointSet(a.URL+"/v3", b.URL+"/v3")
	if err != nil {
		t.Fatal(err)
	}
	const callers, each = 16, 150
	var wg sync.WaitGroup
	var done atomic.Int64
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for done.Load() < callers*each/3 {
			time.Sleep(time.Millisecond)
		}
		b.Stop()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for c := range callers {
		wg.Go(func() {
			for i := range each {
				body := []byte(fmt.Sprintf(`{"id":%d}`, c*each+i))
				_, got, err := doPost(ctx, set, "", body, WithIdempotent())
				if err != nil || !bytes.Equal(got, body) {
					t.Errorf("request %s lost: %q %v", body, got, err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	<-stopped
	if done.Load() != callers*each {
		t.Fatalf("answered %d of %d", done.Load(), callers*each)
	}
	if served[1].Load() == 0 || served[0].Load() == 0 {
		t.Fatalf("load not spread: %d / %d", served[0].Load(), served[1].Load())
	}
	if served[0].Load()+served[1].Load() < callers*each {
		t.Fatalf("servers saw %d requests for %d answers", served[0].Load()+served[1].Load(), callers*each)
	}
	// After the stop, b is unhealthy and new requests all go to a.
	before := served[0].Load()
	for range 20 {
		if _, _, err := doPost(ctx, set, "", []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	if served[0].Load()-before != 20 {
		t.Fatalf("requests went to the dead endpoint")
	}
}

func TestEndpointSetRejectsBadInput(t *testing.T) {
	p := newPool(t, Config{})
	if _, err := p.NewEndpointSet(); !errors.Is(err, ErrNoEndpoints) {
		t.Fatal(err)
	}
	if _, err := p.NewEndpointSet("ftp://x/"); !errors.Is(err, ErrInvalidURL) {
		t.Fatal(err)
	}
	if _, err := p.Get(context.Background(), "/relative", nil); !errors.Is(err, ErrInvalidURL) {
		t.Fatal(err)
	}
}

func TestWarmUp(t *testing.T) {
	var conns atomic.Int64
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	s.Start()
	defer s.Close()
	fs := startFast(t, echo)
	dead := "http://" + freeAddr(t)
	p := newPool(t, Config{})
	err := p.WarmUp(context.Background(), []string{s.URL + "/v3", fs.URL + "/v2", dead + "/v3", "bogus"})
	if err == nil || !strings.Contains(err.Error(), dead) || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("want the dead and bogus URLs reported, got %v", err)
	}
	if strings.Contains(err.Error(), s.URL) || strings.Contains(err.Error(), fs.URL) {
		t.Fatalf("a healthy URL reported: %v", err)
	}
	eventually(t, "warm connection accepted", func() bool { return conns.Load() == 1 })
	st := p.Stats()
	idle := 0
	for _, h := range st.Hosts {
		idle += h.IdleConns
	}
	if idle != 2 {
		t.Fatalf("idle connections after warm-up: %d", idle)
	}
	// The first request uses the warm connection: no new dial.
	if _, err := p.Get(context.Background(), s.URL, nil); err != nil {
		t.Fatal(err)
	}
	if conns.Load() != 1 {
		t.Fatalf("first request dialed again (%d connections)", conns.Load())
	}
}

func TestCloseIsIdempotentAndLeavesNothing(t *testing.T) {
	srv := startNet(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	p, err := New(Config{HealthCheckInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.WarmUp(context.Background(), []string{srv.URL}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := p.Get(context.Background(), srv.URL, nil); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(20 * time.Millisecond) // let probes run
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	goleak.VerifyNone(t, append(serverGoroutines, goleak.IgnoreCurrent())...)
	if n := p.ActiveConnections(); n != 0 {
		t.Fatalf("%d connections open after Close", n)
	}
	ctx := context.Background()
	if _, err := p.Get(ctx, srv.URL, nil); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if err := p.Start(); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
	if err := p.WarmUp(ctx, []string{srv.URL}); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("WarmUp after Close: %v", err)
	}
	if _, err := p.NewEndpointSet(srv.URL); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("NewEndpointSet after Close: %v", err)
	}
}

func TestCloseWakesWaiters(t *testing.T) {
	release := make(chan struct{})
	srv := startFast(t, func(ctx *fasthttp.RequestCtx) { <-release })
	defer close(release)
	p := newPool(t, Config{MaxConnsPerHost: 1, MaxConns: 1})
	go func() { _, _, _ = doPost(context.Background(), p, srv.URL, nil) }()
	eventually(t, "connection busy", func() bool { return p.Stats().InFlight == 1 })
	errc := make(chan error, 1)
	go func() {
		_, _, err := doPost(context.Background(), p, srv.URL, nil)
		errc <- err
	}()
	// Close only once the second caller really waits: closing earlier would
	// fail it with ErrPoolClosed before it waits and test nothing.
	eventually(t, "second caller waiting for the connection", func() bool {
		for _, h := range *p.hosts.Load() {
			h.mu.Lock()
			n := len(h.waiters)
			h.mu.Unlock()
			if n == 1 {
				return true
			}
		}
		return false
	})
	_ = p.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrPoolClosed) {
			t.Fatalf("waiter got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiter not woken by Close")
	}
}

// TestServerClosedIdleConnectionIsNotUsed: a server's idle timeout closes a
// pooled connection; the next non-idempotent POST must not be written into
// it (that failure would be ambiguous and not retried) but go out on a
// fresh connection.
func TestServerClosedIdleConnectionIsNotUsed(t *testing.T) {
	var hits atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &closeCountingListener{Listener: ln}
	srv := serveFast(t, cl, func(ctx *fasthttp.RequestCtx) { hits.Add(1); ctx.SetBodyString("ok") })
	srv.srv.IdleTimeout = 30 * time.Millisecond
	p := newPool(t, Config{MaxRetries: -1}) // no retry could hide a failure
	p.connCheckAfter = 10 * time.Millisecond
	for i := range 3 {
		if _, _, err := doPost(context.Background(), p, srv.URL, []byte(`{"method":"submit"}`)); err != nil {
			t.Fatalf("POST %d: %v", i, err)
		}
		// The server closes the idle connection (a fixed sleep could end
		// before a starved server goroutine did).
		// Idle for the server's 30 ms, so past connCheckAfter too: the pool
		// peeks before reusing it.
		eventually(t, "the server closing the idle connection", func() bool { return cl.closed.Load() == int64(i+1) })
	}
	if hits.Load() != 3 {
		t.Fatalf("server saw %d requests", hits.Load())
	}
}

// TestTLSWarmConnectionReusedAfterIdle: a warmed-up TLS 1.3 connection that
// sat idle past the liveness-check threshold is peeked at and reused, not
// redialed. (Servers that leave session tickets unread on the connection
// take stillOpen's TLS branch; Go's server does not, so that branch is not
// exercised here.)
func TestTLSWarmConnectionReusedAfterIdle(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("secure"))
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	p := newPool(t, Config{TLSConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS13}})
	p.connCheckAfter = 10 * time.Millisecond
	if err := p.WarmUp(context.Background(), []string{srv.URL}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	for range 2 {
		resp, err := p.Get(context.Background(), srv.URL, nil)
		if err != nil || string(resp.Body) != "secure" {
			t.Fatalf("%+v %v", resp, err)
		}
		time.Sleep(30 * time.Millisecond)
	}
	if conns.Load() != 1 {
		t.Fatalf("server saw %d connections: the warm one was dropped", conns.Load())
	}
}

func TestRetryAfterBeyondMaxRetryDelayIsTheAnswer(t *testing.T) {
	var hits atomic.Int64
	srv := startFast(t, func(ctx *fasthttp.RequestCtx) {
		hits.Add(1)
		ctx.Response.Header.Set("Retry-After", "3600")
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
	})
	p := newPool(t, Config{MaxRetryDelay: time.Second})
	start := time.Now()
	_, err := p.Get(context.Background(), srv.URL, nil)
	var se *StatusError
	if !errors.As(err, &se) || se.RetryAfter != time.Hour || hits.Load() != 1 {
		t.Fatalf("got %v after %d hits", err, hits.Load())
	}
	if time.Since(start) > 900*time.Millisecond {
		t.Fatal("waited although Retry-After exceeds MaxRetryDelay")
	}
}

// TestEndpointSetRecoversWithoutMonitor: an endpoint marked unhealthy gets a
// trial request after MaxRetryDelay, and traffic again once it answers.
func TestEndpointSetRecoversWithoutMonitor(t *testing.T) {
	var served [2]atomic.Int64
	var sick atomic.Bool
	sick.Store(true)
	a := startFast(t, func(ctx *fasthttp.RequestCtx) { served[0].Add(1) })
	b := startFast(t, func(ctx *fasthttp.RequestCtx) {
		served[1].Add(1)
		if sick.Load() {
			ctx.SetStatusCode(502)
		}
	})
	// MaxRetryDelay is long enough that the ten sends below end before b's
	// trial is due, even on a loaded machine.
	p := newPool(t, Config{UnhealthyAfter: 1, MaxRetryDelay: time.Second, RetryDelay: time.Millisecond})
	set, err := p.NewEndpointSet(a.URL, b.URL)
	if err != nil {
		t.Fatal(err)
	}
	send := func() {
		t.Helper()
		if _, _, err := doPost(context.Background(), set, "", nil, WithIdempotent()); err != nil {
			t.Fatal(err)
		}
	}
	for range 10 {
		send() // b fails once, is marked unhealthy; the request fails over to a
	}
	if served[1].Load() != 1 {
		t.Fatalf("unhealthy endpoint got %d requests", served[1].Load())
	}
	sick.Store(false)
	time.Sleep(1050 * time.Millisecond)
	for range 20 {
		send()
	}
	if got := served[1].Load(); got < 5 {
		t.Fatalf("recovered endpoint got %d of 20 requests", got-1)
	}
}

func TestHasIdempotent(t *testing.T) {
	if HasIdempotent() || !HasIdempotent(WithIdempotent()) || !HasIdempotent(RequestOption{}, WithIdempotent()) || HasIdempotent(RequestOption{}) {
		t.Fatal("HasIdempotent wrong")
	}
}

func TestHeadAnd204KeepNoStaleBody(t *testing.T) {
	srv := startFast(t, func(ctx *fasthttp.RequestCtx) {
		switch string(ctx.Path()) {
		case "/empty":
			ctx.SetStatusCode(fasthttp.StatusNoContent)
		default:
			ctx.SetBodyString("full body")
		}
	})
	p := newPool(t, Config{})
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(srv.URL + "/full")
	if err := p.Do(context.Background(), req, resp); err != nil || string(resp.Body()) != "full body" {
		t.Fatalf("%q %v", resp.Body(), err)
	}
	req.SetRequestURI(srv.URL + "/empty")
	if err := p.Do(context.Background(), req, resp); err != nil || len(resp.Body()) != 0 || resp.StatusCode() != 204 {
		t.Fatalf("204 kept %q (%v)", resp.Body(), err)
	}
	// HEAD: the answer carries Content-Length but no body; reading one would
	// hang until the deadline.
	req.Header.SetMethod(fasthttp.MethodHead)
	req.SetRequestURI(srv.URL + "/full")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := p.Do(ctx, req, resp); err != nil || len(resp.Body()) != 0 {
		t.Fatalf("HEAD: %q %v", resp.Body(), err)
	}
	req.Header.SetMethod(fasthttp.MethodGet)
	if err := p.Do(ctx, req, resp); err != nil || string(resp.Body()) != "full body" {
		t.Fatalf("GET after HEAD on the same connection: %q %v", resp.Body(), err)
	}
	if n := p.ActiveConnections(); n != 1 {
		t.Fatalf("%d connections: one was broken", n)
	}
}

// TestTotalLimitWaiterSeesSlotFreedBeforeItWaits: a caller blocked by
// MaxConns must not sleep to its deadline when the only busy connection (on
// another host) is freed — closed or parked idle — between the total limit
// refusing it and the caller registering as a waiter. The hook widens that
// window deterministically.
func TestTotalLimitWaiterSeesSlotFreedBeforeItWaits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		close bool // the busy connection is closed (else parked idle)
	}{{"slot freed", true}, {"connection parked idle", false}} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			a := startFast(t, func(ctx *fasthttp.RequestCtx) {
				<-release
				if tc.close {
					ctx.SetConnectionClose()
				}
			})
			b := startFast(t, echo)
			p := newPool(t, Config{MaxConnsPerHost: 1, MaxConns: 1, RequestTimeout: 3 * time.Second})
			var once sync.Once
			hooked := false
			p.testHookTotalFull = func() {
				once.Do(func() {
					hooked = true
					close(release)
					eventually(t, "the busy connection freed", func() bool {
						for _, h := range p.Stats().Hosts {
							if h.Host == a.URL {
								if tc.close {
									return h.InFlight == 0 && p.ActiveConnections() == 0
								}
								return h.InFlight == 0 && h.IdleConns == 1
							}
						}
						return false
					})
				})
			}
			first := postInBackground(p, a.URL)
			eventually(t, "the first request holding the only connection", func() bool {
				return p.Stats().InFlight == 1 && p.ActiveConnections() == 1
			})
			expectWaiterServed(t, p, b.URL, "the freed slot", &hooked, first)
		})
	}
}

// postInBackground sends an empty POST to url on its own goroutine; the
// channel delivers its error.
func postInBackground(p *Pool, url string) <-chan error {
	errc := make(chan error, 1)
	go func() {
		_, _, err := doPost(context.Background(), p, url, nil)
		errc <- err
	}()
	return errc
}

// expectWaiterServed sends the waiting caller's POST to url and checks that
// it is answered well before its 2 s deadline (it did not sleep beside
// what, freed while it was refused), that the hook widening that window
// ran, and that the first request (first) ended well.
func expectWaiterServed(t *testing.T, p *Pool, url, what string, hooked *bool, first <-chan error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, body, err := doPost(ctx, p, url, []byte("x")); err != nil || string(body) != "x" {
		t.Fatalf("waiter missed %s: %q %v", what, body, err)
	}
	if !*hooked {
		t.Fatal("the total limit never refused a slot: the test tested nothing")
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}

// TestEmptyBodyWithContentEncodingIsNotAnError: a HEAD answer (headers of
// the GET representation, Content-Encoding included) and a 204 carry no
// body to decode; they are successes, not corrupt gzip/zstd streams.
func TestEmptyBodyWithContentEncodingIsNotAnError(t *testing.T) {
	gzBody := gz(t, []byte(`{"ok":true}`))
	srv := startNet(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", r.URL.Query().Get("enc"))
		if r.URL.Path == "/empty" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		_, _ = w.Write(gzBody) // dropped by net/http for HEAD
	})
	p := newPool(t, Config{})
	for _, tc := range []struct{ method, path, enc string }{
		{fasthttp.MethodHead, "/full", "gzip"},
		{fasthttp.MethodHead, "/full", "zstd"},
		{fasthttp.MethodGet, "/empty", "gzip"},
		{fasthttp.MethodPost, "/empty", "zstd"},
	} {
		t.Run(tc.method+tc.path+"/"+tc.enc, func(t *testing.T) {
			req := fasthttp.AcquireRequest()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.Header.SetMethod(tc.method)
			req.SetRequestURI(srv.URL + tc.path + "?enc=" + tc.enc)
			if err := p.Do(context.Background(), req, resp); err != nil {
				t.Fatalf("%s %s with Content-Encoding %s: %v", tc.method, tc.path, tc.enc, err)
			}
			if len(resp.Body()) != 0 {
				t.Fatalf("body %q", resp.Body())
			}
		})
	}
}

// TestDisableCompressionLeavesBodyAsSent: with DisableCompression the pool
// neither asks for compression nor decodes it (Config documents both): a
// caller that sets Accept-Encoding itself gets the compressed bytes and the
// Content-Encoding header, as with net/http's Transport.
func TestDisableCompressionLeavesBodyAsSent(t *testing.T) {
	plain := []byte(`{"jsonrpc":"2.0","id":1,"result":"` + strings.Repeat("z", 500) + `"}`)
	gzBody := gz(t, plain)
	var sawAccept atomic.Value
	srv := startFast(t, func(ctx *fasthttp.RequestCtx) {
		sawAccept.Store(string(ctx.Request.Header.Peek("Accept-Encoding")))
		ctx.Response.Header.Set("Content-Encoding", "gzip")
		ctx.SetBody(gzBody)
	})
	p := newPool(t, Config{DisableCompression: true})
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(srv.URL)
	if err := p.Do(context.Background(), req, resp); err != nil {
		t.Fatal(err)
	}
	if a, _ := sawAccept.Load().(string); a != "" {
		t.Fatalf("Accept-Encoding %q sent with compression disabled", a)
	}
	req.Header.Set("Accept-Encoding", "gzip")
	if err := p.Do(context.Background(), req, resp); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(resp.Body(), gzBody) || string(resp.Header.ContentEncoding()) != "gzip" {
		t.Fatalf("body decoded (%d bytes, Content-Encoding %q) although compression is disabled", len(resp.Body()), resp.Header.ContentEncoding())
	}
}

// TestCancellableContextSurvivesSlowAnswer sends through a cancellable
// context to a server slower than cancelPoll, for the write and for the
// read: the attempt must outlive the first poll slice and succeed, the
// connection must stay reusable, and a cancel inside the first slice must
// still end the attempt.
func TestCancellableContextSurvivesSlowAnswer(t *testing.T) {
	srv := startFast(t, func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/slow" {
			time.Sleep(4 * cancelPoll)
		}
		ctx.SetBodyString("ok")
	})
	p := newPool(t, Config{})
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range 3 {
		req.SetRequestURI(srv.URL + "/slow")
		if err := p.Do(ctx, req, resp); err != nil || string(resp.Body()) != "ok" {
			t.Fatalf("slow request %d: %v %q", i, err, resp.Body())
		}
	}
	if n := p.ActiveConnections(); n != 1 {
		t.Fatalf("%d connections after sequential slow requests, want 1 reused", n)
	}

	cctx, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(cancelPoll/5, cancel2)
	start := time.Now()
	err := p.Do(cctx, req, resp)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want Canceled, got %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("cancel took %v", el)
	}
}

// TestEarlySocketDeadlineIsExtended: a socket deadline kept from an earlier
// attempt (armDeadline skips re-setting one that is only a little early)
// must not fail a read that is still within the attempt's real deadline;
// once the first cancelPoll slice is over, cancelling the context must end
// the blocked read at once.
func TestEarlySocketDeadlineIsExtended(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(peer)
			return
		}
		peer <- c
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	srv := <-peer
	if srv == nil {
		t.Fatal("accept failed")
	}
	defer srv.Close()

	h := &host{shards: make([]hostShard, 1)}
	c := &conn{h: h, shard: &h.shards[0], raw: raw}
	cc := &countConn{Conn: raw, c: c}
	c.nc = cc
	now := time.Now()
	c.watching, c.start, c.deadline = true, now, now.Add(5*time.Second)
	early := now.Add(2 * time.Millisecond) // as if kept from the last attempt
	c.sockDL = early
	if err := raw.SetDeadline(early); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(30*time.Millisecond, func() { _, _ = srv.Write([]byte("x")) })
	var b [1]byte
	if n, err := cc.Read(b[:]); n != 1 || err != nil {
		t.Fatalf("read after an early socket deadline: %d, %v", n, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now = time.Now()
	c.ctx, c.start, c.deadline = ctx, now, now.Add(5*time.Second)
	if err := c.armDeadline(now, now.Add(cancelPoll)); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(4*cancelPoll, cancel)
	start := time.Now()
	if _, err := cc.Read(b[:]); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("want the read interrupted, got %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("cancel took %v", el)
	}
	if !c.endAttempt() {
		t.Fatal("the cancellation hook did not run")
	}
}

// TestTotalLimitWaiterSeesItsOwnHostsConnectionComeBack: the same window,
// with the connection freed on the waiter's own host. Its release parks it
// idle and wakes nobody (nobody waits yet), and totalSlotFree looks only at
// other hosts, so a caller that registered without looking at its own
// host's idle connections again slept to its deadline beside one.
func TestTotalLimitWaiterSeesItsOwnHostsConnectionComeBack(t *testing.T) {
	releaseA, releaseB := make(chan struct{}), make(chan struct{})
	defer close(releaseB)
	var aCalls atomic.Int32
	a := startFast(t, func(ctx *fasthttp.RequestCtx) {
		if aCalls.Add(1) == 1 {
			<-releaseA
		}
		ctx.SetBody(ctx.PostBody())
	})
	b := startFast(t, func(ctx *fasthttp.RequestCtx) { <-releaseB })
	p := newPool(t, Config{MaxConnsPerHost: 2, MaxConns: 2, RequestTimeout: 3 * time.Second})
	var once sync.Once
	hooked := false
	p.testHookTotalFull = func() {
		once.Do(func() {
			hooked = true
			close(releaseA)
			eventually(t, "a's connection parked idle", func() bool {
				for _, h := range p.Stats().Hosts {
					if h.Host == a.URL {
						return h.InFlight == 1 && h.IdleConns == 1 // in flight: the waiter itself
					}
				}
				return false
			})
		})
	}
	first := postInBackground(p, a.URL)
	postInBackground(p, b.URL) // held until the test ends
	eventually(t, "both connections busy", func() bool {
		return p.Stats().InFlight == 2 && p.ActiveConnections() == 2
	})
	expectWaiterServed(t, p, a.URL, "its own host's idle connection", &hooked, first)
}

// closeCountingListener counts the accepted connections the server closed.
type closeCountingListener struct {
	net.Listener
	closed atomic.Int64
}

func (l *closeCountingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &closeCountingConn{Conn: c, l: l}, nil
}

type closeCountingConn struct {
	net.Conn
	l    *closeCountingListener
	once sync.Once
}

func (c *closeCountingConn) Close() error {
	c.once.Do(func() { c.l.closed.Add(1) })
	return c.Conn.Close()
}
