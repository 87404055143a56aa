//go:build unix

package server

import "golang.org/x/sys/unix"

// The system's socket constants and address types, named once so that the
// portable files (addr.go, tcp.go, udp.go) build on every platform; the
// Windows values are in sys_windows.go.
const (
	afINET      = unix.AF_INET
	afINET6     = unix.AF_INET6
	sockSTREAM  = unix.SOCK_STREAM
	sockDGRAM   = unix.SOCK_DGRAM
	solSOCKET   = unix.SOL_SOCKET
	soREUSEADDR = unix.SO_REUSEADDR
	errNoFamily = unix.EAFNOSUPPORT
)

type (
	sockaddr      = unix.Sockaddr
	sockaddrInet4 = unix.SockaddrInet4
	sockaddrInet6 = unix.SockaddrInet6
)
