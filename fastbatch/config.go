package fastbatch

import (
	"fmt"
	"math/bits"
	"net/url"
	"strings"
	"time"
)

// Toggle is a switch whose zero value means "the documented default".
//
// Go's zero bool cannot tell "unset" from "off", and two switches of Config
// (EagerFlush, Dedup) default to on. A Toggle keeps the zero Config usable
// and still lets a user turn a default-on feature off explicitly:
//
//	cfg.EagerFlush = fastbatch.Off
type Toggle uint8

const (
	// Unset selects the field's documented default.
	Unset Toggle = iota
	// On turns the feature on.
	On
	// Off turns the feature off.
	Off
)

// enabled resolves t against the field's default.
func (t Toggle) enabled(def bool) bool {
	switch t {
	case On:
		return true
	case Off:
		return false
	default:
		return def
	}
}

// String returns "unset", "on" or "off".
func (t Toggle) String() string {
	switch t {
	case Unset:
		return "unset"
	case On:
		return "on"
	case Off:
		return "off"
	default:
		return fmt.Sprintf("Toggle(%d)", uint8(t))
	}
}

// QueueFullPolicy says what Submit does when its band's ring is full.
type QueueFullPolicy uint8

const (
	// Block waits for room until the caller's context ends (the default).
	Block QueueFullPolicy = iota
	// FailFast returns ErrQueueFull at once.
	FailFast
)

// Defaults of Config; a zero field means the value here.
const (
	// DefaultBands is Config.Bands' default.
	DefaultBands = 4
	// DefaultRingSize is Config.RingSize's default (per band).
	DefaultRingSize = 4096
	// DefaultMaxBatchSize is Config.MaxBatchSize's default.
	DefaultMaxBatchSize = 100
	// DefaultMaxBatchBytes is Config.MaxBatchBytes' default (1 MiB).
	DefaultMaxBatchBytes = 1 << 20
	// DefaultMaxWait is Config.MaxWait's default.
	DefaultMaxWait = 100 * time.Millisecond
	// DefaultMaxConcurrentBatches is Config.MaxConcurrentBatches' default.
	DefaultMaxConcurrentBatches = 10
	// DefaultMaxRetries is Config.MaxRetries' default.
	DefaultMaxRetries = 1
	// DefaultRetryBackoff is Config.RetryBackoff's default.
	DefaultRetryBackoff = 25 * time.Millisecond
	// DefaultMaxRetryBackoff is Config.MaxRetryBackoff's default.
	DefaultMaxRetryBackoff = time.Second
	// DefaultLearnedLimitTTL is Config.LearnedLimitTTL's default.
	DefaultLearnedLimitTTL = 5 * time.Minute
)

// Limits Validate enforces.
const (
	maxBands        = 64
	maxRingSize     = 1 << 24
	maxBatchSize    = 100_000
	maxBatchBytes   = 256 << 20
	maxConcurrent   = 1024
	maxRetriesLimit = 16
)

