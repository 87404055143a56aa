package main

/*
#include "gss_calls.h"
#include "gss_pool.h"
*/
import "C"

import (
	"errors"
	"net"
	"syscall"
	"unsafe"

	"github.com/gopy-socketserver/socketserver/pkg/server"
	"golang.org/x/sys/unix"
)

// How get_request is served when the Python class keeps CPython's own.
const (
	getPython   = 0 // call the Python method
	getAccept   = 1 // TCPServer.get_request: accept(2) on the server fd
	getRecvfrom = 2 // UDPServer.get_request: recvfrom(2) on the server fd
)

// Bits of the override mask beyond the hook numbers.
const (
	// shutdownWrite: shutdown_request is TCPServer's, which half-closes the
	// connection (SHUT_WR) before close_request (C12).
	shutdownWrite = C.GSS_NHOOKS
)

// pyServer is the outermost server (BaseServer.Self) for a Python server
// object. Its fields describing the Python side are set at the start of
// each serve_forever or handle_request call by the Python layer, which
// computes which hooks the Python class overrides.
type pyServer struct {
	server.BaseServer

	py        C.gss_obj // the Python server (borrowed during a call)
	overrides uint64    // bit h set: hook h runs in Python
	getMode   int
	fd        int
	maxPacket int
	sock      C.gss_obj // the Python server socket (borrowed)
	family    int
	sotype    int
	proto     int

	serving       bool        // in serve_forever: watch the Python shutdown flag
	pool          *C.gss_pool // raw requests go to its workers (ThreadingMixIn)
	job           *C.gss_job  // the raw request being served (see rawJob)
	out           *outs       // see outs
	req           pyRequest   // the request being served (see request)
	sockTimeout   server.Timeout
	timeoutResult C.gss_obj
	packet        []byte

	// pending holds the references the loop took for the requests it
	// served; they are given back before the next wait (under the GIL
	// once for all of them) and when the call returns.
	pending []C.gss_obj
}

func (s *pyServer) configure(py C.gss_obj, fd C.int, overrides C.ulonglong, getMode,
	maxPacket C.int, sock C.gss_obj, family, sotype, proto C.int, pool *C.gss_pool) {
	if getMode != getPython {
		s.pool = pool // raw requests need Go's own get_request
	}
	s.py, s.fd, s.overrides = py, int(fd), uint64(overrides)
	s.getMode, s.maxPacket, s.sock = int(getMode), int(maxPacket), sock
	s.family, s.sotype, s.proto = int(family), int(sotype), int(proto)
	s.sockTimeout = server.None
}

func (s *pyServer) python(hook C.int) bool { return s.overrides&(1<<uint(hook)) != 0 }

// pyRequest is one request and its client address, as the Python side
// sees them. The loop passes it both as the server.Request and as the
// net.Addr, so the hooks find the two Python objects together.
//
// A raw request (raw != nil) was received by Go without the GIL, for a
// ThreadingMixIn server that keeps CPython's request path: it becomes
// Python objects in the worker thread it is handed to, or here, under the
// GIL, if it has to take the Python path after all (see ProcessRequest).
type pyRequest struct {
	obj, addr C.gss_obj  // the request and the address (owned by pending)
	fd        int        // the descriptor when Go accepted it (SHUT_WR), else -1
	raw       *C.gss_job // not yet made into Python objects
	lost      bool       // making the objects failed: nothing left to close
}

// request makes r the request being served: the loop handles one request
// at a time and keeps nothing of it afterwards (its references are in
// pending), so one pyRequest per server serves them all.
func (s *pyServer) request(r pyRequest) *pyRequest {
	s.req = r
	return &s.req
}

func (*pyRequest) Network() string { return "python" }
func (*pyRequest) String() string  { return "<python address>" }

func reqOf(r server.Request) *pyRequest {
	if p, ok := r.(*pyRequest); ok {
		return p
	}
	return &pyRequest{fd: -1, lost: true}
}

func addrOf(a net.Addr) *pyRequest {
	if p, ok := a.(*pyRequest); ok {
		return p
	}
	return &pyRequest{fd: -1, lost: true}
}

