package fastpool

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"
)

// Defaults used for zero Config fields. They are the seed's knobs (the Python
// SDK's HttpConnectionPool) unless noted.
const (
	// DefaultMaxConns is the default Config.MaxConns.
	DefaultMaxConns = 100
	// DefaultMaxConnsPerHost is the default Config.MaxConnsPerHost.
	DefaultMaxConnsPerHost = 30
	// DefaultConnectTimeout is the default Config.ConnectTimeout.
	DefaultConnectTimeout = 10 * time.Second
	// DefaultRequestTimeout is the default Config.RequestTimeout.
	DefaultRequestTimeout = 30 * time.Second
	// DefaultKeepAliveTimeout is the default Config.KeepAliveTimeout.
	DefaultKeepAliveTimeout = 30 * time.Second
	// DefaultMaxRetries is the default Config.MaxRetries.
	DefaultMaxRetries = 3
	// DefaultRetryDelay is the default Config.RetryDelay.
	DefaultRetryDelay = time.Second
	// DefaultMaxRetryDelay is the default Config.MaxRetryDelay (not in the
	// seed, which did not cap its backoff).
	DefaultMaxRetryDelay = 30 * time.Second
	// DefaultHealthCheckInterval is the default Config.HealthCheckInterval.
	DefaultHealthCheckInterval = 60 * time.Second
	// DefaultMaxIdleTime is the default Config.MaxIdleTime.
	DefaultMaxIdleTime = 300 * time.Second
	// DefaultMaxResponseBodySize is the default Config.MaxResponseBodySize:
	// 32 MiB, far above a 200-call batch of 7 KB answers.
	DefaultMaxResponseBodySize = 32 << 20
	// DefaultUnhealthyAfter is the default Config.UnhealthyAfter.
	DefaultUnhealthyAfter = 3
	// DefaultHealthCheckPath is the default Config.HealthCheckPath.
	DefaultHealthCheckPath = "/"
	// DefaultHealthCheckMethod is the default Config.HealthCheckMethod.
	DefaultHealthCheckMethod = "GET"
	// DefaultUserAgent is the default Config.UserAgent.
	DefaultUserAgent = "batchring-fastpool/1"
)

