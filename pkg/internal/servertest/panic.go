package servertest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// PanicRecorder is what the panic-containment tests' servers embed (issue
// 12, item 4): each hook override calls Hook with its name, which records
// the call and panics in the hook named PanicIn. It also keeps the requests
// GetRequest accepted (to close those a panic left open) and the errors
// HandleError and the excepthook received.
type PanicRecorder struct {
	PanicIn string // the hook that panics
	Value   any    // the panic's value; nil: "<hook> exploded"

	mu       sync.Mutex
	calls    []string
	handled  []error
	excepted []error
	reqs     []server.Request
}

// Hook records a call of the hook name, and panics if name is PanicIn.
func (r *PanicRecorder) Hook(name string) {
	r.mu.Lock()
	r.calls = append(r.calls, name)
	r.mu.Unlock()
	if r.PanicIn == name {
		v := r.Value
		if v == nil {
			v = name + " exploded"
		}
		panic(v)
	}
}

// Called says whether the hook name was called.
func (r *PanicRecorder) Called(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.calls {
		if c == name {
			return true
		}
	}
	return false
}

// Calls returns the hooks called, in order.
func (r *PanicRecorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

// Accepted passes GetRequest's results through, keeping the request when
// there is one.
func (r *PanicRecorder) Accepted(req server.Request, addr net.Addr, err error) (server.Request, net.Addr, error) {
	if err == nil {
		r.mu.Lock()
		r.reqs = append(r.reqs, req)
		r.mu.Unlock()
	}
	return req, addr, err
}

// RecordHandled is a HandleError override's body: it keeps err, then calls
// Hook("HandleError"), and returns nil.
func (r *PanicRecorder) RecordHandled(err error) error {
	r.mu.Lock()
	r.handled = append(r.handled, err)
	r.mu.Unlock()
	r.Hook("HandleError")
	return nil
}

// Handled returns the errors HandleError received.
func (r *PanicRecorder) Handled() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.handled...)
}

// RecordExcepted is an excepthook: it keeps err, then calls
// Hook("ExceptHook").
func (r *PanicRecorder) RecordExcepted(err error) {
	r.mu.Lock()
	r.excepted = append(r.excepted, err)
	r.mu.Unlock()
	r.Hook("ExceptHook")
}

// Excepted returns the errors the excepthook received.
func (r *PanicRecorder) Excepted() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.excepted...)
}

// WantPanic fails the test unless err is a *server.PanicError naming hook,
// with a message "panic in <hook>: ..." and a stack through a file named
// panic_test.go (where the panic tests' hooks are). what names err.
func WantPanic(t testing.TB, what string, err error, hook string) {
	t.Helper()
	var pe *server.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("%s = %v (%T), want a *server.PanicError from %s", what, err, err, hook)
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

// WantReturned fails the test unless err, what the call named what
// returned, is nil when hook is "", else a *server.PanicError naming hook.
func WantReturned(t testing.TB, what string, err error, hook string) {
	t.Helper()
	if hook != "" {
		WantPanic(t, what, err, hook)
	} else if err != nil {
		t.Fatalf("%s = %v, want nil", what, err)
	}
}

// WantReceived fails the test unless errs, what who (a hook) received, is
// one *server.PanicError naming hook. It checks nothing when hook is "".
func WantReceived(t testing.TB, who string, errs []error, hook string) {
	t.Helper()
	if hook == "" {
		return
	}
	if len(errs) != 1 {
		t.Fatalf("%s got %v", who, errs)
	}
	WantPanic(t, who+"'s error", errs[0], hook)
}

// A Loop is a server the panic tests run by HandleRequest or ServeForever.
type Loop interface {
	Base() *server.BaseServer
	HandleRequest() error
	ServeForever(pollInterval server.Timeout) error
	Shutdown()
}

// RunLoop runs s by entry and returns what the call returned:
// "HandleRequest" waits 10 seconds at most, or not at all when hook is
// "HandleTimeout"; "ServeForever" polls every poll, and must end by itself
// (a panic ends it) within 10 seconds, else the test fails.
func RunLoop(t testing.TB, s Loop, entry, hook string, poll server.Timeout) error {
	t.Helper()
	switch entry {
	case "HandleRequest":
		if hook == "HandleTimeout" {
			s.Base().Timeout = server.After(0)
		} else {
			s.Base().Timeout = server.After(10 * time.Second)
		}
		return s.HandleRequest()
	case "ServeForever":
		done := make(chan error, 1)
		go func() { done <- s.ServeForever(poll) }()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			s.Shutdown()
			t.Fatal("ServeForever went on after the panic")
		}
	default:
		t.Fatalf("RunLoop: no entry %q", entry)
	}
	return nil
}

// AskAsync connects to a TCP server at addr, sends msg and reads the reply
// until EOF, in a goroutine; the channel gets the reply (or "dial: ..."
// when the connection failed).
func AskAsync(addr, msg string) chan string {
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

// ReplyLine reads a line from the connection req and writes it back; an
// error, EOF before the newline too, is returned.
func ReplyLine(req server.Request) error {
	c := req.(server.Conn)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	_, err = c.Write([]byte(line))
	return err
}

// InHandler is what the panic tests' request handlers do first: when
// PanicIn is "ServeRequest" it calls Hook("ServeRequest") (which panics);
// when PanicIn is "HandleError" it returns an error, so that HandleError is
// called; otherwise it returns nil.
func (r *PanicRecorder) InHandler() error {
	switch r.PanicIn {
	case "ServeRequest":
		r.Hook("ServeRequest")
	case "HandleError":
		return errors.New("handler failed")
	}
	return nil
}

// CloseAll closes the requests GetRequest accepted (those a panic left
// open), then calls serverClose: the embedded server's ServerClose, past the
// overrides, which also drops the connections never accepted.
func (r *PanicRecorder) CloseAll(serverClose func() error) {
	r.mu.Lock()
	for _, req := range r.reqs {
		req.(server.Conn).Close()
	}
	r.mu.Unlock()
	serverClose()
}

// A TCPIniter is a TCP server "subclass": its Init takes the outermost
// value, the address, the handler and whether to bind and activate.
type TCPIniter interface {
	server.Server
	Init(self server.Server, address net.Addr, h server.Handler, bindAndActivate bool) error
}

// InitTCP initializes s with h, bound and listening on a free port of
// 127.0.0.1; the test fails if Init does.
func InitTCP(t testing.TB, s TCPIniter, h server.Handler) {
	t.Helper()
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	if err := s.Init(s, addr, h, true); err != nil {
		t.Fatal(err)
	}
}
