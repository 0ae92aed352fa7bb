// Package devnet will hold a local stand-in for an Accumulate node's JSON-RPC
// API, for tests, benchmarks and make run.
//
// Not implemented yet (issue 6).
package devnet
