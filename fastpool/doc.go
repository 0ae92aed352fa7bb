// Package fastpool is a pooled, health-checked, retrying HTTP/1.1 client for
// hot paths: every batch of the batching client (package fastbatch) goes
// through it, and it serves plain REST calls too.
//
// It speaks HTTP with fasthttp's zero-allocation request writer and response
// reader over keep-alive connections it owns: one connection pool per
// scheme+host+port, a per-host limit (MaxConnsPerHost) and a total limit
// across hosts (MaxConns). The pool manages the connections itself rather
// than through fasthttp.HostClient because HostClient's idle-connection
// cleaner sleeps uninterruptibly for MaxIdleConnDuration (a goroutine that
// outlives Close), and because its transport cannot tell a request that
// provably never left from one that may have reached the server, nor stop
// on context cancellation.
//
// # Guarantees
//
//   - Deadlines and cancellation: Do returns when ctx ends, promptly (a
//     deadline exactly, a cancellation within 5 ms), with an error matching
//     ctx.Err(). The attempt runs in the caller's goroutine and is
//     interrupted through its connection's deadline, so nothing writes into
//     req or resp after Do returns. Watching a context costs no allocation
//     and no lock on it for requests that finish within those 5 ms.
//   - Connection waits: a caller that cannot get a connection before its
//     deadline gets an error matching ErrPoolExhausted (and the context's
//     error).
//   - Retries: dial failures, connection-wait timeouts, write failures before
//     any byte left, resets or EOF before a response, 429 (honouring
//     Retry-After in seconds or as an HTTP date), and 502/503/504 are retried
//     with jittered exponential backoff, never past the deadline. A request
//     that may have reached the server (bytes were written) is re-sent only
//     when idempotent: GET, HEAD, PUT, DELETE, OPTIONS, or marked with
//     WithIdempotent. 429 is re-sent for any method (the server refused it
//     without acting on it).
//   - Errors: a non-2xx final status is a *StatusError (status, a short body
//     excerpt, Retry-After) and resp holds the whole response; a transport
//     failure is a *RequestError listing every attempt and whether the
//     request may have reached the server.
//   - Bounded memory: MaxResponseBodySize caps the body on the wire and again
//     after gzip or zstd decoding; a compression bomb fails with
//     ErrBodyTooLarge. The body buffer grows only as bytes arrive (at most
//     64 KiB ahead of them, then 4x what arrived): a server claiming a huge
//     Content-Length or chunk size and sending little costs little. A
//     connection's write buffer starts at 4 KiB and grows to the largest
//     request it carried (up to 256 KiB), so a batch leaves in one write.
//   - Responses are decompressed (gzip, zstd) with Content-Encoding removed.
//   - Health: Start runs a monitor that probes each host, closes expired idle
//     connections and drops hosts unused for MaxIdleTime. Close stops it,
//     closes idle connections and leaves no goroutine behind.
//   - Stats: per-host and total counters, connections, latency p50/p99 and
//     health; the request path takes no pool-wide lock.
//
// An EndpointSet spreads requests over several URLs of one service and
// fails over when one dies. *Pool and *EndpointSet both have the method
//
//	Do(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, opts ...RequestOption) error
//
// so either can back the batching client.
//
// # Example
//
//	pool, err := fastpool.New(fastpool.HighPerformance())
//	if err != nil { ... }
//	defer pool.Close()
//	_ = pool.Start()
//	resp, err := pool.Post(ctx, "http://127.0.0.1:26660/v3", []byte(`{"jsonrpc":"2.0","id":1,"method":"node-info"}`))
package fastpool
