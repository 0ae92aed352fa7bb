package ring

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// FuzzOps drives one ring from one goroutine with an arbitrary sequence of
// TryPublish, Publish and PublishBatch (with an ended context, so a publish
// that would have to wait gives up and leaves an abandoned claim), Drain
// with arbitrary room, and Close, and checks every step against a plain
// FIFO model: nothing lost, nothing duplicated, nothing out of order, no
// failed publish delivered.
func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 0, 1, 2, 3, 1, 4, 2, 9})
	f.Add([]byte{1, 3, 3, 3, 3, 2, 1, 4, 6, 2, 3})
	f.Add([]byte{2, 4, 5, 4, 5, 0, 2, 2, 7, 4, 1, 2, 7})
	f.Add([]byte{3, 0, 1, 4, 9, 2, 0, 255, 2, 7})
	f.Add([]byte{4, 4, 16, 4, 16, 4, 3, 2, 5, 2, 5, 2, 5, 2, 5})
	f.Add([]byte{0x81, 0, 1, 2, 3, 1, 4, 2, 9, 5, 255, 0, 1})
	f.Add([]byte{0x82, 1, 1, 1, 2, 4, 3, 3, 0, 0, 0, 3, 9})
	f.Fuzz(fuzzOps)
}

func fuzzOps(t *testing.T, ops []byte) {
	if len(ops) == 0 {
		return
	}
	// Long inputs add no new states (the ring is at most 16 slots) but make
	// the fuzzer's minimisation slow.
	if len(ops) > 512 {
		ops = ops[:512]
	}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	var opts []Option
	if ops[0]&0x80 != 0 {
		opts = append(opts, WithSingleProducer())
	}
	r, err := New[uint32](1<<(ops[0]%5), opts...)
	if err != nil {
		t.Fatal(err)
	}
	var model []uint32 // published, not yet drained
	nextVal := uint32(1)
	closed := false
	arg := func(i int) int {
		if i+1 < len(ops) {
			return int(ops[i+1])
		}
		return 0
	}
	check := func(got []uint32) {
		t.Helper()
		if len(got) > len(model) || !slices.Equal(got, model[:len(got)]) {
			t.Fatalf("drained %v, model queue %v", got, model)
		}
		model = model[len(got):]
	}
	for i := 1; i < len(ops); i++ {
		switch ops[i] % 6 {
		case 0:
			if r.TryPublish(nextVal) {
				if closed {
					t.Fatal("TryPublish succeeded on a closed ring")
				}
				model = append(model, nextVal)
			}
			nextVal++
		case 1:
			err := r.Publish(ended, nextVal)
			switch {
			case err == nil:
				model = append(model, nextVal)
			case errors.Is(err, ErrClosed) && closed, errors.Is(err, context.Canceled) && !closed:
			default:
				t.Fatalf("Publish: %v (closed %v)", err, closed)
			}
			nextVal++
		case 2:
			n := arg(i) % (r.Cap() + 2)
			i++
			batch := make([]uint32, n)
			for j := range batch {
				batch[j] = nextVal
				nextVal++
			}
			err := r.PublishBatch(ended, batch)
			switch {
			case err == nil:
				model = append(model, batch...)
			case errors.Is(err, ErrBatchTooLarge) && n > r.Cap():
			case errors.Is(err, ErrClosed) && closed, errors.Is(err, context.Canceled) && !closed:
			default:
				t.Fatalf("PublishBatch(%d): %v (closed %v)", n, err, closed)
			}
		case 3, 4:
			room := arg(i) % 9
			i++
			check(r.Drain(make([]uint32, 0, room)))
		case 5:
			if arg(i) == 255 {
				r.Close()
				closed = true
			}
			i++
		}
		if l := r.Len(); l < len(model) || l > r.Cap() {
			t.Fatalf("Len() = %d with %d items queued, Cap %d", l, len(model), r.Cap())
		}
	}
	r.Close()
	buf := make([]uint32, 0, 3)
	for {
		err := r.Wait(ended)
		if errors.Is(err, ErrClosed) {
			break
		}
		if err != nil {
			t.Fatalf("Wait on closed ring with %d items queued: %v", len(model), err)
		}
		buf = r.Drain(buf[:0])
		if len(buf) == 0 {
			t.Fatal("Wait returned nil but Drain found nothing")
		}
		check(buf)
	}
	if len(model) != 0 {
		t.Fatalf("Wait returned ErrClosed with %v still queued", model)
	}
	if n := r.holes.count.Load(); n != 0 {
		t.Fatalf("%d abandoned claims left after ErrClosed", n)
	}
}
