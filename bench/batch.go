package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/batchring/batchring/fastbatch"
	"github.com/batchring/batchring/fastpool"
)

// BatchConfig configures a BatchCaller. The zero value needs only URL; the
// batching fields default to fastbatch's defaults.
type BatchConfig struct {
	// URL is the JSON-RPC endpoint, e.g. "http://127.0.0.1:26660/v3".
	// Required.
	URL string
	// Connections caps the keep-alive connections to the target. Default 16.
	Connections int
	// BatchSize is the most calls per HTTP request (fastbatch MaxBatchSize).
	// Default fastbatch.DefaultMaxBatchSize.
	BatchSize int
	// MaxWait is how long the oldest queued call waits for its batch to fill
	// (fastbatch MaxWait). Default fastbatch.DefaultMaxWait.
	MaxWait time.Duration
	// InFlight bounds the batches in flight (fastbatch
	// MaxConcurrentBatches). Default fastbatch.DefaultMaxConcurrentBatches.
	InFlight int
	// Timeout bounds one HTTP request. Default 10s.
	Timeout time.Duration
	// Retries is how many times fastpool re-sends a failed request and
	// fastbatch a failed batch. Default 0 (none), as for SingleCaller, so both
	// modes report what the server did.
	Retries int
	// Dedup lets fastbatch share one wire call among identical read calls in
	// flight. Default false: a load generator wants the server to answer
	// every call it counts (a mix of a dozen distinct calls from a thousand
	// workers would otherwise reach the server a few dozen times).
	Dedup bool
}

// Validate reports the first field out of range.
func (c BatchConfig) Validate() error {
	switch {
	case c.URL == "":
		return ErrNoURL
	case c.Connections < 0 || c.Connections > 100_000:
		return fmt.Errorf("%w: Connections %d: want 0 (default 16) up to 100000", ErrBadConfig, c.Connections)
	case c.BatchSize < 0:
		return fmt.Errorf("%w: BatchSize %d: want ≥ 0", ErrBadConfig, c.BatchSize)
	case c.MaxWait < 0:
		return fmt.Errorf("%w: MaxWait %v: want ≥ 0", ErrBadConfig, c.MaxWait)
	case c.InFlight < 0:
		return fmt.Errorf("%w: InFlight %d: want ≥ 0", ErrBadConfig, c.InFlight)
	case c.Timeout < 0:
		return fmt.Errorf("%w: Timeout %v: want ≥ 0", ErrBadConfig, c.Timeout)
	case c.Retries < 0 || c.Retries > 100:
		return fmt.Errorf("%w: Retries %d: want 0 up to 100", ErrBadConfig, c.Retries)
	}
	return nil
}

// BatchCaller sends calls through a fastbatch.Client, which packs the calls
// of concurrent workers into JSON-RPC batch requests. Each op's Priority is
// its fastbatch band. It is safe for concurrent use; Close it when done.
type BatchCaller struct {
	client *fastbatch.Client
	pool   *fastpool.Pool
}

// NewBatchCaller builds and starts a fastbatch client with its own pool.
func NewBatchCaller(cfg BatchConfig) (*BatchCaller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pool, retries, err := newCallerPool(cfg.Connections, cfg.Timeout, cfg.Retries)
	if err != nil {
		return nil, fmt.Errorf("bench: batch caller: %w", err)
	}
	dedup := fastbatch.Off
	if cfg.Dedup {
		dedup = fastbatch.On
	}
	client, err := fastbatch.New(fastbatch.Config{
		Endpoint:             cfg.URL,
		Dedup:                dedup,
		MaxBatchSize:         cfg.BatchSize,
		MaxWait:              cfg.MaxWait,
		MaxConcurrentBatches: cfg.InFlight,
		MaxRetries:           retries,
	}, pool)
	if err != nil {
		_ = pool.Close()
		return nil, fmt.Errorf("bench: batch caller: %w", err)
	}
	if err := client.Start(); err != nil {
		_ = pool.Close()
		return nil, fmt.Errorf("bench: batch caller: %w", err)
	}
	return &BatchCaller{client: client, pool: pool}, nil
}

// Call submits op and waits for its answer. It returns nil for a result, the
// server's *codec.Error, or fastbatch's error for the call.
//
// The answer itself is not kept: fastbatch's Call with a nil result reads it
// into a pooled buffer, so a load generator firing hundreds of thousands of
// calls per second does not make a garbage copy of every answer, and an op
// of a Workload (params boxed once) costs no allocation at all.
func (c *BatchCaller) Call(ctx context.Context, op *Op) error {
	var params any
	switch {
	case op.memo != nil:
		params = op.memo.params
	case op.Params != nil:
		params = json.RawMessage(op.Params)
	}
	return c.client.Call(ctx, op.Method, params, nil, fastbatch.WithPriority(op.Priority))
}

// Requests returns the HTTP requests (batches) sent so far.
func (c *BatchCaller) Requests() int64 { return int64(c.client.Stats().BatchesSent) }

// Stats returns the fastbatch client's counters.
func (c *BatchCaller) Stats() fastbatch.Stats { return c.client.Stats() }

// Close stops the client (waiting up to 10 s for calls in flight) and closes
// its pool.
func (c *BatchCaller) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.client.Stop(ctx)
	if perr := c.pool.Close(); err == nil {
		err = perr
	}
	return err
}
