package server

import "net"

// DirectGetter is implemented by the server kinds of this package and of
// packages threading and forking. It lets ServeForever take a request
// without the readiness wait before GetRequest, which a busy server
// otherwise pays on every request (a poll(2) or two and a netpoller round
// trip before each recvfrom(2) or accept(2)).
//
// When the outermost value is a kind itself (owner == Self: no hook is
// overridden, GetRequest and Fileno included) and neither
// BaseServer.WaitReadable nor CheckSignals is set, each ServeForever
// iteration does what GetRequest does with a receive or accept that does
// not block, and when nothing is pending waits on the netpoller, up to the
// poll interval, for the next request and takes it in the same step. With
// CheckSignals set it only tries, and waits its usual way when nothing is
// pending. Either way each iteration checks for a shutdown after the wait
// and before taking a request (a request that arrives once a shutdown is
// requested stays in the socket, bpo-35017), handles at most one request
// and ends with ServiceActions: the hooks run in CPython's order, and the
// wait and the kind's own GetRequest are not hooks anyone can observe.
//
// A type that embeds a kind is not the kind (the promoted DirectGetRequest
// returns the embedded value as owner), so it keeps the wait and calls its
// GetRequest for every request. One that overrides neither GetRequest nor
// Fileno nor ServerSocket may opt in by returning itself as owner with the
// embedded kind's DirectGet:
//
//	func (s *MyServer) DirectGetRequest() (server.Server, *server.DirectGet) {
//		_, get := s.UDPServer.DirectGetRequest()
//		return s, get
//	}
//
// CPython: none (Go addition; Lib/socketserver.py:218 BaseServer.serve_forever's order is kept)
type DirectGetter interface {
	// DirectGetRequest returns the server whose GetRequest get stands for,
	// and get, nil when the server socket cannot receive without
	// blocking (one that is not native).
	DirectGetRequest() (owner Server, get *DirectGet)
}

// DirectGet is a server kind's GetRequest without the readiness wait
// before it, for ServeForever (see DirectGetter). Only the kinds make one.
//
// CPython: none (Go addition)
type DirectGet struct {
	// get takes a pending request; with wait true it first waits up to
	// timeout for one, asking stop when woken.
	get func(wait bool, timeout Timeout, stop func() bool) (Request, net.Addr, directResult, error)
}

// directResult is what a DirectGet did.
type directResult int

const (
	// directNone: nothing was taken and nothing waited (nothing pending
	// and no wait asked, or the socket changed or cannot wait so): the
	// iteration waits its usual way, then calls GetRequest.
	directNone directResult = iota
	// directGot: a request, or GetRequest's error, was taken.
	directGot
	// directTimeout: the wait ended with nothing pending.
	directTimeout
	// directStopped: the socket became readable with a shutdown
	// requested; nothing was taken.
	directStopped
)

// waitOp is the operation a directSocket waits to complete: op is a
// non-blocking receive or accept on the descriptor it is given, reporting
// false (nothing taken) on EAGAIN. Each time the socket is found readable,
// stop is asked first: true ends the wait with nothing taken, as CPython's
// serve_forever checks for a shutdown after its select and before
// get_request. It is made once per DirectGet, so a wait allocates nothing.
type waitOp struct {
	stop func() bool
	op   func(fd int) bool
	res  directResult
	fn   func(fd uintptr) bool // ready, for RawConn.Read
}

func newWaitOp(op func(fd int) bool) *waitOp {
	w := &waitOp{op: op}
	w.fn = w.ready
	return w
}

func (w *waitOp) ready(fd uintptr) bool {
	switch {
	case w.stop():
		w.res = directStopped
	case w.op(int(fd)):
		w.res = directGot
	default:
		return false
	}
	return true
}

// directSocket is a native socket that can wait for a waitOp on the
// netpoller; tryAccepter and tryReceiver are those that accept or receive
// without blocking (ok false, nothing consumed, when nothing is pending).
// See netsock_unix.go.
type directSocket interface {
	Socket
	directWait(wait Timeout, w *waitOp) directResult
}

type tryAccepter interface {
	directSocket
	tryAccept() (Conn, net.Addr, bool, error)
	acceptOnce(fd int) (Conn, net.Addr, bool, error)
}

type tryReceiver interface {
	directSocket
	tryRecvFrom(p []byte) (int, net.Addr, bool, error)
	recvOnce(fd int, p []byte) (int, net.Addr, bool, error)
}

// DirectGetRequest returns s and GetRequest's accept(2) without the
// readiness wait, for a native socket on the netpoller (see DirectGetter).
//
// CPython: Lib/socketserver.py:505 TCPServer.get_request
func (s *TCPServer) DirectGetRequest() (Server, *DirectGet) {
	sock, ok := s.Socket.(tryAccepter)
	if !ok {
		return s, nil
	}
	a := &acceptGet{s: s, sock: sock, fd: sock.Fileno()}
	a.w = newWaitOp(a.acceptOp)
	return s, &DirectGet{get: a.get}
}

