//go:build unix

package server

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// NewSocket is the default SocketFactory: a native socket created with
// socket(2) (close-on-exec, blocking, timeout None), bound, listened on and
// accepted from with raw system calls so that options, backlog, errors and
// getsockname are exactly the kernel's. Accepted connections are
// non-blocking and netpoller-backed (see Conn).
//
// CPython: Lib/socketserver.py:453 TCPServer.__init__ (socket.socket)
func NewSocket(family, sotype int) (Socket, error) {
	fd, err := socketCloexec(family, sotype)
	if err != nil {
		return nil, &osError{op: "socket", err: err}
	}
	return newSysSocket(fd, family, sotype), nil
}

// SocketFromFD wraps an existing socket descriptor (which it then owns) as a
// native Socket. The bindings use it for Python sockets passed by fd, the
// forking child for the inherited server socket.
//
// CPython: Lib/socketserver.py:453 TCPServer.__init__ (socket.socket)
func SocketFromFD(fd, family, sotype int) Socket { return newSysSocket(fd, family, sotype) }

type sysSocket struct {
	fd     atomic.Int64
	family int
	sotype int

	mu      sync.Mutex
	timeout Timeout

	np atomic.Pointer[netpoller] // set once by UseNetpoll
}

// netpoller is a native socket switched to non-blocking mode and registered
// with Go's netpoller.
type netpoller struct {
	f  *os.File
	rc syscall.RawConn
}

func readableNow(fd int) bool {
	p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(p, 0)
		if err == unix.EINTR {
			continue
		}
		return err != nil || n > 0 // an error: let the next call report it
	}
}

// wait waits for readability on the netpoller (no thread blocked in a
// system call); a closed socket reports ready, as poll(2)'s POLLNVAL does.
func (np *netpoller) wait(timeout Timeout) (bool, error) {
	if d, ok := timeout.Duration(); ok {
		if d <= 0 {
			ready := false
			np.rc.Control(func(fd uintptr) { ready = readableNow(int(fd)) })
			return ready, nil
		}
		np.f.SetReadDeadline(time.Now().Add(d))
	} else {
		np.f.SetReadDeadline(time.Time{})
	}
	ready := false
	err := np.rc.Read(func(fd uintptr) bool {
		ready = readableNow(int(fd))
		return ready
	})
	switch {
	case ready:
		return true, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return false, nil
	case errors.Is(err, os.ErrClosed):
		return true, nil
	case err != nil:
		return false, &osError{op: "poll", err: err}
	}
	return false, nil
}

// UseNetpoll switches a native socket to non-blocking mode and registers it
// with Go's netpoller (the runtime's single epoll or kqueue instance: no
// descriptor is added). From then on its WaitReadable waits on the
// netpoller instead of blocking an OS thread in poll(2), unless a
// checkSignals callback is given (an embedder that must see EINTR on its
// own thread keeps poll(2)).
// Blocking Accept and RecvFrom keep their semantics.
//
// TCPServer.Init (and so every server kind) applies it to the sockets made
// by the default factory; call it for a native socket made otherwise. A
// thread blocked in poll(2) keeps its processor until the runtime's monitor
// takes it back, which costs throughput; see the package doc and
// BenchmarkShortConnections in package threading.
//
// CPython: Lib/socketserver.py:150 _ServerSelector
func UseNetpoll(sock Socket) error {
	s, ok := sock.(*sysSocket)
	if !ok {
		return ErrNotNative
	}
	_, err := s.netpoll()
	return err
}

// WaitReadable waits until the socket is readable or timeout expires: with
// poll(2) on the calling thread (checkSignals runs on EINTR), or on the
// netpoller after UseNetpoll when checkSignals is nil.
func (s *sysSocket) WaitReadable(timeout Timeout, checkSignals func() error) (bool, error) {
	if np := s.np.Load(); np != nil && checkSignals == nil {
		return np.wait(timeout)
	}
	return PollReadable(s.Fileno(), timeout, checkSignals)
}

func (s *sysSocket) netpoll() (*netpoller, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if np := s.np.Load(); np != nil {
		return np, nil
	}
	fd := s.Fileno()
	if fd < 0 {
		return nil, &osError{op: "fcntl", err: unix.EBADF}
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, &osError{op: "fcntl", err: err}
	}
	f := os.NewFile(uintptr(fd), "socket")
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	np := &netpoller{f: f, rc: rc}
	s.np.Store(np)
	return np, nil
}

