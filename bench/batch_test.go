package bench

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/batchring/batchring/bench/devnet"
)

func TestBatchCallerAgainstDevnet(t *testing.T) {
	s := startDevnet(t, devnet.Misbehaviour{})
	c, err := NewBatchCaller(BatchConfig{URL: s.URL() + "/v3", Connections: 4, BatchSize: 50, MaxWait: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	load, err := BuiltinMix("v3")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Config{Label: "batch", Calls: 4000, Workers: 64, Timeout: 5 * time.Second}, load, c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Calls != 4000 || res.Errors != 0 {
		t.Fatalf("calls %d errors %d %v", res.Calls, res.Errors, res.ErrorsByKind)
	}
	st := s.Stats()
	if res.Requests <= 0 || res.Requests >= res.Calls || res.MeanBatchSize() <= 1 {
		t.Fatalf("requests %d for %d calls: no batching", res.Requests, res.Calls)
	}
	if st.Batches == 0 {
		t.Fatalf("server saw no batch: %+v", st)
	}
	// Dedup is off and nothing is retried: the server answered exactly the
	// calls that were counted, in exactly the requests that were counted.
	if st.Calls != uint64(res.Calls) || st.Requests != uint64(res.Requests) {
		t.Fatalf("server saw %d calls in %d requests; the run counted %d in %d", st.Calls, st.Requests, res.Calls, res.Requests)
	}
	// Two bands in the built-in mix, both served.
	for b, h := range res.Bands {
		if h.Count() == 0 {
			t.Fatalf("band %d got no calls", b)
		}
	}
}

func TestBatchCallerRPCErrorsPerCall(t *testing.T) {
	s := startDevnet(t, devnet.Misbehaviour{})
	c, err := NewBatchCaller(BatchConfig{URL: s.URL() + "/v3"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Call(context.Background(), &Op{Method: "query", Params: []byte(`{"scope":"acc://missing.example"}`)})
	if k := Classify(err).Kind; k != "rpc -33404" {
		t.Fatalf("err %v kind %q", err, k)
	}
	if err := c.Call(context.Background(), &Op{Method: "node-info"}); err != nil {
		t.Fatal(err)
	}
}

func TestBatchCallerConfig(t *testing.T) {
	if _, err := NewBatchCaller(BatchConfig{}); !errors.Is(err, ErrNoURL) {
		t.Fatalf("no URL: %v", err)
	}
	if _, err := NewBatchCaller(BatchConfig{URL: "http://127.0.0.1:1/v3", InFlight: -1}); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("negative in-flight: %v", err)
	}
}
