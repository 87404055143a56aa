package server

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/windows"
)

// On Windows the native socket is built on Go's net package: Go offers no
// way to adopt a raw Winsock handle into its I/O completion port, and
// without that every accepted connection would block an OS thread in
// recv. The server socket therefore comes into being at Bind (socket,
// options recorded by SetsockoptInt, bind and, for a stream socket, listen
// in one net.ListenConfig call), and accepted connections are *net.TCPConn
// values served by the completion port. What differs from the Unix sockets:
// Fileno is -1 until Bind; Listen's backlog is Go's (SOMAXCONN), not
// RequestQueueSize; and there are no SocketFromFD and ConnFromFD.

// NewSocket is the default SocketFactory: a native AF_INET or AF_INET6
// socket of type SOCK_STREAM or SOCK_DGRAM (timeout None) that Go's net
// package creates, binds and listens on (see above); Winsock's
// WSAEAFNOSUPPORT for any other family, as CPython on Windows has no
// AF_UNIX. Accepted connections are *net.TCPConn underneath (see Conn).
//
// CPython: Lib/socketserver.py:453 TCPServer.__init__ (socket.socket)
func NewSocket(family, sotype int) (Socket, error) {
	if family != afINET && family != afINET6 {
		return nil, &osError{op: "socket", err: errNoFamily}
	}
	if sotype != sockSTREAM && sotype != sockDGRAM {
		return nil, &osError{op: "socket", err: windows.WSAESOCKTNOSUPPORT}
	}
	s := &sysSocket{family: family, sotype: sotype}
	s.fd.Store(-1)
	return s, nil
}

type sockopt struct{ level, opt, value int }

type sysSocket struct {
	fd     atomic.Int64 // -1 before Bind and after Close
	family int
	sotype int

	mu      sync.Mutex
	timeout Timeout
	opts    []sockopt // set before Bind, applied by it
	ln      *net.TCPListener
	pc      *net.UDPConn
	closed  bool
}

// UseNetpoll has no effect on Windows: a native socket there always waits
// with select (PollReadable), CPython's SelectSelector. It returns
// ErrNotNative for a Socket not made by NewSocket.
//
// CPython: Lib/socketserver.py:150 _ServerSelector
func UseNetpoll(sock Socket) error {
	if _, ok := sock.(*sysSocket); !ok {
		return ErrNotNative
	}
	return nil
}

func (s *sysSocket) Fileno() int { return int(s.fd.Load()) }
func (s *sysSocket) Family() int { return s.family }
func (s *sysSocket) Type() int   { return s.sotype }

// WaitReadable waits with select (PollReadable); checkSignals is never
// called on Windows.
func (s *sysSocket) WaitReadable(timeout Timeout, checkSignals func() error) (bool, error) {
	return PollReadable(s.Fileno(), timeout, checkSignals)
}

// rawConn returns the bound socket's syscall.RawConn, or nil.
func (s *sysSocket) rawConn() syscall.RawConn {
	var sc syscall.Conn
	switch {
	case s.ln != nil:
		sc = s.ln
	case s.pc != nil:
		sc = s.pc
	default:
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

func (s *sysSocket) SetsockoptInt(level, opt, value int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return &osError{op: "setsockopt", err: errBadFD}
	}
	rc := s.rawConn()
	if rc == nil {
		s.opts = append(s.opts, sockopt{level, opt, value})
		return nil
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = windows.SetsockoptInt(windows.Handle(fd), level, opt, value)
	}); err != nil {
		serr = err
	}
	if serr != nil {
		return &osError{op: "setsockopt", err: serr}
	}
	return nil
}

// bindNetwork returns the net network name for the socket.
func (s *sysSocket) bindNetwork() string {
	n := "tcp"
	if s.sotype == sockDGRAM {
		n = "udp"
	}
	if s.family == afINET6 {
		return n + "6"
	}
	return n + "4"
}

// hostPort renders a checked sockaddr as net's "host:port".
func hostPort(sa sockaddr) string {
	switch a := sa.(type) {
	case *sockaddrInet4:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	case *sockaddrInet6:
		host := net.IP(a.Addr[:]).String()
		if a.ZoneId != 0 {
			host += "%" + strconv.Itoa(int(a.ZoneId))
		}
		return net.JoinHostPort(host, strconv.Itoa(a.Port))
	}
	return ""
}

func (s *sysSocket) Bind(addr net.Addr) error {
	sa, err := toSockaddr(s.family, addr)
	if err != nil {
		if err == ErrPortRange {
			return err
		}
		return &osError{op: "bind", err: err}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return &osError{op: "bind", err: errBadFD}
	case s.ln != nil || s.pc != nil:
		return &osError{op: "bind", err: windows.WSAEINVAL}
	}
	var ctlErr error
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			for _, o := range s.opts {
				if err := windows.SetsockoptInt(windows.Handle(fd), o.level, o.opt, o.value); err != nil && ctlErr == nil {
					ctlErr = &osError{op: "setsockopt", err: err}
				}
			}
		})
	}}
	if s.sotype == sockDGRAM {
		pc, err := lc.ListenPacket(context.Background(), s.bindNetwork(), hostPort(sa))
		if err != nil {
			return bindError(ctlErr, err)
		}
		s.pc = pc.(*net.UDPConn)
	} else {
		ln, err := lc.Listen(context.Background(), s.bindNetwork(), hostPort(sa))
		if err != nil {
			return bindError(ctlErr, err)
		}
		s.ln = ln.(*net.TCPListener)
	}
	if rc := s.rawConn(); rc != nil {
		rc.Control(func(fd uintptr) { s.fd.Store(int64(fd)) })
	}
	return nil
}

