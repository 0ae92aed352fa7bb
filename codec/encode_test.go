package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

type paramsStruct struct {
	Scope string         `json:"scope"`
	Query map[string]any `json:"query"`
}

type marshalerParams struct{}

func (marshalerParams) MarshalJSON() ([]byte, error) { return []byte(`{ "b" : 1 , "a" : 2 }`), nil }

func TestEncodeParams(t *testing.T) {
	raw := json.RawMessage(`{"z":1,  "a":[1,2]}`)
	tests := []struct {
		name    string
		in      any
		want    string
		wantNil bool
		wantErr bool
	}{
		{name: "nil means no params", in: nil, wantNil: true},
		{name: "map keys are sorted at every level", in: map[string]any{"z": 1, "a": map[string]any{"y": 2, "b": []any{map[string]int{"d": 1, "c": 2}}}}, want: `{"a":{"b":[{"c":2,"d":1}],"y":2},"z":1}`},
		{name: "struct fields keep declaration order", in: paramsStruct{Scope: "acc://example.acme/tokens", Query: map[string]any{"queryType": "default"}}, want: `{"scope":"acc://example.acme/tokens","query":{"queryType":"default"}}`},
		{name: "positional params", in: []any{42, 23}, want: `[42,23]`},
		{name: "HTML characters are not escaped", in: map[string]string{"s": "<&>"}, want: `{"s":"<&>"}`},
		{name: "json.Marshaler output is compacted", in: marshalerParams{}, want: `{"b":1,"a":2}`},
		{name: "json.RawMessage passes through unchanged", in: raw, want: string(raw)},
		{name: "[]byte passes through unchanged", in: []byte(`[1, 2]`), want: `[1, 2]`},
		{name: "raw null means no params", in: json.RawMessage(`null`), wantNil: true},
		{name: "typed nil map encodes to null: no params", in: map[string]any(nil), wantNil: true},
		{name: "invalid raw JSON is refused", in: json.RawMessage(`{"a":`), wantErr: true},
		{name: "raw JSON with trailing data is refused", in: []byte(`{} {}`), wantErr: true},
		{name: "empty raw params are refused", in: []byte(``), wantErr: true},
		{name: "raw scalar is refused: params must be structured", in: json.RawMessage(`"x"`), wantErr: true},
		{name: "encoded scalar is refused: params must be structured", in: 42, wantErr: true},
		{name: "unencodable value is refused", in: map[string]any{"f": func() {}}, wantErr: true},
		{name: "invalid UTF-8 in strings becomes U+FFFD", in: map[string]string{"k\xff": "v\xfe\xfd"}, want: `{"k\ufffd":"v\ufffd\ufffd"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeParams(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidParams) {
					t.Fatalf("want ErrInvalidParams, got %q, %v", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantNil {
				if got != nil {
					t.Fatalf("want nil, got %q", got)
				}
				return
			}
			if string(got) != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
		t.Run("AppendParams/"+tt.name, func(t *testing.T) {
			dst := []byte("prefix")
			got, err := AppendParams(dst, tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidParams) || string(got) != "prefix" {
					t.Fatalf("want ErrInvalidParams and dst back, got %q, %v", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "prefix"+tt.want {
				t.Fatalf("got %s, want prefix%s", got, tt.want)
			}
		})
	}
}

func TestEncodeParamsRawIsNotCopied(t *testing.T) {
	raw := []byte(`{"a":1}`)
	got, err := EncodeParams(raw)
	if err != nil {
		t.Fatal(err)
	}
	if &got[0] != &raw[0] {
		t.Fatal("pre-encoded params must be returned as they are")
	}
}

// Equal params give equal bytes however the map was built: the dedup key.
func TestEncodeParamsIsDeterministic(t *testing.T) {
	first, err := EncodeParams(map[string]any{"scope": "acc://a", "query": map[string]any{"queryType": "default", "expand": true}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		m := map[string]any{}
		q := map[string]any{}
		q["expand"] = true
		q["queryType"] = "default"
		m["query"] = q
		m["scope"] = "acc://a"
		got, err := EncodeParams(m)
		if err != nil || string(got) != string(first) {
			t.Fatalf("iteration %d: %s != %s (%v)", i, got, first, err)
		}
	}
}

func TestAppendRequest(t *testing.T) {
	tests := []struct {
		name   string
		id     uint64
		method string
		params string
		want   string
	}{
		{name: "with params", id: 1, method: "query", params: `{"scope":"acc://a"}`, want: `{"jsonrpc":"2.0","id":1,"method":"query","params":{"scope":"acc://a"}}`},
		{name: "nil params omit the member", id: 2, method: "node-info", want: `{"jsonrpc":"2.0","id":2,"method":"node-info"}`},
		{name: "largest id", id: 1<<64 - 1, method: "m", want: `{"jsonrpc":"2.0","id":18446744073709551615,"method":"m"}`},
		{name: "quote and backslash are escaped", method: `a"b\c`, want: `{"jsonrpc":"2.0","id":0,"method":"a\"b\\c"}`},
		{name: "control characters are escaped", method: "a\nb\tc\x00\x1f\r", want: `{"jsonrpc":"2.0","id":0,"method":"a\nb\tc\u0000\u001f\r"}`},
		{name: "UTF-8 passes through", method: "héllo😀", want: `{"jsonrpc":"2.0","id":0,"method":"héllo😀"}`},
		{name: "invalid UTF-8 becomes U+FFFD", method: "a\xffb", want: `{"jsonrpc":"2.0","id":0,"method":"a\ufffdb"}`},
		{name: "line separators are escaped for JavaScript", method: "a\u2028b\u2029", want: `{"jsonrpc":"2.0","id":0,"method":"a\u2028b\u2029"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var params []byte
			if tt.params != "" {
				params = []byte(tt.params)
			}
			got := AppendRequest([]byte("prefix"), tt.id, tt.method, params)
			if string(got) != "prefix"+tt.want {
				t.Fatalf("got  %s\nwant prefix%s", got, tt.want)
			}
		})
	}
}

