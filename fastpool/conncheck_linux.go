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

// connAlive reports whether an idle connection is still usable: the server
// has neither closed it nor sent anything unsolicited. It peeks without
// blocking, so a connection the server closed while idle is dropped before
// a request is written into it (where the failure could not be told apart
// from a request the server received).
func connAlive(raw net.Conn) bool {
	sc, ok := raw.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := true
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n == 0 && rerr == nil: // EOF: the server closed it
			alive = false
		case n > 0: // unsolicited bytes: protocol state unknown
			alive = false
		case rerr != nil && !errors.Is(rerr, syscall.EAGAIN):
			alive = false
		}
		return true
	})
	return err == nil && alive
}
