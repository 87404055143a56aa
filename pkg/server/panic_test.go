package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// A panic in any hook is contained (issue 12, item 4): it becomes the
// *PanicError the call returns, or takes the path CPython gives that hook's
// exception (B8, J2).

// panicky is a TCPServer "subclass" whose hook named panicIn panics; every
// hook records its call.
type panicky struct {
	server.TCPServer
	panicIn string
	value   any   // the panic value; nil: "<hook> exploded"
	bindErr error // ServerBind's error, to reach ServerClose from Init
	mu      sync.Mutex
	calls   []string
	handled []error // what HandleError received
	reqs    []server.Request
}

func (s *panicky) hook(name string) {
	s.mu.Lock()
	s.calls = append(s.calls, name)
	s.mu.Unlock()
	if s.panicIn == name {
		v := s.value
		if v == nil {
			v = name + " exploded"
		}
		panic(v)
	}
}

func (s *panicky) called(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if c == name {
			return true
		}
	}
	return false
}

func (s *panicky) Fileno() int { s.hook("Fileno"); return s.TCPServer.Fileno() }

func (s *panicky) ServerSocket() server.Socket {
	s.hook("ServerSocket")
	return s.TCPServer.ServerSocket()
}

func (s *panicky) ServerBind() error {
	s.hook("ServerBind")
	if s.bindErr != nil {
		return s.bindErr
	}
	return s.TCPServer.ServerBind()
}

func (s *panicky) ServerActivate() error {
	s.hook("ServerActivate")
	return s.TCPServer.ServerActivate()
}
func (s *panicky) ServerClose() error { s.hook("ServerClose"); return s.TCPServer.ServerClose() }

func (s *panicky) GetRequest() (server.Request, net.Addr, error) {
	s.hook("GetRequest")
	req, addr, err := s.TCPServer.GetRequest()
	if err == nil {
		s.mu.Lock()
		s.reqs = append(s.reqs, req)
		s.mu.Unlock()
	}
	return req, addr, err
}

func (s *panicky) VerifyRequest(req server.Request, addr net.Addr) (bool, error) {
	s.hook("VerifyRequest")
	return s.TCPServer.VerifyRequest(req, addr)
}

func (s *panicky) ProcessRequest(req server.Request, addr net.Addr) error {
	s.hook("ProcessRequest")
	return s.TCPServer.ProcessRequest(req, addr)
}

func (s *panicky) FinishRequest(req server.Request, addr net.Addr) error {
	s.hook("FinishRequest")
	return s.TCPServer.FinishRequest(req, addr)
}

func (s *panicky) ShutdownRequest(req server.Request) error {
	s.hook("ShutdownRequest")
	return s.TCPServer.ShutdownRequest(req)
}

func (s *panicky) CloseRequest(req server.Request) error {
	s.hook("CloseRequest")
	return s.TCPServer.CloseRequest(req)
}

func (s *panicky) HandleError(req server.Request, addr net.Addr, err error) error {
	s.mu.Lock()
	s.handled = append(s.handled, err)
	s.mu.Unlock()
	s.hook("HandleError")
	return nil
}

func (s *panicky) HandleTimeout() error { s.hook("HandleTimeout"); return s.TCPServer.HandleTimeout() }

func (s *panicky) ServiceActions() error {
	s.hook("ServiceActions")
	return s.TCPServer.ServiceActions()
}

// panickyHandler echoes a line; it panics for "ServeRequest" and fails for
// "HandleError" (so that HandleError is called).
var panickyHandler = server.HandlerFunc(func(req server.Request, _ net.Addr, srv server.Server) error {
	s := srv.(*panicky)
	switch s.panicIn {
	case "ServeRequest":
		s.hook("ServeRequest")
	case "HandleError":
		return errors.New("handler failed")
	}
	c := req.(server.Conn)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	_, err = c.Write([]byte(line))
	return err
})

func newPanicky(t *testing.T, panicIn string) *panicky {
	t.Helper()
	s := &panicky{}
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	if err := s.Init(s, addr, panickyHandler, true); err != nil {
		t.Fatal(err)
	}
	s.panicIn = panicIn
	if panicIn == "WaitReadable" {
		s.WaitReadable = func(int, server.Timeout) (bool, error) { panic("WaitReadable exploded") }
	}
	t.Cleanup(func() {
		s.mu.Lock()
		reqs := s.reqs
		s.mu.Unlock()
		for _, r := range reqs {
			r.(server.Conn).Close() // those a panic left open
		}
		s.TCPServer.ServerClose()
	})
	return s
}

