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
// BaseException: a Classifier that says so, else an error with the
// BaseException marker.
//
// CPython: Lib/socketserver.py:322 BaseServer._handle_request_noblock (bare except)
func IsBaseException(err error) bool {
	var c Classifier
	if errors.As(err, &c) {
		return c.ExceptionKind().IsBaseException()
	}
	var be BaseException
	return errors.As(err, &be)
}

// ExceptionKind is the Python exception class an error stands for, as far
// as the server's paths depend on it (B8, G4, E8): Exception,
// OSError (swallowed from GetRequest), TimeoutError (an OSError), and the
// BaseExceptions that are not Exceptions.
//
// CPython: Lib/socketserver.py:305 BaseServer._handle_request_noblock (except OSError, except Exception, except:)
type ExceptionKind int

// The exception kinds.
const (
	KindException         ExceptionKind = iota // Exception (any other error)
	KindOSError                                // OSError
	KindTimeoutError                           // TimeoutError (socket.timeout), an OSError
	KindBaseException                          // a BaseException that is not an Exception (GeneratorExit...)
	KindSystemExit                             // SystemExit
	KindKeyboardInterrupt                      // KeyboardInterrupt
)

// IsBaseException reports whether k is a BaseException that is not an
// Exception (the "bare except" path).
//
// CPython: Lib/socketserver.py:322 BaseServer._handle_request_noblock (bare except)
func (k ExceptionKind) IsBaseException() bool { return k >= KindBaseException }

// IsOSError reports whether k is an OSError (OSError or TimeoutError).
//
// CPython: Lib/socketserver.py:314 BaseServer._handle_request_noblock (except OSError)
func (k ExceptionKind) IsOSError() bool { return k == KindOSError || k == KindTimeoutError }

// String is the Python class name.
//
// CPython: none (Go addition)
func (k ExceptionKind) String() string {
	switch k {
	case KindOSError:
		return "OSError"
	case KindTimeoutError:
		return "TimeoutError"
	case KindBaseException:
		return "BaseException"
	case KindSystemExit:
		return "SystemExit"
	case KindKeyboardInterrupt:
		return "KeyboardInterrupt"
	}
	return "Exception"
}

// Classifier is the one place where an embedder classifies its errors. An
// embedder whose exceptions are one Go type (a raised-exception wrapper
// whose Python class is known only at run time) implements ExceptionKind
// on that type, and every path of the packages (IsBaseException, IsOSError,
// Classify) asks it first, through errors.As, so a wrapped error keeps its
// class. The BaseException and OSError interfaces remain for error types
// whose class is fixed. The way back, from the packages' errors to the
// embedder's exceptions, is Classify.
//
// CPython: Lib/socketserver.py:305 BaseServer._handle_request_noblock (except OSError, except Exception, except:)
type Classifier interface {
	error
	ExceptionKind() ExceptionKind
}

// Classify returns the Python class an error (non-nil) stands for, so an
// embedder turns the packages' errors into its own exceptions in one
// switch: an embedder's Classifier says itself; *SystemExit (see its
// Code) and *KeyboardInterrupt are those; another BaseException is
// KindBaseException; a timeout (ErrTimeout, os.ErrDeadlineExceeded) is
// KindTimeoutError; an error IsOSError accepts is KindOSError; anything
// else is KindException (use errors.Is and errors.As for the detail:
// ErrNoSelf, ErrBadFileno, *PanicError...). Wrapped errors are seen
// through, so a *PanicError whose value is one of these errors is
// classified by its value.
//
// CPython: Lib/socketserver.py:305 BaseServer._handle_request_noblock (except OSError, except Exception, except:)
func Classify(err error) ExceptionKind {
	var c Classifier
	if errors.As(err, &c) {
		return c.ExceptionKind()
	}
	var se *SystemExit
	var ki *KeyboardInterrupt
	switch {
	case errors.As(err, &se):
		return KindSystemExit
	case errors.As(err, &ki):
		return KindKeyboardInterrupt
	case IsBaseException(err):
		return KindBaseException
	case !IsOSError(err):
		return KindException
	case errors.Is(err, os.ErrDeadlineExceeded):
		return KindTimeoutError
	}
	return KindOSError
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

// IsOSError reports whether err is an operating-system error: a Classifier
// that says so (asked first), else a syscall.Errno, *os.SyscallError, *os.PathError, *net.OpError, a timeout,
// a use of a closed socket, or an error implementing OSError that says so.
//
// CPython: Lib/socketserver.py:314 BaseServer._handle_request_noblock (except OSError)
func IsOSError(err error) bool {
	if err == nil {
		return false
	}
	var c Classifier
	if errors.As(err, &c) {
		return c.ExceptionKind().IsOSError()
	}
	if IsBaseException(err) {
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
