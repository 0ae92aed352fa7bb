package codec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// randomStructType builds a struct type with reflect.StructOf: fields of
// every kind the plans handle, tags with and without names and omitempty,
// nested structs, pointers, slices, arrays and interface fields.
func randomStructType(r *rand.Rand, depth int) reflect.Type {
	n := r.IntN(7)
	fields := make([]reflect.StructField, 0, n)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("F%d", i)
		var tag string
		switch r.IntN(6) {
		case 0:
			tag = fmt.Sprintf(`json:"f%d"`, i)
		case 1:
			tag = fmt.Sprintf(`json:"f%d,omitempty"`, i)
		case 2:
			tag = `json:",omitempty"`
		case 3:
			tag = fmt.Sprintf(`json:"k\u00e9%d"`, i) // a non-ASCII name is valid
		case 4:
			tag = fmt.Sprintf(`json:"bad\"name%d"`, i) // invalid: the Go name is used
		}
		fields = append(fields, reflect.StructField{Name: name, Type: randomFieldType(r, depth), Tag: reflect.StructTag(tag)})
	}
	fields = append(fields, reflect.StructField{Name: "Skipped", Type: reflect.TypeFor[string](), Tag: `json:"-"`})
	return reflect.StructOf(fields)
}

func randomFieldType(r *rand.Rand, depth int) reflect.Type {
	scalars := []reflect.Type{
		reflect.TypeFor[string](), reflect.TypeFor[bool](), reflect.TypeFor[int](), reflect.TypeFor[int8](),
		reflect.TypeFor[int64](), reflect.TypeFor[uint16](), reflect.TypeFor[uint64](), reflect.TypeFor[float64](),
		reflect.TypeFor[float32](), reflect.TypeFor[any](), reflect.TypeFor[map[string]any](), reflect.TypeFor[map[string]string](),
	}
	k := r.IntN(16)
	if depth > 3 && k >= len(scalars) {
		k = r.IntN(len(scalars))
	}
	switch {
	case k < len(scalars):
		return scalars[k]
	case k == 12:
		return randomStructType(r, depth+1)
	case k == 13:
		return reflect.PointerTo(randomFieldType(r, depth+1))
	case k == 14:
		return reflect.SliceOf(randomFieldType(r, depth+1))
	default:
		return reflect.ArrayOf(r.IntN(3), randomFieldType(r, depth+1))
	}
}

// fillRandom sets v (settable) to a random value of its type, leaving some
// fields zero so omitempty is exercised.
func fillRandom(r *rand.Rand, v reflect.Value, depth int) {
	if r.IntN(4) == 0 {
		return // zero
	}
	switch v.Kind() {
	case reflect.String:
		strs := []string{"", "scope", "acc://example.acme/tokens", `q"uote`, `back\slash`, "ctl\x00\x1f\n", "<&>", "é😀", "bad\xffutf8\xc3", "\u2028"}
		v.SetString(strs[r.IntN(len(strs))])
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int64:
		v.SetInt(r.Int64N(256) - 128)
	case reflect.Uint16, reflect.Uint64:
		v.SetUint(r.Uint64N(1 << 16))
	case reflect.Float64, reflect.Float32:
		floats := []float64{0.1, 1e-7, 1e21, -2.5, 123456.75, 1.0 / 3, math.SmallestNonzeroFloat32}
		v.SetFloat(floats[r.IntN(len(floats))])
	case reflect.Interface:
		if g := randomGeneric(r, 3); g != nil {
			v.Set(reflect.ValueOf(g))
		}
	case reflect.Map:
		if v.Type() == reflect.TypeFor[map[string]any]() {
			v.Set(reflect.ValueOf(map[string]any{"b": 1, "a": randomGeneric(r, 4)}))
		} else {
			v.Set(reflect.ValueOf(map[string]string{"z": "1", "y": "<&>"}))
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fillRandom(r, v.Field(i), depth+1)
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillRandom(r, p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), r.IntN(3), r.IntN(3)+3)
		for i := 0; i < s.Len(); i++ {
			fillRandom(r, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fillRandom(r, v.Index(i), depth+1)
		}
	}
}

// Struct params get exactly encoding/json's bytes (HTML escaping off), by
// value and by pointer, alone and inside generic maps.
func TestStructParamsMatchEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		typ := randomStructType(r, 0)
		p := reflect.New(typ)
		fillRandom(r, p.Elem(), 0)
		for _, v := range []any{p.Interface(), p.Elem().Interface(), map[string]any{"s": p.Interface(), "n": 1}} {
			want := stdEncode(t, v)
			got, ok := appendReflect(nil, v, 0)
			if _, isMap := v.(map[string]any); isMap {
				got, ok = appendGeneric(nil, v, 0)
			}
			if !ok {
				t.Fatalf("plan refused %s: %s", typ, want)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("type %s\n got %s\nwant %s", typ, got, want)
			}
			enc, err := EncodeParams(v)
			if err != nil || !bytes.Equal(enc, want) {
				t.Fatalf("EncodeParams: %s, %v; want %s", enc, err, want)
			}
			buf := []byte("x")
			if err := AppendParamsTo(&buf, v); err != nil || !bytes.Equal(buf[1:], want) {
				t.Fatalf("AppendParamsTo: %s, %v; want %s", buf, err, want)
			}
		}
	}
}

