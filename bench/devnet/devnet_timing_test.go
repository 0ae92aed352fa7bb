package devnet

import (
	"bufio"
	"fmt"
	"net"
	"strings"
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
// 100-call batch: path=handler runs the request handler in-process (parse,
// cached answers, render; no network), path=loopback posts over keep-alive
// TCP connections on 127.0.0.1, one per parallel goroutine.
func BenchmarkDevnet(b *testing.B) {
	const calls = 100
	body := benchBatch(calls)

	b.Run("path=handler", func(b *testing.B) {
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

	b.Run("path=loopback", func(b *testing.B) {
		s, err := Start(Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		req := fmt.Sprintf("POST /v3 HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", s.Addr(), len(body), body)
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			c, err := net.Dial("tcp", s.Addr().String())
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Close()
			br := bufio.NewReaderSize(c, 64<<10)
			var resp fasthttp.Response
			for pb.Next() {
				if _, err := c.Write([]byte(req)); err != nil {
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
		b.ReportMetric(float64(b.N)*calls/time.Since(start).Seconds(), "calls/s")
	})
}

// newBenchCtx returns a request context holding a POST of body to /v3.
func newBenchCtx(body string) *fasthttp.RequestCtx {
	ctx := new(fasthttp.RequestCtx)
	ctx.Request.Header.SetMethod(fasthttp.MethodPost)
	ctx.Request.SetRequestURI("/v3")
	ctx.Request.SetBodyString(body)
	return ctx
}
