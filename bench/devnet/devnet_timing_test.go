package devnet

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// benchBatch is the 100-call batch the benchmarks (and testdata/wrk-batch100.lua)
// post: v3 queries of 100 different accounts, account answers of ~0.7 KB.
func benchBatch(n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%d,"method":"query","params":{"scope":"acc://bench-%d.acme/tokens"}}`, i+1, i)
	}
	b.WriteByte(']')
	return b.String()
}

// BenchmarkDevnet measures how many calls/s the stand-in answers for a
// 100-call batch. impl=devnet/path=handler runs the request handler
// in-process (parse, cached answers, render; no network); path=loopback
// posts over keep-alive TCP connections on 127.0.0.1, one per parallel
// goroutine. impl=nethttp-encodingjson is the peer: the stand-in one would
// write with net/http and encoding/json, answering from the same Expected
// answers (cached), measured the same way.
func BenchmarkDevnet(b *testing.B) {
	const calls = 100
	body := benchBatch(calls)

	b.Run("impl=devnet/path=handler", func(b *testing.B) {
		cfg := Config{}.withDefaults()
		s, err := newServer(cfg)
		if err != nil {
			b.Fatal(err)
		}
		warm := newBenchCtx(body)
		s.handle(warm) // render and cache the 100 answers once, as a long run would
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			ctx := newBenchCtx(body)
			for pb.Next() {
				s.handle(ctx)
				if ctx.Response.StatusCode() != 200 || len(ctx.Response.Body()) < calls*500 {
					b.Errorf("status %d, %d bytes", ctx.Response.StatusCode(), len(ctx.Response.Body()))
					return
				}
				ctx.Response.ResetBody()
			}
		})
		b.ReportMetric(float64(b.N)*calls/b.Elapsed().Seconds(), "calls/s")
	})

	// Every call queries an account not seen before: what a client that
	// avoids dedup with unique params costs the stand-in (no cache hits).
	b.Run("impl=devnet/path=handler-fresh-accounts", func(b *testing.B) {
		s, err := newServer(Config{}.withDefaults())
		if err != nil {
			b.Fatal(err)
		}
		var seq atomic.Uint64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			ctx := newBenchCtx("")
			var body []byte
			for pb.Next() {
				body = append(body[:0], '[')
				for i := range calls {
					if i > 0 {
						body = append(body, ',')
					}
					body = fmt.Appendf(body, `{"jsonrpc":"2.0","id":%d,"method":"query","params":{"scope":"acc://fresh-%d.acme/tokens"}}`, i+1, seq.Add(1))
				}
				body = append(body, ']')
				ctx.Request.SetBody(body)
				s.handle(ctx)
				if ctx.Response.StatusCode() != 200 || len(ctx.Response.Body()) < calls*500 {
					b.Errorf("status %d, %d bytes", ctx.Response.StatusCode(), len(ctx.Response.Body()))
					return
				}
				ctx.Response.ResetBody()
			}
		})
		b.ReportMetric(float64(b.N)*calls/b.Elapsed().Seconds(), "calls/s")
	})

	b.Run("impl=devnet/path=loopback", func(b *testing.B) {
		s, err := Start(Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchLoopback(b, s.Addr().String(), body, calls)
	})

	b.Run("impl=nethttp-encodingjson/path=loopback", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(plainServer)}
		done := make(chan struct{})
		go func() { defer close(done); _ = srv.Serve(ln) }()
		defer func() { _ = srv.Close(); <-done }()
		benchLoopback(b, ln.Addr().String(), body, calls)
	})
}

// benchLoopback posts body to addr/v3 from parallel goroutines, each on its
// own keep-alive connection, and reports calls/s.
func benchLoopback(b *testing.B, addr, body string, calls int) {
	req := []byte(fmt.Sprintf("POST /v3 HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		br := bufio.NewReaderSize(c, 64<<10)
		var resp fasthttp.Response
		for pb.Next() {
			if _, err := c.Write(req); err != nil {
				b.Error(err)
				return
			}
			if err := resp.Read(br); err != nil {
				b.Error(err)
				return
			}
			if resp.StatusCode() != 200 || len(resp.Body()) < calls*500 {
				b.Errorf("status %d, %d bytes", resp.StatusCode(), len(resp.Body()))
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)*float64(calls)/time.Since(start).Seconds(), "calls/s")
}

// plainCache holds the peer's rendered results, keyed by method and params.
var plainCache sync.Map // string → json.RawMessage

// plainServer is the peer stand-in: encoding/json in and out, answers from
// Expected (cached like devnet's). Only what the benchmark sends is handled.
func plainServer(w http.ResponseWriter, r *http.Request) {
	type request struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Method  string          `json:"method"`
		Params  json.RawMessage `json:"params"`
	}
	type response struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Result  json.RawMessage `json:"result"`
	}
	var reqs []request
	if err := json.NewDecoder(r.Body).Decode(&reqs); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out := make([]response, len(reqs))
	for i, q := range reqs {
		key := q.Method + "\x00" + string(q.Params)
		res, ok := plainCache.Load(key)
		if !ok {
			r, _ := Expected(r.URL.Path, q.Method, q.Params)
			res, _ = plainCache.LoadOrStore(key, json.RawMessage(r))
		}
		out[i] = response{JSONRPC: "2.0", ID: q.ID, Result: res.(json.RawMessage)}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// newBenchCtx returns a request context holding a POST of body to /v3.
func newBenchCtx(body string) *fasthttp.RequestCtx {
	ctx := new(fasthttp.RequestCtx)
	ctx.Request.Header.SetMethod(fasthttp.MethodPost)
	ctx.Request.SetRequestURI("/v3")
	ctx.Request.SetBodyString(body)
	return ctx
}