// bindError is the error of a failed Bind: a failed option first, else
// the system's error of bind (or listen).
func bindError(ctlErr, err error) error {
	if ctlErr != nil {
		return ctlErr
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return &osError{op: "bind", err: errno}
	}
	return &osError{op: "bind", err: err}
}

// Listen checks that a stream socket is bound: Bind has already listened,
// with Go's backlog.
func (s *sysSocket) Listen(backlog int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return &osError{op: "listen", err: errBadFD}
	case s.ln == nil:
		return &osError{op: "listen", err: windows.WSAEINVAL}
	}
	return nil
}

func (s *sysSocket) Timeout() Timeout {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.timeout
}

func (s *sysSocket) SetTimeout(t Timeout) error {
	s.mu.Lock()
	s.timeout = t
	s.mu.Unlock()
	return nil
}

// deadline is the deadline of one blocking call under the socket timeout.
func (s *sysSocket) deadline() time.Time {
	if d, ok := s.Timeout().Duration(); ok {
		return time.Now().Add(d)
	}
	return time.Time{}
}

// opError converts an error of Go's net package to this package's: the
// socket timeout, or an OSError carrying the system's errno.
func opError(op string, err error, timed bool) error {
	if errors.Is(err, os.ErrDeadlineExceeded) && timed {
		return ErrTimeout
	}
	if errors.Is(err, net.ErrClosed) {
		return &osError{op: op, err: errBadFD}
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return &osError{op: op, err: errno}
	}
	return &osError{op: op, err: err}
}

func (s *sysSocket) Accept() (Conn, net.Addr, error) {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return nil, nil, &osError{op: "accept", err: windows.WSAEINVAL}
	}
	dl := s.deadline()
	ln.SetDeadline(dl)
	tc, err := ln.AcceptTCP()
	if err != nil {
		return nil, nil, opError("accept", err, !dl.IsZero())
	}
	c, err := newConn(tc, s.family)
	if err != nil {
		tc.Close()
		return nil, nil, err
	}
	return c, c.remote, nil
}

func (s *sysSocket) RecvFrom(p []byte) (int, net.Addr, error) {
	s.mu.Lock()
	pc := s.pc
	s.mu.Unlock()
	if pc == nil {
		return 0, nil, &osError{op: "recvfrom", err: windows.WSAEINVAL}
	}
	dl := s.deadline()
	pc.SetReadDeadline(dl)
	// A datagram longer than p fails with WSAEMSGSIZE, as CPython's
	// recvfrom does on Windows (the loop then drops it, B8).
	n, addr, err := pc.ReadFromUDP(p)
	if err != nil {
		return 0, nil, opError("recvfrom", err, !dl.IsZero())
	}
	return n, normalize(addr), nil
}

func (s *sysSocket) SendTo(p []byte, addr net.Addr) error {
	sa, err := toSockaddr(s.family, addr)
	if err != nil {
		return &osError{op: "sendto", err: err}
	}
	s.mu.Lock()
	pc := s.pc
	s.mu.Unlock()
	if pc == nil {
		return &osError{op: "sendto", err: windows.WSAENOTCONN}
	}
	ua, err := net.ResolveUDPAddr(s.bindNetwork(), hostPort(sa))
	if err != nil {
		return &osError{op: "sendto", err: err}
	}
	if _, err := pc.WriteToUDP(p, ua); err != nil {
		return opError("sendto", err, false)
	}
	return nil
}

func (s *sysSocket) Getsockname() (net.Addr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.ln != nil:
		return normalize(s.ln.Addr()), nil
	case s.pc != nil:
		return normalize(s.pc.LocalAddr()), nil
	}
	return nil, &osError{op: "getsockname", err: windows.WSAEINVAL}
}

func (s *sysSocket) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.fd.Store(-1)
	var err error
	switch {
	case s.ln != nil:
		err = s.ln.Close()
	case s.pc != nil:
		err = s.pc.Close()
	}
	if err != nil {
		return opError("close", err, false)
	}
	return nil
}

// normalize gives an IPv4 address its 4-byte form, as the Unix sockets
// report it (FormatAddress prints by length).
func normalize(a net.Addr) net.Addr {
	switch a := a.(type) {
	case *net.TCPAddr:
		if ip4 := a.IP.To4(); ip4 != nil {
			return &net.TCPAddr{IP: ip4, Port: a.Port}
		}
	case *net.UDPAddr:
		if ip4 := a.IP.To4(); ip4 != nil {
			return &net.UDPAddr{IP: ip4, Port: a.Port}
		}
	}
	return a
}

// conn is the native Conn on Windows: an accepted *net.TCPConn, served by
// Go's I/O completion port (no OS thread per idle connection), with
// CPython's per-operation timeout.
type conn struct {
	c      *net.TCPConn
	fd     int
	family int
	remote net.Addr
	closed atomic.Bool

	// timeout is the per-operation timeout in nanoseconds, -1 for None.
	timeout connTimeout
}

func newConn(tc *net.TCPConn, family int) (*conn, error) {
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil, opError("accept", err, false)
	}
	c := &conn{c: tc, fd: -1, family: family, remote: normalize(tc.RemoteAddr())}
	rc.Control(func(fd uintptr) { c.fd = int(fd) })
	c.timeout.Store(-1)
	return c, nil
}

func (c *conn) wrap(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return opError(op, err, c.timeout.Load() >= 0)
}

// stream is what the connection reads, writes, closes and keeps its
// deadlines on (see nativeconn.go).
func (c *conn) stream() connStream { return c.c }

func (c *conn) CloseWrite() error { return c.wrap("shutdown", c.c.CloseWrite()) }

func (c *conn) LocalAddr() net.Addr { return normalize(c.c.LocalAddr()) }

func (c *conn) SetNoDelay(on bool) error { return c.wrap("setsockopt", c.c.SetNoDelay(on)) }
