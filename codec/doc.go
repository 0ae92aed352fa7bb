// Package codec will hold the JSON-RPC 2.0 wire format: append-style request
// and batch encoding with sonic, batch response decoding that survives real
// servers, typed error objects, and bounded gzip/zstd.
//
// Not implemented yet (issue 4).
package codec
