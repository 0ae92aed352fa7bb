package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/batchring/batchring/bench"
	"github.com/batchring/batchring/codec"
	"github.com/batchring/batchring/fastbatch"
)

// politeRate is the default rate against a target that is not on this
// machine: someone else's node, shared by other users.
const politeRate = 10

// options are the parsed flags of a load run.
type options struct {
	target      string
	api         string
	mode        string
	rate        float64
	rateSet     bool
	duration    time.Duration
	calls       int64
	warmUp      time.Duration
	connections int
	workers     int
	batchSize   int
	maxWait     time.Duration
	inFlight    int
	workload    string
	out         string
	hgrm        string
	plot        string
	timeout     time.Duration
	interval    time.Duration
	progress    string
	dedup       bool
	cpuProfile  string
}

func parseLoadFlags(args []string, stdout io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.target, "target", "local", "local (http://127.0.0.1:26660), kermit, testnet, fozzie, mainnet, or a URL (its path /v2 or /v3 sets the API)")
	fs.StringVar(&o.api, "api", "", "API version v2 or v3 (default: from the URL path, else v3)")
	fs.StringVar(&o.mode, "mode", "single", "single (one HTTP request per call), batch (fastbatch), or compare (both, same workload)")
	fs.Float64Var(&o.rate, "rate", 0, fmt.Sprintf("open loop at this many calls/s, measured from intended send times; 0: closed loop (default 0 on loopback, %d elsewhere)", politeRate))
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured duration per mode (after the warm-up)")
	fs.Int64Var(&o.calls, "calls", 0, "measured calls per mode instead of --duration")
	fs.DurationVar(&o.warmUp, "warmup", time.Second, "warm-up before measuring (not recorded)")
	fs.IntVar(&o.connections, "connections", 16, "keep-alive connections to the target")
	fs.IntVar(&o.workers, "workers", 0, "concurrent callers (default: closed loop single = connections, batch = batch-size × in-flight up to 4096; open loop rate/10 in [64, 4096])")
	fs.IntVar(&o.batchSize, "batch-size", fastbatch.DefaultMaxBatchSize, "batch mode: most calls per HTTP request")
	fs.DurationVar(&o.maxWait, "max-wait", fastbatch.DefaultMaxWait, "batch mode: longest a call waits for its batch to fill")
	fs.IntVar(&o.inFlight, "in-flight", fastbatch.DefaultMaxConcurrentBatches, "batch mode: batches in flight")
	fs.BoolVar(&o.dedup, "dedup", false, "batch mode: let identical reads in flight share one wire call (the server then answers fewer calls than are counted)")
	fs.StringVar(&o.workload, "workload", "", "JSON-lines workload file of {method, params, weight, priority} (default: the built-in Accumulate read mix)")
	fs.StringVar(&o.out, "out", "", "write the JSON result here (compare: NAME-single.json and NAME-batch.json)")
	fs.StringVar(&o.hgrm, "hgrm", "", "write the HdrHistogram percentile distribution (.hgrm) here (compare: one per mode)")
	fs.StringVar(&o.plot, "plot", "", "write a plot (.png or .svg) of latency percentiles and latency/throughput over time")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-call timeout")
	fs.DurationVar(&o.interval, "interval", time.Second, "timeline and progress interval")
	fs.StringVar(&o.progress, "progress", "auto", "progress output: auto (live line on a terminal, plain lines otherwise), live, plain, off")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of loadgen itself here")
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, fs)
			return nil, err
		}
		return nil, usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "rate" {
			o.rateSet = true
		}
	})
	switch {
	case o.mode != "single" && o.mode != "batch" && o.mode != "compare":
		return nil, usagef("--mode %q: want single, batch or compare", o.mode)
	case o.rate < 0 || math.IsNaN(o.rate) || math.IsInf(o.rate, 0) || o.rate > 1e8:
		return nil, usagef("--rate %v: want 0 (closed loop) up to 1e8 calls/s", o.rate)
	case o.duration <= 0 && o.calls <= 0:
		return nil, usagef("--duration %v: want > 0 (or --calls)", o.duration)
	case o.calls < 0:
		return nil, usagef("--calls %d: want ≥ 0", o.calls)
	case o.warmUp < 0:
		return nil, usagef("--warmup %v: want ≥ 0", o.warmUp)
	case o.connections < 1 || o.connections > 100_000:
		return nil, usagef("--connections %d: want 1 to 100000", o.connections)
	case o.workers < 0 || o.workers > 1_000_000:
		return nil, usagef("--workers %d: want 0 (auto) to 1000000", o.workers)
	case o.batchSize < 1:
		return nil, usagef("--batch-size %d: want ≥ 1", o.batchSize)
	case o.maxWait <= 0:
		return nil, usagef("--max-wait %v: want > 0", o.maxWait)
	case o.inFlight < 1:
		return nil, usagef("--in-flight %d: want ≥ 1", o.inFlight)
	case o.timeout <= 0:
		return nil, usagef("--timeout %v: want > 0", o.timeout)
	case o.interval < 10*time.Millisecond:
		return nil, usagef("--interval %v: want ≥ 10ms", o.interval)
	case o.progress != "auto" && o.progress != "live" && o.progress != "plain" && o.progress != "off":
		return nil, usagef("--progress %q: want auto, live, plain or off", o.progress)
	}
	if o.plot != "" {
		if ext := strings.ToLower(filepath.Ext(o.plot)); ext != ".png" && ext != ".svg" {
			return nil, usagef("--plot %q: the file name must end in .png or .svg", o.plot)
		}
	}
	for _, f := range []struct{ name, path string }{{"out", o.out}, {"hgrm", o.hgrm}, {"plot", o.plot}} {
		if err := checkOutputDir(f.path); err != nil {
			return nil, usagef("--%s %q: %v", f.name, f.path, err)
		}
	}
	return o, nil
}

