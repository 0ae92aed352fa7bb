package fastpool

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
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