// Config configures a Pool. The zero value is valid: every zero field means
// the documented default. Booleans whose default is "on" are expressed as
// DisableX fields so that the zero value keeps them on (the net/http
// Transport.DisableCompression convention), instead of pointer tri-states that
// make every literal awkward.
type Config struct {
	// MaxConns caps the open connections across all hosts. Default 100.
	MaxConns int
	// MaxConnsPerHost caps the open connections to one scheme+host+port.
	// Default 30. Must not exceed MaxConns.
	MaxConnsPerHost int
	// ConnectTimeout bounds a TCP dial plus TLS handshake. Default 10s.
	ConnectTimeout time.Duration
	// RequestTimeout bounds one attempt (write request, read the whole
	// response), further capped by the caller's context deadline. The whole
	// Do call, retries and backoff included, is bounded only by the context.
	// Default 30s.
	RequestTimeout time.Duration
	// KeepAliveTimeout is how long an idle keep-alive connection is kept:
	// an older one is never reused (checked when a request picks it) and is
	// closed by the monitor started with Start. Default 30s. On Linux,
	// connections idle over a second are also peeked at before reuse, so
	// one the server closed is dropped instead of carrying a request; other
	// systems have no non-blocking peek and trust them until this timeout.
	KeepAliveTimeout time.Duration
	// DisableTCPNoDelay turns Nagle's algorithm back on. Default false:
	// TCP_NODELAY is set on every connection (the seed's TCPNoDelay=true).
	DisableTCPNoDelay bool
	// DisableCompression stops the pool from sending
	// "Accept-Encoding: gzip, zstd" and from decoding compressed responses.
	// Default false: compression on (the seed's Compression=true).
	DisableCompression bool
	// MaxRetries is how many times a failed attempt is retried (so at most
	// MaxRetries+1 attempts). Default 3. A negative value disables retries.
	MaxRetries int
	// RetryDelay is the first backoff; each retry doubles it, with full
	// jitter in [d/2, d], capped by MaxRetryDelay and by the context deadline.
	// Default 1s.
	RetryDelay time.Duration
	// MaxRetryDelay caps one backoff, including a server's Retry-After.
	// Default 30s.
	MaxRetryDelay time.Duration
	// HealthCheckInterval is how often the monitor started by Start probes
	// each known host and sweeps stale hosts and expired idle connections.
	// Default 60s. A negative value disables probes (the sweep still runs
	// every KeepAliveTimeout).
	HealthCheckInterval time.Duration
	// HealthCheckPath is the path probed on each host. Default "/".
	HealthCheckPath string
	// HealthCheckMethod is the probe's HTTP method. Default "GET".
	// Any HTTP response below 500 counts as healthy: a 404 or 405 still
	// proves the server answers.
	HealthCheckMethod string
	// HealthCheckBody is sent with the probe (e.g. a JSON-RPC call for POST
	// probes), with Content-Type application/json. Default none.
	HealthCheckBody []byte
	// UnhealthyAfter is how many consecutive failed requests mark a host
	// unhealthy until a request or probe succeeds. Default 3.
	UnhealthyAfter int
	// MaxIdleTime: a host unused this long has its connections closed and
	// its state (stats included) dropped by the monitor. Default 300s.
	MaxIdleTime time.Duration
	// MaxResponseBodySize caps a response body on the wire and again after
	// decompression. Default 32 MiB. A larger body fails the attempt with
	// ErrBodyTooLarge (not retried). Memory follows the bytes that arrive,
	// not the length the server declares.
	MaxResponseBodySize int
	// TLSConfig is used for https hosts. Default nil: system roots, TLS 1.2+,
	// verification on. It is cloned; ServerName is set per host when empty.
	TLSConfig *tls.Config
	// UserAgent is set on requests that carry none. Default
	// "batchring-fastpool/1".
	UserAgent string
}

// HighPerformance returns a Config for a busy client talking to nearby,
// healthy nodes: 500 connections (100 per host), 5s connect, 15s request
// timeout, 2 retries, 30s health checks.
func HighPerformance() Config {
	return Config{
		MaxConns:            500,
		MaxConnsPerHost:     100,
		ConnectTimeout:      5 * time.Second,
		RequestTimeout:      15 * time.Second,
		MaxRetries:          2,
		HealthCheckInterval: 30 * time.Second,
	}
}

// Conservative returns a Config for slow or distant nodes and gentle load:
// 50 connections (10 per host), 30s connect, 60s request timeout, 5 retries,
// 120s health checks.
func Conservative() Config {
	return Config{
		MaxConns:            50,
		MaxConnsPerHost:     10,
		ConnectTimeout:      30 * time.Second,
		RequestTimeout:      60 * time.Second,
		MaxRetries:          5,
		HealthCheckInterval: 120 * time.Second,
	}
}

