//go:build !race

package codec

import "testing"

// Encoding a 100-request batch into a reused buffer allocates nothing.
func TestEncodeBatchDoesNotAllocate(t *testing.T) {
	params := []byte(benchParams)
	buf := make([]byte, 0, 16<<10)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendBatchStart(buf[:0])
		for i := 0; i < benchBatchSize; i++ {
			buf = AppendBatchRequest(buf, uint64(i+1), "query\u00e9\"", params)
		}
		buf = AppendBatchEnd(buf)
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per batch, want 0", allocs)
	}
}

// Decoding a batch of results allocates nothing in steady state, in order
// or shuffled with duplicates (the scratch is pooled).
func TestDecodeBatchDoesNotAllocate(t *testing.T) {
	bodies := map[string][]byte{
		"in order": benchResponseBody(),
		"shuffled with duplicates": []byte(`[{"jsonrpc":"2.0","id":3,"result":{"a":"x\"y"}},{"jsonrpc":"2.0","id":1,"result":1},` +
			`{"jsonrpc":"2.0","id":"3","result":3},{"jsonrpc":"2.0","id":2,"result":[1,2,3]}]`),
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			n := 0
			fn := func(uint64, []byte, *Error) { n++ }
			DecodeBatch(body, fn) // warm the pool
			allocs := testing.AllocsPerRun(100, func() {
				if err := DecodeBatch(body, fn); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Fatalf("%v allocs per decode, want 0", allocs)
			}
			if n == 0 {
				t.Fatal("nothing delivered")
			}
		})
	}
}

// Pooled encoders make steady-state compression cheap in allocations.
func TestCompressAllocations(t *testing.T) {
	body := benchResponseBody()
	for _, enc := range []string{EncodingGzip, EncodingZstd} {
		t.Run(enc, func(t *testing.T) {
			out := make([]byte, 0, len(body))
			out, _ = Compress(out[:0], body, enc)
			allocs := testing.AllocsPerRun(20, func() {
				out, _ = Compress(out[:0], body, enc)
			})
			if allocs > 1 {
				t.Fatalf("%v allocs per Compress, want ≤ 1", allocs)
			}
			dec := make([]byte, 0, len(body))
			allocs = testing.AllocsPerRun(20, func() {
				var err error
				if dec, err = Decompress(dec[:0], out, enc, len(body)); err != nil {
					t.Fatal(err)
				}
			})
			if allocs > 2 {
				t.Fatalf("%v allocs per Decompress, want ≤ 2", allocs)
			}
		})
	}
}

type allocQuery struct {
	QueryType string `json:"queryType"`
}

type allocParams struct {
	Scope string     `json:"scope"`
	Query allocQuery `json:"query"`
}

// Struct params appended into a reused buffer cost at most one allocation
// (inside sonic).
func TestAppendParamsStructAllocations(t *testing.T) {
	p := &allocParams{Scope: "acc://example.acme/tokens", Query: allocQuery{QueryType: "default"}}
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = AppendParams(buf[:0], p); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Fatalf("%v allocs, want ≤ 1", allocs)
	}
	if string(buf) != benchParams {
		t.Fatalf("got %s", buf)
	}
}

// Generic map params: EncodeParams allocates only its result, AppendParams
// into a reused buffer nothing.
func TestGenericParamsAllocations(t *testing.T) {
	params := map[string]any{"scope": "acc://example.acme/tokens", "query": map[string]any{"queryType": "default", "expand": true, "range": []any{1, 2.5}}}
	EncodeParams(params) // warm the scratch pool
	if allocs := testing.AllocsPerRun(100, func() {
		if _, err := EncodeParams(params); err != nil {
			t.Fatal(err)
		}
	}); allocs > 1 {
		t.Fatalf("EncodeParams: %v allocs, want ≤ 1", allocs)
	}
	buf := make([]byte, 0, 512)
	if allocs := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = AppendParams(buf[:0], params); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Fatalf("AppendParams: %v allocs, want 0", allocs)
	}
}

// Struct params with a plan append without allocating, by pointer and by
// value (sonic allocated and churned its 128 KiB state stacks here).
func TestStructParamsDoNotAllocate(t *testing.T) {
	type inner struct {
		QueryType string `json:"queryType"`
	}
	type query struct {
		Scope string `json:"scope"`
		Query inner  `json:"query"`
		Page  *int   `json:"page,omitempty"`
	}
	p := &query{Scope: "acc://example.acme/tokens", Query: inner{QueryType: "default"}}
	var byValue any = *p
	buf := make([]byte, 0, 256)
	for name, v := range map[string]any{"pointer": p, "value": byValue} {
		if err := AppendParamsTo(&buf, v); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			buf = buf[:0]
			if err := AppendParamsTo(&buf, v); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Fatalf("%s: %v allocs per encode, want 0", name, allocs)
		}
	}
}
