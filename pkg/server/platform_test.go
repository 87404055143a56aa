package server_test

import (
	"errors"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// The server kinds every platform has, through the native socket of that
// platform (raw system calls on Unix, Go's net package on Windows): TCP and
// UDP echo (C, D), HandleRequest's timeout (B7, B9), the socket timeout on
// Accept, SO_REUSEPORT where it exists (C5) and close (C9). The Unix-domain
// kinds exist exactly where CPython has AF_UNIX (H5, H6).
func TestPortableKinds_B7_C9_D3(t *testing.T) {
	s, err := server.NewTCPServer("127.0.0.1:0", echoLine)
	if err != nil {
		t.Fatal(err)
	}
	s.Timeout = server.After(30 * time.Millisecond)
	start := time.Now()
	if err := s.HandleRequest(); err != nil || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("HandleRequest with nothing pending: %v after %v", err, time.Since(start))
	}
	s.Socket.SetTimeout(server.After(20 * time.Millisecond))
	if _, _, err := s.Socket.Accept(); !errors.Is(err, server.ErrTimeout) {
		t.Fatalf("Accept with a socket timeout: %v", err)
	}
	s.Socket.SetTimeout(server.None)
	stop := serve(t, s)
	for i := 0; i < 5; i++ {
		if got := tcpRoundTrip(t, s.ServerAddress.String(), "hi\n"); got != "hi\n" {
			t.Fatalf("tcp echo %q", got)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if s.Fileno() != -1 {
		t.Fatal("Fileno after ServerClose")
	}

	u, err := server.NewUDPServer("127.0.0.1:0", echoLine)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, u)
	c := dial(t, "udp", u.ServerAddress.String())
	defer c.Close()
	if _, err := c.Write([]byte("dg")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "dg" {
		t.Fatalf("udp echo %q %v", buf[:n], err)
	}

	r := &server.TCPServer{AllowReuseAddress: true, AllowReusePort: true}
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	if err := r.Init(r, addr, echoLine, true); err != nil {
		t.Fatalf("reuse options: %v", err)
	}
	r.ServerClose()

	_, _, err = server.ResolveAddress("unix", "x")
	if (err == nil) == (runtime.GOOS == "windows") {
		t.Fatalf("ResolveAddress(unix) on %s: %v", runtime.GOOS, err)
	}
	var unknown net.UnknownNetworkError
	if runtime.GOOS == "windows" && !errors.As(err, &unknown) {
		t.Fatalf("ResolveAddress(unix) on windows: %v", err)
	}
}
