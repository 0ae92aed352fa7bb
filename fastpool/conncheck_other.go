//go:build !linux

package fastpool

import (
	"net"
	"time"
)

// connCheckAfter: without a non-blocking peek, idle connections are trusted
// until KeepAliveTimeout.
const connCheckAfter = time.Duration(1<<63 - 1)

type peekState uint8

const (
	peekIdle peekState = iota
	peekData
	peekDead
)

func peekConn(net.Conn) peekState { return peekIdle }
