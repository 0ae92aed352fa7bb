package fastpool

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func echo(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	ctx.SetBody(ctx.PostBody())
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		field string // "" = valid
	}{
		{"zero value is valid", Config{}, ""},
		{"high performance preset is valid", HighPerformance(), ""},
		{"conservative preset is valid", Conservative(), ""},
		{"negative retries disable retries", Config{MaxRetries: -1}, ""},
		{"negative MaxConns", Config{MaxConns: -1}, "MaxConns"},
		{"per-host above total", Config{MaxConns: 10, MaxConnsPerHost: 20}, "MaxConnsPerHost"},
		{"per-host default above small total is clamped", Config{MaxConns: 10}, ""},
		{"negative ConnectTimeout", Config{ConnectTimeout: -time.Second}, "ConnectTimeout"},
		{"negative RequestTimeout", Config{RequestTimeout: -1}, "RequestTimeout"},
		{"retry delay above cap", Config{RetryDelay: time.Minute, MaxRetryDelay: time.Second}, "RetryDelay"},
		{"absurd retries", Config{MaxRetries: 1000}, "MaxRetries"},
		{"health path without slash", Config{HealthCheckPath: "health"}, "HealthCheckPath"},
		{"negative body cap", Config{MaxResponseBodySize: -1}, "MaxResponseBodySize"},
		{"user agent with newline", Config{UserAgent: "a\r\nX-Evil: 1"}, "UserAgent"},
		{"sub-millisecond health interval", Config{HealthCheckInterval: time.Microsecond}, "HealthCheckInterval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("got %v, want ErrInvalidConfig naming %s", err, tt.field)
			}
			if _, err := New(tt.cfg); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}

func TestPresetsAndDefaults(t *testing.T) {
	d := Config{}.withDefaults()
	if d.MaxConns != 100 || d.MaxConnsPerHost != 30 || d.ConnectTimeout != 10*time.Second ||
		d.RequestTimeout != 30*time.Second || d.KeepAliveTimeout != 30*time.Second || d.MaxRetries != 3 ||
		d.RetryDelay != time.Second || d.HealthCheckInterval != 60*time.Second || d.MaxIdleTime != 300*time.Second ||
		d.DisableTCPNoDelay || d.DisableCompression {
		t.Fatalf("defaults differ from the issue: %+v", d)
	}
	hp := HighPerformance().withDefaults()
	if hp.MaxConns != 500 || hp.MaxConnsPerHost != 100 || hp.ConnectTimeout != 5*time.Second ||
		hp.RequestTimeout != 15*time.Second || hp.MaxRetries != 2 || hp.HealthCheckInterval != 30*time.Second {
		t.Fatalf("HighPerformance: %+v", hp)
	}
	c := Conservative().withDefaults()
	if c.MaxConns != 50 || c.MaxConnsPerHost != 10 || c.ConnectTimeout != 30*time.Second ||
		c.RequestTimeout != 60*time.Second || c.MaxRetries != 5 || c.HealthCheckInterval != 120*time.Second {
		t.Fatalf("Conservative: %+v", c)
	}
	if n := (Config{MaxRetries: -1}).withDefaults().MaxRetries; n != 0 {
		t.Fatalf("MaxRetries -1 gave %d retries", n)
	}
}

func TestDoReusesConnectionAndCountsStats(t *testing.T) {
	srv := startFast(t, echo)
	p := newPool(t, Config{})
	ctx := context.Background()
	for i := range 10 {
		body := []byte(`{"i":` + string(rune('0'+i)) + `}`)
		code, got, err := doPost(ctx, p, srv.URL+"/v3", body)
		if err != nil || code != 200 || !bytes.Equal(got, body) {
			t.Fatalf("request %d: code %d body %q err %v", i, code, got, err)
		}
	}
	if n := p.ActiveConnections(); n != 1 {
		t.Fatalf("sequential requests used %d connections, want 1", n)
	}
	st := p.Stats()
	if len(st.Hosts) != 1 {
		t.Fatalf("hosts: %+v", st.Hosts)
	}
	h := st.Hosts[0]
	if h.Host != srv.URL || h.Requests != 10 || h.Errors != 0 || h.Retries != 0 || !h.Healthy ||
		h.OpenConns != 1 || h.IdleConns != 1 || h.BytesSent == 0 || h.BytesReceived == 0 || h.P99 <= 0 {
		t.Fatalf("host stats: %+v", h)
	}
	if st.Requests != 10 || st.OpenConns != 1 {
		t.Fatalf("totals: %+v", st)
	}
}

