package threading

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// ExceptHook receives an error that escaped a worker: a BaseException from
// the handler, or an error from HandleError or ShutdownRequest (CPython:
// threading.excepthook). The default prints to os.Stderr.
//
// CPython: Lib/socketserver.py:690 ThreadingMixIn.process_request_thread (threading.excepthook)
var ExceptHook = func(err error) { ExceptHookTo(os.Stderr, err) }

// ExceptHookTo writes the default excepthook report of err to w.
//
// CPython: Lib/socketserver.py:690 ThreadingMixIn.process_request_thread (threading.excepthook)
func ExceptHookTo(w io.Writer, err error) {
	fmt.Fprintf(w, "Exception in thread socketserver worker:\n%s", server.FormatError(err))
}

// Mixin is CPython's ThreadingMixIn: each request is handled on a new
// goroutine. The concrete servers of this package embed it next to a server
// kind and route ProcessRequest and ServerClose through it.
//
// CPython: Lib/socketserver.py:678 ThreadingMixIn
type Mixin struct {
	// DaemonThreads marks workers as daemon: they are not tracked, so
	// ServerClose does not wait for them (G1, F2). Go does not wait for
	// goroutines at exit either way; the bindings use it for Python threads.
	DaemonThreads bool
	// BlockOnClose makes ServerClose wait for the tracked workers (G2).
	// The constructors set it to true, CPython's default.
	BlockOnClose bool
	// ExceptHook, if set, replaces the package ExceptHook for this server:
	// it receives every error that escapes a worker (CPython's
	// threading.excepthook). It is read at each use.
	ExceptHook func(err error)
	// Spawn, if set, starts each worker in place of a goroutine: it must
	// arrange for run to be called exactly once, on any goroutine or
	// thread (an embedder's own thread, with its thread state), and may
	// return before run does. An error means no worker was started (CPython:
	// Thread.start raising "can't start new thread"): ProcessRequest
	// returns it, so it goes to HandleError and the request is shut down,
	// and run is never called. Nil means a goroutine (one that has just
	// finished another request's worker, if one is idle: see workers.go).
	// It is read at each request.
	Spawn func(run func()) error

	mu      sync.Mutex
	threads map[*worker]struct{} // nil until the first tracked request (G3)
	active  int                  // every running worker, for Drain
	idle    chan struct{}
}

// worker is one request's worker: what it runs, and, when it is tracked,
// its done channel, made by join (under mu) only for a worker it waits
// for and closed when the worker finishes, so a worker nobody joins costs
// no channel.
type worker struct {
	m       *Mixin
	srv     server.Server
	req     server.Request
	addr    net.Addr
	tracked bool
	done    chan struct{}
}

// run is the worker's body: srv's ProcessRequestThread (or the Mixin's),
// its escaped error to the excepthook, then the bookkeeping.
func (w *worker) run() {
	m := w.m
	defer m.workerDone(w)
	var err error
	if o, ok := w.srv.(RequestThreader); ok {
		err = server.Recover("ProcessRequestThread", func() error {
			return o.ProcessRequestThread(w.req, w.addr)
		})
	} else {
		err = m.ProcessRequestThread(w.srv, w.req, w.addr)
	}
	if err != nil {
		m.exceptHook(err)
	}
}

// NewMixin returns a Mixin with CPython's defaults (BlockOnClose true).
//
// CPython: Lib/socketserver.py:678 ThreadingMixIn
func NewMixin() Mixin { return Mixin{BlockOnClose: true} }

// ProcessRequest starts a worker running ProcessRequestThread (G5), srv's
// own if it overrides it (RequestThreader): a goroutine, or whatever Spawn
// starts. When BlockOnClose is set the worker is tracked (unless
// DaemonThreads) so that ServerClose can wait for it; finished workers are
// removed, so tracking never grows beyond the running workers (F2, F5:
// bpo-37193). BlockOnClose and DaemonThreads are read at each request,
// through srv's "block_on_close" and "daemon_threads" settings first
// (server.Configurer), as CPython reads self.block_on_close and
// self.daemon_threads in process_request.
//
// CPython: Lib/socketserver.py:703 ThreadingMixIn.process_request
func (m *Mixin) ProcessRequest(srv server.Server, req server.Request, clientAddress net.Addr) error {
	if srv == nil {
		return server.ErrNoSelf // a server whose Init never ran
	}
	blockOnClose := server.SettingBool(srv, "block_on_close", m.BlockOnClose)
	daemon := server.SettingBool(srv, "daemon_threads", m.DaemonThreads)
	w := &worker{m: m, srv: srv, req: req, addr: clientAddress}
	m.mu.Lock()
	if blockOnClose && m.threads == nil {
		m.threads = make(map[*worker]struct{})
	}
	w.tracked = m.threads != nil && !daemon
	if w.tracked {
		m.threads[w] = struct{}{}
	}
	m.active++
	m.mu.Unlock()
	spawn := m.Spawn
	if spawn == nil {
		goWorker(w)
		return nil
	}
	run := w.run
	// claimed makes run happen at most once, and never after a failed
	// Spawn has given the worker up.
	var claimed atomic.Bool
	once := func() {
		if claimed.CompareAndSwap(false, true) {
			run()
		}
	}
	if err := server.Recover("Spawn", func() error { return spawn(once) }); err != nil {
		if claimed.CompareAndSwap(false, true) {
			m.workerDone(w) // the thread never started (not joined)
		}
		return err
	}
	return nil
}

