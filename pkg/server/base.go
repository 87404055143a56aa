package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Handler handles one request. It is CPython's RequestHandlerClass: the
// server calls ServeRequest once per request from FinishRequest, as CPython
// instantiates the class (B13). Package handler turns per-request handler
// types (setup/handle/finish) into a Handler.
//
// CPython: Lib/socketserver.py:742 BaseRequestHandler
type Handler interface {
	ServeRequest(req Request, clientAddress net.Addr, srv Server) error
}

// HandlerFunc adapts a function to Handler.
//
// CPython: Lib/socketserver.py:206 BaseServer.__init__ (RequestHandlerClass)
type HandlerFunc func(req Request, clientAddress net.Addr, srv Server) error

// ServeRequest calls f.
//
// CPython: Lib/socketserver.py:362 BaseServer.finish_request
func (f HandlerFunc) ServeRequest(req Request, clientAddress net.Addr, srv Server) error {
	return f(req, clientAddress, srv)
}

// Server is the set of overridable hooks of a socket server, implemented by
// the outermost value (see the package doc). The serve loop and every hook
// that calls another hook call them through the outermost value given to
// Init (BaseServer.Self), so the most-derived implementation always runs.
//
// Every hook returns an error because a Python override may raise: an error
// is an Exception unless IsBaseException says otherwise.
//
// CPython: Lib/socketserver.py:155 BaseServer
type Server interface {
	// Base returns the embedded BaseServer (state and the Self pointer).
	Base() *BaseServer
	// CPython: Lib/socketserver.py:463 TCPServer.server_bind
	ServerBind() error
	// CPython: Lib/socketserver.py:210 BaseServer.server_activate
	ServerActivate() error
	// CPython: Lib/socketserver.py:352 BaseServer.server_close
	ServerClose() error
	// CPython: Lib/socketserver.py:497 TCPServer.fileno
	Fileno() int
	// CPython: Lib/socketserver.py:505 TCPServer.get_request
	GetRequest() (Request, net.Addr, error)
	// CPython: Lib/socketserver.py:335 BaseServer.verify_request
	VerifyRequest(req Request, clientAddress net.Addr) (bool, error)
	// CPython: Lib/socketserver.py:343 BaseServer.process_request
	ProcessRequest(req Request, clientAddress net.Addr) error
	// CPython: Lib/socketserver.py:360 BaseServer.finish_request
	FinishRequest(req Request, clientAddress net.Addr) error
	// CPython: Lib/socketserver.py:364 BaseServer.shutdown_request
	ShutdownRequest(req Request) error
	// CPython: Lib/socketserver.py:368 BaseServer.close_request
	CloseRequest(req Request) error
	// CPython: Lib/socketserver.py:372 BaseServer.handle_error
	HandleError(req Request, clientAddress net.Addr, err error) error
	// CPython: Lib/socketserver.py:328 BaseServer.handle_timeout
	HandleTimeout() error
	// CPython: Lib/socketserver.py:257 BaseServer.service_actions
	ServiceActions() error
}

// Drainer is implemented by servers that run requests concurrently
// (threading, forking); ShutdownContext calls Drain to wait for in-flight
// requests.
//
// CPython: none (Go addition)
type Drainer interface {
	Drain(ctx context.Context) error
}

// SocketHolder is implemented by servers that own a Socket; HandleRequest
// reads the socket's timeout through it (B7), and the readiness wait of
// ServeForever and HandleRequest uses the socket's WaitReadable when its
// Fileno is the server's (see BaseServer.WaitReadable). Those three are
// the methods the loop calls on it.
//
// CPython: Lib/socketserver.py:283 BaseServer.handle_request (self.socket)
type SocketHolder interface {
	ServerSocket() Socket
}

// BaseServer holds the state shared by every server and implements the loop
// (ServeForever, HandleRequest, Shutdown) and the base hooks.
//
// CPython: Lib/socketserver.py:155 BaseServer
type BaseServer struct {
	// ServerAddress is the address to bind; servers replace it with the
	// bound address (C7).
	ServerAddress net.Addr
	// RequestHandler handles each request (CPython: RequestHandlerClass).
	RequestHandler Handler
	// Timeout is used by HandleRequest only (B1); None by default. An
	// outermost value's "timeout" setting (Configurer) takes precedence,
	// read at each HandleRequest.
	Timeout Timeout
	// ErrorOutput receives HandleError's report; nil means os.Stderr,
	// looked up at each call (B16).
	ErrorOutput io.Writer
	// CheckSignals is called when the readiness wait is interrupted
	// (EINTR); a non-nil error stops the wait and propagates (the bindings
	// run PyErr_CheckSignals here). Nil: retry silently.
	CheckSignals func() error
	// WaitReadable replaces the readiness wait on Self.Fileno(); nil means
	// the server socket's Socket.WaitReadable when Self.Fileno() is its
	// descriptor (native: poll(2) on the calling thread), else PollReadable.
	WaitReadable func(fd int, timeout Timeout) (bool, error)

	// self is the outermost value, given to Init: every hook is called
	// through it (see Self).
	self Server

	shutdownRequest atomic.Bool
	isShutDown      event
	mu              sync.Mutex
	serving         int
}

