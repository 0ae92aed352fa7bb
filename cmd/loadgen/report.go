package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/batchring/batchring/bench"
)

// runReport is `loadgen report [flags] a.json b.json …`: results with the
// same label (the same mode, typically run on several machines at once) are
// merged into one; a single and a batch result are then compared.
func runReport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen report", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	plotPath := fs.String("plot", "", "write a plot (.png or .svg) of the merged results")
	hgrm := fs.String("hgrm", "", "write the merged .hgrm percentile distribution (one per label when there are several)")
	out := fs.String("out", "", "write the merged JSON result (one per label when there are several)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "usage: loadgen report [--plot p.png] [--hgrm m.hgrm] [--out merged.json] a.json b.json …")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return err
		}
		return usagef("report: %v", err)
	}
	files := fs.Args()
	if len(files) == 0 {
		return usagef("report: no result files given")
	}
	if *plotPath != "" {
		if ext := strings.ToLower(filepath.Ext(*plotPath)); ext != ".png" && ext != ".svg" {
			return usagef("report: --plot %q: the file name must end in .png or .svg", *plotPath)
		}
	}
	for _, f := range []struct{ name, path string }{{"out", *out}, {"hgrm", *hgrm}, {"plot", *plotPath}} {
		if err := checkOutputDir(f.path); err != nil {
			return usagef("report: --%s %q: %v", f.name, f.path, err)
		}
	}
	byLabel := map[string][]*bench.Result{}
	var labels []string
	for _, f := range files {
		r, err := bench.LoadResult(f)
		if err != nil {
			return err
		}
		if _, ok := byLabel[r.Label]; !ok {
			labels = append(labels, r.Label)
		}
		byLabel[r.Label] = append(byLabel[r.Label], r)
	}
	merged := make(map[string]*bench.Result, len(labels))
	var all []*bench.Result
	for _, l := range labels {
		m, err := bench.Merge(byLabel[l]...)
		if err != nil {
			return err
		}
		merged[l] = m
		all = append(all, m)
		warnIfApart(stderr, l, byLabel[l], m)
		if err := bench.WriteReport(stdout, m); err != nil {
			return err
		}
		several := len(labels) > 1
		if *out != "" {
			if err := bench.SaveResult(outPath(*out, l, several), m); err != nil {
				return err
			}
		}
		if *hgrm != "" {
			f, err := os.Create(outPath(*hgrm, l, several))
			if err != nil {
				return err
			}
			err = m.WriteHgrm(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
	if s, b := merged["single"], merged["batch"]; s != nil && b != nil {
		if err := bench.WriteComparison(stdout, s, b); err != nil {
			return err
		}
	}
	if *plotPath != "" {
		if err := bench.SavePlot(*plotPath, all...); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "plot written to %s\n", *plotPath)
	}
	return nil
}

// warnIfApart says so when the merged results did not run at the same time:
// Merge divides the calls by the span from the first start to the last end,
// which is the load the machines gave together only when they ran together.
// Results from different times make that span (and so calls/s) meaningless.
func warnIfApart(stderr io.Writer, label string, results []*bench.Result, merged *bench.Result) {
	if len(results) < 2 {
		return
	}
	var longest time.Duration
	for _, r := range results {
		longest = max(longest, r.Elapsed)
	}
	if merged.Elapsed > longest+longest/2+time.Second {
		fmt.Fprintf(stderr, "loadgen: warning: the %d %q results span %s but the longest ran %s: they did not run at the same time, so the merged calls/s is over the whole span\n",
			len(results), label, merged.Elapsed.Round(time.Millisecond), longest.Round(time.Millisecond))
	}
}