// Config configures a Client. The zero value works once Endpoint is set:
// every zero field means the default documented on it. Presets:
// HighThroughput and LowLatency.
type Config struct {
	// Endpoint is the full JSON-RPC URL, path included, e.g.
	// "http://127.0.0.1:26660/v3". Required. With an *fastpool.EndpointSet as
	// the Doer the set picks the host; Endpoint still names the learned batch
	// limit in Stats.
	Endpoint string

	// Bands is the number of priority bands; WithPriority(p) clamps p into
	// [0, Bands-1] and higher bands are sent first. Default 4, at most 64.
	Bands int

	// RingSize is the capacity of each band's ring (rounded up to a power of
	// two by the ring). Default 4096; Bands × RingSize (rounded up) at most
	// 1<<24, since New allocates every ring in full.
	RingSize int

	// MaxBatchSize is the most calls one HTTP request carries. Default 100.
	// A limit learned from the server (see Stats.LearnedLimits) can lower it.
	MaxBatchSize int

	// MaxBatchBytes caps the encoded size of one batch. Default 1 MiB. A
	// single call larger than this is sent alone.
	MaxBatchBytes int

	// MaxWait is the longest the oldest queued call waits for its batch to
	// fill while a dispatch slot is free. Default 100 ms.
	MaxWait time.Duration

	// EagerFlush sends whatever is queued as soon as a dispatch slot is idle,
	// so an idle client adds no delay and batches grow only while the server
	// is the bottleneck. Default On. Off gives fill-or-wait: a batch leaves
	// when it holds MaxBatchSize calls or MaxBatchBytes, or its oldest call
	// has waited MaxWait.
	EagerFlush Toggle

	// MaxConcurrentBatches bounds the batches in flight. Default 10.
	MaxConcurrentBatches int

	// AgingLimit bounds how long priority can hold a call back: under
	// saturation a call that has waited this long goes into the next batch
	// ahead of every higher band. Default 10 × MaxWait.
	AgingLimit time.Duration

	// Dedup makes identical read calls (same method, same encoded params) in
	// flight share one wire call. Default On. Writes are never deduplicated,
	// and a call of a higher band than the identical one in flight is sent
	// on its own rather than wait at the lower band.
	Dedup Toggle

	// IsWrite reports whether a method changes state. Writes are never
	// deduplicated and never re-sent after they may have reached the server,
	// unless marked WithIdempotent. Default DefaultIsWrite (Accumulate's
	// submit, validate, faucet, execute and its family).
	IsWrite func(method string) bool

	// QueueFull says what Submit does when its band's ring is full. Default
	// Block.
	QueueFull QueueFullPolicy

	// MaxRetries is how many times fastbatch re-sends a batch after the Doer
	// reported a retryable final failure (transport error, 429, 5xx, a
	// malformed body). The Doer (fastpool) already retries transport errors
	// and 429/5xx itself, so this multiplies at most by MaxRetries+1. Default
	// 1; negative disables fastbatch's own retries. Splitting a rejected batch
	// is not a retry and is bounded by log2(MaxBatchSize) levels.
	MaxRetries int

	// RetryBackoff is the base of the jittered exponential backoff between
	// fastbatch's retries; a server's Retry-After wins when longer. Default
	// 25 ms.
	RetryBackoff time.Duration

	// LearnedLimitTTL is how long a batch limit learned from the server's
	// rejections holds. After it the client sends up to MaxBatchSize again
	// and learns anew if the server still refuses (one split per TTL against
	// a server whose limit is permanent). Default 5 minutes; negative keeps
	// a learned limit for the client's lifetime.
	LearnedLimitTTL time.Duration

	// MaxRetryBackoff caps one backoff. A server's longer Retry-After is
	// waited out only within the callers' deadlines: for a batch with a
	// call without a deadline there is then no retry, and the calls fail at
	// once with a *BatchError holding the server's status and Retry-After.
	// Default 1 s.
	MaxRetryBackoff time.Duration
}

// HighThroughput returns the high-throughput preset for endpoint: 200 calls
// per batch, 50 ms MaxWait, 20 batches in flight, dedup on, EagerFlush off.
func HighThroughput(endpoint string) Config {
	return Config{
		Endpoint:             endpoint,
		MaxBatchSize:         200,
		MaxWait:              50 * time.Millisecond,
		MaxConcurrentBatches: 20,
		Dedup:                On,
		EagerFlush:           Off,
	}
}

// LowLatency returns the low-latency preset for endpoint: 10 calls per batch,
// 10 ms MaxWait, 5 batches in flight, dedup off, EagerFlush on.
func LowLatency(endpoint string) Config {
	return Config{
		Endpoint:             endpoint,
		MaxBatchSize:         10,
		MaxWait:              10 * time.Millisecond,
		MaxConcurrentBatches: 5,
		Dedup:                Off,
		EagerFlush:           On,
	}
}

