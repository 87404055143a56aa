//go:build unix

package forking_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gopy-socketserver/socketserver/pkg/forking"
	"github.com/gopy-socketserver/socketserver/pkg/internal/servertest"
	"github.com/gopy-socketserver/socketserver/pkg/server"
)

var fast = server.After(10 * time.Millisecond)

// Handlers run in re-executed children; registered at package level so the
// child finds them before TestMain calls RunChild.
var (
	echoH = forking.Register("echo", servertest.EchoLine)
	pidH  = forking.Register("pid", server.HandlerFunc(func(req server.Request, _ net.Addr, _ server.Server) error {
		_, err := fmt.Fprint(req.(server.Conn), os.Getpid())
		return err
	}))
	failH = forking.Register("fail", server.HandlerFunc(func(req server.Request, _ net.Addr, srv server.Server) error {
		srv.Base().ErrorOutput = io.Discard
		return errors.New("handler failed")
	}))
	exitH = forking.Register("exit", server.HandlerFunc(func(server.Request, net.Addr, server.Server) error {
		return &server.SystemExit{Code: 0}
	}))
	panicH = forking.Register("panic", server.HandlerFunc(func(req server.Request, _ net.Addr, srv server.Server) error {
		srv.Base().ErrorOutput = io.Discard
		panic("child panic")
	}))
)

// statusRecorder wraps Wait4 and records each reaped child's exit status.
type statusRecorder struct {
	mu       sync.Mutex
	statuses map[int]int
}

func (r *statusRecorder) wait(pid, options int) (int, syscall.WaitStatus, error) {
	wpid, ws, err := forking.Wait4(pid, options)
	if err == nil && wpid > 0 {
		r.mu.Lock()
		if r.statuses == nil {
			r.statuses = map[int]int{}
		}
		r.statuses[wpid] = ws.ExitStatus()
		r.mu.Unlock()
	}
	return wpid, ws, err
}

func (r *statusRecorder) all() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for _, s := range r.statuses {
		out = append(out, s)
	}
	sort.Ints(out)
	return out
}

func roundTrip(addr, msg string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(c, msg)
	b, err := io.ReadAll(c)
	return string(b), err
}

func serve(t *testing.T, s server.Server) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Base().ServeForever(fast) }()
	t.Cleanup(func() {
		s.Base().Shutdown()
		if err := <-done; err != nil {
			t.Error(err)
		}
		s.ServerClose()
	})
}

// H2, E1-E4: defaults of a forking server.
func TestDefaults_E1_E4(t *testing.T) {
	s, err := forking.NewTCPServer("127.0.0.1:0", echoH)
	if err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	if d, ok := s.Timeout.Duration(); !ok || d != 300*time.Second {
		t.Errorf("timeout %v, want 300 s (E1)", s.Timeout)
	}
	if s.ActiveChildren() != nil {
		t.Error("active_children not None before the first fork (E2)")
	}
	if s.MaxChildren != 40 || !s.BlockOnClose {
		t.Error("max_children 40, block_on_close True (E3, E4)")
	}
}

// E8, J2: real children by re-exec: a different process answers; exit
// statuses are 0 on success, 1 on an Exception, a panic or a SystemExit.
func TestChildExitStatus_E8_J2(t *testing.T) {
	for _, tc := range []struct {
		name   string
		h      server.Handler
		status int
	}{
		{"success", pidH, 0},
		{"exception", failH, 1},
		{"panic", panicH, 1},
		{"systemexit", exitH, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &statusRecorder{}
			s, err := forking.NewTCPServer("127.0.0.1:0", tc.h)
			if err != nil {
				t.Fatal(err)
			}
			s.Wait = rec.wait
			serve(t, s)
			reply, err := roundTrip(s.ServerAddress.String(), "x\n")
			if err != nil {
				t.Fatal(err)
			}
			if tc.status == 0 {
				pid, err := strconv.Atoi(reply)
				if err != nil || pid == os.Getpid() || pid <= 0 {
					t.Fatalf("reply %q from pid %d: not another process", reply, os.Getpid())
				}
			}
			waitFor(t, func() bool { return len(rec.all()) == 1 }, "child reaped")
			if got := rec.all(); got[0] != tc.status {
				t.Fatalf("exit status %d, want %d", got[0], tc.status)
			}
		})
	}
}