// Init is CPython's BaseServer.__init__: it records self, the outermost
// value (the one whose hooks the loop calls; see the package doc), and sets
// the server address and handler. It opens nothing (B2).
//
// self must be the value being initialized, seen through its outermost
// type: its Base() must be s. Init panics with an error wrapping ErrNoSelf
// when self is nil or belongs to another server, so a missing or wrong
// outermost value is caught at construction.
//
// CPython: Lib/socketserver.py:203 BaseServer.__init__
func (s *BaseServer) Init(self Server, address net.Addr, h Handler) {
	if err := s.checkSelf(self); err != nil {
		panic(err)
	}
	s.self = self
	s.ServerAddress = address
	s.RequestHandler = h
}

// checkSelf returns an error wrapping ErrNoSelf unless self is an
// outermost value of s.
func (s *BaseServer) checkSelf(self Server) error {
	if self == nil {
		return fmt.Errorf("%w: Init needs the outermost value, as in s.Init(s, ...); got nil", ErrNoSelf)
	}
	if baseOf(self) != s {
		return fmt.Errorf("%w: the value given to Init (%T) is not the server being initialized (its Base() is another BaseServer)", ErrNoSelf, self)
	}
	return nil
}

// baseOf returns self.Base(), or nil if that panics (a nil pointer of an
// embedding type).
func baseOf(self Server) (b *BaseServer) {
	defer func() {
		if recover() != nil {
			b = nil
		}
	}()
	return self.Base()
}

// Self returns the outermost value given to Init (nil before Init).
// Policies that call hooks on the server's behalf (the mixins of packages
// threading and forking) pass it on, so that the most-derived hooks run.
//
// CPython: none (Python's self)
func (s *BaseServer) Self() Server { return s.self }

// Base returns s.
//
// CPython: none (Go addition)
func (s *BaseServer) Base() *BaseServer { return s }

// outer returns the outermost value, or an error wrapping ErrNoSelf when
// Init never ran.
func (s *BaseServer) outer() (Server, error) {
	if s.self == nil {
		return nil, errNoInit
	}
	return s.self, nil
}

// outerChecked is outer for the loop's entry points: it also rejects an
// outermost value whose Base() is not s (a server value copied after
// Init), so that the loop never runs another server's hooks.
func (s *BaseServer) outerChecked() (Server, error) {
	self, err := s.outer()
	if err != nil {
		return nil, err
	}
	if baseOf(self) != s {
		return nil, fmt.Errorf("%w: the outermost value (%T) belongs to another server (was the server copied after Init?)", ErrNoSelf, self)
	}
	return self, nil
}

// ServerBind is not defined by CPython's BaseServer; it returns
// ErrNotImplemented.
//
// CPython: Lib/socketserver.py:463 TCPServer.server_bind
func (s *BaseServer) ServerBind() error { return ErrNotImplemented }

// ServerActivate does nothing (B3).
//
// CPython: Lib/socketserver.py:210 BaseServer.server_activate
func (s *BaseServer) ServerActivate() error { return nil }

// ServerClose does nothing (B12).
//
// CPython: Lib/socketserver.py:352 BaseServer.server_close
func (s *BaseServer) ServerClose() error { return nil }

// Fileno is not defined by CPython's BaseServer; it returns -1.
//
// CPython: Lib/socketserver.py:497 TCPServer.fileno
func (s *BaseServer) Fileno() int { return -1 }

// GetRequest is not defined by CPython's BaseServer; it returns
// ErrNotImplemented.
//
// CPython: Lib/socketserver.py:505 TCPServer.get_request
func (s *BaseServer) GetRequest() (Request, net.Addr, error) {
	return nil, nil, ErrNotImplemented
}

