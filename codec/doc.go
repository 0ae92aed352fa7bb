// Package codec is batchring's JSON-RPC 2.0 wire format: append-style
// request and batch encoding, batch response decoding that survives real
// servers, typed error objects with the JSON-RPC and Accumulate error codes,
// and gzip/zstd bodies with a hard decompression limit.
//
// # Encoding
//
// EncodeParams encodes params once, with sorted map keys (generic maps and
// plain structs directly, from a per-type plan for structs, everything else
// with sonic), so equal params give equal bytes
// (the batching client deduplicates on them); AppendParams does the same
// into a caller's buffer;
// pre-encoded []byte and json.RawMessage are validated and passed through.
// AppendRequest appends one request object to a caller-owned buffer;
// AppendBatchStart, AppendBatchRequest and AppendBatchEnd build a batch
// ('[' + requests joined by ',' + ']') without allocating once the buffer has
// grown to size.
//
// # Decoding
//
// DecodeBatch validates a whole response body before it calls back once per
// answered id, so a caller never sees half a batch and then an error. Results
// are raw sub-slices of the body (no re-encoding, valid as long as the body
// is). A single error object answering a whole batch is *BatchRejectedError;
// elements the server could not attribute to an id ("id": null) come back as
// *UnmatchedError after the rest was delivered; broken elements become
// per-element *Error values with CodeInvalidResponse. Malformed bodies wrap
// ErrMalformedResponse. The exact contract is in DecodeBatch's documentation.
//
// # Errors
//
// *Error is a JSON-RPC error object and implements error. NeverExecuted says
// whether a code proves the server did not execute the request (safe to
// re-send a write); ProtocolStatus and friends decode the Accumulate ranges.
//
// # Compression
//
// Compress and Decompress handle identity, gzip and zstd with pooled
// encoders and decoders; Decompress never produces more than the caller's
// limit (ErrTooLarge).
//
// # Concurrency
//
// Every function is safe for concurrent use. Buffers passed in stay owned by
// the caller.
//
// # Example
//
//	params, err := codec.EncodeParams(map[string]any{"scope": "acc://example.acme/tokens"})
//	if err != nil { … }
//	buf = codec.AppendBatchStart(buf[:0]) // buf: a pooled []byte reused batch after batch
//	buf = codec.AppendBatchRequest(buf, 1, "query", params)
//	buf = codec.AppendBatchRequest(buf, 2, "network-status", nil)
//	buf = codec.AppendBatchEnd(buf)
//	// … POST buf, read body …
//	err = codec.DecodeBatch(body, func(id uint64, result []byte, rpcErr *codec.Error) {
//		// match id, then use result (valid while body is) or rpcErr
//	})
package codec
