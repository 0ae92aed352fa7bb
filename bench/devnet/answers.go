package devnet

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/batchring/batchring/codec"
	"github.com/bytedance/sonic"
)

// JSON-RPC 2.0 and Accumulate error codes the stand-in answers with.
const (
	codeParseError     = codec.CodeParseError
	codeInvalidRequest = codec.CodeInvalidRequest
	codeMethodNotFound = codec.CodeMethodNotFound
	codeInvalidParams  = codec.CodeInvalidParams
	codeResponseSize   = -32003 // go-ethereum: response too large
	codeNotFound       = codec.CodeProtocolNotFound
)

// rpcError is a rendered JSON-RPC error object.
type rpcError struct {
	code    int
	message string
	data    []byte // raw JSON; nil when absent
}

// answer is the deterministic answer to one call: exactly one of result and
// err is set. member is what follows the id in the rendered response
// element: `,"result":…}` or `,"error":{…}}`.
type answer struct {
	result []byte
	err    *rpcError
	member []byte
}

func newResult(result []byte) *answer {
	m := make([]byte, 0, len(result)+12)
	m = append(m, `,"result":`...)
	m = append(m, result...)
	m = append(m, '}')
	return &answer{result: result, member: m}
}

func newError(code int, message string, data []byte) *answer {
	e := &rpcError{code: code, message: message, data: data}
	return &answer{err: e, member: appendErrorMember(nil, e)}
}

// appendErrorMember renders `,"error":{…}}`.
func appendErrorMember(dst []byte, e *rpcError) []byte {
	dst = append(dst, `,"error":{"code":`...)
	dst = strconv.AppendInt(dst, int64(e.code), 10)
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, e.message)
	if e.data != nil {
		dst = append(dst, `,"data":`...)
		dst = append(dst, e.data...)
	}
	return append(dst, "}}"...)
}

// Fixed answers that do not depend on params.
var (
	answerInvalidRequest = newError(codeInvalidRequest, "Invalid Request", nil)
	answerParseError     = newError(codeParseError, "Parse error", nil)
	answerTooLarge       = newError(codeResponseSize, "response too large", nil)
	answerBatchTooLarge  = newError(codeInvalidRequest, "batch too large", nil)
)

// api identifies the served API version by its path.
type api uint8

const (
	apiNone api = iota
	apiV2
	apiV3
)

func apiOf(path string) api {
	switch path {
	case "/v2", "/v2/":
		return apiV2
	case "/v3", "/v3/":
		return apiV3
	}
	return apiNone
}

// methodFunc renders the answer to one call from its decoded params.
type methodFunc func(p params) *answer

var (
	v3Methods = map[string]methodFunc{
		"node-info":        v3NodeInfo,
		"find-service":     v3FindService,
		"consensus-status": v3ConsensusStatus,
		"network-status":   v3NetworkStatus,
		"list-snapshots":   v3ListSnapshots,
		"metrics":          v3Metrics,
		"query":            v3Query,
		"submit":           v3Submit("submit"),
		"validate":         v3Submit("validate"),
		"faucet":           v3Faucet,
	}
	v2Methods = map[string]methodFunc{
		"status":             v2Status,
		"version":            v2Version,
		"describe":           v2Describe,
		"metrics":            v2Metrics,
		"faucet":             v2Faucet,
		"query":              v2Query,
		"query-directory":    v2QueryDirectory,
		"query-tx":           v2QueryTx,
		"query-tx-local":     v2QueryTx,
		"query-tx-history":   v2QueryTxHistory,
		"query-data":         v2QueryData,
		"query-data-set":     v2QueryDataSet,
		"query-key-index":    v2QueryKeyIndex,
		"query-minor-blocks": v2QueryBlocks("minorBlock"),
		"query-major-blocks": v2QueryBlocks("majorBlock"),
		"query-synth":        v2QuerySynth,
	}
	// v2ExecuteMethods is the execute family: each takes an envelope or an
	// origin+payload and answers a transaction response.
	v2ExecuteMethods = []string{
		"execute", "execute-direct", "execute-local",
		"create-adi", "create-identity", "create-data-account", "create-key-book",
		"create-key-page", "create-token", "create-token-account", "create-lite-data-account",
		"send-tokens", "add-credits", "update-key-page", "update-key", "update-account-auth",
		"write-data", "write-data-to", "issue-tokens", "burn-tokens", "add-validator",
		"remove-validator", "update-validator-key",
	}
)

func init() {
	for _, m := range v2ExecuteMethods {
		v2Methods[m] = v2Execute(m)
	}
}

