//go:build unix && !solaris

package server

import "golang.org/x/sys/unix"

// SO_REUSEPORT exists here (CPython: hasattr(socket, "SO_REUSEPORT")), so
// TCPServer.AllowReusePort sets it.
const (
	haveReusePort = true
	soREUSEPORT   = unix.SO_REUSEPORT
)
