package devnet

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentClients: many clients on keep-alive connections, batches of
// varying size with params unique to each caller, while the fault set is
// switched concurrently (reorder on/off, latency on/off). Every call must get
// exactly one answer, its own, and the counters must add up.
func TestConcurrentClients(t *testing.T) {
	s := startServer(t, Config{Seed: 9})
	const clients, batches = 8, 25
	stop := make(chan struct{})
	var toggler sync.WaitGroup
	toggler.Add(1)
	go func() {
		defer toggler.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_ = s.Update(func(m *Misbehaviour) {
				m.ReorderFraction = float64(i % 2)
				m.Latency = time.Duration(i%3) * 100 * time.Microsecond
			})
			time.Sleep(time.Millisecond)
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan error, clients)
	var sent [clients]int
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			for b := range batches {
				n := 1 + (c*7+b*13)%60
				var body strings.Builder
				want := make(map[string]string, n)
				body.WriteByte('[')
				for i := range n {
					if i > 0 {
						body.WriteByte(',')
					}
					id := fmt.Sprintf(`"c%d-b%d-%d"`, c, b, i)
					params := fmt.Sprintf(`{"scope":"acc://c%d-b%d-%d.acme/tokens"}`, c, b, i)
					fmt.Fprintf(&body, `{"jsonrpc":"2.0","id":%s,"method":"query","params":%s}`, id, params)
					want[id] = element(t, id, "/v3", "query", params)
				}
				body.WriteByte(']')
				sent[c] += n
				resp, err := hc.Post(s.URL()+"/v3", "application/json", strings.NewReader(body.String()))
				if err != nil {
					errs <- err
					return
				}
				raw, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					errs <- err
					return
				}
				_, got := elements(t, raw)
				if len(got) != n {
					errs <- fmt.Errorf("client %d batch %d: %d answers for %d calls", c, b, len(got), n)
					return
				}
				for id, e := range got {
					if want[id] != e {
						errs <- fmt.Errorf("client %d batch %d: id %s got a wrong answer", c, b, id)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	toggler.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	for _, n := range sent {
		total += n
	}
	if st := s.Stats(); st.Calls != uint64(total) || st.Batches != clients*batches || st.Requests != clients*batches {
		t.Fatalf("stats calls %d batches %d requests %d, want %d, %d, %d", st.Calls, st.Batches, st.Requests, total, clients*batches, clients*batches)
	}
}

// TestConcurrentFaultAccounting: under concurrent load with faults on, every
// call is either answered with its own answer or accounted for by an
// injected fault: missing elements and dropped requests add up exactly.
func TestConcurrentFaultAccounting(t *testing.T) {
	s := startServer(t, Config{Seed: 21, Misbehaviour: Misbehaviour{
		MissingFraction: 0.2, DropAfterFraction: 0.05, ReorderFraction: 0.5,
	}})
	const clients, batches, n = 6, 20, 25
	var mu sync.Mutex
	answered, dropped := 0, 0
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				var body strings.Builder
				want := make(map[string]string, n)
				body.WriteByte('[')
				for i := range n {
					if i > 0 {
						body.WriteByte(',')
					}
					params := fmt.Sprintf(`{"url":"acc://f%d-%d-%d.acme"}`, c, b, i)
					id := fmt.Sprint(i + 1)
					fmt.Fprintf(&body, `{"jsonrpc":"2.0","id":%s,"method":"query-directory","params":%s}`, id, params)
					want[id] = element(t, id, "/v2", "query-directory", params)
				}
				body.WriteByte(']')
				r := post(t, s, "/v2", body.String())
				mu.Lock()
				if r.err != nil {
					dropped++
					mu.Unlock()
					continue
				}
				mu.Unlock()
				_, got := elements(t, r.body)
				for id, e := range got {
					if want[id] != e {
						t.Errorf("client %d batch %d id %s: wrong answer", c, b, id)
						return
					}
				}
				mu.Lock()
				answered += len(got)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	st := s.Stats()
	total := clients * batches * n
	if st.Calls != uint64(total) {
		t.Fatalf("server counted %d calls, sent %d", st.Calls, total)
	}
	if got := uint64(dropped); got != st.Injected[InjectedDropAfter] {
		t.Fatalf("%d requests failed, server dropped %d", got, st.Injected[InjectedDropAfter])
	}
	// Answers of dropped requests were rendered (and counted missing where
	// drawn) but never arrived, so account by request: answered + missing in
	// delivered requests + all calls of dropped requests = total.
	if dropped == 0 || st.Injected[InjectedMissing] == 0 {
		t.Fatalf("faults not exercised: dropped %d, missing %d", dropped, st.Injected[InjectedMissing])
	}
	if answered > total-dropped*n || answered+int(st.Injected[InjectedMissing])+dropped*n < total {
		t.Fatalf("answered %d + missing %d + dropped %d×%d does not cover %d calls", answered, st.Injected[InjectedMissing], dropped, n, total)
	}
}
