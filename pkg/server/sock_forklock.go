//go:build unix && !(dragonfly || freebsd || illumos || linux)

package server

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// socketCloexec creates a socket and marks it close-on-exec. These systems
// (macOS among them) have no SOCK_CLOEXEC for accept, so the two steps run
// under syscall.ForkLock: a concurrent fork+exec (os/exec, or
// forking.ReExec) holds the lock for writing and so cannot start between
// them and leak the descriptor into a child.
func socketCloexec(family, sotype int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := unix.Socket(family, sotype, 0)
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(fd)
	return fd, nil
}

// acceptNonblock accepts a connection, marks it close-on-exec under
// syscall.ForkLock (no accept4(2) here; see socketCloexec), then switches
// it to non-blocking mode.
func acceptNonblock(fd int) (int, unix.Sockaddr, error) {
	syscall.ForkLock.RLock()
	nfd, sa, err := unix.Accept(fd)
	if err == nil {
		unix.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, nil, err
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return -1, nil, err
	}
	return nfd, sa, nil
}
