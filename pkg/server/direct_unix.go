//go:build unix

package server

import "net"

// DirectGetRequest returns s and GetRequest's accept(2) without blocking
// (see DirectGetter).
//
// CPython: Lib/socketserver.py:505 TCPServer.get_request
func (s *UnixStreamServer) DirectGetRequest() (Server, func() (Request, net.Addr, bool, error)) {
	_, try := s.TCPServer.DirectGetRequest()
	return s, try
}

// DirectGetRequest returns s and GetRequest's recvfrom(2) without
// blocking (see DirectGetter).
//
// CPython: Lib/socketserver.py:540 UDPServer.get_request
func (s *UnixDatagramServer) DirectGetRequest() (Server, func() (Request, net.Addr, bool, error)) {
	_, try := s.UDPServer.DirectGetRequest()
	return s, try
}
