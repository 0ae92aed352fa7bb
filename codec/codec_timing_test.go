package codec

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/bytedance/sonic/encoder"
)

// Accumulate v3 "query" traffic: the params every request of the benchmark
// batch carries and a token-account record of about 300 bytes as result.
const (
	benchBatchSize = 100
	benchMethod    = "query"
	benchParams    = `{"scope":"acc://example.acme/tokens","query":{"queryType":"default"}}`
)

func benchRecord(id int) string {
	return `{"recordType":"account","account":{"type":"tokenAccount","url":"acc://example.acme/tokens","tokenUrl":"acc://ACME","balance":"` +
		strconv.Itoa(1000000000+id) + `","authorities":[{"url":"acc://example.acme/book"}]},` +
		`"directory":{"recordType":"range","start":0,"total":0},"pending":{"recordType":"range","start":0,"total":0},` +
		`"receipt":{"localBlock":` + strconv.Itoa(190000+id) + `,"localBlockTime":"2026-11-25T04:00:00Z","majorBlock":4012}}`
}

// benchResponseBody is a 100-element batch answer, one token-account record
// per id, in request order.
func benchResponseBody() []byte {
	b := []byte{'['}
	for i := 0; i < benchBatchSize; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"jsonrpc":"2.0","id":%d,"result":%s}`, i+1, benchRecord(i))
	}
	return append(b, ']')
}

type jsonRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      uint64          `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
}

type jsonResponse struct {
	ID     uint64
	Result json.RawMessage
	Error  *Error
}

func BenchmarkEncodeBatch(b *testing.B) {
	params := []byte(benchParams)
	b.Run("impl=codec", func(b *testing.B) {
		buf := make([]byte, 0, 16<<10)
		b.ReportAllocs()
		for b.Loop() {
			buf = AppendBatchStart(buf[:0])
			for i := 0; i < benchBatchSize; i++ {
				buf = AppendBatchRequest(buf, uint64(i+1), benchMethod, params)
			}
			buf = AppendBatchEnd(buf)
		}
		b.SetBytes(int64(len(buf)))
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatchSize), "ns/request")
	})
	b.Run("impl=encoding-json", func(b *testing.B) {
		reqs := make([]jsonRequest, benchBatchSize)
		var n int
		b.ReportAllocs()
		for b.Loop() {
			for i := range reqs {
				reqs[i] = jsonRequest{JSONRPC: "2.0", ID: uint64(i + 1), Method: benchMethod, Params: params}
			}
			out, err := json.Marshal(reqs)
			if err != nil {
				b.Fatal(err)
			}
			n = len(out)
		}
		b.SetBytes(int64(n))
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatchSize), "ns/request")
	})
}

func BenchmarkDecodeBatch(b *testing.B) {
	body := benchResponseBody()
	b.Run("impl=codec", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		var got int
		fn := func(id uint64, result []byte, err *Error) { got += len(result) }
		for b.Loop() {
			if err := DecodeBatch(body, fn); err != nil {
				b.Fatal(err)
			}
		}
		if got == 0 {
			b.Fatal("no results delivered")
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatchSize), "ns/response")
	})
	b.Run("impl=encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		var got int
		for b.Loop() {
			var resps []jsonResponse
			if err := json.Unmarshal(body, &resps); err != nil {
				b.Fatal(err)
			}
			for _, r := range resps {
				got += len(r.Result)
			}
		}
		if got == 0 {
			b.Fatal("no results delivered")
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatchSize), "ns/response")
	})
}

func BenchmarkCompress(b *testing.B) {
	body := benchResponseBody()
	for _, enc := range []string{EncodingGzip, EncodingZstd} {
		b.Run("enc="+enc, func(b *testing.B) {
			var out []byte
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if out, err = Compress(out[:0], body, enc); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(body))/float64(len(out)), "ratio")
		})
	}
}

// BenchmarkEncodeParams is the per-call cost the batching client pays on the
// submitting goroutine: the v3 query params as a map (keys sorted).
func BenchmarkEncodeParams(b *testing.B) {
	params := map[string]any{"scope": "acc://example.acme/tokens", "query": map[string]any{"queryType": "default"}}
	b.Run("impl=codec", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := EncodeParams(params); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=codec-append", func(b *testing.B) {
		buf := make([]byte, 0, 256)
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if buf, err = AppendParams(buf[:0], params); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=encoding-json", benchJSONMarshal(params))
}

type benchQueryInner struct {
	QueryType string `json:"queryType"`
}

type benchQuery struct {
	Scope string          `json:"scope"`
	Query benchQueryInner `json:"query"`
}

// BenchmarkEncodeStructParams is the same params as a struct pointer, the
// other shape callers pass: the type's plan against sonic (what struct
// params went through before) and encoding/json.
func BenchmarkEncodeStructParams(b *testing.B) {
	var params any = &benchQuery{Scope: "acc://example.acme/tokens", Query: benchQueryInner{QueryType: "default"}}
	b.Run("impl=codec-append", func(b *testing.B) {
		buf := make([]byte, 0, 256)
		b.ReportAllocs()
		for b.Loop() {
			buf = buf[:0]
			if err := AppendParamsTo(&buf, params); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=sonic-append", func(b *testing.B) {
		buf := new([]byte)
		*buf = make([]byte, 0, 256)
		b.ReportAllocs()
		for b.Loop() {
			*buf = (*buf)[:0]
			if err := encoder.EncodeInto(buf, params, appendOpts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=encoding-json", benchJSONMarshal(params))
}

// benchJSONMarshal is the encoding/json peer of the params benchmarks.
func benchJSONMarshal(params any) func(*testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(params); err != nil {
				b.Fatal(err)
			}
		}
	}
}
