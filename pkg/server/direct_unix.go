//go:build unix

package server

// DirectGetRequest returns s and GetRequest's accept(2) without blocking
// (see DirectGetter).
//
// CPython: Lib/socketserver.py:505 TCPServer.get_request
func (s *UnixStreamServer) DirectGetRequest() (Server, *DirectGet) {
	_, get := s.TCPServer.DirectGetRequest()
	return s, get
}

// DirectGetRequest returns s and GetRequest's recvfrom(2) without
// blocking (see DirectGetter).
//
// CPython: Lib/socketserver.py:540 UDPServer.get_request
func (s *UnixDatagramServer) DirectGetRequest() (Server, *DirectGet) {
	_, get := s.UDPServer.DirectGetRequest()
	return s, get
}
