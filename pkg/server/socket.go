package server

import (
	"io"
	"net"
	"time"
)

// Request is what GetRequest returns and every request hook receives. For the
// native stream servers it is a Conn (CPython: the accepted socket), for the
// datagram servers a *Datagram (CPython: the (data, socket) pair). A server
// that overrides GetRequest may return anything.
type Request = any

// Socket is a server socket: the native one made with raw system calls
// (NewSocket), the bindings' wrapper of a Python socket, or gopy's own
// socket object. TCPServer.Socket holds one and may be replaced at any time
// (http.server's HTTPSServer does that after activation).
//
// CPython: Lib/socketserver.py:453 TCPServer.__init__ (self.socket)
type Socket interface {
	// Fileno returns the descriptor, or -1 once closed (C9, C10).
	Fileno() int
	// Family and Type return the address family and socket type.
	Family() int
	Type() int
	// SetsockoptInt sets an integer socket option.
	SetsockoptInt(level, opt, value int) error
	// Bind binds to addr (a *net.TCPAddr, *net.UDPAddr or *net.UnixAddr).
	Bind(addr net.Addr) error
	// Listen marks the socket as listening with the given backlog.
	Listen(backlog int) error
	// Accept returns a new connection and the peer address.
	Accept() (Conn, net.Addr, error)
	// RecvFrom reads one datagram into p (truncating a longer one, as
	// recvfrom(2) does) and returns its length and sender.
	RecvFrom(p []byte) (int, net.Addr, error)
	// SendTo sends p (possibly empty) as one datagram to addr.
	SendTo(p []byte, addr net.Addr) error
	// Getsockname returns the bound address.
	Getsockname() (net.Addr, error)
	// Timeout and SetTimeout are gettimeout/settimeout (None: blocking).
	Timeout() Timeout
	SetTimeout(t Timeout) error
	// WaitReadable waits until the socket is readable (a request is
	// pending) or timeout expires, reporting readiness; the serve loop
	// uses it (CPython's selector on fileno()). checkSignals, if not nil,
	// is called on EINTR and stops the wait with its error.
	WaitReadable(timeout Timeout, checkSignals func() error) (bool, error)
	// Close closes the socket; a second Close is harmless (C9).
	Close() error
}

// Conn is an accepted stream connection, CPython's request socket for
// stream servers: the core every connection has. The rest are optional
// capabilities, found by type assertion where CPython calls them, so an
// embedder's socket object needs only what its programs use:
//
//	HalfCloser   CloseWrite, shutdown(SHUT_WR)    TCPServer.ShutdownRequest (C12); skipped without it
//	TimeoutConn  gettimeout/settimeout            handler.StreamRequestHandler.Timeout (I5)
//	NoDelayer    setsockopt(TCP_NODELAY)          handler.StreamRequestHandler.DisableNagleAlgorithm (I6)
//	Deadliner    Go deadlines                     callers that want them
//
// The native connections (NewSocket's Accept, ConnFromFD) have them all
// (NativeConn). Descriptor ownership is stated in the package doc
// (Embedding): a Conn closes its descriptor only if it owns it.
//
// CPython: Lib/socketserver.py:511 TCPServer.get_request (the accepted socket)
type Conn interface {
	io.Reader
	io.Writer
	// Close releases the connection (C13): the descriptor if the Conn
	// owns it.
	Close() error
	// Fileno returns the descriptor, or -1 once closed (or if it has none).
	Fileno() int
	LocalAddr() net.Addr
	RemoteAddr() net.Addr
}

// HalfCloser is a Conn that can shut its writing side down
// (shutdown(SHUT_WR), C12).
//
// CPython: Lib/socketserver.py:513 TCPServer.shutdown_request
type HalfCloser interface {
	CloseWrite() error
}

// TimeoutConn is a Conn with gettimeout/settimeout: a per-operation
// timeout (I5).
//
// CPython: Lib/socketserver.py:809 StreamRequestHandler.setup (settimeout)
type TimeoutConn interface {
	Timeout() Timeout
	SetTimeout(t Timeout) error
}

// NoDelayer is a Conn that can set TCP_NODELAY (I6).
//
// CPython: Lib/socketserver.py:809 StreamRequestHandler.setup (TCP_NODELAY)
type NoDelayer interface {
	SetNoDelay(on bool) error
}

// Deadliner is a Conn with Go's deadlines (net.Conn's methods).
//
// CPython: none (Go addition)
type Deadliner interface {
	SetDeadline(t time.Time) error
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

// NativeConn is a Conn with every capability: the native connections
// are NativeConns.
//
// CPython: Lib/socketserver.py:511 TCPServer.get_request (the accepted socket)
type NativeConn interface {
	Conn
	HalfCloser
	TimeoutConn
	NoDelayer
	Deadliner
}

// Datagram is the request of a datagram server: the packet and the server
// socket it arrived on, which the reply is sent through (D5).
//
// CPython: Lib/socketserver.py:540 UDPServer.get_request
type Datagram struct {
	Data   []byte
	Socket Socket
}

// SocketFactory creates the server socket for an address family and socket
// type (CPython: socket.socket(family, type)). TCPServer.NewSocket holds one.
type SocketFactory func(family, sotype int) (Socket, error)
