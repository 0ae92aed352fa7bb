package fastbatch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/batchring/batchring/bench/devnet"
	"github.com/batchring/batchring/codec"
	"github.com/batchring/batchring/fastbatch"
)

// A client with the defaults (nil pool: a private fastpool), one Call with a
// priority, then Stop.
func Example() {
	node, _ := devnet.Start(devnet.Config{}) // a local stand-in node
	defer node.Close()

	c, err := fastbatch.New(fastbatch.Config{Endpoint: node.URL() + "/v3"}, nil)
	if err != nil {
		panic(err)
	}
	if err := c.Start(); err != nil {
		panic(err)
	}
	defer c.Stop(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var account struct {
		RecordType string `json:"recordType"`
	}
	params := map[string]any{"scope": "acc://alice.acme/tokens", "query": map[string]string{"queryType": "default"}}
	if err := c.Call(ctx, "query", params, &account, fastbatch.WithPriority(3)); err != nil {
		panic(err)
	}
	fmt.Println(account.RecordType)
	// Output: account
}

// Server errors arrive typed, per call.
func ExampleClient_Submit_notFound() {
	node, _ := devnet.Start(devnet.Config{})
	defer node.Close()
	c, _ := fastbatch.NewLowLatency(node.URL()+"/v3", nil)
	_ = c.Start()
	defer c.Stop(context.Background())

	_, err := c.Submit(context.Background(), "query", map[string]string{"scope": "acc://missing.acme"})
	var rpcErr *codec.Error
	if errors.As(err, &rpcErr) {
		fmt.Println(rpcErr.Code)
	}
	// Output: -33404
}

// SubmitAppend on a hot path: one buffer is reused for every answer, so
// the calls allocate nothing for their results.
func ExampleClient_SubmitAppend() {
	node, _ := devnet.Start(devnet.Config{})
	defer node.Close()
	c, _ := fastbatch.New(fastbatch.Config{Endpoint: node.URL() + "/v3"}, nil)
	_ = c.Start()
	defer c.Stop(context.Background())

	var buf []byte
	for _, scope := range []string{"acc://alice.acme/tokens", "acc://bob.acme/tokens"} {
		var err error
		buf, err = c.SubmitAppend(context.Background(), buf[:0], "query", map[string]string{"scope": scope})
		if err != nil {
			panic(err)
		}
		fmt.Println(bytes.Contains(buf, []byte(scope))) // use buf before the next call reuses it
	}
	// Output:
	// true
	// true
}

// SubmitMany publishes many calls at once; results come back in order.
func ExampleClient_SubmitMany() {
	node, _ := devnet.Start(devnet.Config{})
	defer node.Close()
	c, _ := fastbatch.NewHighThroughput(node.URL()+"/v3", nil)
	_ = c.Start()
	defer c.Stop(context.Background())

	reqs := []fastbatch.Request{
		{Method: "query", Params: map[string]string{"scope": "acc://a.acme"}},
		{Method: "query", Params: map[string]string{"scope": "acc://missing-b.acme"}},
		{Method: "node-info", Params: map[string]any{}},
	}
	results, _ := c.SubmitMany(context.Background(), reqs)
	for i, r := range results {
		fmt.Println(reqs[i].Method, r.Err == nil)
	}
	// Output:
	// query true
	// query false
	// node-info true
}

// Go returns a Future; the context given to Go governs the call.
func ExampleClient_Go() {
	node, _ := devnet.Start(devnet.Config{})
	defer node.Close()
	c, _ := fastbatch.New(fastbatch.Config{Endpoint: node.URL() + "/v3"}, nil)
	_ = c.Start()
	defer c.Stop(context.Background())

	f := c.Go(context.Background(), "network-status", map[string]any{})
	<-f.Done()
	res, err := f.Result()
	fmt.Println(len(res) > 0, err)
	// Output: true <nil>
}

// The plain client: one HTTP request per Batch, results in request order.
func ExampleJSONRPCClient_Batch() {
	node, _ := devnet.Start(devnet.Config{})
	defer node.Close()
	j, _ := fastbatch.NewJSONRPCClient(fastbatch.Config{Endpoint: node.URL() + "/v3"}, nil)
	defer j.Close()

	results, _ := j.Batch(context.Background(), []fastbatch.Request{
		{Method: "node-info", Params: map[string]any{}},
		{Method: "no-such-method"},
	})
	var rpcErr *codec.Error
	fmt.Println(results[0].Err == nil, errors.As(results[1].Err, &rpcErr) && rpcErr.Code == codec.CodeMethodNotFound)
	// Output: true true
}

// Config's zero value works once Endpoint is set; Toggle fields switch off
// default-on features explicitly.
func ExampleConfig() {
	cfg := fastbatch.Config{
		Endpoint:   "http://127.0.0.1:26660/v3",
		EagerFlush: fastbatch.Off, // fill-or-wait: full batch or MaxWait
		MaxWait:    20 * time.Millisecond,
	}
	fmt.Println(cfg.Validate())
	cfg.Bands = 100
	fmt.Println(cfg.Validate())
	// Output:
	// <nil>
	// fastbatch: Config.Bands = 100 out of range [0, 64] (0 means the default)
}
