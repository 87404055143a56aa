//go:build unix

package server

import (
	"net"

	"golang.org/x/sys/unix"
)

// resolveUnix is ResolveAddress for the Unix-domain networks.
//
// CPython: Lib/socketserver.py:727 UnixStreamServer (address_family AF_UNIX)
func resolveUnix(network, address string) (net.Addr, int, error) {
	return &net.UnixAddr{Name: address, Net: network}, unix.AF_UNIX, nil
}

// unixSockaddr converts a Unix-domain address for a socket of family.
func unixSockaddr(family int, a *net.UnixAddr) (sockaddr, error) {
	if family != unix.AF_UNIX {
		return nil, unix.EAFNOSUPPORT
	}
	return &unix.SockaddrUnix{Name: a.Name}, nil
}

// fromUnixSockaddr converts a Unix-domain sockaddr, or returns nil for
// any other.
func fromUnixSockaddr(sa sockaddr, sotype int) net.Addr {
	a, ok := sa.(*unix.SockaddrUnix)
	if !ok {
		return nil
	}
	if sotype == unix.SOCK_DGRAM {
		return &net.UnixAddr{Name: a.Name, Net: "unixgram"}
	}
	return &net.UnixAddr{Name: a.Name, Net: "unix"}
}
