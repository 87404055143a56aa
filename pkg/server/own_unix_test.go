//go:build unix

package server_test

import (
	"errors"
	"net"
	"testing"

	"github.com/gopy-socketserver/socketserver/pkg/internal/servertest"
	"github.com/gopy-socketserver/socketserver/pkg/server"
	"golang.org/x/sys/unix"
)

// Descriptor ownership (issue 12, item 3): a wrapper closes a descriptor
// only if it owns it, so an embedder's socket object and ours never close
// the same number twice.

func isOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return !errors.Is(err, unix.EBADF)
}

// TestBorrowedSocketServesAndStaysOpen: a server on a borrowed listening
// descriptor binds, serves and closes, and the descriptor is still the
// owner's to close.
func TestBorrowedSocketServesAndStaysOpen(t *testing.T) {
	fd := servertest.Socket(t, unix.AF_INET, unix.SOCK_STREAM)
	defer unix.Close(fd) // the owner's close
	s := &server.TCPServer{NewSocket: func(family, sotype int) (server.Socket, error) {
		return server.BorrowSocket(fd, family, sotype), nil
	}}
	if err := s.Init(s, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, echoLine, true); err != nil {
		t.Fatal(err)
	}
	if err := server.UseNetpoll(s.Socket); !errors.Is(err, server.ErrNotNative) {
		t.Fatalf("UseNetpoll on a borrowed socket: %v, want ErrNotNative", err)
	}
	stop := serve(t, s)
	if got := tcpRoundTrip(t, s.ServerAddress.String(), "hi\n"); got != "hi\n" {
		t.Fatalf("reply %q", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if s.Fileno() != -1 {
		t.Fatalf("Fileno after ServerClose: %d, want -1", s.Fileno())
	}
	if !isOpen(fd) {
		t.Fatal("ServerClose closed a borrowed descriptor")
	}
}

func TestOwnedSocketIsClosed(t *testing.T) {
	fd := servertest.Socket(t, unix.AF_INET, unix.SOCK_STREAM)
	sock := server.SocketFromFD(fd, unix.AF_INET, unix.SOCK_STREAM)
	if err := sock.Close(); err != nil {
		t.Fatal(err)
	}
	if isOpen(fd) {
		unix.Close(fd)
		t.Fatal("SocketFromFD's Close left its descriptor open")
	}
}

// TestBorrowedConnClosesItsDuplicate: a Conn borrowing fd talks on the
// connection, and closing it leaves fd open and usable; ConnFromFD's
// Conn owns fd and closes it.
func TestBorrowedConnClosesItsDuplicate(t *testing.T) {
	fd, peer := servertest.Socketpair(t, unix.AF_UNIX, unix.SOCK_STREAM)
	defer unix.Close(peer)
	c, err := server.BorrowConn(fd, unix.AF_UNIX)
	if err != nil {
		t.Fatal(err)
	}
	if c.Fileno() == fd {
		t.Fatal("a borrowed Conn works on the owner's number")
	}
	if _, err := c.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !isOpen(fd) {
		t.Fatal("closing a borrowed Conn closed the owner's descriptor")
	}
	if _, err := unix.Write(fd, []byte("b")); err != nil {
		t.Fatal(err)
	}
	var b [2]byte
	if n, _ := unix.Read(peer, b[:]); string(b[:n]) != "ab" {
		t.Fatalf("peer read %q, want \"ab\"", b[:n])
	}
	unix.Close(fd)

	fd2, peer2 := servertest.Socketpair(t, unix.AF_UNIX, unix.SOCK_STREAM)
	defer unix.Close(peer2)
	owned, err := server.ConnFromFD(fd2, unix.AF_UNIX)
	if err != nil {
		t.Fatal(err)
	}
	owned.Close()
	if isOpen(fd2) {
		unix.Close(fd2)
		t.Fatal("ConnFromFD's Close left its descriptor open")
	}
}
