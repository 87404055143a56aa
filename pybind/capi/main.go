//go:build linux

// Command capi is the C API that the CPython extension _gosocketserver is
// built on. It is compiled with -buildmode=c-archive and linked into the
// extension; it is never run as a program.
//
// Go drives the server lifecycle here: serve_forever's loop and
// handle_request's timeout arithmetic are pkg/server's BaseServer, and the
// readiness wait is its poll(2) on the calling thread with the GIL
// released. The hooks of the Python server object are dispatched from that
// loop: a hook the Python class overrides is called in Python; a hook left
// at CPython's default runs here (get_request is pkg/server's
// AcceptBorrowed or RecvFromBorrowed on the descriptor the Python socket
// object holds at that moment; verify_request's True; process_request's
// finish-then-shutdown; the no-op hooks). See pyServer for the GIL and
// descriptor rules.
//
// The C contract is pybind/capi/gss_api.h: Python objects travel through Go
// as integers (gss_obj) and are never dereferenced here.
//
// # What can still end the process
//
// The Go runtime ends the process with a fatal error where CPython would
// raise or carry on. Each such condition, and why CPython's own failure
// modes do not reach it:
//
//   - The netpoller cannot be created (epoll_create or eventfd fails, say
//     at EMFILE): made when the module loads (prepareRuntime), never later.
//   - A new OS thread cannot be created (clone fails at RLIMIT_NPROC or the
//     kernel's limit): the runtime starts its threads when the module
//     loads, plus spareThreads idle ones, and this code starts no
//     goroutine; a serving call runs on the Python thread that made it.
//     Its yields to the scheduler (pyServer.reschedule) need an idle
//     thread for a moment, at most one per P, which the spare ones are.
//     A process already unable to create a thread when it loads the
//     module fails there, as any Go program fails to start.
//   - The Go heap cannot grow (mmap fails at RLIMIT_AS): the serving loop
//     reuses the Go servers of finished calls and allocates nothing per
//     request or per call once warm (tests/test_pybind.py counts), so a
//     process short of memory meets a Python allocation, and its
//     MemoryError, first.
//   - A thread returns into Go after the interpreter ended it: a daemon
//     thread that wakes from a wait while the interpreter finalizes does
//     not take the GIL (CPython would end it with pthread_exit under Go's
//     frames); it waits for the process to exit (gss_glue.c cb_acquire).
//   - Go runs in a forked child, whose runtime threads were not copied:
//     every C entry point refuses in a child (pthread_atfork), and the
//     Python layer serves there with pyref's pure-Python loop instead.
//   - A fault (SIGSEGV, SIGBUS) inside Go code: a bug here, as a fault in
//     C would be in CPython; a Go panic, by contrast, is recovered at each
//     entry point and raised as RuntimeError (recoverInto).
//   - More than 10,000 runtime threads (debug.SetMaxThreads): only the
//     runtime's own count; the C threads that call into Go do not.
package main

