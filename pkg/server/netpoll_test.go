//go:build unix

package server_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// UseNetpoll (the default for native sockets): the loop waits on Go's netpoller; requests,
// HandleRequest's timeout (B7), shutdown (B5) and close (C9) behave the
// same, and no descriptor is added (A9).
func TestUseNetpoll_A9_B7(t *testing.T) {
	fds := countFDs(t)
	s, err := server.NewTCPServer("127.0.0.1:0", echoLine)
	if err != nil {
		t.Fatal(err)
	}
	if err := server.UseNetpoll(s.Socket); err != nil {
		t.Fatal(err)
	}
	if countFDs(t) != fds+1 {
		t.Fatal("UseNetpoll added a descriptor")
	}
	// B7: timeout with nothing to accept.
	s.Timeout = server.After(30 * time.Millisecond)
	start := time.Now()
	if err := s.HandleRequest(); err != nil || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("HandleRequest %v after %v", err, time.Since(start))
	}
	// A direct blocking Accept on the now non-blocking socket still waits.
	go func() {
		time.Sleep(20 * time.Millisecond)
		if c, err := net.Dial("tcp", s.ServerAddress.String()); err == nil {
			c.Close()
		}
	}()
	c, _, err := s.Socket.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// Socket timeout on a direct Accept.
	s.Socket.SetTimeout(server.After(20 * time.Millisecond))
	if _, _, err := s.Socket.Accept(); !errors.Is(err, server.ErrTimeout) {
		t.Fatalf("Accept with timeout: %v", err)
	}
	s.Socket.SetTimeout(server.None)
	stop := serve(t, s)
	for i := 0; i < 20; i++ {
		if got := tcpRoundTrip(t, s.ServerAddress.String(), "np\n"); got != "np\n" {
			t.Fatalf("got %q", got)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if s.Fileno() != -1 || countFDs(t) != fds {
		t.Fatal("socket not closed")
	}

	u, err := server.NewUDPServer("127.0.0.1:0", echoLine)
	if err != nil {
		t.Fatal(err)
	}
	if err := server.UseNetpoll(u.Socket); err != nil {
		t.Fatal(err)
	}
	serve(t, u)
	if got := udpExchange(t, "udp", u.ServerAddress, nil, []byte("npu")); string(got) != "npu" {
		t.Fatalf("udp got %q", got)
	}
	if err := server.UseNetpoll(&recSocket{}); !errors.Is(err, server.ErrNotNative) {
		t.Fatal("UseNetpoll accepted a foreign socket")
	}
}
