package codec

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// Params that are structs (or pointers to structs) of plain fields — the
// other shape callers pass — are encoded here from a per-type plan built
// once with reflection, instead of by sonic. sonic is fast at encoding
// itself, but each call takes a 128 KiB state stack from a sync.Pool and
// allocates while holding it; under a busy client the allocation parks the
// goroutine in a GC assist with the stack checked out, the pool runs dry,
// and fresh 128 KiB stacks are allocated and zeroed: in the end-to-end
// benchmark sonic's stacks were a fifth of all bytes allocated and struct
// params cost ~0.8 µs per call. A plan walks the value with reflect and
// appends straight into the caller's buffer without allocating.
//
// The output is byte-for-byte encoding/json's with HTML escaping off
// (fields in declaration order, omitempty honoured, same number and string
// formats; a differential test holds it to that). A type with anything a
// plan does not reproduce exactly — embedded fields, json.Marshaler or
// encoding.TextMarshaler implementations, json.Number, ",string" or
// ",omitzero" options, []byte (base64), maps other than map[string]any and
// map[string]string,
// channels, funcs, complex numbers — is left to sonic, whole.

// encFn appends v; ok=false means the value (or something inside it) is
// not handled and the caller falls back to sonic for the whole value.
type encFn func(dst []byte, v reflect.Value, depth int) ([]byte, bool)

// typePlans caches each top-level type's encoder; a nil encFn records a
// type the plans do not handle.
var typePlans sync.Map // reflect.Type → encFn

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	genericMapType    = reflect.TypeFor[map[string]any]()
	stringMapType     = reflect.TypeFor[map[string]string]()
	// jsonNumberType is a string that encoding/json writes as a number
	// literal (and validates), not as a string.
	jsonNumberType = reflect.TypeFor[json.Number]()
)

// appendReflect appends v with its type's plan and reports whether it
// could; on false the caller discards whatever was appended past its own
// length.
func appendReflect(dst []byte, v any, depth int) ([]byte, bool) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return append(dst, "null"...), true
	}
	t := rv.Type()
	fn, ok := typePlans.Load(t)
	if !ok {
		fn = planFor(t)
		typePlans.Store(t, fn)
	}
	enc := fn.(encFn)
	if enc == nil {
		return dst, false
	}
	return enc(dst, rv, depth)
}

// planFor builds the encoder for a top-level params type: only structs,
// pointers to them, and slices and arrays of them get a plan (maps and
// []any already have the generic path).
func planFor(t reflect.Type) encFn {
	base := t
	for depth := 0; base.Kind() == reflect.Pointer || base.Kind() == reflect.Slice || base.Kind() == reflect.Array; depth++ {
		if depth == maxGenericDepth {
			return nil // deeper than any value the plans encode, or `type S []S`
		}
		base = base.Elem()
	}
	if base.Kind() != reflect.Struct {
		return nil
	}
	b := planBuilder{building: map[reflect.Type]*structPlan{}, visiting: map[reflect.Type]bool{}}
	return b.encoder(t)
}

// structPlan is a struct type's encoder; fields is filled after the plan is
// registered, so a recursive type refers to its own plan.
type structPlan struct {
	fields []fieldPlan
}

type fieldPlan struct {
	index     int
	key       string // `"name":`, already escaped
	omitEmpty bool
	enc       encFn
}

type planBuilder struct {
	building map[reflect.Type]*structPlan
	// visiting holds the pointer, slice and array types on the path being
	// built: one that holds itself other than through a struct (`type S
	// []S`, `type P *P`) would recurse forever, so it gets no plan.
	visiting map[reflect.Type]bool
}