// askAsync sends msg from another goroutine; the channel gets the reply.
func askAsync(addr, msg string) chan string {
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
		b, _ := io.ReadAll(c)
		ch <- string(b)
	}()
	return ch
}

// wantPanic checks that err is a *PanicError naming hook, with the panic's
// value and a stack through this file.
func wantPanic(t *testing.T, what string, err error, hook string) {
	t.Helper()
	var pe *server.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("%s = %v (%T), want a *PanicError from %s", what, err, err, hook)
	}
	if pe.Hook != hook {
		t.Fatalf("%s: PanicError.Hook = %q, want %q (%v)", what, pe.Hook, hook, err)
	}
	if !strings.Contains(string(pe.Stack), "panic_test.go") {
		t.Fatalf("%s: the stack does not show the panic:\n%s", what, pe.Stack)
	}
	if !strings.HasPrefix(pe.Error(), "panic in "+hook+": ") {
		t.Fatalf("%s: message %q", what, pe.Error())
	}
}

// loopPanicCases: one per hook the loop calls. returned is the Hook of the
// *PanicError the call returns ("" for nil); handled is the Hook of the
// *PanicError HandleError receives ("" for none); client says whether a
// client sends a request.
var loopPanicCases = []struct {
	hook     string
	value    any
	entries  []string
	returned string
	handled  string
	client   bool
}{
	// B4, B7: hooks around the wait end the call.
	{hook: "Fileno", entries: both, returned: "Fileno"},
	{hook: "WaitReadable", entries: both, returned: "WaitReadable"},
	{hook: "ServerSocket", entries: onlyHandleRequest, returned: "ServerSocket"},
	// B8: get_request and verify_request raising propagate; a panic in
	// GetRequest is not an OSError to ignore, even with an OSError value.
	{hook: "GetRequest", entries: both, returned: "GetRequest", client: true},
	{hook: "GetRequest", value: os.ErrDeadlineExceeded, entries: both, returned: "GetRequest", client: true},
	{hook: "VerifyRequest", entries: both, returned: "VerifyRequest", client: true},
	// B8: process_request's Exception goes to handle_error, then
	// shutdown_request, and serving goes on.
	{hook: "ProcessRequest", entries: onlyHandleRequest, handled: "ProcessRequest", client: true},
	{hook: "FinishRequest", entries: onlyHandleRequest, handled: "FinishRequest", client: true},
	{hook: "ServeRequest", entries: onlyHandleRequest, handled: "ServeRequest", client: true},
	// B8: a BaseException value keeps the re-raise path.
	{hook: "ProcessRequest", value: &server.KeyboardInterrupt{}, entries: onlyHandleRequest, returned: "ProcessRequest", client: true},
	// B11, B8: shutdown_request raises inside process_request (to
	// handle_error), then again in the except clause (out of the loop).
	{hook: "ShutdownRequest", entries: both, returned: "ShutdownRequest", handled: "ShutdownRequest", client: true},
	{hook: "CloseRequest", entries: both, returned: "ShutdownRequest", handled: "ShutdownRequest", client: true},
	// B8, B16: handle_error raising propagates.
	{hook: "HandleError", entries: both, returned: "HandleError", client: true},
	// B7, B9: handle_timeout raising ends handle_request.
	{hook: "HandleTimeout", entries: onlyHandleRequest, returned: "HandleTimeout"},
	// B4, B6: service_actions raising ends serve_forever.
	{hook: "ServiceActions", entries: onlyServeForever, returned: "ServiceActions"},
}

var (
	both              = []string{"HandleRequest", "ServeForever"}
	onlyHandleRequest = []string{"HandleRequest"}
	onlyServeForever  = []string{"ServeForever"}
)

