//go:build !race

package fastpool

import (
	"context"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestDoAllocatesNothing checks the hot path: a keep-alive POST through Do,
// with and without a request option, allocates nothing in steady state
// (the in-process fasthttp server's allocations are counted too), also with
// a cancellable context carrying a deadline.
func TestDoAllocatesNothing(t *testing.T) {
	srv := startFast(t, func(ctx *fasthttp.RequestCtx) { ctx.SetBody(benchAnswer) })
	p := newPool(t, Config{})
	set, err := p.NewEndpointSet(srv.URL + "/v3")
	if err != nil {
		t.Fatal(err)
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI(srv.URL + "/v3")
	req.SetBody(benchBody)
	ctx := context.Background()
	cctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	for name, do := range map[string]func() error{
		"Pool.Do":                   func() error { return p.Do(ctx, req, resp) },
		"Pool.Do WithIdempotent":    func() error { return p.Do(ctx, req, resp, WithIdempotent()) },
		"Pool.Do cancellable ctx":   func() error { return p.Do(cctx, req, resp) },
		"EndpointSet.Do":            func() error { return set.Do(ctx, req, resp) },
		"EndpointSet.Do idempotent": func() error { return set.Do(ctx, req, resp, WithIdempotent()) },
	} {
		allocs := testing.AllocsPerRun(500, func() {
			if err := do(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 0 {
			t.Errorf("%s: %.2f allocs/op, want 0", name, allocs)
		}
	}
}
