package devnet

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/batchring/batchring/codec"
)

const txID = "acc://0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0@alice.acme/tokens"

// methodCases calls every method the stand-in serves with params that
// succeed; embed is a string the result must contain (the identifying param).
var methodCases = []struct {
	path, method, params, embed string
	minSize, maxSize            int
}{
	{"/v3", "node-info", `{}`, `"network":"DevNet"`, 400, 1000},
	{"/v3", "find-service", `{"network":"DevNet","service":{"type":"query","argument":"BVN1"}}`, "query.bvn1", 200, 1500},
	{"/v3", "consensus-status", `{"partition":"BVN2"}`, `"partitionID":"BVN2"`, 300, 1500},
	{"/v3", "network-status", `{"partition":"BVN1"}`, `"partition":"BVN1"`, 5500, 8000},
	{"/v3", "network-status", `{}`, `"networkName":"DevNet"`, 5500, 8000},
	{"/v3", "list-snapshots", `{"nodeID":"abc"}`, `"recordType":"range"`, 300, 2000},
	{"/v3", "metrics", `{"partition":"BVN0","span":10}`, `"partition":"BVN0"`, 10, 200},
	{"/v3", "query", `{"scope":"acc://alice.acme"}`, `"url":"acc://alice.acme"`, 250, 1000},
	{"/v3", "query", `{"scope":"acc://ACME"}`, `"type":"tokenIssuer"`, 250, 1000},
	{"/v3", "query", `{"scope":"acc://alice.acme/tokens","query":{"queryType":"default"}}`, `"url":"acc://alice.acme/tokens"`, 250, 1000},
	{"/v3", "query", `{"scope":"acc://alice.acme/book/1"}`, `"type":"keyPage"`, 250, 1000},
	{"/v3", "query", `{"scope":"acc://dn.acme"}`, `"url":"acc://dn.acme"`, 250, 1000},
	{"/v3", "query", `{"scope":"acc://bvn-BVN1.acme"}`, `"url":"acc://bvn-BVN1.acme"`, 250, 1000},
	{"/v3", "query", `{"scope":"acc://0123456789abcdef0123456789abcdef0123456789abcdef/ACME"}`, `"type":"tokenAccount"`, 250, 1000},
	{"/v3", "query", `{"scope":"acc://alice.acme","query":{"queryType":"directory"}}`, "acc://alice.acme/sub-0", 100, 2000},
	{"/v3", "query", `{"scope":"acc://alice.acme","query":{"queryType":"chain","name":"main"}}`, `"account":"acc://alice.acme"`, 100, 2000},
	{"/v3", "query", `{"scope":"` + txID + `"}`, `"id":"` + txID + `"`, 3500, 5500},
	{"/v3", "submit", `{"envelope":{"transaction":[{"header":{"principal":"acc://alice.acme/tokens"}}]}}`, "@alice.acme/tokens", 300, 800},
	{"/v3", "validate", `{"envelope":{"transaction":[{"header":{"principal":"acc://bob.acme/tokens"}}]}}`, "@bob.acme/tokens", 300, 800},
	{"/v3", "faucet", `{"account":"acc://0123456789abcdef0123456789abcdef0123456789abcdef/ACME"}`, "@0123456789abcdef0123456789abcdef0123456789abcdef/ACME", 100, 800},
	{"/v2", "status", ``, `"ok":true`, 100, 800},
	{"/v2", "version", `null`, `"type":"version"`, 100, 250},
	{"/v2", "describe", `{}`, `"networkType":"directory"`, 5500, 9000},
	{"/v2", "metrics", `{"metric":"tps","duration":"1h"}`, `"metric":"tps"`, 20, 200},
	{"/v2", "faucet", `{"url":"acc://0123456789abcdef0123456789abcdef0123456789abcdef/ACME"}`, "@0123456789abcdef0123456789abcdef0123456789abcdef/ACME", 200, 800},
	{"/v2", "query", `{"url":"acc://alice.acme/tokens"}`, `"url":"acc://alice.acme/tokens"`, 1800, 3200},
	{"/v2", "query", `[{"url":"acc://alice.acme/tokens"}]`, `"url":"acc://alice.acme/tokens"`, 1800, 3200},
	{"/v2", "query", `{"url":"` + txID + `"}`, `"txid":"` + txID + `"`, 2500, 5000},
	{"/v2", "query-directory", `{"url":"acc://alice.acme","start":5,"count":3}`, "acc://alice.acme/account-7", 50, 800},
	{"/v2", "query-tx", `{"txid":"` + txID + `"}`, `"txid":"` + txID + `"`, 2500, 5000},
	{"/v2", "query-tx", `{"txid":"0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"}`, `"type":"sendTokens"`, 2500, 5000},
	{"/v2", "query-tx-local", `{"txid":"` + txID + `"}`, `"txid":"` + txID + `"`, 2500, 5000},
	{"/v2", "query-tx-history", `{"url":"acc://alice.acme/tokens","count":4}`, `"origin":"acc://alice.acme/tokens"`, 400, 2500},
	{"/v2", "query-data", `{"url":"acc://alice.acme/data","entryHash":"ab"}`, `"entryHash":"ab"`, 100, 1200},
	{"/v2", "query-data-set", `{"url":"acc://alice.acme/data","count":2}`, "@alice.acme/data", 100, 2000},
	{"/v2", "query-key-index", `{"url":"acc://alice.acme","key":"cafe"}`, `"key":"cafe"`, 80, 500},
	{"/v2", "query-minor-blocks", `{"url":"acc://bvn-BVN0.acme","count":3}`, `"url":"acc://bvn-BVN0.acme"`, 100, 1000},
	{"/v2", "query-major-blocks", `{"url":"acc://dn.acme","count":3}`, `"url":"acc://dn.acme"`, 100, 1000},
	{"/v2", "query-synth", `{"source":"acc://bvn-BVN0.acme","destination":"acc://bvn-BVN1.acme","sequenceNumber":4}`, "@bvn-BVN1.acme", 2500, 5000},
	{"/v2", "execute", `{"envelope":{"transaction":[]}}`, `"code":0`, 200, 800},
	{"/v2", "send-tokens", `{"origin":"acc://alice.acme/tokens","payload":{"to":[{"url":"acc://bob.acme/tokens","amount":"1"}]}}`, "@alice.acme/tokens", 200, 800},
	{"/v2", "create-adi", `{"origin":"acc://alice.acme","payload":{"url":"acc://carol.acme"}}`, "@alice.acme", 200, 800},
	{"/v2", "write-data", `{"origin":"acc://alice.acme/data","payload":{"entry":{"data":["00"]}}}`, "@alice.acme/data", 200, 800},
}

