//go:build unix

package threading

import "github.com/gopy-socketserver/socketserver/pkg/server"

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
