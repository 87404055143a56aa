//go:build unix

package forking_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/forking"
	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// A panic in any hook of a forking server is contained (issue 12, item 4):
// in the parent's loop as in the synchronous server (B8), in the child as
// CPython's child branch routes the exception: status 1 after an Exception
// (E8, J2).

// fpanicky is a ForkingTCPServer "subclass" whose hook named panicIn
// panics; it records its calls and what HandleError gets.
type fpanicky struct {
	forking.TCPServer
	panicIn string
	mu      sync.Mutex
	calls   []string
	handled []error
	reqs    []server.Request
}

func (s *fpanicky) hook(name string) {
	s.mu.Lock()
	s.calls = append(s.calls, name)
	s.mu.Unlock()
	if s.panicIn == name {
		panic(name + " exploded")
	}
}

func (s *fpanicky) called(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if c == name {
			return true
		}
	}
	return false
}

func (s *fpanicky) GetRequest() (server.Request, net.Addr, error) {
	s.hook("GetRequest")
	req, addr, err := s.TCPServer.GetRequest()
	if err == nil {
		s.mu.Lock()
		s.reqs = append(s.reqs, req)
		s.mu.Unlock()
	}
	return req, addr, err
}

func (s *fpanicky) VerifyRequest(req server.Request, addr net.Addr) (bool, error) {
	s.hook("VerifyRequest")
	return s.TCPServer.VerifyRequest(req, addr)
}

func (s *fpanicky) FinishRequest(req server.Request, addr net.Addr) error {
	s.hook("FinishRequest")
	return s.TCPServer.FinishRequest(req, addr)
}

func (s *fpanicky) ShutdownRequest(req server.Request) error {
	s.hook("ShutdownRequest")
	return s.TCPServer.ShutdownRequest(req)
}

func (s *fpanicky) CloseRequest(req server.Request) error {
	s.hook("CloseRequest")
	return s.TCPServer.CloseRequest(req)
}

func (s *fpanicky) HandleError(req server.Request, addr net.Addr, err error) error {
	s.mu.Lock()
	s.handled = append(s.handled, err)
	s.mu.Unlock()
	s.hook("HandleError")
	return nil
}

// fpanickyHandler panics for "ServeRequest", fails for "HandleError", and
// otherwise succeeds without I/O.
var fpanickyHandler = server.HandlerFunc(func(_ server.Request, _ net.Addr, srv server.Server) error {
	s := srv.(*fpanicky)
	switch s.panicIn {
	case "ServeRequest":
		s.hook("ServeRequest")
	case "HandleError":
		return errors.New("handler failed")
	}
	return nil
})

func newFPanicky(t *testing.T, panicIn string) *fpanicky {
	t.Helper()
	s := &fpanicky{TCPServer: forking.TCPServer{Mixin: forking.NewMixin()}}
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	if err := s.Init(s, addr, fpanickyHandler, true); err != nil {
		t.Fatal(err)
	}
	s.panicIn = panicIn
	s.Fork = func(server.Server, server.Request, net.Addr) (int, error) {
		s.hook("Fork")
		return 4242, nil // a child that never existed: Wait is faked too
	}
	s.Wait = func(pid, options int) (int, syscall.WaitStatus, error) {
		s.hook("Wait")
		return pid, 0, nil
	}
	t.Cleanup(func() {
		s.closeRequests()
		s.TCPServer.TCPServer.ServerClose()
	})
	return s
}

func (s *fpanicky) closeRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.reqs {
		r.(server.Conn).Close()
	}
}

// wantPanic checks that err is a *server.PanicError naming hook.
func wantPanic(t *testing.T, what string, err error, hook string) {
	t.Helper()
	var pe *server.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("%s = %v (%T), want a *server.PanicError from %s", what, err, err, hook)
	}
	if pe.Hook != hook || !strings.Contains(string(pe.Stack), "panic_test.go") {
		t.Fatalf("%s: PanicError{Hook: %q} (want %q), stack:\n%s", what, pe.Hook, hook, pe.Stack)
	}
}