// TestExpectedMatchesServer: every method answers over HTTP exactly what
// Expected says, with the identifying param embedded and a realistic size.
func TestExpectedMatchesServer(t *testing.T) {
	s := startServer(t, Config{})
	for _, tc := range methodCases {
		t.Run(tc.path+" "+tc.method+" "+tc.params, func(t *testing.T) {
			res, rpcErr := Expected(tc.path, tc.method, []byte(tc.params))
			if rpcErr != nil {
				t.Fatalf("error %v", rpcErr)
			}
			if !json.Valid(res) {
				t.Fatalf("result is not JSON: %s", res)
			}
			if !strings.Contains(string(res), tc.embed) {
				t.Fatalf("result lacks %s: %.400s", tc.embed, res)
			}
			if len(res) < tc.minSize || len(res) > tc.maxSize {
				t.Fatalf("result is %d bytes, want %d..%d", len(res), tc.minSize, tc.maxSize)
			}
			params := tc.params
			if params == "" {
				params = "null"
			}
			r := post(t, s, tc.path, `{"jsonrpc":"2.0","id":1,"method":"`+tc.method+`","params":`+params+`}`)
			if want := `{"jsonrpc":"2.0","id":1,"result":` + string(res) + `}`; string(r.body) != want {
				t.Fatalf("server answered\n%.300s\nExpected says\n%.300s", r.body, want)
			}
			again, _ := Expected(tc.path, tc.method, []byte(tc.params))
			if string(again) != string(res) {
				t.Fatal("Expected is not deterministic")
			}
		})
	}
}

