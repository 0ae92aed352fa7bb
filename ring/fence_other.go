//go:build !linux || !amd64 || race

package ring

import "sync/atomic"

// lightCommits is false off linux/amd64 and under the race detector (which
// cannot see the ordering membarrier provides): single-producer rings
// commit with a sequentially consistent store. See fence_linux_amd64.go.
func lightCommits() bool { return false }

// heavyFence is never needed without light commits.
func heavyFence() {}

// storeRelaxed falls back to a sequentially consistent store.
func storeRelaxed(p *atomic.Uint64, v uint64) { p.Store(v) }