// again waits after EAGAIN on a non-blocking (netpoll) socket, honouring
// the socket timeout.
func (s *sysSocket) again(err error) (bool, error) {
	np := s.np.Load()
	if err != unix.EAGAIN || np == nil {
		return false, nil
	}
	ready, werr := np.wait(s.Timeout())
	if werr != nil {
		return false, werr
	}
	if !ready {
		return false, ErrTimeout
	}
	return true, nil
}

func newSysSocket(fd, family, sotype int) *sysSocket {
	s := &sysSocket{family: family, sotype: sotype}
	s.fd.Store(int64(fd))
	return s
}

func (s *sysSocket) Fileno() int { return int(s.fd.Load()) }
func (s *sysSocket) Family() int { return s.family }
func (s *sysSocket) Type() int   { return s.sotype }

func (s *sysSocket) SetsockoptInt(level, opt, value int) error {
	if err := unix.SetsockoptInt(s.Fileno(), level, opt, value); err != nil {
		return &osError{op: "setsockopt", err: err}
	}
	return nil
}

func (s *sysSocket) Bind(addr net.Addr) error {
	sa, err := toSockaddr(s.family, addr)
	if err != nil {
		if err == ErrPortRange {
			return err
		}
		return &osError{op: "bind", err: err}
	}
	if err := unix.Bind(s.Fileno(), sa); err != nil {
		return &osError{op: "bind", err: err}
	}
	return nil
}

func (s *sysSocket) Listen(backlog int) error {
	if err := unix.Listen(s.Fileno(), backlog); err != nil {
		return &osError{op: "listen", err: err}
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

// waitTimeout applies the socket timeout before a blocking call.
func (s *sysSocket) waitTimeout(fd int) error {
	t := s.Timeout()
	if t.IsNone() {
		return nil
	}
	ready, err := PollReadable(fd, t, nil)
	if err != nil {
		return err
	}
	if !ready {
		return ErrTimeout
	}
	return nil
}

func (s *sysSocket) Accept() (Conn, net.Addr, error) {
	fd := s.Fileno()
	if fd < 0 {
		return nil, nil, &osError{op: "accept", err: unix.EBADF}
	}
	if err := s.waitTimeout(fd); err != nil {
		return nil, nil, err
	}
	for {
		nfd, sa, err := acceptNonblock(fd)
		if err == unix.EINTR {
			continue
		}
		if retry, werr := s.again(err); werr != nil {
			return nil, nil, werr
		} else if retry {
			continue
		}
		return s.accepted(nfd, sa, err)
	}
}

// accepted turns accept(2)'s results into Accept's.
func (s *sysSocket) accepted(nfd int, sa unix.Sockaddr, err error) (Conn, net.Addr, error) {
	if err != nil {
		return nil, nil, &osError{op: "accept", err: err}
	}
	remote := fromSockaddr(sa, s.sotype)
	if remote == nil && s.family == unix.AF_UNIX {
		remote = &net.UnixAddr{Name: "", Net: "unix"}
	}
	c, err := newConn(nfd, s.family, remote)
	if err != nil {
		return nil, nil, err
	}
	return c, remote, nil
}

// tryAccept is Accept when a connection is already pending: one accept(2)
// that does not block, ok false (and nothing done) when none is pending.
// Only a socket switched to non-blocking mode (UseNetpoll) can try; on
// another, ok is always false. The socket timeout does not apply: nothing
// waits.
func (s *sysSocket) tryAccept() (Conn, net.Addr, bool, error) {
	fd := s.Fileno()
	if fd < 0 || s.np.Load() == nil {
		return nil, nil, false, nil
	}
	return s.acceptOnce(fd)
}

// acceptOnce is one non-blocking accept(2) on fd: ok false on EAGAIN.
func (s *sysSocket) acceptOnce(fd int) (Conn, net.Addr, bool, error) {
	for {
		nfd, sa, err := acceptNonblock(fd)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return nil, nil, false, nil
		}
		c, addr, err := s.accepted(nfd, sa, err)
		return c, addr, true, err
	}
}

// directWait waits on the netpoller, up to wait (None: without limit),
// until w's operation succeeds (see waitOp). directNone means the socket
// cannot wait so (not on the netpoller) or was closed: the caller waits its
// usual way.
func (s *sysSocket) directWait(wait Timeout, w *waitOp) directResult {
	np := s.np.Load()
	if np == nil {
		return directNone
	}
	if d, ok := wait.Duration(); ok {
		if d <= 0 { // no wait: one try
			fd := s.Fileno()
			switch {
			case fd < 0:
				return directNone
			case w.stop():
				return directStopped
			case w.op(fd):
				return directGot
			}
			return directTimeout
		}
		np.f.SetReadDeadline(time.Now().Add(d))
	} else {
		np.f.SetReadDeadline(time.Time{})
	}
	w.res = directNone
	err := np.rc.Read(w.fn)
	if w.res == directNone && errors.Is(err, os.ErrDeadlineExceeded) {
		return directTimeout
	}
	return w.res
}

func (s *sysSocket) RecvFrom(p []byte) (int, net.Addr, error) {
	fd := s.Fileno()
	if fd < 0 {
		return 0, nil, &osError{op: "recvfrom", err: unix.EBADF}
	}
	if err := s.waitTimeout(fd); err != nil {
		return 0, nil, err
	}
	for {
		n, from, err := recvfrom(fd, p, 0, s.sotype)
		if err == unix.EINTR {
			continue
		}
		if retry, werr := s.again(err); werr != nil {
			return 0, nil, werr
		} else if retry {
			continue
		}
		if err != nil {
			return 0, nil, &osError{op: "recvfrom", err: err}
		}
		return n, from, nil
	}
}

// tryRecvFrom is RecvFrom when a datagram is already pending: one
// recvfrom(2) with MSG_DONTWAIT (which never blocks, whatever the socket's
// mode), ok false (and nothing read) when none is pending. The socket
// timeout does not apply: nothing waits.
func (s *sysSocket) tryRecvFrom(p []byte) (int, net.Addr, bool, error) {
	fd := s.Fileno()
	if fd < 0 {
		return 0, nil, false, nil
	}
	return s.recvOnce(fd, p)
}

// recvOnce is one recvfrom(2) on fd that does not block: ok false on
// EAGAIN.
func (s *sysSocket) recvOnce(fd int, p []byte) (int, net.Addr, bool, error) {
	for {
		n, from, err := recvfrom(fd, p, unix.MSG_DONTWAIT, s.sotype)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return 0, nil, false, nil
		}
		if err != nil {
			return 0, nil, true, &osError{op: "recvfrom", err: err}
		}
		return n, from, true, nil
	}
}

