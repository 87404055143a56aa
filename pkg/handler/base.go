package handler

import (
	"net"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// RequestHandler is the per-request object's hooks, implemented by the
// outermost handler type (which embeds BaseRequestHandler,
// StreamRequestHandler or DatagramRequestHandler and overrides Handle, and
// possibly Setup and Finish, calling the embedded one as super()).
//
// CPython: Lib/socketserver.py:742 BaseRequestHandler
type RequestHandler interface {
	// Base returns the embedded BaseRequestHandler.
	Base() *BaseRequestHandler
	// CPython: Lib/socketserver.py:770 BaseRequestHandler.setup
	Setup() error
	// CPython: Lib/socketserver.py:773 BaseRequestHandler.handle
	Handle() error
	// CPython: Lib/socketserver.py:776 BaseRequestHandler.finish
	Finish() error
}

// BaseRequestHandler holds the request, the client address and the server
// (I1). Its Setup, Handle and Finish do nothing (I2).
//
// CPython: Lib/socketserver.py:742 BaseRequestHandler
type BaseRequestHandler struct {
	Request       server.Request
	ClientAddress net.Addr
	Server        server.Server
}

// Base returns h.
//
// CPython: none (Go addition)
func (h *BaseRequestHandler) Base() *BaseRequestHandler { return h }

// Setup does nothing (I2).
//
// CPython: Lib/socketserver.py:770 BaseRequestHandler.setup
func (h *BaseRequestHandler) Setup() error { return nil }

// Handle does nothing (I2).
//
// CPython: Lib/socketserver.py:773 BaseRequestHandler.handle
func (h *BaseRequestHandler) Handle() error { return nil }

// Finish does nothing (I2).
//
// CPython: Lib/socketserver.py:776 BaseRequestHandler.finish
func (h *BaseRequestHandler) Finish() error { return nil }

// Run is the template of CPython's BaseRequestHandler.__init__ (I1): it
// stores request, address and server in h.Base(), calls h.Setup() (if that
// fails, Finish is not called and the error is returned), then h.Handle()
// and always h.Finish() afterwards. A panic in Handle is recovered as a
// *server.PanicError (Hook "Handle"); one in Setup or Finish reaches the
// server's FinishRequest, which recovers it too. Handle's error is returned
// after Finish, unless Finish itself fails, whose error then wins (as a
// Python exception raised in a finally clause does).
//
// CPython: Lib/socketserver.py:760 BaseRequestHandler.__init__
func Run(h RequestHandler, req server.Request, clientAddress net.Addr, srv server.Server) error {
	b := h.Base()
	b.Request = req
	b.ClientAddress = clientAddress
	b.Server = srv
	if err := h.Setup(); err != nil {
		return err
	}
	herr := server.Recover("Handle", h.Handle)
	if ferr := h.Finish(); ferr != nil {
		return ferr
	}
	return herr
}

// Class turns a constructor of per-request handler values into a
// server.Handler: each request gets a fresh value, run by Run. It is the Go
// form of passing a RequestHandlerClass to a server.
//
// CPython: Lib/socketserver.py:360 BaseServer.finish_request
type Class func() RequestHandler

// ServeRequest creates a handler with c and runs it.
//
// CPython: Lib/socketserver.py:362 BaseServer.finish_request
func (c Class) ServeRequest(req server.Request, clientAddress net.Addr, srv server.Server) error {
	return Run(c(), req, clientAddress, srv)
}

// For returns the Class that allocates a zero T per request:
// handler.For[EchoHandler]().
//
// CPython: Lib/socketserver.py:362 BaseServer.finish_request
func For[T any, PT interface {
	*T
	RequestHandler
}]() Class {
	return func() RequestHandler { return PT(new(T)) }
}
