package server

import (
	"sync/atomic"
	"time"
)

// connTimeout is a connection's timeout as socket.settimeout keeps it:
// -1 for None (blocking), else nanoseconds (0: non-blocking). The native
// connections of every platform hold one; Load >= 0 means a timeout is set.
//
// CPython: Modules/socketmodule.c sock_settimeout
type connTimeout struct{ atomic.Int64 }

// get returns the timeout (None for -1).
func (t *connTimeout) get() Timeout {
	d := t.Load()
	if d < 0 {
		return None
	}
	return After(time.Duration(d))
}

// set stores to, a negative duration counting as 0, as settimeout(0) does.
func (t *connTimeout) set(to Timeout) {
	d, ok := to.Duration()
	if !ok {
		t.Store(-1)
		return
	}
	t.Store(int64(max(d, 0)))
}
