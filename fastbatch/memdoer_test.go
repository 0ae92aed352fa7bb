package fastbatch

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/valyala/fasthttp"

	"github.com/batchring/batchring/fastpool"
)

// wireReq is one request element as a test server sees it.
type wireReq struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// echoResult is the deterministic answer of the in-memory servers: the
// call's own method and params, so a test can tell whose answer it got.
func echoResult(method string, params []byte) []byte {
	b := []byte(`{"method":`)
	b = strconv.AppendQuote(b, method)
	if len(params) == 0 {
		params = []byte("null")
	}
	b = append(b, `,"params":`...)
	b = append(b, params...)
	return append(b, '}')
}

// memDoer is an in-memory Doer: it parses each batch and answers through
// handle, counting requests and calls.
type memDoer struct {
	handle func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error

	requests atomic.Int64
	calls    atomic.Int64
	mu       sync.Mutex
	perCall  map[string]int // method+params → times seen on the wire
	sizes    []int
	idem     []bool
}

func newMemDoer() *memDoer {
	return &memDoer{perCall: map[string]int{}}
}

func (d *memDoer) Do(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, opts ...fastpool.RequestOption) error {
	var reqs []wireReq
	if err := json.Unmarshal(req.Body(), &reqs); err != nil {
		resp.SetStatusCode(400)
		resp.SetBodyString(`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}`)
		return nil
	}
	d.requests.Add(1)
	d.calls.Add(int64(len(reqs)))
	d.mu.Lock()
	for _, r := range reqs {
		d.perCall[r.Method+string(r.Params)]++
	}
	d.sizes = append(d.sizes, len(reqs))
	d.idem = append(d.idem, len(opts) > 0)
	d.mu.Unlock()
	resp.SetStatusCode(200)
	if d.handle != nil {
		return d.handle(ctx, reqs, resp)
	}
	resp.SetBody(answerAll(reqs, nil))
	return nil
}

func (d *memDoer) seen(method string, params string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.perCall[method+params]
}

// answerAll renders a response array answering every request with its echo
// result, except those skip reports true for.
func answerAll(reqs []wireReq, skip func(i int, r wireReq) bool) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	first := true
	for i, r := range reqs {
		if skip != nil && skip(i, r) {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(`{"jsonrpc":"2.0","id":`)
		b.Write(r.ID)
		b.WriteString(`,"result":`)
		b.Write(echoResult(r.Method, r.Params))
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.Bytes()
}

// newGatedDoer returns a memDoer that answers every call of a batch once
// g is open, and g; g.entered tells when a batch has reached it.
func newGatedDoer() (*memDoer, *gate) {
	d, g := newMemDoer(), newGate()
	d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
		if err := g.wait(ctx); err != nil {
			return err
		}
		resp.SetBody(answerAll(reqs, nil))
		return nil
	}
	return d, g
}