// VerifyRequest accepts every request (B10).
//
// CPython: Lib/socketserver.py:335 BaseServer.verify_request
func (s *BaseServer) VerifyRequest(req Request, clientAddress net.Addr) (bool, error) {
	return true, nil
}

// ProcessRequest calls FinishRequest then ShutdownRequest, without a
// "finally": a failing handler reaches ShutdownRequest through the error
// path of the loop (B11). A panic in either is returned as a *PanicError
// naming it.
//
// CPython: Lib/socketserver.py:343 BaseServer.process_request
func (s *BaseServer) ProcessRequest(req Request, clientAddress net.Addr) error {
	self, err := s.outer()
	if err != nil {
		return err
	}
	if err := Recover("FinishRequest", func() error { return self.FinishRequest(req, clientAddress) }); err != nil {
		return err
	}
	return Recover("ShutdownRequest", func() error { return self.ShutdownRequest(req) })
}

// FinishRequest runs RequestHandler for the request (B13). A panic in the
// handler is recovered as a *PanicError (Hook "ServeRequest").
//
// CPython: Lib/socketserver.py:360 BaseServer.finish_request
func (s *BaseServer) FinishRequest(req Request, clientAddress net.Addr) error {
	self, err := s.outer()
	if err != nil {
		return err
	}
	h := s.RequestHandler
	if h == nil {
		return fmt.Errorf("socketserver: no RequestHandler")
	}
	return Recover("ServeRequest", func() error { return h.ServeRequest(req, clientAddress, self) })
}

// ShutdownRequest calls CloseRequest (B14).
//
// CPython: Lib/socketserver.py:364 BaseServer.shutdown_request
func (s *BaseServer) ShutdownRequest(req Request) error {
	self, err := s.outer()
	if err != nil {
		return err
	}
	return self.CloseRequest(req)
}

// CloseRequest does nothing (B15).
//
// CPython: Lib/socketserver.py:368 BaseServer.close_request
func (s *BaseServer) CloseRequest(req Request) error { return nil }

// HandleTimeout does nothing (B9).
//
// CPython: Lib/socketserver.py:328 BaseServer.handle_timeout
func (s *BaseServer) HandleTimeout() error { return nil }

// ServiceActions does nothing (B6).
//
// CPython: Lib/socketserver.py:257 BaseServer.service_actions
func (s *BaseServer) ServiceActions() error { return nil }

// HandleError writes CPython's report to ErrorOutput (os.Stderr when nil):
// 40 dashes, "Exception occurred during processing of request from
// <address>", the error (and, for a panic, its stack), 40 dashes (B16).
//
// CPython: Lib/socketserver.py:372 BaseServer.handle_error
func (s *BaseServer) HandleError(req Request, clientAddress net.Addr, err error) error {
	w := s.ErrorOutput
	if w == nil {
		w = os.Stderr
	}
	var b strings.Builder
	b.WriteString(strings.Repeat("-", 40) + "\n")
	b.WriteString("Exception occurred during processing of request from " + FormatAddress(clientAddress) + "\n")
	b.WriteString(FormatError(err))
	b.WriteString(strings.Repeat("-", 40) + "\n")
	_, werr := io.WriteString(w, b.String())
	return werr
}

