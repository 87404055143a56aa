package server_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// The one place an embedder classifies its errors (issue 12, item 3): a
// Classifier on its exception type, asked first by every path, and
// Classify for the way back.

// pyExc is an embedder's single exception type: its class is data.
type pyExc struct{ class string }

func (e *pyExc) Error() string { return e.class }

func (e *pyExc) ExceptionKind() server.ExceptionKind {
	switch e.class {
	case "KeyboardInterrupt":
		return server.KindKeyboardInterrupt
	case "GeneratorExit":
		return server.KindBaseException
	case "ConnectionResetError":
		return server.KindOSError
	}
	return server.KindException
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err  error
		want server.ExceptionKind
	}{
		{&pyExc{"ValueError"}, server.KindException},
		{&pyExc{"GeneratorExit"}, server.KindBaseException},
		{fmt.Errorf("wrapped: %w", &pyExc{"KeyboardInterrupt"}), server.KindKeyboardInterrupt},
		{&server.PanicError{Hook: "Handle", Value: &pyExc{"ConnectionResetError"}}, server.KindOSError},
		{&server.SystemExit{Code: 2}, server.KindSystemExit},
		{&server.KeyboardInterrupt{}, server.KindKeyboardInterrupt},
		{&server.PanicError{Value: &server.SystemExit{}}, server.KindSystemExit},
		{&server.PanicError{Value: "boom"}, server.KindException},
		{server.ErrTimeout, server.KindTimeoutError},
		{os.ErrDeadlineExceeded, server.KindTimeoutError},
		{syscall.ECONNRESET, server.KindOSError},
		{server.ErrNoSelf, server.KindException},
		{errors.New("plain"), server.KindException},
		// An embedder's class wins over what its error wraps.
		{&classifiedErrno{}, server.KindException},
	} {
		got := server.Classify(c.err)
		if got != c.want {
			t.Errorf("Classify(%v) = %v, want %v", c.err, got, c.want)
		}
		if server.IsBaseException(c.err) != got.IsBaseException() || server.IsOSError(c.err) != got.IsOSError() {
			t.Errorf("%v: IsBaseException %v, IsOSError %v disagree with %v", c.err,
				server.IsBaseException(c.err), server.IsOSError(c.err), got)
		}
	}
}

type classifiedErrno struct{}

func (*classifiedErrno) Error() string                       { return "ValueError wrapping an errno" }
func (*classifiedErrno) Unwrap() error                       { return syscall.EBADF }
func (*classifiedErrno) ExceptionKind() server.ExceptionKind { return server.KindException }

// TestClassifierDrivesTheLoop_B8: the loop takes the embedder's word: a
// handler's "GeneratorExit" ends HandleRequest, a handler's "ValueError"
// goes to HandleError.
func TestClassifierDrivesTheLoop_B8(t *testing.T) {
	var raise error
	h := server.HandlerFunc(func(server.Request, net.Addr, server.Server) error { return raise })
	s, err := server.NewTCPServer("127.0.0.1:0", h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	var out strings.Builder
	s.ErrorOutput = &out
	for _, c := range []struct {
		class   string
		escapes bool
	}{{"ValueError", false}, {"GeneratorExit", true}} {
		raise = &pyExc{c.class}
		go func() {
			if conn, err := net.Dial("tcp", s.ServerAddress.String()); err == nil {
				conn.Close()
			}
		}()
		err := s.HandleRequest()
		if escapes := err != nil; escapes != c.escapes {
			t.Fatalf("%s: HandleRequest returned %v", c.class, err)
		}
		if reported := strings.Contains(out.String(), c.class); reported == c.escapes {
			t.Fatalf("%s: HandleError report %q", c.class, out.String())
		}
	}
}