// Expected returns the answer the server gives to a call of method with
// params (raw JSON; nil or "null" for none) at path ("/v3" or "/v2"): the
// result bytes, or the JSON-RPC error object. Answers are a function of these
// three only (never of Config.Seed), so a test can check that every caller
// received the answer to its own params. Results embed the identifying param
// (the scope, URL, partition or a hash of the params) so misrouting shows.
//
// Which accounts exist: a URL "acc://<authority>[/path]" exists when the
// authority is "acme" (acc://ACME, case-insensitive), ends in ".acme"
// (acc://dn.acme, acc://bvn-BVN1.acme, acc://alice.acme/tokens, …) or is a
// 48-hex-digit lite identity, and the URL does not contain "missing"
// (case-insensitive). Any other account answers the Accumulate not-found
// error, code -33404 with a data object. A transaction id
// "acc://<64 hex>@<principal>" exists when its principal does.
//
// The returned slices are fresh and owned by the caller.
func Expected(path, method string, params []byte) (result []byte, rpcErr *Error) {
	a := compute(apiOf(path), method, params)
	if a.err != nil {
		return nil, a.err.export()
	}
	return append([]byte(nil), a.result...), nil
}

// compute renders the answer to one call; it is deterministic.
func compute(v api, method string, raw []byte) *answer {
	var fn methodFunc
	switch v {
	case apiV3:
		fn = v3Methods[method]
	case apiV2:
		fn = v2Methods[method]
	}
	if fn == nil {
		return newError(codeMethodNotFound, "Method not found", nil)
	}
	p, ok := decodeParams(raw)
	if !ok {
		return invalidParams("params must be a JSON object or array")
	}
	return fn(p)
}

// params is a decoded params value: an object (m) or array (a); nil when
// absent. v is the decoded value, canonically re-encoded on demand for
// hashing (canonical).
type params struct {
	m map[string]any
	a []any
	v any
}

var canonicalJSON = sonic.Config{UseNumber: true, SortMapKeys: true}.Froze()

// canonical returns the params with sorted keys and no whitespace, so equal
// params in any layout give equal bytes.
func (p params) canonical() []byte {
	if p.v == nil {
		return []byte("null")
	}
	c, err := canonicalJSON.Marshal(p.v)
	if err != nil {
		return []byte("null")
	}
	return c
}

func decodeParams(raw []byte) (params, bool) {
	t := trimWS(raw)
	if len(t) == 0 || string(t) == "null" {
		return params{}, true
	}
	var v any
	if err := canonicalJSON.Unmarshal(t, &v); err != nil {
		return params{}, false
	}
	switch x := v.(type) {
	case map[string]any:
		return params{m: x, v: v}, true
	case []any:
		// Positional params: a one-element array holding an object is
		// read as that object, as the Accumulate v2 handler does.
		if len(x) == 1 {
			if m, ok := x[0].(map[string]any); ok {
				return params{m: m, a: x, v: v}, true
			}
		}
		return params{a: x, v: v}, true
	}
	return params{}, false
}

func trimWS(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	for j > i && (b[j-1] == ' ' || b[j-1] == '\t' || b[j-1] == '\n' || b[j-1] == '\r') {
		j--
	}
	return b[i:j]
}

// str returns the string member key; present is false when it is absent or
// null; ok is false when it has another type.
func (p params) str(key string) (s string, present, ok bool) {
	v, has := p.m[key]
	if !has || v == nil {
		return "", false, true
	}
	s, ok = v.(string)
	return s, true, ok
}

// uint returns the non-negative integer member key, def when absent.
func (p params) uint(key string, def uint64) (uint64, bool) {
	v, has := p.m[key]
	if !has || v == nil {
		return def, true
	}
	n, ok := v.(interface{ String() string })
	if !ok {
		return 0, false
	}
	u, err := strconv.ParseUint(n.String(), 10, 64)
	return u, err == nil
}

func invalidParams(why string) *answer {
	return newError(codeInvalidParams, "Invalid params", appendString(nil, why))
}

// requireURL reads the URL member key and checks it names an account that
// exists, returning the answer to give when it does not.
func requireURL(p params, key string) (string, *answer) {
	u, present, ok := p.str(key)
	if !present || !ok {
		return "", invalidParams("missing or non-string " + key)
	}
	switch accountOf(u) {
	case accountBad:
		return "", invalidParams("invalid " + key + " " + strconv.Quote(u) + ": want acc://…")
	case accountMissing:
		return "", notFound(u)
	}
	return u, nil
}

func notFound(u string) *answer {
	msg := u + " not found"
	data := appendString([]byte(`{"message":`), msg)
	data = append(data, `,"code":"notFound","codeID":404}`...)
	return newError(codeNotFound, msg, data)
}

type accountState uint8

const (
	accountExists accountState = iota
	accountMissing
	accountBad
)

