package devnet_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/batchring/batchring/bench/devnet"
)

// postJSON posts body and returns the status and answer; keep-alives are off
// so the example leaves no connection behind.
func postJSON(url, body string) (int, string) {
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Start a stand-in node on a free port, send it a batch, and check the
// answer against Expected.
func Example() {
	s, err := devnet.Start(devnet.Config{})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	_, body := postJSON(s.URL()+"/v3", `[
		{"jsonrpc":"2.0","id":1,"method":"query","params":{"scope":"acc://alice.acme/tokens"}},
		{"jsonrpc":"2.0","id":2,"method":"query","params":{"scope":"acc://missing.acme"}}
	]`)
	result, _ := devnet.Expected("/v3", "query", []byte(`{"scope":"acc://alice.acme/tokens"}`))
	_, rpcErr := devnet.Expected("/v3", "query", []byte(`{"scope":"acc://missing.acme"}`))
	fmt.Println(strings.Contains(body, string(result)))
	fmt.Println(rpcErr.Code, rpcErr.Message)
	fmt.Println(s.Stats().Calls)
	// Output:
	// true
	// -33404 acc://missing.acme not found
	// 2
}

// Refuse batches larger than 2 the way go-ethereum does, then switch the
// fault off at runtime.
func ExampleServer_SetMisbehaviour() {
	s, err := devnet.Start(devnet.Config{Misbehaviour: devnet.Misbehaviour{
		MaxBatchSize: 2,
		BatchLimit:   devnet.LimitGeth,
	}})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	batch := `[{"jsonrpc":"2.0","id":7,"method":"version"},{"jsonrpc":"2.0","id":8,"method":"version"},{"jsonrpc":"2.0","id":9,"method":"version"}]`
	_, body := postJSON(s.URL()+"/v2", batch)
	fmt.Println(body)

	_ = s.SetMisbehaviour(devnet.Misbehaviour{})
	_, body = postJSON(s.URL()+"/v2", batch)
	fmt.Println(strings.Count(body, `"result"`))
	// Output:
	// [{"jsonrpc":"2.0","id":7,"error":{"code":-32600,"message":"batch too large"}}]
	// 3
}

// Stall freezes the server: requests that arrive during the stall are
// answered when it ends.
func ExampleServer_Stall() {
	s, err := devnet.Start(devnet.Config{})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	s.Stall(200 * time.Millisecond)
	start := time.Now()
	status, _ := postJSON(s.URL()+"/v3", `{"jsonrpc":"2.0","id":1,"method":"node-info"}`)
	fmt.Println(status, time.Since(start) >= 200*time.Millisecond)
	// Output:
	// 200 true
}

// HTTP 429 with Retry-After on every request.
func ExampleMisbehaviour_rateLimit() {
	s, err := devnet.Start(devnet.Config{Misbehaviour: devnet.Misbehaviour{
		RateLimitFraction: 1,
		RetryAfter:        2 * time.Second,
	}})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	status, _ := postJSON(s.URL()+"/v3", `{"jsonrpc":"2.0","id":1,"method":"node-info"}`)
	fmt.Println(status, s.Stats().Injected[devnet.InjectedRateLimited])
	// Output:
	// 429 1
}
