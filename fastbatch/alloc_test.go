//go:build !race

package fastbatch

import (
	"context"
	"testing"
)

// TestSubmitAllocatesOnlyTheCallersResult: in the steady state a call costs
// one allocation, the result copy the caller owns. Calls, batches, request
// and response objects, buffers and decoder scratch are all reused.
func TestSubmitAllocatesOnlyTheCallersResult(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"dedup on", Config{}},
		{"dedup off", Config{Dedup: Off}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startClient(t, tc.cfg, &instantDoer{})
			var params any = []byte(`{"scope":"acc://alloc.acme/tokens"}`)
			ctx := context.Background()
			submit := func() {
				if _, err := c.Submit(ctx, "query", params); err != nil {
					t.Fatal(err)
				}
			}
			for range 1000 { // warm the pools
				submit()
			}
			if n := testing.AllocsPerRun(2000, submit); n > 1 {
				t.Fatalf("%.2f allocations per Submit, want ≤ 1", n)
			}
		})
	}
}

func TestSubmitAppendWithReusedBufferDoesNotAllocate(t *testing.T) {
	c := startClient(t, Config{}, &instantDoer{})
	var params any = []byte(`{"scope":"acc://alloc.acme/tokens"}`)
	ctx := context.Background()
	buf := make([]byte, 0, 1024)
	submit := func() {
		res, err := c.SubmitAppend(ctx, buf[:0], "query", params)
		if err != nil {
			t.Fatal(err)
		}
		buf = res
	}
	for range 1000 { // warm the pools
		submit()
	}
	if n := testing.AllocsPerRun(2000, submit); n != 0 {
		t.Fatalf("%.2f allocations per SubmitAppend with a reused buffer, want 0", n)
	}
	discard := func() {
		if err := c.Call(ctx, "query", params, nil); err != nil {
			t.Fatal(err)
		}
	}
	for range 1000 {
		discard()
	}
	if n := testing.AllocsPerRun(2000, discard); n != 0 {
		t.Fatalf("%.2f allocations per Call with a nil result, want 0", n)
	}
}

// TestCallSkipsTheResultCopy: Call decodes out of a pooled buffer, so it
// allocates less than Submit followed by the same decode (the decoder's
// own allocations — sonic copies its input, the decoded string — remain).
func TestCallSkipsTheResultCopy(t *testing.T) {
	c := startClient(t, Config{}, &instantDoer{})
	var params any = []byte(`{"scope":"acc://alloc.acme/tokens"}`)
	ctx := context.Background()
	var v struct {
		RecordType string `json:"recordType"`
		OK         bool   `json:"ok"`
	}
	call := func() {
		if err := c.Call(ctx, "query", params, &v); err != nil {
			t.Fatal(err)
		}
	}
	submit := func() {
		res, err := c.Submit(ctx, "query", params)
		if err != nil {
			t.Fatal(err)
		}
		if err := unmarshalResult(res, &v); err != nil {
			t.Fatal(err)
		}
	}
	for range 1000 {
		call()
		submit()
	}
	nc, ns := testing.AllocsPerRun(2000, call), testing.AllocsPerRun(2000, submit)
	if nc >= ns {
		t.Fatalf("Call: %.2f allocations, Submit+decode: %.2f; want Call to skip the result copy", nc, ns)
	}
	if v.RecordType != "account" || !v.OK {
		t.Fatalf("decoded %+v", v)
	}
}

// TestFutureAllocations documents Go's cost: the Future (with its channel)
// and the result copy.
func TestFutureAllocations(t *testing.T) {
	c := startClient(t, Config{}, &instantDoer{})
	var params any = []byte(`{"scope":"acc://alloc.acme/tokens"}`)
	ctx := context.Background()
	run := func() {
		if _, err := c.Go(ctx, "query", params).Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for range 1000 {
		run()
	}
	if n := testing.AllocsPerRun(2000, run); n > 3 {
		t.Fatalf("%.2f allocations per Go+Wait, want ≤ 3", n)
	}
}
