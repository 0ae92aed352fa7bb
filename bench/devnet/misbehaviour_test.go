package devnet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/batchring/batchring/codec"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// batchBody builds a batch of n v3 queries with ids 1..n, each for its own
// account, and returns the body and the exact element each id must get.
func batchBody(t testing.TB, n int) (string, map[string]string) {
	t.Helper()
	var b strings.Builder
	want := make(map[string]string, n)
	b.WriteByte('[')
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		params := fmt.Sprintf(`{"scope":"acc://user-%d.acme/tokens"}`, i)
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%d,"method":"query","params":%s}`, i, params)
		want[fmt.Sprint(i)] = element(t, fmt.Sprint(i), "/v3", "query", params)
	}
	b.WriteByte(']')
	return b.String(), want
}

// elements splits a batch answer into raw elements keyed by id.
func elements(t testing.TB, body []byte) ([]string, map[string]string) {
	t.Helper()
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("answer is not an array: %v: %.200s", err, body)
	}
	ids := make([]string, 0, len(raw))
	byID := make(map[string]string, len(raw))
	for _, r := range raw {
		var e struct{ ID json.RawMessage }
		if err := json.Unmarshal(r, &e); err != nil {
			t.Fatal(err)
		}
		id := string(e.ID)
		if _, dup := byID[id]; dup {
			t.Fatalf("id %s answered twice", id)
		}
		ids = append(ids, id)
		byID[id] = string(r)
	}
	return ids, byID
}

func TestLatency(t *testing.T) {
	s := startServer(t, Config{Misbehaviour: Misbehaviour{Latency: 30 * time.Millisecond, LatencyPerCall: 5 * time.Millisecond}})
	body, _ := batchBody(t, 10)
	start := time.Now()
	r := post(t, s, "/v3", body)
	if r.err != nil || r.status != 200 {
		t.Fatalf("status %d err %v", r.status, r.err)
	}
	// A lower bound only: the server must have waited at least this long.
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Fatalf("answered after %v, want ≥ 30ms + 10×5ms", d)
	}
	if n := s.Stats().Injected[InjectedLatency]; n != 1 {
		t.Fatalf("latency injected %d times, want 1", n)
	}
}

func TestLatencyJitterIsLognormal(t *testing.T) {
	// The factor is exp(sigma·Z) with Z drawn for each request as serveRPC
	// draws it: its median is 1 and log-factors have standard deviation
	// sigma.
	const sigma, n = 0.5, 20000
	var logs []float64
	m := &Misbehaviour{LatencyJitter: sigma}
	for seq := range uint64(n) {
		r := newRNG(42, seq)
		logs = append(logs, sigma*drawFaults(&r, m).jitter)
	}
	var mean, sq float64
	below := 0
	for _, l := range logs {
		mean += l
		sq += l * l
		if l < 0 {
			below++
		}
	}
	mean /= n
	sd := sq/n - mean*mean
	if mean < -0.02 || mean > 0.02 || sd < 0.23 || sd > 0.27 || below < n*48/100 || below > n*52/100 {
		t.Fatalf("log-factor mean %.3f variance %.3f (want ≈0, ≈%.2f), %d of %d below median", mean, sd, sigma*sigma, below, n)
	}
}

func TestBatchLimitStyles(t *testing.T) {
	body, _ := batchBody(t, 5)
	tests := []struct {
		style BatchLimitStyle
		check func(t *testing.T, r reply)
	}{
		{LimitWholeBatch, func(t *testing.T, r reply) {
			want := `{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"batch limit 4 exceeded (can increase by --rpc.batch.limit). Requested batch of size: 5"}}`
			if r.status != 200 || string(r.body) != want {
				t.Fatalf("status %d body %s, want 200 %s", r.status, r.body, want)
			}
		}},
		{LimitGeth, func(t *testing.T, r reply) {
			want := `[{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"batch too large"}}]`
			if r.status != 200 || string(r.body) != want {
				t.Fatalf("status %d body %s, want 200 %s", r.status, r.body, want)
			}
		}},
		{LimitHTTP413, func(t *testing.T, r reply) {
			if r.status != 413 {
				t.Fatalf("status %d, want 413", r.status)
			}
		}},
		{LimitClose, func(t *testing.T, r reply) {
			if r.err == nil {
				t.Fatalf("got status %d, want the connection closed", r.status)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.style.String(), func(t *testing.T) {
			s := startServer(t, Config{Misbehaviour: Misbehaviour{MaxBatchSize: 4, BatchLimit: tt.style}})
			tt.check(t, post(t, s, "/v3", body))
			if tt.style == LimitGeth {
				// The error goes on the first call's id, past notifications.
				r := post(t, s, "/v3", `[{"jsonrpc":"2.0","method":"x"},{"jsonrpc":"2.0","method":"x","id":"b"},1,2,3]`)
				if want := `[{"jsonrpc":"2.0","id":"b","error":{"code":-32600,"message":"batch too large"}}]`; string(r.body) != want {
					t.Fatalf("body %s, want %s", r.body, want)
				}
			}
			if n := s.Stats().Injected[InjectedBatchLimit]; n != 1 && tt.style != LimitGeth || n != 2 && tt.style == LimitGeth {
				t.Fatalf("batch_limit injected %d", n)
			}
			// A batch at the limit passes.
			small, want := batchBody(t, 4)
			r := post(t, s, "/v3", small)
			_, got := elements(t, r.body)
			if len(got) != len(want) {
				t.Fatalf("batch of 4 answered with %d elements", len(got))
			}
		})
	}
}

func TestResponseSizeLimit(t *testing.T) {
	s := startServer(t, Config{Misbehaviour: Misbehaviour{MaxResponseBytes: 2000}})
	body, want := batchBody(t, 10)
	r := post(t, s, "/v3", body)
	ids, got := elements(t, r.body)
	if len(ids) != 10 {
		t.Fatalf("%d answers, want 10", len(ids))
	}
	tooLarge := 0
	for i, id := range ids {
		e := got[id]
		if strings.Contains(e, `"code":-32003`) {
			tooLarge++
			if e != `{"jsonrpc":"2.0","id":`+id+`,"error":{"code":-32003,"message":"response too large"}}` {
				t.Fatalf("element %s", e)
			}
			continue
		}
		if tooLarge > 0 {
			t.Fatalf("element %d answered after a -32003 one", i)
		}
		if e != want[id] {
			t.Fatalf("id %s: %s", id, e)
		}
	}
	if tooLarge == 0 || tooLarge == 10 {
		t.Fatalf("%d of 10 elements over the limit; want some but not all", tooLarge)
	}
	if n := s.Stats().Injected[InjectedResponseSize]; n != uint64(tooLarge) {
		t.Fatalf("response_too_large %d, want %d", n, tooLarge)
	}
}

func TestRateLimit(t *testing.T) {
	s := startServer(t, Config{Misbehaviour: Misbehaviour{RateLimitFraction: 1, RetryAfter: 1500 * time.Millisecond}})
	r := post(t, s, "/v3", `{"jsonrpc":"2.0","id":1,"method":"node-info"}`)
	if r.status != 429 || r.header.Get("Retry-After") != "2" {
		t.Fatalf("status %d Retry-After %q, want 429 and 2", r.status, r.header.Get("Retry-After"))
	}
	if st := s.Stats(); st.Calls != 0 || st.Injected[InjectedRateLimited] != 1 {
		t.Fatalf("calls %d rate_limited %d, want 0 and 1", st.Calls, st.Injected[InjectedRateLimited])
	}
	if err := s.Update(func(m *Misbehaviour) { m.RetryAfter = -1 }); err != nil {
		t.Fatal(err)
	}
	r = post(t, s, "/v3", `{"jsonrpc":"2.0","id":1,"method":"node-info"}`)
	if _, has := r.header["Retry-After"]; r.status != 429 || has {
		t.Fatalf("status %d header %v, want 429 without Retry-After", r.status, r.header)
	}
}

func TestServerErrors(t *testing.T) {
	s := startServer(t, Config{Seed: 7, Misbehaviour: Misbehaviour{ServerErrorFraction: 1}})
	seen := map[int]int{}
	for range 30 {
		r := post(t, s, "/v3", `{"jsonrpc":"2.0","id":1,"method":"node-info"}`)
		if r.err != nil {
			t.Fatal(r.err)
		}
		seen[r.status]++
	}
	for code := range seen {
		if code != 500 && code != 502 && code != 503 {
			t.Fatalf("status %d", code)
		}
	}
	if len(seen) < 2 {
		t.Fatalf("statuses %v: want a mix of 500, 502 and 503", seen)
	}
	if st := s.Stats(); st.Calls != 0 || st.Injected[InjectedServerError] != 30 {
		t.Fatalf("calls %d server_error %d", st.Calls, st.Injected[InjectedServerError])
	}
}

func TestDrops(t *testing.T) {
	body, _ := batchBody(t, 3)
	t.Run("before", func(t *testing.T) {
		s := startServer(t, Config{Misbehaviour: Misbehaviour{DropBeforeFraction: 1}})
		if r := post(t, s, "/v3", body); r.err == nil {
			t.Fatalf("status %d, want a dropped connection", r.status)
		}
		if st := s.Stats(); st.Calls != 0 || st.Injected[InjectedDropBefore] != 1 {
			t.Fatalf("calls %d drop_before %d: want the request unprocessed", st.Calls, st.Injected[InjectedDropBefore])
		}
	})
	t.Run("after", func(t *testing.T) {
		s := startServer(t, Config{Misbehaviour: Misbehaviour{DropAfterFraction: 1}})
		if r := post(t, s, "/v3", body); r.err == nil {
			t.Fatalf("status %d, want a dropped connection", r.status)
		}
		if st := s.Stats(); st.Calls != 3 || st.Injected[InjectedDropAfter] != 1 {
			t.Fatalf("calls %d drop_after %d: want the request processed", st.Calls, st.Injected[InjectedDropAfter])
		}
	})
}

func TestReorder(t *testing.T) {
	s := startServer(t, Config{Seed: 3, Misbehaviour: Misbehaviour{ReorderFraction: 1}})
	body, want := batchBody(t, 20)
	r := post(t, s, "/v3", body)
	ids, got := elements(t, r.body)
	if len(got) != 20 {
		t.Fatalf("%d answers, want 20", len(got))
	}
	inOrder := true
	for i, id := range ids {
		if id != fmt.Sprint(i+1) {
			inOrder = false
		}
		if got[id] != want[id] {
			t.Fatalf("id %s got someone else's answer", id)
		}
	}
	if inOrder {
		t.Fatal("answers in request order")
	}
	if n := s.Stats().Injected[InjectedReordered]; n != 1 {
		t.Fatalf("reordered %d, want 1", n)
	}
}

func TestMissing(t *testing.T) {
	s := startServer(t, Config{Seed: 5, Misbehaviour: Misbehaviour{MissingFraction: 0.3}})
	body, want := batchBody(t, 100)
	r := post(t, s, "/v3", body)
	_, got := elements(t, r.body)
	if len(got) == 0 || len(got) == 100 {
		t.Fatalf("%d of 100 answered; want some missing", len(got))
	}
	for id, e := range got {
		if e != want[id] {
			t.Fatalf("id %s got someone else's answer", id)
		}
	}
	if n := s.Stats().Injected[InjectedMissing]; n != uint64(100-len(got)) {
		t.Fatalf("missing %d, want %d", n, 100-len(got))
	}
	// Even at fraction 1 one answer is kept.
	if err := s.Update(func(m *Misbehaviour) { m.MissingFraction = 1 }); err != nil {
		t.Fatal(err)
	}
	r = post(t, s, "/v3", body)
	if _, got = elements(t, r.body); len(got) != 1 {
		t.Fatalf("%d answers at fraction 1, want 1", len(got))
	}
}

func TestCompression(t *testing.T) {
	body, _ := batchBody(t, 10)
	plain := post(t, startServer(t, Config{}), "/v3", body, "Accept-Encoding", "gzip, zstd")
	if plain.header.Get("Content-Encoding") != "" {
		t.Fatal("compressed although Compress is off")
	}
	s := startServer(t, Config{Misbehaviour: Misbehaviour{Compress: true}})
	tests := []struct {
		accept, want string
		decode       func([]byte) ([]byte, error)
	}{
		{"gzip", "gzip", func(b []byte) ([]byte, error) {
			r, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return io.ReadAll(r)
		}},
		{"gzip, deflate, zstd", "zstd", func(b []byte) ([]byte, error) {
			d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
			if err != nil {
				return nil, err
			}
			defer d.Close()
			return d.DecodeAll(b, nil)
		}},
		{"", "", func(b []byte) ([]byte, error) { return b, nil }},
		{"br", "", func(b []byte) ([]byte, error) { return b, nil }},
	}
	for _, tt := range tests {
		t.Run("accept="+tt.accept, func(t *testing.T) {
			r := post(t, s, "/v3", body, "Accept-Encoding", tt.accept)
			if got := r.header.Get("Content-Encoding"); got != tt.want {
				t.Fatalf("Content-Encoding %q, want %q", got, tt.want)
			}
			dec, err := tt.decode(r.body)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dec, plain.body) {
				t.Fatal("decoded answer differs from the uncompressed one")
			}
			if tt.want != "" && len(r.body) >= len(plain.body) {
				t.Fatalf("compressed %d bytes, plain %d", len(r.body), len(plain.body))
			}
		})
	}
}

func TestStall(t *testing.T) {
	// The first request is counted before its latency, which is long
	// enough that it is still in progress when the stall begins even on
	// a loaded machine; unstalled it would answer before the stall ends.
	// The stall outlasts the second request's latency by 750 ms, so that
	// one is held too.
	s := startServer(t, Config{Misbehaviour: Misbehaviour{Latency: 250 * time.Millisecond}})
	done := make(chan time.Time, 1)
	start := time.Now()
	go func() {
		post(t, s, "/v3", `{"jsonrpc":"2.0","id":1,"method":"node-info"}`)
		done <- time.Now()
	}()
	for deadline := time.Now().Add(5 * time.Second); s.Stats().Requests == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the first request never reached the server")
		}
		time.Sleep(time.Millisecond)
	}
	s.Stall(time.Second)
	r := post(t, s, "/v3", `{"jsonrpc":"2.0","id":2,"method":"node-info"}`)
	if r.err != nil || r.status != 200 {
		t.Fatalf("status %d err %v", r.status, r.err)
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("request arriving during the stall answered after %v", d)
	}
	if d := (<-done).Sub(start); d < time.Second {
		t.Fatalf("request in progress at the stall answered after %v", d)
	}
	if n := s.Stats().Injected[InjectedStalled]; n < 2 {
		t.Fatalf("stalled %d, want ≥ 2", n)
	}
}

func TestCloseEndsStall(t *testing.T) {
	s, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	s.Stall(time.Hour)
	got := make(chan reply, 1)
	go func() { got <- post(t, s, "/v3", `{"jsonrpc":"2.0","id":1,"method":"node-info"}`) }()
	time.Sleep(50 * time.Millisecond) // let the request arrive and be held
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	<-got
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
}

// TestDeterminism: the same seed and the same request sequence give the same
// answers and the same injected faults; another seed gives another pattern.
func TestDeterminism(t *testing.T) {
	run := func(seed int64) []string {
		s := startServer(t, Config{Seed: seed, Misbehaviour: Misbehaviour{
			RateLimitFraction: 0.1, ServerErrorFraction: 0.1, DropBeforeFraction: 0.05,
			DropAfterFraction: 0.05, ReorderFraction: 0.3, MissingFraction: 0.1,
		}})
		var trace []string
		for i := range 40 {
			body, _ := batchBody(t, 1+i%7)
			r := post(t, s, "/v3", body)
			if r.err != nil {
				trace = append(trace, "dropped")
				continue
			}
			trace = append(trace, fmt.Sprintf("%d %s", r.status, r.body))
		}
		st := s.Stats()
		trace = append(trace, fmt.Sprint(st.Injected))
		return trace
	}
	a, b, c := run(11), run(11), run(12)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("same seed, request %d differs:\n%.300s\n%.300s", i, a[i], b[i])
			}
		}
	}
	if strings.Join(a, "\n") == strings.Join(c, "\n") {
		t.Fatal("seeds 11 and 12 gave the same fault pattern")
	}
}

func TestDecodeRequests(t *testing.T) {
	body, want := batchBody(t, 3)
	for _, enc := range []string{"gzip", "zstd"} {
		z, err := codec.Compress(nil, []byte(body), enc)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(enc, func(t *testing.T) {
			r := post(t, startServer(t, Config{DecodeRequests: true}), "/v3", string(z), "Content-Encoding", enc)
			_, got := elements(t, r.body)
			if len(got) != 3 || got["1"] != want["1"] {
				t.Fatalf("answer %.200s", r.body)
			}
			r = post(t, startServer(t, Config{}), "/v3", string(z), "Content-Encoding", enc)
			if !strings.Contains(string(r.body), `"code":-32700`) {
				t.Fatalf("compressed body without DecodeRequests: %.200s, want -32700", r.body)
			}
		})
	}
	r := post(t, startServer(t, Config{DecodeRequests: true}), "/v3", body, "Content-Encoding", "br")
	if r.status != 400 {
		t.Fatalf("unknown coding: status %d, want 400", r.status)
	}
}

func TestRateLimitPerSecond(t *testing.T) {
	// A bucket of 5 a second: of 20 requests sent back to back, the first 5
	// pass and most of the rest are refused (a few may pass as it refills).
	s := startServer(t, Config{Misbehaviour: Misbehaviour{RateLimitPerSecond: 5, RateLimitInBody: true}})
	passed, refused := 0, 0
	for range 20 {
		r := post(t, s, "/v3", `{"jsonrpc":"2.0","id":1,"method":"node-info"}`)
		switch {
		case r.status != 200:
			t.Fatalf("status %d, want 200 (refusals in the body)", r.status)
		case string(r.body) == `{"jsonrpc":"2.0","id":null,"error":{"code":-32005,"message":"request rate limited"}}`:
			refused++
			if r.header.Get("Retry-After") != "0" {
				t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
			}
		default:
			if refused > 0 && passed < 5 {
				t.Fatal("refused before the burst was spent")
			}
			passed++
		}
	}
	if passed < 5 || refused == 0 {
		t.Fatalf("%d passed, %d refused", passed, refused)
	}
	if n := s.Stats().Injected[InjectedRateLimited]; n != uint64(refused) {
		t.Fatalf("rate_limited %d, want %d", n, refused)
	}
}
