package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batchring/batchring/bench/devnet"
	"github.com/batchring/batchring/codec"
	"github.com/batchring/batchring/fastpool"
)

func startDevnet(t *testing.T, m devnet.Misbehaviour) *devnet.Server {
	t.Helper()
	s, err := devnet.Start(devnet.Config{Misbehaviour: m})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newSingle(t *testing.T, url string, conns int) *SingleCaller {
	t.Helper()
	c, err := NewSingleCaller(SingleConfig{URL: url, Connections: conns, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestSingleCallerOutcomes(t *testing.T) {
	s := startDevnet(t, devnet.Misbehaviour{})
	c := newSingle(t, s.URL()+"/v3", 2)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		op   Op
		kind string
	}{
		{"existing account answers a result", Op{Method: "query", Params: []byte(`{"scope":"acc://dn.acme","query":{"queryType":"default"}}`)}, ""},
		{"missing account is the protocol's not found", Op{Method: "query", Params: []byte(`{"scope":"acc://missing.example"}`)}, "rpc -33404"},
		{"unknown method", Op{Method: "no-such-method", Params: []byte(`{}`)}, "rpc -32601"},
		{"no params", Op{Method: "node-info"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Call(ctx, &tc.op)
			if tc.kind == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var rpc *codec.Error
			if !errors.As(err, &rpc) {
				t.Fatalf("err %v (%T), want *codec.Error", err, err)
			}
			if got := Classify(err).Kind; got != tc.kind {
				t.Fatalf("kind %q, want %q", got, tc.kind)
			}
		})
	}
	if c.Requests() != 4 {
		t.Fatalf("requests %d, want 4", c.Requests())
	}
}

func TestSingleCallerHTTPErrorsAndThrottling(t *testing.T) {
	s := startDevnet(t, devnet.Misbehaviour{RateLimitFraction: 1, RetryAfter: time.Second})
	c := newSingle(t, s.URL()+"/v3", 2)
	op := &Op{Method: "node-info", Params: []byte(`{}`)}
	err := c.Call(context.Background(), op)
	var se *fastpool.StatusError
	if !errors.As(err, &se) || se.StatusCode != 429 {
		t.Fatalf("err %v, want a 429 StatusError", err)
	}
	out := Classify(err)
	if out.Kind != "http 429" || !out.Throttled || out.RetryAfter != time.Second {
		t.Fatalf("outcome %+v", out)
	}
	if st := s.Stats(); st.Requests != 1 {
		t.Fatalf("server saw %d requests: a load generator must not retry by itself", st.Requests)
	}

	if err := s.SetMisbehaviour(devnet.Misbehaviour{ServerErrorFraction: 1}); err != nil {
		t.Fatal(err)
	}
	if k := Classify(c.Call(context.Background(), op)).Kind; k != "http 500" && k != "http 502" && k != "http 503" {
		t.Fatalf("kind %q, want a 5xx", k)
	}
}

// A rate-limit error inside an HTTP 200 body (-32005, EIP-1474's "limit
// exceeded") throttles like a 429: Classify marks it so the engine pauses.
func TestSingleCallerRateLimitInBodyIsThrottling(t *testing.T) {
	s := startDevnet(t, devnet.Misbehaviour{RateLimitFraction: 1, RateLimitInBody: true})
	c := newSingle(t, s.URL()+"/v3", 2)
	err := c.Call(context.Background(), &Op{Method: "node-info", Params: []byte(`{}`)})
	var rpc *codec.Error
	if !errors.As(err, &rpc) || rpc.Code != CodeRateLimited {
		t.Fatalf("err %v (%T), want a -32005 *codec.Error", err, err)
	}
	if out := Classify(err); out.Kind != "rpc -32005" || !out.Throttled || out.RetryAfter != 0 {
		t.Fatalf("outcome %+v, want rpc -32005, throttled, no Retry-After", out)
	}
	if out := Classify(&codec.Error{Code: -33404}); out.Throttled {
		t.Fatalf("a not-found error throttles: %+v", out)
	}
}

// A 429 whose body is a JSON-RPC error object (a proxy's, any code) is
// still throttling: the status and its Retry-After survive the body's
// error, so the engine pauses as asked; the body's error stays visible.
func TestSingleCaller429WithErrorBodyIsThrottling(t *testing.T) {
	for _, code := range []int{-32000, CodeRateLimited} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "3")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprintf(w, `{"jsonrpc":"2.0","id":null,"error":{"code":%d,"message":"slow down"}}`, code)
			}))
			defer hs.Close()
			c := newSingle(t, hs.URL+"/v3", 2)
			err := c.Call(context.Background(), &Op{Method: "node-info", Params: []byte(`{}`)})
			out := Classify(err)
			if out.Kind != "http 429" || !out.Throttled || out.RetryAfter != 3*time.Second {
				t.Fatalf("outcome %+v for %v, want http 429, throttled, Retry-After 3s", out, err)
			}
			var rpc *codec.Error
			if !errors.As(err, &rpc) || rpc.Code != code {
				t.Fatalf("err %v: the body's error object was lost", err)
			}
		})
	}
}

// closedPortURL returns a loopback URL where nothing listens.
func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/v3"
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return url
}

func TestSingleCallerUnreachable(t *testing.T) {
	c := newSingle(t, closedPortURL(t), 1)
	err := c.Call(context.Background(), &Op{Method: "node-info"})
	if err == nil || Classify(err).Kind != KindTransport {
		t.Fatalf("err %v kind %q, want transport", err, Classify(err).Kind)
	}
}