func TestAnswersDependOnParams(t *testing.T) {
	a, _ := Expected("/v3", "query", []byte(`{"scope":"acc://alice.acme/tokens"}`))
	b, _ := Expected("/v3", "query", []byte(`{"scope":"acc://bob.acme/tokens"}`))
	if string(a) == string(b) {
		t.Fatal("different scopes, same answer")
	}
	// Whitespace and key order do not change an answer, not even the
	// params hash that stands in for a transaction hash.
	x, _ := Expected("/v3", "submit", []byte(`{"envelope":{"a":1,"b":[2,3]}}`))
	y, _ := Expected("/v3", "submit", []byte(` { "envelope" : { "b" : [2, 3], "a" : 1 } } `))
	z, _ := Expected("/v3", "submit", []byte(`{"envelope":{"a":2,"b":[2,3]}}`))
	if string(x) != string(y) {
		t.Fatal("equal params in another layout gave another answer")
	}
	if string(x) == string(z) {
		t.Fatal("different envelopes gave the same transaction hash")
	}
	// The seed does not change answers.
	body := `{"jsonrpc":"2.0","id":1,"method":"query","params":{"scope":"acc://alice.acme"}}`
	r1 := post(t, startServer(t, Config{Seed: 1}), "/v3", body)
	r2 := post(t, startServer(t, Config{Seed: 2}), "/v3", body)
	if string(r1.body) != string(r2.body) {
		t.Fatal("answer depends on the seed")
	}
}

func TestExpectedErrors(t *testing.T) {
	tests := []struct {
		path, method, params string
		code                 int
	}{
		{"/v3", "query", `{"scope":"acc://missing.acme"}`, codec.CodeProtocolNotFound},
		{"/v3", "query", `{"scope":"acc://alice.acme/MISSING-tokens"}`, codec.CodeProtocolNotFound},
		{"/v3", "query", `{"scope":"acc://alice.com"}`, codec.CodeProtocolNotFound},
		{"/v3", "query", `{"scope":"acc://` + strings.Repeat("ab", 32) + `@missing.acme"}`, codec.CodeProtocolNotFound},
		{"/v3", "query", `{"scope":"http://alice.acme"}`, codec.CodeInvalidParams},
		{"/v3", "query", `{"scope":"acc://"}`, codec.CodeInvalidParams},
		{"/v3", "query", `{}`, codec.CodeInvalidParams},
		{"/v3", "query", ``, codec.CodeInvalidParams},
		{"/v3", "query", `[1,2]`, codec.CodeInvalidParams},
		{"/v3", "query", `{"scope":"acc://alice.acme","query":{"queryType":"bogus"}}`, codec.CodeInvalidParams},
		{"/v3", "query", `{"scope":"acc://alice.acme","query":7}`, codec.CodeInvalidParams},
		{"/v3", "submit", `{}`, codec.CodeInvalidParams},
		{"/v3", "faucet", `{"account":"acc://missing.acme/ACME"}`, codec.CodeProtocolNotFound},
		{"/v3", "metrics", `{"span":-1}`, codec.CodeInvalidParams},
		{"/v3", "status", `{}`, codec.CodeMethodNotFound},
		{"/v3", "", `{}`, codec.CodeMethodNotFound},
		{"/v2", "query", `{"url":"acc://nobody-missing.acme"}`, codec.CodeProtocolNotFound},
		{"/v2", "query-tx", `{"txid":"zz"}`, codec.CodeInvalidParams},
		{"/v2", "query-tx", `{"txid":"acc://` + strings.Repeat("ab", 32) + `@missing.acme"}`, codec.CodeProtocolNotFound},
		{"/v2", "query-directory", `{"url":"acc://alice.acme","count":"x"}`, codec.CodeInvalidParams},
		{"/v2", "send-tokens", `{"origin":"acc://missing.acme/tokens","payload":{}}`, codec.CodeProtocolNotFound},
		{"/v2", "send-tokens", `{}`, codec.CodeInvalidParams},
		{"/v2", "node-info", `{}`, codec.CodeMethodNotFound},
		{"/v1", "query", `{}`, codec.CodeMethodNotFound},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.path, " ", tt.method, " ", tt.params), func(t *testing.T) {
			res, err := Expected(tt.path, tt.method, []byte(tt.params))
			if err == nil {
				t.Fatalf("result %.200s, want error %d", res, tt.code)
			}
			if err.Code != tt.code {
				t.Fatalf("code %d (%s), want %d", err.Code, err.Message, tt.code)
			}
			if !errors.Is(err, &codec.Error{Code: tt.code}) {
				t.Fatal("not matched by errors.Is")
			}
			if err.Data != nil && !json.Valid(err.Data) {
				t.Fatalf("data is not JSON: %s", err.Data)
			}
			if tt.code == codec.CodeProtocolNotFound && !strings.Contains(string(err.Data), `"code":"notFound"`) {
				t.Fatalf("not-found data %s", err.Data)
			}
		})
	}
}
