package fastbatch

import (
	"context"
	"testing"
	"time"
)

// TestPublishRacingStopIsNeverStranded replays the interleaving of a Submit
// that passed its lifecycle check just before Stop began and publishes
// while Stop is under way. Its call must either be refused by the ring
// (→ ErrStopped) or be flushed by Stop; it must never land in a ring the
// assembler has already given up on, leaving its caller waiting forever.
func TestPublishRacingStopIsNeverStranded(t *testing.T) {
	c, err := New(Config{Endpoint: testEndpoint}, newMemDoer())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	f := newFuture()
	published := false
	testHookStopRingsClosed = func(c *Client) {
		c.asm.poke()
		time.Sleep(20 * time.Millisecond) // the assembler looks at the client now
		cl := c.newCall(context.Background(), "query", []byte(`{"late":1}`), callOptions{})
		cl.fut = f
		c.counters.add(cl, ctrSubmitted, 1)
		if published = c.bands[0].TryPublish(cl); !published {
			putCall(cl) // what enqueue does: the caller gets ErrStopped
		}
	}
	defer func() { testHookStopRingsClosed = nil }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if !published {
		return
	}
	select {
	case <-f.Done():
	default:
		t.Fatal("a call published during Stop was neither refused nor flushed: its caller would wait forever")
	}
}
