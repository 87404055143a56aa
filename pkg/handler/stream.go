package handler

import (
	"bufio"
	"fmt"
	"io"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// DefaultBufferSize is the buffer size of a buffered Rfile (Python's
// io.DEFAULT_BUFFER_SIZE), used when RBufSize is 0 or -1 (I3).
//
// CPython: Lib/socketserver.py:799 StreamRequestHandler.rbufsize
const DefaultBufferSize = 8192

// Unbuffered is the RBufSize that selects an unbuffered Rfile (Python's
// rbufsize = 0): every read goes straight to the connection and line reads
// take one byte at a time, so nothing is read ahead.
//
// CPython: Lib/socketserver.py:799 StreamRequestHandler.rbufsize
const Unbuffered = -2

// Reader is the type of StreamRequestHandler.Rfile (Python's
// makefile('rb', rbufsize)).
//
// CPython: Lib/socketserver.py:816 StreamRequestHandler.setup (rfile)
type Reader interface {
	io.Reader
	io.ByteReader
	// ReadBytes reads up to and including delim (readline when delim is
	// '\n').
	ReadBytes(delim byte) ([]byte, error)
	ReadString(delim byte) (string, error)
	// Close marks the reader closed; the connection stays open (I8).
	Close() error
}

// Writer is the type of StreamRequestHandler.Wfile.
//
// CPython: Lib/socketserver.py:817 StreamRequestHandler.setup (wfile)
type Writer interface {
	io.Writer
	Flush() error
	// Close marks the writer closed; the connection stays open (I8, I12).
	Close() error
	Closed() bool
}

// StreamRequestHandler gives a stream handler Rfile and Wfile over the
// connection (I3-I8).
//
// CPython: Lib/socketserver.py:788 StreamRequestHandler
type StreamRequestHandler struct {
	BaseRequestHandler
	// RBufSize is Python's rbufsize: 0 or -1 buffered with
	// DefaultBufferSize (I3), n > 0 a buffer of n bytes, Unbuffered for
	// none. (Go's zero value must mean the default, so Python's 0 is
	// spelled Unbuffered.)
	RBufSize int
	// WBufSize is Python's wbufsize: 0 (default) an unbuffered
	// SocketWriter (I4); n > 0 a buffered writer of n bytes, negative one
	// of DefaultBufferSize, flushed by Finish.
	WBufSize int
	// Timeout, if not None, is applied to the connection (I5), which must
	// then be a server.TimeoutConn.
	Timeout server.Timeout
	// DisableNagleAlgorithm sets TCP_NODELAY (I6) on a server.NoDelayer
	// connection.
	DisableNagleAlgorithm bool

	// Connection is the request (I7).
	Connection server.Conn
	Rfile      Reader
	Wfile      Writer
}

// Setup sets Connection, applies Timeout and DisableNagleAlgorithm, and
// creates Rfile and Wfile (I7).
//
// CPython: Lib/socketserver.py:809 StreamRequestHandler.setup
func (h *StreamRequestHandler) Setup() error {
	c, ok := h.Request.(server.Conn)
	if !ok {
		return server.ErrNotConn
	}
	h.Connection = c
	if !h.Timeout.IsNone() {
		tc, ok := c.(server.TimeoutConn)
		if !ok {
			return fmt.Errorf("socketserver: the connection (%T) has no settimeout (server.TimeoutConn)", c)
		}
		if err := tc.SetTimeout(h.Timeout); err != nil {
			return err
		}
	}
	if h.DisableNagleAlgorithm {
		nd, ok := c.(server.NoDelayer)
		if !ok {
			return fmt.Errorf("socketserver: the connection (%T) cannot set TCP_NODELAY (server.NoDelayer)", c)
		}
		if err := nd.SetNoDelay(true); err != nil {
			return err
		}
	}
	switch {
	case h.RBufSize == Unbuffered:
		h.Rfile = &rawReader{r: c}
	case h.RBufSize > 0:
		h.Rfile = newBufReader(c, h.RBufSize)
	default:
		h.Rfile = newBufReader(c, DefaultBufferSize)
	}
	switch {
	case h.WBufSize == 0:
		h.Wfile = &SocketWriter{Conn: c}
	case h.WBufSize < 0:
		h.Wfile = &bufWriter{Writer: bufio.NewWriterSize(c, DefaultBufferSize)}
	default:
		h.Wfile = &bufWriter{Writer: bufio.NewWriterSize(c, h.WBufSize)}
	}
	return nil
}

// Finish flushes Wfile unless closed, ignoring an OS error (the peer may be
// gone), then closes Wfile and Rfile; the connection itself is closed by
// the server's ShutdownRequest (I8).
//
// CPython: Lib/socketserver.py:822 StreamRequestHandler.finish
func (h *StreamRequestHandler) Finish() error {
	if h.Wfile != nil {
		if !h.Wfile.Closed() {
			if err := h.Wfile.Flush(); err != nil && !server.IsOSError(err) {
				return err
			}
		}
		h.Wfile.Close()
	}
	if h.Rfile != nil {
		h.Rfile.Close()
	}
	return nil
}

// SocketWriter is the unbuffered Wfile: each Write sends everything at once
// (retrying partial writes and EINTR) and returns the byte count (I9-I12).
// Close only marks it closed; a Write after Close still sends, as CPython's
// does.
//
// CPython: Lib/socketserver.py:833 _SocketWriter
type SocketWriter struct {
	Conn   server.Conn
	closed bool
}

// Write sends all of p.
//
// CPython: Lib/socketserver.py:844 _SocketWriter.write
func (w *SocketWriter) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := w.Conn.Write(p[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.ErrShortWrite
		}
	}
	return n, nil
}

