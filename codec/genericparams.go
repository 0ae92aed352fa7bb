package codec

import (
	"math"
	"slices"
	"strconv"
)

// Params built from generic Go values — map[string]any and []any holding
// strings, numbers, bools and nil, the shape most callers pass — are
// encoded here without sonic: sonic must sort map keys through reflection
// and allocates several times per call, while this path sorts keys on the
// stack and appends straight into the caller's buffer. The output is
// byte-for-byte what encoding/json produces with HTML escaping off (keys
// sorted, same number and string formats); a differential test holds it to
// that. Any other type inside makes the whole value go to sonic instead.

// maxGenericDepth bounds recursion; deeper (or self-referencing) values go
// to sonic, which reports them.
const maxGenericDepth = 32

// appendGeneric appends v and reports whether it handled it; on false the
// caller discards whatever was appended past its own length.
func appendGeneric(dst []byte, v any, depth int) ([]byte, bool) {
	if depth > maxGenericDepth {
		return dst, false
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case string:
		return AppendString(dst, x), true
	case bool:
		return strconv.AppendBool(dst, x), true
	case int:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int64:
		return strconv.AppendInt(dst, x, 10), true
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int16:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int8:
		return strconv.AppendInt(dst, int64(x), 10), true
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10), true
	case uint64:
		return strconv.AppendUint(dst, x, 10), true
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10), true
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10), true
	case uint8:
		return strconv.AppendUint(dst, uint64(x), 10), true
	case float64:
		return appendFloat(dst, x, 64)
	case float32:
		return appendFloat(dst, float64(x), 32)
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), true
		}
		return appendMap(dst, x, depth)
	case map[string]string:
		if x == nil {
			return append(dst, "null"...), true
		}
		return appendStringMap(dst, x)
	case []any:
		if x == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		for i, el := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendGeneric(dst, el, depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	case []string:
		if x == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		for i, s := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, s)
		}
		return append(dst, ']'), true
	}
	// A struct (or pointer to one) inside: its type's plan, if it has one.
	return appendReflect(dst, v, depth)
}

// sortedKeys returns m's keys sorted, in scratch when they fit.
func sortedKeys[V any](m map[string]V, scratch []string) []string {
	keys := scratch[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func appendMap(dst []byte, m map[string]any, depth int) ([]byte, bool) {
	var scratch [16]string
	dst = append(dst, '{')
	for i, k := range sortedKeys(m, scratch[:]) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		var ok bool
		if dst, ok = appendGeneric(dst, m[k], depth+1); !ok {
			return dst, false
		}
	}
	return append(dst, '}'), true
}

func appendStringMap(dst []byte, m map[string]string) ([]byte, bool) {
	var scratch [16]string
	dst = append(dst, '{')
	for i, k := range sortedKeys(m, scratch[:]) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		dst = AppendString(dst, m[k])
	}
	return append(dst, '}'), true
}

// appendFloat formats f as encoding/json does; NaN and ±Inf are left to
// sonic, which refuses them.
func appendFloat(dst []byte, f float64, bits int) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// e-09 becomes e-9, as in encoding/json.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}
