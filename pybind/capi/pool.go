package main

/*
#include <stdlib.h>
#include "gss_pool.h"
*/
import "C"

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The worker pools of ThreadingMixIn servers are C (gss_pool.h), shared
// with the glue: the Python layer gives a pool its job objects there, and
// workers wait there without entering Go (see gss_pool.h for why).
//
// Workers are real Python threads, not goroutines: a goroutine's OS thread
// running Python has no lasting thread state (PyGILState_Ensure makes and
// drops one per call), is not a threading.Thread for excepthook and
// current_thread(), and is killed with pthread_exit if it touches the GIL
// while the interpreter finalizes, which Go does not survive.
//
// What the Go loop adds is the raw request: when the class keeps CPython's
// get_request, verify_request and ThreadingMixIn.process_request, the loop
// offers the accepted descriptor or the datagram, received without the
// GIL, to an idle worker, which builds the Python request, registers it in
// the server's _threads and reports it adopted. The serving call does not
// return before every request it offered is adopted (settle), so the
// server object it borrowed stays alive, and a server_close() after
// serve_forever() returns joins every request.

// rawJob describes an accepted connection (fd >= 0) or a datagram (data
// in C memory, which the worker frees) for the server py. It fills the
// server's one job (the loop handles one request at a time, and an offer
// copies the job), so that serving allocates nothing in Go per request.
func (s *pyServer) rawJob(fd int, data unsafe.Pointer, n int, rsa *unix.RawSockaddrAny, salen uint32) *C.gss_job {
	if s.job == nil {
		// Its own allocation: cgo lets C see it only if it holds no Go
		// pointer, which the server does.
		s.job = new(C.gss_job)
	}
	j := s.job
	*j = C.gss_job{server: s.py, sock: s.sock, fd: C.int(fd), family: C.int(s.family),
		sotype: C.int(s.sotype), proto: C.int(s.proto), data: data, n: C.int(n)}
	salen = min(salen, uint32(unsafe.Sizeof(*rsa)), uint32(len(j.sa)))
	j.salen = C.int(salen)
	src := unsafe.Slice((*byte)(unsafe.Pointer(rsa)), salen)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&j.sa[0])), salen), src)
	return j
}

// freeJob gives back what a raw job holds when it will not be made into
// Python objects: the descriptor and the datagram buffer.
func freeJob(j *C.gss_job) {
	if j.fd >= 0 {
		_ = unix.Close(int(j.fd))
		j.fd = -1
	}
	if j.data != nil {
		C.free(j.data)
		j.data = nil
	}
}

// offer gives a raw job to an idle worker; false if none is idle.
func (s *pyServer) offer(j *C.gss_job) bool {
	return s.pool != nil && C.gss_pool_offer(s.pool, j) != 0
}

// settle returns once the workers have adopted every raw request this
// call offered: until then they use the borrowed server object.
func (s *pyServer) settle() {
	if s.pool != nil {
		C.gss_pool_settle(s.pool)
	}
}
