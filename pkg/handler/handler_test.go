package handler_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/handler"
	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// tmpl records the template's calls (I1).
type tmpl struct {
	handler.BaseRequestHandler
	log                 *[]string
	setupErr, handleErr error
	finishErr           error
	panicInHandle       bool
}

func (h *tmpl) Setup() error {
	*h.log = append(*h.log, "setup")
	return h.setupErr
}

func (h *tmpl) Handle() error {
	*h.log = append(*h.log, "handle")
	if h.panicInHandle {
		panic("handle panicked")
	}
	return h.handleErr
}

func (h *tmpl) Finish() error {
	*h.log = append(*h.log, "finish")
	return h.finishErr
}

// I1, I2: setup/handle/finish; finish skipped when setup fails; handle's
// error after finish; finish's error wins; a panic still runs finish.
func TestTemplate_I1_I2(t *testing.T) {
	e1, e2, e3 := errors.New("setup"), errors.New("handle"), errors.New("finish")
	cases := []struct {
		name    string
		h       tmpl
		want    string
		wantErr error
		panics  bool
	}{
		{"ok", tmpl{}, "[setup handle finish]", nil, false},
		{"setup fails", tmpl{setupErr: e1}, "[setup]", e1, false},
		{"handle fails", tmpl{handleErr: e2}, "[setup handle finish]", e2, false},
		{"finish fails", tmpl{handleErr: e2, finishErr: e3}, "[setup handle finish]", e3, false},
		{"handle panics", tmpl{panicInHandle: true}, "[setup handle finish]", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var log []string
			h := tc.h
			h.log = &log
			srv := &server.BaseServer{}
			addr := &net.TCPAddr{Port: 9}
			err := handler.Run(&h, "req", addr, srv)
			if fmt.Sprint(log) != tc.want {
				t.Fatalf("calls %v want %s", log, tc.want)
			}
			if tc.panics {
				var pe *server.PanicError
				if !errors.As(err, &pe) {
					t.Fatalf("err %v, want PanicError", err)
				}
			} else if err != tc.wantErr {
				t.Fatalf("err %v want %v", err, tc.wantErr)
			}
			if h.Request != "req" || h.ClientAddress != addr || h.Server != srv {
				t.Fatal("request, client_address, server not stored")
			}
		})
	}
	var b handler.BaseRequestHandler
	if b.Setup() != nil || b.Handle() != nil || b.Finish() != nil {
		t.Fatal("BaseRequestHandler hooks are not no-ops (I2)")
	}
}

// run serves exactly one request with h on a TCP server and returns what
// the client function observed.
func oneRequest(t *testing.T, h server.Handler, client func(c net.Conn)) *server.TCPServer {
	t.Helper()
	s, err := server.NewTCPServer("127.0.0.1:0", h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.ServerClose() })
	s.ErrorOutput = io.Discard
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := net.DialTimeout("tcp", s.ServerAddress.String(), 5*time.Second)
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		client(c)
	}()
	s.Timeout = server.After(10 * time.Second)
	if err := s.HandleRequest(); err != nil {
		t.Fatal(err)
	}
	<-done
	return s
}

// streamProbe runs a configurable body in Handle.
type streamProbe struct {
	handler.StreamRequestHandler
}

var probeBody func(h *streamProbe) error
var probeCfg func(h *streamProbe)

func (h *streamProbe) Setup() error {
	if probeCfg != nil {
		probeCfg(h)
	}
	return h.StreamRequestHandler.Setup() // super()
}

func (h *streamProbe) Handle() error { return probeBody(h) }

func withProbe(t *testing.T, cfg func(*streamProbe), body func(*streamProbe) error, client func(net.Conn)) {
	t.Helper()
	probeCfg, probeBody = cfg, body
	t.Cleanup(func() { probeCfg, probeBody = nil, nil })
	oneRequest(t, handler.For[streamProbe](), client)
}

