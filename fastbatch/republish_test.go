package fastbatch

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// saturate fills band 0 of a client with RingSize 2 and MaxBatchSize 1 and
// one dispatch slot, whose server g holds every request: one call in
// flight, one staged by the assembler and the ring full, 4 futures in all.
// With its one slot busy the assembler waits for a wake-up and stages what
// is in the ring only when it gets one, so saturate gives it one (poke)
// after the second call and waits until that call left the ring: a stale
// wake-up could otherwise stage a call after saturate counted the ring as
// full. It never publishes into a full ring, which would block.
func saturate(t *testing.T, c *Client, g *gate) []*Future {
	t.Helper()
	futs := []*Future{c.Go(context.Background(), "query", map[string]int{"i": 0})}
	waitFor(t, func() bool { return len(g.entered) == 1 })
	futs = append(futs, c.Go(context.Background(), "query", map[string]int{"i": 1}))
	c.asm.poke()
	waitFor(t, func() bool { return c.bands[0].Len() == 0 }) // staged
	for i := 2; i < 2+c.bands[0].Cap(); i++ {
		futs = append(futs, c.Go(context.Background(), "query", map[string]int{"i": i}))
	}
	if n := c.bands[0].Len(); n != c.bands[0].Cap() {
		t.Fatalf("band 0 holds %d calls, want it full (%d)", n, c.bands[0].Cap())
	}
	return futs
}