// The parent's side: one case per hook the parent calls. withChild first
// forks one (fake) child, so that collecting children calls Wait.
func TestForkingParentHookPanicsContained_E8_B8(t *testing.T) {
	for _, tc := range []struct {
		hook              string
		entry             string
		withChild         bool
		returned, handled string
	}{
		// B8: the loop's hooks, as in the synchronous server.
		{hook: "GetRequest", entry: "HandleRequest", returned: "GetRequest"},
		{hook: "VerifyRequest", entry: "HandleRequest", returned: "VerifyRequest"},
		// E8, B8: os.fork raising goes to handle_error in the parent.
		{hook: "Fork", entry: "HandleRequest", handled: "Fork"},
		// E8: the parent's close_request raising is process_request's
		// exception (handle_error), then shutdown_request's (out).
		{hook: "CloseRequest", entry: "HandleRequest", handled: "ProcessRequest", returned: "ShutdownRequest"},
		// E5-E7, E9: collect_children's waitpid raising ends the call
		// that collects: service_actions, handle_timeout, server_close,
		// and ShutdownContext's Drain.
		{hook: "Wait", entry: "ServeForever", withChild: true, returned: "ServiceActions"},
		{hook: "Wait", entry: "HandleTimeout", withChild: true, returned: "HandleTimeout"},
		{hook: "Wait", entry: "Close", withChild: true, returned: "ServerClose"},
		{hook: "Wait", entry: "ShutdownContext", withChild: true, returned: "Drain"},
	} {
		t.Run(tc.hook+"/"+tc.entry, func(t *testing.T) {
			s := newFPanicky(t, "")
			if tc.withChild {
				reply := askAsync(s.ServerAddress.String())
				s.Timeout = server.After(10 * time.Second)
				if err := s.HandleRequest(); err != nil {
					t.Fatal(err)
				}
				<-reply
				if len(s.ActiveChildren()) != 1 {
					t.Fatalf("children %v", s.ActiveChildren())
				}
			}
			s.panicIn = tc.hook
			var reply chan string
			if !tc.withChild {
				reply = askAsync(s.ServerAddress.String())
			}
			var err error
			switch tc.entry {
			case "HandleRequest":
				s.Timeout = server.After(10 * time.Second)
				err = s.HandleRequest()
			case "HandleTimeout":
				s.Timeout = server.After(0)
				err = s.HandleRequest()
			case "Close":
				err = s.Close()
			case "ShutdownContext":
				err = s.ShutdownContext(context.Background())
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
			if tc.returned != "" {
				wantPanic(t, tc.entry, err, tc.returned)
			} else if err != nil {
				t.Fatalf("%s = %v, want nil", tc.entry, err)
			}
			s.mu.Lock()
			handled := s.handled
			s.mu.Unlock()
			if tc.handled != "" {
				if len(handled) != 1 {
					t.Fatalf("HandleError got %v", handled)
				}
				wantPanic(t, "HandleError's error", handled[0], tc.handled)
			} else if len(handled) > 0 {
				t.Fatalf("HandleError got %v", handled)
			}
			if tc.hook == "Fork" && !s.called("ShutdownRequest") {
				t.Fatal("the request was not shut down after HandleError")
			}
			if reply != nil {
				s.closeRequests()
				s.TCPServer.TCPServer.ServerClose()
				<-reply
			}
		})
	}
}

// askAsync connects, sends a line and reads until EOF, in a goroutine.
func askAsync(addr string) chan string {
	ch := make(chan string, 1)
	go func() {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			ch <- "dial: " + err.Error()
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "x\n")
		b, _ := io.ReadAll(c)
		ch <- string(b)
	}()
	return ch
}