// objects makes a raw request into its Python request and address (under
// the GIL, here on the serving thread). On failure the descriptor is
// closed and the request is lost: the error goes to handle_error with None
// for both, and nothing is left to shut down.
func (s *pyServer) objects(r *pyRequest) error {
	raw := r.raw
	if raw == nil {
		return nil
	}
	r.raw = nil
	o := s.outs()
	var exc C.gss_obj
	if raw.fd < 0 {
		exc = C.gss_call_datagram_request(raw.sock, raw.data, raw.n,
			unsafe.Pointer(&raw.sa[0]), raw.salen, &r.obj, &r.addr, &o.kind)
		freeJob(raw)
	} else {
		exc = C.gss_call_stream_request(raw.fd, raw.family, raw.sotype,
			raw.proto, unsafe.Pointer(&raw.sa[0]), raw.salen, &r.obj, &r.addr, &o.kind)
		raw.fd = -1 // the socket object owns it now, or it was closed
	}
	if err := wrapException(exc, o.kind); err != nil {
		r.lost, r.fd = true, -1
		return err
	}
	s.pending = append(s.pending, r.obj, r.addr)
	return nil
}

// outs holds the out-parameters of the calls into C that the loop makes
// for every request. A variable whose address C receives is moved to the
// heap, so locals would cost allocations per request; this is allocated
// once per server (apart from it, since C may see it only if it holds no
// Go pointer).
type outs struct {
	r1, r2            C.gss_obj
	truth, flag, kind C.int
	sa                unix.RawSockaddrAny // recvfrom's
}

func (s *pyServer) outs() *outs {
	if s.out == nil {
		s.out = new(outs)
	}
	*s.out = outs{}
	return s.out
}

// call runs hook in Python with up to two arguments.
func (s *pyServer) call(hook C.int, a1, a2 C.gss_obj) (r1, r2 C.gss_obj, truth bool, err error) {
	o := s.outs()
	exc := C.gss_call_hook(s.py, hook, a1, a2, &o.r1, &o.r2, &o.truth, &o.kind)
	return o.r1, o.r2, o.truth != 0, wrapException(exc, o.kind)
}

// callNone runs a hook whose result is ignored (the glue drops it).
func (s *pyServer) callNone(hook C.int, a1, a2 C.gss_obj) error {
	_, _, _, err := s.call(hook, a1, a2)
	return err
}

func (s *pyServer) releasePending() {
	for len(s.pending) > 0 {
		var o [3]C.gss_obj
		n := copy(o[:], s.pending)
		s.pending = s.pending[n:]
		C.gss_call_decref(o[0], o[1], o[2])
	}
	s.pending = s.pending[:0]
}

// errStop ends ServeForever when the Python shutdown flag is set.
var errStop = errors.New("socketserver: shutdown requested")

// waitReadable gives back the last requests' references, then waits.
//
// In serve_forever it consults the Python shutdown flag before the wait
// (the loop condition: shutdown() called before serve_forever makes it
// exit at once) and after it (bpo-35017: a shutdown requested during the
// wait wins over a ready request).
//
// A wait that timed out runs pending signal handlers: a signal delivered
// to another thread is noticed there, as CPython's loop notices it when its
// poll times out and it runs Python code again.
func (s *pyServer) waitReadable(fd int, timeout server.Timeout) (bool, error) {
	s.releasePending()
	if err := s.stopRequested(); err != nil {
		return false, err
	}
	ready, err := server.PollReadable(fd, timeout, checkSignals)
	if err == nil && !ready {
		err = checkSignals()
	}
	if err == nil {
		err = s.stopRequested()
	}
	return ready, err
}

func (s *pyServer) stopRequested() error {
	if !s.serving {
		return nil
	}
	o := s.outs()
	if err := wrapException(C.gss_call_shutdown_requested(s.py, &o.flag, &o.kind), o.kind); err != nil {
		return err
	}
	if o.flag != 0 {
		return errStop
	}
	return nil
}

// ---- hooks ----------------------------------------------------------------

// ServerSocket reports the Python socket's timeout to HandleRequest (B7).
func (s *pyServer) ServerSocket() server.Socket { return timeoutOnly{t: s.sockTimeout} }

func (s *pyServer) Fileno() int { return s.fd }

