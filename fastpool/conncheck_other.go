//go:build !linux

package fastpool

import (
	"net"
	"time"
)

const connCheckAfter = time.Duration(1<<63 - 1)

// connAlive cannot peek without blocking on this platform; idle connections
// are trusted until KeepAliveTimeout.
func connAlive(net.Conn) bool { return true }
