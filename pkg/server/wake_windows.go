package server

import (
	"sync/atomic"
	"time"
)

// wakeSlice bounds each select on Windows, where a pipe cannot be
// selected: a wake is seen at the end of the current slice.
const wakeSlice = 5 * time.Millisecond

type waker struct{ woken atomic.Bool }

func newWaker() (*waker, error) { return &waker{}, nil }

func (k *waker) wake() { k.woken.Store(true) }

func (k *waker) close() error { return nil }

// wait selects on fd in sub-slices of wakeSlice until fd is readable, the
// slice (None: no limit) ends or a wake is seen.
func (k *waker) wait(fd int, slice Timeout) (bool, error) {
	deadline, set := slice.deadline()
	for {
		step := wakeSlice
		if set {
			step = min(step, max(time.Until(deadline), 0))
		}
		ready, err := PollReadable(fd, After(step), nil)
		if err != nil || ready {
			return ready, err
		}
		if k.woken.Swap(false) || (set && !time.Now().Before(deadline)) {
			return false, nil
		}
	}
}
