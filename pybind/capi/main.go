// Command capi is the C API that the CPython extension _gosocketserver is
// built on. It is compiled with -buildmode=c-archive and linked into the
// extension; it is never run as a program.
//
// Go drives the server lifecycle here: serve_forever's loop and
// handle_request's timeout arithmetic are pkg/server's BaseServer, and the
// readiness wait is its raw poll(2) on the calling thread. The hooks of the
// Python server object are dispatched from that loop: a hook the Python
// class overrides is called in Python through the C glue (which takes the
// GIL for the call); a hook left at CPython's default runs here without the
// GIL (accept(2) and recvfrom(2) for get_request, verify_request's True,
// process_request's finish-then-shutdown, shutdown_request's SHUT_WR, and
// the no-op hooks).
//
// The C contract is pybind/capi/gss_api.h: Python objects travel through Go
// as integers (gss_obj) and are never dereferenced here.
package main

/*
#include <stdlib.h>
#include "gss_calls.h"
#include "gss_pool.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"unsafe"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

func main() {}

// GSSInit receives the glue's callback table. Called once, with the GIL.
//
//export GSSInit
func GSSInit(c *C.gss_callbacks) { C.gss_set_callbacks(c) }

// newServer makes the Go server for one serve_forever or handle_request
// call. Nothing of it outlives the call: the shutdown flag and the
// is-shut-down event are the Python object's own attributes (see
// GSSServeForever), so a fresh BaseServer per call carries no state between
// calls, and two calls never share one.
func newServer() *pyServer {
	s := &pyServer{}
	s.Init(nil, nil)
	s.Self = s
	s.CheckSignals = checkSignals
	s.WaitReadable = s.waitReadable
	return s
}

// GSSStats reports the goroutines and the live worker pools, so tests can
// show that serving leaves nothing behind.
//
//export GSSStats
func GSSStats(goroutines, pools *C.longlong) {
	*goroutines = C.longlong(runtime.NumGoroutine())
	*pools = C.longlong(C.gss_pool_live())
}

// GSSServeForever runs BaseServer.ServeForever for the Python server py
// (borrowed for the duration of the call). It returns the exception that
// ended the loop (a new reference), or 0.
//
// shutdown() stays Python's (it sets self._BaseServer__shutdown_request and
// waits on self._BaseServer__is_shut_down, which CPython programs and tests
// read and set directly); the loop reads that flag around each wait, where
// CPython's loop tests it, and the Python layer resets the flag and sets the
// event when this returns.
//
// pool, when not NULL, is the worker pool of a ThreadingMixIn server that
// keeps CPython's request path: the loop hands it raw requests, and the
// call returns only once the workers have adopted them all (see pool).
//
//export GSSServeForever
func GSSServeForever(py C.gss_obj, pollInterval C.double, fd C.int,
	overrides C.ulonglong, getMode, maxPacket C.int, sock C.gss_obj,
	family, sotype, proto C.int, pool *C.gss_pool) (exc C.gss_obj) {
	s := newServer()
	defer s.recoverInto(&exc)
	s.configure(py, fd, overrides, getMode, maxPacket, sock, family, sotype, proto, pool)
	defer s.settle()
	s.serving = true
	defer s.releasePending()
	err := s.ServeForever(secondsOrNone(pollInterval))
	if err == errStop {
		err = nil
	}
	return s.toPython(err)
}

// GSSHandleRequest runs BaseServer.HandleRequest. timeout is the Python
// socket's gettimeout() and serverTimeout the server's timeout attribute,
// each NaN for None. *result receives handle_timeout()'s return value
// when the wait timed out (a new reference). pool is as for
// GSSServeForever.
//
//export GSSHandleRequest
func GSSHandleRequest(py C.gss_obj, sockTimeout, serverTimeout C.double,
	fd C.int, overrides C.ulonglong, getMode, maxPacket C.int, sock C.gss_obj,
	family, sotype, proto C.int, pool *C.gss_pool, result *C.gss_obj) (exc C.gss_obj) {
	s := newServer()
	defer s.recoverInto(&exc)
	s.configure(py, fd, overrides, getMode, maxPacket, sock, family, sotype, proto, pool)
	defer s.settle()
	s.sockTimeout = secondsOrNone(sockTimeout)
	s.Timeout = secondsOrNone(serverTimeout)
	defer s.releasePending()
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
// its errno) or RuntimeError.
func (s *pyServer) toPython(err error) C.gss_obj {
	if err == nil {
		return 0
	}
	var pe pyError
	if errors.As(err, &pe) {
		return pe.object()
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
		*exc = goException(fmt.Errorf("socketserver: Go panic: %v", v))
	}
}