// The child's side, in process: ChildProcess's status and routing when a
// hook panics (E8): finish_request's Exception goes to handle_error and the
// status is 1; an exception from handle_error or shutdown_request is
// dropped by os._exit(status) in the finally clause.
func TestChildProcessHookPanics_E8_J2(t *testing.T) {
	for _, tc := range []struct {
		hook     string
		status   int
		handled  string
		shutdown bool
	}{
		{hook: "FinishRequest", status: 1, handled: "FinishRequest", shutdown: true},
		{hook: "ServeRequest", status: 1, handled: "ServeRequest", shutdown: true},
		{hook: "HandleError", status: 1, shutdown: true},
		{hook: "ShutdownRequest", status: 0, shutdown: true},
		{hook: "CloseRequest", status: 0, shutdown: true},
	} {
		t.Run(tc.hook, func(t *testing.T) {
			s := &fpanicky{panicIn: tc.hook}
			s.BaseServer.Init(s, nil, fpanickyHandler)
			c1, c2 := net.Pipe()
			defer c2.Close()
			if got := forking.ChildProcess(s, c1, nil); got != tc.status {
				t.Fatalf("status %d, want %d", got, tc.status)
			}
			if tc.handled != "" {
				if len(s.handled) != 1 {
					t.Fatalf("HandleError got %v", s.handled)
				}
				wantPanic(t, "HandleError's error", s.handled[0], tc.handled)
			}
			if s.called("ShutdownRequest") != tc.shutdown {
				t.Fatalf("calls %v", s.calls)
			}
		})
	}
}

// childPanicky is the server a re-executed child runs (RegisterServer): its
// hook named panicIn panics.
type childPanicky struct {
	server.TCPServer
	panicIn string
}

func (s *childPanicky) check(name string) {
	if s.panicIn == name {
		panic(name + " exploded in the child")
	}
}

func (s *childPanicky) FinishRequest(req server.Request, addr net.Addr) error {
	s.check("FinishRequest")
	return s.TCPServer.FinishRequest(req, addr)
}

func (s *childPanicky) HandleError(req server.Request, addr net.Addr, err error) error {
	s.check("HandleError")
	return nil
}

func (s *childPanicky) ShutdownRequest(req server.Request) error {
	s.check("ShutdownRequest")
	return s.TCPServer.ShutdownRequest(req)
}

// Handlers and servers of the real children, registered before TestMain
// calls RunChild.
var childPanicH = map[string]server.Handler{}

func init() {
	for _, hook := range []string{"FinishRequest", "HandleError", "ShutdownRequest"} {
		name := "panic-in-" + hook
		childPanicH[hook] = forking.Register(name, server.HandlerFunc(func(req server.Request, _ net.Addr, _ server.Server) error {
			if hook == "HandleError" {
				return errors.New("handler failed")
			}
			_, err := fmt.Fprint(req.(server.Conn), "ok")
			return err
		}))
		forking.RegisterServer(name, func() server.Server { return &childPanicky{panicIn: hook} })
	}
	childPanicH["RegisterServer"] = forking.Register("panic-in-factory", okH)
	forking.RegisterServer("panic-in-factory", func() server.Server { panic("factory exploded") })
}

var okH = server.HandlerFunc(func(req server.Request, _ net.Addr, _ server.Server) error {
	_, err := fmt.Fprint(req.(server.Conn), "ok")
	return err
})

// E8, J2: real children by re-exec: a panic in the child's hooks, or in
// the factory of its server, gives CPython's status, never a Go crash (2).
func TestReExecChildHookPanics_E8_J2(t *testing.T) {
	for _, tc := range []struct {
		hook   string
		status int
	}{
		{"FinishRequest", 1},
		{"HandleError", 1},
		{"ShutdownRequest", 0},
		{"RegisterServer", 1},
	} {
		t.Run(tc.hook, func(t *testing.T) {
			rec := &statusRecorder{}
			s, err := forking.NewTCPServer("127.0.0.1:0", childPanicH[tc.hook])
			if err != nil {
				t.Fatal(err)
			}
			s.Wait = rec.wait
			serve(t, s)
			// The reply, if any, may end in a reset: the child exits
			// without reading the line.
			roundTrip(s.ServerAddress.String(), "x\n")
			waitFor(t, func() bool { return len(rec.all()) == 1 }, "child reaped")
			if got := rec.all(); got[0] != tc.status {
				t.Fatalf("exit status %d, want %d", got[0], tc.status)
			}
		})
	}
}
