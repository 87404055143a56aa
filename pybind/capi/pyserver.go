//go:build linux

package main

/*
#include <stdlib.h>
#include "gss_calls.h"
*/
import "C"

import (
	"errors"
	"net"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// pyServer is the outermost server (BaseServer.Self) for a Python server
// object during one serve_forever or handle_request call.
//
// The GIL: the call runs on the Python thread that made it and holds that
// thread's GIL throughout, as CPython's own loop does, except around the
// blocking system calls (the readiness wait, accept(2), recvfrom(2)),
// which run between gss_call_release and gss_call_acquire. So every hook
// is a plain call into Python, and one request costs one GIL hand-back.
//
// Descriptors: the loop never keeps a descriptor number of its own. It
// waits on the number the server socket had when the call started (as
// CPython's selector does), and it accepts or receives on the number the
// Python socket object holds at that moment (gss_call_sock_fd): once the
// object is closed or detached that is -1 and the attempt fails with
// EBADF, which the loop ignores, as CPython's get_request fails on a closed
// socket. Requests are Python socket objects from the start; shutting
// down and closing them is Python's (shutdown_request, close_request).
type pyServer struct {
	server.BaseServer

	py          C.gss_obj // the Python server (borrowed for the call)
	pythonHooks uint64    // bit (1 << h) set: hook h runs in Python
	getMode     int
	fd          int // the server socket's descriptor when the call started
	maxPacket   int
	sock        C.gss_obj // the Python server socket (borrowed for the call)
	family      int
	sotype      int
	proto       int

	serving       bool // in serve_forever: watch the Python shutdown flag
	released      bool // the GIL is released (between release and acquire)
	poller        server.Poller
	waitFn        func(int, server.Timeout) (bool, error) // s.waitReadable, made once
	out           *outs                                   // its own allocation: see outs
	req           pyRequest                               // the request being served (see request)
	timeoutResult C.gss_obj
	rescheduled   time.Time // when the serving goroutine last yielded (see reschedule)
	packet        []byte
}

func (s *pyServer) python(hook C.int) bool { return s.pythonHooks&(1<<uint(hook)) != 0 }

// release gives the GIL back before a blocking system call; acquire takes
// it again. Both run on the calling thread: a goroutine called from C stays
// on its thread until it returns.
func (s *pyServer) release() { C.gss_call_release(); s.released = true }
func (s *pyServer) acquire() { C.gss_call_acquire(); s.released = false }

// pyRequest is one request and its client address, the two Python objects
// (owned by the loop until the request is done). The loop passes it both
// as the server.Request and as the net.Addr, so the hooks find the two
// together.
type pyRequest struct {
	obj, addr C.gss_obj
}

// request makes r the request being served: the loop handles one request
// at a time, so one pyRequest per server serves them all.
func (s *pyServer) request(r pyRequest) *pyRequest {
	s.dropRequest()
	s.req = r
	return &s.req
}

// dropRequest gives back the references of the last request.
func (s *pyServer) dropRequest() {
	if s.req.obj != 0 || s.req.addr != 0 {
		C.gss_call_decref(s.req.obj, s.req.addr, 0)
		s.req = pyRequest{}
	}
}

func (*pyRequest) Network() string { return "python" }
func (*pyRequest) String() string  { return "<python address>" }

// objOf and addrOf give the Python objects of a request (0, that is None,
// for anything else).
func objOf(r server.Request) C.gss_obj {
	if p, ok := r.(*pyRequest); ok {
		return p.obj
	}
	return 0
}

func addrOf(a net.Addr) C.gss_obj {
	if p, ok := a.(*pyRequest); ok {
		return p.addr
	}
	return 0
}

// outs holds the out-parameters of the calls into C that the loop makes
// for every request, once per server: a local whose address C receives
// would be moved to the heap at every call. It is allocated apart from the
// server, since cgo lets C see memory only if it holds no Go pointer.
type outs struct {
	r1, r2            C.gss_obj
	truth, flag, kind C.int
	from              server.RawAddr // the peer of the request being taken
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

// errStop ends ServeForever when the Python shutdown flag is set.
var errStop = errors.New("socketserver: shutdown requested")

// waitReadable is the loop's readiness wait: poll(2) with the GIL
// released, after the last request's references are given back.
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
	s.dropRequest()
	if err := s.stopRequested(); err != nil {
		return false, err
	}
	s.release()
	s.reschedule()
	ready, err := s.poller.WaitReadable(fd, timeout)
	s.acquire()
	if err == nil && !ready {
		err = checkSignals()
	}
	if err == nil {
		err = s.stopRequested()
	}
	return ready, err
}

// rescheduleEvery is how long a serving call runs at most between two
// yields to the Go scheduler (see reschedule): under the runtime's 10 ms
// threshold for a long-running goroutine.
const rescheduleEvery = 5 * time.Millisecond

// reschedules counts the yields of every serving call (GSSStats).
var reschedules atomic.Int64

// reschedule yields to the Go scheduler if the serving call has not done so
// for rescheduleEvery. It runs with the GIL released.
//
// A serving call is one goroutine for the whole call (the callback from C,
// locked to the Python thread), and its calls into C and its system calls
// leave its P in the system-call state. The runtime's monitor thread
// (sysmon) takes a goroutine that the scheduler has not run anew for 10 ms
// for a long-running one: from then on, at each of its ticks (every 20 us
// while it keeps finding work), it takes the P whenever the goroutine is
// in a call, and the goroutine takes a P back, waking the monitor, when
// the call returns. Measured on ThreadingTCPServer's short connections:
// 1.4 to 1.8 wake-ups of the monitor per request, about a tenth of the
// server's CPU. runtime.Gosched makes the scheduler run the goroutine anew,
// which the monitor sees; it costs two thread hand-offs per yield (an idle
// runtime thread takes the goroutine and hands it back to this thread,
// made at load by prepareRuntime), so at most 400 a second, and none per
// request.
func (s *pyServer) reschedule() {
	if now := time.Now(); now.Sub(s.rescheduled) >= rescheduleEvery {
		s.rescheduled = now
		reschedules.Add(1)
		runtime.Gosched()
	}
}

// checkSignalsReleased is the poller's EINTR check: it runs while the GIL
// is released, so it takes it for PyErr_CheckSignals.
func (s *pyServer) checkSignalsReleased() error {
	s.acquire()
	defer s.release()
	return checkSignals()
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

func (s *pyServer) Fileno() int { return s.fd }

func (s *pyServer) GetRequest() (server.Request, net.Addr, error) {
	switch {
	case s.getMode == C.GSS_GET_ACCEPT && !s.python(C.GSS_GET_REQUEST):
		return s.accept()
	case s.getMode == C.GSS_GET_RECVFROM && !s.python(C.GSS_GET_REQUEST):
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
	r := s.request(pyRequest{obj: req, addr: addr})
	return r, r, nil
}

// sockFD is the descriptor the Python server socket holds now: -1 once it
// is closed or detached. Read under the GIL, right before the system call,
// as CPython's socket methods read it.
func (s *pyServer) sockFD() int { return int(C.gss_call_sock_fd(s.sock)) }

// accept is TCPServer.get_request (C11): socket.accept() on the Python
// server socket, a blocking, close-on-exec connection.
func (s *pyServer) accept() (server.Request, net.Addr, error) {
	o := s.outs()
	for {
		fd := s.sockFD()
		if fd < 0 {
			return nil, nil, syscall.EBADF // an OSError: ignored by the loop (B8)
		}
		s.release()
		nfd, err := server.AcceptBorrowed(fd, &o.from)
		s.acquire()
		if err == syscall.EINTR {
			if err := checkSignals(); err != nil {
				return nil, nil, err
			}
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		exc := C.gss_call_stream_request(C.int(nfd), C.int(s.family), C.int(s.sotype),
			C.int(s.proto), unsafe.Pointer(&o.from.Any), C.int(o.from.Len), &o.r1, &o.r2, &o.kind)
		if err := wrapException(exc, o.kind); err != nil {
			return nil, nil, err
		}
		r := s.request(pyRequest{obj: o.r1, addr: o.r2})
		return r, r, nil
	}
}

// recvfrom is UDPServer.get_request (D5): at most max_packet_size bytes of
// one datagram, the rest dropped by the kernel. The Python layer chooses
// it only for a max_packet_size small enough for one reused buffer.
func (s *pyServer) recvfrom() (server.Request, net.Addr, error) {
	if cap(s.packet) < s.maxPacket {
		s.packet = make([]byte, s.maxPacket)
	}
	buf := s.packet[:s.maxPacket]
	o := s.outs()
	for {
		fd := s.sockFD()
		if fd < 0 {
			return nil, nil, syscall.EBADF
		}
		s.release()
		n, err := server.RecvFromBorrowed(fd, buf, &o.from)
		s.acquire()
		if err == syscall.EINTR {
			if err := checkSignals(); err != nil {
				return nil, nil, err
			}
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		var p unsafe.Pointer
		if len(buf) > 0 {
			p = unsafe.Pointer(&buf[0])
		}
		exc := C.gss_call_datagram_request(s.sock, p, C.int(n), unsafe.Pointer(&o.from.Any),
			C.int(o.from.Len), &o.r1, &o.r2, &o.kind)
		if err := wrapException(exc, o.kind); err != nil {
			return nil, nil, err
		}
		r := s.request(pyRequest{obj: o.r1, addr: o.r2})
		return r, r, nil
	}
}

func (s *pyServer) VerifyRequest(req server.Request, addr net.Addr) (bool, error) {
	if !s.python(C.GSS_VERIFY_REQUEST) {
		return true, nil
	}
	_, _, ok, err := s.call(C.GSS_VERIFY_REQUEST, objOf(req), addrOf(addr))
	return ok, err
}

// ProcessRequest is BaseServer.process_request in Go (finish, then shut
// down) unless the class overrides it (ThreadingMixIn's starts a thread,
// ForkingMixIn's forks).
func (s *pyServer) ProcessRequest(req server.Request, addr net.Addr) error {
	if !s.python(C.GSS_PROCESS_REQUEST) {
		return s.BaseServer.ProcessRequest(req, addr)
	}
	return s.callNone(C.GSS_PROCESS_REQUEST, objOf(req), addrOf(addr))
}

// FinishRequest always runs in Python: it instantiates the handler class.
func (s *pyServer) FinishRequest(req server.Request, addr net.Addr) error {
	return s.callNone(C.GSS_FINISH_REQUEST, objOf(req), addrOf(addr))
}

// ShutdownRequest always runs in Python: TCPServer's half-closes the
// request through its socket object, which knows whether it still owns
// its descriptor (C12).
func (s *pyServer) ShutdownRequest(req server.Request) error {
	return s.callNone(C.GSS_SHUTDOWN_REQUEST, objOf(req), 0)
}

// CloseRequest runs in Python; the loop reaches it only through
// BaseServer.ShutdownRequest, which this server does not use.
func (s *pyServer) CloseRequest(req server.Request) error {
	return s.callNone(C.GSS_CLOSE_REQUEST, objOf(req), 0)
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
	var kind C.int
	return wrapException(C.gss_call_handle_error(s.py, objOf(req), addrOf(addr), exc, &kind), kind)
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
