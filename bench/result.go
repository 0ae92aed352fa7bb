package bench

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// ResultVersion is the version of the JSON result format written by this
// package. ReadResult refuses other versions.
const ResultVersion = 1

// ErrBadResult is returned (wrapped) for a result file that cannot be read
// or results that cannot be merged.
var ErrBadResult = errors.New("bench: bad result")

// Result is what one run measured, or several runs merged. It is written
// and read as JSON (WriteJSON, ReadResult), so results from several machines
// can be merged into one report (Merge). Latencies are recorded in
// microseconds. A Result is not safe for concurrent mutation.
type Result struct {
	// Version is ResultVersion.
	Version int `json:"version"`
	// Label names the run ("single", "batch").
	Label string `json:"label"`
	// Target is the endpoint.
	Target string `json:"target,omitempty"`
	// Loop is "open" (fixed rate) or "closed" (fixed concurrency); "mixed"
	// after merging both.
	Loop string `json:"loop"`
	// Workers is the number of concurrent callers (summed when merged).
	Workers int `json:"workers"`
	// RateAsked is the open-loop rate asked in calls/s, 0 in closed loop
	// (summed when merged).
	RateAsked float64 `json:"rate_asked"`
	// Start is when the measured window began.
	Start time.Time `json:"start"`
	// Elapsed is the measured window: from Start until the last call ended.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Interval is the timeline's resolution.
	Interval time.Duration `json:"interval_ns"`
	// Calls is the number of measured calls, failed ones included.
	Calls int64 `json:"calls"`
	// Errors is the number of measured calls that failed.
	Errors int64 `json:"errors"`
	// Requests is the number of HTTP requests sent in the measured window
	// (Calls when the caller does not count them).
	Requests int64 `json:"requests"`
	// ErrorsByKind counts errors by Outcome.Kind.
	ErrorsByKind map[string]int64 `json:"errors_by_kind,omitempty"`
	// Latency is the histogram of every measured call.
	Latency *Histogram `json:"latency"`
	// Methods holds a histogram per JSON-RPC method.
	Methods map[string]*Histogram `json:"methods,omitempty"`
	// Bands holds a histogram per priority band.
	Bands map[int]*Histogram `json:"bands,omitempty"`
	// Timeline holds calls, errors and latency per interval, by the time
	// calls ended.
	Timeline []Interval `json:"timeline,omitempty"`
	// Sources is the number of runs merged into this result (1 for a run).
	Sources int `json:"sources"`
	// Clipped counts measured calls slower than the histograms' range
	// (Config.MaxLatency), recorded as that maximum: when it is not 0, the
	// max and the percentiles it reaches are lower bounds.
	Clipped int64 `json:"clipped,omitempty"`
	// Unsent counts open-loop calls that fell due but were never sent:
	// every worker was still busy with earlier calls when the schedule's
	// end had long passed (see Config.Rate), so the target could not keep
	// up with the rate asked. Not counted in Calls.
	Unsent int64 `json:"unsent,omitempty"`
	// Paused is the time sending was paused for 429s (their Retry-After),
	// summed when merged. In open loop the schedule moved back by as much.
	Paused time.Duration `json:"paused_ns,omitempty"`
	// Stopped, when not empty, says why the run ended before its planned
	// end (a Retry-After longer than MaxRetryAfter).
	Stopped string `json:"stopped,omitempty"`
}

// Interval is one step of a result's timeline.
type Interval struct {
	// Offset is the interval's start from Result.Start.
	Offset time.Duration `json:"offset_ns"`
	// Length is the interval's length (the last one may be short).
	Length time.Duration `json:"length_ns"`
	// Calls and Errors count the calls that ended in the interval.
	Calls  int64 `json:"calls"`
	Errors int64 `json:"errors"`
	// Latency is the histogram of those calls (nil when none).
	Latency *Histogram `json:"latency,omitempty"`
}

// Rate returns the interval's calls/s.
func (iv Interval) Rate() float64 {
	if iv.Length <= 0 {
		return 0
	}
	return float64(iv.Calls) / iv.Length.Seconds()
}

// Histogram is an HdrHistogram of latencies in microseconds that encodes to
// JSON as the standard compressed base64 HdrHistogram form (V2), so other
// HdrHistogram tools can read it.
type Histogram struct {
	h *hdrhistogram.Histogram
}

// HDR returns the underlying histogram (values in microseconds).
func (h *Histogram) HDR() *hdrhistogram.Histogram { return h.h }

// Count returns the number of recorded values.
func (h *Histogram) Count() int64 {
	if h == nil || h.h == nil {
		return 0
	}
	return h.h.TotalCount()
}

// Quantile returns the latency at percentile q (0–100), 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.h.ValueAtQuantile(q)) * time.Microsecond
}