// E9, J4 (bpo-31151): ServerClose waits for every child; active_children
// is empty afterwards; J3: the socket is closed first.
func TestServerCloseWaitsForChildren_E9_J3(t *testing.T) {
	s, err := forking.NewTCPServer("127.0.0.1:0", echoH)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			roundTrip(s.ServerAddress.String(), "a\n")
		}()
		if err := s.HandleRequest(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ServerClose(); err != nil {
		t.Fatal(err)
	}
	if n := len(s.ActiveChildren()); n != 0 {
		t.Fatalf("%d children left after server_close", n)
	}
	if s.Fileno() != -1 {
		t.Fatal("socket not closed")
	}
	wg.Wait()
}

// E5: collect_children's two phases, with an injected waitpid.
type fakeWait struct {
	calls   []string
	results map[string][]any // key "pid/options" -> queue of int or error
}

func (f *fakeWait) wait(pid, options int) (int, syscall.WaitStatus, error) {
	key := fmt.Sprintf("%d/%d", pid, options)
	f.calls = append(f.calls, key)
	q := f.results[key]
	if len(q) == 0 {
		return 0, 0, nil
	}
	v := q[0]
	f.results[key] = q[1:]
	if err, ok := v.(error); ok {
		return 0, 0, err
	}
	return v.(int), 0, nil
}

func fakeFork(pids ...int) forking.ForkFunc {
	i := 0
	return func(server.Server, server.Request, net.Addr) (int, error) {
		pid := pids[i]
		i++
		return pid, nil
	}
}

func TestCollectChildrenPhases_E5(t *testing.T) {
	nh := unix.WNOHANG
	cases := []struct {
		name     string
		children []int
		max      int
		blocking bool
		results  map[string][]any
		want     []string // sorted calls
		left     []int
	}{
		{"none yet", nil, 40, false, nil, nil, nil},
		{"phase 2 nonblocking", []int{10, 11}, 40, false,
			map[string][]any{fmt.Sprintf("10/%d", nh): {10}, fmt.Sprintf("11/%d", nh): {0}},
			[]string{fmt.Sprintf("10/%d", nh), fmt.Sprintf("11/%d", nh)}, []int{11}},
		{"phase 2 blocking", []int{10}, 40, true,
			map[string][]any{"10/0": {10}}, []string{"10/0"}, []int{}},
		{"phase 2 ECHILD drops, other errors ignored", []int{10, 11}, 40, false,
			map[string][]any{fmt.Sprintf("10/%d", nh): {unix.ECHILD}, fmt.Sprintf("11/%d", nh): {unix.EINVAL}},
			[]string{fmt.Sprintf("10/%d", nh), fmt.Sprintf("11/%d", nh)}, []int{11}},
		{"phase 1 waitpid(-1) until below max", []int{10, 11, 12}, 2, false,
			map[string][]any{"-1/0": {10, 11}, fmt.Sprintf("12/%d", nh): {0}},
			[]string{"-1/0", "-1/0", fmt.Sprintf("12/%d", nh)}, []int{12}},
		{"phase 1 ECHILD clears", []int{10, 11}, 2, false,
			map[string][]any{"-1/0": {unix.ECHILD}}, []string{"-1/0"}, []int{}},
		{"phase 1 other error ends phase", []int{10, 11}, 2, false,
			map[string][]any{"-1/0": {unix.EINVAL}},
			[]string{"-1/0", fmt.Sprintf("10/%d", nh), fmt.Sprintf("11/%d", nh)}, []int{10, 11}},
		{"phase 1 reaps a foreign pid", []int{10, 11}, 2, false,
			map[string][]any{"-1/0": {99, 10}},
			[]string{"-1/0", "-1/0", fmt.Sprintf("11/%d", nh)}, []int{11}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := forking.NewMixin()
			m.MaxChildren = tc.max
			fw := &fakeWait{results: tc.results}
			m.Wait = fw.wait
			m.Fork = fakeFork(tc.children...)
			srv := &server.BaseServer{}
			for range tc.children {
				if err := m.ProcessRequest(srv, nil, nil); err != nil {
					t.Fatal(err)
				}
			}
			m.CollectChildren(tc.blocking)
			calls := append([]string(nil), fw.calls...)
			// phase 1 calls come first in order; phase 2's order is a set's
			sort.Strings(calls)
			want := append([]string(nil), tc.want...)
			sort.Strings(want)
			if fmt.Sprint(calls) != fmt.Sprint(want) {
				t.Fatalf("waitpid calls %v, want %v", fw.calls, tc.want)
			}
			left := m.ActiveChildren()
			sort.Ints(left)
			if tc.left == nil {
				if left != nil {
					t.Fatalf("active_children %v, want None", left)
				}
				return
			}
			if fmt.Sprint(left) != fmt.Sprint(tc.left) {
				t.Fatalf("left %v want %v", left, tc.left)
			}
		})
	}
}

