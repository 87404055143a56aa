//go:build unix

package server_test

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

func udpExchange(t *testing.T, network string, server, local net.Addr, msg []byte) []byte {
	t.Helper()
	var c net.Conn
	var err error
	if network == "unixgram" {
		c, err = net.DialUnix("unixgram", local.(*net.UnixAddr), server.(*net.UnixAddr))
	} else {
		c, err = net.Dial("udp", server.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// D3, D5, D7, D8: UDP echo; the request shares the server socket, which
// stays open after each request.
func TestUDPServerEcho_D5_D8(t *testing.T) {
	var sock server.Socket
	s, err := server.NewUDPServer("127.0.0.1:0", server.HandlerFunc(func(req server.Request, addr net.Addr, _ server.Server) error {
		d := req.(*server.Datagram)
		sock = d.Socket
		return d.Socket.SendTo(d.Data, addr)
	}))
	if err != nil {
		t.Fatal(err)
	}
	if s.SocketType != unix.SOCK_DGRAM || s.AllowReuseAddress || s.AllowReusePort {
		t.Fatal("UDP defaults (D1-D3)")
	}
	stop := serve(t, s)
	for i := 0; i < 3; i++ {
		if got := udpExchange(t, "udp", s.ServerAddress, nil, []byte("dgram")); string(got) != "dgram" {
			t.Fatalf("got %q", got)
		}
	}
	stop()
	if sock != s.Socket {
		t.Fatal("request socket is not the server socket (D5)")
	}
}

// D4, J5: a datagram longer than the instance's MaxPacketSize is truncated,
// as recvfrom does.
func TestUDPMaxPacketSizeTruncates_D4(t *testing.T) {
	for _, tc := range []struct{ max, send, want int }{
		{0, 9000, server.DefaultMaxPacketSize},
		{16, 100, 16},
		{100, 16, 16},
	} {
		s, err := server.NewUDPServer("127.0.0.1:0", server.HandlerFunc(func(req server.Request, addr net.Addr, _ server.Server) error {
			d := req.(*server.Datagram)
			return d.Socket.SendTo(d.Data, addr)
		}))
		if err != nil {
			t.Fatal(err)
		}
		s.MaxPacketSize = tc.max
		msg := make([]byte, tc.send)
		for i := range msg {
			msg[i] = byte(i)
		}
		stop := serve(t, s)
		got := udpExchange(t, "udp", s.ServerAddress, nil, msg)
		stop()
		if len(got) != tc.want || string(got) != string(msg[:tc.want]) {
			t.Fatalf("max %d: got %d bytes, want %d", tc.max, len(got), tc.want)
		}
	}
}

// D6: no listen for datagrams.
func TestUDPNoListen_D6(t *testing.T) {
	rec := &recSocket{backlog: -100}
	s := &server.UDPServer{}
	s.NewSocket = func(f, ty int) (server.Socket, error) {
		sock, err := server.NewSocket(f, ty)
		rec.Socket = sock
		return rec, err
	}
	addr, _, _ := server.ResolveAddress("udp", "127.0.0.1:0")
	if err := s.Init(s, addr, echoLine, true); err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	if rec.backlog != -100 {
		t.Fatal("listen called on a datagram server")
	}
}

// H5, H6: the Unix kinds.
func TestUnixServers_H5_H6(t *testing.T) {
	st, err := server.NewUnixStreamServer(sockPath(t, "stream"), echoLine)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, st)
	c := dial(t, "unix", st.ServerAddress.(*net.UnixAddr).Name)
	c.Write([]byte("unix\n"))
	buf := make([]byte, 5)
	if _, err := c.Read(buf); err != nil || string(buf) != "unix\n" {
		t.Fatalf("stream: %q %v", buf, err)
	}
	c.Close()
	if st.AddressFamily != unix.AF_UNIX || st.SocketType != unix.SOCK_STREAM {
		t.Fatal("UnixStreamServer family/type")
	}

	dg, err := server.NewUnixDatagramServer(sockPath(t, "dgram"), echoLine)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, dg)
	local := &net.UnixAddr{Name: sockPath(t, "client"), Net: "unixgram"}
	if got := udpExchange(t, "unixgram", dg.ServerAddress, local, []byte("udg")); string(got) != "udg" {
		t.Fatalf("dgram got %q", got)
	}
	if dg.AddressFamily != unix.AF_UNIX || dg.SocketType != unix.SOCK_DGRAM {
		t.Fatal("UnixDatagramServer family/type")
	}
}
