package server_test

import (
	"errors"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// The outermost value (issue 12, item 2): Init takes it, so an embedding
// type's overrides cannot be lost (J1, J5: hooks are looked up on self).

// overriding is a TCPServer "subclass" that records every hook the loop
// reaches, overridden or not.
type overriding struct {
	server.TCPServer
	mu    sync.Mutex
	calls []string
}

func (s *overriding) rec(name string) {
	s.mu.Lock()
	s.calls = append(s.calls, name)
	s.mu.Unlock()
}

func (s *overriding) recorded() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func (s *overriding) Fileno() int { s.rec("fileno"); return s.TCPServer.Fileno() }

func (s *overriding) ServiceActions() error {
	s.rec("service_actions")
	return s.TCPServer.ServiceActions()
}

func (s *overriding) HandleTimeout() error {
	s.rec("handle_timeout")
	return s.TCPServer.HandleTimeout()
}

func (s *overriding) ServerClose() error {
	s.rec("server_close")
	return s.TCPServer.ServerClose()
}

// noSocket is a NewSocket that fails the test if Init ever creates a socket.
func noSocket(t *testing.T) server.SocketFactory {
	return func(int, int) (server.Socket, error) {
		t.Error("a socket was created for a server with no valid outermost value")
		return nil, errors.New("unexpected socket")
	}
}

// J1: Init rejects a missing or foreign outermost value before creating
// anything; BaseServer.Init, which returns nothing, panics.
func TestInitRejectsBadOutermostValue_J1(t *testing.T) {
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	other := &overriding{}
	var nilOuter *overriding
	for _, tc := range []struct {
		name string
		self func(s *overriding) server.Server
	}{
		{"nil", func(*overriding) server.Server { return nil }},
		{"nil pointer of the embedding type", func(*overriding) server.Server { return nilOuter }},
		{"another server", func(*overriding) server.Server { return other }},
		{"a new embedded value", func(*overriding) server.Server { return &server.TCPServer{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &overriding{}
			s.NewSocket = noSocket(t)
			err := s.Init(tc.self(s), addr, echoLine, true)
			if !errors.Is(err, server.ErrNoSelf) {
				t.Fatalf("TCPServer.Init = %v, want ErrNoSelf", err)
			}
			if s.Self() != nil || s.Socket != nil {
				t.Fatal("a rejected Init changed the server")
			}
			u := &server.UDPServer{}
			u.NewSocket = noSocket(t)
			if err := u.Init(tc.self(s), addr, echoLine, true); !errors.Is(err, server.ErrNoSelf) {
				t.Fatalf("UDPServer.Init = %v, want ErrNoSelf", err)
			}
			func() {
				defer func() {
					v := recover()
					err, _ := v.(error)
					if !errors.Is(err, server.ErrNoSelf) || !strings.Contains(err.Error(), "Init") {
						t.Fatalf("BaseServer.Init panicked with %v, want an ErrNoSelf naming Init", v)
					}
				}()
				s.BaseServer.Init(tc.self(s), addr, echoLine)
			}()
		})
	}
}

// J1: a server whose Init never ran cannot serve: the loop returns
// ErrNoSelf before calling any hook, base or overridden, and the base hooks
// that call other hooks return it too.
func TestNoInitIsErrNoSelf_J1(t *testing.T) {
	s := &overriding{}
	waited := false
	s.WaitReadable = func(int, server.Timeout) (bool, error) { waited = true; return true, nil }
	if err := s.ServeForever(fast); !errors.Is(err, server.ErrNoSelf) {
		t.Fatalf("ServeForever = %v, want ErrNoSelf", err)
	}
	if err := s.HandleRequest(); !errors.Is(err, server.ErrNoSelf) {
		t.Fatalf("HandleRequest = %v, want ErrNoSelf", err)
	}
	if got := s.recorded(); len(got) != 0 || waited {
		t.Fatalf("hooks ran without an outermost value: %v (waited %v)", got, waited)
	}
	for name, err := range map[string]error{
		"ProcessRequest":  s.ProcessRequest(nil, nil),
		"FinishRequest":   s.FinishRequest(nil, nil),
		"ShutdownRequest": s.ShutdownRequest(nil),
		"Close":           s.Close(),
	} {
		if !errors.Is(err, server.ErrNoSelf) {
			t.Errorf("%s = %v, want ErrNoSelf", name, err)
		}
	}
	var u server.UDPServer
	if err := u.ShutdownRequest(nil); !errors.Is(err, server.ErrNoSelf) {
		t.Errorf("UDPServer.ShutdownRequest = %v, want ErrNoSelf", err)
	}
}

// J1: a server value copied after Init still points at the original's
// outermost value; the copy's loop refuses to run the original's hooks.
func TestCopiedServerIsErrNoSelf_J1(t *testing.T) {
	orig := &overriding{}
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	if err := orig.Init(orig, addr, echoLine, true); err != nil {
		t.Fatal(err)
	}
	defer orig.TCPServer.ServerClose()
	cp := &overriding{}
	// A plain assignment would copy a lock (go vet); reflection copies the
	// same fields.
	reflect.ValueOf(cp).Elem().Field(0).Set(reflect.ValueOf(orig).Elem().Field(0))
	if err := cp.HandleRequest(); !errors.Is(err, server.ErrNoSelf) {
		t.Fatalf("HandleRequest on a copy = %v, want ErrNoSelf", err)
	}
	if err := cp.ServeForever(fast); !errors.Is(err, server.ErrNoSelf) {
		t.Fatalf("ServeForever on a copy = %v, want ErrNoSelf", err)
	}
	if got := append(orig.recorded(), cp.recorded()...); len(got) != 0 {
		t.Fatalf("hooks ran: %v", got)
	}
}

// J1, J5: the outermost value given to Init is the one whose hooks the loop
// calls, and Self reports it; a value that holds its server in an
// interface field (the adapter shape) is accepted too.
func TestInitRecordsOutermostValue_J1(t *testing.T) {
	s := &overriding{}
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	if err := s.Init(s, addr, echoLine, true); err != nil {
		t.Fatal(err)
	}
	if s.Self() != server.Server(s) {
		t.Fatalf("Self = %T, want the outermost value", s.Self())
	}
	s.Timeout = server.After(0)
	if err := s.HandleRequest(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := s.recorded(), []string{"fileno", "handle_timeout", "server_close"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("hooks %v, want %v", got, want)
	}

	inner := &server.TCPServer{}
	w := &wrapper{Server: inner}
	if err := inner.Init(w, addr, echoLine, true); err != nil {
		t.Fatal(err)
	}
	defer inner.ServerClose()
	inner.Timeout = server.After(0)
	if err := inner.HandleRequest(); err != nil {
		t.Fatal(err)
	}
	if !w.timedOut {
		t.Fatal("the wrapper's HandleTimeout was not called")
	}
}

// wrapper forwards to a server held in an interface field.
type wrapper struct {
	server.Server
	timedOut bool
}

func (w *wrapper) HandleTimeout() error { w.timedOut = true; return w.Server.HandleTimeout() }

// J1: forgetting the outermost value does not compile: the pattern of
// testdata/forgotself (no value given to Init, the removed Self field) is
// rejected by the compiler.
func TestForgettingOutermostValueDoesNotCompile_J1(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	out, err := exec.Command(goTool, "build", "-gcflags=-e", "-o", os.DevNull, "./testdata/forgotself").CombinedOutput()
	if err == nil {
		t.Fatalf("testdata/forgotself compiled:\n%s", out)
	}
	for _, want := range []string{"not enough arguments in call to s.Init", "s.Self"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("compiler output lacks %q:\n%s", want, out)
		}
	}
}
