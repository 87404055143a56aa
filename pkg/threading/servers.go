package threading

import (
	"net"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// TCPServer is CPython's ThreadingTCPServer (H4).
//
// CPython: Lib/socketserver.py:723 ThreadingTCPServer
type TCPServer struct {
	Mixin
	server.TCPServer
}

// NewTCPServer creates, binds and activates a threading TCP server.
//
// CPython: Lib/socketserver.py:723 ThreadingTCPServer
func NewTCPServer(address string, h server.Handler) (*TCPServer, error) {
	addr, family, err := server.ResolveAddress("tcp", address)
	if err != nil {
		return nil, err
	}
	s := &TCPServer{Mixin: NewMixin()}
	s.AddressFamily = family
	if err := s.Init(s, addr, h, true); err != nil {
		return nil, err
	}
	return s, nil
}

// ProcessRequest is Mixin.ProcessRequest (the mixin comes first in the MRO).
//
// CPython: Lib/socketserver.py:703 ThreadingMixIn.process_request
func (s *TCPServer) ProcessRequest(req server.Request, addr net.Addr) error {
	return s.Mixin.ProcessRequest(s.Self(), req, addr)
}

// ServerClose is Mixin.ServerClose with TCPServer.ServerClose as super.
//
// CPython: Lib/socketserver.py:713 ThreadingMixIn.server_close
func (s *TCPServer) ServerClose() error { return s.Mixin.ServerClose(s.TCPServer.ServerClose) }

// UDPServer is CPython's ThreadingUDPServer (H3).
//
// CPython: Lib/socketserver.py:722 ThreadingUDPServer
type UDPServer struct {
	Mixin
	server.UDPServer
}

// NewUDPServer creates and binds a threading UDP server.
//
// CPython: Lib/socketserver.py:722 ThreadingUDPServer
func NewUDPServer(address string, h server.Handler) (*UDPServer, error) {
	addr, family, err := server.ResolveAddress("udp", address)
	if err != nil {
		return nil, err
	}
	s := &UDPServer{Mixin: NewMixin()}
	s.AddressFamily = family
	if err := s.Init(s, addr, h, true); err != nil {
		return nil, err
	}
	return s, nil
}

// ProcessRequest is Mixin.ProcessRequest.
//
// CPython: Lib/socketserver.py:703 ThreadingMixIn.process_request
func (s *UDPServer) ProcessRequest(req server.Request, addr net.Addr) error {
	return s.Mixin.ProcessRequest(s.Self(), req, addr)
}

// ServerClose is Mixin.ServerClose with UDPServer's as super.
//
// CPython: Lib/socketserver.py:713 ThreadingMixIn.server_close
func (s *UDPServer) ServerClose() error { return s.Mixin.ServerClose(s.UDPServer.ServerClose) }
