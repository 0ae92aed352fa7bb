package fastbatch

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/batchring/batchring/fastpool"
)

// TestHugeRetryAfterDoesNotParkACallerWithoutDeadline: a server answering
// 503 with a Retry-After far beyond MaxRetryBackoff must not hold a caller
// that has no deadline (and the dispatch slot) for that long; the caller
// gets the server's failure at once. Before, the retry slept the full hour.
func TestHugeRetryAfterDoesNotParkACallerWithoutDeadline(t *testing.T) {
	d := newMemDoer()
	var sends atomic.Int32
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		if sends.Add(1) == 1 {
			resp.SetStatusCode(503)
			return &fastpool.StatusError{StatusCode: 503, RetryAfter: time.Hour, Method: "POST", Host: "test", Attempts: 1}
		}
		resp.SetBody(answerAll(reqs, nil))
		return nil
	}
	c := startClient(t, Config{MaxRetries: 3, MaxRetryBackoff: 50 * time.Millisecond}, d)
	done := make(chan error, 1)
	go func() {
		_, err := c.Submit(context.Background(), "query", map[string]int{"n": 1})
		done <- err
	}()
	select {
	case err := <-done:
		var se *fastpool.StatusError
		var be *BatchError
		if !errors.As(err, &be) || !errors.As(err, &se) || se.RetryAfter != time.Hour {
			t.Fatalf("got %v, want *BatchError holding the 503 and its Retry-After", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("caller without a deadline still waiting out an hour-long Retry-After")
	}
	if n := sends.Load(); n != 1 {
		t.Fatalf("%d sends, want 1", n)
	}
}