func TestHookPanicsContained_B8_J2(t *testing.T) {
	for _, tc := range loopPanicCases {
		for _, entry := range tc.entries {
			name := tc.hook + "/" + entry
			if tc.value != nil {
				name += fmt.Sprintf("/%T", tc.value)
			}
			t.Run(name, func(t *testing.T) {
				s := newPanicky(t, tc.hook)
				s.value = tc.value
				var reply chan string
				if tc.client {
					reply = askAsync(s.ServerAddress.String(), "x\n")
				}
				var err error
				switch entry {
				case "HandleRequest":
					if tc.hook == "HandleTimeout" {
						s.Timeout = server.After(0)
					} else {
						s.Timeout = server.After(10 * time.Second)
					}
					err = s.HandleRequest()
				case "ServeForever":
					done := make(chan error, 1)
					go func() { done <- s.ServeForever(fast) }()
					select {
					case err = <-done:
					case <-time.After(10 * time.Second):
						s.Shutdown()
						t.Fatal("ServeForever went on after the panic")
					}
				}
				if tc.returned == "" {
					if err != nil {
						t.Fatalf("%s = %v, want nil", entry, err)
					}
				} else {
					wantPanic(t, entry, err, tc.returned)
				}
				s.mu.Lock()
				handled := s.handled
				s.mu.Unlock()
				switch {
				case tc.handled != "":
					if len(handled) == 0 {
						t.Fatal("HandleError not called")
					}
					wantPanic(t, "HandleError's error", handled[0], tc.handled)
				case tc.hook != "HandleError" && len(handled) > 0:
					t.Fatalf("HandleError called with %v", handled)
				}
				if tc.returned == "" && !s.called("ShutdownRequest") {
					t.Fatal("the request was not shut down after HandleError")
				}
				if entry == "ServeForever" {
					// The loop's state was reset: it serves again and stops.
					s.panicIn = ""
					s.WaitReadable = nil
					done := make(chan error, 1)
					go func() { done <- s.ServeForever(fast) }()
					s.Shutdown()
					if err := <-done; err != nil {
						t.Fatalf("ServeForever after a contained panic: %v", err)
					}
				}
				if tc.client {
					s.mu.Lock()
					for _, r := range s.reqs {
						r.(server.Conn).Close() // those a panic left open
					}
					s.mu.Unlock()
					s.TCPServer.ServerClose() // and those never accepted
					<-reply
				}
			})
		}
	}
}

// C6, B17: panics in the hooks Init calls are Init's error, and the socket
// is closed (no descriptor leaks); a panic in ServerClose while Init cleans
// up replaces the error, as an exception in CPython's except clause does;
// Close returns ServerClose's.
func TestInitAndClosePanicsContained_C6_B17(t *testing.T) {
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	for _, tc := range []struct {
		hook    string
		bindErr error
		want    string
		closed  bool
	}{
		{hook: "NewSocket", want: "NewSocket"},
		{hook: "ServerBind", want: "ServerBind", closed: true},
		{hook: "ServerActivate", want: "ServerActivate", closed: true},
		{hook: "ServerClose", bindErr: errors.New("bind failed"), want: "ServerClose"},
	} {
		t.Run(tc.hook, func(t *testing.T) {
			s := &panicky{panicIn: tc.hook, bindErr: tc.bindErr}
			var made server.Socket
			s.NewSocket = func(family, sotype int) (server.Socket, error) {
				if tc.hook == "NewSocket" {
					panic("NewSocket exploded")
				}
				sock, err := server.NewSocket(family, sotype)
				made = sock
				return sock, err
			}
			err := s.Init(s, addr, panickyHandler, true)
			wantPanic(t, "Init", err, tc.want)
			if made != nil {
				if tc.closed && made.Fileno() != -1 {
					t.Fatal("the socket was not closed after the panic")
				}
				made.Close()
			}
		})
	}
	t.Run("Close", func(t *testing.T) {
		s := newPanicky(t, "")
		s.panicIn = "ServerClose"
		wantPanic(t, "Close", s.Close(), "ServerClose")
	})
}

// A Drainer whose Drain panics: ShutdownContext returns the panic.
type panickyDrainer struct{ panicky }

func (s *panickyDrainer) Drain(context.Context) error { panic("Drain exploded") }

func TestShutdownContextDrainPanic(t *testing.T) {
	s := &panickyDrainer{}
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	if err := s.Init(s, addr, panickyHandler, true); err != nil {
		t.Fatal(err)
	}
	defer s.TCPServer.ServerClose()
	wantPanic(t, "ShutdownContext", s.ShutdownContext(context.Background()), "Drain")
}
