package threading_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/internal/servertest"
	"github.com/gopy-socketserver/socketserver/pkg/server"
	"github.com/gopy-socketserver/socketserver/pkg/threading"
)

var fast = server.After(10 * time.Millisecond)

var echoLine = servertest.EchoLine

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

// roundTrip sends msg and returns the reply (or the dial error's text).
func roundTrip(t *testing.T, addr, msg string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "dial: " + err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, msg)
	b, _ := io.ReadAll(c)
	return string(b)
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// H4, G5: requests run concurrently: the first blocks until the second ran.
func TestConcurrentRequests_H4_G5(t *testing.T) {
	second := make(chan struct{})
	s, err := threading.NewTCPServer("127.0.0.1:0", server.HandlerFunc(func(req server.Request, _ net.Addr, _ server.Server) error {
		c := req.(server.Conn)
		b := make([]byte, 1)
		io.ReadFull(c, b)
		if b[0] == '1' {
			select {
			case <-second:
			case <-time.After(10 * time.Second):
				return errors.New("second request never ran")
			}
		} else {
			close(second)
		}
		_, err := c.Write(b)
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	r1 := make(chan string, 1)
	go func() { r1 <- roundTrip(t, s.ServerAddress.String(), "1") }()
	time.Sleep(20 * time.Millisecond)
	if got := roundTrip(t, s.ServerAddress.String(), "2"); got != "2" {
		t.Fatalf("second: %q", got)
	}
	if got := <-r1; got != "1" {
		t.Fatalf("first: %q", got)
	}
}

// G1, G2, G3, G5, F1, F2, F5, F6, J4 (test_threads_reaped): tracking (F1)
// starts with the first request, finished workers are pruned; daemon
// workers are not tracked, and with BlockOnClose false nothing is (F6:
// _NoThreads, NumThreads reports tracked=false).
func TestThreadTracking_G3_G5_F2(t *testing.T) {
	for _, tc := range []struct {
		name          string
		daemon, block bool
		wantTracked   bool
	}{
		{"default", false, true, true},
		{"daemon", true, true, true},
		{"no block", false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := threading.NewTCPServer("127.0.0.1:0", echoLine)
			if err != nil {
				t.Fatal(err)
			}
			if !s.BlockOnClose || s.DaemonThreads {
				t.Fatal("defaults: block_on_close True, daemon_threads False (G1, G2)")
			}
			s.DaemonThreads, s.BlockOnClose = tc.daemon, tc.block
			if _, tracked := s.NumThreads(); tracked {
				t.Fatal("tracking before the first request (G3)")
			}
			serve(t, s)
			for i := 0; i < 10; i++ {
				if got := roundTrip(t, s.ServerAddress.String(), "x\n"); got != "x\n" {
					t.Fatalf("got %q", got)
				}
			}
			n, tracked := s.NumThreads()
			if tracked != tc.wantTracked {
				t.Fatalf("tracked = %v", tracked)
			}
			if n >= 10 {
				t.Fatalf("len(_threads) = %d after 10 sequential requests", n)
			}
		})
	}
}

// G6, J3, F3, F4: ServerClose closes the socket before it pops and joins
// the tracked workers.
func TestServerCloseOrder_G6_J3(t *testing.T) {
	var s *threading.TCPServer
	started := make(chan struct{})
	sawClosed := make(chan bool, 1)
	s, err := threading.NewTCPServer("127.0.0.1:0", server.HandlerFunc(func(server.Request, net.Addr, server.Server) error {
		close(started)
		deadline := time.Now().Add(5 * time.Second)
		for s.Fileno() != -1 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		sawClosed <- s.Fileno() == -1
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	go roundTrip(t, s.ServerAddress.String(), "x")
	if err := s.HandleRequest(); err != nil {
		t.Fatal(err)
	}
	<-started
	if err := s.ServerClose(); err != nil {
		t.Fatal(err)
	}
	select {
	case ok := <-sawClosed:
		if !ok {
			t.Fatal("worker did not see the socket closed before ServerClose waited")
		}
	default:
		t.Fatal("ServerClose returned before the worker finished")
	}
}

func TestDaemonNotWaited_G1(t *testing.T) {
	release := make(chan struct{})
	s, err := threading.NewTCPServer("127.0.0.1:0", server.HandlerFunc(func(server.Request, net.Addr, server.Server) error {
		<-release
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	s.DaemonThreads = true
	go roundTrip(t, s.ServerAddress.String(), "x")
	if err := s.HandleRequest(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.ServerClose(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ServerClose waited for a daemon worker")
	}
	close(release)
	s.Drain(context.Background())
}

// G4, J2: an Exception goes to HandleError; a BaseException goes to the
// excepthook after ShutdownRequest; a panic is an Exception.
func TestWorkerErrorRouting_G4_J2(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       func() error
		wantHook  bool
		wantError bool
	}{
		{"exception", func() error { return errors.New("boom") }, false, true},
		{"panic", func() error { panic("kaboom") }, false, true},
		{"systemexit", func() error { return &server.SystemExit{} }, true, false},
		{"ok", func() error { return nil }, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var report strings.Builder
			var hooked []error
			s, err := threading.NewTCPServer("127.0.0.1:0", server.HandlerFunc(func(server.Request, net.Addr, server.Server) error {
				return tc.err()
			}))
			if err != nil {
				t.Fatal(err)
			}
			s.ErrorOutput = writerFunc(func(p []byte) (int, error) {
				mu.Lock()
				defer mu.Unlock()
				return report.Write(p)
			})
			s.ExceptHook = func(err error) {
				mu.Lock()
				hooked = append(hooked, err)
				mu.Unlock()
			}
			serve(t, s)
			if got := roundTrip(t, s.ServerAddress.String(), "x"); got != "" {
				t.Fatalf("got %q", got)
			}
			s.Drain(context.Background())
			mu.Lock()
			defer mu.Unlock()
			if (len(hooked) == 1) != tc.wantHook || (tc.wantHook && !server.IsBaseException(hooked[0])) {
				t.Fatalf("excepthook got %v", hooked)
			}
			if strings.Contains(report.String(), "Exception occurred") != tc.wantError {
				t.Fatalf("handle_error output %q", report.String())
			}
		})
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// The default excepthook's text.
func TestDefaultExceptHookText_G4(t *testing.T) {
	var b strings.Builder
	threading.ExceptHookTo(&b, &server.SystemExit{Code: 2})
	if b.String() != "Exception in thread socketserver worker:\nSystemExit: 2\n" {
		t.Fatalf("%q", b.String())
	}
}

// Most-derived dispatch from a worker goroutine: a subtype's FinishRequest
// override runs and calls super().
type counted struct {
	threading.TCPServer
	mu       sync.Mutex
	finished int
}

func (s *counted) FinishRequest(req server.Request, addr net.Addr) error {
	s.mu.Lock()
	s.finished++
	s.mu.Unlock()
	return s.TCPServer.FinishRequest(req, addr)
}

func TestOverrideFromWorker_J1(t *testing.T) {
	s := &counted{TCPServer: threading.TCPServer{Mixin: threading.NewMixin()}}
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	if err := s.Init(s, addr, echoLine, true); err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	for i := 0; i < 3; i++ {
		if got := roundTrip(t, s.ServerAddress.String(), "y\n"); got != "y\n" {
			t.Fatalf("got %q", got)
		}
	}
	s.Drain(context.Background())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished != 3 {
		t.Fatalf("override ran %d times", s.finished)
	}
}

// ShutdownContext drains in-flight workers, or returns ctx.Err.
func TestShutdownContextDrains(t *testing.T) {
	release := make(chan struct{})
	s, err := threading.NewTCPServer("127.0.0.1:0", server.HandlerFunc(func(req server.Request, _ net.Addr, _ server.Server) error {
		<-release
		_, err := req.(server.Conn).Write([]byte("done"))
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	done := make(chan error, 1)
	go func() { done <- s.ServeForever(fast) }()
	reply := make(chan string, 1)
	go func() { reply <- roundTrip(t, s.ServerAddress.String(), "x") }()
	waitFor(t, func() bool { n, _ := s.NumThreads(); return n == 1 }, "worker")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := s.ShutdownContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ShutdownContext = %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(20 * time.Millisecond); close(release) }()
	if err := s.ShutdownContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := <-reply; got != "done" {
		t.Fatalf("in-flight request lost: %q", got)
	}
}

// 10,000 sequential requests leave no goroutines or descriptors.
func TestTenThousandSequentialRequests(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 500
	}
	fds := servertest.CountFDs(t)
	goroutines := runtime.NumGoroutine()
	s, err := threading.NewTCPServer("127.0.0.1:0", echoLine)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeForever(fast) }()
	buf := make([]byte, 5)
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", s.ServerAddress.String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte("ping\n"))
		_, err = io.ReadFull(c, buf)
		c.Close()
		if err != nil || string(buf) != "ping\n" {
			t.Fatalf("request %d: %q %v", i, buf, err)
		}
	}
	s.Shutdown()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s.ServerClose()
	if n, _ := s.NumThreads(); n != 0 {
		t.Fatalf("%d tracked workers after close", n)
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= goroutines }, "goroutines to exit")
	if after := servertest.CountFDs(t); after > fds {
		t.Fatalf("descriptors: %d before, %d after", fds, after)
	}
}

// osThreads returns the process's OS thread count.
func osThreads(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status: cannot count threads")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Threads:") {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(l, "Threads:")))
			return n
		}
	}
	t.Skip("no Threads line")
	return 0
}

// Idle connections cost parked goroutines on the netpoller, not OS
// threads: 2,000 clients sit idle inside their handlers.
func TestIdleConnectionsUseNoThreads(t *testing.T) {
	const n = 2000
	var reading sync.WaitGroup
	reading.Add(n)
	// J5: a larger backlog set on the instance before Init, so the burst of
	// connects does not overflow CPython's default of 5.
	s := &threading.TCPServer{Mixin: threading.NewMixin()}
	s.RequestQueueSize = 1024
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	err := s.Init(s, addr, server.HandlerFunc(func(req server.Request, _ net.Addr, _ server.Server) error {
		reading.Done()
		_, err := io.ReadAll(req.(server.Conn)) // idle until the client closes
		return err
	}), true)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", s.ServerAddress.String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	done := make(chan struct{})
	go func() { reading.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("handlers did not all start")
	}
	if th := osThreads(t); th > 100 {
		t.Fatalf("%d OS threads for %d idle connections", th, n)
	}
	if k, _ := s.NumThreads(); k != n {
		t.Fatalf("%d tracked workers, want %d", k, n)
	}
}
