package fastbatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/batchring/batchring/codec"
)

func TestSubmitAppendAppendsToTheCallersBuffer(t *testing.T) {
	c := startClient(t, Config{}, newMemDoer())
	ctx := context.Background()
	dst := make([]byte, 0, 256)
	dst = append(dst, "prefix:"...)
	res, err := c.SubmitAppend(ctx, dst, "query", map[string]string{"scope": "acc://a.acme"})
	if err != nil {
		t.Fatal(err)
	}
	want := "prefix:" + string(echoResult("query", []byte(`{"scope":"acc://a.acme"}`)))
	if string(res) != want {
		t.Fatalf("got %s, want %s", res, want)
	}
	if &res[0] != &dst[:1][0] {
		t.Fatal("the result did not go into dst although dst had room")
	}
	// A buffer without room grows as append does.
	res, err = c.SubmitAppend(ctx, nil, "query", map[string]string{"scope": "acc://b.acme"})
	if err != nil || string(res) != string(echoResult("query", []byte(`{"scope":"acc://b.acme"}`))) {
		t.Fatalf("nil dst: %s, %v", res, err)
	}
}

func TestSubmitAppendReturnsDstUnchangedOnFailure(t *testing.T) {
	d := newMemDoer()
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		var b bytes.Buffer
		b.WriteByte('[')
		for i, r := range reqs {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%s,"error":{"code":-33404,"message":"not found"}}`, r.ID)
		}
		b.WriteByte(']')
		resp.SetBody(b.Bytes())
		return nil
	}
	c := startClient(t, Config{}, d)
	dst := append(make([]byte, 0, 64), "keep"...)
	res, err := c.SubmitAppend(context.Background(), dst, "query", map[string]string{"scope": "acc://missing"})
	var rpcErr *codec.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != -33404 {
		t.Fatalf("got %v, want *codec.Error -33404", err)
	}
	if string(res) != "keep" || &res[0] != &dst[0] {
		t.Fatalf("dst changed on failure: %q", res)
	}
}

// Followers of one wire call each get the answer in their own buffer.
func TestSubmitAppendDedupFollowersEachGetTheirOwnBuffer(t *testing.T) {
	d, g := newGatedDoer()
	c := startClient(t, Config{}, d)
	params := map[string]string{"scope": "acc://dedup-append.acme"}
	want := string(echoResult("query", []byte(`{"scope":"acc://dedup-append.acme"}`)))
	const n = 8
	lead := c.Go(context.Background(), "query", params)
	<-g.entered
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			prefix := fmt.Sprintf("caller%d:", i)
			dst := append(make([]byte, 0, 256), prefix...)
			res, err := c.SubmitAppend(context.Background(), dst, "query", params)
			switch {
			case err != nil:
				errs[i] = err
			case string(res) != prefix+want:
				errs[i] = fmt.Errorf("got %s", res)
			case &res[0] != &dst[0]:
				errs[i] = errors.New("the answer did not go into the caller's buffer")
			}
		})
	}
	waitFor(t, func() bool { return c.Stats().DedupHits == n })
	g.open()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("follower %d: %v", i, err)
		}
	}
	if _, err := lead.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := d.seen("query", `{"scope":"acc://dedup-append.acme"}`); got != 1 {
		t.Fatalf("wire saw the call %d times, want 1", got)
	}
}

// A caller that gave up owns its buffer again at once: the late answer is
// dropped, never written into it (under -race, a late write would also be
// reported as a race with the writes below).
func TestSubmitAppendAbandonedBufferIsNeverWritten(t *testing.T) {
	d, g := newGatedDoer()
	c := startClient(t, Config{}, d)
	ctx, cancel := context.WithCancel(context.Background())
	dst := make([]byte, 0, 4096)
	done := make(chan error, 1)
	go func() {
		_, err := c.SubmitAppend(ctx, dst, "query", map[string]string{"scope": "acc://gone.acme"})
		done <- err
	}()
	<-g.entered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	full := dst[:cap(dst)]
	for i := range full {
		full[i] = 'X'
	}
	g.open()
	if err := c.WaitForCompletion(context.Background()); err != nil {
		t.Fatal(err)
	}
	if i := bytes.IndexFunc(full, func(r rune) bool { return r != 'X' }); i >= 0 {
		t.Fatalf("the abandoned buffer was written at %d: %q", i, full[i:min(i+40, len(full))])
	}
}

// Call decodes out of reused buffers: every value it decoded must still
// hold its own call's answer after many later calls reused the buffer.
// sonic's standard config copies its input first, so this guards against a
// decoder (or config) that would let decoded values point into the buffer.
func TestCallResultsSurviveBufferReuse(t *testing.T) {
	c := startClient(t, Config{}, newMemDoer())
	type answer struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	const callers, each = 8, 200
	got := make([][]answer, callers)
	gotAny := make([][]any, callers)
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			for i := range each {
				scope := fmt.Sprintf("acc://reuse-%d-%d.acme/%s", g, i, bytes.Repeat([]byte("x"), i))
				var a answer
				if err := c.Call(context.Background(), "query", map[string]string{"scope": scope}, &a); err != nil {
					t.Error(err)
					return
				}
				got[g] = append(got[g], a)
				var v any
				if err := c.Call(context.Background(), "query", map[string]string{"scope": scope}, &v); err != nil {
					t.Error(err)
					return
				}
				gotAny[g] = append(gotAny[g], v)
			}
		})
	}
	wg.Wait()
	for g := range callers {
		for i, a := range got[g] {
			scope := fmt.Sprintf("acc://reuse-%d-%d.acme/%s", g, i, bytes.Repeat([]byte("x"), i))
			want := `{"scope":"` + scope + `"}`
			if a.Method != "query" || string(a.Params) != want {
				t.Fatalf("caller %d call %d: decoded %q %s, want %s", g, i, a.Method, a.Params, want)
			}
			m, _ := gotAny[g][i].(map[string]any)
			p, _ := m["params"].(map[string]any)
			if m["method"] != "query" || p["scope"] != scope {
				t.Fatalf("caller %d call %d: decoded %v, want scope %s", g, i, gotAny[g][i], scope)
			}
		}
	}
}
