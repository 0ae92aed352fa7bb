package fastpool_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/batchring/batchring/fastpool"
	"github.com/valyala/fasthttp"
)

// node starts a tiny JSON-RPC stand-in on 127.0.0.1 and returns its URL and
// a stop function.
func node() (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/busy" {
			ctx.SetStatusCode(fasthttp.StatusBadRequest)
			ctx.SetBodyString(`{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"invalid request"}}`)
			return
		}
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"jsonrpc":"2.0","id":1,"result":{"version":"v1.4.0"}}`)
	}}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Shutdown() }
}

func Example() {
	base, stop := node()
	defer stop()

	pool, err := fastpool.New(fastpool.HighPerformance())
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := pool.Post(ctx, base+"/v2", []byte(`{"jsonrpc":"2.0","id":1,"method":"version"}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, string(resp.Body))
	// Output: 200 {"jsonrpc":"2.0","id":1,"result":{"version":"v1.4.0"}}
}

// Do is the zero-allocation path: reuse fasthttp requests and responses.
func ExamplePool_Do() {
	base, stop := node()
	defer stop()
	pool, _ := fastpool.New(fastpool.Config{})
	defer pool.Close()

	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.SetRequestURI(base + "/v3")
	req.SetBodyString(`{"jsonrpc":"2.0","id":1,"method":"node-info"}`)

	// A read may be re-sent even if it may have reached the server.
	if err := pool.Do(context.Background(), req, resp, fastpool.WithIdempotent()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode())
	// Output: 200
}

// A non-2xx answer is a *StatusError; the response still holds the body, so
// a JSON-RPC error object can be decoded from it.
func ExampleStatusError() {
	base, stop := node()
	defer stop()
	pool, _ := fastpool.New(fastpool.Config{})
	defer pool.Close()

	resp, err := pool.Post(context.Background(), base+"/busy", []byte(`{}`))
	var se *fastpool.StatusError
	if errors.As(err, &se) {
		fmt.Println(se.StatusCode, string(resp.Body))
	}
	// Output: 400 {"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"invalid request"}}
}

// An endpoint set spreads requests over nodes and fails over when one dies.
func ExamplePool_NewEndpointSet() {
	a, stopA := node()
	defer stopA()
	b, stopB := node()
	defer stopB()
	pool, _ := fastpool.New(fastpool.Config{})
	defer pool.Close()

	set, err := pool.NewEndpointSet(a+"/v3", b+"/v3")
	if err != nil {
		log.Fatal(err)
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetBodyString(`{"jsonrpc":"2.0","id":1,"method":"node-info"}`)
	if err := set.Do(context.Background(), req, resp, fastpool.WithIdempotent()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode(), len(set.URLs()))
	// Output: 200 2
}

func ExampleConfig_Validate() {
	cfg := fastpool.Conservative()
	cfg.MaxConnsPerHost = 80 // more than MaxConns (50)
	fmt.Println(cfg.Validate())
	// Output: fastpool: invalid config: MaxConnsPerHost = 80, must be ≤ MaxConns (50)
}