func (s *sysSocket) SendTo(p []byte, addr net.Addr) error {
	// An IPv4 address is converted on the stack (no allocation per
	// datagram) where the platform allows; any other the usual way.
	raw4, fast := rawInet4(s.family, addr)
	var sa sockaddr
	if !fast {
		var err error
		if sa, err = toSockaddr(s.family, addr); err != nil {
			return &osError{op: "sendto", err: err}
		}
	}
	for {
		fd := s.Fileno()
		var err error
		if fast {
			err = sendtoInet4(fd, p, &raw4)
		} else {
			err = unix.Sendto(fd, p, 0, sa)
		}
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			pw := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
			unix.Poll(pw, -1)
			continue
		}
		if err != nil {
			return &osError{op: "sendto", err: err}
		}
		return nil
	}
}

func (s *sysSocket) Getsockname() (net.Addr, error) {
	sa, err := unix.Getsockname(s.Fileno())
	if err != nil {
		return nil, &osError{op: "getsockname", err: err}
	}
	a := fromSockaddr(sa, s.sotype)
	if a == nil {
		return nil, &osError{op: "getsockname", err: unix.EAFNOSUPPORT}
	}
	return a, nil
}

func (s *sysSocket) Close() error {
	fd := s.fd.Swap(-1)
	if fd < 0 {
		return nil
	}
	if np := s.np.Load(); np != nil {
		if err := np.f.Close(); err != nil {
			return &osError{op: "close", err: err}
		}
		return nil
	}
	if err := unix.Close(int(fd)); err != nil {
		return &osError{op: "close", err: err}
	}
	return nil
}

// conn is the native Conn: a non-blocking descriptor owned by an *os.File,
// so reads and writes park the goroutine on the netpoller (no OS thread per
// idle connection) and deadlines work.
type conn struct {
	f      *os.File
	rc     syscall.RawConn // f's, for ReadWhenReady
	fd     int
	family int
	local  net.Addr
	remote net.Addr
	closed atomic.Bool

	// timeout is the per-operation timeout in nanoseconds, -1 for None.
	timeout connTimeout

	// rd is ReadWhenReady's state, so that a read allocates nothing.
	rd struct {
		sync.Mutex
		take func() []byte
		put  func([]byte)
		fn   func(fd uintptr) bool // readReady, made at the first read
		buf  []byte
		n    int
		err  error
	}
}

