//go:build unix

package server

import (
	"net"

	"golang.org/x/sys/unix"
)

// UnixStreamServer is TCPServer with AddressFamily AF_UNIX (H5).
//
// CPython: Lib/socketserver.py:727 UnixStreamServer
type UnixStreamServer struct {
	TCPServer
}

// NewUnixStreamServer creates, binds and activates a Unix stream server on
// the socket path (on Linux, a leading '@' selects the abstract namespace).
//
// CPython: Lib/socketserver.py:727 UnixStreamServer
func NewUnixStreamServer(path string, h Handler) (*UnixStreamServer, error) {
	s := &UnixStreamServer{}
	if err := s.Init(s, &net.UnixAddr{Name: path, Net: "unix"}, h, true); err != nil {
		return nil, err
	}
	return s, nil
}

// Init is TCPServer.Init with AF_UNIX as the default family.
//
// CPython: Lib/socketserver.py:450 TCPServer.__init__
func (s *UnixStreamServer) Init(self Server, address net.Addr, h Handler, bindAndActivate bool) error {
	if err := s.checkSelf(self); err != nil {
		return err
	}
	if s.AddressFamily == 0 {
		s.AddressFamily = unix.AF_UNIX
	}
	return s.TCPServer.Init(self, address, h, bindAndActivate)
}

// UnixDatagramServer is UDPServer with AddressFamily AF_UNIX (H6).
//
// CPython: Lib/socketserver.py:730 UnixDatagramServer
type UnixDatagramServer struct {
	UDPServer
}

// NewUnixDatagramServer creates and binds a Unix datagram server on the
// socket path.
//
// CPython: Lib/socketserver.py:730 UnixDatagramServer
func NewUnixDatagramServer(path string, h Handler) (*UnixDatagramServer, error) {
	s := &UnixDatagramServer{}
	if err := s.Init(s, &net.UnixAddr{Name: path, Net: "unixgram"}, h, true); err != nil {
		return nil, err
	}
	return s, nil
}

// Init is UDPServer.Init with AF_UNIX as the default family.
//
// CPython: Lib/socketserver.py:450 TCPServer.__init__
func (s *UnixDatagramServer) Init(self Server, address net.Addr, h Handler, bindAndActivate bool) error {
	if err := s.checkSelf(self); err != nil {
		return err
	}
	if s.AddressFamily == 0 {
		s.AddressFamily = unix.AF_UNIX
	}
	return s.UDPServer.Init(self, address, h, bindAndActivate)
}