// Every method name round-trips through encoding/json to itself (with
// invalid UTF-8 replaced), so no name can break out of its string.
func TestAppendRequestMethodRoundTrip(t *testing.T) {
	names := []string{"", "query", `"`, `\`, `\"`, "\x00", "\x7f", "\u2028", "a\xc3", "\xed\xa0\x80", strings.Repeat("é\"\\\n", 50)}
	for c := 0; c < 256; c++ {
		names = append(names, string([]byte{byte(c)}))
	}
	for _, name := range names {
		b := AppendRequest(nil, 1, name, []byte(`[1]`))
		var req struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      uint64          `json:"id"`
			Method  string          `json:"method"`
			Params  json.RawMessage `json:"params"`
		}
		if err := json.Unmarshal(b, &req); err != nil {
			t.Fatalf("%q: %s: %v", name, b, err)
		}
		want := strings.ToValidUTF8(name, "\ufffd")
		if !utf8.ValidString(name) {
			// encoding/json replaces each invalid byte; so do we.
			want = string([]rune(string([]byte(name))))
		}
		if req.Method != want || req.JSONRPC != "2.0" || req.ID != 1 || string(req.Params) != `[1]` {
			t.Fatalf("%q: decoded %+v", name, req)
		}
	}
}

func TestAppendBatch(t *testing.T) {
	p := []byte(`{"a":1}`)
	buf := AppendBatchStart(nil)
	buf = AppendBatchRequest(buf, 1, "query", p)
	buf = AppendBatchRequest(buf, 2, "query", nil)
	buf = AppendBatchRequest(buf, 3, "m[", nil) // a '[' inside the previous request must not confuse the separator
	buf = AppendBatchEnd(buf)
	want := `[{"jsonrpc":"2.0","id":1,"method":"query","params":{"a":1}},{"jsonrpc":"2.0","id":2,"method":"query"},{"jsonrpc":"2.0","id":3,"method":"m["}]`
	if string(buf) != want {
		t.Fatalf("got  %s\nwant %s", buf, want)
	}
	var reqs []map[string]any
	if err := json.Unmarshal(buf, &reqs); err != nil || len(reqs) != 3 {
		t.Fatalf("batch is not a valid JSON array of 3: %v", err)
	}
	// A reused buffer starts a fresh batch.
	buf = AppendBatchStart(buf[:0])
	buf = AppendBatchRequest(buf, 9, "x", nil)
	buf = AppendBatchEnd(buf)
	if string(buf) != `[{"jsonrpc":"2.0","id":9,"method":"x"}]` {
		t.Fatalf("reused buffer: %s", buf)
	}
}

// AppendString gives encoding/json's bytes (HTML escaping off) for strings
// long enough to take the eight-bytes-at-a-time path, with every kind of
// byte that must be escaped or replaced at every offset.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	specials := []string{`"`, `\`, "\x00", "\x1f", "\n", "\x7f", "\x80", "\xff", "é", "😀", "\u2028", "\xe2\x80", " "}
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 40; n++ {
		for trial := 0; trial < 200; trial++ {
			b := make([]byte, 0, n+8)
			for len(b) < n {
				if r.IntN(6) == 0 {
					b = append(b, specials[r.IntN(len(specials))]...)
				} else {
					b = append(b, byte('!'+r.IntN(94)))
				}
			}
			s := string(b)
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(s); err != nil {
				t.Fatal(err)
			}
			if got := AppendString(nil, s); !bytes.Equal(got, bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
				t.Fatalf("%q:\n got %s\nwant %s", s, got, want.Bytes())
			}
		}
	}
}
