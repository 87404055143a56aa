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
// stream servers.
//
// CPython: Lib/socketserver.py:511 TCPServer.get_request (the accepted socket)
type Conn interface {
	io.Reader
	io.Writer
	// CloseWrite is shutdown(SHUT_WR) (C12).
	CloseWrite() error
	// Close releases the connection (C13).
	Close() error
	// Fileno returns the descriptor, or -1 once closed.
	Fileno() int
	LocalAddr() net.Addr
	RemoteAddr() net.Addr
	SetDeadline(t time.Time) error
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	// Timeout and SetTimeout are gettimeout/settimeout: a per-operation
	// timeout (I5).
	Timeout() Timeout
	SetTimeout(t Timeout) error
	// SetNoDelay sets TCP_NODELAY (I6).
	SetNoDelay(on bool) error
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
