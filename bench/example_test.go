package bench_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/batchring/batchring/bench"
	"github.com/batchring/batchring/bench/devnet"
)

// An open-loop run at a fixed rate against the stand-in node, with the
// built-in Accumulate read mix.
func Example() {
	node, err := devnet.Start(devnet.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer node.Close()

	load, err := bench.BuiltinMix("v3")
	if err != nil {
		log.Fatal(err)
	}
	caller, err := bench.NewSingleCaller(bench.SingleConfig{URL: node.URL() + "/v3", Connections: 4})
	if err != nil {
		log.Fatal(err)
	}
	defer caller.Close()

	res, err := bench.Run(context.Background(), bench.Config{Label: "single", Rate: 500, Calls: 250}, load, caller)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Loop, res.Calls, res.Errors, res.Latency.Count())
	// Output: open 250 0 250
}

// A JSON-lines workload: one op per line, weights relative to each other.
func ExampleReadWorkload() {
	load, err := bench.ReadWorkload(strings.NewReader(`
# two thirds queries, one third status in a higher band
{"method": "query", "params": {"scope": "acc://dn.acme"}, "weight": 2}
{"method": "network-status", "params": {}, "weight": 1, "priority": 1}
`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(load.Methods(), load.Bands())
	// Output: [query network-status] [0 1]
}

// Any function can be the caller; results from several runs (or machines)
// merge into one.
func ExampleMerge() {
	load, _ := bench.NewWorkload([]bench.Op{{Method: "node-info"}})
	noop := bench.CallerFunc(func(ctx context.Context, op *bench.Op) error { return nil })
	a, _ := bench.Run(context.Background(), bench.Config{Label: "single", Calls: 1000, Workers: 2}, load, noop)
	b, _ := bench.Run(context.Background(), bench.Config{Label: "single", Calls: 3000, Workers: 2}, load, noop)
	m, err := bench.Merge(a, b)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Calls, m.Sources, m.Latency.Count())
	// Output: 4000 2 4000
}

// The target names the network; the URL's path picks the API version.
func ExampleResolveTarget() {
	for _, name := range []string{"local", "kermit", "http://127.0.0.1:8080/v2"} {
		t, err := bench.ResolveTarget(name, "")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(t.URL, t.API, t.Loopback)
	}
	// Output:
	// http://127.0.0.1:26660/v3 v3 true
	// https://kermit.accumulatenetwork.io/v3 v3 false
	// http://127.0.0.1:8080/v2 v2 true
}

// Progress prints a live line on a terminal and plain lines otherwise.
func ExampleProgress() {
	p := &bench.Progress{W: os.Stdout, Every: time.Second}
	p.Tick(bench.Tick{Label: "single", Elapsed: time.Second, Planned: 3 * time.Second, Calls: 1000, Rate: 1000, P99: 2 * time.Millisecond})
	// Output: [single] 1s / 3s, 2s left  1000 calls/s  p99 2.00ms  calls 1000  errors 0
}
