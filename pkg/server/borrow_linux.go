//go:build linux

package server

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// RawAddr is a socket address as the kernel wrote it: Len bytes of Any.
// It is for an embedder whose own socket objects convert addresses (the
// bindings hand it to CPython's socket module), with AcceptBorrowed and
// RecvFromBorrowed.
//
// CPython: Modules/socketmodule.c sock_addr_t (with its length)
type RawAddr struct {
	Any unix.RawSockaddrAny
	Len uint32
}

// AcceptBorrowed is one accept(2) on fd, a listening socket the caller
// owns, under the ownership rule of BorrowSocket: the package keeps no
// number, so a caller that reads fd from its socket object right before
// the call never has a closed or reused number accepted on. The
// connection comes close-on-exec and in the mode CPython's socket.accept()
// starts from (blocking; the caller sets its timeout), and the peer's
// address is written to from. An interrupted call returns EINTR, for the
// caller to run its signal handlers and retry as its runtime needs
// (PEP 475); every error is the bare errno, as the caller's OSError wants
// it.
//
// CPython: Modules/socketmodule.c sock_accept (accept4 with SOCK_CLOEXEC)
func AcceptBorrowed(fd int, from *RawAddr) (int, error) {
	return accept4(fd, unix.SOCK_CLOEXEC, from)
}

// RecvFromBorrowed is one recvfrom(2) on fd, a datagram socket the caller
// owns (see AcceptBorrowed): at most len(p) bytes of one datagram, the rest
// of a longer one dropped by the kernel, with the sender written to from.
// Errors are as AcceptBorrowed's.
//
// CPython: Modules/socketmodule.c sock_recvfrom
func RecvFromBorrowed(fd int, p []byte, from *RawAddr) (int, error) {
	return recvfromRaw(fd, p, 0, from)
}

// accept4 is accept4(2) with flags, the one accept of the native sockets
// (acceptNonblock) and of AcceptBorrowed.
func accept4(fd, flags int, from *RawAddr) (int, error) {
	from.Len = uint32(unsafe.Sizeof(from.Any))
	nfd, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd), uintptr(unsafe.Pointer(&from.Any)),
		uintptr(unsafe.Pointer(&from.Len)), uintptr(flags), 0, 0)
	if e != 0 {
		return -1, e
	}
	from.clamp()
	return int(nfd), nil
}

// recvfromRaw is recvfrom(2) with flags, the one receive of the native
// datagram sockets (recvfrom) and of RecvFromBorrowed.
func recvfromRaw(fd int, p []byte, flags int, from *RawAddr) (int, error) {
	from.Len = uint32(unsafe.Sizeof(from.Any))
	base := unsafe.Pointer(&zeroByte)
	if len(p) > 0 {
		base = unsafe.Pointer(&p[0])
	}
	n, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(base), uintptr(len(p)),
		uintptr(flags), uintptr(unsafe.Pointer(&from.Any)), uintptr(unsafe.Pointer(&from.Len)))
	if e != 0 {
		return 0, e
	}
	from.clamp()
	return int(n), nil
}

// clamp limits Len to the buffer: the kernel reports an address's whole
// length even when it wrote only the part that fits.
func (a *RawAddr) clamp() {
	a.Len = min(a.Len, uint32(unsafe.Sizeof(a.Any)))
}