func TestSingleCallerTimeout(t *testing.T) {
	s := startDevnet(t, devnet.Misbehaviour{})
	c := newSingle(t, s.URL()+"/v3", 1)
	s.Stall(2 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := c.Call(ctx, &Op{Method: "node-info"})
	if k := Classify(err).Kind; k != KindTimeout {
		t.Fatalf("err %v kind %q, want timeout", err, k)
	}
}

func TestSingleCallerConfig(t *testing.T) {
	if _, err := NewSingleCaller(SingleConfig{}); !errors.Is(err, ErrNoURL) {
		t.Fatalf("no URL: %v", err)
	}
	if _, err := NewSingleCaller(SingleConfig{URL: "http://127.0.0.1:1/v3", Connections: -1}); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("negative connections: %v", err)
	}
}

// TestStallShowsInOpenLoopOnly is the honesty test: the same 1-second stall of
// the server in the middle of a run dominates the open loop's p99, measured
// from intended send times as wrk2 does, while a closed loop, whose few
// workers simply wait and send nothing during the stall, reports a p99 that
// hides it (coordinated omission).
func TestStallShowsInOpenLoopOnly(t *testing.T) {
	s := startDevnet(t, devnet.Misbehaviour{})
	load, err := BuiltinMix("v3")
	if err != nil {
		t.Fatal(err)
	}
	measure := func(cfg Config) *Result {
		c := newSingle(t, s.URL()+"/v3", 8)
		stalled := time.AfterFunc(cfg.WarmUp+time.Second, func() { s.Stall(time.Second) })
		defer stalled.Stop()
		res, err := Run(context.Background(), cfg, load, c)
		if err != nil {
			t.Fatal(err)
		}
		if res.Errors != 0 {
			t.Fatalf("%s: %d errors %v", cfg.Label, res.Errors, res.ErrorsByKind)
		}
		return res
	}
	open := measure(Config{Label: "open", Rate: 200, Duration: 3 * time.Second, WarmUp: 200 * time.Millisecond, Timeout: 5 * time.Second})
	closed := measure(Config{Label: "closed", Workers: 4, Duration: 3 * time.Second, WarmUp: 200 * time.Millisecond, Timeout: 5 * time.Second})
	t.Logf("open:   %d calls p50 %v p99 %v max %v", open.Calls, open.Latency.Quantile(50), open.Latency.Quantile(99), open.Latency.Max())
	t.Logf("closed: %d calls p50 %v p99 %v max %v", closed.Calls, closed.Latency.Quantile(50), closed.Latency.Quantile(99), closed.Latency.Max())

	// About a third of the open loop's calls were due during the stall; the
	// first of them waited the whole second.
	if p99 := open.Latency.Quantile(99); p99 < 800*time.Millisecond {
		t.Errorf("open loop p99 %v: the 1 s stall is hidden", p99)
	}
	if mx := open.Latency.Max(); mx < 900*time.Millisecond {
		t.Errorf("open loop max %v: the 1 s stall is hidden", mx)
	}
	// The closed loop saw the stall in only its 4 in-flight calls.
	if mx := closed.Latency.Max(); mx < 900*time.Millisecond {
		t.Errorf("closed loop max %v: its in-flight calls did wait out the stall", mx)
	}
	// Half the stall: loose enough for a loaded CI machine under -race,
	// tight enough that a p99 reflecting the stall would fail it.
	if p99 := closed.Latency.Quantile(99); p99 > 500*time.Millisecond {
		t.Errorf("closed loop p99 %v: expected the closed loop to hide the stall", p99)
	}
}

// TestSingleCallerRemembersOnlyIdenticalSuccess: an op's answer that differs
// from the one first validated is decoded in full, so a node that starts
// failing the same call is seen failing.
func TestSingleCallerRemembersOnlyIdenticalSuccess(t *testing.T) {
	var calls atomic.Int64
	var bodies sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies.Store(string(b), true)
		var req struct {
			ID uint64 `json:"id"`
		}
		if err := json.Unmarshal(b, &req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		n := calls.Add(1)
		switch {
		case n <= 3:
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%d,"result":{"ok":true}}`, req.ID)
		case n == 4:
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%d,"result":{"ok":true},"error":{"code":1,"message":"both"}}`, req.ID)
		case n == 5:
			// the remembered answer, but to another call's id
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%d,"result":{"ok":true}}`, req.ID+1)
		case n == 6:
			// the remembered answer byte for byte, but with HTTP 500
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%d,"result":{"ok":true}}`, req.ID)
		default:
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%d,"error":{"code":-32000,"message":"busy"}}`, req.ID)
		}
	}))
	defer srv.Close()
	load, err := NewWorkload([]Op{{Method: "node-info", Params: []byte(`{}`)}})
	if err != nil {
		t.Fatal(err)
	}
	c := newSingle(t, srv.URL+"/v3", 1)
	op := &load.Ops()[0]
	for i := 1; i <= 7; i++ {
		err := c.Call(context.Background(), op)
		switch {
		case i <= 3 && err != nil:
			t.Fatalf("call %d: %v", i, err)
		case i == 4 && Classify(err).Kind != RPCKind(codec.CodeInvalidResponse):
			t.Fatalf("call %d (result and error): %v", i, err)
		case i == 5 && !errors.Is(err, errNoAnswer):
			t.Fatalf("call %d (the remembered result under another id): %v, want errNoAnswer", i, err)
		case i == 6 && Classify(err).Kind != HTTPKind(500):
			t.Fatalf("call %d (the remembered body with HTTP 500): %v, want http 500", i, err)
		case i == 7 && Classify(err).Kind != "rpc -32000":
			t.Fatalf("call %d: %v, want the server's -32000", i, err)
		}
	}
	n := 0
	bodies.Range(func(_, _ any) bool { n++; return true })
	if n != 1 {
		t.Fatalf("the op went out as %d different bodies, want 1", n)
	}
	srv.CloseClientConnections()
}
