// Command devnet runs the local stand-in Accumulate node (package
// bench/devnet): JSON-RPC 2.0 API v3 at /v3 and v2 at /v2, counters at GET
// /debug/stats, with faults injected on demand.
//
//	go run ./cmd/devnet                       # 127.0.0.1:26660, no faults
//	go run ./cmd/devnet -max-batch 100 -batch-limit geth -latency 2ms -jitter 0.5
//
// It prints one line with the base URL when it is serving and shuts down
// cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/batchring/batchring/bench/devnet"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "devnet: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		os.Exit(2)
	}
}

// run parses args, starts the server and serves until SIGINT/SIGTERM.
func run(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, stdout)
}

// serve starts the server, prints its URL and closes it when ctx ends.
func serve(ctx context.Context, cfg devnet.Config, stdout io.Writer) error {
	s, err := devnet.Start(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "devnet listening on %s (POST %s/v3, %s/v2; GET %s/debug/stats)\n", s.URL(), s.URL(), s.URL(), s.URL())
	<-ctx.Done()
	return s.Close()
}

func parseFlags(args []string, stderr io.Writer) (devnet.Config, error) {
	var cfg devnet.Config
	fs := flag.NewFlagSet("devnet", flag.ContinueOnError)
	// A bad flag is one line (main prints it); the flag list is printed for
	// -h only, not after every mistake.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:26660", "TCP address to listen on")
	fs.Int64Var(&cfg.Seed, "seed", 0, "seed of every injected fault (answers do not depend on it)")
	fs.IntVar(&cfg.MaxRequestBodyBytes, "max-body", 5<<20, "largest request body in bytes; larger gets HTTP 413")
	fs.BoolVar(&cfg.DecodeRequests, "decode-requests", false, "decompress request bodies sent with Content-Encoding gzip/zstd")
	fs.IntVar(&cfg.CacheEntries, "cache", 1<<16, "rendered-answer cache entries (negative: off)")
	fs.DurationVar(&cfg.Latency, "latency", 0, "latency added to every request")
	fs.DurationVar(&cfg.LatencyPerCall, "latency-per-call", 0, "latency added per call in the request")
	fs.Float64Var(&cfg.LatencyJitter, "jitter", 0, "sigma of the lognormal latency factor (median 1), 0..4")
	fs.IntVar(&cfg.MaxBatchSize, "max-batch", 0, "largest batch accepted (0: no limit)")
	limit := fs.String("batch-limit", "whole", "how an oversized batch is refused: whole (erigon: one error object), geth (one-element array), 413, close")
	fs.IntVar(&cfg.MaxResponseBytes, "max-response", 0, "batch answer size after which elements get -32003 (geth), 0: no limit")
	fs.Float64Var(&cfg.RateLimitFraction, "rate-limit", 0, "fraction of requests answered HTTP 429")
	fs.IntVar(&cfg.RateLimitPerSecond, "rate", 0, "requests admitted per second (token bucket); the rest are rate limited (0: no limit)")
	fs.BoolVar(&cfg.RateLimitInBody, "rate-limit-in-body", false, "refuse rate-limited requests with HTTP 200 and a -32005 error object instead of 429")
	fs.DurationVar(&cfg.RetryAfter, "retry-after", 0, "Retry-After sent with 429 (rounded up to seconds; negative: omit the header)")
	fs.Float64Var(&cfg.ServerErrorFraction, "server-errors", 0, "fraction of requests answered HTTP 500/502/503")
	fs.Float64Var(&cfg.DropBeforeFraction, "drop-before", 0, "fraction of requests whose connection is closed before processing")
	fs.Float64Var(&cfg.DropAfterFraction, "drop-after", 0, "fraction of requests processed and then closed unanswered")
	fs.Float64Var(&cfg.ReorderFraction, "reorder", 0, "fraction of batch answers shuffled")
	fs.Float64Var(&cfg.MissingFraction, "missing", 0, "fraction of batch elements left unanswered")
	fs.BoolVar(&cfg.Compress, "compress", false, "answer gzip/zstd when Accept-Encoding asks")
	fs.IntVar(&cfg.CompressMinBytes, "compress-min", 0, "smallest answer compressed when -compress is on")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "Usage of devnet:")
			fs.SetOutput(stderr)
			fs.PrintDefaults()
		}
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	style, err := devnet.ParseBatchLimitStyle(*limit)
	if err != nil {
		return cfg, err
	}
	cfg.BatchLimit = style
	return cfg, cfg.Validate()
}
