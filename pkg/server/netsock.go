package server

import (
	"errors"
	"os"
)

// osError wraps an errno with the failing operation, like os.SyscallError,
// and is an OSError for B8.
type osError struct {
	op  string
	err error
}

func (e *osError) Error() string { return e.op + ": " + e.err.Error() }
func (e *osError) Unwrap() error { return e.err }

// OSError marks the error as Python's OSError.
func (e *osError) OSError() bool { return true }

// timeoutError is socket.timeout / TimeoutError: "timed out".
type timeoutError struct{}

func (timeoutError) Error() string   { return "timed out" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) OSError() bool   { return true }
func (timeoutError) Is(e error) bool { return e == os.ErrDeadlineExceeded }

// ErrTimeout is the error of a socket operation that exceeded the socket's
// timeout (CPython: TimeoutError "timed out"). errors.Is(ErrTimeout,
// os.ErrDeadlineExceeded) holds.
//
// CPython: Lib/socketserver.py:283 BaseServer.handle_request (socket.gettimeout)
var ErrTimeout error = timeoutError{}

// ErrNotNative is returned by UseNetpoll for a Socket it cannot switch to
// the netpoller (one not made by NewSocket or SocketFromFD).
//
// CPython: none (Go addition)
var ErrNotNative = errors.New("socketserver: not a native socket")
