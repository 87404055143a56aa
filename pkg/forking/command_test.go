//go:build unix

package forking_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/forking"
	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// ReExecCommand (issue 12, item 3): the fork primitive runs the command it
// is given, with the connection inherited as descriptor 3, so a runtime
// can re-execute itself in another role.

// takeEnv makes a re-executed test binary take its request with
// TakeChildRequest (as an embedder's runtime would) instead of RunChild.
const takeEnv = "FORKING_TEST_TAKE_CHILD"

// takeChild is the child of TestReExecCommandTakeChildRequest: it takes
// the request, serves it with a handler of its own on a server of its own
// and returns the exit status.
func takeChild() int {
	cr, ok, err := forking.TakeChildRequest()
	if !ok || err != nil {
		fmt.Fprintln(os.Stderr, "take child:", ok, err)
		return 2
	}
	h := server.HandlerFunc(func(req server.Request, addr net.Addr, _ server.Server) error {
		_, err := fmt.Fprintf(req.(server.Conn), "took %q from %v, still a child: %v", cr.Name, addr.Network(), forking.IsChild())
		return err
	})
	s := &server.TCPServer{}
	s.BaseServer.Init(s, cr.ServerAddress, h)
	return forking.ChildProcess(s, cr.Request, cr.ClientAddress)
}

func askOnce(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	b, _ := io.ReadAll(c)
	return string(b)
}

func serveCommand(t *testing.T, h server.Handler, fork forking.ForkFunc) *forking.TCPServer {
	t.Helper()
	s, err := forking.NewTCPServer("127.0.0.1:0", h)
	if err != nil {
		t.Fatal(err)
	}
	s.Fork = fork
	done := make(chan error, 1)
	go func() { done <- s.ServeForever(fast) }()
	t.Cleanup(func() {
		s.Shutdown()
		<-done
		s.ServerClose() // waits for the children (block_on_close)
	})
	return s
}

// TestReExecCommandShell: a shell, not this program, serves the request
// on descriptor 3 and reads its description from ChildEnv.
func TestReExecCommandShell(t *testing.T) {
	script := `printf 'sh child' >&3; case "$` + forking.ChildEnv + `" in *'"name":"echo"'*) printf ', handler echo' >&3;; esac`
	s := serveCommand(t, echoH, forking.ReExecCommand("/bin/sh", "sh", "-c", script))
	if got := askOnce(t, s.ServerAddress.String()); got != "sh child, handler echo" {
		t.Fatalf("reply %q", got)
	}
}

// TestReExecCommandTakeChildRequest: this test binary re-executed in
// another role takes the request with TakeChildRequest and serves it with
// its own handler; an unregistered handler is fine for ReExecCommand.
func TestReExecCommandTakeChildRequest(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(takeEnv, "1") // inherited by the child only
	unregistered := server.HandlerFunc(func(server.Request, net.Addr, server.Server) error { return nil })
	s := serveCommand(t, unregistered, forking.ReExecCommand(exe, "child-role"))
	got := askOnce(t, s.ServerAddress.String())
	if got != `took "" from tcp, still a child: false` {
		t.Fatalf("reply %q", got)
	}
	// ReExec itself still refuses an unregistered handler.
	if _, err := forking.ReExec(s, nil, nil); err != forking.ErrNotRegistered {
		t.Fatalf("ReExec with an unregistered handler: %v", err)
	}
	if _, ok, _ := forking.TakeChildRequest(); ok || forking.IsChild() {
		t.Fatal("the parent is not a child")
	}
}