// I3, I7: Rfile is buffered by default; Connection is the request.
func TestRfileBuffered_I3_I7(t *testing.T) {
	var got []string
	var same bool
	withProbe(t, nil, func(h *streamProbe) error {
		same = h.Connection == h.Request
		for {
			line, err := h.Rfile.ReadString('\n')
			if line != "" {
				got = append(got, line)
			}
			if err != nil {
				return nil
			}
		}
	}, func(c net.Conn) {
		c.Write([]byte("one\ntwo\nthree"))
		c.(*net.TCPConn).CloseWrite()
		io.ReadAll(c)
	})
	if !same || fmt.Sprint(got) != "[one\n two\n three]" {
		t.Fatalf("same=%v lines %q", same, got)
	}
}

// I3: RBufSize Unbuffered reads no further than the line: the rest stays in
// the socket for a direct read of Connection.
func TestRfileUnbuffered_I3(t *testing.T) {
	var line, rest string
	withProbe(t, func(h *streamProbe) { h.RBufSize = handler.Unbuffered }, func(h *streamProbe) error {
		l, err := h.Rfile.ReadString('\n')
		if err != nil {
			return err
		}
		line = l
		b := make([]byte, 100)
		n, err := io.ReadAtLeast(h.Connection, b, 4)
		rest = string(b[:n])
		return err
	}, func(c net.Conn) {
		c.Write([]byte("head\nbody"))
		io.ReadAll(c)
	})
	if line != "head\n" || rest != "body" {
		t.Fatalf("line %q rest %q", line, rest)
	}
}

// I4, I9-I12: Wfile is an unbuffered SocketWriter: bytes leave at once,
// Write returns the count, Fileno is the request's, writes after Close
// still send, Close leaves the socket open.
func TestSocketWriter_I4_I9_I12(t *testing.T) {
	seen := make(chan string, 1)
	var n int
	var writable, fdSame, stillOpen bool
	withProbe(t, nil, func(h *streamProbe) error {
		w, ok := h.Wfile.(*handler.SocketWriter)
		if !ok {
			return fmt.Errorf("wfile is %T", h.Wfile)
		}
		var err error
		n, err = w.Write([]byte("early"))
		if err != nil {
			return err
		}
		select { // the client saw the bytes before the handler returned
		case <-seen:
		case <-time.After(5 * time.Second):
			return errors.New("unbuffered write not sent at once")
		}
		writable = w.Writable()
		fdSame = w.Fileno() == h.Connection.Fileno()
		w.Close()
		if !w.Closed() {
			return errors.New("not closed")
		}
		w.Write([]byte("+after"))
		stillOpen = h.Connection.Fileno() >= 0
		return nil
	}, func(c net.Conn) {
		b := make([]byte, 5)
		io.ReadFull(c, b)
		seen <- string(b)
		rest, _ := io.ReadAll(c)
		if string(rest) != "+after" {
			t.Errorf("after close: %q", rest)
		}
	})
	if n != 5 || !writable || !fdSame || !stillOpen {
		t.Fatalf("n=%d writable=%v fd=%v open=%v", n, writable, fdSame, stillOpen)
	}
}

// I4, I8: a buffered Wfile (WBufSize > 0) is flushed by Finish.
func TestBufferedWfileFlushedByFinish_I8(t *testing.T) {
	for _, size := range []int{1 << 16, -1} {
		var reply []byte
		var buffered bool
		withProbe(t, func(h *streamProbe) { h.WBufSize = size }, func(h *streamProbe) error {
			_, buffered = h.Wfile.(*handler.SocketWriter)
			buffered = !buffered
			_, err := h.Wfile.Write([]byte("buffered"))
			return err
		}, func(c net.Conn) { reply, _ = io.ReadAll(c) })
		if string(reply) != "buffered" || !buffered {
			t.Fatalf("wbufsize %d: got %q, buffered %v", size, reply, buffered)
		}
	}
}

