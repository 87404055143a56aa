//go:build unix

package server

import (
	"time"

	"golang.org/x/sys/unix"
)

// WaitReadable waits until fd is readable or timeout expires, as
// PollReadable does.
//
// CPython: Lib/socketserver.py:150 _ServerSelector
func (p Poller) WaitReadable(fd int, timeout Timeout) (bool, error) {
	checkSignals := p.CheckSignals
	if fd < 0 {
		return false, ErrBadFileno
	}
	d, set := timeout.Duration()
	deadline, _ := timeout.deadline()
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
