//go:build unix

package server_test

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gopy-socketserver/socketserver/pkg/internal/servertest"
	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// acceptOne returns an accepted native Conn and the client side.
func acceptOne(t *testing.T) (server.NativeConn, net.Conn, *server.TCPServer) {
	t.Helper()
	s, err := server.NewTCPServer("127.0.0.1:0", echoLine)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.ServerClose() })
	client := dial(t, "tcp", s.ServerAddress.String())
	t.Cleanup(func() { client.Close() })
	req, addr, err := s.GetRequest()
	if err != nil {
		t.Fatal(err)
	}
	c := req.(server.NativeConn)
	t.Cleanup(func() { c.Close() })
	if addr.String() != client.LocalAddr().String() || c.RemoteAddr().String() != addr.String() {
		t.Fatalf("client address %v / %v, want %v", addr, c.RemoteAddr(), client.LocalAddr())
	}
	return c, client, s
}

// C11, I5: the accepted connection's methods.
func TestNativeConn_C11_I5(t *testing.T) {
	c, client, s := acceptOne(t)
	if c.LocalAddr().String() != s.ServerAddress.String() {
		t.Fatalf("local %v want %v", c.LocalAddr(), s.ServerAddress)
	}
	if !c.Timeout().IsNone() {
		t.Fatal("accepted socket timeout is not None")
	}
	// Per-operation timeout: "timed out", an os.ErrDeadlineExceeded.
	if err := c.SetTimeout(server.Seconds(0.02)); err != nil {
		t.Fatal(err)
	}
	_, err := c.Read(make([]byte, 1))
	if !errors.Is(err, server.ErrTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) || err.Error() != "timed out" {
		t.Fatalf("read timeout: %v", err)
	}
	c.SetTimeout(server.None)
	// Deadlines.
	c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
	c.SetDeadline(time.Time{})
	c.SetWriteDeadline(time.Time{})
	if err := c.SetNoDelay(true); err != nil {
		t.Fatal(err)
	}
	if v, _ := unix.GetsockoptInt(c.Fileno(), unix.IPPROTO_TCP, unix.TCP_NODELAY); v == 0 {
		t.Fatal("TCP_NODELAY not set")
	}
	client.Write([]byte("abc"))
	b := make([]byte, 3)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "abc" {
		t.Fatalf("read %q %v", b, err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Read(b); err != io.EOF {
		t.Fatalf("client after SHUT_WR: %v", err)
	}
	if err := c.Close(); err != nil || c.Fileno() != -1 || c.Close() != nil {
		t.Fatal("close")
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("write after close succeeded")
	}
}

// ConnFromFD and SocketFromFD wrap descriptors (the forking child's path).
func TestFromFD(t *testing.T) {
	_, client, _ := acceptOne(t)
	f, err := client.(*net.TCPConn).File() // a dup
	if err != nil {
		t.Fatal(err)
	}
	c, err := server.ConnFromFD(int(f.Fd()), unix.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	if c.RemoteAddr() == nil || c.Fileno() < 0 {
		t.Fatal("ConnFromFD lost the peer")
	}
	c.Close()
	fd := servertest.Socket(t, unix.AF_INET, unix.SOCK_DGRAM)
	sock := server.SocketFromFD(fd, unix.AF_INET, unix.SOCK_DGRAM)
	if sock.Family() != unix.AF_INET || sock.Type() != unix.SOCK_DGRAM || sock.Fileno() != fd {
		t.Fatal("SocketFromFD")
	}
	if err := sock.SendTo(nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}); err != nil {
		t.Fatal(err)
	}
	sock.Close()
	if _, err := server.ConnFromFD(-1, unix.AF_INET); err == nil {
		t.Fatal("ConnFromFD(-1) succeeded")
	}
}

// B7: Timeout's None vs 0 and its text.
func TestTimeoutValues_B1_B7(t *testing.T) {
	for _, tc := range []struct {
		t    server.Timeout
		none bool
		d    time.Duration
		s    string
	}{
		{server.None, true, 0, "None"},
		{server.Timeout{}, true, 0, "None"},
		{server.After(0), false, 0, "0"},
		{server.Seconds(0.5), false, 500 * time.Millisecond, "0.5"},
	} {
		d, ok := tc.t.Duration()
		if tc.t.IsNone() != tc.none || ok == tc.none || d != tc.d || tc.t.String() != tc.s {
			t.Errorf("%v: none=%v d=%v", tc.t, tc.t.IsNone(), d)
		}
	}
}

// B8: which errors are Python's OSError and which are BaseExceptions.
func TestErrorKinds_B8(t *testing.T) {
	for _, tc := range []struct {
		err      error
		os, base bool
		text     string
	}{
		{unix.ECONNRESET, true, false, ""},
		{server.ErrTimeout, true, false, "timed out"},
		{errors.New("x"), false, false, "x"},
		{&server.SystemExit{}, false, true, "SystemExit"},
		{&server.SystemExit{Code: 2}, false, true, "SystemExit: 2"},
		{&server.KeyboardInterrupt{}, false, true, "KeyboardInterrupt"},
		{&server.PanicError{Value: io.EOF}, false, false, "panic: EOF"},
		{nil, false, false, ""},
	} {
		if server.IsOSError(tc.err) != tc.os || server.IsBaseException(tc.err) != tc.base {
			t.Errorf("%v: os=%v base=%v", tc.err, server.IsOSError(tc.err), server.IsBaseException(tc.err))
		}
		if tc.text != "" && tc.err.Error() != tc.text {
			t.Errorf("text %q want %q", tc.err.Error(), tc.text)
		}
	}
	if !errors.Is(&server.PanicError{Value: io.EOF}, io.EOF) {
		t.Error("PanicError does not unwrap an error value")
	}
	if server.FormatError(nil) != "NoneType: None\n" {
		t.Error("FormatError(nil)")
	}
}

// B4: a loop over a closed server fails like CPython's selector
// (ValueError for fd -1) instead of spinning.
func TestServeForeverClosedSocket_B4(t *testing.T) {
	s, err := server.NewTCPServer("127.0.0.1:0", echoLine)
	if err != nil {
		t.Fatal(err)
	}
	s.ServerClose()
	if err := s.ServeForever(fast); !errors.Is(err, server.ErrBadFileno) {
		t.Fatalf("ServeForever on a closed server: %v", err)
	}
	var b server.BaseServer
	if b.Fileno() != -1 || !errors.Is(b.ServerBind(), server.ErrNotImplemented) {
		t.Fatal("BaseServer has no socket (K5)")
	}
}
