package devnet

import "encoding/json"

// maxDepth bounds the nesting the request parser accepts, so a hostile body
// cannot exhaust the goroutine stack. Deeper bodies are answered -32700.
const maxDepth = 512

// requestKind says what shape a request body had.
type requestKind uint8

const (
	kindParseError requestKind = iota // not JSON: a single -32700 object
	kindInvalid                       // JSON but neither array nor object, or an empty array: a single -32600 object
	kindSingle                        // one request object (valid or not)
	kindBatch                         // a non-empty array
)

// call is one element of a request as the parser found it. All slices alias
// the request body and are valid only while it is.
type call struct {
	id      []byte // raw id bytes as sent (number, string with quotes, or null); nil when absent
	method  []byte // method name without quotes, escapes decoded
	params  []byte // raw params value; nil when absent or null
	invalid bool   // not a valid JSON-RPC 2.0 request object: answered -32600
}

// notification reports whether c must not be answered: a valid request
// without an id member. Invalid elements are always answered.
func (c *call) notification() bool { return c.id == nil && !c.invalid }

// parseRequest splits a JSON-RPC 2.0 request body into calls, appending them
// to dst. It validates the whole body as JSON in the same pass, so a body with
// a syntax error anywhere (even after valid elements) is kindParseError, as
// the specification's examples require.
func parseRequest(body []byte, dst []call) (requestKind, []call) {
	i := skipWS(body, 0)
	if i == len(body) {
		return kindParseError, dst
	}
	switch body[i] {
	case '{':
		var c call
		end, ok := parseCall(body, i, &c)
		if !ok || skipWS(body, end) != len(body) {
			return kindParseError, dst
		}
		return kindSingle, append(dst, c)
	case '[':
		i = skipWS(body, i+1)
		if i < len(body) && body[i] == ']' {
			if skipWS(body, i+1) != len(body) {
				return kindParseError, dst
			}
			return kindInvalid, dst
		}
		for {
			if i >= len(body) {
				return kindParseError, dst
			}
			var c call
			var end int
			var ok bool
			if body[i] == '{' {
				end, ok = parseCall(body, i, &c)
			} else {
				end, ok = skipValue(body, i, 1)
				c.invalid = true
			}
			if !ok {
				return kindParseError, dst
			}
			dst = append(dst, c)
			i = skipWS(body, end)
			if i >= len(body) {
				return kindParseError, dst
			}
			if body[i] == ']' {
				if skipWS(body, i+1) != len(body) {
					return kindParseError, dst
				}
				return kindBatch, dst
			}
			if body[i] != ',' {
				return kindParseError, dst
			}
			i = skipWS(body, i+1)
		}
	default:
		end, ok := skipValue(body, i, 0)
		if !ok || skipWS(body, end) != len(body) {
			return kindParseError, dst
		}
		return kindInvalid, dst
	}
}

// parseCall parses the object starting at body[i] (which is '{') into c. ok is
// false only for a JSON syntax error; a well-formed object that is not a valid
// request sets c.invalid instead. A member given twice counts as its last
// occurrence, as with encoding/json.
func parseCall(body []byte, i int, c *call) (end int, ok bool) {
	var versionOK, methodOK, idBad, paramsBad, unknown bool
	i = skipWS(body, i+1)
	if i < len(body) && body[i] == '}' {
		c.invalid = true
		return i + 1, true
	}
	for {
		if i >= len(body) || body[i] != '"' {
			return 0, false
		}
		kend, kesc, ok := scanString(body, i)
		if !ok {
			return 0, false
		}
		key := body[i+1 : kend-1]
		if kesc {
			key = unescape(body[i:kend])
		}
		i = skipWS(body, kend)
		if i >= len(body) || body[i] != ':' {
			return 0, false
		}
		i = skipWS(body, i+1)
		if i >= len(body) {
			return 0, false
		}
		vstart := i
		vend, ok := skipValue(body, i, 1)
		if !ok {
			return 0, false
		}
		v := body[vstart:vend]
		switch string(key) {
		case "jsonrpc":
			versionOK = string(v) == `"2.0"` || (v[0] == '"' && string(unescape(v)) == "2.0")
		case "id":
			switch v[0] {
			case '"', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				c.id, idBad = v, false
			default: // object, array, true, false
				c.id, idBad = nil, true
			}
		case "method":
			methodOK = v[0] == '"'
			c.method = nil
			if !methodOK {
				break
			}
			c.method = v[1 : len(v)-1]
			for _, ch := range c.method {
				if ch == '\\' {
					c.method = unescape(v)
					break
				}
			}
		case "params":
			switch v[0] {
			case '{', '[':
				c.params, paramsBad = v, false
			case 'n':
				c.params, paramsBad = nil, false
			default:
				c.params, paramsBad = nil, true
			}
		default:
			// The Accumulate node decodes requests with unknown fields
			// disallowed, so an extra member makes the request invalid.
			unknown = true
		}
		i = skipWS(body, vend)
		if i >= len(body) {
			return 0, false
		}
		if body[i] == '}' {
			end = i + 1
			break
		}
		if body[i] != ',' {
			return 0, false
		}
		i = skipWS(body, i+1)
	}
	c.invalid = !versionOK || !methodOK || idBad || paramsBad || unknown
	return end, true
}

// unescape decodes a quoted JSON string with escapes; it is the rare path
// (method names and member keys never need escapes in practice).
func unescape(quoted []byte) []byte {
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return nil
	}
	return []byte(s)
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue validates the JSON value starting at b[i] and returns the index
// just past it.
func skipValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		end, _, ok := scanString(b, i)
		return end, ok
	case c == '{':
		if depth >= maxDepth {
			return 0, false
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return 0, false
			}
			end, _, ok := scanString(b, i)
			if !ok {
				return 0, false
			}
			i = skipWS(b, end)
			if i >= len(b) || b[i] != ':' {
				return 0, false
			}
			i = skipWS(b, i+1)
			if i, ok = skipValue(b, i, depth+1); !ok {
				return 0, false
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == '}' {
				return i + 1, true
			}
			if b[i] != ',' {
				return 0, false
			}
			i = skipWS(b, i+1)
		}
	case c == '[':
		if depth >= maxDepth {
			return 0, false
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = skipValue(b, i, depth+1); !ok {
				return 0, false
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == ']' {
				return i + 1, true
			}
			if b[i] != ',' {
				return 0, false
			}
			i = skipWS(b, i+1)
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(b, i)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	}
	return 0, false
}

func literal(b []byte, i int, lit string) (int, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return 0, false
}

// scanString validates the string starting at b[i] (a '"') and returns the
// index just past the closing quote and whether it holds escapes.
func scanString(b []byte, i int) (end int, escaped, ok bool) {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, escaped, true
		case c == '\\':
			escaped = true
			i++
			if i >= len(b) {
				return 0, false, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i < 5 {
					return 0, false, false
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return 0, false, false
					}
				}
				i += 4
			default:
				return 0, false, false
			}
		case c < 0x20:
			return 0, false, false
		}
	}
	return 0, false, false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// scanNumber validates a JSON number (RFC 8259 grammar) starting at b[i].
func scanNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, false
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return 0, false
		}
	}
	return i, true
}