// accountOf applies the existence rule documented on Expected.
func accountOf(u string) accountState {
	const scheme = "acc://"
	if len(u) <= len(scheme) || !strings.EqualFold(u[:len(scheme)], scheme) {
		return accountBad
	}
	rest := u[len(scheme):]
	if at := strings.IndexByte(rest, '@'); at >= 0 {
		hash := rest[:at]
		if len(hash) != 64 || !isHexString(hash) {
			return accountBad
		}
		return accountOf(scheme + rest[at+1:])
	}
	if strings.Contains(strings.ToLower(u), "missing") {
		return accountMissing
	}
	auth := rest
	if i := strings.IndexAny(auth, "/?#"); i >= 0 {
		auth = auth[:i]
	}
	if auth == "" {
		return accountBad
	}
	auth = strings.ToLower(auth)
	if auth == "acme" || (strings.HasSuffix(auth, ".acme") && len(auth) > len(".acme")) ||
		(len(auth) == 48 && isHexString(auth)) {
		return accountExists
	}
	return accountMissing
}

func isHexString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// det is a deterministic byte stream keyed by a string: the source of every
// hash, height and amount in an answer. Block k of the stream is
// sha256(key || uint32be(k)).
type det struct {
	key  []byte // key parts, each followed by 0, then 4 bytes of block counter room
	klen int
	n    uint32
	buf  [32]byte
	off  int
}

func newDet(parts ...string) *det {
	size := 4
	for _, p := range parts {
		size += len(p) + 1
	}
	d := &det{off: 32, key: make([]byte, 0, size)}
	for _, p := range parts {
		d.key = append(d.key, p...)
		d.key = append(d.key, 0)
	}
	d.klen = len(d.key)
	return d
}

// fill copies the next len(p) bytes of the stream into p.
func (d *det) fill(p []byte) {
	for len(p) > 0 {
		if d.off == 32 {
			k := binary.BigEndian.AppendUint32(d.key[:d.klen], d.n)
			d.buf = sha256.Sum256(k)
			d.n++
			d.off = 0
		}
		c := copy(p, d.buf[d.off:])
		d.off += c
		p = p[c:]
	}
}

// next returns the next n bytes of the stream.
func (d *det) next(n int) []byte {
	out := make([]byte, n)
	d.fill(out)
	return out
}

// appendHex appends the next n bytes as 2n hex digits.
func (d *det) appendHex(dst []byte, n int) []byte {
	const digits = "0123456789abcdef"
	var chunk [32]byte
	for n > 0 {
		c := min(n, 32)
		d.fill(chunk[:c])
		for _, x := range chunk[:c] {
			dst = append(dst, digits[x>>4], digits[x&15])
		}
		n -= c
	}
	return dst
}

// appendHashQ appends the next 32 bytes as a quoted 64-digit hex string.
func (d *det) appendHashQ(dst []byte) []byte {
	dst = append(dst, '"')
	dst = d.appendHex(dst, 32)
	return append(dst, '"')
}

// hash returns 32 bytes as 64 hex digits.
func (d *det) hash() string { return string(d.appendHex(make([]byte, 0, 64), 32)) }

// hexN returns n bytes as hex.
func (d *det) hexN(n int) string { return string(d.appendHex(make([]byte, 0, 2*n), n)) }

// intn returns a number in [lo, hi).
func (d *det) intn(lo, hi uint64) uint64 {
	var b [8]byte
	d.fill(b[:])
	return lo + binary.BigEndian.Uint64(b[:])%(hi-lo)
}

// epoch anchors every timestamp in answers.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (d *det) time() string {
	return epoch.Add(time.Duration(d.intn(0, 300*24*3600)) * time.Second).Format(time.RFC3339)
}

// appendTimeQ appends the next timestamp as a quoted RFC 3339 string.
func (d *det) appendTimeQ(dst []byte) []byte {
	dst = append(dst, '"')
	dst = epoch.Add(time.Duration(d.intn(0, 300*24*3600))*time.Second).AppendFormat(dst, time.RFC3339)
	return append(dst, '"')
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// q returns s as a JSON string literal.
func q(s string) string { return string(appendString(nil, s)) }

// answerCache holds rendered answers keyed by api, method and raw params.
// It is sharded to keep lock hold times short; a full shard is emptied,
// which keeps the bound without bookkeeping (answers are cheap to redo).
type answerCache struct {
	shards   [16]cacheShard
	perShard int
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[string]*answer
	_  [40]byte // keep neighbouring shards' locks off one cache line
}

func newAnswerCache(entries int) *answerCache {
	if entries <= 0 {
		return nil
	}
	c := &answerCache{perShard: max(entries/16, 1)}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*answer)
	}
	return c
}

// lookup returns the cached answer for key (built by the caller as
// api|method|0|params), or computes and stores it.
func (c *answerCache) lookup(key []byte, v api, method []byte, params []byte) *answer {
	if c == nil {
		return compute(v, string(method), params)
	}
	var h uint32 = 2166136261
	for _, b := range key {
		h = (h ^ uint32(b)) * 16777619
	}
	s := &c.shards[h%16]
	s.mu.RLock()
	a := s.m[string(key)]
	s.mu.RUnlock()
	if a != nil {
		return a
	}
	a = compute(v, string(method), params)
	s.mu.Lock()
	if len(s.m) >= c.perShard {
		clear(s.m)
	}
	s.m[string(key)] = a
	s.mu.Unlock()
	return a
}
