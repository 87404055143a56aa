package server_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"

	"github.com/gopy-socketserver/socketserver/pkg/internal/servertest"
	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// A panic in any hook is contained (issue 12, item 4): it becomes the
// *PanicError the call returns, or takes the path CPython gives that hook's
// exception (B8, J2).

// panicky is a TCPServer "subclass" whose hook named PanicIn panics; every
// hook records its call.
type panicky struct {
	server.TCPServer
	servertest.PanicRecorder
	bindErr error // ServerBind's error, to reach ServerClose from Init
}

func (s *panicky) Fileno() int { s.Hook("Fileno"); return s.TCPServer.Fileno() }

func (s *panicky) ServerSocket() server.Socket {
	s.Hook("ServerSocket")
	return s.TCPServer.ServerSocket()
}

func (s *panicky) ServerBind() error {
	s.Hook("ServerBind")
	if s.bindErr != nil {
		return s.bindErr
	}
	return s.TCPServer.ServerBind()
}

func (s *panicky) ServerActivate() error {
	s.Hook("ServerActivate")
	return s.TCPServer.ServerActivate()
}

func (s *panicky) ServerClose() error { s.Hook("ServerClose"); return s.TCPServer.ServerClose() }

func (s *panicky) GetRequest() (server.Request, net.Addr, error) {
	s.Hook("GetRequest")
	return s.Accepted(s.TCPServer.GetRequest())
}

func (s *panicky) VerifyRequest(req server.Request, addr net.Addr) (bool, error) {
	s.Hook("VerifyRequest")
	return s.TCPServer.VerifyRequest(req, addr)
}

func (s *panicky) ProcessRequest(req server.Request, addr net.Addr) error {
	s.Hook("ProcessRequest")
	return s.TCPServer.ProcessRequest(req, addr)
}

func (s *panicky) FinishRequest(req server.Request, addr net.Addr) error {
	s.Hook("FinishRequest")
	return s.TCPServer.FinishRequest(req, addr)
}

func (s *panicky) ShutdownRequest(req server.Request) error {
	s.Hook("ShutdownRequest")
	return s.TCPServer.ShutdownRequest(req)
}

func (s *panicky) CloseRequest(req server.Request) error {
	s.Hook("CloseRequest")
	return s.TCPServer.CloseRequest(req)
}

func (s *panicky) HandleError(_ server.Request, _ net.Addr, err error) error {
	return s.RecordHandled(err)
}

func (s *panicky) HandleTimeout() error { s.Hook("HandleTimeout"); return s.TCPServer.HandleTimeout() }

func (s *panicky) ServiceActions() error {
	s.Hook("ServiceActions")
	return s.TCPServer.ServiceActions()
}

// panickyHandler echoes a line; it panics for "ServeRequest" and fails for
// "HandleError" (so that HandleError is called).
var panickyHandler = server.HandlerFunc(func(req server.Request, _ net.Addr, srv server.Server) error {
	if err := srv.(*panicky).InHandler(); err != nil {
		return err
	}
	return servertest.ReplyLine(req)
})

func newPanicky(t *testing.T, panicIn string) *panicky {
	t.Helper()
	s := &panicky{}
	servertest.InitTCP(t, s, panickyHandler)
	s.PanicIn = panicIn
	if panicIn == "WaitReadable" {
		s.WaitReadable = func(int, server.Timeout) (bool, error) { panic("WaitReadable exploded") }
	}
	t.Cleanup(func() { s.CloseAll(s.TCPServer.ServerClose) })
	return s
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
				s.Value = tc.value
				var reply chan string
				if tc.client {
					reply = servertest.AskAsync(s.ServerAddress.String(), "x\n")
				}
				err := servertest.RunLoop(t, s, entry, tc.hook, fast)
				servertest.WantReturned(t, entry, err, tc.returned)
				handled := s.Handled()
				switch {
				case tc.handled != "":
					if len(handled) == 0 {
						t.Fatal("HandleError not called")
					}
					servertest.WantPanic(t, "HandleError's error", handled[0], tc.handled)
				case tc.hook != "HandleError" && len(handled) > 0:
					t.Fatalf("HandleError called with %v", handled)
				}
				if tc.returned == "" && !s.Called("ShutdownRequest") {
					t.Fatal("the request was not shut down after HandleError")
				}
				if entry == "ServeForever" {
					// The loop's state was reset: it serves again and stops.
					s.PanicIn = ""
					s.WaitReadable = nil
					done := make(chan error, 1)
					go func() { done <- s.ServeForever(fast) }()
					s.Shutdown()
					if err := <-done; err != nil {
						t.Fatalf("ServeForever after a contained panic: %v", err)
					}
				}
				if tc.client {
					s.CloseAll(s.TCPServer.ServerClose)
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
			s := &panicky{PanicRecorder: servertest.PanicRecorder{PanicIn: tc.hook}, bindErr: tc.bindErr}
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
			servertest.WantPanic(t, "Init", err, tc.want)
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
		s.PanicIn = "ServerClose"
		servertest.WantPanic(t, "Close", s.Close(), "ServerClose")
	})
}

// A Drainer whose Drain panics: ShutdownContext returns the panic.
type panickyDrainer struct{ panicky }

func (s *panickyDrainer) Drain(context.Context) error { panic("Drain exploded") }

func TestShutdownContextDrainPanic(t *testing.T) {
	s := &panickyDrainer{}
	servertest.InitTCP(t, s, panickyHandler)
	defer s.TCPServer.ServerClose()
	servertest.WantPanic(t, "ShutdownContext", s.ShutdownContext(context.Background()), "Drain")
}