// acceptGet is TCPServer's DirectGet: one per ServeForever call, used by
// its loop only.
type acceptGet struct {
	s    *TCPServer
	sock tryAccepter
	fd   int
	w    *waitOp
	// acceptOp's results
	c    Conn
	addr net.Addr
	err  error
}

func (a *acceptGet) acceptOp(fd int) bool {
	var ok bool
	a.c, a.addr, ok, a.err = a.sock.acceptOnce(fd)
	return ok
}

func (a *acceptGet) get(wait bool, timeout Timeout, stop func() bool) (Request, net.Addr, directResult, error) {
	if a.s.Socket != Socket(a.sock) || a.sock.Fileno() != a.fd {
		return nil, nil, directNone, nil // replaced or closed: wait, then GetRequest
	}
	// A busy socket has a connection pending: one accept(2), nothing else.
	c, addr, ok, err := a.sock.tryAccept()
	if !ok {
		if !wait {
			return nil, nil, directNone, nil
		}
		a.w.stop = stop
		if res := a.sock.directWait(timeout, a.w); res != directGot {
			return nil, nil, res, nil
		}
		c, addr, err = a.c, a.addr, a.err
		a.c, a.addr, a.err = nil, nil, nil
	}
	if err != nil {
		return nil, nil, directGot, err
	}
	return c, addr, directGot, nil
}

// DirectGetRequest returns s and GetRequest's recvfrom(2) without the
// readiness wait, for a native socket (see DirectGetter).
//
// CPython: Lib/socketserver.py:540 UDPServer.get_request
func (s *UDPServer) DirectGetRequest() (Server, *DirectGet) {
	sock, ok := s.Socket.(tryReceiver)
	if !ok {
		return s, nil
	}
	r := &recvGet{s: s, sock: sock, fd: sock.Fileno()}
	r.w = newWaitOp(r.recvOp)
	r.recvFn = r.recv
	return s, &DirectGet{get: r.get}
}

// recvGet is UDPServer's DirectGet: one per ServeForever call, used by its
// loop only.
type recvGet struct {
	s      *UDPServer
	sock   tryReceiver
	fd     int
	w      *waitOp
	recvFn func(p []byte) (int, net.Addr, bool, error) // recv, made once
	// the current get's wait, and its buffer and results
	wait    bool
	timeout Timeout
	res     directResult
	p       []byte
	n       int
	from    net.Addr
	ok      bool
	err     error
}

func (r *recvGet) recvOp(fd int) bool {
	r.n, r.from, r.ok, r.err = r.sock.recvOnce(fd, r.p)
	return r.ok
}

// recv is receive's recvfrom: one that does not block, then, if asked, a
// wait for a datagram.
func (r *recvGet) recv(p []byte) (int, net.Addr, bool, error) {
	// A busy socket has a datagram: one recvfrom(2), nothing else (going
	// straight to the netpoller would set a deadline per request).
	n, from, ok, err := r.sock.tryRecvFrom(p)
	if ok {
		r.res = directGot
		return n, from, ok, err
	}
	if r.wait {
		r.p = p
		r.res = r.sock.directWait(r.timeout, r.w)
		n, from, ok, err = r.n, r.from, r.ok, r.err
		r.p, r.from, r.err = nil, nil, nil
		if r.res != directGot {
			ok = false
		}
	}
	return n, from, ok, err
}

func (r *recvGet) get(wait bool, timeout Timeout, stop func() bool) (Request, net.Addr, directResult, error) {
	if r.s.Socket != Socket(r.sock) || r.sock.Fileno() != r.fd {
		return nil, nil, directNone, nil
	}
	r.wait, r.timeout, r.w.stop, r.res = wait, timeout, stop, directNone
	req, addr, _, err := r.s.receive(r.recvFn)
	return req, addr, r.res, err
}

// direct returns the DirectGet ServeForever uses, or nil when every
// iteration must wait its usual way (see DirectGetter). fd is
// Self.Fileno().
func (s *BaseServer) direct(self Server, fd int) *DirectGet {
	if s.WaitReadable != nil || fd < 0 {
		return nil
	}
	d, ok := self.(DirectGetter)
	if !ok {
		return nil
	}
	owner, get := d.DirectGetRequest()
	if get == nil || get.get == nil || owner != self {
		return nil
	}
	return get
}

// serveDirect is one ServeForever iteration's request through get: it
// takes a pending request (waiting up to timeout for one unless
// CheckSignals is set) and handles it as handleRequestNoblock does after
// GetRequest. It reports what get did.
func (s *BaseServer) serveDirect(self Server, get *DirectGet, timeout Timeout, stop func() bool) (res directResult, err error) {
	defer func() {
		if v := recover(); v != nil {
			res, err = directGot, newPanicError("GetRequest", v)
		}
	}()
	req, addr, res, gerr := get.get(s.CheckSignals == nil, timeout, stop)
	if res != directGot {
		return res, nil
	}
	return directGot, s.handleGot(self, req, addr, gerr)
}
