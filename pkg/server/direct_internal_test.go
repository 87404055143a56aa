//go:build unix

package server

import (
	"net"
	"path/filepath"
	"testing"
)

// overriding embeds a kind and overrides GetRequest: ServeForever must
// call it for every request, so it gets no direct path.
type overriding struct{ *UDPServer }

func (o *overriding) GetRequest() (Request, net.Addr, error) { return o.UDPServer.GetRequest() }

// embedding embeds a kind and overrides nothing: it is still not the kind,
// so it keeps the wait unless it opts in.
type embedding struct{ *UDPServer }

// optingIn embeds a kind, overrides nothing and opts in.
type optingIn struct{ *UDPServer }

func (o *optingIn) DirectGetRequest() (Server, func() (Request, net.Addr, bool, error)) {
	_, try := o.UDPServer.DirectGetRequest()
	return o, try
}

func TestDirectOnlyForTheKindItself(t *testing.T) {
	nop := HandlerFunc(func(Request, net.Addr, Server) error { return nil })
	udp := func(t *testing.T) *UDPServer {
		s, err := NewUDPServer("127.0.0.1:0", nop)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.ServerClose() })
		return s
	}
	s := udp(t)
	if s.direct(s, s.Fileno()) == nil {
		t.Error("UDPServer: no direct path")
	}
	tcp, err := NewTCPServer("127.0.0.1:0", nop)
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.ServerClose()
	if tcp.direct(tcp, tcp.Fileno()) == nil {
		t.Error("TCPServer: no direct path")
	}
	dir := t.TempDir()
	us, err := NewUnixStreamServer(filepath.Join(dir, "s"), nop)
	if err != nil {
		t.Fatal(err)
	}
	defer us.ServerClose()
	if us.direct(us, us.Fileno()) == nil {
		t.Error("UnixStreamServer: no direct path")
	}
	ud, err := NewUnixDatagramServer(filepath.Join(dir, "d"), nop)
	if err != nil {
		t.Fatal(err)
	}
	defer ud.ServerClose()
	if ud.direct(ud, ud.Fileno()) == nil {
		t.Error("UnixDatagramServer: no direct path")
	}

	for name, self := range map[string]func(*UDPServer) Server{
		"GetRequest overridden":  func(u *UDPServer) Server { return &overriding{u} },
		"embedded, not opted in": func(u *UDPServer) Server { return &embedding{u} },
	} {
		u := &UDPServer{}
		addr, _, _ := ResolveAddress("udp", "127.0.0.1:0")
		outer := self(u)
		if err := u.Init(outer, addr, nop, true); err != nil {
			t.Fatal(err)
		}
		if u.direct(outer, outer.Fileno()) != nil {
			t.Errorf("%s: direct path taken", name)
		}
		u.ServerClose()
	}
	o := &optingIn{&UDPServer{}}
	addr, _, _ := ResolveAddress("udp", "127.0.0.1:0")
	if err := o.Init(o, addr, nop, true); err != nil {
		t.Fatal(err)
	}
	defer o.ServerClose()
	if o.direct(o, o.Fileno()) == nil {
		t.Error("opted in: no direct path")
	}

	s.WaitReadable = func(int, Timeout) (bool, error) { return true, nil }
	if s.direct(s, s.Fileno()) != nil {
		t.Error("with BaseServer.WaitReadable set: direct path taken")
	}
	s.WaitReadable = nil
	s.Socket = &struct{ Socket }{s.Socket} // not native
	if s.direct(s, s.Fileno()) != nil {
		t.Error("foreign socket: direct path taken")
	}
}

// The direct path takes nothing when nothing is pending, and reads a
// pending datagram as GetRequest does (max_packet_size included).
func TestDirectTry(t *testing.T) {
	s, err := NewUDPServer("127.0.0.1:0", HandlerFunc(func(Request, net.Addr, Server) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	s.MaxPacketSize = 4
	try := s.direct(s, s.Fileno())
	if _, _, ok, err := try(); ok || err != nil {
		t.Fatalf("nothing pending: ok %v, err %v", ok, err)
	}
	c, err := net.Dial("udp", s.ServerAddress.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("hello\n"))
	if ready, err := s.Socket.WaitReadable(After(5e9), nil); !ready || err != nil {
		t.Fatal("no datagram", err)
	}
	req, addr, ok, err := try()
	if !ok || err != nil {
		t.Fatalf("pending: ok %v, err %v", ok, err)
	}
	if d := req.(*Datagram); string(d.Data) != "hell" || d.Socket != s.Socket {
		t.Errorf("got %q", d.Data)
	}
	if addr.String() != c.LocalAddr().String() {
		t.Errorf("from %v, want %v", addr, c.LocalAddr())
	}
	if _, _, ok, _ := try(); ok {
		t.Error("the datagram was read twice")
	}
}