// E6, E7: HandleTimeout and ServiceActions collect children.
func TestTimeoutAndServiceActionsCollect_E6_E7(t *testing.T) {
	s, err := forking.NewTCPServer("127.0.0.1:0", echoH)
	if err != nil {
		t.Fatal(err)
	}
	defer s.TCPServer.ServerClose()
	fw := &fakeWait{results: map[string][]any{}}
	s.Wait = fw.wait
	s.Fork = fakeFork(7)
	s.Mixin.ProcessRequest(s, nil, nil)
	s.Timeout = server.After(0)
	if err := s.HandleRequest(); err != nil { // times out: HandleTimeout
		t.Fatal(err)
	}
	if len(fw.calls) != 1 {
		t.Fatalf("handle_timeout: waitpid calls %v", fw.calls)
	}
	s.ServiceActions()
	if len(fw.calls) != 2 {
		t.Fatalf("service_actions: waitpid calls %v", fw.calls)
	}
}

// E8 parent side: the pid is recorded and the parent's copy of the request
// is closed; a fork error goes to HandleError and the request is shut down.
type closeRec struct {
	server.Conn
	closed bool
}

func (c *closeRec) Close() error      { c.closed = true; return nil }
func (c *closeRec) CloseWrite() error { return nil }

func TestParentSide_E8(t *testing.T) {
	s, err := forking.NewTCPServer("127.0.0.1:0", echoH)
	if err != nil {
		t.Fatal(err)
	}
	defer s.TCPServer.ServerClose()
	s.Fork = fakeFork(42)
	req := &closeRec{}
	if err := s.ProcessRequest(req, nil); err != nil {
		t.Fatal(err)
	}
	if !req.closed || fmt.Sprint(s.ActiveChildren()) != "[42]" {
		t.Fatalf("closed=%v children=%v", req.closed, s.ActiveChildren())
	}
}

func TestForkFailureAndUnregistered_E8(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    server.Handler
		fork forking.ForkFunc
		want string
	}{
		{"fork fails", echoH, func(server.Server, server.Request, net.Addr) (int, error) { return 0, unix.EAGAIN }, "resource temporarily unavailable"},
		{"unregistered", server.HandlerFunc(func(server.Request, net.Addr, server.Server) error { return nil }), nil, "not registered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var report strings.Builder
			s, err := forking.NewTCPServer("127.0.0.1:0", tc.h)
			if err != nil {
				t.Fatal(err)
			}
			defer s.ServerClose()
			s.Fork = tc.fork
			s.ErrorOutput = &report
			go roundTrip(s.ServerAddress.String(), "x\n")
			if err := s.HandleRequest(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(report.String(), tc.want) || !strings.Contains(report.String(), "Exception occurred") {
				t.Fatalf("report %q", report.String())
			}
			if s.ActiveChildren() != nil {
				t.Fatal("a failed fork recorded a child")
			}
		})
	}
}

// ChildProcess's status rules and the order of its hooks (E8).
type childLog struct {
	server.BaseServer
	log []string
}

func (s *childLog) HandleError(server.Request, net.Addr, error) error {
	s.log = append(s.log, "handle_error")
	return nil
}
func (s *childLog) ShutdownRequest(server.Request) error {
	s.log = append(s.log, "shutdown_request")
	return errors.New("shutdown failed too")
}

func TestChildProcessStatus_E8(t *testing.T) {
	for _, tc := range []struct {
		name   string
		h      server.HandlerFunc
		status int
		log    string
	}{
		{"ok", func(server.Request, net.Addr, server.Server) error { return nil }, 0, "[shutdown_request]"},
		{"error", func(server.Request, net.Addr, server.Server) error { return errors.New("x") }, 1, "[handle_error shutdown_request]"},
		{"panic", func(server.Request, net.Addr, server.Server) error { panic(1) }, 1, "[handle_error shutdown_request]"},
		{"keyboardinterrupt", func(server.Request, net.Addr, server.Server) error { return &server.KeyboardInterrupt{} }, 1, "[shutdown_request]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &childLog{}
			s.Init(s, nil, tc.h)
			if got := forking.ChildProcess(s, nil, nil); got != tc.status {
				t.Fatalf("status %d want %d", got, tc.status)
			}
			if fmt.Sprint(s.log) != tc.log {
				t.Fatalf("log %v want %s", s.log, tc.log)
			}
		})
	}
}

