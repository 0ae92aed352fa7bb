package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batchring/batchring/bench"
	"github.com/batchring/batchring/bench/devnet"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut, false)
	return code, out.String(), errOut.String()
}

func startDevnet(t *testing.T) *devnet.Server {
	t.Helper()
	s, err := devnet.Start(devnet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestBadCommandLinesGiveOneLine(t *testing.T) {
	dir := t.TempDir()
	badWorkload := filepath.Join(dir, "w.jsonl")
	if err := os.WriteFile(badWorkload, []byte(`{"method":"query","wieght":2}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--nope"}, "flag provided but not defined"},
		{"bad mode", []string{"--mode", "fast"}, "--mode"},
		{"bad duration", []string{"--duration", "soon"}, "invalid value"},
		{"negative rate", []string{"--rate", "-3"}, "--rate"},
		{"absurd rate", []string{"--rate", "1e9"}, "--rate"},
		{"output into a missing directory", []string{"--out", filepath.Join(dir, "nope", "r.json")}, "--out"},
		{"plot into a missing directory", []string{"--plot", filepath.Join(dir, "nope", "p.png")}, "--plot"},
		{"zero connections", []string{"--connections", "0"}, "--connections"},
		{"bad target", []string{"--target", "ftp://x"}, "bad target"},
		{"api and path disagree", []string{"--target", "http://127.0.0.1:1/v2", "--api", "v3"}, "--api v3"},
		{"plot extension", []string{"--plot", "p.gif"}, ".png or .svg"},
		{"stray argument", []string{"extra"}, "unexpected argument"},
		{"bad workload", []string{"--workload", badWorkload}, "unknown field"},
		{"report without files", []string{"report"}, "no result files"},
		{"report into a missing directory", []string{"report", "--out", filepath.Join(dir, "nope", "m.json"), badWorkload}, "--out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr %q", code, exitUsage, stderr)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "loadgen: ") || !strings.Contains(stderr, tc.want) {
				t.Fatalf("stderr %q: want one line mentioning %q", stderr, tc.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	code, stdout, _ := runCLI(t, "-h")
	if code != exitOK || !strings.Contains(stdout, "--target") && !strings.Contains(stdout, "-target") {
		t.Fatalf("exit %d, usage %q", code, stdout)
	}
}

func TestUnreachableTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/v3"
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "--target", url, "--duration", "1s")
	if code != exitFailure || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "unreachable") || stdout != "" {
		t.Fatalf("exit %d stderr %q stdout %q", code, stderr, stdout)
	}
}

func TestWrongPathIsOneLine(t *testing.T) {
	s := startDevnet(t)
	code, _, stderr := runCLI(t, "--target", s.URL()+"/nope/rpc", "--duration", "1s")
	if code != exitFailure || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "answered HTTP") {
		t.Fatalf("exit %d stderr %q", code, stderr)
	}
}

func TestPolitenessForOtherPeoplesNodes(t *testing.T) {
	remote, err := bench.ResolveTarget("kermit", "")
	if err != nil {
		t.Fatal(err)
	}
	local, err := bench.ResolveTarget("local", "")
	if err != nil {
		t.Fatal(err)
	}
	var w bytes.Buffer
	o := &options{}
	applyPoliteness(o, remote, &w)
	if o.rate != politeRate || !strings.Contains(w.String(), "warning") {
		t.Fatalf("remote without --rate: rate %v, %q", o.rate, w.String())
	}
	w.Reset()
	o = &options{rate: 3, rateSet: true}
	applyPoliteness(o, remote, &w)
	if o.rate != 3 {
		t.Fatalf("remote with --rate 3 became %v", o.rate)
	}
	w.Reset()
	o = &options{}
	applyPoliteness(o, local, &w)
	if o.rate != 0 || w.Len() != 0 {
		t.Fatalf("loopback: rate %v, %q", o.rate, w.String())
	}
}

func TestCompareWritesEverythingAndReportMerges(t *testing.T) {
	s := startDevnet(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "run.json")
	hgrm := filepath.Join(dir, "run.hgrm")
	plot := filepath.Join(dir, "plot.svg")
	code, stdout, stderr := runCLI(t, "--target", s.URL()+"/v3", "--mode", "compare", "--duration", "400ms",
		"--warmup", "100ms", "--interval", "100ms", "--connections", "4", "--batch-size", "20", "--in-flight", "4",
		"--max-wait", "2ms", "--out", out, "--hgrm", hgrm, "--plot", plot)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"== single:", "== batch:", "== compare: batch vs single", "mean batch size", "plot written"} {
		if !strings.Contains(stdout, want) {
			t.Fatalf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{"run-single.json", "run-batch.json", "run-single.hgrm", "run-batch.hgrm", "plot.svg"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	single, err := bench.LoadResult(filepath.Join(dir, "run-single.json"))
	if err != nil {
		t.Fatal(err)
	}
	if single.Errors != 0 || single.Calls == 0 {
		t.Fatalf("single: calls %d errors %d %v", single.Calls, single.Errors, single.ErrorsByKind)
	}

	// Two machines' worth of the same run merge into one report.
	merged := filepath.Join(dir, "merged.json")
	code, stdout, stderr = runCLI(t, "report", "--out", merged, "--plot", filepath.Join(dir, "m.png"),
		filepath.Join(dir, "run-single.json"), filepath.Join(dir, "run-single.json"))
	if code != exitOK {
		t.Fatalf("report exit %d, stderr %q", code, stderr)
	}
	m, err := bench.LoadResult(merged)
	if err != nil {
		t.Fatal(err)
	}
	if m.Calls != 2*single.Calls || m.Sources != 2 || !strings.Contains(stdout, "2 results merged") {
		t.Fatalf("merged calls %d (want %d), sources %d\n%s", m.Calls, 2*single.Calls, m.Sources, stdout)
	}
	code, stdout, _ = runCLI(t, "report", filepath.Join(dir, "run-single.json"), filepath.Join(dir, "run-batch.json"))
	if code != exitOK || !strings.Contains(stdout, "== compare") {
		t.Fatalf("report of both modes: exit %d\n%s", code, stdout)
	}
	code, _, stderr = runCLI(t, "report", filepath.Join(dir, "run-single.hgrm"))
	if code != exitFailure || !strings.Contains(stderr, "bad result") {
		t.Fatalf("report of a non-result: exit %d %q", code, stderr)
	}
}

func TestWorkloadFileOpenLoop(t *testing.T) {
	s := startDevnet(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "r.json")
	code, stdout, stderr := runCLI(t, "--target", s.URL()+"/v3", "--workload", "testdata/v3-mix.jsonl", "--rate", "400",
		"--calls", "200", "--warmup", "0s", "--mode", "batch", "--max-wait", "1ms", "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	res, err := bench.LoadResult(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Calls != 200 || res.Errors != 0 || res.Loop != "open" || len(res.Bands) != 2 || len(res.Methods) != 3 {
		t.Fatalf("calls %d errors %d %v loop %s bands %d methods %d\n%s", res.Calls, res.Errors, res.ErrorsByKind, res.Loop, len(res.Bands), len(res.Methods), stdout)
	}
	if !strings.Contains(stdout, "of the rate asked") {
		t.Fatalf("report lacks the achieved/asked rate:\n%s", stdout)
	}
}

// TestReportWarnsWhenResultsRanApart: merging results that ran at different
// times divides their calls by the whole span between them; loadgen report
// says so instead of printing a calls/s that looks like a measurement.
func TestReportWarnsWhenResultsRanApart(t *testing.T) {
	s := startDevnet(t)
	dir := t.TempDir()
	a := filepath.Join(dir, "a.json")
	if code, _, stderr := runCLI(t, "--target", s.URL()+"/v3", "--calls", "200", "--warmup", "0s", "--progress", "off", "--out", a); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	res, err := bench.LoadResult(a)
	if err != nil {
		t.Fatal(err)
	}
	res.Start = res.Start.Add(time.Hour) // the same run an hour later
	b := filepath.Join(dir, "b.json")
	if err := bench.SaveResult(b, res); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "report", a, a)
	if code != exitOK || strings.Contains(stderr, "warning") {
		t.Fatalf("two results of the same window: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "report", a, b)
	if code != exitOK || !strings.Contains(stderr, "did not run at the same time") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("results an hour apart: exit %d, stderr %q", code, stderr)
	}
}