// checkOutputDir fails when path's directory does not exist, so that a
// mistyped --out is reported before the run instead of after it, when the
// measurements would be lost.
func checkOutputDir(path string) error {
	if path == "" {
		return nil
	}
	st, err := os.Stat(filepath.Dir(path))
	switch {
	case err != nil:
		return fmt.Errorf("no directory %s", filepath.Dir(path))
	case !st.IsDir():
		return fmt.Errorf("%s is not a directory", filepath.Dir(path))
	}
	return nil
}

func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `loadgen measures how fast a JSON-RPC 2.0 node answers a workload, and how much batching buys.

usage:
  loadgen [flags]                     run a load (see --mode)
  loadgen report [flags] a.json b.json …  merge result files (e.g. from several machines) into one report

flags:
`)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// runLoad is `loadgen [flags]`.
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer, tty bool) error {
	o, err := parseLoadFlags(args, stdout)
	if err != nil {
		return err
	}
	target, err := bench.ResolveTarget(o.target, o.api)
	if err != nil {
		return usagef("%v", strings.TrimPrefix(err.Error(), "bench: "))
	}
	applyPoliteness(o, target, stderr)
	load, err := loadWorkload(o, target)
	if err != nil {
		return err
	}
	if err := preflight(ctx, target, load, o); err != nil {
		return err
	}

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}

	want := uint64(o.connections) + uint64(o.workers) + 64
	if got, err := bench.RaiseFileLimit(want); err == nil && got < want {
		fmt.Fprintf(stderr, "loadgen: warning: open-file limit %d is below the %d connections and workers need\n", got, want)
	}

	modes := []string{o.mode}
	if o.mode == "compare" {
		modes = []string{"single", "batch"}
	}
	var results []*bench.Result
	for _, mode := range modes {
		res, err := runMode(ctx, mode, o, target, load, stderr, tty)
		if res != nil {
			if werr := bench.WriteReport(stdout, res); werr != nil {
				return werr
			}
			results = append(results, res)
			if werr := writeOutputs(o, mode, res, len(modes) > 1); werr != nil {
				return werr
			}
		}
		if err != nil {
			return err
		}
	}
	if len(results) == 2 {
		if err := bench.WriteComparison(stdout, results[0], results[1]); err != nil {
			return err
		}
	}
	if o.plot != "" {
		if err := bench.SavePlot(o.plot, results...); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "plot written to %s\n", o.plot)
	}
	return nil
}

// applyPoliteness gives a target that is not on this machine a
// conservative default rate, and says so.
func applyPoliteness(o *options, target bench.Target, stderr io.Writer) {
	if target.Loopback {
		return
	}
	switch {
	case !o.rateSet:
		o.rate = politeRate
		fmt.Fprintf(stderr, "loadgen: warning: %s is not on this machine; using a conservative --rate %d calls/s (set --rate to change it)\n", target.URL, politeRate)
	case o.rate == 0:
		fmt.Fprintf(stderr, "loadgen: warning: closed loop against %s, someone else's node: it gets every call it can answer\n", target.URL)
	default:
		fmt.Fprintf(stderr, "loadgen: note: %s is not on this machine; sending at %v calls/s (twice that at most while catching up after a stall) and pausing whenever it answers 429\n", target.URL, o.rate)
	}
}

func loadWorkload(o *options, target bench.Target) (*bench.Workload, error) {
	if o.workload != "" {
		w, err := bench.LoadWorkload(o.workload)
		if err != nil {
			return nil, usagef("--workload: %v", strings.TrimPrefix(err.Error(), "bench: "))
		}
		return w, nil
	}
	return bench.BuiltinMix(target.API)
}

