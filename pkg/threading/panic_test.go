package threading_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/server"
	"github.com/gopy-socketserver/socketserver/pkg/threading"
)

// A panic in any hook of a threading server is contained (issue 12, item
// 4): in the loop as in the synchronous server (B8), in a worker as
// process_request_thread routes the exception (G4, J2).

// tpanicky is a ThreadingTCPServer "subclass" whose hook named panicIn
// panics; it records its calls, what HandleError and the excepthook get.
type tpanicky struct {
	threading.TCPServer
	panicIn  string
	mu       sync.Mutex
	calls    []string
	handled  []error
	excepted []error
	reqs     []server.Request
}

func (s *tpanicky) hook(name string) {
	s.mu.Lock()
	s.calls = append(s.calls, name)
	s.mu.Unlock()
	if s.panicIn == name {
		panic(name + " exploded")
	}
}

func (s *tpanicky) called(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if c == name {
			return true
		}
	}
	return false
}

func (s *tpanicky) GetRequest() (server.Request, net.Addr, error) {
	s.hook("GetRequest")
	req, addr, err := s.TCPServer.GetRequest()
	if err == nil {
		s.mu.Lock()
		s.reqs = append(s.reqs, req)
		s.mu.Unlock()
	}
	return req, addr, err
}

func (s *tpanicky) VerifyRequest(req server.Request, addr net.Addr) (bool, error) {
	s.hook("VerifyRequest")
	return s.TCPServer.VerifyRequest(req, addr)
}

func (s *tpanicky) ProcessRequest(req server.Request, addr net.Addr) error {
	s.hook("ProcessRequest")
	return s.TCPServer.ProcessRequest(req, addr) // super(): ThreadingMixIn
}

func (s *tpanicky) FinishRequest(req server.Request, addr net.Addr) error {
	s.hook("FinishRequest")
	return s.TCPServer.FinishRequest(req, addr)
}

func (s *tpanicky) ShutdownRequest(req server.Request) error {
	s.hook("ShutdownRequest")
	return s.TCPServer.ShutdownRequest(req)
}

func (s *tpanicky) CloseRequest(req server.Request) error {
	s.hook("CloseRequest")
	return s.TCPServer.CloseRequest(req)
}

func (s *tpanicky) HandleError(req server.Request, addr net.Addr, err error) error {
	s.mu.Lock()
	s.handled = append(s.handled, err)
	s.mu.Unlock()
	s.hook("HandleError")
	return nil
}

func (s *tpanicky) HandleTimeout() error { s.hook("HandleTimeout"); return s.TCPServer.HandleTimeout() }

func (s *tpanicky) ServiceActions() error {
	s.hook("ServiceActions")
	return s.TCPServer.ServiceActions()
}

func (s *tpanicky) Drain(ctx context.Context) error {
	s.hook("Drain")
	return s.TCPServer.Drain(ctx)
}

// tpanickyHandler echoes a line; it panics for "ServeRequest", fails for
// "HandleError" and raises KeyboardInterrupt (to reach the excepthook) for
// "ExceptHook".
var tpanickyHandler = server.HandlerFunc(func(req server.Request, _ net.Addr, srv server.Server) error {
	s := srv.(*tpanicky)
	switch s.panicIn {
	case "ServeRequest":
		s.hook("ServeRequest")
	case "HandleError":
		return errors.New("handler failed")
	case "ExceptHook":
		return &server.KeyboardInterrupt{}
	}
	c := req.(server.Conn)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	_, err = c.Write([]byte(line))
	return err
})

func newTPanicky(t *testing.T, panicIn string) *tpanicky {
	t.Helper()
	s := &tpanicky{TCPServer: threading.TCPServer{Mixin: threading.NewMixin()}}
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	if err := s.Init(s, addr, tpanickyHandler, true); err != nil {
		t.Fatal(err)
	}
	s.panicIn = panicIn
	s.ExceptHook = func(err error) {
		s.mu.Lock()
		s.excepted = append(s.excepted, err)
		s.mu.Unlock()
		s.hook("ExceptHook")
	}
	t.Cleanup(func() {
		s.closeRequests()
		s.TCPServer.ServerClose()
	})
	return s
}

