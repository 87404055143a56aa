package main

/*
#include "gss_calls.h"
*/
import "C"

import (
	"runtime/cgo"
	"sync"
	"time"
)

// pool hands request jobs from the serving thread to idle Python worker
// threads of a ThreadingMixIn server.
//
// Workers are real Python threads, not goroutines: a goroutine's OS thread
// running Python has no lasting thread state (PyGILState_Ensure makes and
// drops one per call), is not a threading.Thread for excepthook and
// current_thread(), and is killed with pthread_exit if it touches the GIL
// while the interpreter finalizes, which Go does not survive. So Go keeps
// the hand-off and the lifecycle (who is idle, when to start a thread,
// closing), and Python threads run the handlers.
//
// The hand-off is an unbuffered channel: Submit succeeds only when a worker
// is already waiting in Next, so a request never queues behind a busy one;
// otherwise the caller starts a new worker with the job.
type pool struct {
	jobs      chan C.gss_obj
	closed    chan struct{}
	closeOnce sync.Once
}

//export GSSPoolNew
func GSSPoolNew() C.longlong {
	p := &pool{jobs: make(chan C.gss_obj), closed: make(chan struct{})}
	livePools.Add(1)
	return C.longlong(cgo.NewHandle(p))
}

// GSSPoolFree releases the handle once no worker can use it any more.
//
//export GSSPoolFree
func GSSPoolFree(h C.longlong) {
	GSSPoolClose(h)
	cgo.Handle(h).Delete()
	livePools.Add(-1)
}

func poolOf(h C.longlong) *pool { return cgo.Handle(h).Value().(*pool) }

// GSSPoolSubmit gives job to an idle worker; 0 if none is idle or the pool
// is closed (the job then stays with the caller).
//
//export GSSPoolSubmit
func GSSPoolSubmit(h C.longlong, job C.gss_obj) C.int {
	p := poolOf(h)
	select {
	case <-p.closed:
		return 0
	default:
	}
	select {
	case p.jobs <- job:
		return 1
	default:
		return 0
	}
}

// GSSPoolNext waits up to idle seconds for a job; 0 when the pool closes or
// the wait times out (the worker thread then ends).
//
//export GSSPoolNext
func GSSPoolNext(h C.longlong, idle C.double) C.gss_obj {
	p := poolOf(h)
	t := time.NewTimer(time.Duration(float64(idle) * float64(time.Second)))
	defer t.Stop()
	select {
	case job := <-p.jobs:
		return job
	case <-p.closed:
		return 0
	case <-t.C:
		return 0
	}
}

// GSSPoolClose wakes every idle worker (they return 0 from Next) and makes
// Submit refuse; the handle stays valid for workers still finishing a job.
//
//export GSSPoolClose
func GSSPoolClose(h C.longlong) {
	p := poolOf(h)
	p.closeOnce.Do(func() { close(p.closed) })
}
