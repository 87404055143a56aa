package threading_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/internal/servertest"
	"github.com/gopy-socketserver/socketserver/pkg/server"
	"github.com/gopy-socketserver/socketserver/pkg/threading"
)

// A panic in any hook of a threading server is contained (issue 12, item
// 4): in the loop as in the synchronous server (B8), in a worker as
// process_request_thread routes the exception (G4, J2).

// tpanicky is a ThreadingTCPServer "subclass" whose hook named PanicIn
// panics; it records its calls, what HandleError and the excepthook get.
type tpanicky struct {
	threading.TCPServer
	servertest.PanicRecorder
}

func (s *tpanicky) GetRequest() (server.Request, net.Addr, error) {
	s.Hook("GetRequest")
	return s.Accepted(s.TCPServer.GetRequest())
}

func (s *tpanicky) VerifyRequest(req server.Request, addr net.Addr) (bool, error) {
	s.Hook("VerifyRequest")
	return s.TCPServer.VerifyRequest(req, addr)
}

func (s *tpanicky) ProcessRequest(req server.Request, addr net.Addr) error {
	s.Hook("ProcessRequest")
	return s.TCPServer.ProcessRequest(req, addr) // super(): ThreadingMixIn
}

func (s *tpanicky) FinishRequest(req server.Request, addr net.Addr) error {
	s.Hook("FinishRequest")
	return s.TCPServer.FinishRequest(req, addr)
}

func (s *tpanicky) ShutdownRequest(req server.Request) error {
	s.Hook("ShutdownRequest")
	return s.TCPServer.ShutdownRequest(req)
}

func (s *tpanicky) CloseRequest(req server.Request) error {
	s.Hook("CloseRequest")
	return s.TCPServer.CloseRequest(req)
}

func (s *tpanicky) HandleError(_ server.Request, _ net.Addr, err error) error {
	return s.RecordHandled(err)
}

func (s *tpanicky) HandleTimeout() error { s.Hook("HandleTimeout"); return s.TCPServer.HandleTimeout() }

func (s *tpanicky) ServiceActions() error {
	s.Hook("ServiceActions")
	return s.TCPServer.ServiceActions()
}

func (s *tpanicky) Drain(ctx context.Context) error { s.Hook("Drain"); return s.TCPServer.Drain(ctx) }

// tpanickyHandler echoes a line; it panics for "ServeRequest", fails for
// "HandleError" and raises KeyboardInterrupt (to reach the excepthook) for
// "ExceptHook".
var tpanickyHandler = server.HandlerFunc(func(req server.Request, _ net.Addr, srv server.Server) error {
	s := srv.(*tpanicky)
	if s.PanicIn == "ExceptHook" {
		return &server.KeyboardInterrupt{}
	}
	if err := s.InHandler(); err != nil {
		return err
	}
	return servertest.ReplyLine(req)
})

func newTPanicky(t *testing.T, panicIn string) *tpanicky {
	t.Helper()
	s := &tpanicky{TCPServer: threading.TCPServer{Mixin: threading.NewMixin()}}
	servertest.InitTCP(t, s, tpanickyHandler)
	s.PanicIn = panicIn
	s.ExceptHook = s.RecordExcepted
	t.Cleanup(func() { s.CloseAll(s.TCPServer.ServerClose) })
	return s
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
				reply = servertest.AskAsync(s.ServerAddress.String(), "x\n")
			}
			err := servertest.RunLoop(t, s, tc.entry, tc.hook, fast)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if derr := s.TCPServer.Drain(ctx); derr != nil {
				t.Fatal("a worker did not finish:", derr)
			}
			servertest.WantReturned(t, tc.entry, err, tc.returned)
			servertest.WantReceived(t, "HandleError", s.Handled(), tc.handled)
			excepted := s.Excepted()
			servertest.WantReceived(t, "the excepthook", excepted, tc.excepted)
			if tc.excepted == "" && tc.hook != "ExceptHook" && len(excepted) > 0 {
				t.Fatalf("excepthook got %v", excepted)
			}
			if tc.returned == "" && !s.Called("ShutdownRequest") {
				t.Fatal("the request was not shut down")
			}
			if tc.client {
				s.CloseAll(s.TCPServer.ServerClose)
				<-reply
			}
		})
	}
}

// A panic in Drain: ShutdownContext returns it.
func TestThreadingDrainPanic(t *testing.T) {
	s := newTPanicky(t, "Drain")
	servertest.WantPanic(t, "ShutdownContext", s.ShutdownContext(context.Background()), "Drain")
}
