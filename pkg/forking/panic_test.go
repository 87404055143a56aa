//go:build unix

package forking_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/forking"
	"github.com/gopy-socketserver/socketserver/pkg/internal/servertest"
	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// A panic in any hook of a forking server is contained (issue 12, item 4):
// in the parent's loop as in the synchronous server (B8), in the child as
// CPython's child branch routes the exception: status 1 after an Exception
// (E8, J2).

// fpanicky is a ForkingTCPServer "subclass" whose hook named PanicIn
// panics; it records its calls and what HandleError gets.
type fpanicky struct {
	forking.TCPServer
	servertest.PanicRecorder
}

func (s *fpanicky) GetRequest() (server.Request, net.Addr, error) {
	s.Hook("GetRequest")
	return s.Accepted(s.TCPServer.GetRequest())
}

func (s *fpanicky) VerifyRequest(req server.Request, addr net.Addr) (bool, error) {
	s.Hook("VerifyRequest")
	return s.TCPServer.VerifyRequest(req, addr)
}

func (s *fpanicky) FinishRequest(req server.Request, addr net.Addr) error {
	s.Hook("FinishRequest")
	return s.TCPServer.FinishRequest(req, addr)
}

func (s *fpanicky) ShutdownRequest(req server.Request) error {
	s.Hook("ShutdownRequest")
	return s.TCPServer.ShutdownRequest(req)
}

func (s *fpanicky) CloseRequest(req server.Request) error {
	s.Hook("CloseRequest")
	return s.TCPServer.CloseRequest(req)
}

func (s *fpanicky) HandleError(_ server.Request, _ net.Addr, err error) error {
	return s.RecordHandled(err)
}

// fpanickyHandler panics for "ServeRequest", fails for "HandleError", and
// otherwise succeeds without I/O.
var fpanickyHandler = server.HandlerFunc(func(_ server.Request, _ net.Addr, srv server.Server) error {
	return srv.(*fpanicky).InHandler()
})

func newFPanicky(t *testing.T, panicIn string) *fpanicky {
	t.Helper()
	s := &fpanicky{TCPServer: forking.TCPServer{Mixin: forking.NewMixin()}}
	servertest.InitTCP(t, s, fpanickyHandler)
	s.PanicIn = panicIn
	s.Fork = func(server.Server, server.Request, net.Addr) (int, error) {
		s.Hook("Fork")
		return 4242, nil // a child that never existed: Wait is faked too
	}
	s.Wait = func(pid, options int) (int, syscall.WaitStatus, error) {
		s.Hook("Wait")
		return pid, 0, nil
	}
	t.Cleanup(func() { s.CloseAll(s.TCPServer.TCPServer.ServerClose) })
	return s
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
				reply := servertest.AskAsync(s.ServerAddress.String(), "x\n")
				s.Timeout = server.After(10 * time.Second)
				if err := s.HandleRequest(); err != nil {
					t.Fatal(err)
				}
				<-reply
				if len(s.ActiveChildren()) != 1 {
					t.Fatalf("children %v", s.ActiveChildren())
				}
			}
			s.PanicIn = tc.hook
			var reply chan string
			if !tc.withChild {
				reply = servertest.AskAsync(s.ServerAddress.String(), "x\n")
			}
			var err error
			switch tc.entry {
			case "HandleRequest", "ServeForever":
				err = servertest.RunLoop(t, s, tc.entry, tc.hook, fast)
			case "HandleTimeout":
				err = servertest.RunLoop(t, s, "HandleRequest", "HandleTimeout", fast)
			case "Close":
				err = s.Close()
			case "ShutdownContext":
				err = s.ShutdownContext(context.Background())
			}
			servertest.WantReturned(t, tc.entry, err, tc.returned)
			handled := s.Handled()
			servertest.WantReceived(t, "HandleError", handled, tc.handled)
			if tc.handled == "" && len(handled) > 0 {
				t.Fatalf("HandleError got %v", handled)
			}
			if tc.hook == "Fork" && !s.Called("ShutdownRequest") {
				t.Fatal("the request was not shut down after HandleError")
			}
			if reply != nil {
				s.CloseAll(s.TCPServer.TCPServer.ServerClose)
				<-reply
			}
		})
	}
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
			s := &fpanicky{PanicRecorder: servertest.PanicRecorder{PanicIn: tc.hook}}
			s.BaseServer.Init(s, nil, fpanickyHandler)
			c1, c2 := net.Pipe()
			defer c2.Close()
			if got := forking.ChildProcess(s, c1, nil); got != tc.status {
				t.Fatalf("status %d, want %d", got, tc.status)
			}
			servertest.WantReceived(t, "HandleError", s.Handled(), tc.handled)
			if s.Called("ShutdownRequest") != tc.shutdown {
				t.Fatalf("calls %v", s.Calls())
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
