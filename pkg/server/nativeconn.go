//go:build unix || windows

package server

import (
	"io"
	"net"
	"time"
)

// The methods the native connection (conn) has on every platform. Each
// platform's conn holds fd, remote, closed and timeout, maps its errors
// with wrap, and gives with stream the object it reads, writes, closes and
// keeps its deadlines on: an *os.File on the Unix systems (the netpoller),
// an *net.TCPConn on Windows (the I/O completion port).

// connStream is what a native connection reads, writes, closes and keeps
// its deadlines on.
type connStream interface {
	io.ReadWriteCloser
	Deadliner
}

// startRead and startWrite set the deadline of one operation from the
// connection's timeout, as CPython's socket applies its timeout to each
// call (none for None).
//
// CPython: Modules/socketmodule.c sock_call_ex
func (c *conn) startRead() {
	if d := c.timeout.Load(); d >= 0 {
		c.stream().SetReadDeadline(time.Now().Add(time.Duration(d)))
	}
}

func (c *conn) startWrite() {
	if d := c.timeout.Load(); d >= 0 {
		c.stream().SetWriteDeadline(time.Now().Add(time.Duration(d)))
	}
}

func (c *conn) Read(p []byte) (int, error) {
	c.startRead()
	n, err := c.stream().Read(p)
	return n, c.wrap("recv", err)
}

func (c *conn) Write(p []byte) (int, error) {
	c.startWrite()
	n, err := c.stream().Write(p)
	return n, c.wrap("send", err)
}

// Close closes the connection once; a second Close does nothing (C13).
func (c *conn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	return c.wrap("close", c.stream().Close())
}

// Fileno is the descriptor, -1 once closed.
func (c *conn) Fileno() int {
	if c.closed.Load() {
		return -1
	}
	return c.fd
}

func (c *conn) RemoteAddr() net.Addr { return c.remote }

func (c *conn) SetDeadline(t time.Time) error {
	return c.wrap("setdeadline", c.stream().SetDeadline(t))
}

func (c *conn) SetReadDeadline(t time.Time) error {
	return c.wrap("setdeadline", c.stream().SetReadDeadline(t))
}

func (c *conn) SetWriteDeadline(t time.Time) error {
	return c.wrap("setdeadline", c.stream().SetWriteDeadline(t))
}

// Timeout and SetTimeout are gettimeout and settimeout (I5); None clears
// the deadlines a timeout left.
func (c *conn) Timeout() Timeout { return c.timeout.get() }

func (c *conn) SetTimeout(t Timeout) error {
	c.timeout.set(t)
	if t.IsNone() {
		return c.SetDeadline(time.Time{})
	}
	return nil
}
