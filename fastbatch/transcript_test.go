package fastbatch

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/batchring/batchring/codec"
	"github.com/batchring/batchring/fastpool"
)

// TestTranscripts replays golden wire transcripts from
// testdata/transcripts: "-->" is the exact body the client must send next,
// "<--" the server's answer, "== i outcome" what call i must get
// ("<json>", "error CODE" or "no-response METHOD"). Calls are
// {"n":i} to "query" unless the first request names another method.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/transcripts/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			sent, answers, want := readTranscript(t, file)
			var mu sync.Mutex
			step := 0
			d := doerFunc(func(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, opts ...fastpool.RequestOption) error {
				mu.Lock()
				defer mu.Unlock()
				if step >= len(sent) {
					t.Errorf("unexpected request %s", req.Body())
					resp.SetBodyString(`{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"transcript over"}}`)
					return nil
				}
				if got := string(req.Body()); got != sent[step] {
					t.Errorf("request %d:\n got  %s\n want %s", step, got, sent[step])
				}
				resp.SetStatusCode(200)
				resp.SetBodyString(answers[step])
				step++
				return nil
			})
			c := startClient(t, Config{EagerFlush: Off, MaxWait: 5 * time.Millisecond}, d)
			reqs := make([]Request, len(want))
			for i := range reqs {
				reqs[i] = Request{Method: methodOf(sent[0], i), Params: fmt.Appendf(nil, `{"n":%d}`, i)}
			}
			res, err := c.SubmitMany(context.Background(), reqs)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range want {
				checkOutcome(t, i, res[i], w)
			}
			mu.Lock()
			defer mu.Unlock()
			if step != len(sent) {
				t.Fatalf("client sent %d requests, transcript has %d", step, len(sent))
			}
		})
	}
}

func readTranscript(t *testing.T, file string) (sent, answers, want []string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "--> "):
			sent = append(sent, line[4:])
		case strings.HasPrefix(line, "<-- "):
			answers = append(answers, line[4:])
		case strings.HasPrefix(line, "== "):
			_, outcome, _ := strings.Cut(line[3:], " ")
			want = append(want, outcome)
		}
	}
	if len(sent) != len(answers) {
		t.Fatalf("%s: %d requests but %d answers", file, len(sent), len(answers))
	}
	return sent, answers, want
}

// methodOf reads call i's method from the first request of a transcript.
func methodOf(first string, i int) string {
	var method string
	_ = codec.DecodeBatch([]byte(strings.ReplaceAll(first, `"method":`, `"result":`)), func(id uint64, result []byte, _ *codec.Error) {
		if id == uint64(i) {
			method, _ = strconv.Unquote(string(result))
		}
	})
	return method
}

func checkOutcome(t *testing.T, i int, r Result, want string) {
	t.Helper()
	kind, arg, _ := strings.Cut(want, " ")
	var rpcErr *codec.Error
	var nr *NoResponseError
	switch kind {
	case "error":
		if !errors.As(r.Err, &rpcErr) || strconv.Itoa(rpcErr.Code) != arg {
			t.Errorf("call %d: got %s / %v, want error %s", i, r.Result, r.Err, arg)
		}
	case "no-response":
		if !errors.As(r.Err, &nr) || nr.Method != arg {
			t.Errorf("call %d: got %s / %v, want no response for %s", i, r.Result, r.Err, arg)
		}
	default:
		if r.Err != nil || string(r.Result) != want {
			t.Errorf("call %d: got %s / %v, want %s", i, r.Result, r.Err, want)
		}
	}
}
