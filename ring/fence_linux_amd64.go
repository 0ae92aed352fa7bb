//go:build linux && amd64 && !race

package ring

import (
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Asymmetric fences for single-producer rings (see single.go).
//
// On x86-64 a plain store already has release semantics (stores are not
// reordered with earlier stores) and a plain load acquire semantics; what a
// plain store does not give is store→load ordering: the producer's load of
// the consumer's flags may complete while its commit still sits in its
// core's store buffer. The consumer closes that gap from its side with
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which runs a full memory
// barrier on every CPU currently running a thread of this process (a
// thread not running was switched out, which is a barrier too). The
// consumer pays it only when it is about to park or declares the ring
// finished; the producer pays no locked instruction per publish.

const (
	membarrierCmdQuery                    = 0
	membarrierCmdPrivateExpedited         = 1 << 3
	membarrierCmdRegisterPrivateExpedited = 1 << 4
	membarrierNeeded                      = membarrierCmdPrivateExpedited | membarrierCmdRegisterPrivateExpedited
)

var (
	lightOnce sync.Once
	lightOK   bool
)

// lightCommits reports whether single-producer rings may commit with a
// plain store: the kernel offers private expedited membarrier and this
// process is registered for it (registration happens once, on the first
// call). On any failure (old kernel, seccomp) the answer is false and
// rings keep their locked commit.
func lightCommits() bool {
	lightOnce.Do(func() {
		mask, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, membarrierCmdQuery, 0, 0)
		if errno != 0 || mask&membarrierNeeded != membarrierNeeded {
			return
		}
		if _, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, membarrierCmdRegisterPrivateExpedited, 0, 0); errno != 0 {
			return
		}
		// One trial run: a kernel that accepted registration but refuses
		// the barrier must not be trusted with the protocol.
		if _, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, membarrierCmdPrivateExpedited, 0, 0); errno != 0 {
			return
		}
		lightOK = true
	})
	return lightOK
}

// heavyFence runs a full memory barrier on every CPU running a thread of
// this process. Only called when lightCommits returned true.
//
// The kernel may refuse transiently (ENOMEM while allocating its CPU
// mask, EINTR, EAGAIN): heavyFence retries those, because a producer may
// be waiting for the decision this fence guards. Any other error after a
// successful registration means the ordering the ring's no-loss guarantee
// rests on is gone, and it panics rather than go on without it.
func heavyFence() {
	for tries := 0; ; tries++ {
		_, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, membarrierCmdPrivateExpedited, 0, 0)
		switch errno {
		case 0:
			return
		case unix.ENOMEM, unix.EINTR, unix.EAGAIN:
			if tries < 1000 {
				runtime.Gosched()
				continue
			}
		}
		panic("ring: membarrier failed after registration: " + errno.Error())
	}
}

// storeRelaxed stores v into *p with a plain MOV (store_amd64.s): a release
// store on x86-64, without the full fence of atomic.Uint64.Store (XCHG).
// The value sits at offset 0 of atomic.Uint64 (its other fields are
// zero-sized). Being an assembly call, it is also a compiler barrier.
//
//go:noescape
func storeRelaxed(p *atomic.Uint64, v uint64)
