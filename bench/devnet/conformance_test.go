package devnet

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestConformance replays the examples of the JSON-RPC 2.0 specification
// (https://www.jsonrpc.org/specification#examples) over real HTTP, with the
// spec's methods replaced by Accumulate ones where an answer matters, and
// compares the answers byte for byte.
func TestConformance(t *testing.T) {
	s := startServer(t, Config{})
	const (
		alice   = `{"scope":"acc://alice.acme"}`
		bob     = `{"scope":"acc://bob.acme/tokens"}`
		missing = `{"scope":"acc://missing.acme"}`
	)
	invalid := func(id string) string {
		return `{"jsonrpc":"2.0","id":` + id + `,"error":{"code":-32600,"message":"Invalid Request"}}`
	}
	notFoundMethod := func(id string) string {
		return `{"jsonrpc":"2.0","id":` + id + `,"error":{"code":-32601,"message":"Method not found"}}`
	}
	const parseError = `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}`
	tests := []struct {
		name string
		body string
		want string // exact body; "" means an empty body
	}{
		{"single call with named params",
			`{"jsonrpc": "2.0", "method": "query", "params": ` + alice + `, "id": 1}`,
			element(t, "1", "/v3", "query", alice)},
		{"single call with string id",
			`{"jsonrpc":"2.0","method":"query","params":` + bob + `,"id":"abc"}`,
			element(t, `"abc"`, "/v3", "query", bob)},
		{"ids echoed byte for byte",
			`[{"jsonrpc":"2.0","method":"node-info","id":1.50e+3},{"jsonrpc":"2.0","method":"node-info","id":"a\"b\u00e9"},{"jsonrpc":"2.0","method":"node-info","id":-0},{"jsonrpc":"2.0","method":"node-info","id":null},{"jsonrpc":"2.0","method":"node-info","id":18446744073709551616}]`,
			"[" + element(t, "1.50e+3", "/v3", "node-info", "") + "," + element(t, `"a\"b\u00e9"`, "/v3", "node-info", "") + "," +
				element(t, "-0", "/v3", "node-info", "") + "," + element(t, "null", "/v3", "node-info", "") + "," +
				element(t, "18446744073709551616", "/v3", "node-info", "") + "]"},
		{"notification gets nothing",
			`{"jsonrpc": "2.0", "method": "query", "params": ` + alice + `}`, ""},
		{"notification of a missing method gets nothing",
			`{"jsonrpc": "2.0", "method": "foobar"}`, ""},
		{"non-existent method",
			`{"jsonrpc": "2.0", "method": "foobar", "id": "1"}`, notFoundMethod(`"1"`)},
		{"unknown account is the Accumulate not-found error",
			`{"jsonrpc":"2.0","method":"query","params":` + missing + `,"id":7}`,
			`{"jsonrpc":"2.0","id":7,"error":{"code":-33404,"message":"acc://missing.acme not found","data":{"message":"acc://missing.acme not found","code":"notFound","codeID":404}}}`},
		{"bad params",
			`{"jsonrpc":"2.0","method":"query","params":{"scope":42},"id":8}`,
			element(t, "8", "/v3", "query", `{"scope":42}`)},
		{"invalid JSON",
			`{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`, parseError},
		{"invalid request object",
			`{"jsonrpc": "2.0", "method": 1, "params": "bar"}`, invalid("null")},
		{"unknown top-level member refused",
			`{"jsonrpc":"2.0","method":"node-info","id":3,"extra":true}`, invalid("3")},
		{"wrong version refused",
			`{"jsonrpc":"1.0","method":"node-info","id":4}`, invalid("4")},
		{"missing version refused",
			`{"method":"node-info","id":5}`, invalid("5")},
		{"object id refused with null id",
			`{"jsonrpc":"2.0","method":"node-info","id":{"a":1}}`, invalid("null")},
		{"scalar params refused",
			`{"jsonrpc":"2.0","method":"node-info","params":3,"id":6}`, invalid("6")},
		{"batch with invalid JSON",
			`[
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
]`, parseError},
		{"trailing garbage is a parse error",
			`{"jsonrpc":"2.0","method":"node-info","id":1} x`, parseError},
		{"empty body is a parse error", ``, parseError},
		{"empty array", `[]`, invalid("null")},
		{"non-array non-object body", `42`, invalid("null")},
		{"string body", `"hello"`, invalid("null")},
		{"invalid batch but not empty", `[1]`, "[" + invalid("null") + "]"},
		{"invalid batch", `[1,2,3]`, "[" + invalid("null") + "," + invalid("null") + "," + invalid("null") + "]"},
		{"mixed batch",
			`[
        {"jsonrpc": "2.0", "method": "query", "params": ` + alice + `, "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "query", "params": ` + bob + `, "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "network-status", "params": {"partition":"BVN1"}, "id": "9"}
    ]`,
			"[" + element(t, `"1"`, "/v3", "query", alice) + "," + element(t, `"2"`, "/v3", "query", bob) + "," +
				invalid("null") + "," + notFoundMethod(`"5"`) + "," + element(t, `"9"`, "/v3", "network-status", `{"partition":"BVN1"}`) + "]"},
		{"batch of only notifications",
			`[{"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},{"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, s, "/v3", tt.body)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.status != 200 {
				t.Fatalf("status %d, want 200", r.status)
			}
			if got := string(r.body); got != tt.want {
				t.Fatalf("body\n got %s\nwant %s", got, tt.want)
			}
			if tt.want != "" && !json.Valid(r.body) {
				t.Fatalf("answer is not valid JSON: %s", r.body)
			}
			if ct := r.header.Get("Content-Type"); tt.want != "" && !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}
}

func TestPathsAndMethods(t *testing.T) {
	s := startServer(t, Config{})
	if r := post(t, s, "/v4", `{}`); r.status != 404 {
		t.Errorf("POST /v4: status %d, want 404", r.status)
	}
	r := post(t, s, "/v2", `{"jsonrpc":"2.0","id":1,"method":"network-status"}`)
	if want := `{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}`; string(r.body) != want {
		t.Errorf("v3 method on /v2: %s", r.body)
	}
	r = post(t, s, "/v2", `{"jsonrpc":"2.0","id":1,"method":"version"}`)
	if want := element(t, "1", "/v2", "version", ""); string(r.body) != want {
		t.Errorf("v2 version: %s, want %s", r.body, want)
	}
}