// FormatError renders err as HandleError prints it (the traceback's place):
// the error text, and a panic's stack, ending in a newline.
//
// CPython: Lib/socketserver.py:372 BaseServer.handle_error
func FormatError(err error) string {
	if err == nil {
		return "NoneType: None\n"
	}
	var b strings.Builder
	if pe, ok := err.(*PanicError); ok {
		b.WriteString("Traceback (most recent call last):\n")
		b.Write(pe.Stack)
		if len(pe.Stack) > 0 && pe.Stack[len(pe.Stack)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	b.WriteString(err.Error())
	b.WriteByte('\n')
	return b.String()
}

// Close calls Self.ServerClose, as CPython's __exit__ does (B17); a panic
// in it is returned as a *PanicError.
//
// CPython: Lib/socketserver.py:388 BaseServer.__exit__
func (s *BaseServer) Close() error {
	self, err := s.outer()
	if err != nil {
		return err
	}
	return Recover("ServerClose", func() error { return self.ServerClose() })
}

// waiter is the readiness wait of one ServeForever or HandleRequest call,
// chosen once when the call starts (BaseServer.waiterFor), as CPython's
// loop registers the server with its selector once, reading fileno() then.
// It is a value, so choosing it allocates nothing.
type waiter struct {
	fd           int
	custom       func(fd int, timeout Timeout) (bool, error) // BaseServer.WaitReadable
	sock         Socket                                      // the server socket, whose own wait is used
	checkSignals func() error
}

// waiterFor chooses the wait of a call on fd, in this order:
// BaseServer.WaitReadable if set; else, when fd is the descriptor of sock
// (the server socket, nil for none), that Socket's WaitReadable (so a
// replaced socket waits its own way); else poll(2) on fd (PollReadable).
func (s *BaseServer) waiterFor(fd int, sock Socket) waiter {
	w := waiter{fd: fd, custom: s.WaitReadable, checkSignals: s.CheckSignals}
	if w.custom == nil && fd >= 0 && sock != nil && sock.Fileno() == fd {
		w.sock = sock
	}
	return w
}

// serverSocket is Self.ServerSocket(), or nil for a server without one.
func serverSocket(self Server) Socket {
	if h, ok := self.(SocketHolder); ok {
		return h.ServerSocket()
	}
	return nil
}

// wait waits for the call's descriptor to be readable. The server socket
// waits its own way only while it still holds that number: once it is
// closed (Fileno -1), the wait is poll(2) on the number, which reports it
// invalid, and the accept that follows fails and is ignored (B8), as
// CPython's selector keeps polling the number it registered.
func (w *waiter) wait(timeout Timeout) (bool, error) {
	switch {
	case w.custom != nil:
		return w.custom(w.fd, timeout)
	case w.sock != nil && w.sock.Fileno() == w.fd:
		return w.sock.WaitReadable(timeout, w.checkSignals)
	}
	return PollReadable(w.fd, timeout, w.checkSignals)
}

// ServeForever handles requests until Shutdown (B4). Each iteration waits up
// to pollInterval (None: until a request) for Self.Fileno() to be readable;
// a shutdown requested during the wait ends the loop before serving
// (bpo-35017); otherwise a ready request is handled; ServiceActions runs on
// every iteration. A server kind used as is (DirectGetter) first takes a
// request already pending without the wait, in the same order of hooks. The returned error is a BaseException (or an error from a
// hook outside the Exception path) that propagated out of the loop, or a
// *PanicError from a hook outside ProcessRequest (see PanicError), or
// ErrNoSelf, returned before any hook runs, for a server without a valid
// outermost value. On any exit the shutdown flag is reset and Shutdown is
// released.
//
// CPython: Lib/socketserver.py:218 BaseServer.serve_forever
func (s *BaseServer) ServeForever(pollInterval Timeout) (err error) {
	self, err := s.outerChecked()
	if err != nil {
		return err
	}
	s.isShutDown.clear()
	s.mu.Lock()
	s.serving++
	s.mu.Unlock()
	defer func() {
		s.shutdownRequest.Store(false)
		s.mu.Lock()
		s.serving--
		s.mu.Unlock()
		s.isShutDown.fire()
	}()
	// hook is the hook being called, for a panic's PanicError (one
	// deferred recover for the whole loop; handleRequestNoblock has its own).
	hook := "Fileno"
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(hook, v)
		}
	}()
	fd := self.Fileno()
	// A kind used as is takes its requests without a separate wait
	// (DirectGetter).
	hook = "DirectGetRequest"
	get := s.direct(self, fd)
	hook = "WaitReadable"
	w := s.waiterFor(fd, serverSocket(self))
	stop := s.shutdownRequest.Load
	for !s.shutdownRequest.Load() {
		res := directNone
		if get != nil {
			if res, err = s.serveDirect(self, get, pollInterval, stop); err != nil {
				return err
			}
			if res != directGot && s.shutdownRequest.Load() {
				break // requested during the wait: nothing taken
			}
		}
		if res == directNone {
			hook = "WaitReadable"
			ready, err := w.wait(pollInterval)
			if err != nil {
				return err
			}
			if s.shutdownRequest.Load() {
				break
			}
			if ready {
				if err := s.handleRequestNoblock(self); err != nil {
					return err
				}
			}
		}
		hook = "ServiceActions"
		if err := self.ServiceActions(); err != nil {
			return err
		}
	}
	return nil
}

// Shutdown stops the ServeForever loop and blocks until it has exited (B5).
// As in CPython it blocks forever if no loop ever runs, deadlocks when
// called from the loop's own goroutine, and, called before ServeForever
// starts, makes that loop exit at once. See ShutdownContext for a bounded,
// graceful variant.
//
// CPython: Lib/socketserver.py:247 BaseServer.shutdown
func (s *BaseServer) Shutdown() {
	s.shutdownRequest.Store(true)
	<-s.isShutDown.done()
}

