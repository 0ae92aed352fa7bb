package fastpool

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestFailoverNeverDuplicatesWrites stops one endpoint mid-traffic while
// callers send non-idempotent requests with unique ids. A write may fail
// (when it may have reached the dying server) but must never be executed
// twice, and every failure must say whether it may have been sent.
func TestFailoverNeverDuplicatesWrites(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	handler := func(ctx *fasthttp.RequestCtx) {
		mu.Lock()
		seen[string(ctx.PostBody())]++
		mu.Unlock()
		ctx.SetBody(ctx.PostBody())
	}
	a, b := startFast(t, handler), startFast(t, handler)
	p := newPool(t, Config{MaxRetries: 5, UnhealthyAfter: 1})
	set, err := p.NewEndpointSet(a.URL, b.URL)
	if err != nil {
		t.Fatal(err)
	}
	const callers, each = 16, 100
	var done atomic.Int64
	go func() {
		for done.Load() < callers*each/3 {
			time.Sleep(time.Millisecond)
		}
		b.Stop()
	}()
	var ok, notSentFail, maybeSentFail atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for i := range each {
				body := fmt.Appendf(nil, `{"method":"submit","id":%d}`, c*each+i)
				_, got, err := doPost(ctx, set, "", body)
				done.Add(1)
				var re *RequestError
				switch {
				case err == nil:
					if string(got) != string(body) {
						t.Errorf("wrong answer %q for %q", got, body)
					}
					ok.Add(1)
				case errors.As(err, &re) && re.MaybeSent:
					maybeSentFail.Add(1)
				case errors.As(err, &re):
					notSentFail.Add(1)
				default:
					t.Errorf("untyped failure: %v", err)
				}
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for id, n := range seen {
		if n > 1 {
			t.Fatalf("write %s executed %d times", id, n)
		}
	}
	if notSentFail.Load() != 0 {
		t.Fatalf("%d writes failed although provably never sent: failover should have re-sent them", notSentFail.Load())
	}
	if ok.Load()+maybeSentFail.Load() != callers*each {
		t.Fatalf("outcomes %d+%d != %d", ok.Load(), maybeSentFail.Load(), callers*each)
	}
	if int64(len(seen)) < ok.Load() {
		t.Fatalf("server executed %d writes, callers saw %d successes", len(seen), ok.Load())
	}
	t.Logf("%d ok, %d ambiguous failures", ok.Load(), maybeSentFail.Load())
}

// TestCloseDuringTraffic closes the pool under 32 looping callers: every
// call ends (nil or an error), and afterwards no connection stays open.
func TestCloseDuringTraffic(t *testing.T) {
	srv := startFast(t, echo)
	p, err := New(Config{MaxConnsPerHost: 4, MaxConns: 4, HealthCheckInterval: time.Millisecond * 5})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var calls, closedErrs atomic.Int64
	for range 32 {
		wg.Go(func() {
			for range 10000 {
				_, _, err := doPost(context.Background(), p, srv.URL, []byte("x"))
				calls.Add(1)
				if errors.Is(err, ErrPoolClosed) {
					closedErrs.Add(1)
					return
				}
				if err != nil {
					t.Errorf("before close: %v", err)
					return
				}
			}
		})
	}
	for calls.Load() < 500 {
		time.Sleep(time.Millisecond)
	}
	_ = p.Close()
	wg.Wait()
	if closedErrs.Load() == 0 {
		t.Fatal("no caller saw ErrPoolClosed: Close came too late to test anything")
	}
	if n := p.ActiveConnections(); n != 0 {
		t.Fatalf("%d connections open after Close and the last call", n)
	}
}
