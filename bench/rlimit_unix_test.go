//go:build unix

package bench

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestRaiseFileLimit(t *testing.T) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Setrlimit(unix.RLIMIT_NOFILE, &lim) })
	got, err := RaiseFileLimit(lim.Cur)
	if err != nil || got != lim.Cur {
		t.Fatalf("asking for the current limit %d: got %d, %v", lim.Cur, got, err)
	}
	if lim.Cur == lim.Max {
		// Lower the soft limit first so there is room to raise it again.
		low := lim
		low.Cur = lim.Cur / 2
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
			t.Fatal(err)
		}
	}
	want := lim.Cur
	if lim.Cur == lim.Max {
		want = lim.Max
	} else {
		want = min(lim.Cur+1, lim.Max)
	}
	got, err = RaiseFileLimit(want)
	if err != nil || got != want {
		t.Fatalf("RaiseFileLimit(%d) = %d, %v", want, got, err)
	}
	// Asking for more than the hard limit stops at the hard limit.
	if lim.Max == unix.RLIM_INFINITY {
		return
	}
	if got, err := RaiseFileLimit(lim.Max + 1); err != nil || got != lim.Max {
		t.Fatalf("RaiseFileLimit(max+1) = %d, %v; hard limit %d", got, err, lim.Max)
	}
}
