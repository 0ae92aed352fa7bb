//go:build linux && amd64 && !race

package ring

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkHeavyFence measures what a light single-producer ring's
// consumer pays each time it parks or finishes: one membarrier call. Its
// cost depends on how many other CPUs run a thread of this process at
// that moment (each gets an interrupt); here they are mostly idle.
func BenchmarkHeavyFence(b *testing.B) {
	if !lightCommits() {
		b.Skip("membarrier unavailable: rings use locked commits here")
	}
	for b.Loop() {
		heavyFence()
	}
}

// TestHeavyFenceOrdersPlainStore is the store-buffer litmus test the
// single-producer protocol rests on, run on the real primitives: thread A
// stores x with storeRelaxed (a plain MOV) and then loads y; thread B
// stores y with a locked instruction, runs heavyFence and then loads x.
// Without a fence on A's side x86 lets both loads miss the other's store
// (A's store still in its store buffer); heavyFence must rule that out.
// The same rounds without heavyFence are counted and logged, to show the
// reordering is real on this machine (it is rare, so it is not asserted).
func TestHeavyFenceOrdersPlainStore(t *testing.T) {
	if !lightCommits() {
		t.Skip("membarrier unavailable: rings use locked commits here, covered by the locked tests")
	}
	// The unfenced reordering shows in about 1 of 10,000 rounds here, so
	// 40,000 fenced rounds would catch a fence that does nothing with
	// probability ~97%.
	rounds := 40000
	if testing.Short() {
		rounds = 3000
	}
	if missed := storeBufferLitmus(rounds, true); missed != 0 {
		t.Fatalf("%d of %d rounds: both loads missed the other side's store despite heavyFence", missed, rounds)
	}
	t.Logf("without the fence: %d of %d rounds had both loads miss", storeBufferLitmus(2*rounds, false), 2*rounds)
}

// storeBufferLitmus runs rounds of the store-buffer test and returns how
// many ended with both loads missing.
func storeBufferLitmus(rounds int, fence bool) int {
	var x, y, start, doneA atomic.Uint64
	seenY := make([]uint64, rounds+1)
	var wg sync.WaitGroup
	wg.Go(func() { // A: the producer's side
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for i := uint64(1); i <= uint64(rounds); i++ {
			for spin := 0; start.Load() < i; spin++ {
				if spin%1024 == 1023 {
					runtime.Gosched()
				}
			}
			storeRelaxed(&x, i)
			seenY[i] = y.Load()
			doneA.Store(i)
		}
	})
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	missed := 0
	for i := uint64(1); i <= uint64(rounds); i++ { // B: the consumer's side
		start.Store(i)
		y.Store(i)
		if fence {
			heavyFence()
		}
		seenX := x.Load()
		for spin := 0; doneA.Load() < i; spin++ {
			if spin%1024 == 1023 {
				runtime.Gosched()
			}
		}
		if seenX < i && seenY[i] < i {
			missed++
		}
	}
	wg.Wait()
	return missed
}