// I5: Timeout applies to the connection: a read with nothing to read times
// out and the error reaches HandleError.
func TestTimeout_I5(t *testing.T) {
	var readErr error
	start := time.Now()
	withProbe(t, func(h *streamProbe) { h.Timeout = server.After(50 * time.Millisecond) }, func(h *streamProbe) error {
		tc := h.Connection.(server.TimeoutConn)
		if d, ok := tc.Timeout().Duration(); !ok || d != 50*time.Millisecond {
			return fmt.Errorf("connection timeout %v", tc.Timeout())
		}
		_, readErr = h.Rfile.ReadByte()
		return readErr
	}, func(c net.Conn) { io.ReadAll(c) })
	if !errors.Is(readErr, os.ErrDeadlineExceeded) || readErr.Error() != "timed out" {
		t.Fatalf("read error %v", readErr)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("timed out early")
	}
}

// I8: Finish ignores an OS error while flushing (peer gone).
func TestFinishIgnoresFlushOSError_I8(t *testing.T) {
	var finishErr error = errors.New("unset")
	withProbe(t, func(h *streamProbe) { h.WBufSize = 1 << 20 }, func(h *streamProbe) error {
		h.Wfile.Write(bytes.Repeat([]byte("x"), 1<<19))
		time.Sleep(100 * time.Millisecond) // client resets meanwhile
		finishErr = h.StreamRequestHandler.Finish()
		return nil
	}, func(c net.Conn) {
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	})
	if finishErr != nil {
		t.Fatalf("Finish = %v", finishErr)
	}
}

// Setup rejects a request that is not a stream connection.
func TestStreamSetupWrongRequest(t *testing.T) {
	err := handler.Run(&handler.StreamRequestHandler{}, &server.Datagram{}, nil, &server.BaseServer{})
	if !errors.Is(err, server.ErrNotConn) {
		t.Fatal(err)
	}
	err = handler.Run(&handler.DatagramRequestHandler{}, "x", nil, &server.BaseServer{})
	if !errors.Is(err, server.ErrNotDatagram) {
		t.Fatal(err)
	}
}

// I13, I14: datagram handler: Packet, Socket (the server's), Rfile; the
// reply is sent by Finish, a zero-length datagram when nothing was written.
type dgProbe struct {
	handler.DatagramRequestHandler
}

var dgSeen struct {
	sync.Mutex
	packet []byte
	sock   server.Socket
	rfile  string
}

func (h *dgProbe) Handle() error {
	b, _ := io.ReadAll(h.Rfile)
	dgSeen.Lock()
	dgSeen.packet, dgSeen.sock, dgSeen.rfile = h.Packet, h.Socket, string(b)
	dgSeen.Unlock()
	if string(b) != "silent" {
		h.Wfile.WriteString(strings.ToUpper(string(b)))
	}
	return nil
}

func TestDatagramHandler_I13_I14(t *testing.T) {
	s, err := server.NewUDPServer("127.0.0.1:0", handler.For[dgProbe]())
	if err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	s.Timeout = server.After(10 * time.Second)
	c, err := net.Dial("udp", s.ServerAddress.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 100)
	for _, tc := range []struct{ send, want string }{{"hello", "HELLO"}, {"silent", ""}} {
		c.Write([]byte(tc.send))
		if err := s.HandleRequest(); err != nil {
			t.Fatal(err)
		}
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != tc.want {
			t.Fatalf("reply %q %v, want %q", buf[:n], err, tc.want)
		}
		dgSeen.Lock()
		if string(dgSeen.packet) != tc.send || dgSeen.sock != s.Socket || dgSeen.rfile != tc.send {
			t.Fatalf("packet %q sock ok %v rfile %q", dgSeen.packet, dgSeen.sock == s.Socket, dgSeen.rfile)
		}
		dgSeen.Unlock()
	}
}
