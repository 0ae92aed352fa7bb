package fastbatch

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/batchring/batchring/fastpool"
)

// FuzzBatchResponse feeds arbitrary response bodies (with "$0".."$3"
// replaced by the wire ids of the batch's calls, so fuzzed bodies can hit
// real ids) and HTTP statuses to a client holding four calls. Whatever the
// server says, every call must end with exactly one outcome, nothing may
// panic or hang, and a success must carry a result the body actually held.
func FuzzBatchResponse(f *testing.F) {
	for _, seed := range []struct {
		status int
		body   string
	}{
		{200, `[{"jsonrpc":"2.0","id":$0,"result":1},{"jsonrpc":"2.0","id":$1,"result":2},{"jsonrpc":"2.0","id":$2,"result":3},{"jsonrpc":"2.0","id":$3,"result":4}]`},
		{200, `[{"jsonrpc":"2.0","id":$3,"result":"d"},{"jsonrpc":"2.0","id":$0,"result":"a"}]`},
		{200, `[{"jsonrpc":"2.0","id":$0,"result":1},{"jsonrpc":"2.0","id":$0,"result":2}]`},
		{200, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch limit 2 exceeded"}}`},
		{200, `[{"jsonrpc":"2.0","id":$0,"error":{"code":-32600,"message":"batch too large"}}]`},
		{200, `[{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}},{"jsonrpc":"2.0","id":$1,"result":{}}]`},
		{200, `[]`},
		{200, `<html>502 Bad Gateway</html>`},
		{200, `[{"jsonrpc":"2.0","id":$0,"result":1}`},
		{413, `request entity too large`},
		{400, `[{"jsonrpc":"2.0","id":$2,"error":{"code":-32602,"message":"invalid params","data":{"x":1}}}]`},
		{500, `{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"internal error"}}`},
		{503, ``},
		{200, `[{"jsonrpc":"2.0","id":"$1","result":null},{"id":$2,"result":true,"error":{"code":1,"message":"both"}}]`},
	} {
		f.Add(seed.status, seed.body)
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 100 || status > 599 {
			status = 200
		}
		d := newMemDoer()
		d.handle = func(ctx context.Context, reqs []wireReq, resp *fasthttp.Response) error {
			b := body
			for i := 3; i >= 0; i-- {
				id := "null"
				if i < len(reqs) {
					id = string(reqs[i].ID)
				}
				b = strings.ReplaceAll(b, "$"+string(rune('0'+i)), id)
			}
			resp.SetStatusCode(status)
			resp.SetBodyString(b)
			if status/100 != 2 {
				return fuzzStatusError(status)
			}
			return nil
		}
		c, err := New(Config{Endpoint: testEndpoint, EagerFlush: Off, MaxWait: time.Millisecond, MaxRetries: -1}, d)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := c.SubmitMany(ctx, []Request{
			{Method: "query", Params: []byte(`{"n":0}`)},
			{Method: "query", Params: []byte(`{"n":1}`)},
			{Method: "submit", Params: []byte(`{"n":2}`)},
			{Method: "query-tx", Params: []byte(`{"n":3}`)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			switch {
			case r.Err == nil:
				if len(r.Result) == 0 || !strings.Contains(body, string(r.Result)) {
					t.Fatalf("call %d: success %q not in body %q", i, r.Result, body)
				}
			case errors.Is(r.Err, ErrTimeout):
				t.Fatalf("call %d hung until its deadline", i)
			}
		}
		st := c.Stats()
		if st.RequestsSubmitted != 4 || st.RequestsCompleted+st.RequestsFailed != 4 {
			t.Fatalf("outcomes do not balance: %+v", st)
		}
	})
}

func fuzzStatusError(status int) error {
	return &fastpool.StatusError{StatusCode: status, Method: "POST", Host: "fuzz", Attempts: 1}
}
