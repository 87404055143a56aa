package server

import (
	"fmt"
	"time"
)

// Timeout models CPython's "float or None" timeouts, which distinguish None
// (wait forever) from 0 (do not wait). The zero value is None.
//
//	CPython            Go
//	None               server.None (the zero Timeout{})
//	0                  server.After(0)
//	0.5                server.After(500 * time.Millisecond) or server.Seconds(0.5)
//
// It is used for BaseServer.Timeout (B1), the poll interval of ServeForever
// (B4), a socket's gettimeout/settimeout (B7) and StreamRequestHandler.Timeout
// (I5).
//
// CPython: Lib/socketserver.py:201 BaseServer.timeout
type Timeout struct {
	d   time.Duration
	set bool
}

// None is the Timeout that means "no timeout": block until ready.
//
// CPython: Lib/socketserver.py:201 BaseServer.timeout
var None = Timeout{}

// After returns the Timeout of d. A negative d is kept as is (CPython treats a
// negative select timeout as 0).
//
// CPython: Lib/socketserver.py:201 BaseServer.timeout
func After(d time.Duration) Timeout { return Timeout{d: d, set: true} }

// Seconds returns the Timeout of s seconds, CPython's float form.
//
// CPython: Lib/socketserver.py:201 BaseServer.timeout
func Seconds(s float64) Timeout { return After(time.Duration(s * float64(time.Second))) }

// IsNone reports whether t is None.
//
// CPython: none (Go addition)
func (t Timeout) IsNone() bool { return !t.set }

// Duration returns the duration and true, or 0 and false when t is None.
//
// CPython: none (Go addition)
func (t Timeout) Duration() (time.Duration, bool) { return t.d, t.set }

// deadline is when a wait of t starting now ends, and false for None (no
// end).
func (t Timeout) deadline() (time.Time, bool) {
	if !t.set {
		return time.Time{}, false
	}
	return time.Now().Add(t.d), true
}

// String formats t as CPython would print it: "None" or seconds.
//
// CPython: none (Go addition)
func (t Timeout) String() string {
	if !t.set {
		return "None"
	}
	return fmt.Sprint(t.d.Seconds())
}

// minTimeout returns the smaller of two set timeouts.
func minTimeout(a, b Timeout) Timeout {
	if a.d <= b.d {
		return a
	}
	return b
}

// DefaultPollInterval is ServeForever's customary poll interval, CPython's
// poll_interval=0.5 default.
//
// CPython: Lib/socketserver.py:218 BaseServer.serve_forever
var DefaultPollInterval = After(500 * time.Millisecond)
