//go:build unix

package forking

import (
	"net"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// TCPServer is CPython's ForkingTCPServer (H2): Mixin first, then server.TCPServer.
//
// CPython: Lib/socketserver.py:720 ForkingTCPServer
type TCPServer struct {
	Mixin
	server.TCPServer
}

// NewTCPServer creates, binds (and for streams activates) a ForkingTCPServer on
// address ("host:port"). Its handler must come from Register when the
// default ReExec fork is used.
//
// CPython: Lib/socketserver.py:720 ForkingTCPServer
func NewTCPServer(address string, h server.Handler) (*TCPServer, error) {
	addr, family, err := server.ResolveAddress("tcp", address)
	if err != nil {
		return nil, err
	}
	s := &TCPServer{Mixin: NewMixin()}
	s.AddressFamily = family
	s.Timeout = server.After(DefaultTimeout)
	if err := s.Init(s, addr, h, true); err != nil {
		return nil, err
	}
	return s, nil
}

// ProcessRequest is Mixin.ProcessRequest.
//
// CPython: Lib/socketserver.py:615 ForkingMixIn.process_request
func (s *TCPServer) ProcessRequest(req server.Request, addr net.Addr) error {
	return s.Mixin.ProcessRequest(s.Self(), req, addr)
}

// ServerClose is Mixin.ServerClose with server.TCPServer's as super.
//
// CPython: Lib/socketserver.py:640 ForkingMixIn.server_close
func (s *TCPServer) ServerClose() error {
	return s.Mixin.ServerClose(s.Self(), s.TCPServer.ServerClose)
}

// HandleTimeout is Mixin.HandleTimeout (E6).
//
// CPython: Lib/socketserver.py:601 ForkingMixIn.handle_timeout
func (s *TCPServer) HandleTimeout() error { return s.Mixin.HandleTimeout(s.Self()) }

// ServiceActions is Mixin.ServiceActions (E7).
//
// CPython: Lib/socketserver.py:608 ForkingMixIn.service_actions
func (s *TCPServer) ServiceActions() error { return s.Mixin.ServiceActions(s.Self()) }

// UDPServer is CPython's ForkingUDPServer (H1): Mixin first, then server.UDPServer.
//
// CPython: Lib/socketserver.py:719 ForkingUDPServer
type UDPServer struct {
	Mixin
	server.UDPServer
}

// NewUDPServer creates, binds (and for streams activates) a ForkingUDPServer on
// address ("host:port"). Its handler must come from Register when the
// default ReExec fork is used.
//
// CPython: Lib/socketserver.py:719 ForkingUDPServer
func NewUDPServer(address string, h server.Handler) (*UDPServer, error) {
	addr, family, err := server.ResolveAddress("udp", address)
	if err != nil {
		return nil, err
	}
	s := &UDPServer{Mixin: NewMixin()}
	s.AddressFamily = family
	s.Timeout = server.After(DefaultTimeout)
	if err := s.Init(s, addr, h, true); err != nil {
		return nil, err
	}
	return s, nil
}

// ProcessRequest is Mixin.ProcessRequest.
//
// CPython: Lib/socketserver.py:615 ForkingMixIn.process_request
func (s *UDPServer) ProcessRequest(req server.Request, addr net.Addr) error {
	return s.Mixin.ProcessRequest(s.Self(), req, addr)
}

// ServerClose is Mixin.ServerClose with server.UDPServer's as super.
//
// CPython: Lib/socketserver.py:640 ForkingMixIn.server_close
func (s *UDPServer) ServerClose() error {
	return s.Mixin.ServerClose(s.Self(), s.UDPServer.ServerClose)
}

// HandleTimeout is Mixin.HandleTimeout (E6).
//
// CPython: Lib/socketserver.py:601 ForkingMixIn.handle_timeout
func (s *UDPServer) HandleTimeout() error { return s.Mixin.HandleTimeout(s.Self()) }

// ServiceActions is Mixin.ServiceActions (E7).
//
// CPython: Lib/socketserver.py:608 ForkingMixIn.service_actions
func (s *UDPServer) ServiceActions() error { return s.Mixin.ServiceActions(s.Self()) }

// UnixStreamServer is CPython's ForkingUnixStreamServer (H9): Mixin first, then server.UnixStreamServer.
//
// CPython: Lib/socketserver.py:738 ForkingUnixStreamServer
type UnixStreamServer struct {
	Mixin
	server.UnixStreamServer
}

// NewUnixStreamServer creates and binds a ForkingUnixStreamServer on the socket path. Its handler
// must come from Register when the default ReExec fork is used.
//
// CPython: Lib/socketserver.py:738 ForkingUnixStreamServer
func NewUnixStreamServer(path string, h server.Handler) (*UnixStreamServer, error) {
	s := &UnixStreamServer{Mixin: NewMixin()}
	s.Timeout = server.After(DefaultTimeout)
	if err := s.Init(s, &net.UnixAddr{Name: path, Net: "unix"}, h, true); err != nil {
		return nil, err
	}
	return s, nil
}

// ProcessRequest is Mixin.ProcessRequest.
//
// CPython: Lib/socketserver.py:615 ForkingMixIn.process_request
func (s *UnixStreamServer) ProcessRequest(req server.Request, addr net.Addr) error {
	return s.Mixin.ProcessRequest(s.Self(), req, addr)
}

// ServerClose is Mixin.ServerClose with server.UnixStreamServer's as super.
//
// CPython: Lib/socketserver.py:640 ForkingMixIn.server_close
func (s *UnixStreamServer) ServerClose() error {
	return s.Mixin.ServerClose(s.Self(), s.UnixStreamServer.ServerClose)
}

// HandleTimeout is Mixin.HandleTimeout (E6).
//
// CPython: Lib/socketserver.py:601 ForkingMixIn.handle_timeout
func (s *UnixStreamServer) HandleTimeout() error { return s.Mixin.HandleTimeout(s.Self()) }

// ServiceActions is Mixin.ServiceActions (E7).
//
// CPython: Lib/socketserver.py:608 ForkingMixIn.service_actions
func (s *UnixStreamServer) ServiceActions() error { return s.Mixin.ServiceActions(s.Self()) }

// UnixDatagramServer is CPython's ForkingUnixDatagramServer (H10): Mixin first, then server.UnixDatagramServer.
//
// CPython: Lib/socketserver.py:740 ForkingUnixDatagramServer
type UnixDatagramServer struct {
	Mixin
	server.UnixDatagramServer
}

// NewUnixDatagramServer creates and binds a ForkingUnixDatagramServer on the socket path. Its handler
// must come from Register when the default ReExec fork is used.
//
// CPython: Lib/socketserver.py:740 ForkingUnixDatagramServer
func NewUnixDatagramServer(path string, h server.Handler) (*UnixDatagramServer, error) {
	s := &UnixDatagramServer{Mixin: NewMixin()}
	s.Timeout = server.After(DefaultTimeout)
	if err := s.Init(s, &net.UnixAddr{Name: path, Net: "unixgram"}, h, true); err != nil {
		return nil, err
	}
	return s, nil
}

// ProcessRequest is Mixin.ProcessRequest.
//
// CPython: Lib/socketserver.py:615 ForkingMixIn.process_request
func (s *UnixDatagramServer) ProcessRequest(req server.Request, addr net.Addr) error {
	return s.Mixin.ProcessRequest(s.Self(), req, addr)
}

// ServerClose is Mixin.ServerClose with server.UnixDatagramServer's as super.
//
// CPython: Lib/socketserver.py:640 ForkingMixIn.server_close
func (s *UnixDatagramServer) ServerClose() error {
	return s.Mixin.ServerClose(s.Self(), s.UnixDatagramServer.ServerClose)
}

// HandleTimeout is Mixin.HandleTimeout (E6).
//
// CPython: Lib/socketserver.py:601 ForkingMixIn.handle_timeout
func (s *UnixDatagramServer) HandleTimeout() error { return s.Mixin.HandleTimeout(s.Self()) }

// ServiceActions is Mixin.ServiceActions (E7).
//
// CPython: Lib/socketserver.py:608 ForkingMixIn.service_actions
func (s *UnixDatagramServer) ServiceActions() error { return s.Mixin.ServiceActions(s.Self()) }
