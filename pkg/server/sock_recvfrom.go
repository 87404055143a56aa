//go:build unix && !linux

package server

import (
	"net"

	"golang.org/x/sys/unix"
)

// recvfrom is recvfrom(2) with flags, with the sender as a net.Addr (see
// sock_linux.go for Linux's).
func recvfrom(fd int, p []byte, flags, sotype int) (int, net.Addr, error) {
	n, sa, err := unix.Recvfrom(fd, p, flags)
	if err != nil {
		return n, nil, err
	}
	return n, fromSockaddr(sa, sotype), nil
}

// rawInet4 reports false: SendTo converts every address with toSockaddr
// here (see sock_linux.go).
func rawInet4(int, net.Addr) (unix.RawSockaddrInet4, bool) {
	return unix.RawSockaddrInet4{}, false
}

// sendtoInet4 is not used where rawInet4 reports false.
func sendtoInet4(int, []byte, *unix.RawSockaddrInet4) error { return unix.ENOSYS }