type marshalerParam struct{ N int }

func (m marshalerParam) MarshalJSON() ([]byte, error) {
	return []byte(`{"custom": ` + strconv.Itoa(m.N) + `}`), nil
}

type ptrTextParam struct{ S string }

func (p *ptrTextParam) MarshalText() ([]byte, error) { return []byte("text:" + p.S), nil }

type embeddedBase struct {
	Scope string `json:"scope"`
}

// Types whose encoding a plan does not reproduce go to sonic whole, and the
// bytes are sonic's (the old path); so do cyclic values, which it reports.
func TestStructParamsFallBackToSonic(t *testing.T) {
	type withMarshaler struct {
		M marshalerParam `json:"m"`
	}
	type withPtrText struct {
		P ptrTextParam `json:"p"`
	}
	type withEmbedded struct {
		embeddedBase
		Extra int `json:"extra"`
	}
	type withString struct {
		N int `json:"n,string"`
	}
	type withBytes struct {
		B []byte `json:"b"`
	}
	type withTime struct {
		T time.Time `json:"t"`
	}
	type withNumber struct {
		N json.Number `json:"n"`
	}
	type withOtherMap struct {
		M map[string]int `json:"m"`
	}
	// Two fields named "x" (built with StructOf: vet rightly refuses the
	// literal).
	withDup := reflect.New(reflect.StructOf([]reflect.StructField{
		{Name: "A", Type: reflect.TypeFor[int](), Tag: `json:"x"`},
		{Name: "B", Type: reflect.TypeFor[int](), Tag: `json:"x"`},
	})).Elem().Interface()
	type cyclic struct {
		Next *cyclic `json:"next"`
	}
	loop := &cyclic{}
	loop.Next = loop
	for _, v := range []any{
		withMarshaler{M: marshalerParam{N: 2}},
		withPtrText{P: ptrTextParam{S: "a"}},
		&withEmbedded{embeddedBase: embeddedBase{Scope: "acc://a"}, Extra: 1},
		withString{N: 7},
		withBytes{B: []byte("hi")},
		withTime{T: time.Unix(1700000000, 0).UTC()},
		withOtherMap{M: map[string]int{"b": 2, "a": 1}},
		&withNumber{N: "12.50"},
		withDup,
	} {
		t.Run(fmt.Sprintf("%T", v), func(t *testing.T) {
			got, want := checkGoesToSonic(t, v)
			if std := stdEncode(t, v); !bytes.Equal(want, std) && !json.Valid(got) {
				t.Fatalf("invalid JSON %s", got)
			}
		})
	}
	t.Run("cycle", func(t *testing.T) {
		if _, err := EncodeParams(loop); err == nil {
			t.Fatal("a cyclic value encoded without error")
		}
		if _, err := AppendParams(nil, loop); err == nil {
			t.Fatal("a cyclic value appended without error")
		}
	})
}

// A nil pointer to a struct is JSON null: no params.
func TestStructParamsNilPointer(t *testing.T) {
	type p struct {
		A int `json:"a"`
	}
	got, err := EncodeParams((*p)(nil))
	if err != nil || got != nil {
		t.Fatalf("got %q, %v; want no params", got, err)
	}
}

type selfSlice []selfSlice

type selfPtr *selfPtr

type selfPtrSlice []*selfPtrSlice

type selfArray [2]*selfArray

// Types that hold themselves other than through a struct get no plan (the
// plan builder used to recurse forever on them) and go to sonic, alone, in
// a field, inside any and inside a map.
func TestStructParamsSelfReferentialTypes(t *testing.T) {
	type withSlice struct {
		X selfSlice `json:"x"`
	}
	type withPtr struct {
		X selfPtr `json:"x"`
	}
	type withAny struct {
		A any `json:"a"`
	}
	for _, v := range []any{
		selfSlice{selfSlice{}, nil},
		selfPtrSlice{nil, &selfPtrSlice{}},
		selfArray{},
		withSlice{X: selfSlice{selfSlice{}}},
		&withPtr{},
		withAny{A: selfSlice{}},
		map[string]any{"a": selfSlice{nil}},
	} {
		t.Run(fmt.Sprintf("%T", v), func(t *testing.T) { checkGoesToSonic(t, v) })
	}
}

// checkGoesToSonic asserts that v gets no plan and that EncodeParams gives
// sonic's bytes for it; it returns both.
func checkGoesToSonic(t *testing.T, v any) (got, want []byte) {
	t.Helper()
	if _, ok := appendReflect(nil, v, 0); ok {
		t.Fatalf("plan took %T, which it does not reproduce", v)
	}
	want, err := paramsAPI.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err = EncodeParams(v)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("EncodeParams: %s, %v; sonic gives %s", got, err, want)
	}
	return got, want
}