// Max returns the largest latency recorded, 0 when empty.
func (h *Histogram) Max() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.h.Max()) * time.Microsecond
}

// Mean returns the mean latency, 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.h.Mean() * float64(time.Microsecond))
}

// MarshalJSON encodes the histogram as a compressed base64 string.
func (h *Histogram) MarshalJSON() ([]byte, error) {
	if h == nil || h.h == nil {
		return []byte("null"), nil
	}
	enc, err := h.h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return nil, fmt.Errorf("bench: encoding histogram: %w", err)
	}
	return json.Marshal(string(enc))
}

// Limits on a decoded histogram's geometry, so a hostile result file cannot
// make the reader allocate gigabytes.
const (
	maxDecodedDigits  = 3
	maxDecodedHighest = int64(1) << 36 // µs: about 19 hours
)

// UnmarshalJSON decodes a compressed base64 histogram after checking its
// geometry against sane limits.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: histogram: %v", ErrBadResult, err)
	}
	dh, err := decodeHistogram(s)
	if err != nil {
		return err
	}
	h.h = dh
	return nil
}

// decodeHistogram checks the encoded header's geometry before letting
// hdrhistogram allocate the counts array.
func decodeHistogram(s string) (*hdrhistogram.Histogram, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) < 8 {
		return nil, fmt.Errorf("%w: histogram is not base64 HdrHistogram", ErrBadResult)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		return nil, fmt.Errorf("%w: histogram: %v", ErrBadResult, err)
	}
	var hdr [40]byte
	_, err = io.ReadFull(zr, hdr[:])
	_ = zr.Close()
	if err != nil {
		return nil, fmt.Errorf("%w: histogram header: %v", ErrBadResult, err)
	}
	digits := int32(binary.BigEndian.Uint32(hdr[12:]))
	lowest := int64(binary.BigEndian.Uint64(hdr[16:]))
	highest := int64(binary.BigEndian.Uint64(hdr[24:]))
	if digits < 1 || digits > maxDecodedDigits || lowest < 0 || lowest > 1000 || highest < 2 || highest > maxDecodedHighest {
		return nil, fmt.Errorf("%w: histogram geometry (digits %d, range %d–%d) out of bounds", ErrBadResult, digits, lowest, highest)
	}
	dh, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("%w: histogram: %v", ErrBadResult, err)
	}
	return dh, nil
}

// CallsPerSecond returns the measured calls/s.
func (r *Result) CallsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Calls) / r.Elapsed.Seconds()
}

// RequestsPerSecond returns the measured HTTP requests/s.
func (r *Result) RequestsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// MeanBatchSize returns calls per HTTP request (1 without batching).
func (r *Result) MeanBatchSize() float64 {
	if r.Requests <= 0 {
		return 0
	}
	return float64(r.Calls) / float64(r.Requests)
}

// WriteJSON writes r as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("bench: writing result: %w", err)
	}
	return nil
}

// maxResultBytes bounds a result file read by ReadResult.
const maxResultBytes = 256 << 20

// ReadResult reads a result written by WriteJSON.
func ReadResult(rd io.Reader) (*Result, error) {
	b, err := io.ReadAll(io.LimitReader(rd, maxResultBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResult, err)
	}
	if len(b) > maxResultBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBadResult, maxResultBytes)
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		if errors.Is(err, ErrBadResult) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrBadResult, err)
	}
	if r.Version != ResultVersion {
		return nil, fmt.Errorf("%w: version %d, this loadgen reads version %d", ErrBadResult, r.Version, ResultVersion)
	}
	if r.Latency == nil || r.Latency.h == nil {
		return nil, fmt.Errorf("%w: no latency histogram", ErrBadResult)
	}
	if r.Calls < 0 || r.Errors < 0 || r.Requests < 0 || r.Elapsed < 0 || r.Interval < 0 || r.Sources < 0 {
		return nil, fmt.Errorf("%w: negative count or duration", ErrBadResult)
	}
	for _, iv := range r.Timeline {
		if iv.Length < 0 || iv.Calls < 0 || iv.Errors < 0 {
			return nil, fmt.Errorf("%w: negative count or duration in timeline", ErrBadResult)
		}
	}
	if r.Sources == 0 {
		r.Sources = 1
	}
	return &r, nil
}

