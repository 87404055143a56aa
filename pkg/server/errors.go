package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"syscall"
)

// BaseException marks an error that models a Python BaseException that is
// not an Exception (SystemExit, KeyboardInterrupt, GeneratorExit...). Such
// errors take CPython's "bare except" path: the request is shut down and the
// error propagates out of HandleRequest/ServeForever (B8), goes to the
// thread excepthook in a threading worker (G4), and makes a forking child
// exit with status 1 (E8), instead of going to HandleError.
//
// The bindings wrap a Python BaseException in a Go error implementing this
// interface. Detection uses errors.As, so wrapped errors keep the path.
//
// CPython: Lib/socketserver.py:322 BaseServer._handle_request_noblock (bare except)
type BaseException interface {
	error
	BaseException()
}

// IsBaseException reports whether err (or an error it wraps) is a
// BaseException.
//
// CPython: Lib/socketserver.py:322 BaseServer._handle_request_noblock (bare except)
func IsBaseException(err error) bool {
	var be BaseException
	return errors.As(err, &be)
}

// SystemExit models Python's SystemExit.
//
// CPython: Lib/socketserver.py:322 BaseServer._handle_request_noblock (bare except)
type SystemExit struct {
	// Code is the exit code or message (Python's SystemExit.code).
	Code any
}

// CPython: none (Go addition)
func (e *SystemExit) Error() string {
	if e.Code == nil {
		return "SystemExit"
	}
	return fmt.Sprintf("SystemExit: %v", e.Code)
}

// BaseException marks SystemExit as a BaseException.
//
// CPython: none (Go addition)
func (*SystemExit) BaseException() {}

// KeyboardInterrupt models Python's KeyboardInterrupt.
//
// CPython: Lib/socketserver.py:322 BaseServer._handle_request_noblock (bare except)
type KeyboardInterrupt struct{}

// CPython: none (Go addition)
func (*KeyboardInterrupt) Error() string { return "KeyboardInterrupt" }

// BaseException marks KeyboardInterrupt as a BaseException.
//
// CPython: none (Go addition)
func (*KeyboardInterrupt) BaseException() {}

// PanicError is a recovered panic from a hook or a request handler. A Go
// panic is the counterpart of a Python exception raised by that hook, so
// the server contains every hook's panic and routes the *PanicError as
// CPython routes that hook's exception (an Exception, unless the panic
// value is a BaseException, which Unwrap exposes):
//
//   - in the loop (ServeForever, HandleRequest): a panic in ProcessRequest
//     (and what it calls: FinishRequest, the handler, ShutdownRequest,
//     CloseRequest) goes to HandleError and the request is shut down, as
//     an Exception (B8); a panic in any other hook (Fileno, the readiness
//     wait, GetRequest, VerifyRequest, ShutdownRequest, CloseRequest,
//     HandleError, HandleTimeout, ServiceActions, ServerSocket) ends the
//     call, which returns it, as that exception ends serve_forever or
//     handle_request; a panic in GetRequest is never taken for an ignored
//     OSError;
//   - in Init: a panic in NewSocket, ServerBind, ServerActivate or, after
//     one of those failed, ServerClose is Init's error (C6);
//   - Close (ServerClose) and ShutdownContext (Drain) return it;
//   - in a threading worker (package threading): FinishRequest's goes to
//     HandleError, HandleError's and ShutdownRequest's to the excepthook
//     (G4), and the excepthook's own is reported on os.Stderr;
//   - in a forking child (package forking): FinishRequest's goes to
//     HandleError and the child exits with status 1 (E8); the fork
//     primitive's goes to HandleError in the parent.
//
// CPython: Lib/socketserver.py:319 BaseServer._handle_request_noblock (except Exception)
type PanicError struct {
	// Hook is the hook whose call the server was making when it recovered
	// the panic, by its Go name ("VerifyRequest", "HandleError"...):
	// "WaitReadable" for the readiness wait (BaseServer.WaitReadable,
	// Socket.WaitReadable, CheckSignals), "ServeRequest" for a request
	// handler, "Handle" for a handler's Handle (package handler), "Fork",
	// "ExceptHook". The panicking code may be a hook that one called; Stack
	// shows where. Empty when unknown.
	Hook string
	// Value is the value passed to panic.
	Value any
	// Stack is the panicking goroutine's stack (runtime/debug.Stack).
	Stack []byte
}

