package threading_test

import (
	"net"
	"testing"

	"github.com/gopy-socketserver/socketserver/pkg/server"
	"github.com/gopy-socketserver/socketserver/pkg/threading"
)

// The threading kinds are their own DirectGetter owners, so a plain
// threading server skips the readiness wait when a request is pending; a
// type embedding one is not (server.DirectGetter).
func TestDirectGetRequestOwner(t *testing.T) {
	nop := server.HandlerFunc(func(server.Request, net.Addr, server.Server) error { return nil })
	u, err := threading.NewUDPServer("127.0.0.1:0", nop)
	if err != nil {
		t.Fatal(err)
	}
	defer u.ServerClose()
	if owner, get := u.DirectGetRequest(); owner != server.Server(u) || get == nil {
		t.Errorf("UDPServer: owner %T, try %v", owner, get != nil)
	}
	c, err := threading.NewTCPServer("127.0.0.1:0", nop)
	if err != nil {
		t.Fatal(err)
	}
	defer c.ServerClose()
	if owner, get := c.DirectGetRequest(); owner != server.Server(c) || get == nil {
		t.Errorf("TCPServer: owner %T, try %v", owner, get != nil)
	}
	type embedding struct{ *threading.UDPServer }
	e := embedding{u}
	if owner, _ := e.DirectGetRequest(); owner == server.Server(&e) {
		t.Error("an embedding type is its own owner")
	}
}
