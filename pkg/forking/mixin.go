//go:build unix

package forking

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// DefaultTimeout is the forking servers' BaseServer.Timeout: HandleRequest
// waits at most 300 s, then HandleTimeout collects children (E1).
//
// CPython: Lib/socketserver.py:560 ForkingMixIn.timeout
const DefaultTimeout = 300 * time.Second

// DefaultMaxChildren is ForkingMixIn.max_children (E3).
//
// CPython: Lib/socketserver.py:562 ForkingMixIn.max_children
const DefaultMaxChildren = 40

// ForkFunc is the injected fork primitive. It starts a child process that
// handles (req, clientAddress) for srv, runs ChildProcess (or an equivalent
// in the embedding runtime) and exits with its status, and returns the
// child's pid in the parent. The parent never runs the handler.
//
// The default, ReExec, re-executes the current program. gopy passes its
// runtime's os.fork; the bindings fork in C and run the child in Python.
//
// CPython: Lib/socketserver.py:617 ForkingMixIn.process_request (os.fork)
type ForkFunc func(srv server.Server, req server.Request, clientAddress net.Addr) (pid int, err error)

// WaitFunc is waitpid(2): it returns the reaped pid (0 for a running child
// with WNOHANG) and its status. Errors are errnos (ECHILD: no such child).
//
// CPython: Lib/socketserver.py:579 ForkingMixIn.collect_children (os.waitpid)
type WaitFunc func(pid, options int) (wpid int, status syscall.WaitStatus, err error)

// Wait4 is the default WaitFunc: wait4(2), retried on EINTR (PEP 475).
//
// CPython: Lib/socketserver.py:579 ForkingMixIn.collect_children (os.waitpid)
func Wait4(pid, options int) (int, syscall.WaitStatus, error) {
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(pid, &ws, options, nil)
		if err == unix.EINTR {
			continue
		}
		return wpid, syscall.WaitStatus(ws), err
	}
}

// Mixin is CPython's ForkingMixIn: each request is handled in a child
// process. The package's concrete servers embed it next to a server kind.
//
// CPython: Lib/socketserver.py:557 ForkingMixIn
type Mixin struct {
	// MaxChildren bounds the live children; at the limit CollectChildren
	// blocks in waitpid(-1) (E3, E5).
	MaxChildren int
	// BlockOnClose makes ServerClose wait for every child (E4, E9).
	BlockOnClose bool
	// Fork starts a child; nil means ReExec.
	Fork ForkFunc
	// Wait is waitpid; nil means Wait4.
	Wait WaitFunc

	mu       sync.Mutex
	children map[int]struct{} // nil: CPython's active_children = None (E2)
	// self is the outermost value last seen (ProcessRequest, collect), for
	// CollectChildren's "max_children" setting (server.Configurer).
	self server.Server
}

// setSelf records srv, the outermost value, for the settings read by
// CollectChildren.
func (m *Mixin) setSelf(srv server.Server) {
	if srv == nil {
		return
	}
	m.mu.Lock()
	m.self = srv
	m.mu.Unlock()
}

// maxChildren is MaxChildren, or the outermost value's "max_children"
// setting, read at each use as CPython reads self.max_children.
func (m *Mixin) maxChildren() int {
	m.mu.Lock()
	self := m.self
	m.mu.Unlock()
	return server.SettingInt(self, "max_children", m.MaxChildren)
}

// NewMixin returns a Mixin with CPython's defaults: MaxChildren 40,
// BlockOnClose true.
//
// CPython: Lib/socketserver.py:557 ForkingMixIn
func NewMixin() Mixin { return Mixin{MaxChildren: DefaultMaxChildren, BlockOnClose: true} }

func (m *Mixin) wait(pid, options int) (int, error) {
	w := m.Wait
	if w == nil {
		w = Wait4
	}
	wpid, _, err := w(pid, options)
	return wpid, err
}

// ActiveChildren returns the pids of the children not yet reaped, or nil
// before the first fork (CPython: active_children, None until then; E2).
//
// CPython: Lib/socketserver.py:561 ForkingMixIn.active_children
func (m *Mixin) ActiveChildren() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.children == nil {
		return nil
	}
	pids := make([]int, 0, len(m.children))
	for pid := range m.children {
		pids = append(pids, pid)
	}
	return pids
}

func (m *Mixin) count() (int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.children), m.children != nil
}

func (m *Mixin) discard(pid int) {
	m.mu.Lock()
	delete(m.children, pid)
	m.mu.Unlock()
}

