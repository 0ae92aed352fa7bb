package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"runtime"
	"testing"
	"unsafe"
)

// FuzzDecodeBatch holds DecodeBatch to its contract on any input: no panic,
// fn never called when an error says the batch was not delivered, each id at
// most once, results that are valid JSON sub-slices of the body, agreement
// with encoding/json on what is valid JSON, and allocation bounded by the
// body size. Seeds: testdata/fuzz/FuzzDecodeBatch plus the cases below.
func FuzzDecodeBatch(f *testing.F) {
	for _, s := range []string{
		``, `null`, `[]`, `{}`, `[{}]`, `[1]`, `"x"`,
		`[{"jsonrpc":"2.0","id":1,"result":1},{"jsonrpc":"2.0","id":"2","error":{"code":-32601,"message":"m","data":[1]}}]`,
		`{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}`,
		`[{"id":2,"result":1},{"id":1,"result":2},{"id":2,"result":3}]`,
		`[{"id":null,"error":{"code":1,"message":"\ud83d\ude00\u0000"}},{"id":1.5,"result":{}}]`,
	} {
		f.Add([]byte(s))
	}
	body := benchResponseBody()
	f.Add(append(body[:bytes.Index(body, []byte(`,{"jsonrpc":"2.0","id":3,`))], ']')) // two records; the full body makes minimizing slow
	f.Fuzz(func(t *testing.T, body []byte) {
		orig := bytes.Clone(body)
		seen := make(map[uint64]bool)
		calls := 0
		fn := func(id uint64, result []byte, e *Error) {
			calls++
			if seen[id] {
				t.Fatalf("id %d delivered twice", id)
			}
			seen[id] = true
			if (result == nil) == (e == nil) {
				t.Fatalf("id %d: exactly one of result and err must be set", id)
			}
			if result != nil {
				if !json.Valid(result) {
					t.Fatalf("id %d: result %q is not valid JSON", id, result)
				}
				if !within(result, body) {
					t.Fatalf("id %d: result is not a sub-slice of the body", id)
				}
			}
			if e != nil && e.Data != nil && !json.Valid(e.Data) {
				t.Fatalf("id %d: error data %q is not valid JSON", id, e.Data)
			}
		}

		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := DecodeBatch(body, fn)
		runtime.ReadMemStats(&after)
		// Per element at most: one *Error with a message and a copy of its
		// data (disjoint spans of the body) plus 40 bytes of scratch.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(64*len(body)+64<<10) {
			t.Fatalf("allocated %d bytes for a %d-byte body", alloc, len(body))
		}
		if !bytes.Equal(body, orig) {
			t.Fatal("DecodeBatch modified the body")
		}

		var rej *BatchRejectedError
		var un *UnmatchedError
		malformed := errors.Is(err, ErrMalformedResponse)
		switch {
		case err == nil:
		case malformed, errors.Is(err, ErrEmptyBatch), errors.As(err, &rej):
			if calls != 0 {
				t.Fatalf("fn called %d times before %v", calls, err)
			}
		case errors.As(err, &un):
			if un.Count < len(un.Errors) || len(un.Errors) == 0 || len(un.Errors) > MaxUnmatchedErrors {
				t.Fatalf("inconsistent UnmatchedError: count %d, %d errors", un.Count, len(un.Errors))
			}
		default:
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
		valid := json.Valid(body)
		if !valid && !malformed {
			t.Fatalf("invalid JSON accepted: %v", err)
		}
		if valid && malformed && shapeOK(body) {
			t.Fatalf("valid response rejected as malformed: %v", err)
		}
	})
}

// within reports whether s lies inside b's backing array.
func within(s, b []byte) bool {
	if len(s) == 0 || len(b) == 0 {
		return false
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	return p >= start && p+uintptr(len(s)) <= start+uintptr(len(b))
}

// shapeOK reports whether valid JSON b has the shape DecodeBatch accepts: an
// object or a non-empty array of objects, nested less deep than maxDepth.
func shapeOK(b []byte) bool {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return false
	}
	switch x := v.(type) {
	case map[string]any:
	case []any:
		for _, el := range x {
			if _, ok := el.(map[string]any); !ok {
				return false
			}
		}
	default:
		return false
	}
	depth, maxSeen, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && (c == '[' || c == '{'):
			depth++
			maxSeen = max(maxSeen, depth)
		case !inString && (c == ']' || c == '}'):
			depth--
		}
	}
	return maxSeen < maxDepth
}

// FuzzDecompress holds Decompress to its limit on any input and checks that
// Compress and Decompress round-trip: output never beyond the limit, dst
// untouched on error, allocation bounded by the limit.
func FuzzDecompress(f *testing.F) {
	body := benchResponseBody()
	gz, _ := Compress(nil, body, EncodingGzip)
	zs, _ := Compress(nil, body, EncodingZstd)
	f.Add(gz, uint8(1), uint32(len(body)))
	f.Add(zs, uint8(2), uint32(len(body)))
	f.Add(zs, uint8(2), uint32(100))
	f.Add([]byte("plain"), uint8(0), uint32(3))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, uint8(1), uint32(1000))
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0x58}, uint8(2), uint32(1000))
	encodings := []string{EncodingIdentity, EncodingGzip, EncodingZstd}
	f.Fuzz(func(t *testing.T, data []byte, encSel uint8, limit32 uint32) {
		enc := encodings[int(encSel)%len(encodings)]
		limit := int(limit32%(1<<20)) + 1
		prefix := []byte("prefix")

		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		out, err := Decompress(prefix, data, enc, limit)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(3*limit+zstdMaxWindow+(2<<20)) {
			t.Fatalf("%s: allocated %d bytes with limit %d", enc, alloc, limit)
		}
		if err != nil {
			if string(out) != "prefix" {
				t.Fatalf("%s: dst changed on error", enc)
			}
			if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s: unexpected error %v", enc, err)
			}
		} else if len(out)-len(prefix) > limit {
			t.Fatalf("%s: %d bytes out, limit %d", enc, len(out)-len(prefix), limit)
		}

		// Round trip: data compressed and decompressed with an exact limit.
		c, err := Compress(nil, data, enc)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decompress(nil, c, enc, max(len(data), 1))
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("%s: round trip of %d bytes failed: %v", enc, len(data), err)
		}
		if len(data) > 1 {
			if _, err := Decompress(nil, c, enc, len(data)-1); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%s: one byte under the size must be ErrTooLarge, got %v", enc, err)
			}
		}
	})
}
