package devnet

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds are the specification's examples and the edge cases the
// conformance table covers.
var fuzzSeeds = []string{
	`{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}`,
	`{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}`,
	`{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}`,
	`{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`,
	`{"jsonrpc": "2.0", "method": 1, "params": "bar"}`,
	`[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method"]`,
	`[]`, `[1]`, `[1,2,3]`, ``, ` `, `42`, `"x"`, `null`, `{}`, `[{}]`, `[[]]`,
	`[{"jsonrpc":"2.0","method":"query","params":{"scope":"acc://alice.acme"},"id":"1"},{"jsonrpc":"2.0","method":"notify_hello","params":[7]},{"foo":"boo"},{"jsonrpc":"2.0","method":"get_data","id":"9"}]`,
	`{"jsonrpc":"2.0","method":"node-info","id":1.5e+3}`,
	`{"jsonrpc":"2.0","method":"node-info","id":"a\"b\u00e9"}`,
	`{"jsonrpc":"2.0","method":"node-info","id":{"a":1}}`,
	`{"jsonrpc":"2.0","method":"node-info","id":{},"id":2}`,
	`{"jsonrpc":"\u0032.0","m\u0065thod":"node-info","id":1}`,
	`{"jsonrpc":"2.0","method":"node-info","id":1,"extra":null}`,
	`{"jsonrpc":"2.0","method":"query","params":null,"id":-0}`,
	`[{"jsonrpc":"2.0","method":"query","params":{"scope":"acc://x.acme"},"id":1}] x`,
	"\t\n\r [ {\"jsonrpc\":\"2.0\",\"method\":\"x\",\"id\":1} ] \n",
	`{"a":"\ud800"}`, `[1e400]`, `[01]`, `[-]`, `[1.]`, `["\x"]`, "[\"\x01\"]",
}

// oracle is what encoding/json says one element of a request is.
func oracle(elem json.RawMessage) (valid bool, id, method, params []byte) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(elem, &m); err != nil {
		return false, nil, nil, nil
	}
	valid = true
	for k, v := range m {
		switch k {
		case "jsonrpc":
			var s string
			if json.Unmarshal(v, &s) != nil || s != "2.0" {
				valid = false
			}
		case "id":
			switch v[0] {
			case '{', '[', 't', 'f':
				valid = false
			default:
				id = v
			}
		case "method":
			var s string
			if v[0] != '"' || json.Unmarshal(v, &s) != nil {
				valid = false
			}
			method = []byte(s)
		case "params":
			switch v[0] {
			case '{', '[':
				params = v
			case 'n':
			default:
				valid = false
			}
		default:
			valid = false
		}
	}
	if _, ok := m["jsonrpc"]; !ok {
		valid = false
	}
	if _, ok := m["method"]; !ok {
		valid = false
	}
	return valid, id, method, params
}

// FuzzParseRequest checks the request parser against encoding/json: it
// accepts exactly the valid JSON documents (up to its depth bound), splits
// batches into the right elements and reads each element as encoding/json
// does.
func FuzzParseRequest(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		kind, calls := parseRequest(body, nil)
		valid := json.Valid(body)
		if kind == kindParseError {
			if valid && depthOf(body) < maxDepth {
				t.Fatalf("valid JSON refused as a parse error: %q", body)
			}
			return
		}
		if !valid {
			t.Fatalf("invalid JSON accepted as kind %d: %q", kind, body)
		}
		var elems []json.RawMessage
		switch t0 := bytes.TrimLeft(body, " \t\r\n"); t0[0] {
		case '[':
			if err := json.Unmarshal(body, &elems); err != nil {
				t.Fatal(err)
			}
			if len(elems) == 0 && kind != kindInvalid || len(elems) > 0 && kind != kindBatch {
				t.Fatalf("array of %d elements is kind %d", len(elems), kind)
			}
		case '{':
			if kind != kindSingle {
				t.Fatalf("object is kind %d", kind)
			}
			elems = []json.RawMessage{bytes.TrimSpace(body)}
		default:
			if kind != kindInvalid || len(calls) != 0 {
				t.Fatalf("scalar is kind %d with %d calls", kind, len(calls))
			}
			return
		}
		if len(calls) != len(elems) {
			t.Fatalf("%d calls for %d elements", len(calls), len(elems))
		}
		for i, c := range calls {
			valid, id, method, params := oracle(elems[i])
			if c.invalid == valid {
				t.Fatalf("element %d %s: invalid=%v, encoding/json says valid=%v", i, elems[i], c.invalid, valid)
			}
			if !valid {
				continue
			}
			if !utf8.Valid(c.method) {
				// encoding/json turns invalid UTF-8 into U+FFFD; no method
				// has such a name either way, so both mean "not found".
				method = c.method
			}
			if !bytes.Equal(c.id, id) || !bytes.Equal(c.method, method) || !bytes.Equal(c.params, params) {
				t.Fatalf("element %d %s: id %q method %q params %q, want %q %q %q", i, elems[i], c.id, c.method, c.params, id, method, params)
			}
		}
	})
}

// depthOf returns the deepest nesting of arrays and objects in a valid
// JSON document.
func depthOf(b []byte) int {
	d := json.NewDecoder(bytes.NewReader(b))
	depth, deepest := 0, 0
	for {
		tok, err := d.Token()
		if err != nil {
			return deepest
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
			deepest = max(deepest, depth)
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
}

// FuzzHandler feeds bodies through the whole request handler (no network):
// the answer is empty (notifications only) or valid JSON, never a panic, and
// an array answer never has more elements than the request.
func FuzzHandler(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), true)
	}
	s, err := newServer(Config{}.withDefaults())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, v3 bool) {
		ctx := newBenchCtx("")
		if !v3 {
			ctx.Request.SetRequestURI("/v2")
		}
		ctx.Request.SetBody(body)
		s.handle(ctx)
		if ctx.Response.StatusCode() != 200 {
			t.Fatalf("status %d", ctx.Response.StatusCode())
		}
		out := ctx.Response.Body()
		if len(out) == 0 {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("answer is not JSON: %q → %q", body, out)
		}
		if out[0] == '[' {
			var in, got []json.RawMessage
			if err := json.Unmarshal(body, &in); err != nil {
				t.Fatalf("array answer to a non-array request %q", body)
			}
			if err := json.Unmarshal(out, &got); err != nil || len(got) > len(in) {
				t.Fatalf("%d answers to %d elements", len(got), len(in))
			}
		}
	})
}
