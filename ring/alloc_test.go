//go:build !race

package ring

import (
	"context"
	"testing"
)

// TestZeroAllocs holds the package's claim that publishing, draining and
// waiting with data available allocate nothing.
func TestZeroAllocs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type call struct{ id uint64 }
	r := mustNew[*call](t, 64)
	c := &call{id: 1}
	batch := []*call{c, c, c, c}
	buf := make([]*call, 0, 64)
	tests := []struct {
		name string
		fn   func()
	}{
		{"Publish then Drain", func() {
			_ = r.Publish(ctx, c)
			buf = r.Drain(buf[:0])
		}},
		{"TryPublish then Wait and Drain", func() {
			r.TryPublish(c)
			_ = r.Wait(ctx)
			buf = r.Drain(buf[:0])
		}},
		{"PublishBatch then Drain", func() {
			_ = r.PublishBatch(ctx, batch)
			buf = r.Drain(buf[:0])
		}},
		{"Len and Cap", func() { _ = r.Len() + r.Cap() }},
	}
	for _, tt := range tests {
		if allocs := testing.AllocsPerRun(1000, tt.fn); allocs != 0 {
			t.Errorf("%s: %v allocs per run, want 0", tt.name, allocs)
		}
	}
	if len(buf) != 4 {
		t.Fatalf("last drain returned %d items, want 4", len(buf))
	}
}
