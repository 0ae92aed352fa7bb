package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Well-known Accumulate endpoints (base URLs; the API version is appended as
// /v2 or /v3).
var wellKnownTargets = map[string]string{
	"local":   "http://127.0.0.1:26660",
	"kermit":  "https://kermit.accumulatenetwork.io",
	"testnet": "https://kermit.accumulatenetwork.io",
	"fozzie":  "https://fozzie.accumulatenetwork.io",
	"mainnet": "https://mainnet.accumulatenetwork.io",
}

// ErrBadTarget is returned for a target that is neither a well-known name
// nor an http(s) URL, or whose URL path and API version disagree.
var ErrBadTarget = errors.New("bench: bad target")

// Target is a resolved load-generation target.
type Target struct {
	// Name is what the user asked for: a well-known name or the URL.
	Name string
	// URL is the JSON-RPC endpoint, ending in /v2 or /v3 for Accumulate.
	URL string
	// API is "v2" or "v3"; it selects the built-in mix.
	API string
	// Loopback is true when the host is a loopback address or "localhost";
	// other targets are someone else's server and get a conservative default
	// rate.
	Loopback bool
}

// ResolveTarget turns a target name (local, kermit, testnet, fozzie,
// mainnet) or an http(s) URL into an endpoint. api is "v2", "v3" or "" (from
// the URL path, else v3). A URL whose path is /v2 or /v3 sets the API
// version; a URL with another path is used as is (any JSON-RPC 2.0 server).
func ResolveTarget(target, api string) (Target, error) {
	if api != "" && api != "v2" && api != "v3" {
		return Target{}, fmt.Errorf("%w: api %q: want v2 or v3", ErrBadTarget, api)
	}
	t := Target{Name: target}
	raw, known := wellKnownTargets[strings.ToLower(target)]
	if !known {
		raw = target
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return Target{}, fmt.Errorf("%w: %q: want local, kermit, testnet, fozzie, mainnet or an http(s) URL", ErrBadTarget, target)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return Target{}, fmt.Errorf("%w: %q: no query, fragment or user info, please", ErrBadTarget, target)
	}
	path := strings.TrimRight(u.Path, "/")
	switch {
	case path == "":
		if api == "" {
			api = "v3"
		}
		path = "/" + api
	case strings.HasSuffix(path, "/v2") || strings.HasSuffix(path, "/v3"):
		fromPath := path[len(path)-2:]
		if api != "" && api != fromPath {
			return Target{}, fmt.Errorf("%w: %q is API %s but --api %s was asked", ErrBadTarget, target, fromPath, api)
		}
		api = fromPath
	default:
		if api == "" {
			api = "v3"
		}
	}
	u.Path = path
	t.URL = u.String()
	t.API = api
	t.Loopback = isLoopbackHost(u.Hostname())
	return t, nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// BuiltinMix returns the built-in Accumulate read mix for API "v2" or "v3":
// mostly queries of accounts, with some status calls in a higher priority
// band. The accounts are the network's own (acc://dn.acme, acc://ACME, …),
// so the mix reads the same kind of data from any Accumulate network.
func BuiltinMix(api string) (*Workload, error) {
	raw := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err) // static values below; cannot fail
		}
		return b
	}
	accounts := []string{
		"acc://dn.acme", "acc://ACME", "acc://dn.acme/network",
		"acc://dn.acme/oracle", "acc://dn.acme/globals", "acc://bvn-Apollo.acme",
		"acc://dn.acme/operators", "acc://staking.acme",
	}
	var ops []Op
	switch api {
	case "v3", "":
		for _, a := range accounts {
			ops = append(ops, Op{Method: "query", Weight: 8,
				Params: raw(map[string]any{"scope": a, "query": map[string]any{"queryType": "default"}})})
		}
		ops = append(ops,
			Op{Method: "query", Weight: 4, Params: raw(map[string]any{
				"scope": "acc://dn.acme/anchors", "query": map[string]any{"queryType": "chain", "name": "main"}})},
			Op{Method: "network-status", Weight: 8, Priority: 1, Params: raw(map[string]any{})},
			Op{Method: "node-info", Weight: 8, Priority: 1, Params: raw(map[string]any{})},
			Op{Method: "consensus-status", Weight: 4, Priority: 1, Params: raw(map[string]any{})},
		)
	case "v2":
		for _, a := range accounts {
			ops = append(ops, Op{Method: "query", Weight: 8, Params: raw(map[string]any{"url": a})})
		}
		ops = append(ops,
			Op{Method: "query-directory", Weight: 4, Params: raw(map[string]any{"url": "acc://dn.acme", "count": 10})},
			Op{Method: "status", Weight: 8, Priority: 1, Params: raw(map[string]any{})},
			Op{Method: "version", Weight: 8, Priority: 1, Params: raw(map[string]any{})},
			Op{Method: "describe", Weight: 4, Priority: 1, Params: raw(map[string]any{})},
		)
	default:
		return nil, fmt.Errorf("%w: api %q: want v2 or v3", ErrBadTarget, api)
	}
	return NewWorkload(ops)
}
