package codec

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomGeneric builds a nested generic value of the kinds the generic path
// handles, with awkward strings and numbers.
func randomGeneric(r *rand.Rand, depth int) any {
	strs := []string{"", "a", "scope", "acc://example.acme/tokens", `q"uote`, `back\slash`, "ctl\x00\x01\b\f\n\r\t\x1f", "<&>", "é😀", "bad\xffutf8\xc3", "\u2028\u2029", "\x7f"}
	str := func() string {
		s := strs[r.IntN(len(strs))]
		if r.IntN(3) == 0 {
			s += strs[r.IntN(len(strs))]
		}
		return s
	}
	floats := []float64{0, math.Copysign(0, -1), 1, -1.5, 1e-7, 1e-6, 123456789.125, 1e20, 1e21, 1e300, -2.5e-300, math.MaxFloat64, math.SmallestNonzeroFloat64, 0.1, 1.0 / 3}
	kind := r.IntN(14)
	if depth > 4 && kind >= 10 {
		kind = r.IntN(10)
	}
	switch kind {
	case 0:
		return nil
	case 1:
		return str()
	case 2:
		return r.IntN(2) == 0
	case 3:
		return r.Int64() - math.MaxInt64/2
	case 4:
		return r.Uint64()
	case 5:
		return floats[r.IntN(len(floats))]
	case 6:
		return float32(math.Mod(floats[r.IntN(len(floats))], math.MaxFloat32) * r.Float64())
	case 7:
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(50)-25))
	case 8:
		return int8(r.IntN(256) - 128)
	case 9:
		return []string{str(), str()}
	case 10, 11:
		m := map[string]any{}
		for i := r.IntN(20); i > 0; i-- {
			m[str()] = randomGeneric(r, depth+1)
		}
		return m
	case 12:
		m := map[string]string{}
		for i := r.IntN(5); i > 0; i-- {
			m[str()] = str()
		}
		return m
	default:
		s := make([]any, r.IntN(5))
		for i := range s {
			s[i] = randomGeneric(r, depth+1)
		}
		return s
	}
}

func stdEncode(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// The generic path gives exactly encoding/json's bytes (HTML escaping off).
func TestGenericParamsMatchEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		v := map[string]any{"params": randomGeneric(r, 0), "k": randomGeneric(r, 0)}
		want := stdEncode(t, v)
		got, ok := appendGeneric(nil, v, 0)
		if !ok {
			t.Fatalf("generic path refused %#v", v)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("value %#v\n got %s\nwant %s", v, got, want)
		}
		enc, err := EncodeParams(v)
		if err != nil || !bytes.Equal(enc, want) {
			t.Fatalf("EncodeParams: %s, %v", enc, err)
		}
		app, err := AppendParams([]byte("x"), v)
		if err != nil || !bytes.Equal(app[1:], want) {
			t.Fatalf("AppendParams: %s, %v", app, err)
		}
	}
}

// Values the generic path does not handle go to sonic, whole.
func TestGenericParamsFallBackToSonic(t *testing.T) {
	type inner struct {
		A int `json:"a"`
	}
	deep := any("leaf")
	for i := 0; i < maxGenericDepth+2; i++ {
		deep = []any{deep}
	}
	tests := []struct {
		name    string
		in      any
		want    string
		wantErr bool
	}{
		{name: "struct inside a map", in: map[string]any{"z": 1, "s": inner{A: 2}}, want: `{"s":{"a":2},"z":1}`},
		{name: "json.RawMessage inside a map", in: map[string]any{"r": json.RawMessage(`[1, 2]`)}, want: `{"r":[1,2]}`},
		{name: "json.Number inside a slice", in: []any{json.Number("12.50")}, want: `[12.50]`},
		{name: "NaN is refused", in: map[string]any{"f": math.NaN()}, wantErr: true},
		{name: "deep nesting is encoded by sonic", in: map[string]any{"d": deep}, want: `{"d":` + strings.Repeat("[", maxGenericDepth+2) + `"leaf"` + strings.Repeat("]", maxGenericDepth+2) + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, enc := range []func(any) ([]byte, error){EncodeParams, func(v any) ([]byte, error) { return AppendParams(nil, v) }} {
				got, err := enc(tt.in)
				if tt.wantErr {
					if err == nil {
						t.Fatalf("want error, got %s", got)
					}
					continue
				}
				if err != nil || string(got) != tt.want {
					t.Fatalf("got %s, %v; want %s", got, err, tt.want)
				}
			}
		})
	}
}

// FuzzGenericParams holds the generic params path to encoding/json's bytes
// for any keys, strings and numbers.
func FuzzGenericParams(f *testing.F) {
	f.Add("scope", "acc://example.acme/tokens", 1.5, int64(-3))
	f.Add("k\xff\u2028", "\x00<&>\"\\", 1e21, int64(math.MinInt64))
	f.Add("", "é😀\xc3", 1e-7, int64(0))
	f.Fuzz(func(t *testing.T, k, s string, fl float64, n int64) {
		if math.IsNaN(fl) || math.IsInf(fl, 0) {
			return // refused by both; covered by TestGenericParamsFallBackToSonic
		}
		type fuzzStruct struct {
			S   string   `json:"s,omitempty"`
			F   float64  `json:"f"`
			N   *int64   `json:"n,omitempty"`
			L   []string `json:"l"`
			Any any      `json:"any"`
		}
		st := &fuzzStruct{S: s, F: fl, N: &n, L: []string{k, s}, Any: map[string]any{k: s}}
		v := map[string]any{k: s, "f": fl, "f32": float32(math.Mod(fl, math.MaxFloat32)), "n": n, "list": []any{s, k, map[string]string{s: k}}, "struct": st}
		want := stdEncode(t, v)
		got, err := EncodeParams(v)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("got %s, %v\nwant %s", got, err, want)
		}
	})
}
