package devnet

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// startServer starts a server for one test and closes it at the end.
func startServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// reply is what one HTTP exchange produced.
type reply struct {
	status int
	header http.Header
	body   []byte
	err    error // transport error (connection dropped, …)
}

// post sends body to s at path over a fresh connection (no keep-alive, so no
// client goroutine outlives the test) and returns the raw answer.
func post(t testing.TB, s *Server, path, body string, header ...string) reply {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	req, err := http.NewRequest(http.MethodPost, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// element renders the response element the server must send for a call
// with the given raw id that gets Expected's answer.
func element(t testing.TB, id, path, method, params string) string {
	t.Helper()
	res, rpcErr := Expected(path, method, []byte(params))
	if rpcErr != nil {
		e := `{"jsonrpc":"2.0","id":` + id + `,"error":{"code":` + strconv.Itoa(rpcErr.Code) + `,"message":` + string(appendString(nil, rpcErr.Message))
		if rpcErr.Data != nil {
			e += `,"data":` + string(rpcErr.Data)
		}
		return e + "}}"
	}
	return `{"jsonrpc":"2.0","id":` + id + `,"result":` + string(res) + `}`
}
