// Package bench is batchring's load-generation engine: it drives a workload
// of JSON-RPC calls against a node through a Caller, measures every call
// with HDR histograms, and reports, saves, merges and plots what it saw.
// cmd/loadgen is its command line; the stand-in node it is tested against is
// bench/devnet.
//
// # Loops
//
// Open loop (Config.Rate > 0): calls are scheduled at fixed intended times,
// start + i/Rate, and each latency is measured from its intended time, as
// wrk2 does. A server that stalls for a second therefore shows a second of
// latency for every call that was due during the stall, even when the
// workers were all blocked and sent those calls late: no coordinated
// omission. Closed loop (Rate 0): Workers callers, each sending its next call
// when the last one is answered — the way to find the most calls/s a server
// gives, and the way a stall hides (only the calls in flight wait).
// Both run for a Duration or a number of Calls, after a WarmUp that is not
// recorded.
//
// # Guarantees
//
//   - Calls are never sent before their intended time: the calls sent since
//     the start never exceed Rate × elapsed. An HTTP 429 pauses every worker
//     until its Retry-After, a -32005 error object (CodeRateLimited) for
//     DefaultRetryAfter (Config.IgnoreRetryAfter turns both off); in
//     open loop the schedule then resumes at Rate where it stopped, rather
//     than sending the calls that fell due during the pause in a burst, and
//     calls are measured from the moved schedule (Result.Paused reports
//     the pause; it is the server's request, not its latency). A Retry-After
//     over MaxRetryAfter ends the run (Result.Stopped).
//   - After a stall of the target, the calls that fell due go out as
//     workers free up, or at twice Rate at most with Config.Paced. Once the
//     schedule's end has long passed, the calls not sent are counted in
//     Result.Unsent and the run ends. Latencies beyond MaxLatency are
//     counted in Result.Clipped.
//   - Every measured call is recorded exactly once, failed calls included,
//     into the overall, per-method, per-priority-band and per-interval
//     histograms (hdrhistogram-go; latencies in µs, 3 significant digits
//     overall). Workers record into a few sharded recorders that are merged
//     at the end.
//   - Errors are counted by kind (Classify): "timeout", "http 429",
//     "http 503", "rpc -33404", "transport", …
//   - Run returns when every call it started has ended and leaves no
//     goroutine behind; a cancelled context stops it early with a partial
//     result.
//   - The engine allocates nothing per call in steady state, and neither does
//     SingleCaller.
//
// # Callers
//
// SingleCaller sends one HTTP request per call through a fastpool.Pool;
// BatchCaller submits calls to a fastbatch.Client, which packs the calls of
// concurrent workers into batch requests. Any func can be a Caller through
// CallerFunc.
//
// # The single-mode decode shortcut
//
// SingleCaller skips one piece of work, the only shortcut the engine takes:
// an op of a Workload always goes out as the same request bytes with the
// same id, and once an answer to it has been fully decoded and validated as
// a success (HTTP 2xx, a JSON-RPC response carrying the op's id, a result and
// no error), that exact body is remembered. A later answer that is byte for
// byte the same, also with HTTP 2xx, is counted as a success without being
// decoded again: decoding the same bytes again cannot give another outcome.
// Anything else is decoded in full — an error object, the same result under
// another id, the remembered body with a non-2xx status, a result that
// changed since (a real node's balances and heights move) — so the shortcut
// cannot hide an error or a misrouted answer. Ops built by hand (not by
// NewWorkload) get a fresh id per call and are always decoded.
//
// # Results
//
// A Result holds counts, rates, errors by kind, the histograms and a
// timeline per interval. WriteReport prints it for people, WriteJSON and
// ReadResult store it (histograms in the standard compressed HdrHistogram
// form), WriteHgrm writes the percentile distribution, WritePlot draws
// latency by percentile and latency and throughput over time (PNG or SVG),
// and Merge adds up results from several machines.
//
// # Example
//
//	load, _ := bench.BuiltinMix("v3")
//	caller, err := bench.NewSingleCaller(bench.SingleConfig{URL: "http://127.0.0.1:26660/v3"})
//	if err != nil { … }
//	defer caller.Close()
//	res, err := bench.Run(ctx, bench.Config{Rate: 1000, Duration: 10 * time.Second}, load, caller)
//	if err != nil { … }
//	bench.WriteReport(os.Stdout, res)
//	bench.SavePlot("latency.png", res)
package bench