// ConnFromFD wraps a connected stream socket descriptor (which it then owns)
// as a native Conn. The descriptor is switched to non-blocking mode.
//
// CPython: Lib/socketserver.py:511 TCPServer.get_request (socket.accept)
func ConnFromFD(fd, family int) (Conn, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, &osError{op: "fcntl", err: err}
	}
	var remote net.Addr
	if sa, err := unix.Getpeername(fd); err == nil {
		remote = fromSockaddr(sa, unix.SOCK_STREAM)
	}
	return newConn(fd, family, remote)
}

func newConn(fd, family int, remote net.Addr) (*conn, error) {
	f := os.NewFile(uintptr(fd), "socket")
	if f == nil {
		unix.Close(fd)
		return nil, &osError{op: "accept", err: unix.EBADF}
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, &osError{op: "accept", err: unix.EBADF}
	}
	c := &conn{f: f, rc: rc, fd: fd, family: family, remote: remote}
	c.timeout.Store(-1)
	return c, nil
}

func (c *conn) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if pe, ok := err.(*os.PathError); ok {
		if pe.Err == os.ErrDeadlineExceeded && c.timeout.Load() >= 0 {
			return ErrTimeout
		}
		return &osError{op: op, err: pe.Err}
	}
	return err
}

// ReadWhenReady is Read into a buffer that take supplies only once the
// connection has something to report (data, EOF or an error): a reader
// waiting on an idle connection holds no buffer. A buffer taken while the
// connection turned out not to be readable after all is handed to put.
// It returns the buffer read into (nil on a timeout or a closed
// connection) and Read's results, io.EOF included.
//
// CPython: none (Go addition; see handler.StreamRequestHandler's Rfile)
func (c *conn) ReadWhenReady(take func() []byte, put func([]byte)) ([]byte, int, error) {
	c.startRead()
	rd := &c.rd
	rd.Lock()
	if rd.fn == nil {
		rd.fn = c.readReady
	}
	rd.take, rd.put = take, put
	err := c.rc.Read(rd.fn)
	buf, n, rerr := rd.buf, rd.n, rd.err
	rd.take, rd.put, rd.buf, rd.n, rd.err = nil, nil, nil, 0, nil
	rd.Unlock()
	switch {
	case err != nil: // a deadline, or the connection was closed
		if buf != nil {
			put(buf)
		}
		return nil, 0, c.wrap("recv", &os.PathError{Op: "read", Path: "socket", Err: err})
	case rerr != nil:
		return buf, 0, &osError{op: "recv", err: rerr}
	case n == 0 && len(buf) > 0:
		return buf, 0, io.EOF
	}
	return buf, n, nil
}

// readReady is ReadWhenReady's read, called by the netpoller whenever the
// connection may be readable: false (the buffer given back) on EAGAIN.
func (c *conn) readReady(fd uintptr) bool {
	rd := &c.rd
	b := rd.take()
	for {
		rd.n, rd.err = unix.Read(int(fd), b)
		if rd.err != unix.EINTR {
			break
		}
	}
	if rd.err == unix.EAGAIN {
		rd.put(b)
		return false // wait on the netpoller, without the buffer
	}
	rd.buf = b
	return true
}

func (c *conn) control(op string, f func(fd int) error) error {
	rc, err := c.f.SyscallConn()
	if err != nil {
		return c.wrap(op, err)
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return c.wrap(op, err)
	}
	if ferr != nil {
		return &osError{op: op, err: ferr}
	}
	return nil
}

func (c *conn) CloseWrite() error {
	return c.control("shutdown", func(fd int) error { return unix.Shutdown(fd, unix.SHUT_WR) })
}

// stream is what the connection reads, writes, closes and keeps its
// deadlines on (see nativeconn.go).
func (c *conn) stream() connStream { return c.f }

func (c *conn) LocalAddr() net.Addr {
	if c.local == nil {
		if sa, err := unix.Getsockname(c.fd); err == nil && !c.closed.Load() {
			return fromSockaddr(sa, unix.SOCK_STREAM)
		}
	}
	return c.local
}

func (c *conn) SetNoDelay(on bool) error {
	v := 0
	if on {
		v = 1
	}
	return c.control("setsockopt", func(fd int) error {
		return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, v)
	})
}
