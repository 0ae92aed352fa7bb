package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// TestAppendParamsToMatchesAppendParams: the in-place form appends exactly
// what AppendParams does after an existing prefix, and on error leaves the
// length as it was.
func TestAppendParamsToMatchesAppendParams(t *testing.T) {
	type params struct {
		Scope string `json:"scope"`
		N     int    `json:"n"`
	}
	for _, v := range []any{
		&params{Scope: "acc://a.acme", N: 3},
		map[string]any{"b": 1, "a": []any{"x"}},
		[]byte(`{"raw":true}`),
		json.RawMessage(`[1,2]`),
		nil,
		"not an object",
		[]byte(`{"broken"`),
	} {
		prefix := []byte("PREFIX")
		want, wantErr := AppendParams(bytes.Clone(prefix), v)
		buf := bytes.Clone(prefix)
		err := AppendParamsTo(&buf, v)
		if (err == nil) != (wantErr == nil) || (err != nil && !errors.Is(err, ErrInvalidParams)) {
			t.Fatalf("%#v: error %v, AppendParams gave %v", v, err, wantErr)
		}
		if err != nil {
			if !bytes.Equal(buf, prefix) {
				t.Fatalf("%#v: failed encode left %q, want the prefix alone", v, buf)
			}
			continue
		}
		if !bytes.Equal(buf, want) {
			t.Fatalf("%#v: %q, AppendParams gave %q", v, buf, want)
		}
	}
}
