//go:build unix && !linux

package server

import "golang.org/x/sys/unix"

// recvfrom is recvfrom(2) with flags (see sock_linux.go for Linux's).
func recvfrom(fd int, p []byte, flags int) (int, unix.Sockaddr, error) {
	return unix.Recvfrom(fd, p, flags)
}