// Validate reports the first field that is out of range, naming it and the
// allowed range. Zero fields are valid (they mean the default).
func (c Config) Validate() error {
	if c.Endpoint == "" {
		return fmt.Errorf("fastbatch: Config.Endpoint is required (full URL, e.g. http://127.0.0.1:26660/v3)")
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("fastbatch: Config.Endpoint %q must be an absolute http:// or https:// URL", c.Endpoint)
	}
	checks := []struct {
		name     string
		v, lo, h int64
	}{
		{"Bands", int64(c.Bands), 0, maxBands},
		{"RingSize", int64(c.RingSize), 0, maxRingSize},
		{"MaxBatchSize", int64(c.MaxBatchSize), 0, maxBatchSize},
		{"MaxBatchBytes", int64(c.MaxBatchBytes), 0, maxBatchBytes},
		{"MaxConcurrentBatches", int64(c.MaxConcurrentBatches), 0, maxConcurrent},
		{"MaxRetries", int64(c.MaxRetries), -1, maxRetriesLimit},
		{"MaxWait", int64(c.MaxWait), 0, int64(time.Hour)},
		{"AgingLimit", int64(c.AgingLimit), 0, int64(24 * time.Hour)},
		{"RetryBackoff", int64(c.RetryBackoff), 0, int64(time.Minute)},
		{"MaxRetryBackoff", int64(c.MaxRetryBackoff), 0, int64(time.Hour)},
		{"LearnedLimitTTL", max(int64(c.LearnedLimitTTL), -1), -1, int64(24 * time.Hour)},
	}
	for _, ch := range checks {
		if ch.v < ch.lo || ch.v > ch.h {
			return fmt.Errorf("fastbatch: Config.%s = %d out of range [%d, %d] (0 means the default)", ch.name, ch.v, ch.lo, ch.h)
		}
	}
	if c.MaxRetries < -1 {
		return fmt.Errorf("fastbatch: Config.MaxRetries = %d out of range [-1, %d]", c.MaxRetries, maxRetriesLimit)
	}
	if b, r := int64(orInt(c.Bands, DefaultBands)), int64(orInt(c.RingSize, DefaultRingSize)); b*ceilPow2(r) > maxRingSize {
		// New allocates every band's ring in full, its size rounded up to
		// a power of two: 64 bands of 1<<24 slots would be 16 GiB before
		// the first call.
		return fmt.Errorf("fastbatch: Config.Bands × RingSize = %d × %d slots (rounded up to %d), more than %d in all (every ring is allocated in full by New)",
			b, r, ceilPow2(r), int64(maxRingSize))
	}
	for _, t := range []struct {
		name string
		v    Toggle
	}{{"EagerFlush", c.EagerFlush}, {"Dedup", c.Dedup}} {
		if t.v > Off {
			return fmt.Errorf("fastbatch: Config.%s = %d out of range [Unset, On, Off]", t.name, t.v)
		}
	}
	if c.QueueFull > FailFast {
		return fmt.Errorf("fastbatch: Config.QueueFull = %d out of range [Block, FailFast]", c.QueueFull)
	}
	return nil
}

// settings is a Config with every default applied.
type settings struct {
	endpoint        string
	bands           int
	ringSize        int
	maxBatchSize    int
	maxBatchBytes   int
	maxWait         time.Duration
	eager           bool
	maxConcurrent   int
	agingLimit      time.Duration
	dedup           bool
	isWrite         func(string) bool
	failFast        bool
	maxRetries      int
	retryBackoff    time.Duration
	maxRetryBackoff time.Duration
	limitTTL        time.Duration // ≤ 0: a learned limit never expires
}

func (c Config) settings() settings {
	s := settings{
		endpoint:        c.Endpoint,
		bands:           orInt(c.Bands, DefaultBands),
		ringSize:        orInt(c.RingSize, DefaultRingSize),
		maxBatchSize:    orInt(c.MaxBatchSize, DefaultMaxBatchSize),
		maxBatchBytes:   orInt(c.MaxBatchBytes, DefaultMaxBatchBytes),
		maxWait:         orDur(c.MaxWait, DefaultMaxWait),
		eager:           c.EagerFlush.enabled(true),
		maxConcurrent:   orInt(c.MaxConcurrentBatches, DefaultMaxConcurrentBatches),
		dedup:           c.Dedup.enabled(true),
		isWrite:         c.IsWrite,
		failFast:        c.QueueFull == FailFast,
		maxRetries:      c.MaxRetries,
		retryBackoff:    orDur(c.RetryBackoff, DefaultRetryBackoff),
		maxRetryBackoff: orDur(c.MaxRetryBackoff, DefaultMaxRetryBackoff),
		limitTTL:        orDur(c.LearnedLimitTTL, DefaultLearnedLimitTTL),
	}
	s.agingLimit = orDur(c.AgingLimit, 10*s.maxWait)
	if s.isWrite == nil {
		s.isWrite = DefaultIsWrite
	}
	switch {
	case c.MaxRetries == 0:
		s.maxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		s.maxRetries = 0
	}
	return s
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orDur(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

// DefaultIsWrite reports whether method changes state on an Accumulate node:
// v3 submit, validate (a dry run, treated as a write) and faucet; v2 execute,
// its family (execute-*, create-*, send-tokens, add-credits, update-*,
// write-data*, issue-tokens, burn-tokens) and faucet. Everything else —
// query*, status, version, describe, metrics, node-info, find-service,
// consensus-status, network-status, list-snapshots — is a read.
//
// Unknown methods not matching these families count as reads; supply
// Config.IsWrite for other servers.
func DefaultIsWrite(method string) bool {
	switch method {
	case "submit", "validate", "faucet", "execute", "send-tokens", "add-credits",
		"issue-tokens", "burn-tokens":
		return true
	}
	for _, prefix := range [...]string{"execute-", "create-", "update-", "write-data"} {
		if strings.HasPrefix(method, prefix) {
			return true
		}
	}
	return false
}

// ceilPow2 is the ring's capacity for a RingSize of n ≥ 1: n rounded up to
// a power of two.
func ceilPow2(n int64) int64 {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len64(uint64(n-1))
}