// H1, H9, H10: datagram and Unix kinds with real children.
func TestOtherKinds_H1_H9_H10(t *testing.T) {
	dir := t.TempDir()
	u, err := forking.NewUDPServer("127.0.0.1:0", echoH)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, u)
	servertest.RoundTrip(t, "udp", u.ServerAddress.String(), "udp")

	us, err := forking.NewUnixStreamServer(filepath.Join(dir, "s"), echoH)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, us)
	servertest.RoundTrip(t, "unix", filepath.Join(dir, "s"), "us\n")

	ud, err := forking.NewUnixDatagramServer(filepath.Join(dir, "d"), echoH)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, ud)
	servertest.RoundTrip(t, "unixgram", filepath.Join(dir, "d"), "ud")
}

// E3, E5: with MaxChildren 2 many concurrent requests are all served and
// every child is reaped; sequential requests leave no children, descriptors
// or goroutines.
func TestManyRequestsNoLeftovers_E3_E5(t *testing.T) {
	fds := servertest.CountFDs(t)
	s, err := forking.NewTCPServer("127.0.0.1:0", echoH)
	if err != nil {
		t.Fatal(err)
	}
	s.MaxChildren = 2
	done := make(chan error, 1)
	go func() { done <- s.ServeForever(fast) }()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			msg := fmt.Sprintf("m%d\n", i)
			if got, err := roundTrip(s.ServerAddress.String(), msg); err != nil || got != msg {
				errs <- fmt.Errorf("%q %v", got, err)
			}
		}(i)
	}
	wg.Wait()
	n := 100
	if testing.Short() {
		n = 10
	}
	for i := 0; i < n; i++ {
		if got, err := roundTrip(s.ServerAddress.String(), "seq\n"); err != nil || got != "seq\n" {
			t.Fatalf("request %d: %q %v", i, got, err)
		}
	}
	s.Shutdown()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s.ServerClose()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(s.ActiveChildren()) != 0 {
		t.Fatal("children left")
	}
	if _, _, err := forking.Wait4(-1, unix.WNOHANG); !errors.Is(err, unix.ECHILD) {
		t.Fatalf("a child is still around: %v", err)
	}
	if after := servertest.CountFDs(t); after > fds {
		t.Fatalf("descriptors %d -> %d", fds, after)
	}
}

// ShutdownContext drains children.
func TestShutdownContextDrainsChildren(t *testing.T) {
	s, err := forking.NewTCPServer("127.0.0.1:0", echoH)
	if err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	done := make(chan error, 1)
	go func() { done <- s.ServeForever(fast) }()
	if got, err := roundTrip(s.ServerAddress.String(), "d\n"); err != nil || got != "d\n" {
		t.Fatal(got, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.ShutdownContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(s.ActiveChildren()) != 0 {
		t.Fatal("children not drained")
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// E8: with RegisterServer the child runs the parent's overridden hooks:
// here a ShutdownRequest that says goodbye before calling super().
type politeServer struct {
	forking.TCPServer
}

func (s *politeServer) ShutdownRequest(req server.Request) error {
	if c, ok := req.(server.Conn); ok {
		fmt.Fprint(c, "|goodbye from the child's ShutdownRequest")
	}
	return s.TCPServer.ShutdownRequest(req)
}

var politeH = forking.Register("polite", server.HandlerFunc(func(req server.Request, _ net.Addr, _ server.Server) error {
	_, err := fmt.Fprint(req.(server.Conn), "reply")
	return err
}))

func init() {
	forking.RegisterServer("polite", func() server.Server {
		return &politeServer{}
	})
}

func TestChildRunsRegisteredServerHooks_E8(t *testing.T) {
	s := &politeServer{TCPServer: forking.TCPServer{Mixin: forking.NewMixin()}}
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	if err := s.Init(s, addr, politeH, true); err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	got, err := roundTrip(s.ServerAddress.String(), "")
	if err != nil || got != "reply|goodbye from the child's ShutdownRequest" {
		t.Fatalf("got %q %v", got, err)
	}
}