// SaveResult writes r to a JSON file.
func SaveResult(path string, r *Result) error {
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// LoadResult reads a JSON result file.
func LoadResult(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer f.Close()
	r, err := ReadResult(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// WriteHgrm writes the HdrHistogram percentile distribution of the overall
// latency in milliseconds (the .hgrm format that wrk2 prints and
// HdrHistogram's plotter reads).
func (r *Result) WriteHgrm(w io.Writer) error {
	if _, err := r.Latency.h.PercentilesPrint(w, 5, 1000); err != nil {
		return fmt.Errorf("bench: writing hgrm: %w", err)
	}
	return nil
}

// mergeHist merges src into *dst, allocating *dst with src's precision.
// When src holds values above *dst's range (results of runs with different
// timeouts have different MaxLatency), *dst is first re-allocated with the
// larger range: hdrhistogram's Merge silently drops values it cannot hold,
// and a merged report must count every call of every input.
func mergeHist(dst **Histogram, src *Histogram, digits int) {
	if src == nil || src.h == nil {
		return
	}
	if *dst == nil {
		*dst = &Histogram{h: hdrhistogram.New(1, max(src.h.HighestTrackableValue(), 2), digits)}
	}
	if d := (*dst).h; src.h.Max() > d.HighestTrackableValue() {
		wider := hdrhistogram.New(1, max(src.h.HighestTrackableValue(), src.h.Max()), digits)
		wider.Merge(d)
		(*dst).h = wider
	}
	(*dst).h.Merge(src.h)
}

// Merge combines results, typically the same run from several machines at
// once, into one: counts, rates and workers add up, histograms merge, and
// timelines line up by wall-clock time. The inputs are not modified.
func Merge(results ...*Result) (*Result, error) {
	if len(results) == 0 {
		return nil, fmt.Errorf("%w: nothing to merge", ErrBadResult)
	}
	out := &Result{Version: ResultVersion, Methods: map[string]*Histogram{}, Bands: map[int]*Histogram{},
		ErrorsByKind: map[string]int64{}}
	var labels, targets, loops []string
	var end time.Time
	for i, r := range results {
		if r == nil || r.Latency == nil || r.Latency.h == nil {
			return nil, fmt.Errorf("%w: result %d has no latency histogram", ErrBadResult, i+1)
		}
		labels = appendUnique(labels, r.Label)
		targets = appendUnique(targets, r.Target)
		loops = appendUnique(loops, r.Loop)
		if i == 0 || r.Start.Before(out.Start) {
			out.Start = r.Start
		}
		if e := r.Start.Add(r.Elapsed); e.After(end) {
			end = e
		}
		out.Interval = max(out.Interval, r.Interval)
		out.Workers += r.Workers
		out.RateAsked += r.RateAsked
		out.Calls += r.Calls
		out.Errors += r.Errors
		out.Requests += r.Requests
		out.Clipped += r.Clipped
		out.Paused += r.Paused
		out.Unsent += r.Unsent
		if r.Stopped != "" && out.Stopped == "" {
			out.Stopped = r.Stopped
		}
		out.Sources += max(r.Sources, 1)
		for k, n := range r.ErrorsByKind {
			out.ErrorsByKind[k] += n
		}
		mergeHist(&out.Latency, r.Latency, totalDigits)
		for m, h := range r.Methods {
			dst := out.Methods[m]
			mergeHist(&dst, h, detailDigits)
			if dst != nil {
				out.Methods[m] = dst
			}
		}
		for b, h := range r.Bands {
			dst := out.Bands[b]
			mergeHist(&dst, h, detailDigits)
			if dst != nil {
				out.Bands[b] = dst
			}
		}
	}
	out.Elapsed = end.Sub(out.Start)
	out.Label = strings.Join(labels, "+")
	out.Target = strings.Join(targets, " ")
	out.Loop = loops[0]
	if len(loops) > 1 {
		out.Loop = "mixed"
	}
	out.Timeline = mergeTimelines(out.Start, out.Interval, results)
	return out, nil
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// maxMergedIntervals bounds a merged timeline (a day at 1 s).
const maxMergedIntervals = 86_400

// mergeTimelines puts every interval into the slot of the merged timeline
// that holds its wall-clock start. A slot is as long as the intervals in it
// reach, at most step: the runs' short last intervals (the drain) stay short,
// so the merged rate of the last slot is not diluted over a whole step.
func mergeTimelines(start time.Time, step time.Duration, results []*Result) []Interval {
	if step <= 0 {
		return nil
	}
	slots := map[int]*Interval{}
	for _, r := range results {
		for _, iv := range r.Timeline {
			off := r.Start.Add(iv.Offset).Sub(start)
			k := int(math.Floor(float64(off) / float64(step)))
			if k < 0 || k >= maxMergedIntervals {
				continue
			}
			s := slots[k]
			if s == nil {
				s = &Interval{Offset: time.Duration(k) * step}
				slots[k] = s
			}
			s.Length = min(step, max(s.Length, off+iv.Length-s.Offset))
			s.Calls += iv.Calls
			s.Errors += iv.Errors
			mergeHist(&s.Latency, iv.Latency, detailDigits)
		}
	}
	keys := make([]int, 0, len(slots))
	for k := range slots {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	out := make([]Interval, 0, len(keys))
	for _, k := range keys {
		out = append(out, *slots[k])
	}
	return out
}