func TestRefusedThenRecovery(t *testing.T) {
	addr := freeAddr(t)
	p := newPool(t, Config{MaxRetries: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	_, _, err := doPost(ctx, p, "http://"+addr+"/", []byte(`{}`))
	var re *RequestError
	if !errors.As(err, &re) {
		t.Fatalf("want *RequestError, got %T %v", err, err)
	}
	if re.Attempts != 3 || len(re.Errs) != 3 || re.MaybeSent {
		t.Fatalf("refused POST: attempts %d errs %d maybeSent %v (%v)", re.Attempts, len(re.Errs), re.MaybeSent, err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("cause lost: %v", err)
	}
	if !strings.Contains(err.Error(), "3 attempt(s)") || !strings.Contains(err.Error(), "dial") {
		t.Fatalf("message does not say what happened: %v", err)
	}

	// The server comes up while the pool is retrying: the POST (which never
	// reached anyone) is re-sent and succeeds.
	p2 := newPool(t, Config{MaxRetries: 50, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 20 * time.Millisecond})
	go func() {
		time.Sleep(60 * time.Millisecond)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Error(err)
			return
		}
		serveFast(t, ln, echo)
	}()
	code, body, err := doPost(ctx, p2, "http://"+addr+"/", []byte(`{"up":1}`))
	if err != nil || code != 200 || string(body) != `{"up":1}` {
		t.Fatalf("after recovery: %d %q %v", code, body, err)
	}
	if r := p2.Stats().Retries; r == 0 {
		t.Fatal("recovery needed no retry: the test did not test refusal")
	}
}

// rawServer hands each connection to fn once its one request (these tests
// send one per connection) has arrived; it counts requests.
func rawServer(t *testing.T, fn func(c net.Conn, n int)) (url string, count *atomic.Int64) {
	t.Helper()
	count = new(atomic.Int64)
	addr := tcpServer(t, func(c net.Conn) {
		buf := make([]byte, 64<<10)
		var got []byte
		for {
			n, err := c.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				return
			}
			if bytes.Contains(got, []byte("\r\n\r\n")) {
				fn(c, int(count.Add(1)))
				return
			}
		}
	})
	return "http://" + addr, count
}

func TestServerClosesMidResponse(t *testing.T) {
	url, count := rawServer(t, func(c net.Conn, n int) {
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial"))
	})
	p := newPool(t, Config{MaxRetries: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// A POST that reached the server is not re-sent.
	_, _, err := doPost(ctx, p, url, []byte(`{"method":"submit"}`))
	var re *RequestError
	if !errors.As(err, &re) || re.Attempts != 1 || !re.MaybeSent {
		t.Fatalf("want one maybe-sent attempt, got %v", err)
	}
	if n := count.Load(); n != 1 {
		t.Fatalf("server saw %d requests for a non-idempotent POST, want 1", n)
	}

	// Marked idempotent, it is re-sent up to MaxRetries times.
	_, _, err = doPost(ctx, p, url, []byte(`{"method":"query"}`), WithIdempotent())
	if !errors.As(err, &re) || re.Attempts != 4 {
		t.Fatalf("idempotent: want 4 attempts, got %v", err)
	}
	if n := count.Load(); n != 5 {
		t.Fatalf("server saw %d requests, want 1+4", n)
	}
}

func TestNonIdempotentNotResentAfterReachingServer(t *testing.T) {
	// The server reads the request and closes without answering: the
	// ambiguous case (did it act on it?).
	url, count := rawServer(t, func(c net.Conn, n int) {})
	p := newPool(t, Config{MaxRetries: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := doPost(ctx, p, url, []byte(`{"method":"execute"}`))
	var re *RequestError
	if !errors.As(err, &re) || !re.MaybeSent || re.Attempts != 1 {
		t.Fatalf("got %v", err)
	}
	if n := count.Load(); n != 1 {
		t.Fatalf("non-idempotent request reached the server %d times", n)
	}
	// A GET is idempotent by method and is re-sent.
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	if err := p.Do(ctx, req, resp); err == nil {
		t.Fatal("want failure")
	}
	if n := count.Load(); n != 1+4 {
		t.Fatalf("GET reached the server %d times, want 4", n-1)
	}
}

func Test503Then200(t *testing.T) {
	var hits atomic.Int64
	srv := startNet(t, func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	p := newPool(t, Config{})
	resp, err := p.Get(context.Background(), srv.URL+"/status", nil)
	if err != nil || resp.StatusCode != 200 || string(resp.Body) != `{"ok":true}` {
		t.Fatalf("got %+v %v", resp, err)
	}
	if hits.Load() != 2 {
		t.Fatalf("server hits %d", hits.Load())
	}
	st := p.Stats()
	if st.Retries != 1 || st.Requests != 2 || st.Errors != 1 {
		t.Fatalf("stats %+v", st)
	}

	// A non-idempotent POST is not re-sent after a 503: the origin may have
	// acted on it. The caller gets a StatusError and the full body.
	hits.Store(0)
	resp, err = p.Post(context.Background(), srv.URL+"/v3", []byte(`{}`))
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 503 || se.Attempts != 1 || !strings.Contains(string(se.Body), "busy") {
		t.Fatalf("got %v", err)
	}
	if resp == nil || resp.StatusCode != 503 || !strings.Contains(string(resp.Body), "busy") {
		t.Fatalf("response not returned with the status error: %+v", resp)
	}
}

func TestErrorStatusKeepsFullBodyForJSONRPCErrors(t *testing.T) {
	big := `{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"` + strings.Repeat("x", 1000) + `"}}`
	srv := startFast(t, func(ctx *fasthttp.RequestCtx) {
		ctx.SetStatusCode(400)
		ctx.SetBodyString(big)
	})
	p := newPool(t, Config{})
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod("POST")
	req.SetRequestURI(srv.URL)
	err := p.Do(context.Background(), req, resp, WithIdempotent())
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 400 || len(se.Body) != maxExcerpt || se.Attempts != 1 {
		t.Fatalf("got %v", err)
	}
	if string(resp.Body()) != big {
		t.Fatal("resp does not hold the full error body")
	}
}

func TestRetryAfter(t *testing.T) {
	t.Run("seconds", func(t *testing.T) {
		t.Parallel()
		var hits atomic.Int64
		srv := startNet(t, func(w http.ResponseWriter, r *http.Request) {
			if hits.Add(1) == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			_, _ = w.Write([]byte("ok"))
		})
		p := newPool(t, Config{MaxRetryDelay: 5 * time.Second})
		start := time.Now()
		// POST too: 429 means the server did not act on it.
		resp, err := p.Post(context.Background(), srv.URL, []byte(`{}`))
		if err != nil || string(resp.Body) != "ok" {
			t.Fatalf("%+v %v", resp, err)
		}
		if el := time.Since(start); el < time.Second {
			t.Fatalf("retried after %v, before Retry-After: 1", el)
		}
	})
	t.Run("http date", func(t *testing.T) {
		t.Parallel()
		var hits atomic.Int64
		var sentAt atomic.Int64
		srv := startNet(t, func(w http.ResponseWriter, r *http.Request) {
			if hits.Add(1) == 1 {
				at := time.Now().Add(2 * time.Second).Truncate(time.Second)
				sentAt.Store(at.UnixNano())
				w.Header().Set("Retry-After", at.UTC().Format(http.TimeFormat))
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			if now := time.Now().UnixNano(); now < sentAt.Load() {
				t.Errorf("retried %v before the Retry-After date", time.Duration(sentAt.Load()-now))
			}
			_, _ = w.Write([]byte("ok"))
		})
		p := newPool(t, Config{MaxRetryDelay: 5 * time.Second})
		resp, err := p.Get(context.Background(), srv.URL, nil)
		if err != nil || string(resp.Body) != "ok" || hits.Load() != 2 {
			t.Fatalf("%+v %v hits %d", resp, err, hits.Load())
		}
	})
	t.Run("would pass the deadline", func(t *testing.T) {
		t.Parallel()
		srv := startNet(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
		})
		p := newPool(t, Config{MaxRetryDelay: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		_, err := p.Get(ctx, srv.URL, nil)
		var se *StatusError
		if !errors.As(err, &se) || se.StatusCode != 429 || se.RetryAfter != 30*time.Second {
			t.Fatalf("got %v", err)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("slept towards a Retry-After beyond the deadline instead of answering")
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 5, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"1", time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-1", 0},
		{"1.5", 0},
		{"", 0},
		{"Wed, 25 Nov 2026 05:00:30 GMT", 30 * time.Second},
		{"Wed, 25 Nov 2026 04:59:00 GMT", 0},
		{"Wednesday, 25-Nov-26 05:01:00 GMT", time.Minute},
		{"Wed Nov 25 05:00:10 2026", 10 * time.Second},
		{"tomorrow", 0},
		{"99999999999999999999", maxRetryAfterSecs * time.Second}, // not soon, not "no header"
		{"2147483649", maxRetryAfterSecs * time.Second},
		{"99999999999999999999x", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter([]byte(tt.in), now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestBackoffIsJitteredExponentialAndCapped(t *testing.T) {
	p := newPool(t, Config{RetryDelay: 100 * time.Millisecond, MaxRetryDelay: time.Second})
	for n, want := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		want *= time.Millisecond
		if n == 4 || n == 5 {
			want = time.Second
		}
		for range 50 {
			d := p.backoff(n + 1)
			if d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n+1, d, want/2, want)
			}
		}
	}
}

// TestUnsolicitedBytesAfterResponseAreNotTheNextAnswer: a broken or hostile
// server writes a second, unrequested response right behind the first. The
// connection must not go back to the pool with those bytes buffered, or the
// next request on it would be answered with them (a wrong answer, and the
// real one lost).
func TestUnsolicitedBytesAfterResponseAreNotTheNextAnswer(t *testing.T) {
	var n atomic.Int64
	addr := tcpServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			var req fasthttp.Request
			if req.Read(br) != nil {
				return
			}
			body := fmt.Sprintf("r%d", n.Add(1))
			out := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body) +
				"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\njunk"
			if _, err := c.Write([]byte(out)); err != nil {
				return
			}
		}
	})
	url := "http://" + addr
	p := newPool(t, Config{MaxRetries: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 1; i <= 3; i++ {
		_, body, err := doPost(ctx, p, url, []byte(`{"method":"query"}`))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if want := fmt.Sprintf("r%d", i); string(body) != want {
			t.Fatalf("request %d answered with %q, want %q", i, body, want)
		}
	}
}

// TestBodyStreamNotResentEmpty: fasthttp drops a request's body stream once
// written, so a retry would send the same request with an empty body. An
// idempotent request answered 503 is then not retried: the status is the
// answer, and the server never sees a mangled copy.
func TestBodyStreamNotResentEmpty(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := startFast(t, func(ctx *fasthttp.RequestCtx) {
		mu.Lock()
		bodies = append(bodies, string(ctx.PostBody()))
		n := len(bodies)
		mu.Unlock()
		if n == 1 {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		}
	})
	p := newPool(t, Config{MaxRetries: 3})
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(fasthttp.MethodPut)
	req.SetRequestURI(srv.URL)
	const body = `{"method":"query"}`
	req.SetBodyStream(strings.NewReader(body), len(body))
	err := p.Do(context.Background(), req, resp)
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 503 || se.Attempts != 1 {
		t.Fatalf("want the 503 after one attempt, got %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, b := range bodies {
		if b != body {
			t.Fatalf("attempt %d sent body %q, want %q", i+1, b, body)
		}
	}
}
