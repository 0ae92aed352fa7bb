package bench

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ErrPlotFormat is returned for a plot file name that does not end in .png
// or .svg.
var ErrPlotFormat = errors.New("bench: plot format must be png or svg")

// WritePlot draws the results into one image of three panels: latency by
// percentile (HdrHistogram style, 50% to 99.99%), latency over time (p50 and
// p99 per interval) and throughput over time (calls/s and errors/s). format
// is "png" or "svg".
func WritePlot(w io.Writer, format string, results ...*Result) error {
	format = strings.ToLower(format)
	if format != "png" && format != "svg" {
		return fmt.Errorf("%w: %q", ErrPlotFormat, format)
	}
	if len(results) == 0 {
		return fmt.Errorf("%w: no results to plot", ErrBadResult)
	}
	pct, err := percentilePlot(results)
	if err != nil {
		return err
	}
	lat, err := latencyOverTimePlot(results)
	if err != nil {
		return err
	}
	thr, err := throughputPlot(results)
	if err != nil {
		return err
	}
	width, height := 22*vg.Centimeter, 30*vg.Centimeter
	cw, err := draw.NewFormattedCanvas(width, height, format)
	if err != nil {
		return fmt.Errorf("bench: plot: %w", err)
	}
	dc := draw.New(cw)
	tiles := draw.Tiles{Rows: 3, Cols: 1, PadTop: vg.Centimeter / 2, PadBottom: vg.Centimeter / 2,
		PadLeft: vg.Centimeter / 2, PadRight: vg.Centimeter / 2, PadY: vg.Centimeter}
	plots := [][]*plot.Plot{{pct}, {lat}, {thr}}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	if _, err := cw.WriteTo(w); err != nil {
		return fmt.Errorf("bench: plot: %w", err)
	}
	return nil
}

// SavePlot writes the plot to path; the extension (.png or .svg) picks the
// format.
func SavePlot(path string, results ...*Result) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if format != "png" && format != "svg" {
		return fmt.Errorf("%w: %q", ErrPlotFormat, path)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := WritePlot(f, format, results...); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// ms converts a latency in µs to ms, floored for a log axis.
func ms(us float64) float64 { return math.Max(us/1000, 0.001) }

func percentilePlot(results []*Result) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Latency by percentile (from intended send time in open loop)"
	p.X.Label.Text = "percentile"
	p.Y.Label.Text = "latency (ms)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.X.Tick.Marker = plot.ConstantTicks{
		{Value: 0, Label: "0%"}, {Value: 1, Label: "90%"}, {Value: 2, Label: "99%"},
		{Value: 3, Label: "99.9%"}, {Value: 4, Label: "99.99%"}, {Value: 5, Label: "99.999%"},
	}
	p.Legend.Top, p.Legend.Left = true, true
	for i, r := range results {
		var xys plotter.XYs
		for _, br := range r.Latency.h.CumulativeDistributionWithTicks(5) {
			q := br.Quantile / 100
			if q >= 0.99999 || br.Count == 0 {
				continue
			}
			xys = append(xys, plotter.XY{X: -math.Log10(1 - q), Y: ms(float64(br.ValueAt))})
		}
		if r.Latency.Count() > 0 {
			xys = append(xys, plotter.XY{X: math.Max(xysMaxX(xys), 1), Y: ms(float64(r.Latency.h.Max()))})
		}
		if len(xys) == 0 {
			continue
		}
		if err := addLine(p, xys, r.Label, i, 0); err != nil {
			return nil, err
		}
	}
	return withoutDataNoted(p), nil
}

// withoutDataNoted makes a panel that got no line drawable: a log axis over
// no data has no range, and gonum/plot panics computing its ticks. A run
// with no measured call (interrupted in the warm-up) or one shorter than a
// fifth of an interval (--calls 100 against a fast node) has such panels.
func withoutDataNoted(p *plot.Plot) *plot.Plot {
	if !math.IsInf(p.Y.Min, 1) { // plot.New starts at +Inf; Add narrows it
		return p
	}
	p.Title.Text += " — no data"
	p.Y.Scale = plot.LinearScale{}
	p.Y.Tick.Marker = plot.DefaultTicks{}
	p.Y.Min, p.Y.Max = 0, 1
	return p
}

func xysMaxX(xys plotter.XYs) float64 {
	m := 0.0
	for _, xy := range xys {
		m = math.Max(m, xy.X)
	}
	return m
}

func latencyOverTimePlot(results []*Result) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Latency over time (per interval, by the time calls ended)"
	p.X.Label.Text = "time (s)"
	p.Y.Label.Text = "latency (ms)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = true, true
	for i, r := range results {
		var p50, p99 plotter.XYs
		for _, iv := range r.Timeline {
			if iv.Latency.Count() == 0 || stub(r, iv) {
				continue
			}
			x := (iv.Offset + iv.Length).Seconds()
			p50 = append(p50, plotter.XY{X: x, Y: ms(float64(iv.Latency.h.ValueAtQuantile(50)))})
			p99 = append(p99, plotter.XY{X: x, Y: ms(float64(iv.Latency.h.ValueAtQuantile(99)))})
		}
		if len(p50) == 0 {
			continue
		}
		if err := addLine(p, p99, r.Label+" p99", i, 0); err != nil {
			return nil, err
		}
		if err := addLine(p, p50, r.Label+" p50", i, 1); err != nil {
			return nil, err
		}
	}
	return withoutDataNoted(p), nil
}

func throughputPlot(results []*Result) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Throughput over time"
	p.X.Label.Text = "time (s)"
	p.Y.Label.Text = "calls/s"
	p.Y.Min = 0
	p.Legend.Top, p.Legend.Left = true, true
	for i, r := range results {
		var calls, errs plotter.XYs
		anyErr := false
		for _, iv := range r.Timeline {
			if iv.Length < time.Millisecond || stub(r, iv) {
				continue
			}
			x := (iv.Offset + iv.Length).Seconds()
			calls = append(calls, plotter.XY{X: x, Y: iv.Rate()})
			errs = append(errs, plotter.XY{X: x, Y: float64(iv.Errors) / iv.Length.Seconds()})
			anyErr = anyErr || iv.Errors > 0
		}
		if len(calls) == 0 {
			continue
		}
		if err := addLine(p, calls, r.Label+" calls/s", i, 0); err != nil {
			return nil, err
		}
		if anyErr {
			if err := addLine(p, errs, r.Label+" errors/s", i, 1); err != nil {
				return nil, err
			}
		}
	}
	return withoutDataNoted(p), nil
}

// stub reports the short last interval of a run (the calls in flight when it
// ended), too short to plot a rate or percentiles from next to full ones.
func stub(r *Result, iv Interval) bool {
	return r.Interval > 0 && iv.Length < r.Interval/5
}

func addLine(p *plot.Plot, xys plotter.XYs, name string, color, dash int) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("bench: plot %s: %w", name, err)
	}
	l.Color = plotutil.Color(color)
	l.Width = vg.Points(1.5)
	l.Dashes = plotutil.Dashes(dash)
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}