// TestLeaderTimingOutOnAFullRingDoesNotPublishForItsFollower: with
// QueueFull Block and a full ring, a Submit blocked publishing is a dedup
// leader for a Future that joined it. When the Submit's deadline ends it
// must return at once: the Future's own attempt is published by a
// goroutine of its own once there is room, not by the leader's caller,
// which used to stay blocked until the ring drained. The Future then gets
// its own answer, and Stop leaves no goroutine (goleak in TestMain).
func TestLeaderTimingOutOnAFullRingDoesNotPublishForItsFollower(t *testing.T) {
	d, g := newGatedDoer()
	c := startClient(t, Config{RingSize: 2, Bands: 1, MaxBatchSize: 1, MaxConcurrentBatches: 1}, d)
	defer g.open()
	futs := saturate(t, c, g)

	params := map[string]string{"shared": "yes"}
	// Long enough for the follower to join before it ends, on a loaded
	// machine too.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	leader := make(chan error, 1)
	go func() {
		_, err := c.Submit(ctx, "query", params)
		leader <- err
	}()
	waitFor(t, func() bool { return c.Stats().DedupCacheSize == len(futs)+1 }) // the queued reads lead too
	follower := c.Go(context.Background(), "query", params)
	if st := c.Stats(); st.DedupHits != 1 {
		t.Fatalf("the Future did not follow the blocked leader: %d dedup hits", st.DedupHits)
	}
	select {
	case err := <-leader:
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("leader: %v, want ErrTimeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the leader's Submit is still blocked 5 s after its deadline, publishing for its follower")
	}
	select {
	case <-follower.Done():
		t.Fatalf("the follower resolved while the ring was full: %v", mustErr(follower))
	default:
	}
	if n := c.Stats().PendingRequests; n != int64(len(futs))+1 {
		t.Fatalf("%d calls pending, want the %d queued and the follower", n, len(futs))
	}
	g.open()
	for _, f := range append(futs, follower) {
		if _, err := f.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	res, _ := follower.Result()
	if want := string(echoResult("query", []byte(`{"shared":"yes"}`))); string(res) != want {
		t.Fatalf("follower got %s, want %s", res, want)
	}
}

// TestFollowerHandedBackToItsCallerStaysPending: a Submit follower whose
// leader failed for the leader's own reasons is handed back to its caller
// to send its own call. It stays counted as pending meanwhile, so
// WaitForCompletion cannot return between the hand-back and the new send.
func TestFollowerHandedBackToItsCallerStaysPending(t *testing.T) {
	c := startClient(t, Config{}, newMemDoer())
	for _, hand := range []struct {
		name string
		back func(f *call)
	}{
		{"by a dispatcher", func(f *call) {
			if err := c.resubmitFollower(f); err != nil {
				t.Fatal(err)
			}
		}},
		{"by an unpublished leader", func(f *call) {
			leader := c.newCall(context.Background(), "query", []byte(`{"lead":1}`), callOptions{})
			if c.dedup.joinOrLead(leader) {
				t.Fatal("no leader")
			}
			f.method, f.params = leader.method, leader.params
			if !c.dedup.joinOrLead(f) {
				t.Fatal("follower did not join")
			}
			c.dropLeader(leader)
			putCall(leader)
		}},
	} {
		t.Run(hand.name, func(t *testing.T) {
			f := c.newCall(context.Background(), "query", []byte(`{"f":1}`), callOptions{})
			c.counters.add(f, ctrSubmitted, 1)
			hand.back(f)
			if _, err := f.wait(context.Background()); err != errLeaderLost {
				t.Fatalf("follower got %v, want errLeaderLost", err)
			}
			if n := c.Stats().PendingRequests; n != 1 {
				t.Fatalf("%d pending after the hand-back, want 1 (the follower's caller still waits)", n)
			}
			c.counters.add(nil, ctrFailed, 1) // the test plays the caller giving up
		})
	}
}

// TestFailFastSubmitRacingStopGetsErrStopped: a FailFast Submit that passed
// the running check just before Stop closed the rings finds its ring
// refusing it. That is Stop, not a full queue: it gets ErrStopped, as
// every call Stop refuses does, not ErrQueueFull.
func TestFailFastSubmitRacingStopGetsErrStopped(t *testing.T) {
	c, err := New(Config{Endpoint: testEndpoint, QueueFull: FailFast}, newMemDoer())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	testHookStopRingsClosed = func(c *Client) {
		// The rings are closed and Stop has not left lifeRunning yet. A
		// FailFast Submit never blocks and takes no lock Stop holds, so it
		// runs here, deterministically in that window.
		_, err := c.Submit(context.Background(), "query", nil)
		got <- err
	}
	defer func() { testHookStopRingsClosed = nil }()
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-got; !errors.Is(err, ErrStopped) {
		t.Fatalf("Submit racing Stop: %v, want ErrStopped", err)
	}
}

// TestFollowerThatGaveUpBeforeItsLeaderWasLostIsCounted: a Submit follower
// whose caller's context ended is not sent again when its leader is lost,
// so it must be counted as failed right there; it used to stay pending for
// good and WaitForCompletion never returned.
func TestFollowerThatGaveUpBeforeItsLeaderWasLostIsCounted(t *testing.T) {
	d, g := newGatedDoer()
	c := startClient(t, Config{RingSize: 2, Bands: 1, MaxBatchSize: 1, MaxConcurrentBatches: 1}, d)
	defer g.open()
	futs := saturate(t, c, g)
	params := map[string]string{"shared": "gave-up"}
	leadCtx, cancelLead := context.WithCancel(context.Background())
	leader := make(chan error, 1)
	go func() {
		_, err := c.Submit(leadCtx, "query", params)
		leader <- err
	}()
	waitFor(t, func() bool { return c.Stats().DedupCacheSize == len(futs)+1 })
	folCtx, cancelFol := context.WithCancel(context.Background())
	follower := make(chan error, 1)
	go func() {
		_, err := c.Submit(folCtx, "query", params)
		follower <- err
	}()
	waitFor(t, func() bool { return c.Stats().DedupHits == 1 })
	cancelFol()
	if err := <-follower; !errors.Is(err, context.Canceled) {
		t.Fatalf("follower: %v, want context.Canceled", err)
	}
	cancelLead() // the leader's publish fails: its follower is lost too
	if err := <-leader; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader: %v, want context.Canceled", err)
	}
	g.open()
	for _, f := range futs {
		if _, err := f.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.WaitForCompletion(ctx); err != nil {
		t.Fatalf("WaitForCompletion: %v with %d pending", err, c.Stats().PendingRequests)
	}
}

// TestSubmitManyPublishesHigherBandsFirst: SubmitMany waits for ring room
// band by band; its high-band calls must not wait behind a full low band.
// With band 0 saturated, its band-1 call is published at once and so is the
// next call sent once the server frees the slot.
func TestSubmitManyPublishesHigherBandsFirst(t *testing.T) {
	d, g := newMemDoer(), newGate()
	var mu sync.Mutex
	var order []string
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		mu.Lock()
		order = append(order, string(reqs[0].Params))
		mu.Unlock()
		if err := g.wait(ctx); err != nil {
			return err
		}
		resp.SetBody(answerAll(reqs, nil))
		return nil
	}
	c := startClient(t, Config{RingSize: 2, Bands: 2, MaxBatchSize: 1, MaxConcurrentBatches: 1, Dedup: Off, AgingLimit: time.Minute}, d)
	defer g.open()
	futs := saturate(t, c, g)
	done := make(chan []Result, 1)
	go func() {
		res, _ := c.SubmitMany(context.Background(), []Request{
			{Method: "query", Params: map[string]string{"band": "0"}},
			{Method: "query", Params: map[string]string{"band": "1"}, Priority: 1},
		})
		done <- res
	}()
	waitFor(t, func() bool { return c.Stats().PendingRequests == int64(len(futs))+2 })
	// The band-1 call is in its ring once published (the assembler, its
	// slot busy, does not stage it before a wake-up); a bounded wait, not
	// a fatal one, so that a call staged at once only costs time.
	for deadline := time.Now().Add(2 * time.Second); c.bands[1].Len() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	g.open()
	res := <-done
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("call %d: %v", i, r.Err)
		}
	}
	for _, f := range futs {
		if _, err := f.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) < 2 || order[1] != `{"band":"1"}` {
		t.Fatalf("requests in order %v: the band-1 call was not next after the one in flight", order)
	}
}
