package server

import "net"

// resolveUnix reports the Unix-domain networks as unknown: CPython on
// Windows has no socket.AF_UNIX and so no Unix-domain servers, and this
// package leaves UnixStreamServer and UnixDatagramServer out there.
//
// CPython: Lib/socketserver.py:725 (if hasattr(socket, 'AF_UNIX'))
func resolveUnix(network, _ string) (net.Addr, int, error) {
	return nil, 0, net.UnknownNetworkError(network)
}

// unixSockaddr refuses a Unix-domain address: no AF_UNIX (see resolveUnix).
func unixSockaddr(int, *net.UnixAddr) (sockaddr, error) { return nil, errNoFamily }

// fromUnixSockaddr returns nil: no Unix-domain sockaddr on Windows.
func fromUnixSockaddr(sockaddr, int) net.Addr { return nil }
