//go:build linux

package server_test

import (
	"errors"
	"net"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/gopy-socketserver/socketserver/pkg/server"
	"golang.org/x/sys/unix"
)

// The primitives the bindings take requests with (issue 13, item 3): one
// system call on a number the caller owns, the peer as the kernel wrote it.

// listenBorrowed is a listening IPv4 socket on 127.0.0.1 that the test
// owns, and its port.
func listenBorrowed(t *testing.T, sotype int) (int, int) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, sotype|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if sotype == unix.SOCK_STREAM {
		if err := unix.Listen(fd, 8); err != nil {
			t.Fatal(err)
		}
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, sa.(*unix.SockaddrInet4).Port
}

// dialLoopback connects to port on 127.0.0.1, closed when the test ends.
func dialLoopback(t *testing.T, network string, port int) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(network, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// peerPort reads an AF_INET RawAddr's family, length and port.
func peerPort(t *testing.T, from *server.RawAddr) int {
	t.Helper()
	if from.Any.Addr.Family != unix.AF_INET || from.Len != unix.SizeofSockaddrInet4 {
		t.Fatalf("peer: family %d, length %d; want AF_INET, %d",
			from.Any.Addr.Family, from.Len, unix.SizeofSockaddrInet4)
	}
	in4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(&from.Any))
	if in4.Addr != [4]byte{127, 0, 0, 1} {
		t.Fatalf("peer address %v", in4.Addr)
	}
	p := (*[2]byte)(unsafe.Pointer(&in4.Port))
	return int(p[0])<<8 | int(p[1])
}

// CPython's socket.accept(): the connection is blocking and close-on-exec,
// and the peer is the client's own address.
func TestAcceptBorrowedGivesBlockingCloexecConnAndPeer(t *testing.T) {
	fd, port := listenBorrowed(t, unix.SOCK_STREAM)
	c := dialLoopback(t, "tcp", port)
	var from server.RawAddr
	nfd, err := server.AcceptBorrowed(fd, &from)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(nfd)
	if got, want := peerPort(t, &from), c.LocalAddr().(*net.TCPAddr).Port; got != want {
		t.Fatalf("peer port %d, want the client's %d", got, want)
	}
	flags, err := unix.FcntlInt(uintptr(nfd), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.O_NONBLOCK != 0 {
		t.Fatal("the accepted connection is non-blocking")
	}
	fdflags, err := unix.FcntlInt(uintptr(nfd), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fdflags&unix.FD_CLOEXEC == 0 {
		t.Fatal("the accepted connection is not close-on-exec")
	}
	if !isOpen(fd) {
		t.Fatal("the borrowed listening socket was closed")
	}
}

// A number the caller no longer holds (-1 after close or detach) fails
// with the bare EBADF, which the loop ignores as CPython's get_request's
// OSError; so does a closed number.
func TestBorrowedPrimitivesOnAClosedNumberFailWithEBADF(t *testing.T) {
	fd, _ := listenBorrowed(t, unix.SOCK_DGRAM)
	dup, err := unix.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(dup)
	var from server.RawAddr
	for _, n := range []int{-1, dup} {
		if _, err := server.AcceptBorrowed(n, &from); !errors.Is(err, unix.EBADF) {
			t.Fatalf("AcceptBorrowed(%d): %v, want EBADF", n, err)
		}
		if _, err := server.RecvFromBorrowed(n, make([]byte, 4), &from); !errors.Is(err, unix.EBADF) {
			t.Fatalf("RecvFromBorrowed(%d): %v, want EBADF", n, err)
		}
	}
}

// recvfrom(2): at most len(p) bytes of one datagram, the rest dropped (the
// next receive gets the next datagram), the sender as the kernel wrote it;
// an empty buffer takes a datagram too.
func TestRecvFromBorrowedTruncatesOneDatagram(t *testing.T) {
	fd, port := listenBorrowed(t, unix.SOCK_DGRAM)
	c := dialLoopback(t, "udp", port)
	for _, msg := range []string{"0123456789", "ab", "dropped whole"} {
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	var from server.RawAddr
	buf := make([]byte, 4)
	for _, want := range []string{"0123", "ab"} {
		n, err := server.RecvFromBorrowed(fd, buf, &from)
		if err != nil {
			t.Fatal(err)
		}
		if string(buf[:n]) != want {
			t.Fatalf("received %q, want %q", buf[:n], want)
		}
		if got, want := peerPort(t, &from), c.LocalAddr().(*net.UDPAddr).Port; got != want {
			t.Fatalf("sender port %d, want %d", got, want)
		}
	}
	if n, err := server.RecvFromBorrowed(fd, nil, &from); err != nil || n != 0 {
		t.Fatalf("empty receive: %d, %v", n, err)
	}
	// The three datagrams are consumed: nothing is left (asked without
	// blocking: EAGAIN).
	if err := unix.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	if _, err := server.RecvFromBorrowed(fd, buf, &from); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("a fourth receive: %v, want EAGAIN (a datagram was left behind)", err)
	}
}