// RequestThreader is a server that overrides CPython's
// process_request_thread. ProcessRequest's worker runs the outermost
// value's ProcessRequestThread when it is one, as CPython's process_request
// targets self.process_request_thread, and Mixin.ProcessRequestThread
// otherwise. A type embedding a threading server overrides it by defining
// ProcessRequestThread(req, clientAddress) and calls
// s.Mixin.ProcessRequestThread(s, req, clientAddress) as super(). What it
// returns (or a panic in it) goes to the excepthook.
//
// CPython: Lib/socketserver.py:690 ThreadingMixIn.process_request_thread
type RequestThreader interface {
	ProcessRequestThread(req server.Request, clientAddress net.Addr) error
}

// exceptHook calls the excepthook (Mixin.ExceptHook, else the package's)
// with an error that escaped a worker. A panic in the excepthook is
// reported on os.Stderr by ExceptHookTo, as CPython reports an exception in
// threading.excepthook with sys.excepthook, and the worker ends normally.
//
// CPython: Lib/socketserver.py:690 ThreadingMixIn.process_request_thread (threading.excepthook)
func (m *Mixin) exceptHook(err error) {
	hook := m.ExceptHook
	if hook == nil {
		hook = ExceptHook
	}
	if perr := server.Recover("ExceptHook", func() error { hook(err); return nil }); perr != nil {
		ExceptHookTo(os.Stderr, perr)
	}
}

func (m *Mixin) workerDone(w *worker) {
	m.mu.Lock()
	if w.tracked {
		delete(m.threads, w)
	}
	done := w.done // made by a join waiting for w, if any
	m.active--
	if m.active == 0 && m.idle != nil {
		close(m.idle)
		m.idle = nil
	}
	m.mu.Unlock()
	if done != nil {
		close(done)
	}
}

// ProcessRequestThread runs FinishRequest, sends an Exception (including a
// recovered panic, a *server.PanicError) to HandleError, and always ends
// with ShutdownRequest (G4). It returns what escapes the thread: a
// BaseException, or an error or a *server.PanicError from HandleError or
// ShutdownRequest (the latter wins, as an exception raised in a finally
// clause does). No panic escapes it.
//
// CPython: Lib/socketserver.py:690 ThreadingMixIn.process_request_thread
func (m *Mixin) ProcessRequestThread(srv server.Server, req server.Request, clientAddress net.Addr) (err error) {
	defer func() {
		if serr := server.Recover("ShutdownRequest", func() error { return srv.ShutdownRequest(req) }); serr != nil {
			err = serr
		}
	}()
	ferr := server.Recover("FinishRequest", func() error { return srv.FinishRequest(req, clientAddress) })
	if ferr == nil {
		return nil
	}
	if server.IsBaseException(ferr) {
		return ferr
	}
	return server.Recover("HandleError", func() error { return srv.HandleError(req, clientAddress, ferr) })
}

// ServerClose calls super (the socket kind's ServerClose) first, then waits
// for the tracked workers (G6, J3).
//
// CPython: Lib/socketserver.py:713 ThreadingMixIn.server_close
func (m *Mixin) ServerClose(super func() error) error {
	err := super()
	m.join()
	return err
}

// join pops every tracked worker and waits for each (F3, F4).
func (m *Mixin) join() {
	m.mu.Lock()
	var dones []chan struct{}
	for w := range m.threads {
		if w.done == nil {
			w.done = make(chan struct{})
		}
		dones = append(dones, w.done)
	}
	if m.threads != nil {
		m.threads = make(map[*worker]struct{})
	}
	m.mu.Unlock()
	for _, done := range dones {
		<-done
	}
}

// NumThreads returns the number of tracked running workers (Python's
// len(server._threads)) and whether tracking has started (false: CPython's
// class-level _NoThreads, G3).
//
// CPython: Lib/socketserver.py:688 ThreadingMixIn._threads
func (m *Mixin) NumThreads() (n int, tracked bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.threads), m.threads != nil
}

// Drain waits until every worker, daemon or not, has finished, or ctx ends
// (server.Drainer, used by ShutdownContext).
//
// CPython: none (Go addition)
func (m *Mixin) Drain(ctx context.Context) error {
	for {
		m.mu.Lock()
		if m.active == 0 {
			m.mu.Unlock()
			return nil
		}
		if m.idle == nil {
			m.idle = make(chan struct{})
		}
		ch := m.idle
		m.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
