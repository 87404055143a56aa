//go:build unix

package server

import (
	"time"

	"golang.org/x/sys/unix"
)

// PollReadable waits with poll(2), on the calling OS thread, until fd is
// readable or timeout expires (None: forever). It adds no file descriptor,
// like CPython's PollSelector (A9). It reports readiness for any returned
// event (including POLLHUP, POLLERR and POLLNVAL), as the selector does.
//
// On EINTR it calls checkSignals (if not nil): a non-nil error stops the wait
// and is returned (the bindings run PyErr_CheckSignals there); otherwise the
// wait resumes with the remaining time (PEP 475).
//
// CPython: Lib/socketserver.py:150 _ServerSelector
func PollReadable(fd int, timeout Timeout, checkSignals func() error) (bool, error) {
	return Poller{CheckSignals: checkSignals}.WaitReadable(fd, timeout)
}

// Poller is PollReadable's wait as a value, for a caller that chooses how
// it waits once, at construction.
//
// CPython: Lib/socketserver.py:150 _ServerSelector
type Poller struct {
	// CheckSignals is called on EINTR (see PollReadable); nil retries.
	CheckSignals func() error
	// NoNetpollWake skips waking an idle processor before the blocking
	// poll(2). The wake keeps Go's netpoller watched while this thread
	// blocks in a raw system call; a caller with no goroutine waiting on
	// the netpoller (a binding that runs the loop on a foreign thread) sets
	// it, and then pays no goroutine start and no scheduler wake-up per
	// wait (measured: 10,000 sequential connections to a synchronous server
	// took 14.6 s with the wake and 1.4 s without).
	NoNetpollWake bool
}

// WaitReadable waits until fd is readable or timeout expires, as
// PollReadable does.
//
// CPython: Lib/socketserver.py:150 _ServerSelector
func (p Poller) WaitReadable(fd int, timeout Timeout) (bool, error) {
	checkSignals := p.CheckSignals
	if fd < 0 {
		return false, ErrBadFileno
	}
	var deadline time.Time
	d, set := timeout.Duration()
	if set {
		deadline = time.Now().Add(d)
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	// Already readable (a busy server): no blocking call at all.
	if n, err := unix.Poll(fds, 0); err == nil && n > 0 && fds[0].Revents != 0 {
		return true, nil
	}
	if set && d <= 0 {
		return false, nil
	}
	if !p.NoNetpollWake {
		kickNetpoller()
	}
	for {
		ms := -1
		if set {
			ms = pollMillis(d)
		}
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			if checkSignals != nil {
				if err := checkSignals(); err != nil {
					return false, err
				}
			}
			if set {
				d = time.Until(deadline)
			}
			continue
		}
		if err != nil {
			return false, &osError{op: "poll", err: err}
		}
		return n > 0 && fds[0].Revents != 0, nil
	}
}

// pollMillis rounds a duration up to whole milliseconds, as CPython's
// PollSelector does (math.ceil), never below 0.
func pollMillis(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > 1<<31-1 {
		ms = 1<<31 - 1
	}
	return int(ms)
}

// kickNetpoller starts a trivial goroutine before the calling thread blocks
// in poll(2). Creating a goroutine makes the scheduler wake an idle
// processor, which then waits in the netpoller. Without it, a thread
// blocked in a raw system call can leave nobody watching the netpoller
// until the runtime's monitor notices (measured: ~1.5 ms before a goroutine
// whose socket became ready was woken).
func kickNetpoller() { go func() {}() }