// closeRequests closes the connections a panic left open.
func (s *tpanicky) closeRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.reqs {
		r.(server.Conn).Close()
	}
}

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

// One case per hook. entry is how the server runs; returned, handled and
// excepted are the Hooks of the *PanicError the call returns, HandleError
// receives and the excepthook receives ("" for none).
func TestThreadingHookPanicsContained_G4_J2(t *testing.T) {
	for _, tc := range []struct {
		hook                        string
		entry                       string
		returned, handled, excepted string
		client                      bool
	}{
		// B8: loop hooks, as in the synchronous server.
		{hook: "GetRequest", entry: "HandleRequest", returned: "GetRequest", client: true},
		{hook: "GetRequest", entry: "ServeForever", returned: "GetRequest", client: true},
		{hook: "VerifyRequest", entry: "HandleRequest", returned: "VerifyRequest", client: true},
		{hook: "VerifyRequest", entry: "ServeForever", returned: "VerifyRequest", client: true},
		{hook: "ProcessRequest", entry: "HandleRequest", handled: "ProcessRequest", client: true},
		{hook: "HandleTimeout", entry: "HandleRequest", returned: "HandleTimeout"},
		{hook: "ServiceActions", entry: "ServeForever", returned: "ServiceActions"},
		// G4: in the worker, finish_request's Exception goes to
		// handle_error; handle_error's and shutdown_request's escape the
		// thread to the excepthook; shutdown_request always runs.
		{hook: "FinishRequest", entry: "HandleRequest", handled: "FinishRequest", client: true},
		{hook: "ServeRequest", entry: "HandleRequest", handled: "ServeRequest", client: true},
		{hook: "HandleError", entry: "HandleRequest", excepted: "HandleError", client: true},
		{hook: "ShutdownRequest", entry: "HandleRequest", excepted: "ShutdownRequest", client: true},
		{hook: "CloseRequest", entry: "HandleRequest", excepted: "ShutdownRequest", client: true},
		// G4: a panic in the excepthook itself is reported on stderr
		// (sys.excepthook's part); the worker ends normally.
		{hook: "ExceptHook", entry: "HandleRequest", client: true},
	} {
		t.Run(tc.hook+"/"+tc.entry, func(t *testing.T) {
			s := newTPanicky(t, tc.hook)
			var reply chan string
			if tc.client {
				reply = askAsync(s.ServerAddress.String(), "x\n")
			}
			var err error
			switch tc.entry {
			case "HandleRequest":
				s.Timeout = server.After(10 * time.Second)
				if tc.hook == "HandleTimeout" {
					s.Timeout = server.After(0)
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
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if derr := s.TCPServer.Drain(ctx); derr != nil {
				t.Fatal("a worker did not finish:", derr)
			}
			if tc.returned != "" {
				wantPanic(t, tc.entry, err, tc.returned)
			} else if err != nil {
				t.Fatalf("%s = %v, want nil", tc.entry, err)
			}
			s.mu.Lock()
			handled, excepted := s.handled, s.excepted
			s.mu.Unlock()
			if tc.handled != "" {
				if len(handled) != 1 {
					t.Fatalf("HandleError got %v", handled)
				}
				wantPanic(t, "HandleError's error", handled[0], tc.handled)
			}
			if tc.excepted != "" {
				if len(excepted) != 1 {
					t.Fatalf("excepthook got %v", excepted)
				}
				wantPanic(t, "the excepthook's error", excepted[0], tc.excepted)
			} else if tc.hook != "ExceptHook" && len(excepted) > 0 {
				t.Fatalf("excepthook got %v", excepted)
			}
			if tc.returned == "" && !s.called("ShutdownRequest") {
				t.Fatal("the request was not shut down")
			}
			if tc.client {
				s.closeRequests()
				s.TCPServer.ServerClose() // connections never accepted
				<-reply
			}
		})
	}
}

// A panic in Drain: ShutdownContext returns it.
func TestThreadingDrainPanic(t *testing.T) {
	s := newTPanicky(t, "Drain")
	wantPanic(t, "ShutdownContext", s.ShutdownContext(context.Background()), "Drain")
}
