package server

import (
	"time"
)

// SignalWaiter is a readiness wait for an embedder whose runtime delivers
// signals away from the thread that serves, for instance through a
// pending-call queue drained by its interpreter loop: install its
// WaitReadable as BaseServer.WaitReadable, and the wait
//
//   - is cut into slices of at most Interval and calls CheckSignals after
//     every slice that ends without a request (and after EINTR), so a
//     pending signal handler runs within Interval even if nobody wakes the
//     wait;
//   - ends its current slice at once when another goroutine calls Wake
//     (the runtime's signal path does, after queueing the handler), and
//     calls CheckSignals then.
//
// A non-nil error from CheckSignals (the handler raised KeyboardInterrupt,
// say) ends the wait and is returned, so it ends ServeForever or
// HandleRequest as CPython's select ends serve_forever with the handler's
// exception; nil resumes the wait for the remaining time (PEP 475). A wake
// that arrives while no wait runs makes the next wait's first slice end at
// once.
//
// It waits with poll(2) on Self.Fileno() and a wake pipe on Unix, on the
// calling thread; on Windows, with select in slices of at most 5 ms, so a
// Wake is seen within 5 ms there. The pipe is the one descriptor it adds
// (A9 holds for servers that do not use it); Close releases it.
//
//	w, err := server.NewSignalWaiter(interp.CheckSignals, 50*time.Millisecond)
//	s.WaitReadable = w.WaitReadable
//	interp.OnSignal(func() { w.Wake() }) // the runtime's signal delivery
//
// CPython: Lib/socketserver.py:236 BaseServer.serve_forever (selector.select, PEP 475)
type SignalWaiter struct {
	// CheckSignals runs pending signal handlers (PyErr_CheckSignals); nil
	// checks nothing.
	CheckSignals func() error
	// Interval bounds each slice of the wait; zero or negative means no
	// slicing (only a Wake or EINTR ends a slice early).
	Interval time.Duration

	w *waker
}

// NewSignalWaiter returns a SignalWaiter calling checkSignals at least once
// per interval of waiting and whenever Wake is called.
//
// CPython: Lib/socketserver.py:236 BaseServer.serve_forever (selector.select, PEP 475)
func NewSignalWaiter(checkSignals func() error, interval time.Duration) (*SignalWaiter, error) {
	w, err := newWaker()
	if err != nil {
		return nil, err
	}
	return &SignalWaiter{CheckSignals: checkSignals, Interval: interval, w: w}, nil
}

// Wake ends the current slice of the wait at once (or the first slice of
// the next wait), from any goroutine; it never blocks.
//
// CPython: none (Go addition: the signal wake-up fd's role)
func (sw *SignalWaiter) Wake() { sw.w.wake() }

// Close releases the wake pipe. The SignalWaiter must not be used after.
//
// CPython: none (Go addition)
func (sw *SignalWaiter) Close() error { return sw.w.close() }

// WaitReadable waits until fd is readable or timeout expires (None:
// forever), in slices, as the type's doc says. It has
// BaseServer.WaitReadable's signature.
//
// CPython: Lib/socketserver.py:236 BaseServer.serve_forever (selector.select, PEP 475)
func (sw *SignalWaiter) WaitReadable(fd int, timeout Timeout) (bool, error) {
	if fd < 0 {
		return false, ErrBadFileno
	}
	deadline, set := timeout.deadline()
	for {
		slice := None
		if sw.Interval > 0 {
			slice = After(sw.Interval)
		}
		if set {
			if rem := time.Until(deadline); slice.IsNone() || rem < sw.Interval {
				slice = After(max(rem, 0))
			}
		}
		ready, err := sw.w.wait(fd, slice)
		if err != nil || ready {
			return ready, err
		}
		if sw.CheckSignals != nil {
			if err := sw.CheckSignals(); err != nil {
				return false, err
			}
		}
		if set && !time.Now().Before(deadline) {
			return false, nil
		}
	}
}
