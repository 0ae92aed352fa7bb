package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"sync/atomic"
)

// Op is one kind of call in a workload: a JSON-RPC method with its params,
// how often it is picked relative to the other ops, and its priority band.
type Op struct {
	// Method is the JSON-RPC method name, e.g. "query".
	Method string `json:"method"`
	// Params is the JSON value sent as "params" (an object or array), or nil
	// to send none.
	Params json.RawMessage `json:"params,omitempty"`
	// Weight is the op's share of the mix relative to the other ops' weights.
	// Default 1.
	Weight float64 `json:"weight,omitempty"`
	// Priority is the op's priority band (higher is served first by a
	// batching caller). Default 0.
	Priority int `json:"priority,omitempty"`

	methodIndex int     // index into Workload.methods
	bandIndex   int     // index into Workload.bands
	memo        *opMemo // shared by copies of the op; nil for ops built outside NewWorkload
}

// opMemo is what a caller may remember about an op between calls: its
// encoded single request and the first answer it validated as a success.
// Both are written once and then only read.
type opMemo struct {
	id      uint64
	request atomic.Pointer[[]byte]
	okBody  atomic.Pointer[[]byte]
	// params is Params boxed once as a json.RawMessage (nil without
	// params): boxing a slice into an interface allocates, and the batch
	// caller hands params to fastbatch as an interface on every call.
	params any
}

// Workload is a weighted mix of ops. It is immutable once built and safe for
// concurrent use.
type Workload struct {
	ops     []Op
	cum     []float64 // cumulative weights, cum[len-1] is the total
	methods []string  // distinct methods in first-seen order
	bands   []int     // distinct priorities, ascending
}

// Workload errors.
var (
	// ErrEmptyWorkload is returned for a workload without ops.
	ErrEmptyWorkload = errors.New("bench: workload has no ops")
	// ErrBadOp is returned (wrapped, with the line number) for an op without
	// a method, with a weight that is not a positive finite number, or with
	// params that are not a JSON object or array.
	ErrBadOp = errors.New("bench: bad workload op")
)

// maxWorkloadOps bounds a workload file, so a mistaken file (a log, a dump)
// is refused instead of filling memory.
const maxWorkloadOps = 100_000

// NewWorkload builds a workload from ops. Weights of 0 mean 1. The ops are
// copied.
func NewWorkload(ops []Op) (*Workload, error) {
	if len(ops) == 0 {
		return nil, ErrEmptyWorkload
	}
	if len(ops) > maxWorkloadOps {
		return nil, fmt.Errorf("%w: %d ops, at most %d", ErrBadOp, len(ops), maxWorkloadOps)
	}
	w := &Workload{ops: make([]Op, len(ops)), cum: make([]float64, len(ops))}
	copy(w.ops, ops)
	methodIdx := map[string]int{}
	bandSet := map[int]bool{}
	total := 0.0
	for i := range w.ops {
		op := &w.ops[i]
		if err := checkOp(op); err != nil {
			return nil, fmt.Errorf("op %d: %w", i+1, err)
		}
		if op.Weight == 0 {
			op.Weight = 1
		}
		total += op.Weight
		w.cum[i] = total
		idx, ok := methodIdx[op.Method]
		if !ok {
			idx = len(w.methods)
			methodIdx[op.Method] = idx
			w.methods = append(w.methods, op.Method)
		}
		op.methodIndex = idx
		op.memo = &opMemo{id: uint64(i) + 1}
		if op.Params != nil {
			op.memo.params = json.RawMessage(op.Params)
		}
		bandSet[op.Priority] = true
	}
	if math.IsInf(total, 0) {
		return nil, fmt.Errorf("%w: weights add up to infinity", ErrBadOp)
	}
	for b := range bandSet {
		w.bands = append(w.bands, b)
	}
	sort.Ints(w.bands)
	for i := range w.ops {
		w.ops[i].bandIndex = sort.SearchInts(w.bands, w.ops[i].Priority)
	}
	return w, nil
}

func checkOp(op *Op) error {
	if op.Method == "" {
		return fmt.Errorf("%w: no method", ErrBadOp)
	}
	if math.IsNaN(op.Weight) || math.IsInf(op.Weight, 0) || op.Weight < 0 {
		return fmt.Errorf("%w: weight %v of %q is not a positive number", ErrBadOp, op.Weight, op.Method)
	}
	if p := bytes.TrimSpace(op.Params); len(p) > 0 {
		if (p[0] != '{' && p[0] != '[') || !json.Valid(p) {
			return fmt.Errorf("%w: params of %q are not a JSON object or array", ErrBadOp, op.Method)
		}
		op.Params = append(json.RawMessage(nil), p...)
	} else {
		op.Params = nil
	}
	return nil
}

// ReadWorkload parses a JSON-lines workload: one op per line, as
// {"method": "query", "params": {...}, "weight": 3, "priority": 1}. Blank
// lines and lines starting with '#' are skipped. Unknown fields are refused,
// so a typo in "weight" does not silently become weight 1.
func ReadWorkload(r io.Reader) (*Workload, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	var ops []Op
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 || b[0] == '#' {
			continue
		}
		var op Op
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&op); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrBadOp, line, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%w: line %d: more than one JSON value", ErrBadOp, line)
		}
		if err := checkOp(&op); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		ops = append(ops, op)
		if len(ops) > maxWorkloadOps {
			return nil, fmt.Errorf("%w: more than %d ops", ErrBadOp, maxWorkloadOps)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("bench: reading workload: line %d: %w", line+1, err)
	}
	return NewWorkload(ops)
}

// LoadWorkload reads a JSON-lines workload file (see ReadWorkload).
func LoadWorkload(path string) (*Workload, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bench: workload: %w", err)
	}
	defer f.Close()
	w, err := ReadWorkload(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return w, nil
}

// Ops returns a copy of the workload's ops, with their weights filled in.
func (w *Workload) Ops() []Op {
	out := make([]Op, len(w.ops))
	copy(out, w.ops)
	return out
}

// Methods returns the distinct methods of the workload in first-seen order.
func (w *Workload) Methods() []string { return append([]string(nil), w.methods...) }

// Bands returns the distinct priority bands of the workload, ascending.
func (w *Workload) Bands() []int { return append([]int(nil), w.bands...) }

// pick returns the op whose cumulative-weight interval holds u·total, for u
// uniform in [0,1).
func (w *Workload) pick(u float64) *Op {
	if len(w.ops) == 1 {
		return &w.ops[0]
	}
	x := u * w.cum[len(w.cum)-1]
	i := sort.SearchFloat64s(w.cum, x)
	// SearchFloat64s finds the first cum >= x; an x equal to a boundary
	// belongs to the next op.
	for i < len(w.cum)-1 && w.cum[i] <= x {
		i++
	}
	return &w.ops[i]
}
