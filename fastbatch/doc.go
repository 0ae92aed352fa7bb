// Package fastbatch is the batching JSON-RPC 2.0 client: callers on many
// goroutines submit single calls, and the client packs them into batch
// requests, sends them over pooled keep-alive connections (fastpool) and
// hands each caller its own answer.
//
// # Pipeline
//
// Submit, Call and Go encode params on the caller's goroutine
// (codec.AppendParams, map keys sorted) into a buffer the call owns and
// reuses from a pool, so params may be reused once they return, and publish
// the call into the ring of its priority band (WithPriority, clamped into
// [0, Bands-1]). One assembler goroutine drains the bands, highest first,
// into a batch and sends it when it holds MaxBatchSize calls or
// MaxBatchBytes, when its oldest call has
// waited MaxWait, or — with EagerFlush, the default — as soon as a dispatch
// slot is idle: an idle client adds no delay and batches grow only while the
// server is the bottleneck. At most MaxConcurrentBatches batches are in
// flight. Under saturation higher bands go first; a call older than
// AgingLimit goes into the next batch whatever its band, so no band starves.
// Wire ids are batch-local (base+index), so answers are matched in O(1).
//
// # Guarantees
//
//   - Every call ends with exactly one outcome: its result, the server's
//     *codec.Error, or a Go error saying what failed (ErrTimeout, which also
//     matches context.DeadlineExceeded; context.Canceled; ErrNotStarted;
//     ErrStopped; ErrQueueFull with FailFast; *NoResponseError; *BatchError;
//     codec.ErrInvalidParams or the encoder's error for params that cannot
//     be encoded). Nothing is lost, answered twice, or left waiting.
//   - A caller whose context ends returns at once; its late answer is
//     dropped. A call whose context ended before it was sent is not sent.
//   - Dedup (default on, reads only): identical method+params in flight share
//     one wire call; a cancelled caller does not cancel the others.
//   - Retries: the Doer (fastpool) retries transport errors, 5xx and 429
//     (Retry-After) within the caller's deadline; fastbatch adds at most
//     MaxRetries re-sends of a failed batch (default 1) with jittered
//     exponential backoff, also within the callers' deadlines. Writes
//     (Config.IsWrite; by default Accumulate's submit, validate, faucet,
//     execute*) are re-sent only when the batch provably never reached the
//     server, unless marked WithIdempotent.
//   - A batch refused as a whole (a single error object, go-ethereum's
//     one-element "batch too large" answer, HTTP 413) is split in halves and
//     re-sent, and the limit is remembered for the endpoint; a connection
//     dropped on a multi-call batch also splits it (a request timeout
//     does not: it is retried whole). The limit learned is the largest size
//     that got through, and only refusals no single call explains teach
//     one, so one oversized call does not shrink every later batch. A
//     single call still refused fails with the server's own reason. An
//     answer that may as well be one call's own error (a lone -32600
//     without batch-limit wording, a bare error object naming one call)
//     splits only a batch whose calls are all safe to send twice. A single
//     error object that says the client is throttled (-32005 "limit
//     exceeded", or rate-limit wording) is retried whole like a 429, never
//     split; a single -32603 internal error is retried whole like a 5xx
//     and split only if it persists through MaxRetries. Only refusals (-32700, -32600, -32601,
//     batch-limit or throttling errors) prove a batch never ran: after any
//     other single error object, as after a 5xx, the batch's writes fail
//     with a *BatchError and are not sent again; its reads are.
//   - Missing answers fail only their calls; duplicate answers are ignored;
//     a malformed body fails only its batch's calls. An HTTP 400/500 whose
//     body holds JSON-RPC error objects gives each call its *codec.Error.
//   - Stop flushes everything queued, waits for batches in flight, and when
//     its context ends fails the rest with ErrStopped; it returns only when
//     every goroutine of the client is gone.
//
// Result bytes returned to a caller are its own copy. SubmitAppend appends
// them to a buffer the caller passes instead, so a caller that reuses its
// buffer (and boxes its params into an interface once, not per call) makes
// calls without allocating; Call decodes out of reused buffers the same way,
// which skips that copy (the decoder still allocates what it decodes).
//
// # Example
//
//	c, err := fastbatch.New(fastbatch.Config{Endpoint: "http://127.0.0.1:26660/v3"}, nil)
//	if err != nil { ... }
//	if err := c.Start(); err != nil { ... }
//	defer c.Stop(context.Background())
//
//	var status map[string]any
//	err = c.Call(ctx, "network-status", map[string]any{}, &status, fastbatch.WithPriority(3))
//
// JSONRPCClient is the plain client for code that wants one request per Call
// or an explicit Batch.
package fastbatch
