package devnet

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"testing"
)

func TestStatsCounts(t *testing.T) {
	s := startServer(t, Config{})
	body, _ := batchBody(t, 5)
	post(t, s, "/v3", body)
	post(t, s, "/v3", `{"jsonrpc":"2.0","id":1,"method":"node-info"}`)
	post(t, s, "/v3", `[{"jsonrpc":"2.0","method":"node-info"},{"jsonrpc":"2.0","method":"nope","id":2},3]`)
	post(t, s, "/v2", `{"jsonrpc":"2.0","id":1,"method":"version"}`)
	post(t, s, "/v3", `{`)
	post(t, s, "/v3", `[]`)

	st := s.Stats()
	want := Stats{
		Requests: 6, Calls: 9, Notifications: 1, Singles: 2, Batches: 2,
		BatchSizes:  []BatchSizeBucket{{Min: 2, Max: 3, Count: 1}, {Min: 4, Max: 7, Count: 1}},
		ParseErrors: 1, InvalidRequests: 2,
		Methods: map[string]uint64{"v3.query": 5, "v3.node-info": 2, "v2.version": 1, "unknown": 1},
	}
	got := st
	got.Injected, got.BytesIn, got.BytesOut = nil, 0, 0
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stats\n got %+v\nwant %+v", got, want)
	}
	if st.BytesIn == 0 || st.BytesOut <= st.BytesIn {
		t.Fatalf("bytes in %d out %d", st.BytesIn, st.BytesOut)
	}
	for _, k := range injectedKinds {
		if n, ok := st.Injected[k]; !ok || n != 0 {
			t.Fatalf("injected[%s] = %d, %v", k, n, ok)
		}
	}

	// GET /debug/stats serves the same data; DELETE resets.
	resp, err := http.Get(s.URL() + "/debug/stats")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var served Stats
	if err := json.Unmarshal(raw, &served); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if !reflect.DeepEqual(served, s.Stats()) {
		t.Fatalf("served %+v\nStats() %+v", served, s.Stats())
	}
	req, _ := http.NewRequest(http.MethodDelete, s.URL()+"/debug/stats", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	if st := s.Stats(); st.Requests != 0 || st.Calls != 0 || len(st.Methods) != 0 || len(st.BatchSizes) != 0 {
		t.Fatalf("after DELETE: %+v", st)
	}
	post(t, s, "/v3", body)
	s.ResetStats()
	if st := s.Stats(); st.Requests != 0 {
		t.Fatalf("after ResetStats: %+v", st)
	}
}

func TestBatchSizeBuckets(t *testing.T) {
	c := newCounters()
	for _, n := range []int{1, 2, 3, 4, 100, 127, 128, 1 << 20} {
		c.batchSize(n)
	}
	got := c.snapshot().BatchSizes
	want := []BatchSizeBucket{{1, 1, 1}, {2, 3, 2}, {4, 7, 1}, {64, 127, 2}, {128, 255, 1}, {65536, 1<<31 - 1, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("buckets %v, want %v", got, want)
	}
}
