package devnet

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Sentinel errors. Validate wraps ErrInvalidConfig with the field at fault.
var (
	// ErrInvalidConfig reports a Config or Misbehaviour field out of range.
	ErrInvalidConfig = errors.New("devnet: invalid config")
	// ErrClosed is returned by Close when the server was already closed.
	ErrClosed = errors.New("devnet: server closed")
)

// BatchLimitStyle is how the server refuses a batch with more than
// Misbehaviour.MaxBatchSize elements. Each style copies a real server.
type BatchLimitStyle int

const (
	// LimitWholeBatch answers the whole batch with one JSON-RPC error object
	// instead of an array, as erigon and pathfinder do: erigon's -32000
	// "batch limit N exceeded (can increase by --rpc.batch.limit). Requested
	// batch of size: M", id null.
	LimitWholeBatch BatchLimitStyle = iota
	// LimitGeth answers HTTP 200 with a one-element array holding -32600
	// "batch too large" on the id of the first call that has one, as
	// go-ethereum does.
	LimitGeth
	// LimitHTTP413 answers HTTP 413 Request Entity Too Large.
	LimitHTTP413
	// LimitClose closes the connection without answering.
	LimitClose
)

// String returns the style's flag name.
func (s BatchLimitStyle) String() string {
	switch s {
	case LimitWholeBatch:
		return "whole"
	case LimitGeth:
		return "geth"
	case LimitHTTP413:
		return "413"
	case LimitClose:
		return "close"
	}
	return fmt.Sprintf("BatchLimitStyle(%d)", int(s))
}

// ParseBatchLimitStyle parses the names String returns.
func ParseBatchLimitStyle(s string) (BatchLimitStyle, error) {
	for st := LimitWholeBatch; st <= LimitClose; st++ {
		if st.String() == s {
			return st, nil
		}
	}
	return 0, fmt.Errorf("%w: batch limit style %q (want whole, geth, 413 or close)", ErrInvalidConfig, s)
}

// Misbehaviour is the set of faults the server injects. The zero value
// injects nothing: every field is off at zero. Fractions are probabilities in
// [0, 1] drawn per request (or per batch element where stated) from a
// generator seeded by Config.Seed and the request's sequence number, so the
// same seed and the same request order give the same fault pattern.
// Switch it at runtime with Server.SetMisbehaviour.
type Misbehaviour struct {
	// Latency is added to every JSON-RPC request before it is answered.
	// Default 0.
	Latency time.Duration
	// LatencyPerCall is added per element of the request (1 for a single
	// request). Default 0.
	LatencyPerCall time.Duration
	// LatencyJitter is the sigma of a lognormal factor (median 1) that
	// multiplies Latency+LatencyPerCall×calls. 0 means no jitter; 0.5 gives a
	// p99 about 3.2× the median. Range [0, 4].
	LatencyJitter float64

	// MaxBatchSize is the largest batch accepted; larger batches are refused
	// in BatchLimit style. 0 means no limit.
	MaxBatchSize int
	// BatchLimit is how an oversized batch is refused. Default
	// LimitWholeBatch.
	BatchLimit BatchLimitStyle
	// MaxResponseBytes caps a batch answer as go-ethereum's
	// BatchResponseMaxSize does: once the answer grows past it, every later
	// element is answered -32003 "response too large". 0 means no limit.
	MaxResponseBytes int

	// RateLimitFraction of requests are answered HTTP 429 with a
	// Retry-After header, without being processed. Default 0.
	RateLimitFraction float64
	// RetryAfter is the Retry-After value sent with 429, rounded up to whole
	// seconds (the header's unit). Default 0 sends "Retry-After: 0"; a
	// negative value omits the header, as some providers do.
	RetryAfter time.Duration
	// RateLimitPerSecond admits at most this many JSON-RPC requests per
	// second (a token bucket holding one second's worth); the others are
	// refused like RateLimitFraction's. It depends on timing, so unlike the
	// fractions it is not reproducible from the seed. 0 means no limit.
	RateLimitPerSecond int
	// RateLimitInBody refuses rate-limited requests with HTTP 200 and a
	// single JSON-RPC error object, -32005 "request rate limited" with id
	// null, as some hosted providers do, instead of HTTP 429. Retry-After is
	// still sent. Default false.
	RateLimitInBody bool
	// ServerErrorFraction of requests are answered HTTP 500, 502 or 503
	// (chosen by the seeded generator) without being processed. Default 0.
	ServerErrorFraction float64
	// DropBeforeFraction of requests have their connection closed without
	// being processed: no call takes effect and nothing is answered.
	// (fasthttp has read the request bytes by then; what matters to a client
	// is that the server did nothing with them.) Default 0.
	DropBeforeFraction float64
	// DropAfterFraction of requests are fully processed (they count, writes
	// take effect) and then the connection is closed without an answer.
	// Default 0.
	DropAfterFraction float64

	// ReorderFraction of batch answers are shuffled (seeded). Default 0.
	ReorderFraction float64
	// MissingFraction of batch elements are left out of the answer (drawn
	// per element). A batch never loses all of its answers this way. Default 0.
	MissingFraction float64

	// Compress answers gzip or zstd when the request's Accept-Encoding lists
	// them (zstd preferred), with Content-Encoding set. Default false: answers
	// are sent uncompressed whatever the client accepts.
	Compress bool
	// CompressMinBytes is the smallest answer that is compressed when Compress
	// is on. Default 0: every answer.
	CompressMinBytes int
}

