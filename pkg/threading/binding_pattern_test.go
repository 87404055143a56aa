package threading_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/gopy-socketserver/socketserver/pkg/server"
	"github.com/gopy-socketserver/socketserver/pkg/threading"
)

// pyServer is the shape the bindings use for a Python subclass of
// ThreadingTCPServer: each hook forwards to a Python override if the class
// defines one (simulated by a closure) and otherwise runs the embedded Go
// implementation. An override's super() is the embedded method.
type pyServer struct {
	threading.TCPServer
	py  map[string]any
	mu  sync.Mutex
	log []string
}

func (s *pyServer) rec(e string) {
	s.mu.Lock()
	s.log = append(s.log, e)
	s.mu.Unlock()
}

func (s *pyServer) VerifyRequest(req server.Request, addr net.Addr) (bool, error) {
	if f, ok := s.py["verify_request"].(func(server.Request, net.Addr) (bool, error)); ok {
		return f(req, addr)
	}
	return s.TCPServer.VerifyRequest(req, addr)
}

func (s *pyServer) ProcessRequest(req server.Request, addr net.Addr) error {
	if f, ok := s.py["process_request"].(func(server.Request, net.Addr) error); ok {
		return f(req, addr)
	}
	return s.TCPServer.ProcessRequest(req, addr)
}

func (s *pyServer) FinishRequest(req server.Request, addr net.Addr) error {
	if f, ok := s.py["finish_request"].(func(server.Request, net.Addr) error); ok {
		return f(req, addr)
	}
	return s.TCPServer.FinishRequest(req, addr)
}

func (s *pyServer) ShutdownRequest(req server.Request) error {
	if f, ok := s.py["shutdown_request"].(func(server.Request) error); ok {
		return f(req)
	}
	return s.TCPServer.ShutdownRequest(req)
}

func (s *pyServer) ServerClose() error {
	if f, ok := s.py["server_close"].(func() error); ok {
		return f()
	}
	return s.TCPServer.ServerClose()
}

// J1, J3, G4, G6: Python-style overrides with super() on a threading server:
// process_request's super() reaches ThreadingMixIn, the worker calls the
// overridden finish_request and shutdown_request through Self, and
// server_close's super() closes the socket and joins the workers.
func TestBindingStyleOverrides_J1_J3(t *testing.T) {
	s := &pyServer{TCPServer: threading.TCPServer{Mixin: threading.NewMixin()}}
	s.py = map[string]any{
		"verify_request": func(req server.Request, addr net.Addr) (bool, error) {
			s.rec("py verify_request")
			return s.TCPServer.VerifyRequest(req, addr) // super()
		},
		"process_request": func(req server.Request, addr net.Addr) error {
			s.rec("py process_request")
			return s.TCPServer.ProcessRequest(req, addr) // super(): ThreadingMixIn
		},
		"finish_request": func(req server.Request, addr net.Addr) error {
			s.rec("py finish_request")
			return s.TCPServer.FinishRequest(req, addr)
		},
		"shutdown_request": func(req server.Request) error {
			s.rec("py shutdown_request")
			return s.TCPServer.ShutdownRequest(req)
		},
		"server_close": func() error {
			s.rec("py server_close")
			err := s.TCPServer.ServerClose() // super(): closes, then joins
			s.rec(fmt.Sprint("closed fileno=", s.Fileno()))
			return err
		},
	}
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	if err := s.Init(s, addr, echoLine, true); err != nil {
		t.Fatal(err)
	}
	reply := make(chan string, 1)
	go func() { reply <- roundTrip(t, s.ServerAddress.String(), "py\n") }()
	if err := s.HandleRequest(); err != nil {
		t.Fatal(err)
	}
	if got := <-reply; got != "py\n" {
		t.Fatalf("reply %q", got)
	}
	s.Drain(context.Background())
	if err := s.Close(); err != nil { // __exit__
		t.Fatal(err)
	}
	want := "[py verify_request py process_request py finish_request py shutdown_request py server_close closed fileno=-1]"
	s.mu.Lock()
	defer s.mu.Unlock()
	if fmt.Sprint(s.log) != want {
		t.Fatalf("calls\n%v\nwant\n%s", s.log, want)
	}
}
