package peers

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/rpc"

	"github.com/batchring/batchring/bench/devnet"
	"github.com/batchring/batchring/fastbatch"
	"github.com/batchring/batchring/fastpool"
)

// e2eBatch is the batch size both impls use: fastbatch's MaxBatchSize and
// the number of elements per go-ethereum BatchCallContext.
const e2eBatch = 100

// e2eParallelism × GOMAXPROCS callers in both impls.
const e2eParallelism = 256

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
	ps := make([]*queryParams, 1000)
	for i := range ps {
		ps[i] = &queryParams{Scope: fmt.Sprintf("acc://e2e%d.acme/tokens", i), Query: queryInner{QueryType: "default"}}
	}
	return ps
}()

func e2eParams(n int64) *queryParams { return e2eParamSet[n%int64(len(e2eParamSet))] }

// BenchmarkEndToEnd compares fastbatch with go-ethereum's rpc.Client
// batching the same calls (v3 query, one account each) against the same
// bench/devnet on loopback. geth's callers batch explicitly: each collects
// e2eBatch calls and sends them with one BatchCallContext, the best case for
// it (full batches, no waiting for a timer). go-ethereum sends params
// positionally ([{...}]); the devnet reads a one-object array as that
// object, as the Accumulate v2 handler does, so both do the same server
// work. Bar: fastbatch ≥ 2× geth calls/s.
func BenchmarkEndToEnd(b *testing.B) {
	srv, err := devnet.Start(devnet.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	url := srv.URL() + "/v3"

	b.Run("impl=fastbatch", func(b *testing.B) {
		pool, err := fastpool.New(fastpool.Config{MaxConns: 1024, MaxConnsPerHost: 1024, HealthCheckInterval: -1})
		if err != nil {
			b.Fatal(err)
		}
		if err := pool.Start(); err != nil {
			b.Fatal(err)
		}
		defer pool.Close()
		c, err := fastbatch.New(fastbatch.Config{Endpoint: url, MaxBatchSize: e2eBatch, Dedup: fastbatch.Off}, pool)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		defer c.Stop(context.Background())
		var next atomic.Int64
		runE2E(b, func(pb *testing.PB) error {
			ctx := context.Background()
			for pb.Next() {
				if _, err := c.Submit(ctx, "query", e2eParams(next.Add(1))); err != nil {
					return err
				}
			}
			return nil
		})
		b.ReportMetric(float64(c.Stats().BatchSizeP50), "calls/batch")
	})

	b.Run("impl=geth", func(b *testing.B) {
		client, err := rpc.DialOptions(context.Background(), url)
		if err != nil {
			b.Fatal(err)
		}
		defer client.Close()
		var next atomic.Int64
		runE2E(b, func(pb *testing.PB) error {
			ctx := context.Background()
			elems := make([]rpc.BatchElem, 0, e2eBatch)
			results := make([]json.RawMessage, e2eBatch)
			flush := func() error {
				if len(elems) == 0 {
					return nil
				}
				if err := client.BatchCallContext(ctx, elems); err != nil {
					return err
				}
				for _, e := range elems {
					if e.Error != nil {
						return e.Error
					}
				}
				elems = elems[:0]
				return nil
			}
			for pb.Next() {
				i := len(elems)
				results[i] = nil
				elems = append(elems, rpc.BatchElem{Method: "query", Args: []any{e2eParams(next.Add(1))}, Result: &results[i]})
				if len(elems) == e2eBatch {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			return flush()
		})
	})
}

// runE2E runs body on parallel callers and reports calls/s.
func runE2E(b *testing.B, body func(pb *testing.PB) error) {
	var failed atomic.Value
	b.ReportAllocs()
	b.SetParallelism(e2eParallelism)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		if err := body(pb); err != nil {
			failed.Store(err)
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
}