// withDefaults returns c with every zero field replaced by its default.
func (c Config) withDefaults() Config {
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxConnsPerHost == 0 {
		c.MaxConnsPerHost = min(DefaultMaxConnsPerHost, c.MaxConns)
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.KeepAliveTimeout == 0 {
		c.KeepAliveTimeout = DefaultKeepAliveTimeout
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	} else if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = DefaultRetryDelay
	}
	if c.MaxRetryDelay == 0 {
		c.MaxRetryDelay = max(DefaultMaxRetryDelay, c.RetryDelay)
	}
	if c.HealthCheckInterval == 0 {
		c.HealthCheckInterval = DefaultHealthCheckInterval
	}
	if c.HealthCheckPath == "" {
		c.HealthCheckPath = DefaultHealthCheckPath
	}
	if c.HealthCheckMethod == "" {
		c.HealthCheckMethod = DefaultHealthCheckMethod
	}
	if c.UnhealthyAfter == 0 {
		c.UnhealthyAfter = DefaultUnhealthyAfter
	}
	if c.MaxIdleTime == 0 {
		c.MaxIdleTime = DefaultMaxIdleTime
	}
	if c.MaxResponseBodySize == 0 {
		c.MaxResponseBodySize = DefaultMaxResponseBodySize
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	return c
}

// Validate reports the first field that holds a nonsense value, naming the
// field and the allowed range. Zero fields are valid (they mean the default).
func (c Config) Validate() error {
	bad := func(field, rule string, v any) error {
		return fmt.Errorf("%w: %s = %v, %s", ErrInvalidConfig, field, v, rule)
	}
	switch {
	case c.MaxConns < 0:
		return bad("MaxConns", "must be ≥ 1 (0 means 100)", c.MaxConns)
	case c.MaxConnsPerHost < 0:
		return bad("MaxConnsPerHost", "must be ≥ 1 (0 means 30)", c.MaxConnsPerHost)
	case c.ConnectTimeout < 0:
		return bad("ConnectTimeout", "must be > 0 (0 means 10s)", c.ConnectTimeout)
	case c.RequestTimeout < 0:
		return bad("RequestTimeout", "must be > 0 (0 means 30s)", c.RequestTimeout)
	case c.KeepAliveTimeout < 0:
		return bad("KeepAliveTimeout", "must be > 0 (0 means 30s)", c.KeepAliveTimeout)
	case c.MaxRetries > 100:
		return bad("MaxRetries", "must be ≤ 100 (negative disables retries)", c.MaxRetries)
	case c.RetryDelay < 0:
		return bad("RetryDelay", "must be > 0 (0 means 1s)", c.RetryDelay)
	case c.MaxRetryDelay < 0:
		return bad("MaxRetryDelay", "must be > 0 (0 means 30s)", c.MaxRetryDelay)
	case c.MaxRetryDelay > 0 && c.RetryDelay > c.MaxRetryDelay:
		return bad("RetryDelay", fmt.Sprintf("must be ≤ MaxRetryDelay (%v)", c.MaxRetryDelay), c.RetryDelay)
	case c.HealthCheckInterval > 0 && c.HealthCheckInterval < time.Millisecond:
		return bad("HealthCheckInterval", "must be ≥ 1ms (0 means 60s, negative disables probes)", c.HealthCheckInterval)
	case c.HealthCheckPath != "" && !strings.HasPrefix(c.HealthCheckPath, "/"):
		return bad("HealthCheckPath", `must start with "/"`, c.HealthCheckPath)
	case strings.ContainsAny(c.HealthCheckMethod, " \t\r\n"):
		return bad("HealthCheckMethod", "must be an HTTP method token", c.HealthCheckMethod)
	case c.UnhealthyAfter < 0:
		return bad("UnhealthyAfter", "must be ≥ 1 (0 means 3)", c.UnhealthyAfter)
	case c.MaxIdleTime < 0:
		return bad("MaxIdleTime", "must be > 0 (0 means 300s)", c.MaxIdleTime)
	case c.MaxResponseBodySize < 0:
		return bad("MaxResponseBodySize", "must be > 0 (0 means 32 MiB); the cap cannot be turned off", c.MaxResponseBodySize)
	case strings.ContainsAny(c.UserAgent, "\r\n"):
		return bad("UserAgent", "must not contain CR or LF", c.UserAgent)
	}
	d := c.withDefaults()
	if d.MaxConnsPerHost > d.MaxConns {
		return bad("MaxConnsPerHost", fmt.Sprintf("must be ≤ MaxConns (%d)", d.MaxConns), d.MaxConnsPerHost)
	}
	return nil
}
