//go:build unix

package server

import (
	"golang.org/x/sys/unix"
)

var _ NativeConn = (*conn)(nil)

// borrowedSocket is a native socket on a descriptor someone else owns:
// Close forgets the number and closes nothing.
type borrowedSocket struct{ *sysSocket }

func (b borrowedSocket) Close() error {
	b.fd.Store(-1)
	return nil
}

// BorrowSocket wraps a socket descriptor that the caller keeps owning (an
// embedder's socket object): the Socket works on that number, never
// closes it (Close only makes Fileno -1 and later calls fail with EBADF),
// and waits with poll(2), never on the netpoller (UseNetpoll refuses it),
// so the descriptor's mode and registration stay the owner's. The owner
// closes the number, after the server is done with it. Compare
// SocketFromFD, which takes ownership.
//
// CPython: Lib/socketserver.py:453 TCPServer.__init__ (socket.socket(fileno=...))
func BorrowSocket(fd, family, sotype int) Socket {
	return borrowedSocket{newSysSocket(fd, family, sotype)}
}

// BorrowConn wraps a connected stream socket descriptor that the caller
// keeps owning: the Conn works on a close-on-exec duplicate (F_DUPFD_CLOEXEC)
// that it owns and closes, and never closes fd itself. The duplicate is
// put in non-blocking mode, which the two numbers share (the socket's
// file status flags); a caller reading fd itself after must expect that.
// Compare ConnFromFD, which takes ownership of fd.
//
// CPython: Lib/socketserver.py:511 TCPServer.get_request (socket.dup)
func BorrowConn(fd, family int) (Conn, error) {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, &osError{op: "dup", err: err}
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return nil, &osError{op: "fcntl", err: err}
	}
	return ConnFromFD(nfd, family) // on failure it has closed nfd
}