func (b *planBuilder) encoder(t reflect.Type) encFn {
	if t == jsonNumberType {
		return nil
	}
	if t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) ||
		(t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface &&
			(reflect.PointerTo(t).Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType))) {
		return nil
	}
	if k := t.Kind(); k == reflect.Pointer || k == reflect.Slice || k == reflect.Array {
		if b.visiting[t] {
			return nil
		}
		b.visiting[t] = true
		defer delete(b.visiting, t)
	}
	switch t.Kind() {
	case reflect.Bool:
		return func(dst []byte, v reflect.Value, _ int) ([]byte, bool) {
			return strconv.AppendBool(dst, v.Bool()), true
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(dst []byte, v reflect.Value, _ int) ([]byte, bool) {
			return strconv.AppendInt(dst, v.Int(), 10), true
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(dst []byte, v reflect.Value, _ int) ([]byte, bool) {
			return strconv.AppendUint(dst, v.Uint(), 10), true
		}
	case reflect.Float32:
		return func(dst []byte, v reflect.Value, _ int) ([]byte, bool) {
			return appendFloat(dst, v.Float(), 32)
		}
	case reflect.Float64:
		return func(dst []byte, v reflect.Value, _ int) ([]byte, bool) {
			return appendFloat(dst, v.Float(), 64)
		}
	case reflect.String:
		return func(dst []byte, v reflect.Value, _ int) ([]byte, bool) {
			return AppendString(dst, v.String()), true
		}
	case reflect.Interface:
		return func(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
			if v.IsNil() {
				return append(dst, "null"...), true
			}
			return appendGeneric(dst, v.Interface(), depth+1)
		}
	case reflect.Pointer:
		elem := b.encoder(t.Elem())
		if elem == nil {
			return nil
		}
		return func(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
			if v.IsNil() {
				return append(dst, "null"...), true
			}
			if depth >= maxGenericDepth {
				return dst, false // deep or cyclic: sonic reports it
			}
			return elem(dst, v.Elem(), depth+1)
		}
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return nil // base64
		}
		elem := b.encoder(t.Elem())
		if elem == nil {
			return nil
		}
		isSlice := t.Kind() == reflect.Slice
		return func(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
			if isSlice && v.IsNil() {
				return append(dst, "null"...), true
			}
			if depth >= maxGenericDepth {
				return dst, false
			}
			dst = append(dst, '[')
			for i, n := 0, v.Len(); i < n; i++ {
				if i > 0 {
					dst = append(dst, ',')
				}
				var ok bool
				if dst, ok = elem(dst, v.Index(i), depth+1); !ok {
					return dst, false
				}
			}
			return append(dst, ']'), true
		}
	case reflect.Map:
		if t != genericMapType && t != stringMapType {
			return nil
		}
		return func(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
			if v.IsNil() {
				return append(dst, "null"...), true
			}
			return appendGeneric(dst, v.Interface(), depth+1)
		}
	case reflect.Struct:
		return b.structEncoder(t)
	}
	return nil
}

func (b *planBuilder) structEncoder(t reflect.Type) encFn {
	p, seen := b.building[t]
	if !seen {
		p = &structPlan{}
		b.building[t] = p
		names := map[string]bool{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous {
				return nil // embedding has its own visibility rules
			}
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if !validTagName(name) {
				name = f.Name
			}
			omitEmpty := false
			for opts != "" {
				var opt string
				opt, opts, _ = strings.Cut(opts, ",")
				switch opt {
				case "omitempty":
					omitEmpty = true
				case "":
				default:
					return nil // ",string", ",omitzero", or something new
				}
			}
			if names[name] {
				return nil // encoding/json drops both; leave it to sonic
			}
			names[name] = true
			enc := b.encoder(f.Type)
			if enc == nil {
				return nil
			}
			key := append(AppendString(nil, name), ':')
			p.fields = append(p.fields, fieldPlan{index: i, key: string(key), omitEmpty: omitEmpty, enc: enc})
		}
	}
	return func(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
		if depth >= maxGenericDepth {
			return dst, false
		}
		dst = append(dst, '{')
		first := true
		for i := range p.fields {
			f := &p.fields[i]
			fv := v.Field(f.index)
			if f.omitEmpty && isEmptyValue(fv) {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, f.key...)
			var ok bool
			if dst, ok = f.enc(dst, fv, depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	}
}

// validTagName is encoding/json's isValidTag: an unusable tag name means
// the Go field name is used.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
			// Backslash and quote are reserved; other punctuation is allowed.
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// isEmptyValue is encoding/json's notion of empty for omitempty.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}
