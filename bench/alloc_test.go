//go:build !race

package bench

import (
	"context"
	"testing"
	"time"

	"github.com/batchring/batchring/bench/devnet"
)

// TestSingleCallerAllocs pins the allocations of one single call through
// fastpool against the stand-in node.
func TestSingleCallerAllocs(t *testing.T) {
	s := startDevnet(t, devnet.Misbehaviour{})
	c := newSingle(t, s.URL()+"/v3", 1)
	load, err := NewWorkload([]Op{{Method: "node-info", Params: []byte(`{}`)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		op   *Op
	}{
		{"op of a workload", &load.Ops()[0]},
		{"op built by hand", &Op{Method: "node-info", Params: []byte(`{}`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			for i := 0; i < 10; i++ { // warm the pools and the connection
				if err := c.Call(ctx, tc.op); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(500, func() {
				if err := c.Call(ctx, tc.op); err != nil {
					t.Fatal(err)
				}
			})
			if allocs > 0 {
				t.Fatalf("%.2f allocs per single call, want 0", allocs)
			}
		})
	}
}

// TestBatchCallerAllocs: a call of a workload op through the batch caller
// allocates nothing in the steady state (params boxed once per op, the
// answer into a pooled buffer).
func TestBatchCallerAllocs(t *testing.T) {
	s := startDevnet(t, devnet.Misbehaviour{})
	c, err := NewBatchCaller(BatchConfig{URL: s.URL() + "/v3", Connections: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	load, err := NewWorkload([]Op{{Method: "query", Params: []byte(`{"scope":"acc://alloc.acme/tokens","query":{"queryType":"default"}}`)}})
	if err != nil {
		t.Fatal(err)
	}
	op := &load.Ops()[0]
	ctx := context.Background()
	call := func() {
		if err := c.Call(ctx, op); err != nil {
			t.Fatal(err)
		}
	}
	for range 100 { // warm the pools and the connection
		call()
	}
	if allocs := testing.AllocsPerRun(500, call); allocs != 0 {
		t.Fatalf("%.2f allocs per batched call, want 0", allocs)
	}
}

// TestEngineRecordAllocs pins the engine's own steady-state cost: a closed
// loop over a no-op caller allocates nothing per call.
func TestEngineRecordAllocs(t *testing.T) {
	load := testWorkload(t)
	noop := CallerFunc(func(context.Context, *Op) error { return nil })
	r := &run{cfg: Config{Classify: Classify}.withDefaults(), load: load, caller: noop, maxUS: time.Minute.Microseconds()}
	rec := newRecorder(load, r.maxUS)
	op := &load.ops[0]
	var ct callTimeout
	defer ct.stop()
	now := time.Now()
	allocs := testing.AllocsPerRun(1000, func() {
		r.finish(rec, op, 123*time.Microsecond, r.call(context.Background(), &ct, now, op), true)
	})
	if allocs != 0 {
		t.Fatalf("%.2f allocs per recorded call, want 0", allocs)
	}
	// With a timeout, a worker's calls share one context while most of its
	// deadline is left: no allocation per call either.
	r.cfg.Timeout = 10 * time.Second
	allocs = testing.AllocsPerRun(1000, func() {
		r.finish(rec, op, 123*time.Microsecond, r.call(context.Background(), &ct, now, op), true)
	})
	if allocs != 0 {
		t.Fatalf("%.2f allocs per recorded call with a timeout, want 0", allocs)
	}
}
