//go:build unix

package forking

import "github.com/gopy-socketserver/socketserver/pkg/server"

// DirectGetRequest returns s and its TCPServer's GetRequest without
// blocking, so that the parent's ServeForever skips the readiness wait
// when a connection is pending (see server.DirectGetter).
//
// CPython: Lib/socketserver.py:505 TCPServer.get_request
func (s *TCPServer) DirectGetRequest() (server.Server, *server.DirectGet) {
	_, get := s.TCPServer.DirectGetRequest()
	return s, get
}

// DirectGetRequest returns s and its UDPServer's GetRequest without
// blocking (see server.DirectGetter).
//
// CPython: Lib/socketserver.py:540 UDPServer.get_request
func (s *UDPServer) DirectGetRequest() (server.Server, *server.DirectGet) {
	_, get := s.UDPServer.DirectGetRequest()
	return s, get
}

// DirectGetRequest returns s and its UnixStreamServer's GetRequest without
// blocking (see server.DirectGetter).
//
// CPython: Lib/socketserver.py:505 TCPServer.get_request
func (s *UnixStreamServer) DirectGetRequest() (server.Server, *server.DirectGet) {
	_, get := s.UnixStreamServer.DirectGetRequest()
	return s, get
}

// DirectGetRequest returns s and its UnixDatagramServer's GetRequest
// without blocking (see server.DirectGetter).
//
// CPython: Lib/socketserver.py:540 UDPServer.get_request
func (s *UnixDatagramServer) DirectGetRequest() (server.Server, *server.DirectGet) {
	_, get := s.UnixDatagramServer.DirectGetRequest()
	return s, get
}