func (s *pyServer) GetRequest() (server.Request, net.Addr, error) {
	switch {
	case s.getMode == getAccept && !s.python(C.GSS_GET_REQUEST):
		return s.accept()
	case s.getMode == getRecvfrom && !s.python(C.GSS_GET_REQUEST):
		return s.recvfrom()
	}
	req, addr, _, err := s.call(C.GSS_GET_REQUEST, 0, 0)
	if err != nil {
		var oe *pyOSError
		if errors.As(err, &oe) {
			// The loop ignores it (B8): give the exception back now.
			C.gss_call_decref(oe.exc, 0, 0)
			return nil, nil, syscall.EIO
		}
		return nil, nil, err
	}
	s.pending = append(s.pending, req, addr)
	r := s.request(pyRequest{obj: req, addr: addr, fd: -1})
	return r, r, nil
}

// accept is TCPServer.get_request (C11) on the Python socket's descriptor:
// a blocking, close-on-exec connection, as socket.accept() makes it.
func (s *pyServer) accept() (server.Request, net.Addr, error) {
	var rsa unix.RawSockaddrAny
	for {
		salen := uint32(unsafe.Sizeof(rsa))
		nfd, _, e := syscall.Syscall6(syscall.SYS_ACCEPT4, uintptr(s.fd),
			uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&salen)),
			syscall.SOCK_CLOEXEC, 0, 0)
		if e == syscall.EINTR {
			if err := checkSignals(); err != nil {
				return nil, nil, err
			}
			continue
		}
		if e != 0 {
			return nil, nil, e // an OSError: ignored by the loop (B8)
		}
		r := s.request(pyRequest{fd: int(nfd), raw: s.rawJob(int(nfd), nil, 0, &rsa, salen)})
		if s.pool == nil {
			// Not handed to a worker: the request is Python's at once, as
			// socket.accept() makes it.
			if err := s.objects(r); err != nil {
				return nil, nil, err
			}
		}
		return r, r, nil
	}
}

// recvfrom is UDPServer.get_request (D5): at most max_packet_size bytes of
// one datagram, the rest dropped by the kernel.
func (s *pyServer) recvfrom() (server.Request, net.Addr, error) {
	if cap(s.packet) < s.maxPacket {
		s.packet = make([]byte, s.maxPacket)
	}
	buf := s.packet[:s.maxPacket]
	o := s.outs()
	rsa := &o.sa
	for {
		salen := uint32(unsafe.Sizeof(*rsa))
		var p unsafe.Pointer
		if len(buf) > 0 {
			p = unsafe.Pointer(&buf[0])
		}
		n, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, uintptr(s.fd), uintptr(p),
			uintptr(len(buf)), 0, uintptr(unsafe.Pointer(rsa)), uintptr(unsafe.Pointer(&salen)))
		if e == syscall.EINTR {
			if err := checkSignals(); err != nil {
				return nil, nil, err
			}
			continue
		}
		if e != 0 {
			return nil, nil, e
		}
		salen = min(salen, uint32(unsafe.Sizeof(*rsa)))
		if s.pool == nil {
			exc := C.gss_call_datagram_request(s.sock, p, C.int(n), unsafe.Pointer(rsa),
				C.int(salen), &o.r1, &o.r2, &o.kind)
			if err := wrapException(exc, o.kind); err != nil {
				return nil, nil, err
			}
			s.pending = append(s.pending, o.r1, o.r2)
			r := s.request(pyRequest{obj: o.r1, addr: o.r2, fd: -1})
			return r, r, nil
		}
		// For a worker thread: the datagram moves to C memory, which the
		// worker frees once it has made the bytes object.
		r := s.request(pyRequest{fd: -1, raw: s.rawJob(-1, C.CBytes(buf[:n]), int(n), rsa, salen)})
		return r, r, nil
	}
}

func (s *pyServer) VerifyRequest(req server.Request, addr net.Addr) (bool, error) {
	if !s.python(C.GSS_VERIFY_REQUEST) {
		return true, nil
	}
	r := reqOf(req)
	if err := s.objects(r); err != nil {
		return false, err
	}
	_, _, ok, err := s.call(C.GSS_VERIFY_REQUEST, r.obj, addrOf(addr).addr)
	return ok, err
}

