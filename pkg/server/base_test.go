//go:build unix

package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gopy-socketserver/socketserver/pkg/internal/servertest"
	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// logServer overrides most hooks, records each call and calls super(): the
// pattern the bindings use to forward Python overrides (design rule 1).
type logServer struct {
	server.TCPServer
	mu  sync.Mutex
	log []string
}

func (s *logServer) rec(name string) {
	s.mu.Lock()
	s.log = append(s.log, name)
	s.mu.Unlock()
}

func (s *logServer) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

func (s *logServer) ServerBind() error {
	s.rec("server_bind")
	return s.TCPServer.ServerBind()
}

func (s *logServer) ServerActivate() error {
	s.rec("server_activate")
	return s.TCPServer.ServerActivate()
}

func (s *logServer) GetRequest() (server.Request, net.Addr, error) {
	s.rec("get_request")
	return s.TCPServer.GetRequest()
}

func (s *logServer) VerifyRequest(r server.Request, a net.Addr) (bool, error) {
	s.rec("verify_request")
	return s.TCPServer.VerifyRequest(r, a)
}

func (s *logServer) ProcessRequest(r server.Request, a net.Addr) error {
	s.rec("process_request")
	return s.TCPServer.ProcessRequest(r, a)
}

func (s *logServer) FinishRequest(r server.Request, a net.Addr) error {
	s.rec("finish_request")
	return s.TCPServer.FinishRequest(r, a)
}

func (s *logServer) ShutdownRequest(r server.Request) error {
	s.rec("shutdown_request")
	return s.TCPServer.ShutdownRequest(r)
}

func (s *logServer) CloseRequest(r server.Request) error {
	s.rec("close_request")
	return s.TCPServer.CloseRequest(r)
}

func (s *logServer) HandleError(r server.Request, a net.Addr, err error) error {
	s.rec("handle_error")
	return nil
}

func (s *logServer) HandleTimeout() error {
	s.rec("handle_timeout")
	return s.TCPServer.HandleTimeout()
}

func (s *logServer) ServerClose() error {
	s.rec("server_close")
	return s.TCPServer.ServerClose()
}

func newLogServer(t *testing.T, h server.Handler) *logServer {
	t.Helper()
	s := &logServer{}
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	if err := s.Init(s, addr, h, true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.TCPServer.ServerClose() })
	return s
}

func sendAsync(t *testing.T, addr, msg string) chan string {
	ch := make(chan string, 1)
	go func() {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			ch <- "dial: " + err.Error()
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte(msg))
		var buf bytes.Buffer
		buf.ReadFrom(c)
		ch <- buf.String()
	}()
	return ch
}

// J1, B13, B14, C12, C13: override-with-super of several hooks; the loop
// dispatches to the most-derived method and each super() reaches the next.
func TestOverrideWithSuperCallOrder_J1(t *testing.T) {
	s := newLogServer(t, echoLine)
	reply := sendAsync(t, s.ServerAddress.String(), "x\n")
	if err := s.HandleRequest(); err != nil {
		t.Fatal(err)
	}
	if got := <-reply; got != "x\n" {
		t.Fatalf("reply %q", got)
	}
	want := []string{"server_bind", "server_activate", "get_request", "verify_request",
		"process_request", "finish_request", "shutdown_request", "close_request"}
	if got := s.calls(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	s.Close()
	if c := s.calls(); c[len(c)-1] != "server_close" {
		t.Fatalf("Close did not dispatch to ServerClose: %v", c)
	}
}

// B8, B11: error routing from ProcessRequest, table-driven; the failing
// handler reaches ShutdownRequest through the error path (B11: no finally).
func TestHandleRequestErrorRouting_B8(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name    string
		h       server.HandlerFunc
		wantErr error
		want    []string
	}{
		{"ok", func(server.Request, net.Addr, server.Server) error { return nil }, nil,
			[]string{"process_request", "finish_request", "shutdown_request", "close_request"}},
		{"exception", func(server.Request, net.Addr, server.Server) error { return boom }, nil,
			[]string{"process_request", "finish_request", "handle_error", "shutdown_request", "close_request"}},
		{"panic", func(server.Request, net.Addr, server.Server) error { panic("kaboom") }, nil,
			[]string{"process_request", "finish_request", "handle_error", "shutdown_request", "close_request"}},
		{"systemexit", func(server.Request, net.Addr, server.Server) error { return &server.SystemExit{Code: 3} },
			&server.SystemExit{}, []string{"process_request", "finish_request", "shutdown_request", "close_request"}},
		{"keyboardinterrupt", func(server.Request, net.Addr, server.Server) error {
			return fmt.Errorf("wrapped: %w", &server.KeyboardInterrupt{})
		}, &server.KeyboardInterrupt{}, []string{"process_request", "finish_request", "shutdown_request", "close_request"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newLogServer(t, tc.h)
			reply := sendAsync(t, s.ServerAddress.String(), "x\n")
			err := s.HandleRequest()
			<-reply
			if tc.wantErr == nil && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tc.wantErr != nil && !server.IsBaseException(err) {
				t.Fatalf("error %v, want a BaseException", err)
			}
			got := s.calls()[4:]
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("calls %v, want %v", got, tc.want)
			}
		})
	}
}

