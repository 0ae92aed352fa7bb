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