// ProcessRequest hands a raw request to an idle worker thread of the pool
// without the GIL: this is ThreadingMixIn.process_request, whose Python
// version (pybind/socketserver.py) the worker then completes. When no
// worker is idle, the request becomes Python objects here and takes the
// Python path, which starts a thread.
func (s *pyServer) ProcessRequest(req server.Request, addr net.Addr) error {
	r := reqOf(req)
	if r.raw != nil && s.offer(r.raw) {
		r.raw, r.fd, r.lost = nil, -1, true // the worker's from now on
		return nil
	}
	if err := s.objects(r); err != nil {
		return err
	}
	if !s.python(C.GSS_PROCESS_REQUEST) {
		return s.BaseServer.ProcessRequest(req, addr)
	}
	return s.callNone(C.GSS_PROCESS_REQUEST, r.obj, addrOf(addr).addr)
}

// FinishRequest always runs in Python: it instantiates the handler class.
func (s *pyServer) FinishRequest(req server.Request, addr net.Addr) error {
	r := reqOf(req)
	if err := s.objects(r); err != nil {
		return err
	}
	return s.callNone(C.GSS_FINISH_REQUEST, r.obj, addrOf(addr).addr)
}

func (s *pyServer) ShutdownRequest(req server.Request) error {
	r := reqOf(req)
	if s.objects(r) != nil || r.lost {
		return nil // nothing left to shut down
	}
	if s.python(C.GSS_SHUTDOWN_REQUEST) {
		return s.callNone(C.GSS_SHUTDOWN_REQUEST, r.obj, 0)
	}
	if s.overrides&(1<<shutdownWrite) != 0 {
		// C12: half-close, ignoring errors (ENOTCONN when the peer left).
		// The Python layer sets this bit only when Go accepted the request
		// itself, so the descriptor is known.
		if r.fd >= 0 {
			_ = unix.Shutdown(r.fd, unix.SHUT_WR)
		}
	}
	return s.CloseRequest(req)
}

func (s *pyServer) CloseRequest(req server.Request) error {
	r := reqOf(req)
	if !s.python(C.GSS_CLOSE_REQUEST) || s.objects(r) != nil || r.lost {
		return nil
	}
	return s.callNone(C.GSS_CLOSE_REQUEST, r.obj, 0)
}

// HandleError always runs in Python (the default prints a traceback). A Go
// error becomes a Python exception first.
func (s *pyServer) HandleError(req server.Request, addr net.Addr, err error) error {
	var exc C.gss_obj
	var pe pyError
	if errors.As(err, &pe) {
		exc = pe.object()
	} else {
		exc = goException(err)
	}
	r := reqOf(req)
	if r.raw != nil {
		if err := s.objects(r); err != nil {
			C.gss_call_decref(exc, 0, 0)
			return s.HandleError(req, addr, err)
		}
	}
	var kind C.int
	// A lost request has no objects: the glue passes None for 0.
	return wrapException(C.gss_call_handle_error(s.py, r.obj, addrOf(addr).addr, exc, &kind), kind)
}

func (s *pyServer) HandleTimeout() error {
	if !s.python(C.GSS_HANDLE_TIMEOUT) {
		return nil
	}
	r, _, _, err := s.call(C.GSS_HANDLE_TIMEOUT, 0, 0)
	s.timeoutResult = r
	return err
}

func (s *pyServer) ServiceActions() error {
	if !s.python(C.GSS_SERVICE_ACTIONS) {
		return nil
	}
	return s.callNone(C.GSS_SERVICE_ACTIONS, 0, 0)
}

// The lifecycle hooks below are driven by the Python layer itself
// (construction and server_close run there); the loop never calls them.

func (s *pyServer) ServerBind() error     { return s.callNone(C.GSS_SERVER_BIND, 0, 0) }
func (s *pyServer) ServerActivate() error { return s.callNone(C.GSS_SERVER_ACTIVATE, 0, 0) }
func (s *pyServer) ServerClose() error    { return s.callNone(C.GSS_SERVER_CLOSE, 0, 0) }

// timeoutOnly is the view of the Python server socket that HandleRequest
// needs: its timeout, read by the Python layer with gettimeout(). The loop
// calls nothing else on it (the socket itself belongs to Python), so the
// embedded interface stays nil.
type timeoutOnly struct {
	server.Socket
	t server.Timeout
}

func (t timeoutOnly) Timeout() server.Timeout { return t.t }