// CollectChildren reaps exited children (E5). Phase 1: while at least
// MaxChildren (or the outermost value's "max_children" setting, see
// server.Configurer, read at each call) are alive it blocks in waitpid(-1, 0), which may reap any
// child of the process; ECHILD clears the set, another error ends the phase.
// Phase 2: it waits for each known child, with WNOHANG unless blocking;
// ECHILD drops that pid, other errors are ignored.
//
// CPython: Lib/socketserver.py:566 ForkingMixIn.collect_children
func (m *Mixin) CollectChildren(blocking bool) {
	n, ok := m.count()
	if !ok {
		return
	}
	for n >= m.maxChildren() {
		pid, err := m.wait(-1, 0)
		if errors.Is(err, unix.ECHILD) {
			m.mu.Lock()
			clear(m.children)
			m.mu.Unlock()
		} else if err != nil {
			break
		} else {
			m.discard(pid)
		}
		n, _ = m.count()
	}
	flags := unix.WNOHANG
	if blocking {
		flags = 0
	}
	for _, pid := range m.ActiveChildren() {
		wpid, err := m.wait(pid, flags)
		switch {
		case errors.Is(err, unix.ECHILD):
			m.discard(pid)
		case err != nil:
		default:
			m.discard(wpid)
		}
	}
}

// ChildCollector is a server with CPython's collect_children hook. Every
// server of this package is one (Mixin.CollectChildren, promoted); a type
// embedding one overrides it by defining CollectChildren, and calls
// s.Mixin.CollectChildren as super().
//
// CPython: Lib/socketserver.py:566 ForkingMixIn.collect_children
type ChildCollector interface {
	CollectChildren(blocking bool)
}

// collect calls collect_children on srv, the outermost value, so that an
// override runs (CPython calls self.collect_children); without one (srv
// nil or not a ChildCollector), m.CollectChildren.
func (m *Mixin) collect(srv server.Server, blocking bool) {
	m.setSelf(srv)
	if c, ok := srv.(ChildCollector); ok {
		c.CollectChildren(blocking)
		return
	}
	m.CollectChildren(blocking)
}

// HandleTimeout collects children through srv, the outermost value (E6).
//
// CPython: Lib/socketserver.py:601 ForkingMixIn.handle_timeout
func (m *Mixin) HandleTimeout(srv server.Server) error { m.collect(srv, false); return nil }

// ServiceActions collects children through srv, the outermost value, on
// every loop iteration (E7).
//
// CPython: Lib/socketserver.py:608 ForkingMixIn.service_actions
func (m *Mixin) ServiceActions(srv server.Server) error { m.collect(srv, false); return nil }

// ProcessRequest forks a child for the request (E8). In the parent it
// records the pid and closes the parent's copy of the request with
// srv.CloseRequest (a no-op for datagrams). A fork error, or a panic in the
// fork primitive (a *server.PanicError, Hook "Fork"), is returned (and so
// reaches HandleError).
//
// CPython: Lib/socketserver.py:615 ForkingMixIn.process_request
func (m *Mixin) ProcessRequest(srv server.Server, req server.Request, clientAddress net.Addr) error {
	if srv == nil {
		return server.ErrNoSelf // a server whose Init never ran
	}
	m.setSelf(srv)
	fork := m.Fork
	if fork == nil {
		fork = ReExec
	}
	var pid int
	err := server.Recover("Fork", func() (err error) {
		pid, err = fork(srv, req, clientAddress)
		return err
	})
	if err != nil {
		return err
	}
	m.mu.Lock()
	if m.children == nil {
		m.children = make(map[int]struct{})
	}
	m.children[pid] = struct{}{}
	m.mu.Unlock()
	return srv.CloseRequest(req)
}

// ChildProcess is the child's side of ProcessRequest (E8), for fork
// primitives whose child runs Go: it runs FinishRequest (status 0 on
// success); an Exception (or panic) goes to HandleError and leaves status 1;
// a BaseException is swallowed with status 1; ShutdownRequest always runs
// last. An error or panic in HandleError or ShutdownRequest changes nothing:
// CPython's child leaves through os._exit(status) in a finally clause, which
// discards it. No panic escapes. It returns the exit status; the caller exits with it and never
// returns to the serve loop.
//
// CPython: Lib/socketserver.py:615 ForkingMixIn.process_request (the child branch)
func ChildProcess(srv server.Server, req server.Request, clientAddress net.Addr) int {
	status := 1
	err := server.Recover("FinishRequest", func() error { return srv.FinishRequest(req, clientAddress) })
	if err == nil {
		status = 0
	} else if !server.IsBaseException(err) {
		server.Recover("HandleError", func() error { return srv.HandleError(req, clientAddress, err) })
	}
	server.Recover("ShutdownRequest", func() error { return srv.ShutdownRequest(req) })
	return status
}

// ServerClose calls super (closing the socket) and then collects children
// through srv, the outermost value, blocking when BlockOnClose (E9, J3).
//
// CPython: Lib/socketserver.py:640 ForkingMixIn.server_close
func (m *Mixin) ServerClose(srv server.Server, super func() error) error {
	err := super()
	m.collect(srv, server.SettingBool(srv, "block_on_close", m.BlockOnClose))
	return err
}

// Drain waits until every child has been reaped, or ctx ends
// (server.Drainer, for ShutdownContext).
//
// CPython: none (Go addition)
func (m *Mixin) Drain(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		m.CollectChildren(false)
		if n, _ := m.count(); n == 0 {
			return nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
