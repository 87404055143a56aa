//go:build unix || windows

package server

// PollReadable waits, on the calling OS thread, until fd is readable or
// timeout expires (None: forever). It adds no file descriptor (A9). On the
// Unix systems it waits with poll(2), like CPython's PollSelector, and
// reports readiness for any returned event (including POLLHUP, POLLERR and
// POLLNVAL), as the selector does. On Windows it waits with select(), like
// CPython's SelectSelector there; an error from select (a closed socket,
// or a descriptor that is not a socket) is returned, as the selector raises
// it.
//
// On EINTR (Unix only: select is never interrupted by a signal) it calls
// checkSignals (if not nil): a non-nil error stops the wait and is returned
// (the bindings run PyErr_CheckSignals there); otherwise the wait resumes
// with the remaining time (PEP 475).
//
// CPython: Lib/socketserver.py:150 _ServerSelector
func PollReadable(fd int, timeout Timeout, checkSignals func() error) (bool, error) {
	return Poller{CheckSignals: checkSignals}.WaitReadable(fd, timeout)
}

// Poller is PollReadable's wait as a value, for a caller that chooses how
// it waits once, at construction. Its WaitReadable is poll.go's on the
// Unix systems and select_windows.go's on Windows.
//
// CPython: Lib/socketserver.py:150 _ServerSelector
type Poller struct {
	// CheckSignals is called on EINTR (see PollReadable); nil retries.
	// Never called on Windows.
	CheckSignals func() error
	// NoNetpollWake skips waking an idle processor before the blocking
	// poll(2) or select. The wake keeps Go's netpoller watched while this
	// thread blocks in a raw system call; a caller with no goroutine
	// waiting on the netpoller (a binding that runs the loop on a foreign
	// thread) sets it, and then pays no goroutine start and no scheduler
	// wake-up per wait (measured: 10,000 sequential connections to a
	// synchronous server took 14.6 s with the wake and 1.4 s without).
	NoNetpollWake bool
}
