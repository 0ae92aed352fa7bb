package bench

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// FormatDuration prints a latency with a unit that fits it: 85µs, 1.23ms,
// 2.5s.
func FormatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func percentiles(h *Histogram) string {
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  p99.9 %s  max %s",
		FormatDuration(h.Quantile(50)), FormatDuration(h.Quantile(90)), FormatDuration(h.Quantile(99)),
		FormatDuration(h.Quantile(99.9)), FormatDuration(h.Max()))
}

// WriteReport writes a human report of r: rate achieved against the rate
// asked, calls/s, requests/s, mean batch size, latency percentiles overall,
// per method and per priority band, and errors by kind.
func WriteReport(w io.Writer, r *Result) error {
	var b strings.Builder
	loop := "closed loop"
	if r.Loop == "open" {
		loop = fmt.Sprintf("open loop at %.0f calls/s asked", r.RateAsked)
	} else if r.Loop == "mixed" {
		loop = "open and closed loops"
	}
	fmt.Fprintf(&b, "== %s: %s, %d workers", r.Label, loop, r.Workers)
	if r.Target != "" {
		fmt.Fprintf(&b, ", %s", r.Target)
	}
	if r.Sources > 1 {
		fmt.Fprintf(&b, " (%d results merged)", r.Sources)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "  calls      %d in %.2fs = %.1f calls/s", r.Calls, r.Elapsed.Seconds(), r.CallsPerSecond())
	if r.RateAsked > 0 {
		fmt.Fprintf(&b, " (%.1f%% of the rate asked)", 100*r.CallsPerSecond()/r.RateAsked)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "  requests   %d = %.1f req/s, mean batch size %.2f\n", r.Requests, r.RequestsPerSecond(), r.MeanBatchSize())
	fmt.Fprintf(&b, "  latency    %s  mean %s\n", percentiles(r.Latency), FormatDuration(r.Latency.Mean()))
	if r.Clipped > 0 {
		fmt.Fprintf(&b, "  WARNING    %d calls took longer than the histograms' range and were recorded as its max (%s): the max and the percentiles that reach it are lower bounds\n",
			r.Clipped, FormatDuration(r.Latency.Max()))
	}
	if r.Unsent > 0 {
		fmt.Fprintf(&b, "  WARNING    %d calls due were never sent: the target could not keep up with the rate asked (every worker busy past the schedule's end)\n", r.Unsent)
	}
	if r.Paused > 0 {
		fmt.Fprintf(&b, "  paused     %s in all, as the server asked (429 / Retry-After); not counted in the latencies\n", FormatDuration(r.Paused))
	}
	if r.Stopped != "" {
		fmt.Fprintf(&b, "  STOPPED    %s\n", r.Stopped)
	}
	errPct := 0.0
	if r.Calls > 0 {
		errPct = 100 * float64(r.Errors) / float64(r.Calls)
	}
	fmt.Fprintf(&b, "  errors     %d (%.2f%%)", r.Errors, errPct)
	if len(r.ErrorsByKind) > 0 {
		kinds := make([]string, 0, len(r.ErrorsByKind))
		for k := range r.ErrorsByKind {
			kinds = append(kinds, k)
		}
		sort.Slice(kinds, func(i, j int) bool {
			ni, nj := r.ErrorsByKind[kinds[i]], r.ErrorsByKind[kinds[j]]
			if ni != nj {
				return ni > nj
			}
			return kinds[i] < kinds[j]
		})
		parts := make([]string, len(kinds))
		for i, k := range kinds {
			parts[i] = fmt.Sprintf("%s: %d", k, r.ErrorsByKind[k])
		}
		fmt.Fprintf(&b, "  [%s]", strings.Join(parts, ", "))
	}
	b.WriteString("\n")
	if len(r.Methods) > 1 {
		b.WriteString("  by method\n")
		names := make([]string, 0, len(r.Methods))
		for m := range r.Methods {
			names = append(names, m)
		}
		sort.Strings(names)
		for _, m := range names {
			h := r.Methods[m]
			fmt.Fprintf(&b, "    %-18s n=%-9d %s\n", m, h.Count(), percentiles(h))
		}
	}
	if len(r.Bands) > 1 {
		b.WriteString("  by priority band\n")
		bands := make([]int, 0, len(r.Bands))
		for p := range r.Bands {
			bands = append(bands, p)
		}
		sort.Sort(sort.Reverse(sort.IntSlice(bands)))
		for _, p := range bands {
			h := r.Bands[p]
			fmt.Fprintf(&b, "    band %-13d n=%-9d %s\n", p, h.Count(), percentiles(h))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteComparison writes how a batched run compares with a single-call run of
// the same workload: the ratio of calls/s and of latency percentiles.
func WriteComparison(w io.Writer, single, batch *Result) error {
	ratio := func(a, b float64) string {
		if b == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2f×", a/b)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "== compare: %s vs %s\n", batch.Label, single.Label)
	if batch.Loop == "closed" && single.Loop == "closed" {
		fmt.Fprintf(&b, "  (closed loops with %d vs %d workers: calls/s is what each mode can get; latency follows the concurrency each needs)\n",
			batch.Workers, single.Workers)
	}
	fmt.Fprintf(&b, "  calls/s    %.1f vs %.1f = %s\n", batch.CallsPerSecond(), single.CallsPerSecond(),
		ratio(batch.CallsPerSecond(), single.CallsPerSecond()))
	fmt.Fprintf(&b, "  requests/s %.1f vs %.1f (mean batch size %.2f)\n", batch.RequestsPerSecond(), single.RequestsPerSecond(),
		batch.MeanBatchSize())
	for _, q := range []float64{50, 99} {
		bq, sq := batch.Latency.Quantile(q), single.Latency.Quantile(q)
		fmt.Fprintf(&b, "  p%-9v %s vs %s = %s\n", q, FormatDuration(bq), FormatDuration(sq), ratio(float64(bq), float64(sq)))
	}
	fmt.Fprintf(&b, "  errors     %d vs %d\n", batch.Errors, single.Errors)
	_, err := io.WriteString(w, b.String())
	return err
}
