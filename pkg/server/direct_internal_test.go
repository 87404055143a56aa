//go:build unix

package server

import (
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
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

func (o *optingIn) DirectGetRequest() (Server, *DirectGet) {
	_, get := o.UDPServer.DirectGetRequest()
	return o, get
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
// pending datagram as GetRequest does (max_packet_size included); with a
// wait it waits for one, and leaves it in the socket when stop says so.
func TestDirectGet(t *testing.T) {
	s, err := NewUDPServer("127.0.0.1:0", HandlerFunc(func(Request, net.Addr, Server) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	s.MaxPacketSize = 4
	get := s.direct(s, s.Fileno())
	no := func() bool { return false }
	if _, _, res, err := get.get(false, None, no); res != directNone || err != nil {
		t.Fatalf("nothing pending, no wait: %v, err %v", res, err)
	}
	start := time.Now()
	if _, _, res, err := get.get(true, After(30*time.Millisecond), no); res != directTimeout || err != nil {
		t.Fatalf("nothing pending, a wait: %v, err %v", res, err)
	}
	if d := time.Since(start); d < 25*time.Millisecond {
		t.Errorf("waited %v, not the timeout", d)
	}
	c, err := net.Dial("udp", s.ServerAddress.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	check := func(req Request, addr net.Addr, res directResult, err error) {
		t.Helper()
		if res != directGot || err != nil {
			t.Fatalf("pending: %v, err %v", res, err)
		}
		if d := req.(*Datagram); string(d.Data) != "hell" || d.Socket != s.Socket {
			t.Errorf("got %q", d.Data)
		}
		if addr.String() != c.LocalAddr().String() {
			t.Errorf("from %v, want %v", addr, c.LocalAddr())
		}
	}
	// A datagram sent while the wait runs is taken by it.
	go func() { time.Sleep(20 * time.Millisecond); c.Write([]byte("hello\n")) }()
	check(get.get(true, After(5*time.Second), no))
	// One already pending is taken without waiting.
	c.Write([]byte("hello\n"))
	if ready, err := s.Socket.WaitReadable(After(5*time.Second), nil); !ready || err != nil {
		t.Fatal("no datagram", err)
	}
	check(get.get(false, None, no))
	if _, _, res, _ := get.get(false, None, no); res != directNone {
		t.Error("the datagram was read twice")
	}
	// A zero wait takes a pending datagram, and times out at once
	// without one.
	c.Write([]byte("hello\n"))
	if ready, err := s.Socket.WaitReadable(After(5*time.Second), nil); !ready || err != nil {
		t.Fatal("no datagram", err)
	}
	check(get.get(true, After(0), no))
	if _, _, res, err := get.get(true, After(0), no); res != directTimeout || err != nil {
		t.Fatalf("zero wait, nothing pending: %v, err %v", res, err)
	}
	// Woken with a shutdown requested: nothing taken.
	var requested atomic.Bool
	go func() { time.Sleep(20 * time.Millisecond); requested.Store(true); c.Write([]byte("hello\n")) }()
	if _, _, res, err := get.get(true, After(5*time.Second), requested.Load); res != directStopped || err != nil {
		t.Fatalf("stopped: %v, err %v", res, err)
	}
	check(get.get(false, None, no))
}

// A shutdown requested while ServeForever waits ends the loop without
// taking the request that wakes it (bpo-35017), on the direct path too:
// a later loop serves it.
func TestDirectShutdownDuringWait(t *testing.T) {
	served := make(chan string, 4)
	s, err := NewUDPServer("127.0.0.1:0", HandlerFunc(func(req Request, _ net.Addr, _ Server) error {
		served <- string(req.(*Datagram).Data)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	if s.direct(s, s.Fileno()) == nil {
		t.Fatal("no direct path")
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeForever(None) }() // waits without limit
	time.Sleep(50 * time.Millisecond)
	s.shutdownRequest.Store(true)
	c, err := net.Dial("udp", s.ServerAddress.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("first"))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ServeForever did not end")
	}
	select {
	case got := <-served:
		t.Fatalf("served %q after the shutdown request", got)
	default:
	}
	go func() { done <- s.ServeForever(After(10 * time.Millisecond)) }()
	select {
	case got := <-served:
		if got != "first" {
			t.Errorf("served %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the datagram left in the socket was not served")
	}
	s.Shutdown()
	<-done
}