// B8: an OSError from GetRequest is swallowed; other errors propagate.
type getReqServer struct {
	server.BaseServer
	err     error
	fd      int
	process int
}

func (s *getReqServer) Fileno() int { return s.fd }
func (s *getReqServer) GetRequest() (server.Request, net.Addr, error) {
	return nil, nil, s.err
}
func (s *getReqServer) ProcessRequest(server.Request, net.Addr) error { s.process++; return nil }

func readyFD(t *testing.T) int {
	t.Helper()
	r, w := servertest.Pipe(t)
	unix.Write(w, []byte("x"))
	return r
}

func TestGetRequestErrors_B8(t *testing.T) {
	other := errors.New("not an OSError")
	cases := []struct {
		name string
		err  error
		prop bool
	}{
		{"errno", unix.ECONNABORTED, false},
		{"timeout", server.ErrTimeout, false},
		{"plain", other, true},
		{"base", &server.KeyboardInterrupt{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &getReqServer{err: tc.err, fd: readyFD(t)}
			s.Init(s, nil, nil)
			err := s.HandleRequest()
			if (err != nil) != tc.prop {
				t.Fatalf("HandleRequest = %v, propagate %v", err, tc.prop)
			}
			if s.process != 0 {
				t.Fatal("ProcessRequest called after a failed GetRequest")
			}
		})
	}
}

// B8 (Issue #26309): a rejected request is shut down and not processed; a
// failing VerifyRequest propagates without shutdown.
type verifyServer struct {
	logServer
	ok   bool
	err  error
	last server.Request
}

func (s *verifyServer) VerifyRequest(r server.Request, _ net.Addr) (bool, error) {
	s.rec("verify_request")
	s.last = r
	return s.ok, s.err
}

func TestVerifyRequestFalse_B8_B10(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
		err  error
		want []string
	}{
		{"false", false, nil, []string{"verify_request", "shutdown_request", "close_request"}},
		{"raises", false, errors.New("verify failed"), []string{"verify_request"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &verifyServer{ok: tc.ok, err: tc.err}
			addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
			if err := s.Init(s, addr, echoLine, true); err != nil {
				t.Fatal(err)
			}
			defer s.TCPServer.ServerClose()
			reply := sendAsync(t, s.ServerAddress.String(), "x\n")
			err := s.HandleRequest()
			if (err != nil) != (tc.err != nil) {
				t.Fatalf("err = %v", err)
			}
			if got := s.calls()[3:]; fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("calls %v want %v", got, tc.want)
			}
			if tc.err != nil {
				// the server did not shut the request down (CPython leaves it
				// to the garbage collector); close it here
				s.last.(server.Conn).Close()
			}
			if got := <-reply; got != "" {
				t.Fatalf("rejected request got reply %q", got)
			}
		})
	}
}