/*
#include <stdlib.h>
#include "gss_calls.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

func main() {}

// GSSInit receives the glue's callback table and acquires, up front, what
// the Go runtime would otherwise create lazily at a moment it cannot
// choose: a process that has run out of descriptors or threads must never
// meet a runtime that needs one (see prepareRuntime). Called once, with the
// GIL.
//
//export GSSInit
func GSSInit(c *C.gss_callbacks) {
	C.gss_set_callbacks(c)
	prepareRuntime()
}

// spareThreads is how many OS threads the runtime makes at start, beyond
// those it has, to run goroutines and the garbage collector later without
// creating a thread (see prepareRuntime).
var spareThreads = runtime.GOMAXPROCS(0) + 2

// prepareRuntime makes the Go runtime create now the resources it
// otherwise creates on first use, and whose creation failing is a fatal
// error in the runtime rather than an error returned:
//
//   - the netpoller (epoll_create and an eventfd): the first timer of the
//     process creates it (the scavenger sleeps on one), and at EMFILE the
//     runtime aborts with "netpollinit failed";
//   - OS threads: a goroutine that becomes runnable while every thread is
//     busy or blocked makes the runtime start a new one, and a failed
//     clone (RLIMIT_NPROC, the kernel's thread limit) aborts the process.
//     Threads that stop running goroutines wait idle and are reused, so
//     spareThreads of them started here serve the Go code of this archive
//     (one serving loop per calling thread, which runs on that thread, and
//     the runtime's own GC workers) for good; the template thread, which
//     starts threads on behalf of threads called from C, is started here
//     too.
func prepareRuntime() {
	time.AfterFunc(time.Hour, func() {}).Stop()
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	ready.Add(spareThreads)
	done.Add(spareThreads)
	for range spareThreads {
		go func() {
			defer done.Done()
			// A locked goroutine that blocks keeps its thread to itself,
			// so each of these holds a distinct thread until released.
			runtime.LockOSThread()
			ready.Done()
			<-release
			runtime.UnlockOSThread()
		}()
	}
	ready.Wait()
	close(release)
	done.Wait()
}

// GSSStats reports the goroutines, the runtime's threads (Ms, including
// the C threads that called into Go), the heap objects allocated so far
// and the serving calls' yields to the scheduler (pyServer.reschedule), so
// tests can show that serving leaves nothing behind, allocates nothing per
// request and yields on its cadence.
//
//export GSSStats
func GSSStats(goroutines, threads, mallocs, yields *C.longlong) {
	*goroutines = C.longlong(runtime.NumGoroutine())
	n, _ := runtime.ThreadCreateProfile(nil)
	*threads = C.longlong(n)
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
	metrics.Read(sample)
	*mallocs = C.longlong(sample[0].Value.Uint64())
	*yields = C.longlong(reschedules.Load())
}

// servers keeps the Go servers of finished calls for the next ones: a
// serving call then allocates nothing in Go (handle_request() called in a
// loop makes no garbage, and a UDP server reuses its receive buffer).
var servers = sync.Pool{New: func() any {
	s := &pyServer{out: new(outs)}
	s.poller = server.Poller{CheckSignals: s.checkSignalsReleased, NoNetpollWake: true}
	s.waitFn = s.waitReadable
	return s
}}

// newServer gives the Go server for one serve_forever or handle_request
// call; free gives it back. The shutdown flag and the is-shut-down event
// are the Python object's own attributes (see GSSServeForever), so a
// server carries no state from one call to the next, and two calls never
// share one.
func newServer(c *C.gss_call) *pyServer {
	s := servers.Get().(*pyServer)
	s.py, s.fd, s.pythonHooks = c.server, int(c.fd), uint64(c.python_hooks)
	s.getMode, s.maxPacket, s.sock = int(c.get_mode), int(c.max_packet_size), c.sock
	s.family, s.sotype, s.proto = int(c.family), int(c.sotype), int(c.proto)
	s.Init(s, nil, nil)
	s.WaitReadable = s.waitFn // its poller runs the signal handlers on EINTR
	return s
}

// free gives s back to servers, holding no Python object.
func (s *pyServer) free() {
	s.dropRequest()
	s.BaseServer = server.BaseServer{}
	s.py, s.sock, s.timeoutResult = 0, 0, 0
	s.serving, s.released = false, false
	servers.Put(s)
}

// GSSServeForever runs BaseServer.ServeForever for the Python server
// c.server (borrowed for the duration of the call), with c.wait as the poll
// interval, on the calling thread, with the GIL held (see pyServer). It
// returns the exception that ended the loop (a new reference), or 0.
//
// shutdown() stays Python's (it sets self._BaseServer__shutdown_request and
// waits on self._BaseServer__is_shut_down, which CPython programs and tests
// read and set directly); the loop reads that flag around each wait, where
// CPython's loop tests it, and the Python layer resets the flag and sets the
// event when this returns.
//
//export GSSServeForever
func GSSServeForever(c *C.gss_call) (exc C.gss_obj) {
	s := newServer(c)
	defer s.free()
	defer s.recoverInto(&exc)
	s.serving = true
	err := s.ServeForever(secondsOrNone(c.wait))
	if err == errStop {
		err = nil
	}
	return s.toPython(err)
}

// GSSHandleRequest runs BaseServer.HandleRequest, as GSSServeForever runs
// the loop, with c.timeout as the timeout (the Python layer has combined
// the socket's and the server's, B7). *result receives handle_timeout()'s
// return value when the wait timed out (a new reference).
//
//export GSSHandleRequest
func GSSHandleRequest(c *C.gss_call, result *C.gss_obj) (exc C.gss_obj) {
	s := newServer(c)
	defer s.free()
	defer s.recoverInto(&exc)
	s.Timeout = secondsOrNone(c.timeout)
	err := s.HandleRequest()
	*result = s.timeoutResult
	return s.toPython(err)
}

// secondsOrNone converts seconds from the glue, NaN standing for None. A
// negative number stays negative, as CPython's arithmetic keeps it (B7).
func secondsOrNone(v C.double) server.Timeout {
	if v != v {
		return server.None
	}
	return server.Seconds(float64(v))
}

// ---- errors ---------------------------------------------------------------

// pyException is a Python exception (an Exception subclass) carried through
// the loop; it owns one reference to the exception object.
type pyException struct{ exc C.gss_obj }

func (e *pyException) Error() string { return "Python exception" }

// pyOSError is a Python OSError: get_request's are ignored (B8).
type pyOSError struct{ pyException }

func (*pyOSError) OSError() bool { return true }

// pyBaseException is a Python BaseException that is not an Exception
// (SystemExit, KeyboardInterrupt): it takes CPython's re-raise path.
type pyBaseException struct{ pyException }

func (*pyBaseException) BaseException() {}

func (e *pyException) object() C.gss_obj { return e.exc }

type pyError interface {
	error
	object() C.gss_obj
}

func wrapException(exc C.gss_obj, kind C.int) error {
	if exc == 0 {
		return nil
	}
	switch {
	case kind&C.GSS_EXC_EXCEPTION == 0:
		return &pyBaseException{pyException{exc}}
	case kind&C.GSS_EXC_OSERROR != 0:
		return &pyOSError{pyException{exc}}
	}
	return &pyException{exc}
}

func checkSignals() error {
	var kind C.int
	return wrapException(C.gss_call_check_signals(&kind), kind)
}

// toPython turns an error that ended a loop into the exception to raise: a
// Python exception is handed over as is; a Go error becomes OSError (with
// its errno) or RuntimeError. A Go panic the loop contained (a
// *server.PanicError) is raised as recoverInto raises one that escaped: the
// GIL taken back if the panic struck while it was released, RuntimeError.
func (s *pyServer) toPython(err error) C.gss_obj {
	if err == nil {
		return 0
	}
	var pe pyError
	if errors.As(err, &pe) {
		return pe.object()
	}
	if gp, ok := err.(*server.PanicError); ok {
		if s.released {
			s.acquire()
		}
		return goException(fmt.Errorf("socketserver: Go panic in %s: %v", gp.Hook, gp.Value))
	}
	return goException(err)
}

func goException(err error) C.gss_obj {
	var errno syscall.Errno
	num := 0
	if errors.As(err, &errno) {
		num = int(errno)
	}
	msg := C.CString(err.Error())
	defer C.free(unsafe.Pointer(msg))
	var kind C.int
	return C.gss_call_go_error(C.int(num), msg, &kind)
}

// recoverInto turns a Go panic that escaped into a Python RuntimeError, so
// that a bug here surfaces as an exception and never crashes the
// interpreter.
func (s *pyServer) recoverInto(exc *C.gss_obj) {
	if v := recover(); v != nil {
		if s.released {
			s.acquire() // C expects the GIL back
		}
		*exc = goException(fmt.Errorf("socketserver: Go panic: %v", v))
	}
}