// Writable reports true (I10).
//
// CPython: Lib/socketserver.py:841 _SocketWriter.writable
func (w *SocketWriter) Writable() bool { return true }

// Fileno returns the connection's descriptor (I12).
//
// CPython: Lib/socketserver.py:849 _SocketWriter.fileno
func (w *SocketWriter) Fileno() int { return w.Conn.Fileno() }

// Flush does nothing: nothing is buffered.
//
// CPython: Lib/socketserver.py:833 _SocketWriter
func (w *SocketWriter) Flush() error { return nil }

// Close marks w closed without touching the connection.
//
// CPython: Lib/socketserver.py:833 _SocketWriter
func (w *SocketWriter) Close() error { w.closed = true; return nil }

// Closed reports whether Close was called.
//
// CPython: Lib/socketserver.py:833 _SocketWriter
func (w *SocketWriter) Closed() bool { return w.closed }

// rawReader reads without buffering: ReadByte reads one byte from the
// connection, like Python's SocketIO.readline.
type rawReader struct {
	r      io.Reader
	closed bool
	one    [1]byte
}

func (r *rawReader) Read(p []byte) (int, error) { return r.r.Read(p) }

func (r *rawReader) ReadByte() (byte, error) {
	for {
		n, err := r.r.Read(r.one[:])
		if n == 1 {
			return r.one[0], nil
		}
		if err != nil {
			return 0, err
		}
	}
}

func (r *rawReader) ReadBytes(delim byte) ([]byte, error) {
	var out []byte
	for {
		b, err := r.ReadByte()
		if err != nil {
			return out, err
		}
		out = append(out, b)
		if b == delim {
			return out, nil
		}
	}
}

func (r *rawReader) ReadString(delim byte) (string, error) {
	b, err := r.ReadBytes(delim)
	return string(b), err
}

func (r *rawReader) Close() error { r.closed = true; return nil }

type bufWriter struct {
	*bufio.Writer
	closed bool
}

func (w *bufWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.Writer.Flush()
	if err != nil && server.IsOSError(err) {
		return nil
	}
	return err
}

func (w *bufWriter) Closed() bool { return w.closed }
