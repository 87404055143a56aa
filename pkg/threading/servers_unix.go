//go:build unix

package threading

import (
	"net"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// The Unix-domain kinds exist where CPython defines them, where
// socket.AF_UNIX exists: not on Windows.

// UnixStreamServer is CPython's ThreadingUnixStreamServer (H7).
//
// CPython: Lib/socketserver.py:733 ThreadingUnixStreamServer
type UnixStreamServer struct {
	Mixin
	server.UnixStreamServer
}

// NewUnixStreamServer creates, binds and activates a threading Unix stream
// server on path.
//
// CPython: Lib/socketserver.py:733 ThreadingUnixStreamServer
func NewUnixStreamServer(path string, h server.Handler) (*UnixStreamServer, error) {
	s := &UnixStreamServer{Mixin: NewMixin()}
	if err := s.Init(s, &net.UnixAddr{Name: path, Net: "unix"}, h, true); err != nil {
		return nil, err
	}
	return s, nil
}

// ProcessRequest is Mixin.ProcessRequest.
//
// CPython: Lib/socketserver.py:703 ThreadingMixIn.process_request
func (s *UnixStreamServer) ProcessRequest(req server.Request, addr net.Addr) error {
	return s.Mixin.ProcessRequest(s.Self(), req, addr)
}

// ServerClose is Mixin.ServerClose with UnixStreamServer's as super.
//
// CPython: Lib/socketserver.py:713 ThreadingMixIn.server_close
func (s *UnixStreamServer) ServerClose() error {
	return s.Mixin.ServerClose(s.UnixStreamServer.ServerClose)
}

// UnixDatagramServer is CPython's ThreadingUnixDatagramServer (H8).
//
// CPython: Lib/socketserver.py:735 ThreadingUnixDatagramServer
type UnixDatagramServer struct {
	Mixin
	server.UnixDatagramServer
}

// NewUnixDatagramServer creates and binds a threading Unix datagram server
// on path.
//
// CPython: Lib/socketserver.py:735 ThreadingUnixDatagramServer
func NewUnixDatagramServer(path string, h server.Handler) (*UnixDatagramServer, error) {
	s := &UnixDatagramServer{Mixin: NewMixin()}
	if err := s.Init(s, &net.UnixAddr{Name: path, Net: "unixgram"}, h, true); err != nil {
		return nil, err
	}
	return s, nil
}

// ProcessRequest is Mixin.ProcessRequest.
//
// CPython: Lib/socketserver.py:703 ThreadingMixIn.process_request
func (s *UnixDatagramServer) ProcessRequest(req server.Request, addr net.Addr) error {
	return s.Mixin.ProcessRequest(s.Self(), req, addr)
}

// ServerClose is Mixin.ServerClose with UnixDatagramServer's as super.
//
// CPython: Lib/socketserver.py:713 ThreadingMixIn.server_close
func (s *UnixDatagramServer) ServerClose() error {
	return s.Mixin.ServerClose(s.UnixDatagramServer.ServerClose)
}