// Validate reports the first field out of range, wrapping ErrInvalidConfig.
func (m *Misbehaviour) Validate() error {
	nonNeg := []struct {
		name string
		v    time.Duration
	}{{"Latency", m.Latency}, {"LatencyPerCall", m.LatencyPerCall}}
	for _, f := range nonNeg {
		if f.v < 0 {
			return fmt.Errorf("%w: %s %v is negative", ErrInvalidConfig, f.name, f.v)
		}
	}
	if math.IsNaN(m.LatencyJitter) || m.LatencyJitter < 0 || m.LatencyJitter > 4 {
		return fmt.Errorf("%w: LatencyJitter %v outside [0, 4]", ErrInvalidConfig, m.LatencyJitter)
	}
	if m.MaxBatchSize < 0 {
		return fmt.Errorf("%w: MaxBatchSize %d is negative", ErrInvalidConfig, m.MaxBatchSize)
	}
	if m.BatchLimit < LimitWholeBatch || m.BatchLimit > LimitClose {
		return fmt.Errorf("%w: BatchLimit %d unknown", ErrInvalidConfig, int(m.BatchLimit))
	}
	if m.MaxResponseBytes < 0 {
		return fmt.Errorf("%w: MaxResponseBytes %d is negative", ErrInvalidConfig, m.MaxResponseBytes)
	}
	if m.RateLimitPerSecond < 0 {
		return fmt.Errorf("%w: RateLimitPerSecond %d is negative", ErrInvalidConfig, m.RateLimitPerSecond)
	}
	if m.CompressMinBytes < 0 {
		return fmt.Errorf("%w: CompressMinBytes %d is negative", ErrInvalidConfig, m.CompressMinBytes)
	}
	fractions := []struct {
		name string
		v    float64
	}{
		{"RateLimitFraction", m.RateLimitFraction},
		{"ServerErrorFraction", m.ServerErrorFraction},
		{"DropBeforeFraction", m.DropBeforeFraction},
		{"DropAfterFraction", m.DropAfterFraction},
		{"ReorderFraction", m.ReorderFraction},
		{"MissingFraction", m.MissingFraction},
	}
	for _, f := range fractions {
		if math.IsNaN(f.v) || f.v < 0 || f.v > 1 {
			return fmt.Errorf("%w: %s %v outside [0, 1]", ErrInvalidConfig, f.name, f.v)
		}
	}
	return nil
}

// Config configures a Server. The zero value serves on a free loopback port
// with no faults.
type Config struct {
	// Addr is the TCP address to listen on. Default "127.0.0.1:0" (a free
	// port; read it back with Server.URL). cmd/devnet defaults to
	// 127.0.0.1:26660, the port the Accumulate tools use for a local devnet.
	Addr string
	// Seed seeds every injected fault. Answers do not depend on it: they are
	// a function of path, method and params only (see Expected). Default 0.
	Seed int64
	// MaxRequestBodyBytes is the largest request body read; larger bodies
	// get HTTP 413, as go-ethereum does past 5 MiB. Default 5 MiB.
	MaxRequestBodyBytes int
	// DecodeRequests makes the server decompress request bodies sent with
	// Content-Encoding gzip or zstd (at most MaxRequestBodyBytes decoded; a
	// corrupt or unknown coding gets HTTP 400). Default false: like the
	// Accumulate node, the body is parsed as sent, so a compressed body is
	// answered -32700.
	DecodeRequests bool
	// CacheEntries bounds the cache of rendered answers (keyed by path,
	// method and params bytes). Default 65536; negative disables caching.
	CacheEntries int

	// Misbehaviour is the initial fault set; zero injects nothing.
	Misbehaviour
}

const (
	defaultAddr         = "127.0.0.1:0"
	defaultMaxBody      = 5 << 20
	defaultCacheEntries = 1 << 16
)

// Validate reports the first field out of range, wrapping ErrInvalidConfig.
func (c *Config) Validate() error {
	if c.MaxRequestBodyBytes < 0 {
		return fmt.Errorf("%w: MaxRequestBodyBytes %d is negative", ErrInvalidConfig, c.MaxRequestBodyBytes)
	}
	return c.Misbehaviour.Validate()
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = defaultAddr
	}
	if c.MaxRequestBodyBytes == 0 {
		c.MaxRequestBodyBytes = defaultMaxBody
	}
	if c.CacheEntries == 0 {
		c.CacheEntries = defaultCacheEntries
	}
	return c
}
