//go:build dragonfly || freebsd || illumos

package server

import "golang.org/x/sys/unix"

// socketCloexec creates a socket that is close-on-exec from the start
// (SOCK_CLOEXEC), so no exec can inherit it.
func socketCloexec(family, sotype int) (int, error) {
	return unix.Socket(family, sotype|unix.SOCK_CLOEXEC, 0)
}

// acceptNonblock accepts a connection that is non-blocking and
// close-on-exec from the start, in one accept4(2) call.
func acceptNonblock(fd int) (int, unix.Sockaddr, error) {
	return unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
}
