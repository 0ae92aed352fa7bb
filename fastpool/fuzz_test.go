package fastpool

import (
	"bytes"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// FuzzParseRetryAfter: the header comes from the network; the parser must
// never panic and never return a negative delay.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "120", " 5 ", "0", "-1", "1e9", "99999999999999999999",
		"Wed, 25 Nov 2026 05:00:30 GMT", "Wednesday, 25-Nov-26 05:00:30 GMT", "Wed Nov 25 05:00:30 2026", "", "\x00", "1\r\n"} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 11, 25, 5, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v []byte) {
		if d := parseRetryAfter(v, now); d < 0 {
			t.Fatalf("negative delay %v for %q", d, v)
		}
	})
}

// FuzzFinishBody: response bodies and their Content-Encoding come from the
// network; decoding must never panic, never leave more than the limit in the
// response, and either decode fully (header removed) or fail leaving the
// response as received.
func FuzzFinishBody(f *testing.F) {
	f.Add("gzip", gz(f, []byte(`{"jsonrpc":"2.0","id":1,"result":null}`)), 64)
	f.Add("zstd", zs(f, []byte(`{"jsonrpc":"2.0","id":1,"result":null}`)), 64)
	f.Add("gzip", gz(f, make([]byte, 10000)), 1000)
	f.Add("zstd", zs(f, make([]byte, 10000)), 1000)
	f.Add("GZIP", []byte("\x1f\x8b\x08\x00garbage"), 100)
	f.Add("zstd", []byte("\x28\xb5\x2f\xfdgarbage"), 100)
	f.Add("br", []byte("x"), 10)
	f.Add("identity", []byte("plain"), 10)
	f.Fuzz(func(t *testing.T, enc string, body []byte, limit int) {
		if limit <= 0 || limit > 1<<20 {
			return
		}
		p := &Pool{cfg: Config{MaxResponseBodySize: limit}.withDefaults()}
		var resp fasthttp.Response
		resp.Header.Set(fasthttp.HeaderContentEncoding, enc)
		resp.SetBody(body)
		err := p.finishBody(&resp)
		if err != nil {
			if !bytes.Equal(resp.Body(), body) {
				t.Fatal("failed decode changed the body")
			}
			return
		}
		if ce := resp.Header.ContentEncoding(); len(ce) != 0 && !bytes.EqualFold(bytes.TrimSpace(ce), []byte("identity")) {
			t.Fatalf("Content-Encoding %q left after decoding", ce)
		}
		// Identity bodies are capped on the wire, by readResponse.
		decoded := enc != "" && enc != "identity"
		if decoded && len(resp.Body()) > limit {
			t.Fatalf("decoded %d bytes over the %d limit", len(resp.Body()), limit)
		}
	})
}
