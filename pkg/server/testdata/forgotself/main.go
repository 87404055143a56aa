// Command forgotself is the pattern issue 12 forbids: a type that embeds a
// server and sets no outermost value. It must not compile (see
// TestForgettingOutermostValueDoesNotCompile_J1); it lives under testdata
// so that ./... never builds it.
package main

import (
	"net"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

type logging struct{ server.TCPServer }

func (s *logging) VerifyRequest(req server.Request, addr net.Addr) (bool, error) {
	return s.TCPServer.VerifyRequest(req, addr)
}

func main() {
	s := &logging{}
	s.Self = s // the pattern before issue 12: no longer exists
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	_ = s.Init(addr, server.HandlerFunc(nil), true) // no outermost value
	_ = s.ServeForever(server.After(0))
}
