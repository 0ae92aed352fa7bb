package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/batchring/batchring/bench/devnet"
	"github.com/batchring/batchring/codec"
	"github.com/batchring/batchring/fastbatch"
	"github.com/batchring/batchring/fastpool"
)

// e2eParallelism × GOMAXPROCS callers run in every impl, so fastbatch's
// batches can fill and the unbatched peers get as many connections.
const e2eParallelism = 256

// e2eScopes is how many distinct accounts the callers query; the devnet
// caches rendered answers, the same way for every impl.
const e2eScopes = 1000

type queryParams struct {
	Scope string     `json:"scope"`
	Query queryInner `json:"query"`
}

type queryInner struct {
	QueryType string `json:"queryType"`
}

// e2eParamSet is built once so the benchmark measures the clients, not
// fmt.Sprintf; every impl gets the same values.
var e2eParamSet = func() []*queryParams {
	ps := make([]*queryParams, e2eScopes)
	for i := range ps {
		ps[i] = &queryParams{Scope: fmt.Sprintf("acc://e2e%d.acme/tokens", i), Query: queryInner{QueryType: "default"}}
	}
	return ps
}()

func e2eParams(n int64) *queryParams { return e2eParamSet[n%e2eScopes] }

// BenchmarkEndToEnd measures calls/s against bench/devnet on loopback:
// fastbatch (batched, defaults but dedup off so every call crosses the
// wire), single (one call per HTTP request through fastpool) and nethttp
// (net/http + encoding/json, one call per request). Bar: fastbatch ≥ 20×
// nethttp.
func BenchmarkEndToEnd(b *testing.B) {
	srv, err := devnet.Start(devnet.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	url := srv.URL() + "/v3"

	b.Run("impl=fastbatch", func(b *testing.B) {
		runFastbatch(b, url, func(c *fastbatch.Client, ctx context.Context, p *queryParams) error {
			_, err := c.Submit(ctx, "query", p)
			return err
		})
	})

	// The same through SubmitAppend, each caller reusing one buffer: no
	// result copy is allocated, so the GC runs far less often. Not the
	// bar's row (that is Submit, which hands every caller its own copy).
	b.Run("impl=fastbatch-append", func(b *testing.B) {
		var bufs sync.Pool
		runFastbatch(b, url, func(c *fastbatch.Client, ctx context.Context, p *queryParams) error {
			bp, _ := bufs.Get().(*[]byte)
			if bp == nil {
				bp = new([]byte)
			}
			res, err := c.SubmitAppend(ctx, (*bp)[:0], "query", p)
			*bp = res
			bufs.Put(bp)
			return err
		})
	})

	b.Run("impl=single", func(b *testing.B) {
		pool := newPool(b)
		defer pool.Close()
		var ids atomic.Uint64
		runCalls(b, func(ctx context.Context, p *queryParams) error {
			params, err := codec.EncodeParams(p)
			if err != nil {
				return err
			}
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			id := ids.Add(1)
			req.Header.SetMethod(fasthttp.MethodPost)
			req.SetRequestURI(url)
			req.Header.SetContentType("application/json")
			req.SetBodyRaw(codec.AppendRequest(nil, id, "query", params))
			if err := pool.Do(ctx, req, resp, fastpool.WithIdempotent()); err != nil {
				return err
			}
			res, err := codec.DecodeResponse(resp.Body(), id)
			if err != nil {
				return err
			}
			_ = append([]byte(nil), res...) // the caller's own copy, as fastbatch hands out
			return nil
		})
	})

	b.Run("impl=nethttp", func(b *testing.B) {
		tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 0, IdleConnTimeout: 30 * time.Second}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr}
		var ids atomic.Uint64
		type request struct {
			JSONRPC string       `json:"jsonrpc"`
			ID      uint64       `json:"id"`
			Method  string       `json:"method"`
			Params  *queryParams `json:"params"`
		}
		type response struct {
			ID     uint64          `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		runCalls(b, func(ctx context.Context, p *queryParams) error {
			body, err := json.Marshal(request{JSONRPC: "2.0", ID: ids.Add(1), Method: "query", Params: p})
			if err != nil {
				return err
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			var r response
			if err := json.Unmarshal(raw, &r); err != nil {
				return err
			}
			if r.Error != nil {
				return fmt.Errorf("rpc error %d: %s", r.Error.Code, r.Error.Message)
			}
			return nil
		})
	})
}

// runFastbatch runs call through a fastbatch client with the defaults but
// dedup off (so every call crosses the wire) and reports calls/s and the
// median batch size.
func runFastbatch(b *testing.B, url string, call func(c *fastbatch.Client, ctx context.Context, p *queryParams) error) {
	pool := newPool(b)
	defer pool.Close()
	c, err := fastbatch.New(fastbatch.Config{Endpoint: url, Dedup: fastbatch.Off}, pool)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(); err != nil {
		b.Fatal(err)
	}
	defer c.Stop(context.Background())
	runCalls(b, func(ctx context.Context, p *queryParams) error { return call(c, ctx, p) })
	st := c.Stats()
	b.ReportMetric(float64(st.BatchSizeP50), "calls/batch")
}

func newPool(b *testing.B) *fastpool.Pool {
	b.Helper()
	p, err := fastpool.New(fastpool.Config{MaxConns: 1024, MaxConnsPerHost: 1024, HealthCheckInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Start(); err != nil {
		b.Fatal(err)
	}
	return p
}

// runCalls runs call from parallel callers, one call per b.N, and reports
// calls/s.
func runCalls(b *testing.B, call func(ctx context.Context, p *queryParams) error) {
	var next atomic.Int64
	var failed atomic.Value
	b.ReportAllocs()
	b.SetParallelism(e2eParallelism)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := call(ctx, e2eParams(next.Add(1))); err != nil {
				failed.Store(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
}
