package fastpool

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// benchBody is a 1 KiB JSON-RPC request, the size of a small batch.
var benchBody = func() []byte {
	head := `{"jsonrpc":"2.0","id":1,"method":"query","params":{"scope":"acc://`
	tail := `.acme/tokens","query":{"queryType":"default"}}}`
	return []byte(head + strings.Repeat("a", 1024-len(head)-len(tail)) + tail)
}()

// benchAnswer is a typical small JSON-RPC answer.
var benchAnswer = []byte(`{"jsonrpc":"2.0","id":1,"result":{"recordType":"account","account":{"type":"tokenAccount","url":"acc://alice.acme/tokens","tokenUrl":"acc://ACME","balance":"100000000"}}}`)

func benchServer(b *testing.B) *fastServer {
	return startFast(b, func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBody(benchAnswer)
	})
}

// BenchmarkPost compares fastpool with a tuned net/http client: parallel
// callers POST a 1 KiB JSON body to the same loopback fasthttp server and
// read the whole answer. Allocations include the in-process server's (a
// fasthttp server allocates nothing per request in steady state).
func BenchmarkPost(b *testing.B) {
	srv := benchServer(b)
	url := srv.URL + "/v3"

	b.Run("impl=fastpool", func(b *testing.B) {
		p, err := New(Config{MaxConns: 256, MaxConnsPerHost: 256})
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		b.SetBytes(int64(len(benchBody)))
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			req := fasthttp.AcquireRequest()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.Header.SetMethod(fasthttp.MethodPost)
			req.Header.SetContentType("application/json")
			req.SetRequestURI(url)
			req.SetBody(benchBody)
			ctx := context.Background()
			for pb.Next() {
				if err := p.Do(ctx, req, resp); err != nil {
					b.Error(err)
					return
				}
				if len(resp.Body()) != len(benchAnswer) {
					b.Errorf("body %d bytes", len(resp.Body()))
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	})

	b.Run("impl=nethttp", func(b *testing.B) {
		tr := &http.Transport{
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true, // the server never compresses; skip the header
			ForceAttemptHTTP2:   false,
		}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		b.SetBytes(int64(len(benchBody)))
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			var buf bytes.Buffer
			rd := bytes.NewReader(nil)
			for pb.Next() {
				rd.Reset(benchBody)
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, rd)
				if err != nil {
					b.Error(err)
					return
				}
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				buf.Reset()
				_, err = buf.ReadFrom(resp.Body)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || buf.Len() != len(benchAnswer) {
					b.Errorf("body %d bytes: %v", buf.Len(), err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	})
}

// BenchmarkDoCPU measures the CPU a request costs (client and the
// in-process server together, user and system time from getrusage) with 16
// callers per core sharing one context, the way a load generator calls Do.
// ctx=background has no Done channel; ctx=cancel is cancellable and carries
// a deadline, so every attempt must stay interruptible.
func BenchmarkDoCPU(b *testing.B) {
	srv := benchServer(b)
	url := srv.URL + "/v3"
	for _, name := range []string{"background", "cancel"} {
		b.Run("impl=fastpool/ctx="+name, func(b *testing.B) {
			p, err := New(Config{MaxConns: 256, MaxConnsPerHost: 256})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			ctx := context.Background()
			if name == "cancel" {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Hour)
				defer cancel()
			}
			b.SetParallelism(16)
			b.ReportAllocs()
			var ru0, ru1 syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req := fasthttp.AcquireRequest()
				resp := fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				req.Header.SetMethod(fasthttp.MethodPost)
				req.Header.SetContentType("application/json")
				req.SetRequestURI(url)
				req.SetBody(benchBody)
				for pb.Next() {
					if err := p.Do(ctx, req, resp); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			user := time.Duration(ru1.Utime.Nano() - ru0.Utime.Nano())
			sys := time.Duration(ru1.Stime.Nano() - ru0.Stime.Nano())
			b.ReportMetric(float64(user.Nanoseconds())/float64(b.N), "user-ns/req")
			b.ReportMetric(float64(sys.Nanoseconds())/float64(b.N), "sys-ns/req")
		})
	}
}

// BenchmarkReadResponse compares the growing body reader with fasthttp's
// ReadLimitBody (which allocates the declared length up front) on honest
// responses, reusing one Response as the pool's callers do.
func BenchmarkReadResponse(b *testing.B) {
	for _, size := range []int{len(benchAnswer), 64 << 10, 1 << 20} {
		for _, framing := range []string{"length", "chunked"} {
			var wire bytes.Buffer
			body := bytes.Repeat([]byte("a"), size)
			if framing == "length" {
				fmt.Fprintf(&wire, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", size, body)
			} else {
				wire.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
				for i := 0; i < size; i += 16 << 10 {
					chunk := body[i:min(i+16<<10, size)]
					fmt.Fprintf(&wire, "%x\r\n%s\r\n", len(chunk), chunk)
				}
				wire.WriteString("0\r\n\r\n")
			}
			for _, impl := range []string{"fasthttp", "fastpool"} {
				b.Run(fmt.Sprintf("impl=%s/body=%d/%s", impl, size, framing), func(b *testing.B) {
					rd := bytes.NewReader(wire.Bytes())
					br := bufio.NewReaderSize(rd, connBufSize)
					var resp fasthttp.Response
					b.SetBytes(int64(wire.Len()))
					b.ReportAllocs()
					for b.Loop() {
						rd.Reset(wire.Bytes())
						br.Reset(rd)
						resp.Reset()
						var err error
						if impl == "fasthttp" {
							err = resp.ReadLimitBody(br, DefaultMaxResponseBodySize)
						} else {
							err = readResponse(br, &resp, DefaultMaxResponseBodySize)
						}
						if err != nil || len(resp.Body()) != size {
							b.Fatalf("%v, %d bytes", err, len(resp.Body()))
						}
					}
				})
			}
		}
	}
}
