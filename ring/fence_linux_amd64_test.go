//go:build linux && amd64 && !race

package ring

import "testing"

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