// Error is "panic in <Hook>: <value>" ("panic: <value>" without a Hook).
//
// CPython: none (Go addition)
func (e *PanicError) Error() string {
	if e.Hook == "" {
		return fmt.Sprintf("panic: %v", e.Value)
	}
	return fmt.Sprintf("panic in %s: %v", e.Hook, e.Value)
}

// Unwrap returns the panic value if it is an error.
//
// CPython: none (Go addition)
func (e *PanicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}

// Recover calls f, the call of hook, and converts a panic into a
// *PanicError naming hook. A panic whose value is a BaseException keeps
// that value (Unwrap), so it still takes the BaseException path.
//
// CPython: Lib/socketserver.py:319 BaseServer._handle_request_noblock (except Exception)
func Recover(hook string, f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(hook, v)
		}
	}()
	return f()
}

func newPanicError(hook string, v any) *PanicError {
	return &PanicError{Hook: hook, Value: v, Stack: debug.Stack()}
}

// Sentinel errors.
var (
	// ErrNotImplemented is returned by hooks that BaseServer declares but
	// does not implement (get_request, server_bind on the base class).
	ErrNotImplemented = errors.New("socketserver: not implemented by BaseServer")
	// ErrPortRange is the bind error for a port outside 0-65535 (CPython
	// raises OverflowError; C6).
	//lint:ignore ST1005 CPython's exact message
	ErrPortRange = errors.New("bind(): port must be 0-65535.")
	// ErrBadFileno is returned when the loop would wait on a negative file
	// descriptor (CPython's selector raises ValueError).
	//lint:ignore ST1005 CPython's exact message
	ErrBadFileno = errors.New("Invalid file descriptor: -1")
	// ErrNotConn is returned by stream hooks when the request is not a Conn.
	ErrNotConn = errors.New("socketserver: request is not a stream connection")
	// ErrNotDatagram is returned when a datagram request is not a *Datagram.
	ErrNotDatagram = errors.New("socketserver: request is not a datagram")
	// ErrNoSelf reports a server without a valid outermost value: Init
	// (BaseServer.Init, TCPServer.Init, ...) was given nil or another
	// server's value (Init panics, or returns it), or the server is used
	// without Init, or was copied after Init. ServeForever and
	// HandleRequest return it before calling any hook, so an embedding
	// type's overrides are never silently bypassed by the embedded hooks;
	// the base hooks that call other hooks (ProcessRequest, FinishRequest,
	// ShutdownRequest, Close...) return it too. Errors carrying details
	// wrap it (test with errors.Is).
	ErrNoSelf = errors.New("socketserver: no outermost server value (pass it to Init: s.Init(s, ...))")
)

// errNoInit is ErrNoSelf for a server whose Init never ran.
var errNoInit = fmt.Errorf("%w: Init was never called", ErrNoSelf)

// OSError marks an error as Python's OSError for the purpose of B8 (an
// OSError from GetRequest is swallowed). The bindings implement it on the
// errors that wrap Python OSErrors.
//
// CPython: Lib/socketserver.py:314 BaseServer._handle_request_noblock (except OSError)
type OSError interface {
	error
	OSError() bool
}

// IsOSError reports whether err is an operating-system error: a
// syscall.Errno, *os.SyscallError, *os.PathError, *net.OpError, a timeout,
// a use of a closed socket, or an error implementing OSError that says so.
//
// CPython: Lib/socketserver.py:314 BaseServer._handle_request_noblock (except OSError)
func IsOSError(err error) bool {
	if err == nil || IsBaseException(err) {
		return false
	}
	var oe OSError
	if errors.As(err, &oe) {
		return oe.OSError()
	}
	var errno syscall.Errno
	var se *os.SyscallError
	var pe *os.PathError
	var ne *net.OpError
	return errors.As(err, &errno) || errors.As(err, &se) || errors.As(err, &pe) ||
		errors.As(err, &ne) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, os.ErrClosed) || errors.Is(err, net.ErrClosed)
}
