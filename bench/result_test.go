package bench

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func runFake(t *testing.T, label string, calls int64, fail func(int64) error) *Result {
	t.Helper()
	res, err := Run(context.Background(), Config{Label: label, Calls: calls, Workers: 4, Interval: 20 * time.Millisecond},
		testWorkload(t), &countingCaller{fail: fail, delay: 50 * time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestResultJSONRoundTrip(t *testing.T) {
	res := runFake(t, "single", 2000, func(n int64) error {
		if n%10 == 0 {
			return context.DeadlineExceeded
		}
		return nil
	})
	var buf bytes.Buffer
	if err := res.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadResult(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if back.Calls != res.Calls || back.Errors != 200 || back.ErrorsByKind[KindTimeout] != 200 {
		t.Fatalf("calls %d errors %d kinds %v", back.Calls, back.Errors, back.ErrorsByKind)
	}
	for _, q := range []float64{50, 99, 100} {
		if a, b := back.Latency.Quantile(q), res.Latency.Quantile(q); a != b {
			t.Fatalf("p%v %v after round trip, %v before", q, a, b)
		}
	}
	if len(back.Methods) != 2 || len(back.Bands) != 2 || back.Bands[1].Count() != res.Bands[1].Count() {
		t.Fatalf("methods %v bands %v", back.Methods, back.Bands)
	}
	if len(back.Timeline) != len(res.Timeline) || !back.Start.Equal(res.Start) {
		t.Fatalf("timeline %d vs %d", len(back.Timeline), len(res.Timeline))
	}
}

func TestReadResultRejects(t *testing.T) {
	good := runFake(t, "x", 100, nil)
	var buf bytes.Buffer
	if err := good.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, in string }{
		{"not JSON", "hello"},
		{"wrong version", strings.Replace(buf.String(), `"version": 1`, `"version": 7`, 1)},
		{"no histogram", `{"version":1,"label":"x","loop":"open"}`},
		{"histogram not base64", `{"version":1,"latency":"%%%"}`},
		{"negative calls", strings.Replace(buf.String(), `"calls": 100,`, `"calls": -5,`, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ReadResult(strings.NewReader(tc.in)); !errors.Is(err, ErrBadResult) {
				t.Fatalf("err %v, want ErrBadResult", err)
			}
		})
	}
}

func TestMergeAddsUp(t *testing.T) {
	a := runFake(t, "batch", 1000, nil)
	b := runFake(t, "batch", 3000, func(n int64) error {
		if n%100 == 0 {
			return errors.New("boom")
		}
		return nil
	})
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Calls != 4000 || m.Latency.Count() != 4000 || m.Errors != 30 || m.ErrorsByKind[KindTransport] != 30 {
		t.Fatalf("merged calls %d hist %d errors %d %v", m.Calls, m.Latency.Count(), m.Errors, m.ErrorsByKind)
	}
	if m.Sources != 2 || m.Workers != 8 || m.Label != "batch" {
		t.Fatalf("sources %d workers %d label %q", m.Sources, m.Workers, m.Label)
	}
	var tl int64
	for _, iv := range m.Timeline {
		tl += iv.Calls
	}
	if tl != 4000 {
		t.Fatalf("merged timeline holds %d calls", tl)
	}
	if m.Latency.Max() < max(a.Latency.Max(), b.Latency.Max()) {
		t.Fatal("merged max below an input's max")
	}
	if !m.Start.Equal(a.Start) || m.Elapsed < b.Start.Add(b.Elapsed).Sub(a.Start) {
		t.Fatalf("merged window %v+%v", m.Start, m.Elapsed)
	}
	if _, err := Merge(); !errors.Is(err, ErrBadResult) {
		t.Fatalf("empty merge: %v", err)
	}
}

func TestReportAndHgrm(t *testing.T) {
	single := runFake(t, "single", 500, func(n int64) error {
		if n == 3 {
			return errors.New("x")
		}
		return nil
	})
	batch := runFake(t, "batch", 500, nil)
	var out bytes.Buffer
	if err := WriteReport(&out, single); err != nil {
		t.Fatal(err)
	}
	if err := WriteComparison(&out, single, batch); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"== single: closed loop", "calls/s", "p99.9", "transport: 1", "by method", "query", "by priority band", "== compare: batch vs single"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("report lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := single.WriteHgrm(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Percentile") || !strings.Contains(out.String(), "Total count    =          500") {
		t.Fatalf("hgrm:\n%s", out.String())
	}
}

func TestPlotFiles(t *testing.T) {
	single := runFake(t, "single", 500, nil)
	batch := runFake(t, "batch", 500, nil)
	dir := t.TempDir()
	for _, name := range []string{"p.png", "p.svg"} {
		path := filepath.Join(dir, name)
		if err := SavePlot(path, single, batch); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if name == "p.png" && !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Fatal("not a PNG")
		}
		if name == "p.svg" && !bytes.Contains(b[:min(len(b), 512)], []byte("<svg")) {
			t.Fatal("not an SVG")
		}
	}
	if err := SavePlot(filepath.Join(dir, "p.gif"), single); !errors.Is(err, ErrPlotFormat) {
		t.Fatalf("gif: %v", err)
	}
}

func TestProgressModes(t *testing.T) {
	var live, plain bytes.Buffer
	lp := &Progress{W: &live, Live: true}
	pp := &Progress{W: &plain, Every: 2 * time.Second}
	for i := 1; i <= 5; i++ {
		tk := Tick{Label: "single", Elapsed: time.Duration(i) * time.Second, Planned: 5 * time.Second,
			Calls: int64(i * 100), Rate: 100, P99: 2 * time.Millisecond, Final: i == 5}
		lp.Tick(tk)
		pp.Tick(tk)
	}
	if n := strings.Count(live.String(), "\r\033[K"); n != 5 || strings.Count(live.String(), "\n") != 1 {
		t.Fatalf("live output redrew %d times, %d newlines: %q", n, strings.Count(live.String(), "\n"), live.String())
	}
	lines := strings.Split(strings.TrimSpace(plain.String()), "\n")
	if len(lines) != 3 || strings.Contains(plain.String(), "\r") {
		t.Fatalf("plain output: %q", plain.String())
	}
	if !strings.Contains(lines[2], "done") || !strings.Contains(lines[0], "p99 2.00ms") {
		t.Fatalf("plain lines: %q", lines)
	}
}

func FuzzReadResult(f *testing.F) {
	h := &Histogram{h: newHist(60_000_000, 2)}
	for _, v := range []int64{90, 120, 120, 5000, 1_000_000} {
		_ = h.h.RecordValue(v)
	}
	enc, err := h.MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(`{"version":1,"label":"single","loop":"open","calls":5,"elapsed_ns":1000000000,"interval_ns":1000000000,"latency":` +
		string(enc) + `,"methods":{"query":` + string(enc) + `},"bands":{"1":` + string(enc) +
		`},"timeline":[{"offset_ns":0,"length_ns":1000000000,"calls":5,"latency":` + string(enc) + `}]}`)
	f.Add(`{"version":1,"latency":null}`)
	f.Add(`{"version":1,"latency":"HISTFAAAACR4nJNpmSzMwMDAyAABcNqBCcQQ7m8vWuUaAHJkBdY=","timeline":[{"calls":1}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ReadResult(strings.NewReader(in))
		if err != nil {
			return
		}
		// Whatever was accepted can be reported, merged and written back.
		var buf bytes.Buffer
		if err := WriteReport(&buf, r); err != nil {
			t.Fatal(err)
		}
		if _, err := Merge(r, r); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
	})
}

// Runs with different timeouts have histograms of different ranges; merging
// one with a short range first must not drop the other's long latencies.
func TestMergeKeepsValuesBeyondTheFirstRange(t *testing.T) {
	short := &Result{Version: ResultVersion, Latency: &Histogram{h: newHist(time.Second.Microseconds(), totalDigits)},
		Methods: map[string]*Histogram{"query": {h: newHist(time.Second.Microseconds(), detailDigits)}}}
	long := &Result{Version: ResultVersion, Latency: &Histogram{h: newHist(time.Hour.Microseconds(), totalDigits)},
		Methods: map[string]*Histogram{"query": {h: newHist(time.Hour.Microseconds(), detailDigits)}}}
	for _, r := range []*Result{short, long} {
		for i := int64(1); i <= 100; i++ {
			_ = r.Latency.h.RecordValue(i * 1000)
			_ = r.Methods["query"].h.RecordValue(i * 1000)
		}
		r.Calls = 100
	}
	_ = long.Latency.h.RecordValue(30 * time.Minute.Microseconds()) // a call that took half an hour
	_ = long.Methods["query"].h.RecordValue(30 * time.Minute.Microseconds())
	long.Calls++
	m, err := Merge(short, long)
	if err != nil {
		t.Fatal(err)
	}
	if m.Latency.Count() != m.Calls || m.Calls != 201 {
		t.Fatalf("merged histogram holds %d calls, result says %d, want 201", m.Latency.Count(), m.Calls)
	}
	if got := m.Methods["query"].Count(); got != 201 {
		t.Fatalf("merged per-method histogram holds %d calls, want 201", got)
	}
	if mx := m.Latency.Max(); mx < 29*time.Minute {
		t.Fatalf("merged max %v, want the half-hour call", mx)
	}
}

// A run's last interval is short (the drain after the measured window);
// merging must keep it short, or the merged timeline's last rate is diluted
// over a whole interval.
func TestMergeKeepsShortLastInterval(t *testing.T) {
	hist := func() *Histogram {
		h := newHist(time.Second.Microseconds(), detailDigits)
		_ = h.RecordValue(100)
		return &Histogram{h: h}
	}
	r := &Result{Version: ResultVersion, Start: time.Unix(1000, 0), Elapsed: 2100 * time.Millisecond, Interval: time.Second,
		Calls: 2100, Latency: &Histogram{h: newHist(time.Second.Microseconds(), totalDigits)},
		Timeline: []Interval{
			{Offset: 0, Length: time.Second, Calls: 1000, Latency: hist()},
			{Offset: time.Second, Length: time.Second, Calls: 1000, Latency: hist()},
			{Offset: 2 * time.Second, Length: 100 * time.Millisecond, Calls: 100, Latency: hist()},
		}}
	m, err := Merge(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Timeline) != 3 {
		t.Fatalf("%d merged intervals, want 3", len(m.Timeline))
	}
	for i, iv := range m.Timeline {
		if got, want := iv.Rate(), r.Timeline[i].Rate(); got != want {
			t.Errorf("interval %d: merged rate %.0f calls/s, the run measured %.0f", i, got, want)
		}
	}
}

// TestPlotWithoutData: a run without a measured call (interrupted during the
// warm-up, then plotted by loadgen report) and a run shorter than a fifth of
// an interval (every timeline entry too short to plot) still give a plot,
// where gonum/plot used to panic on a log axis without data.
func TestPlotWithoutData(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	empty, err := Run(ctx, Config{Calls: 10}, testWorkload(t), &countingCaller{})
	if !errors.Is(err, context.Canceled) || empty == nil || empty.Calls != 0 {
		t.Fatalf("cancelled run: %v, %+v", err, empty)
	}
	short, err := Run(context.Background(), Config{Calls: 10, Interval: time.Hour}, testWorkload(t), &countingCaller{})
	if err != nil || short.Calls != 10 {
		t.Fatalf("short run: %v, %d calls", err, short.Calls)
	}
	for name, results := range map[string][]*Result{"empty": {empty}, "short": {short}, "both": {empty, short}} {
		for _, ext := range []string{".png", ".svg"} {
			path := filepath.Join(t.TempDir(), name+ext)
			if err := SavePlot(path, results...); err != nil {
				t.Fatalf("%s%s: %v", name, ext, err)
			}
			if st, err := os.Stat(path); err != nil || st.Size() == 0 {
				t.Fatalf("%s%s: %v", name, ext, err)
			}
		}
	}
}
