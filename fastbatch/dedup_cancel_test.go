package fastbatch

import (
	"context"
	"errors"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestDedupLeaderCancelledBeforeSendStillServesItsFollowers: the leader's
// caller gives up while the call is still queued; a follower still waits,
// so the call goes out once, on the follower's behalf, and the follower
// gets the answer. (TestDedupIdenticalReadsShareOneWireCall cancels its
// leader only after the send.)
func TestDedupLeaderCancelledBeforeSendStillServesItsFollowers(t *testing.T) {
	for _, useFuture := range []bool{false, true} {
		name := "submit"
		if useFuture {
			name = "future"
		}
		t.Run(name, func(t *testing.T) {
			d := newMemDoer()
			g := newGate()
			defer g.open()
			d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
				if err := g.wait(ctx); err != nil {
					return err
				}
				resp.SetBody(answerAll(reqs, nil))
				return nil
			}
			c := startClient(t, Config{MaxConcurrentBatches: 1}, d)
			busy := c.Go(context.Background(), "query", []byte(`{"busy":1}`))
			<-g.entered // the only dispatch slot is taken: what follows stays queued
			params := []byte(`{"scope":"acc://queued-lead.acme"}`)
			leadCtx, cancelLead := context.WithCancel(context.Background())
			leadDone := make(chan error, 1)
			go func() {
				_, err := c.Submit(leadCtx, "query", params)
				leadDone <- err
			}()
			waitFor(t, func() bool { return c.Stats().RequestsSubmitted == 2 })
			var follower *Future
			followerDone := make(chan error, 1)
			var followerRes []byte
			if useFuture {
				follower = c.Go(context.Background(), "query", params)
			} else {
				go func() {
					res, err := c.Submit(context.Background(), "query", params)
					followerRes = res
					followerDone <- err
				}()
			}
			waitFor(t, func() bool { return c.Stats().DedupHits == 1 })
			cancelLead()
			if err := <-leadDone; !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled leader got %v", err)
			}
			g.open()
			if _, err := busy.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
			var res []byte
			var err error
			if useFuture {
				res, err = follower.Wait(context.Background())
			} else {
				err = <-followerDone
				res = followerRes
			}
			if err != nil || string(res) != string(echoResult("query", params)) {
				t.Fatalf("follower got %s, %v", res, err)
			}
			if got := d.seen("query", string(params)); got != 1 {
				t.Fatalf("wire saw the call %d times, want 1", got)
			}
		})
	}
}
