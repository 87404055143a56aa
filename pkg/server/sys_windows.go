package server

import "golang.org/x/sys/windows"

// The Winsock constants and address types behind the names the portable
// files use (see sys_unix.go).
const (
	afINET      = windows.AF_INET
	afINET6     = windows.AF_INET6
	sockSTREAM  = windows.SOCK_STREAM
	sockDGRAM   = windows.SOCK_DGRAM
	solSOCKET   = windows.SOL_SOCKET
	soREUSEADDR = windows.SO_REUSEADDR
	ipprotoTCP  = windows.IPPROTO_TCP
	tcpNODELAY  = windows.TCP_NODELAY
	errNoFamily = windows.WSAEAFNOSUPPORT
	errBadFD    = windows.WSAENOTSOCK
)

type (
	sockaddr      = windows.Sockaddr
	sockaddrInet4 = windows.SockaddrInet4
	sockaddrInet6 = windows.SockaddrInet6
)