// ShutdownContext is a graceful shutdown beyond CPython, modelled on
// net/http's Server.Shutdown: if a ServeForever loop is running it asks it
// to stop (no new request is accepted; the listening socket stays open until
// ServerClose) and waits for it to exit, then waits for in-flight requests
// of concurrent servers to finish (Drainer). It returns ctx.Err() if ctx
// ends first. Unlike Shutdown it never blocks when no loop is running and
// then leaves the shutdown flag untouched.
//
// CPython: none (Go addition), like net/http's Server.Shutdown
func (s *BaseServer) ShutdownContext(ctx context.Context) error {
	s.mu.Lock()
	running := s.serving > 0
	if running {
		s.shutdownRequest.Store(true)
	}
	s.mu.Unlock()
	if running {
		select {
		case <-s.isShutDown.done():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if d, ok := s.self.(Drainer); ok {
		return Recover("Drain", func() error { return d.Drain(ctx) })
	}
	return ctx.Err()
}

// HandleRequest handles one request, waiting at most the timeout (B7): the
// socket's timeout, or Timeout when that is None, or the smaller of both.
// With no timeout it waits indefinitely. A wait that ends early (EINTR) is
// resumed for the remaining time; once the remaining time is strictly
// negative it returns Self.HandleTimeout()'s result. A panic in a hook
// outside ProcessRequest is returned as a *PanicError (see PanicError), and
// a server without a valid outermost value returns ErrNoSelf before any
// hook runs.
//
// CPython: Lib/socketserver.py:276 BaseServer.handle_request
func (s *BaseServer) HandleRequest() (err error) {
	self, err := s.outerChecked()
	if err != nil {
		return err
	}
	hook := "ServerSocket"
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(hook, v)
		}
	}()
	timeout := None
	sock := serverSocket(self)
	if sock != nil {
		timeout = sock.Timeout()
	}
	hook = "Setting"
	own := SettingTimeout(self, "timeout", s.Timeout)
	if timeout.IsNone() {
		timeout = own
	} else if !own.IsNone() {
		timeout = minTimeout(timeout, own)
	}
	deadline, _ := timeout.deadline()
	hook = "Fileno"
	fd := self.Fileno()
	hook = "WaitReadable"
	w := s.waiterFor(fd, sock)
	for {
		ready, err := w.wait(timeout)
		if err != nil {
			return err
		}
		if ready {
			return s.handleRequestNoblock(self)
		}
		if !timeout.IsNone() {
			rem := time.Until(deadline)
			if rem < 0 {
				hook = "HandleTimeout"
				return self.HandleTimeout()
			}
			timeout = After(rem)
		}
	}
}

// handleRequestNoblock is CPython's _handle_request_noblock (B8). A panic
// in ProcessRequest takes the Exception path (HandleError, then
// ShutdownRequest); a panic in any other hook is returned as a *PanicError,
// as the exception would propagate (a panic in GetRequest is not an ignored
// OSError, whatever its value).
//
// CPython: Lib/socketserver.py:305 BaseServer._handle_request_noblock
func (s *BaseServer) handleRequestNoblock(self Server) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError("GetRequest", v)
		}
	}()
	req, addr, gerr := self.GetRequest()
	return s.handleGot(self, req, addr, gerr)
}

// handleGot is handleRequestNoblock after GetRequest returned req, addr
// and gerr.
func (s *BaseServer) handleGot(self Server, req Request, addr net.Addr, gerr error) (err error) {
	hook := "GetRequest"
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(hook, v)
		}
	}()
	if gerr != nil {
		if IsOSError(gerr) {
			return nil
		}
		return gerr
	}
	hook = "VerifyRequest"
	ok, verr := self.VerifyRequest(req, addr)
	if verr != nil {
		return verr
	}
	hook = "ShutdownRequest"
	if !ok {
		return self.ShutdownRequest(req)
	}
	perr := Recover("ProcessRequest", func() error { return self.ProcessRequest(req, addr) })
	if perr == nil {
		return nil
	}
	if IsBaseException(perr) {
		if serr := self.ShutdownRequest(req); serr != nil {
			return serr
		}
		return perr
	}
	hook = "HandleError"
	if herr := self.HandleError(req, addr, perr); herr != nil {
		return herr
	}
	hook = "ShutdownRequest"
	return self.ShutdownRequest(req)
}
