package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// delivery is one fn call of DecodeBatch, rendered for comparison.
type delivery struct {
	id     uint64
	result string
	code   int
	msg    string
	data   string
}

func (d delivery) String() string {
	if d.result != "" {
		return fmt.Sprintf("id=%d result=%s", d.id, d.result)
	}
	return fmt.Sprintf("id=%d error=%d %q data=%s", d.id, d.code, d.msg, d.data)
}

func collect(t *testing.T, body string) ([]delivery, error) {
	t.Helper()
	var got []delivery
	err := DecodeBatch([]byte(body), func(id uint64, result []byte, e *Error) {
		if (result == nil) == (e == nil) {
			t.Fatalf("id %d: exactly one of result and err must be set: result=%q err=%v", id, result, e)
		}
		d := delivery{id: id, result: string(result)}
		if e != nil {
			d.code, d.msg, d.data = e.Code, e.Message, string(e.Data)
		}
		got = append(got, d)
	})
	return got, err
}

func res(id uint64, result string) delivery { return delivery{id: id, result: result} }
func rpcErr(id uint64, code int, msg, data string) delivery {
	return delivery{id: id, code: code, msg: msg, data: data}
}

func TestDecodeBatch(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []delivery
		// check inspects the returned error; nil means it must be nil.
		check func(t *testing.T, err error)
	}{
		{
			name: "results in request order are delivered in body order",
			body: `[{"jsonrpc":"2.0","id":1,"result":{"a":1}},{"jsonrpc":"2.0","id":2,"result":[1,2]}]`,
			want: []delivery{res(1, `{"a":1}`), res(2, `[1,2]`)},
		},
		{
			name: "results in any order are matched by id",
			body: `[{"jsonrpc":"2.0","id":3,"result":3},{"jsonrpc":"2.0","id":1,"result":1},{"jsonrpc":"2.0","id":2,"result":2}]`,
			want: []delivery{res(3, `3`), res(1, `1`), res(2, `2`)},
		},
		{
			name: "ids as strings holding a number are accepted",
			body: `[{"jsonrpc":"2.0","id":"7","result":true},{"jsonrpc":"2.0","id":"18446744073709551615","result":false}]`,
			want: []delivery{res(7, `true`), res(18446744073709551615, `false`)},
		},
		{
			name: "result null is a result",
			body: `[{"jsonrpc":"2.0","id":1,"result":null}]`,
			want: []delivery{res(1, `null`)},
		},
		{
			name: "result is raw JSON with whitespace and escapes kept",
			body: "[ {\"jsonrpc\" : \"2.0\" , \"id\" : 1 , \"result\" : { \"s\" : \"a\\\"b\\u00e9\" } } ]",
			want: []delivery{res(1, "{ \"s\" : \"a\\\"b\\u00e9\" }")},
		},
		{
			name: "error element carries code message and data",
			body: `[{"jsonrpc":"2.0","id":4,"error":{"code":-33404,"message":"acc://x not found","data":{"code":"notFound"}}}]`,
			want: []delivery{rpcErr(4, -33404, "acc://x not found", `{"code":"notFound"}`)},
		},
		{
			name: "error message escapes are decoded",
			body: `[{"jsonrpc":"2.0","id":4,"error":{"code":-32000,"message":"a\nb \"q\" \u00e9 \ud83d\ude00 \ud800"}}]`,
			want: []delivery{rpcErr(4, -32000, "a\nb \"q\" é 😀 \ufffd", "")},
		},
		{
			name: "mixed results and errors each reach their id",
			body: `[{"jsonrpc":"2.0","id":1,"result":1},{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"Method not found"}},{"jsonrpc":"2.0","id":3,"result":3}]`,
			want: []delivery{res(1, `1`), rpcErr(2, -32601, "Method not found", ""), res(3, `3`)},
		},
		{
			name: "duplicate ids in order: first wins",
			body: `[{"jsonrpc":"2.0","id":1,"result":"first"},{"jsonrpc":"2.0","id":1,"result":"second"},{"jsonrpc":"2.0","id":2,"result":2}]`,
			want: []delivery{res(1, `"first"`), res(2, `2`)},
		},
		{
			name: "duplicate ids out of order: first in body wins",
			body: `[{"jsonrpc":"2.0","id":5,"result":"a"},{"jsonrpc":"2.0","id":2,"result":"b"},{"jsonrpc":"2.0","id":"5","error":{"code":1,"message":"c"}},{"jsonrpc":"2.0","id":2,"result":"d"}]`,
			want: []delivery{res(5, `"a"`), res(2, `"b"`)},
		},
		{
			name: "unknown ids are passed on for the caller to ignore",
			body: `[{"jsonrpc":"2.0","id":999,"result":1}]`,
			want: []delivery{res(999, `1`)},
		},
		{
			name: "unknown members are ignored",
			body: `[{"jsonrpc":"2.0","id":1,"result":1,"extra":{"x":[1,2]},"ID":7}]`,
			want: []delivery{res(1, `1`)},
		},
		{
			name: "repeated member: last one counts",
			body: `[{"jsonrpc":"2.0","id":1,"id":2,"result":1,"result":2}]`,
			want: []delivery{res(2, `2`)},
		},
		{
			name: "both result and error is a per-element error",
			body: `[{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":-32000,"message":"x"}}]`,
			want: []delivery{rpcErr(1, CodeInvalidResponse, "codec: response has both result and error", "")},
		},
		{
			name: "neither result nor error is a per-element error",
			body: `[{"jsonrpc":"2.0","id":1}]`,
			want: []delivery{rpcErr(1, CodeInvalidResponse, "codec: response has neither result nor error", "")},
		},
		{
			name: "wrong jsonrpc version is a per-element error",
			body: `[{"jsonrpc":"1.0","id":1,"result":1},{"jsonrpc":2.0,"id":2,"result":2},{"jsonrpc":"2.0","id":3,"result":3}]`,
			want: []delivery{
				rpcErr(1, CodeInvalidResponse, `codec: response "jsonrpc" member is not "2.0"`, ""),
				rpcErr(2, CodeInvalidResponse, `codec: response "jsonrpc" member is not "2.0"`, ""),
				res(3, `3`),
			},
		},
		{
			name: "missing jsonrpc member is accepted (JSON-RPC 1.0 style server)",
			body: `[{"id":1,"result":1}]`,
			want: []delivery{res(1, `1`)},
		},
		{
			name: "error null beside a result counts as no error",
			body: `[{"id":1,"result":1,"error":null}]`,
			want: []delivery{res(1, `1`)},
		},
		{
			name: "result null beside an error object counts as no result",
			body: `[{"id":1,"result":null,"error":{"code":-32000,"message":"boom"}}]`,
			want: []delivery{rpcErr(1, -32000, "boom", "")},
		},
		{
			name: "error null without result is neither",
			body: `[{"jsonrpc":"2.0","id":1,"error":null}]`,
			want: []delivery{rpcErr(1, CodeInvalidResponse, "codec: response has neither result nor error", "")},
		},
		{
			name: "error that is not an object is a per-element error keeping the raw member",
			body: `[{"jsonrpc":"2.0","id":1,"error":"boom"}]`,
			want: []delivery{rpcErr(1, CodeInvalidResponse, "codec: malformed error object", `"boom"`)},
		},
		{
			name: "error object without integer code is a per-element error",
			body: `[{"jsonrpc":"2.0","id":1,"error":{"code":1.5,"message":"x"}},{"jsonrpc":"2.0","id":2,"error":{"message":"x"}},{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":7}},{"jsonrpc":"2.0","id":4,"error":{"code":99999999999,"message":"x"}}]`,
			want: []delivery{
				rpcErr(1, CodeInvalidResponse, "codec: malformed error object", `{"code":1.5,"message":"x"}`),
				rpcErr(2, CodeInvalidResponse, "codec: malformed error object", `{"message":"x"}`),
				rpcErr(3, CodeInvalidResponse, "codec: malformed error object", `{"code":-1,"message":7}`),
				rpcErr(4, CodeInvalidResponse, "codec: malformed error object", `{"code":99999999999,"message":"x"}`),
			},
		},
		{
			name: "error object without message has an empty message",
			body: `[{"jsonrpc":"2.0","id":1,"error":{"code":-32603}}]`,
			want: []delivery{rpcErr(1, CodeInternalError, "", "")},
		},
		{
			name: "error with id null is reported as unmatched after the rest was delivered",
			body: `[{"jsonrpc":"2.0","id":1,"result":1},{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}},{"jsonrpc":"2.0","id":3,"result":3}]`,
			want: []delivery{res(1, `1`), res(3, `3`)},
			check: func(t *testing.T, err error) {
				var ue *UnmatchedError
				if !errors.As(err, &ue) || ue.Count != 1 || len(ue.Errors) != 1 || ue.Errors[0].Code != CodeInvalidRequest || ue.Errors[0].Message != "Invalid Request" {
					t.Fatalf("want *UnmatchedError with the server's -32600, got %#v", err)
				}
				var e *Error
				if !errors.As(err, &e) || e.Code != CodeInvalidRequest {
					t.Fatalf("errors.As(*Error) through UnmatchedError: got %v", e)
				}
			},
		},
		{
			name: "unusable ids (negative, fractional, exponent, non-numeric string, object) are unmatched",
			body: `[{"id":-1,"result":1},{"id":1.5,"result":1},{"id":1e2,"result":1},{"id":"abc","result":1},{"id":{},"result":1},{"id":"","result":1},{"id":"18446744073709551616","result":1},{"result":1}]`,
			check: func(t *testing.T, err error) {
				var ue *UnmatchedError
				if !errors.As(err, &ue) || ue.Count != 8 || len(ue.Errors) != 8 {
					t.Fatalf("want 8 unmatched, got %#v", err)
				}
				for _, e := range ue.Errors {
					if e.Code != CodeInvalidResponse || e.Message != "codec: result without usable id" {
						t.Fatalf("unmatched result: got %v", e)
					}
				}
			},
		},
		{
			name: "unmatched errors are capped but counted",
			body: "[" + strings.Repeat(`{"id":null,"error":{"code":-32600,"message":"x"}},`, MaxUnmatchedErrors+10) + `{"id":1,"result":1}]`,
			want: []delivery{res(1, `1`)},
			check: func(t *testing.T, err error) {
				var ue *UnmatchedError
				if !errors.As(err, &ue) || ue.Count != MaxUnmatchedErrors+10 || len(ue.Errors) != MaxUnmatchedErrors {
					t.Fatalf("want %d kept of %d, got %#v", MaxUnmatchedErrors, MaxUnmatchedErrors+10, err)
				}
				if !strings.Contains(ue.Error(), "74 response elements") {
					t.Fatalf("message should give the count: %v", ue)
				}
			},
		},
		{
			name: "single success object with usable id is delivered",
			body: `{"jsonrpc":"2.0","id":"42","result":{"ok":true}}`,
			want: []delivery{res(42, `{"ok":true}`)},
		},
		{
			name: "single error object rejects the whole batch",
			body: `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request","data":"empty batch"}}`,
			check: func(t *testing.T, err error) {
				var be *BatchRejectedError
				if !errors.As(err, &be) || be.HasID || be.Err.Code != CodeInvalidRequest || be.Err.Message != "Invalid Request" || string(be.Err.Data) != `"empty batch"` {
					t.Fatalf("want *BatchRejectedError with the server's error, got %#v", err)
				}
				var e *Error
				if !errors.As(err, &e) || e != be.Err {
					t.Fatalf("errors.As(*Error) must reach the server's error")
				}
				if !NeverExecuted(be.Err.Code) {
					t.Fatalf("-32600 must count as never executed")
				}
			},
		},
		{
			name: "single error object with an id still rejects, and says which id",
			body: `{"jsonrpc":"2.0","id":9,"error":{"code":-32005,"message":"rate limited"}}`,
			check: func(t *testing.T, err error) {
				var be *BatchRejectedError
				if !errors.As(err, &be) || !be.HasID || be.ID != 9 || be.Err.Code != -32005 {
					t.Fatalf("want *BatchRejectedError id 9, got %#v", err)
				}
			},
		},
		{
			name: "single object with a malformed error still rejects, with a client-side code",
			body: `{"jsonrpc":"2.0","id":null,"error":[1]}`,
			check: func(t *testing.T, err error) {
				var be *BatchRejectedError
				if !errors.As(err, &be) || be.Err.Code != CodeInvalidResponse || string(be.Err.Data) != `[1]` {
					t.Fatalf("want *BatchRejectedError with CodeInvalidResponse, got %#v", err)
				}
			},
		},
		{
			name: "single success object without usable id is unmatched",
			body: `{"jsonrpc":"2.0","id":null,"result":1}`,
			check: func(t *testing.T, err error) {
				var ue *UnmatchedError
				if !errors.As(err, &ue) || ue.Count != 1 {
					t.Fatalf("want *UnmatchedError, got %#v", err)
				}
			},
		},
		{
			name: "single object with both result and error is a per-element error",
			body: `{"jsonrpc":"2.0","id":3,"result":1,"error":{"code":1,"message":"x"}}`,
			want: []delivery{rpcErr(3, CodeInvalidResponse, "codec: response has both result and error", "")},
		},
		{
			name:  "empty array means no call was answered",
			body:  ` [ ] `,
			check: wantIs(ErrEmptyBatch),
		},
		{name: "empty body is malformed", body: ``, check: wantIs(ErrMalformedResponse)},
		{name: "whitespace body is malformed", body: " \n\t ", check: wantIs(ErrMalformedResponse)},
		{name: "null is malformed", body: `null`, check: wantIs(ErrMalformedResponse)},
		{name: "a number is malformed", body: `42`, check: wantIs(ErrMalformedResponse)},
		{name: "a string is malformed", body: `"ok"`, check: wantIs(ErrMalformedResponse)},
		{name: "HTML error page is malformed", body: "<html><body><h1>502 Bad Gateway</h1></body></html>", check: wantIs(ErrMalformedResponse)},
		{name: "truncated body is malformed", body: `[{"jsonrpc":"2.0","id":1,"result":{"a":1}},{"jsonrpc":"2.0","id":2,"res`, check: wantIs(ErrMalformedResponse)},
		{name: "truncated inside a string is malformed", body: `[{"jsonrpc":"2.0","id":1,"result":"abc`, check: wantIs(ErrMalformedResponse)},
		{name: "trailing garbage after the array is malformed", body: `[{"jsonrpc":"2.0","id":1,"result":1}]garbage`, check: wantIs(ErrMalformedResponse)},
		{name: "two concatenated arrays are malformed", body: `[{"id":1,"result":1}][{"id":2,"result":2}]`, check: wantIs(ErrMalformedResponse)},
		{name: "trailing garbage after a single object is malformed", body: `{"jsonrpc":"2.0","id":1,"result":1}}`, check: wantIs(ErrMalformedResponse)},
		{name: "trailing garbage after an empty array is malformed", body: `[]x`, check: wantIs(ErrMalformedResponse)},
		{name: "a non-object element is malformed", body: `[{"id":1,"result":1},2]`, check: wantIs(ErrMalformedResponse)},
		{name: "null element is malformed", body: `[null]`, check: wantIs(ErrMalformedResponse)},
		{name: "syntax error late in the body delivers nothing", body: `[{"id":1,"result":1},{"id":2,"result":[1,2,}]`, check: wantIs(ErrMalformedResponse)},
		{name: "trailing comma is malformed", body: `[{"id":1,"result":1},]`, check: wantIs(ErrMalformedResponse)},
		{name: "raw control character in a string is malformed", body: "[{\"id\":1,\"result\":\"a\x01b\"}]", check: wantIs(ErrMalformedResponse)},
		{name: "invalid escape is malformed", body: `[{"id":1,"result":"\x41"}]`, check: wantIs(ErrMalformedResponse)},
		{name: "invalid number is malformed", body: `[{"id":01,"result":1}]`, check: wantIs(ErrMalformedResponse)},
		{name: "invalid literal is malformed", body: `[{"id":1,"result":tru}]`, check: wantIs(ErrMalformedResponse)},
		{name: "nesting beyond the limit is malformed", body: `[{"id":1,"result":` + strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1) + `}]`, check: wantIs(ErrMalformedResponse)},
		{
			name: "nesting up to the limit is fine",
			body: `[{"id":1,"result":` + strings.Repeat("[", maxDepth-2) + strings.Repeat("]", maxDepth-2) + `}]`,
			want: []delivery{res(1, strings.Repeat("[", maxDepth-2)+strings.Repeat("]", maxDepth-2))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(t, tt.body)
			if tt.check == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
			} else {
				tt.check(t, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("deliveries:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func wantIs(target error) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, target) {
			t.Fatalf("want error matching %v, got %v", target, err)
		}
	}
}

func TestDecodeBatchMalformedErrorHasOffsetAndExcerpt(t *testing.T) {
	body := `[{"jsonrpc":"2.0","id":1,"result":{"a":1,}}]`
	err := DecodeBatch([]byte(body), func(uint64, []byte, *Error) { t.Fatal("fn called") })
	if !errors.Is(err, ErrMalformedResponse) {
		t.Fatalf("got %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "offset 41") || !strings.Contains(msg, `"a\":1,}}]"`) {
		t.Fatalf("message lacks offset or excerpt: %s", msg)
	}
	long := "<html>" + strings.Repeat("x", 10000)
	if msg := DecodeBatch([]byte(long), nil).Error(); len(msg) > 200 {
		t.Fatalf("excerpt must stay short, got %d bytes", len(msg))
	}
}

// A result is a sub-slice of the body: no copy, no re-encoding, and the
// caller cannot grow it into the bytes that follow.
func TestDecodeBatchResultAliasesBody(t *testing.T) {
	body := []byte(`[{"jsonrpc":"2.0","id":1,"result":{"x":1}},{"jsonrpc":"2.0","id":2,"result":2}]`)
	var r1 []byte
	if err := DecodeBatch(body, func(id uint64, result []byte, _ *Error) {
		if id == 1 {
			r1 = result
		}
	}); err != nil {
		t.Fatal(err)
	}
	if string(r1) != `{"x":1}` {
		t.Fatalf("got %q", r1)
	}
	if cap(r1) != len(r1) {
		t.Fatalf("result capacity %d must equal its length %d so append cannot overwrite the body", cap(r1), len(r1))
	}
	idx := bytes.Index(body, []byte(`{"x":1}`))
	body[idx+5] = '9'
	if string(r1) != `{"x":9}` {
		t.Fatalf("result must alias body, got %q", r1)
	}
}

// Errors own their memory: reusing the body buffer must not change them.
func TestDecodeBatchErrorsOwnTheirMemory(t *testing.T) {
	body := []byte(`[{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"msg","data":{"k":"v"}}}]`)
	var got *Error
	if err := DecodeBatch(body, func(_ uint64, _ []byte, e *Error) { got = e }); err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'X'
	}
	if got.Message != "msg" || string(got.Data) != `{"k":"v"}` {
		t.Fatalf("error changed with the body: %+v", got)
	}
}

// Many elements, shuffled, with duplicates: every id delivered exactly once,
// with the first body occurrence, and the decoder agrees with encoding/json.
func TestDecodeBatchLargeShuffledWithDuplicates(t *testing.T) {
	const n = 2000
	var b strings.Builder
	b.WriteByte('[')
	first := make(map[uint64]string)
	for i := 0; i < 3*n; i++ {
		id := uint64((i * 7919) % n) // visits every id 3 times, out of order
		val := fmt.Sprintf(`{"i":%d}`, i)
		if _, ok := first[id]; !ok {
			first[id] = val
		}
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%d,"result":%s}`, id, val)
	}
	b.WriteByte(']')
	seen := make(map[uint64]bool)
	err := DecodeBatch([]byte(b.String()), func(id uint64, result []byte, e *Error) {
		if seen[id] {
			t.Fatalf("id %d delivered twice", id)
		}
		seen[id] = true
		if string(result) != first[id] {
			t.Fatalf("id %d: got %s, want first occurrence %s", id, result, first[id])
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("delivered %d ids, want %d", len(seen), n)
	}
}

// The benchmark body decodes to the same results with both decoders.
func TestDecodeBatchAgreesWithEncodingJSON(t *testing.T) {
	body := benchResponseBody()
	var want []jsonResponse
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatal(err)
	}
	k := 0
	if err := DecodeBatch(body, func(id uint64, result []byte, e *Error) {
		if e != nil || id != want[k].ID || !bytes.Equal(result, want[k].Result) {
			t.Fatalf("element %d: got id %d %s %v, want id %d %s", k, id, result, e, want[k].ID, want[k].Result)
		}
		k++
	}); err != nil {
		t.Fatal(err)
	}
	if k != benchBatchSize {
		t.Fatalf("delivered %d, want %d", k, benchBatchSize)
	}
}

// Concurrent decoders share pooled scratch; under -race this proves the pool
// hands each call its own state.
func TestDecodeBatchConcurrent(t *testing.T) {
	body := benchResponseBody()
	shuffled := []byte(`[{"id":3,"result":3},{"id":1,"result":1},{"id":3,"result":"dup"},{"id":2,"result":2}]`)
	done := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 50; i++ {
				var n, sum int
				err := DecodeBatch(body, func(id uint64, _ []byte, _ *Error) { n++ })
				if err == nil && n != benchBatchSize {
					err = fmt.Errorf("got %d deliveries", n)
				}
				if err == nil {
					err = DecodeBatch(shuffled, func(id uint64, r []byte, _ *Error) { sum += int(id) * len(r) })
				}
				if err == nil && sum != 6 {
					err = fmt.Errorf("shuffled: sum %d", sum)
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// The scanner reads strings eight bytes at a time; every special byte at
// every offset within and across those words must be judged as
// encoding/json judges it.
func TestScannerStringsAgreeWithEncodingJSON(t *testing.T) {
	specials := []string{`"`, `\"`, `\\`, `\n`, `\u00e9`, `\u12`, `\x`, "\x00", "\x01", "\x1f", " ", "\x7f", "\x80", "\xff", "é", "\\"}
	for pre := 0; pre < 140; pre++ { // across two 64-byte mask blocks
		for post := 0; post < 10; post++ {
			for _, sp := range specials {
				body := `"` + strings.Repeat("a", pre) + sp + strings.Repeat("b", post) + `"`
				if got, want := validJSON([]byte(body)) == nil, json.Valid([]byte(body)); got != want {
					t.Fatalf("%q: scanner says valid=%v, encoding/json %v", body, got, want)
				}
			}
		}
	}
}

func TestDecodeResponse(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantResult string
		wantCode   int  // server's *Error code when non-zero
		malformed  bool // error wraps ErrMalformedResponse
	}{
		{name: "result for the id", body: `{"jsonrpc":"2.0","id":7,"result":{"a":1}}`, wantResult: `{"a":1}`},
		{name: "string id", body: `{"jsonrpc":"2.0","id":"7","result":1}`, wantResult: `1`},
		{name: "one-element array", body: `[{"jsonrpc":"2.0","id":7,"result":1}]`, wantResult: `1`},
		{name: "server error for the id", body: `{"jsonrpc":"2.0","id":7,"error":{"code":-33404,"message":"not found"}}`, wantCode: -33404},
		{name: "server error with id null (could not parse)", body: `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}`, wantCode: CodeParseError},
		{name: "id-less error inside an array", body: `[{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}]`, wantCode: CodeInvalidRequest},
		{name: "per-element problem is a client-side code", body: `{"jsonrpc":"2.0","id":7}`, wantCode: CodeInvalidResponse},
		{name: "result for another id", body: `{"jsonrpc":"2.0","id":8,"result":1}`, malformed: true},
		{name: "error for another id", body: `{"jsonrpc":"2.0","id":8,"error":{"code":1,"message":"x"}}`, malformed: true},
		{name: "HTML page", body: `<html>`, malformed: true},
		{name: "empty array", body: `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			result, err := DecodeResponse([]byte(tt.body), 7)
			var e *Error
			switch {
			case tt.wantResult != "":
				if err != nil || string(result) != tt.wantResult {
					t.Fatalf("got %q, %v; want %s", result, err, tt.wantResult)
				}
			case tt.wantCode != 0:
				if !errors.As(err, &e) || e.Code != tt.wantCode || result != nil {
					t.Fatalf("got %q, %v; want *Error %d", result, err, tt.wantCode)
				}
			case tt.malformed:
				if !errors.Is(err, ErrMalformedResponse) {
					t.Fatalf("got %q, %v; want ErrMalformedResponse", result, err)
				}
			default:
				if err == nil || result != nil {
					t.Fatalf("got %q, %v; want an error", result, err)
				}
			}
		})
	}
}
