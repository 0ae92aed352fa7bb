// Package fastbatch will hold the batching JSON-RPC client: one ring per
// priority band, smart batching, bounded parallel dispatch, dedup, retry and
// split; and the plain JSONRPCClient.
//
// Not implemented yet (issue 7).
package fastbatch