// preflight makes one call so that an unreachable target, a wrong path or a
// refused connection is one clear line instead of a run full of errors.
func preflight(ctx context.Context, target bench.Target, load *bench.Workload, o *options) error {
	c, err := bench.NewSingleCaller(bench.SingleConfig{URL: target.URL, Connections: 1, Timeout: min(o.timeout, 10*time.Second)})
	if err != nil {
		return err
	}
	defer c.Close()
	op := load.Ops()[0]
	pctx, cancel := context.WithTimeout(ctx, min(o.timeout, 10*time.Second))
	defer cancel()
	err = c.Call(pctx, &op)
	if err == nil || ctx.Err() != nil {
		return ctx.Err()
	}
	var rpc *codec.Error
	if errors.As(err, &rpc) {
		return nil // the server answered; an error object is a fine answer here
	}
	out := bench.Classify(err)
	if out.Throttled {
		return nil // rate-limited: the run will honour Retry-After
	}
	if strings.HasPrefix(out.Kind, "http ") {
		return fmt.Errorf("target %s answered %s: %v", target.URL, strings.ToUpper(out.Kind[:4])+out.Kind[4:], oneLine(err))
	}
	return fmt.Errorf("target %s unreachable: %v", target.URL, oneLine(err))
}

// oneLine keeps an error message to one line.
func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// runMode runs one mode and returns its result (also a partial one when the
// run was interrupted).
func runMode(ctx context.Context, mode string, o *options, target bench.Target, load *bench.Workload, stderr io.Writer, tty bool) (*bench.Result, error) {
	var caller interface {
		bench.Caller
		Close() error
	}
	workers := o.workers
	switch mode {
	case "single":
		c, err := bench.NewSingleCaller(bench.SingleConfig{URL: target.URL, Connections: o.connections, Timeout: o.timeout})
		if err != nil {
			return nil, err
		}
		caller = c
		if workers == 0 && o.rate == 0 {
			workers = o.connections
		}
	case "batch":
		c, err := bench.NewBatchCaller(bench.BatchConfig{URL: target.URL, Connections: o.connections, Timeout: o.timeout,
			BatchSize: o.batchSize, MaxWait: o.maxWait, InFlight: o.inFlight, Dedup: o.dedup})
		if err != nil {
			return nil, err
		}
		caller = c
		if workers == 0 && o.rate == 0 {
			workers = min(o.batchSize*o.inFlight, 4096)
		}
	}
	defer caller.Close()

	cfg := bench.Config{
		Label:    mode,
		Target:   target.URL,
		Rate:     o.rate,
		Duration: o.duration,
		Calls:    o.calls,
		WarmUp:   o.warmUp,
		Workers:  workers,
		Interval: o.interval,
		// Someone else's node: after a stall, catch up at twice --rate at
		// most instead of sending every overdue call at once.
		Paced: !target.Loopback,
	}
	if mode == "batch" {
		// fastbatch bounds a call by its context's deadline; the single
		// caller bounds each request itself (fastpool's RequestTimeout), which
		// saves a context per call.
		cfg.Timeout = o.timeout
	}
	if o.calls > 0 {
		cfg.Duration = 0
	}
	prog := &bench.Progress{W: stderr, Live: o.progress == "live" || (o.progress == "auto" && tty)}
	if o.progress != "off" {
		cfg.OnTick = prog.Tick
	}
	loop := "closed loop"
	if o.rate > 0 {
		loop = fmt.Sprintf("open loop at %v calls/s", o.rate)
	}
	length := o.duration.String()
	if o.calls > 0 {
		length = fmt.Sprintf("%d calls", o.calls)
	}
	fmt.Fprintf(stderr, "loadgen: %s, %s, %d connections, %s (+%s warm-up) → %s\n", mode, loop, o.connections, length, o.warmUp, target.URL)
	res, err := bench.Run(ctx, cfg, load, caller)
	prog.Clear()
	return res, err
}

// outPath names an output file; in compare mode each mode gets its own,
// NAME-single.ext and NAME-batch.ext.
func outPath(path, mode string, several bool) string {
	if !several {
		return path
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-" + mode + ext
}

func writeOutputs(o *options, mode string, res *bench.Result, several bool) error {
	if o.out != "" {
		if err := bench.SaveResult(outPath(o.out, mode, several), res); err != nil {
			return err
		}
	}
	if o.hgrm != "" {
		f, err := os.Create(outPath(o.hgrm, mode, several))
		if err != nil {
			return err
		}
		err = res.WriteHgrm(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
