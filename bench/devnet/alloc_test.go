//go:build !race

package devnet

import "testing"

// TestHandlerAllocs: once the answers are cached, answering a 100-call batch
// allocates nothing per request (parse, lookups, rendering into the
// response buffer all reuse memory).
func TestHandlerAllocs(t *testing.T) {
	s, err := newServer(Config{}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	ctx := newBenchCtx(benchBatch(100))
	s.handle(ctx)
	allocs := testing.AllocsPerRun(200, func() {
		ctx.Response.ResetBody()
		s.handle(ctx)
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocs per 100-call batch, want 0", allocs)
	}
	if ctx.Response.StatusCode() != 200 || len(ctx.Response.Body()) < 100*500 {
		t.Fatalf("status %d, %d bytes", ctx.Response.StatusCode(), len(ctx.Response.Body()))
	}
}
