package codec_test

import (
	"errors"
	"fmt"

	"github.com/batchring/batchring/codec"
)

func ExampleEncodeParams() {
	params, err := codec.EncodeParams(map[string]any{
		"scope": "acc://example.acme/tokens",
		"query": map[string]any{"queryType": "default"},
	})
	fmt.Println(string(params), err)
	// Output: {"query":{"queryType":"default"},"scope":"acc://example.acme/tokens"} <nil>
}

func ExampleAppendBatchRequest() {
	params, _ := codec.EncodeParams(map[string]string{"scope": "acc://example.acme"})
	buf := make([]byte, 0, 512) // reuse it batch after batch
	buf = codec.AppendBatchStart(buf[:0])
	buf = codec.AppendBatchRequest(buf, 1, "query", params)
	buf = codec.AppendBatchRequest(buf, 2, "node-info", nil)
	buf = codec.AppendBatchEnd(buf)
	fmt.Println(string(buf))
	// Output: [{"jsonrpc":"2.0","id":1,"method":"query","params":{"scope":"acc://example.acme"}},{"jsonrpc":"2.0","id":2,"method":"node-info"}]
}

func ExampleDecodeBatch() {
	body := []byte(`[
		{"jsonrpc":"2.0","id":2,"error":{"code":-33404,"message":"acc://missing.acme not found"}},
		{"jsonrpc":"2.0","id":1,"result":{"balance":"1000"}},
		{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}
	]`)
	err := codec.DecodeBatch(body, func(id uint64, result []byte, rpcErr *codec.Error) {
		if rpcErr != nil {
			status, _ := codec.ProtocolStatus(rpcErr.Code)
			fmt.Printf("call %d failed: %v (protocol status %d)\n", id, rpcErr, status)
			return
		}
		fmt.Printf("call %d: %s\n", id, result) // result aliases body
	})
	var unmatched *codec.UnmatchedError
	if errors.As(err, &unmatched) {
		fmt.Println("fail the unanswered calls with:", unmatched.Errors[0])
	}
	// Output:
	// call 2 failed: jsonrpc error -33404: acc://missing.acme not found (protocol status 404)
	// call 1: {"balance":"1000"}
	// fail the unanswered calls with: jsonrpc error -32600: Invalid Request
}

func ExampleBatchRejectedError() {
	body := []byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch too large"}}`)
	err := codec.DecodeBatch(body, func(uint64, []byte, *codec.Error) {})
	var rejected *codec.BatchRejectedError
	if errors.As(err, &rejected) {
		fmt.Println(rejected.Err.Code, rejected.Err.Message)
		fmt.Println("safe to split and re-send:", codec.NeverExecuted(rejected.Err.Code))
	}
	// Output:
	// -32600 batch too large
	// safe to split and re-send: true
}

func ExampleDecompress() {
	body := []byte(`[{"jsonrpc":"2.0","id":1,"result":"ok"}]`)
	compressed, _ := codec.Compress(nil, body, codec.EncodingZstd)
	plain, err := codec.Decompress(nil, compressed, codec.EncodingZstd, 1<<20)
	fmt.Println(string(plain), err)
	_, err = codec.Decompress(nil, compressed, codec.EncodingZstd, 10)
	fmt.Println(errors.Is(err, codec.ErrTooLarge))
	// Output:
	// [{"jsonrpc":"2.0","id":1,"result":"ok"}] <nil>
	// true
}
