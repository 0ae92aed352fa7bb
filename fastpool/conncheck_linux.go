package fastpool

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// connCheckAfter is how long a connection must have been idle before acquire
// peeks at it to see whether the server closed it.
const connCheckAfter = time.Second

// peekState is what a non-blocking peek at an idle connection found.
type peekState uint8

const (
	peekIdle peekState = iota // nothing to read: usable
	peekData                  // bytes waiting (for TLS maybe a session ticket)
	peekDead                  // EOF or an error: the server closed it
)

// peekConn looks at an idle TCP connection without blocking or consuming,
// so a connection the server closed while idle is dropped before a request
// is written into it (where the failure could not be told apart from a
// request the server received).
func peekConn(raw net.Conn) peekState {
	sc, ok := raw.(syscall.Conn)
	if !ok {
		return peekIdle
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return peekDead
	}
	state := peekIdle
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n > 0:
			state = peekData
		case rerr == nil: // n == 0: EOF
			state = peekDead
		case !errors.Is(rerr, syscall.EAGAIN):
			state = peekDead
		}
		return true
	})
	if err != nil {
		return peekDead
	}
	return state
}
