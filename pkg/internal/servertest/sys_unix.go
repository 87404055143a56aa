//go:build unix

package servertest

import (
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The raw descriptors the tests make are close-on-exec on every Unix, not
// only where pipe2(2) and SOCK_CLOEXEC exist (macOS has neither): each is
// created and marked under syscall.ForkLock, so a test's fork+exec (the
// forking package's children) never inherits one.

// Pipe returns a close-on-exec pipe (read end, write end), closed when the
// test ends.
func Pipe(t testing.TB) (r, w int) {
	t.Helper()
	var p [2]int
	syscall.ForkLock.RLock()
	err := unix.Pipe(p[:])
	if err == nil {
		unix.CloseOnExec(p[0])
		unix.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

// Socket returns a close-on-exec socket; the caller owns it.
func Socket(t testing.TB, family, sotype int) int {
	t.Helper()
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(family, sotype, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// Socketpair returns a connected close-on-exec pair of sockets; the caller
// owns both.
func Socketpair(t testing.TB, family, sotype int) (int, int) {
	t.Helper()
	syscall.ForkLock.RLock()
	fds, err := unix.Socketpair(family, sotype, 0)
	if err == nil {
		unix.CloseOnExec(fds[0])
		unix.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
	return fds[0], fds[1]
}
