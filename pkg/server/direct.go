package server

import "net"

// DirectGetter is implemented by the server kinds of this package and of
// packages threading and forking. It lets ServeForever skip the readiness
// wait when a request is already pending, which a busy server otherwise
// pays for on every request (a poll(2) and a netpoller round trip before
// each recvfrom(2) or accept(2)).
//
// When the outermost value is a kind itself (owner == Self: no hook is
// overridden, GetRequest and Fileno included) and no BaseServer.WaitReadable
// is set, each ServeForever iteration first calls try, which does what
// GetRequest does but with a receive or accept that does not block, and
// reports ok false, having consumed nothing, when nothing is pending. Only
// then does the iteration wait for readiness and, once ready, call
// GetRequest as before. Either way the iteration checks for a shutdown
// before taking a request, handles at most one request and ends with
// ServiceActions, so the hooks run in CPython's order: the wait and the
// kind's own GetRequest are not hooks anyone can observe.
//
// A type that embeds a kind is not the kind (the promoted DirectGetRequest
// returns the embedded value as owner), so it keeps the wait before each
// GetRequest. One that overrides neither GetRequest nor Fileno nor
// ServerSocket may opt in by returning itself as owner with the embedded
// kind's try:
//
//	func (s *MyServer) DirectGetRequest() (server.Server, func() (server.Request, net.Addr, bool, error)) {
//		_, try := s.UDPServer.DirectGetRequest()
//		return s, try
//	}
//
// CPython: none (Go addition; Lib/socketserver.py:218 BaseServer.serve_forever's order is kept)
type DirectGetter interface {
	// DirectGetRequest returns the server whose GetRequest try stands for
	// and try, or a nil try when the server socket cannot receive without
	// blocking (one that is not native).
	DirectGetRequest() (owner Server, try func() (req Request, addr net.Addr, ok bool, err error))
}

// tryAccepter and tryReceiver are the native sockets that can accept or
// receive without blocking (ok false, nothing consumed, when nothing is
// pending); see netsock_unix.go.
type tryAccepter interface {
	tryAccept() (Conn, net.Addr, bool, error)
}

type tryReceiver interface {
	tryRecvFrom(p []byte) (int, net.Addr, bool, error)
}

// DirectGetRequest returns s and GetRequest with an accept(2) that does
// not block, for a native socket switched to the netpoller (see
// DirectGetter).
//
// CPython: Lib/socketserver.py:505 TCPServer.get_request
func (s *TCPServer) DirectGetRequest() (Server, func() (Request, net.Addr, bool, error)) {
	sock := s.Socket
	ta, ok := sock.(tryAccepter)
	if !ok {
		return s, nil
	}
	fd := sock.Fileno()
	return s, func() (Request, net.Addr, bool, error) {
		if s.Socket != sock || sock.Fileno() != fd {
			return nil, nil, false, nil // replaced or closed: wait, then GetRequest
		}
		c, addr, ok, err := ta.tryAccept()
		if !ok || err != nil {
			return nil, nil, ok, err
		}
		return c, addr, true, nil
	}
}

// DirectGetRequest returns s and GetRequest with a recvfrom(2) that does
// not block, for a native socket (see DirectGetter).
//
// CPython: Lib/socketserver.py:540 UDPServer.get_request
func (s *UDPServer) DirectGetRequest() (Server, func() (Request, net.Addr, bool, error)) {
	sock := s.Socket
	tr, ok := sock.(tryReceiver)
	if !ok {
		return s, nil
	}
	fd := sock.Fileno()
	return s, func() (Request, net.Addr, bool, error) {
		if s.Socket != sock || sock.Fileno() != fd {
			return nil, nil, false, nil
		}
		return s.receive(tr.tryRecvFrom)
	}
}

// direct returns the function ServeForever calls before waiting, or nil
// when every iteration must wait (see DirectGetter). fd is Self.Fileno().
func (s *BaseServer) direct(self Server, fd int) func() (Request, net.Addr, bool, error) {
	if s.WaitReadable != nil || fd < 0 {
		return nil
	}
	d, ok := self.(DirectGetter)
	if !ok {
		return nil
	}
	owner, try := d.DirectGetRequest()
	if try == nil || owner != self {
		return nil
	}
	return try
}

// serveDirect is one ServeForever iteration's request when try finds one
// pending: it handles it as handleRequestNoblock does after GetRequest and
// reports served; with nothing pending it reports false and has done
// nothing.
func (s *BaseServer) serveDirect(self Server, try func() (Request, net.Addr, bool, error)) (served bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			served, err = true, newPanicError("GetRequest", v)
		}
	}()
	req, addr, ok, gerr := try()
	if !ok {
		return false, nil
	}
	return true, s.handleGot(self, req, addr, gerr)
}
