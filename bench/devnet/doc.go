// Package devnet is a local stand-in for an Accumulate node's JSON-RPC API,
// for tests, benchmarks and make run: API v3 at POST /v3, API v2 at POST
// /v2, counters at GET /debug/stats (DELETE resets them).
//
// Tests start it in-process on a free loopback port:
//
//	s, err := devnet.Start(devnet.Config{})
//	if err != nil { … }
//	defer s.Close()
//	resp, err := http.Post(s.URL()+"/v3", "application/json", body)
//
// # Guarantees
//
//   - JSON-RPC 2.0 to the letter: single and batch requests; notifications
//     get no answer (a batch of only notifications gets an empty 200 body);
//     an empty batch and a body that is neither array nor object get one
//     -32600 object; invalid JSON anywhere gets one -32700 object; invalid
//     batch elements get per-element -32600 errors; ids are echoed byte for
//     byte; unknown top-level members make a request invalid, as the
//     Accumulate node's decoder does. Errors are answered with HTTP 200.
//   - Deterministic answers: the answer to a call is a function of path,
//     method and params only (see Expected), with the shapes of the real
//     API and realistic sizes. Unknown accounts get the Accumulate
//     not-found error (-33404 with data); unknown methods -32601; bad params
//     -32602. Rendered answers are cached, so serving costs little more than
//     parsing and copying.
//   - Faults on demand (Misbehaviour): latency with lognormal jitter, batch
//     limits in the erigon, geth, HTTP 413 and close-the-connection styles, a
//     response-size limit (geth's -32003), HTTP 429 with Retry-After (by
//     fraction or a requests-per-second token bucket; or -32005 in a 200
//     body), random 5xx, connection drops before or after processing,
//     reordered batch answers, missing elements, gzip/zstd answers, and Stall
//     to freeze the server. Every random decision comes from Config.Seed and
//     the request's sequence number, so the same seed and request order give
//     the same faults (the per-second rate limit, being about time, is the
//     exception). Switch faults at runtime with SetMisbehaviour or Update.
//   - Counters (Stats, GET /debug/stats) prove what reached the server:
//     requests, calls, batches, a batch-size histogram, calls per method,
//     faults injected by kind, bytes in and out.
//   - Close returns when every connection and goroutine of the server is
//     gone.
package devnet
