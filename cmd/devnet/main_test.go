package main

import (
	"bufio"
	"errors"
	"flag"
	"io"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batchring/batchring/bench/devnet"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{
		"-addr", "127.0.0.1:0", "-seed", "42", "-max-body", "1000", "-cache", "-1", "-decode-requests",
		"-latency", "2ms", "-latency-per-call", "10us", "-jitter", "0.5",
		"-max-batch", "100", "-batch-limit", "geth", "-max-response", "25000000",
		"-rate-limit", "0.1", "-rate", "50", "-rate-limit-in-body", "-retry-after", "2s", "-server-errors", "0.2",
		"-drop-before", "0.01", "-drop-after", "0.02", "-reorder", "0.3", "-missing", "0.04",
		"-compress", "-compress-min", "512",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := devnet.Config{Addr: "127.0.0.1:0", Seed: 42, MaxRequestBodyBytes: 1000, CacheEntries: -1, DecodeRequests: true,
		Misbehaviour: devnet.Misbehaviour{
			Latency: 2 * time.Millisecond, LatencyPerCall: 10 * time.Microsecond, LatencyJitter: 0.5,
			MaxBatchSize: 100, BatchLimit: devnet.LimitGeth, MaxResponseBytes: 25000000,
			RateLimitFraction: 0.1, RateLimitPerSecond: 50, RateLimitInBody: true, RetryAfter: 2 * time.Second, ServerErrorFraction: 0.2,
			DropBeforeFraction: 0.01, DropAfterFraction: 0.02, ReorderFraction: 0.3, MissingFraction: 0.04,
			Compress: true, CompressMinBytes: 512,
		}}
	if cfg != want {
		t.Fatalf("config\n got %+v\nwant %+v", cfg, want)
	}

	def, err := parseFlags(nil, io.Discard)
	if err != nil || def.Addr != "127.0.0.1:26660" || def.Misbehaviour != (devnet.Misbehaviour{}) {
		t.Fatalf("defaults %+v, %v", def, err)
	}
	for _, bad := range [][]string{
		{"-batch-limit", "nginx"}, {"-reorder", "2"}, {"-latency", "-1s"}, {"extra"}, {"-nope"}, {"-seed", "x"},
	} {
		// A bad flag is the returned error alone (main prints it as one
		// line), not the error plus the whole flag list.
		var out strings.Builder
		if _, err := parseFlags(bad, &out); err == nil {
			t.Errorf("%v accepted", bad)
		} else if strings.Contains(err.Error(), "\n") || out.Len() > 0 {
			t.Errorf("%v: error %q and %d bytes printed, want one line and nothing printed", bad, err, out.Len())
		}
	}
	var help strings.Builder
	if _, err := parseFlags([]string{"-h"}, &help); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	if !strings.Contains(help.String(), "-batch-limit") {
		t.Errorf("-h printed %q, want the flag list", help.String())
	}
}

// TestRunServesUntilSIGINT runs the command in-process: it prints one line
// with the URL, answers the curl check, and exits cleanly on SIGINT.
func TestRunServesUntilSIGINT(t *testing.T) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"-addr", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	url := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(line)
	if url == "" {
		t.Fatalf("no URL in %q", line)
	}

	tr := &http.Transport{DisableKeepAlives: true}
	resp, err := (&http.Client{Transport: tr}).Post(url+"/v3", "application/json", strings.NewReader(
		`[{"jsonrpc":"2.0","id":1,"method":"network-status","params":{}},{"jsonrpc":"2.0","id":2,"method":"query","params":{"scope":"acc://ACME"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tr.CloseIdleConnections()
	ns, _ := devnet.Expected("/v3", "network-status", []byte(`{}`))
	acme, _ := devnet.Expected("/v3", "query", []byte(`{"scope":"acc://ACME"}`))
	want := `[{"jsonrpc":"2.0","id":1,"result":` + string(ns) + `},{"jsonrpc":"2.0","id":2,"result":` + string(acme) + `}]`
	if string(body) != want {
		t.Fatalf("answer %.300s", body)
	}

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after SIGINT")
	}
}
