package codec

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Golden transcripts in testdata/transcripts: "-->" lines are what a client
// sent, "<--" what the server answered, "==" what DecodeBatch must make of
// that answer (one line per fn call in order, then the returned error).
// The JSON-RPC 2.0 specification's examples (section 7) are there verbatim,
// each message on one line, beside answers real servers give.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/transcripts/*.txt")
	if err != nil || len(files) < 12 {
		t.Fatalf("want the transcripts, got %d files (%v)", len(files), err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var answer string
			var want []string
			haveAnswer := false
			check := func() {
				if !haveAnswer {
					return
				}
				got := renderDecode(answer)
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("answer %s\n got:\n  %s\nwant:\n  %s", answer, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
				}
				haveAnswer, want = false, nil
			}
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				line := sc.Text()
				switch {
				case strings.HasPrefix(line, "--> "):
					check()
					checkRequest(t, line[4:])
				case strings.HasPrefix(line, "<-- "):
					check()
					answer, haveAnswer = line[4:], true
				case strings.HasPrefix(line, "== "):
					want = append(want, line[3:])
				case line == "" || strings.HasPrefix(line, "#"):
				default:
					t.Fatalf("unknown transcript line %q", line)
				}
			}
			check()
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// renderDecode describes what DecodeBatch made of body, one line per fact.
func renderDecode(body string) []string {
	var out []string
	render := func(e *Error) string {
		s := fmt.Sprintf("%d %q", e.Code, e.Message)
		if e.Data != nil {
			s += " data=" + string(e.Data)
		}
		return s
	}
	err := DecodeBatch([]byte(body), func(id uint64, result []byte, e *Error) {
		if e != nil {
			out = append(out, fmt.Sprintf("id=%d error=%s", id, render(e)))
		} else {
			out = append(out, fmt.Sprintf("id=%d result=%s", id, result))
		}
	})
	var (
		rej *BatchRejectedError
		un  *UnmatchedError
	)
	switch {
	case err == nil:
	case errors.As(err, &rej):
		if rej.HasID {
			out = append(out, fmt.Sprintf("rejected id=%d: %s", rej.ID, render(rej.Err)))
		} else {
			out = append(out, "rejected: "+render(rej.Err))
		}
	case errors.As(err, &un):
		for _, e := range un.Errors {
			out = append(out, "unmatched: "+render(e))
		}
	case errors.Is(err, ErrEmptyBatch):
		out = append(out, "empty batch")
	case errors.Is(err, ErrMalformedResponse):
		out = append(out, "malformed")
	default:
		out = append(out, "error: "+err.Error())
	}
	return out
}

// checkRequest holds the scanner to encoding/json's idea of valid JSON on
// what clients send, and re-encodes every well-formed request that has a
// numeric id with AppendRequest, which must give the same JSON value.
func checkRequest(t *testing.T, req string) {
	t.Helper()
	if got, want := validJSON([]byte(req)) == nil, json.Valid([]byte(req)); got != want {
		t.Fatalf("validJSON = %v, encoding/json says %v for %s", got, want, req)
	}
	var msgs []json.RawMessage
	if err := json.Unmarshal([]byte(req), &msgs); err != nil {
		msgs = []json.RawMessage{json.RawMessage(req)}
	}
	var ours []byte
	for _, m := range msgs {
		var r struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id"`
			Method  *string         `json:"method"`
			Params  json.RawMessage `json:"params"`
		}
		dec := json.NewDecoder(strings.NewReader(string(m)))
		dec.UseNumber()
		dec.DisallowUnknownFields()
		if dec.Decode(&r) != nil || len(r.ID) == 0 || r.Method == nil {
			return // not something this client sends
		}
		id, ok := parseID(r.ID)
		if !ok || r.ID[0] == '"' {
			return // this client sends numeric ids only
		}
		params, err := EncodeParams(r.Params)
		if len(r.Params) == 0 {
			params, err = nil, nil
		}
		if err != nil {
			t.Fatalf("EncodeParams(%s): %v", r.Params, err)
		}
		ours = AppendRequest(ours, id, *r.Method, params)
		var v any
		json.Unmarshal(m, &v)
		var back any
		if err := json.Unmarshal(ours[strings.LastIndex(string(ours), `{"jsonrpc"`):], &back); err != nil {
			t.Fatalf("re-encoded request is not JSON: %s", ours)
		}
		if !reflect.DeepEqual(back, v) {
			t.Fatalf("re-encoded request differs:\n got %v\nwant %v", back, v)
		}
	}
}