// B16: the exact report text of HandleError.
func TestHandleErrorText_B16(t *testing.T) {
	var buf bytes.Buffer
	s := &server.BaseServer{ErrorOutput: &buf}
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1).To4(), Port: 47832}
	s.HandleError(nil, addr, errors.New("ValueError: bad"))
	dash := strings.Repeat("-", 40)
	want := dash + "\nException occurred during processing of request from ('127.0.0.1', 47832)\nValueError: bad\n" + dash + "\n"
	if buf.String() != want {
		t.Fatalf("got %q\nwant %q", buf.String(), want)
	}
	buf.Reset()
	s.HandleError(nil, &net.TCPAddr{IP: net.IPv6loopback, Port: 5}, &server.PanicError{Value: "x", Stack: []byte("goroutine 1\n")})
	if !strings.Contains(buf.String(), "from ('::1', 5, 0, 0)\nTraceback (most recent call last):\ngoroutine 1\npanic: x\n") {
		t.Fatalf("panic report %q", buf.String())
	}
}

// B16: a handler panic reaches the default HandleError with the stack.
func TestHandlerPanicReport_B16(t *testing.T) {
	var buf bytes.Buffer
	s, err := server.NewTCPServer("127.0.0.1:0", server.HandlerFunc(func(server.Request, net.Addr, server.Server) error {
		panic("handler exploded")
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	s.ErrorOutput = &buf
	reply := sendAsync(t, s.ServerAddress.String(), "x")
	if err := s.HandleRequest(); err != nil {
		t.Fatal(err)
	}
	<-reply
	out := buf.String()
	for _, want := range []string{"Exception occurred during processing of request from ('127.0.0.1', ", "panic in ServeRequest: handler exploded", "base_test.go"} {
		if !strings.Contains(out, want) {
			t.Fatalf("report lacks %q:\n%s", want, out)
		}
	}
}

// B1, B7, B9: HandleRequest's timeout arithmetic.
func TestHandleRequestTimeout_B7(t *testing.T) {
	cases := []struct {
		name      string
		server    server.Timeout
		socket    server.Timeout
		minWait   time.Duration
		wantCalls int
	}{
		{"server timeout", server.After(80 * time.Millisecond), server.None, 80 * time.Millisecond, 1},
		{"socket timeout", server.None, server.After(60 * time.Millisecond), 60 * time.Millisecond, 1},
		{"smaller of both", server.After(10 * time.Second), server.After(50 * time.Millisecond), 50 * time.Millisecond, 1},
		{"zero", server.After(0), server.None, 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newLogServer(t, echoLine)
			s.Timeout = tc.server
			s.Socket.SetTimeout(tc.socket)
			start := time.Now()
			if err := s.HandleRequest(); err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el < tc.minWait {
				t.Fatalf("returned after %v, before the timeout %v", el, tc.minWait)
			}
			n := 0
			for _, c := range s.calls() {
				if c == "handle_timeout" {
					n++
				}
			}
			if n != tc.wantCalls {
				t.Fatalf("handle_timeout called %d times", n)
			}
		})
	}
}

// B7: early wakeups wait again for the remaining time; HandleTimeout only
// when the remainder is strictly negative.
func TestHandleRequestEarlyWakeup_B7(t *testing.T) {
	s := newLogServer(t, echoLine)
	s.Timeout = server.After(120 * time.Millisecond)
	var waits []time.Duration
	s.WaitReadable = func(fd int, to server.Timeout) (bool, error) {
		d, ok := to.Duration()
		if !ok {
			t.Fatal("waited without timeout")
		}
		waits = append(waits, d)
		time.Sleep(d / 3) // wake up early, not ready
		return false, nil
	}
	if err := s.HandleRequest(); err != nil {
		t.Fatal(err)
	}
	if len(waits) < 3 {
		t.Fatalf("expected several waits, got %v", waits)
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] >= waits[i-1] {
			t.Fatalf("remaining time did not shrink: %v", waits)
		}
	}
	if c := s.calls(); c[len(c)-1] != "handle_timeout" {
		t.Fatalf("calls %v", c)
	}
}

// B4: ServiceActions runs on every iteration, idle or not; B5: Shutdown.
type countingServer struct {
	server.TCPServer
	actions atomic.Int32
}

func (s *countingServer) ServiceActions() error {
	s.actions.Add(1)
	return s.TCPServer.ServiceActions()
}

func TestServeForeverServiceActions_B4_B6(t *testing.T) {
	s := &countingServer{}
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	if err := s.Init(s, addr, echoLine, true); err != nil {
		t.Fatal(err)
	}
	stop := serve(t, s)
	deadline := time.Now().Add(5 * time.Second)
	for s.actions.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s.actions.Load() < 3 {
		t.Fatal("service_actions not called while idle")
	}
	before := s.actions.Load()
	if got := tcpRoundTrip(t, s.ServerAddress.String(), "a\n"); got != "a\n" {
		t.Fatalf("got %q", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if s.actions.Load() <= before {
		t.Fatal("service_actions not called after a request")
	}
}

// B4 (bpo-35017): a shutdown requested during the wait exits without
// serving the ready request.
func TestServeForeverShutdownDuringSelect_B4(t *testing.T) {
	s := &getReqServer{err: unix.EAGAIN, fd: readyFD(t)}
	s.Init(s, nil, nil)
	calledGet := false
	s.err = nil
	s.WaitReadable = func(fd int, to server.Timeout) (bool, error) {
		go s.Shutdown()
		time.Sleep(50 * time.Millisecond) // shutdown flag set while "selecting"
		return true, nil
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeForever(fast) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeForever did not exit")
	}
	if s.process != 0 || calledGet {
		t.Fatal("a ready request was served after shutdown")
	}
}

// B5: shutdown before serve_forever, after it, and twice.
func TestShutdownSemantics_B5(t *testing.T) {
	s, err := server.NewTCPServer("127.0.0.1:0", echoLine)
	if err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	// Called just before serve_forever: the loop exits at once and releases it.
	released := make(chan struct{})
	go func() { s.Shutdown(); close(released) }()
	time.Sleep(20 * time.Millisecond)
	if err := s.ServeForever(server.After(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-released:
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown not released")
	}
	// After a finished loop Shutdown returns at once, twice, and leaves
	// the flag set so the next loop exits immediately.
	s.Shutdown()
	s.Shutdown()
	start := time.Now()
	if err := s.ServeForever(server.After(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("next ServeForever did not exit at once")
	}
	// During serve: Shutdown stops a running loop.
	stop := serve(t, s)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// B4: a BaseException from a handler propagates out of ServeForever after
// the request is shut down, and the loop can be restarted.
func TestServeForeverPropagatesSystemExit_B4_J2(t *testing.T) {
	var n atomic.Int32
	s, err := server.NewTCPServer("127.0.0.1:0", server.HandlerFunc(func(server.Request, net.Addr, server.Server) error {
		if n.Add(1) == 1 {
			return &server.SystemExit{Code: 0}
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	done := make(chan error, 1)
	go func() { done <- s.ServeForever(fast) }()
	if got := tcpRoundTrip(t, s.ServerAddress.String(), "x"); got != "" {
		t.Fatalf("got %q", got)
	}
	select {
	case err := <-done:
		var se *server.SystemExit
		if !errors.As(err, &se) {
			t.Fatalf("ServeForever = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeForever did not return")
	}
	// The event was set on exit: Shutdown does not block.
	s.Shutdown()
}

// B17, C9, C10, J4: Close calls ServerClose; Fileno is the socket's fd and
// -1 afterwards (test_context_manager).
func TestCloseIsExit_B17_C9(t *testing.T) {
	s, err := server.NewTCPServer("127.0.0.1:0", echoLine)
	if err != nil {
		t.Fatal(err)
	}
	if s.Fileno() < 0 || s.Fileno() != s.Socket.Fileno() {
		t.Fatal("fileno is not the socket's (C10)")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Fileno() != -1 || s.Socket.Fileno() != -1 {
		t.Fatal("fileno not -1 after close")
	}
	if err := s.Close(); err != nil {
		t.Fatal("second close failed:", err)
	}
}

// B2, B3, B12, B14, B15, B9, B10, B6: BaseServer's defaults.
func TestBaseServerDefaults_B2(t *testing.T) {
	fds := countFDs(t)
	var s server.BaseServer
	addr := &net.TCPAddr{Port: 1}
	s.Init(&s, addr, echoLine)
	if s.ServerAddress != addr || s.RequestHandler == nil || s.Self() != &s {
		t.Fatal("Init did not store its arguments")
	}
	if !s.Timeout.IsNone() {
		t.Fatal("timeout is not None (B1)")
	}
	if countFDs(t) != fds {
		t.Fatal("Init opened a descriptor")
	}
	for name, err := range map[string]error{
		"server_activate": s.ServerActivate(), "server_close": s.ServerClose(),
		"handle_timeout": s.HandleTimeout(), "service_actions": s.ServiceActions(),
		"close_request": s.CloseRequest(1), "shutdown_request": s.ShutdownRequest(1),
	} {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if ok, err := s.VerifyRequest(nil, nil); !ok || err != nil {
		t.Error("verify_request is not True")
	}
	if _, _, err := s.GetRequest(); !errors.Is(err, server.ErrNotImplemented) {
		t.Error("BaseServer.GetRequest should be unimplemented (K4)")
	}
}

// ShutdownContext: drains a sync loop, and returns ctx.Err at the deadline
// while a request is stuck.
func TestShutdownContext(t *testing.T) {
	release := make(chan struct{})
	s, err := server.NewTCPServer("127.0.0.1:0", server.HandlerFunc(func(server.Request, net.Addr, server.Server) error {
		<-release
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	done := make(chan error, 1)
	go func() { done <- s.ServeForever(fast) }()
	reply := sendAsync(t, s.ServerAddress.String(), "x")
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.ShutdownContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ShutdownContext = %v, want deadline exceeded", err)
	}
	close(release)
	<-reply
	if err := s.ShutdownContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// With no loop running it returns at once and leaves the flag clear.
	if err := s.ShutdownContext(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A9: waiting for requests uses poll(2): no descriptor is added while
// ServeForever or HandleRequest waits.
func TestReadinessWaitAddsNoFD_A9(t *testing.T) {
	s, err := server.NewTCPServer("127.0.0.1:0", echoLine)
	if err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	before := countFDs(t)
	var during []int
	s.WaitReadable = func(fd int, to server.Timeout) (bool, error) {
		during = append(during, countFDs(t))
		return server.PollReadable(fd, to, nil)
	}
	s.Timeout = server.After(30 * time.Millisecond)
	if err := s.HandleRequest(); err != nil {
		t.Fatal(err)
	}
	for _, n := range during {
		if n > before {
			t.Fatalf("descriptors during the wait: %d, before: %d", n, before)
		}
	}
	if len(during) == 0 {
		t.Fatal("wait not observed")
	}
}

// B7: a server whose ServerSocket is a view of an embedder's socket object
// that has no descriptor of its own (Fileno -1) takes its timeout from the
// view and waits with poll(2) on the server's Fileno. The loop asks a
// ServerSocket for Timeout and Fileno only.
type timeoutView struct {
	server.Socket // nil: the loop calls none of the other methods
	t             server.Timeout
}

func (v timeoutView) Timeout() server.Timeout { return v.t }
func (v timeoutView) Fileno() int             { return -1 }

type viewServer struct {
	getReqServer
}

func (s *viewServer) ServerSocket() server.Socket {
	return timeoutView{t: server.After(20 * time.Millisecond)}
}

func TestPartialSocketView_B7(t *testing.T) {
	var p [2]int
	p[0], p[1] = servertest.Pipe(t)
	s := &viewServer{}
	s.fd = p[0]
	s.Init(s, nil, nil)
	start := time.Now()
	if err := s.HandleRequest(); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("the view's timeout was not used")
	}
}
