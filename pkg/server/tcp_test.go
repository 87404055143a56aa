//go:build unix

package server_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// C7, C11, C12, J1: echo through a synchronous TCP server.
func TestTCPServerEcho_C11(t *testing.T) {
	s, err := server.NewTCPServer("127.0.0.1:0", echoLine)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	if got := tcpRoundTrip(t, s.ServerAddress.String(), "hello\n"); got != "hello\n" {
		t.Fatalf("got %q", got)
	}
}

// C1-C5, C8: defaults of a TCP server and the backlog passed to listen.
type recSocket struct {
	server.Socket
	backlog int
	opts    []string
}

func (r *recSocket) Listen(n int) error { r.backlog = n; return r.Socket.Listen(n) }
func (r *recSocket) SetsockoptInt(level, opt, v int) error {
	r.opts = append(r.opts, fmt.Sprint(level, "/", opt, "=", v))
	return r.Socket.SetsockoptInt(level, opt, v)
}

func TestTCPDefaultsAndBacklog_C1_C8(t *testing.T) {
	for _, q := range []int{0, 1, 17} {
		rec := &recSocket{}
		s := &server.TCPServer{RequestQueueSize: q}
		s.NewSocket = func(f, ty int) (server.Socket, error) {
			sock, err := server.NewSocket(f, ty)
			rec.Socket = sock
			return rec, err
		}
		addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
		if err := s.Init(s, addr, echoLine, true); err != nil {
			t.Fatal(err)
		}
		want := q
		if q == 0 {
			want = server.DefaultRequestQueueSize
		}
		if rec.backlog != want {
			t.Errorf("backlog %d want %d", rec.backlog, want)
		}
		if s.AddressFamily != unix.AF_INET || s.SocketType != unix.SOCK_STREAM || s.AllowReuseAddress || s.AllowReusePort {
			t.Errorf("defaults: %+v", s)
		}
		if len(rec.opts) != 0 {
			t.Errorf("options set without allow_reuse_*: %v", rec.opts)
		}
		s.ServerClose()
	}
}

// C7, J5: options set on the instance before Init are honoured.
// SO_REUSEADDR for any family; SO_REUSEPORT only for AF_INET/AF_INET6
// (3.14); the bound address replaces ServerAddress.
func TestServerBindOptions_C7(t *testing.T) {
	cases := []struct {
		name       string
		family     int
		addr       net.Addr
		reuseAddr  bool
		reusePort  bool
		wantAddrOn bool
		wantPortOn bool
	}{
		{"inet both", unix.AF_INET, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, true, true, true, true},
		{"inet none", unix.AF_INET, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, false, false, false, false},
		{"inet6 port", unix.AF_INET6, &net.TCPAddr{IP: net.IPv6loopback}, false, true, false, true},
		{"unix both", unix.AF_UNIX, nil, true, true, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.addr
			if addr == nil {
				addr = &net.UnixAddr{Name: sockPath(t, "s"), Net: "unix"}
			}
			s := &server.TCPServer{AddressFamily: tc.family, AllowReuseAddress: tc.reuseAddr, AllowReusePort: tc.reusePort}
			if err := s.Init(s, addr, echoLine, true); err != nil {
				if tc.family == unix.AF_INET6 {
					t.Skip("no IPv6 loopback on this machine:", err)
				}
				t.Fatal(err)
			}
			defer s.ServerClose()
			ra, _ := unix.GetsockoptInt(s.Fileno(), unix.SOL_SOCKET, unix.SO_REUSEADDR)
			rp, _ := unix.GetsockoptInt(s.Fileno(), unix.SOL_SOCKET, unix.SO_REUSEPORT)
			if (ra != 0) != tc.wantAddrOn || (rp != 0) != tc.wantPortOn {
				t.Fatalf("SO_REUSEADDR=%d SO_REUSEPORT=%d", ra, rp)
			}
			switch a := s.ServerAddress.(type) {
			case *net.TCPAddr:
				if a.Port == 0 {
					t.Fatal("server_address not replaced by getsockname")
				}
				want := fmt.Sprintf("('127.0.0.1', %d)", a.Port)
				if tc.family == unix.AF_INET6 {
					want = fmt.Sprintf("('::1', %d, 0, 0)", a.Port)
				}
				if got := server.FormatAddress(a); got != want {
					t.Fatalf("address %s want %s", got, want)
				}
			case *net.UnixAddr:
				if a.Name != addr.(*net.UnixAddr).Name {
					t.Fatalf("unix address %q", a.Name)
				}
			default:
				t.Fatalf("address type %T", a)
			}
		})
	}
}

// C6 (Issue #22435): a failing bind closes the socket: no descriptor leaks,
// for a port out of range (OverflowError) and an address in use.
func TestBindFailureNoFDLeak_C6(t *testing.T) {
	busy, err := server.NewTCPServer("127.0.0.1:0", echoLine)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.ServerClose()
	before := countFDs(t)
	for i := 0; i < 1024; i++ {
		_, err := server.NewTCPServer("127.0.0.1:-1", echoLine)
		if !errors.Is(err, server.ErrPortRange) {
			t.Fatalf("port -1: %v", err)
		}
		_, err = server.NewTCPServer(busy.ServerAddress.String(), echoLine)
		if !errors.Is(err, unix.EADDRINUSE) {
			t.Fatalf("address in use: %v", err)
		}
	}
	if after := countFDs(t); after != before {
		t.Fatalf("descriptors leaked: %d -> %d", before, after)
	}
}

// C6: a failing ServerActivate override also closes the server.
type failActivate struct {
	server.TCPServer
	closed bool
}

func (s *failActivate) ServerActivate() error { return errors.New("activate failed") }
func (s *failActivate) ServerClose() error {
	s.closed = true
	return s.TCPServer.ServerClose()
}

func TestActivateFailureCloses_C6(t *testing.T) {
	before := countFDs(t)
	s := &failActivate{}
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	if err := s.Init(s, addr, echoLine, true); err == nil || !s.closed {
		t.Fatalf("err=%v closed=%v", err, s.closed)
	}
	if countFDs(t) != before {
		t.Fatal("descriptor leaked")
	}
}

// C12, J1: after the handler, the server half-closes (SHUT_WR) and closes:
// the client reads EOF without closing its own side first.
func TestShutdownRequestHalfClose_C12(t *testing.T) {
	s, err := server.NewTCPServer("127.0.0.1:0", server.HandlerFunc(func(req server.Request, _ net.Addr, _ server.Server) error {
		_, err := req.(server.Conn).Write([]byte("bye"))
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	c := dial(t, "tcp", s.ServerAddress.String())
	defer c.Close()
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "bye" {
		t.Fatalf("got %q %v", b, err)
	}
}

// A client that half-closes its side (shutdown SHUT_WR) still gets the
// whole reply: the handler reads to EOF, then answers.
func TestHalfClosedClient(t *testing.T) {
	s, err := server.NewTCPServer("127.0.0.1:0", server.HandlerFunc(func(req server.Request, _ net.Addr, _ server.Server) error {
		c := req.(server.Conn)
		b, err := io.ReadAll(c)
		if err != nil {
			return err
		}
		_, err = c.Write([]byte(strings.ToUpper(string(b))))
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	c := dial(t, "tcp", s.ServerAddress.String()).(*net.TCPConn)
	defer c.Close()
	c.Write([]byte("half closed"))
	c.CloseWrite()
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "HALF CLOSED" {
		t.Fatalf("got %q %v", b, err)
	}
}

// A client resetting mid-request: the handler's error goes to HandleError,
// ShutdownRequest ignores ENOTCONN, and the server keeps serving.
func TestClientResetMidRequest_B8_C12(t *testing.T) {
	var mu sync.Mutex
	var report strings.Builder
	got := make(chan error, 1)
	s, err := server.NewTCPServer("127.0.0.1:0", server.HandlerFunc(func(req server.Request, _ net.Addr, _ server.Server) error {
		c := req.(server.Conn)
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil {
			return err
		}
		if string(buf) == "part" {
			time.Sleep(100 * time.Millisecond)
			_, err := io.ReadFull(c, buf)
			select {
			case got <- err:
			default:
			}
			return err
		}
		_, err := c.Write(buf)
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	s.ErrorOutput = writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return report.Write(p)
	})
	serve(t, s)
	c := dial(t, "tcp", s.ServerAddress.String()).(*net.TCPConn)
	c.Write([]byte("part"))
	c.SetLinger(0)
	time.Sleep(20 * time.Millisecond)
	c.Close() // RST
	select {
	case err := <-got:
		if err == nil {
			t.Fatal("read after reset succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("handler never saw the reset")
	}
	if r := tcpRoundTrip(t, s.ServerAddress.String(), "next"); r != "next" {
		t.Fatalf("server stopped serving after reset: %q", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(report.String(), "Exception occurred during processing of request from ('127.0.0.1', ") {
		t.Fatalf("reset not reported: %q", report.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// 20 servers started and shut down at once (test_socketserver's pattern,
// concurrently).
func TestTwentyServersAtOnce_B5(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := server.NewTCPServer("127.0.0.1:0", echoLine)
			if err != nil {
				errs <- err
				return
			}
			done := make(chan error, 1)
			go func() { done <- s.ServeForever(fast) }()
			c, err := net.DialTimeout("tcp", s.ServerAddress.String(), 5*time.Second)
			if err == nil {
				c.SetDeadline(time.Now().Add(10 * time.Second))
				c.Write([]byte("hi\n"))
				b, _ := io.ReadAll(c)
				c.Close()
				if string(b) != "hi\n" {
					errs <- fmt.Errorf("reply %q", b)
				}
			} else {
				errs <- err
			}
			s.Shutdown()
			if err := <-done; err != nil {
				errs <- err
			}
			s.ServerClose()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// 10,000 sequential requests leave no goroutines or descriptors behind.
func TestTenThousandSequentialRequests_J1(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 500
	}
	fds := countFDs(t)
	goroutines := runtime.NumGoroutine()
	s, err := server.NewTCPServer("127.0.0.1:0", echoLine)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeForever(fast) }()
	addr := s.ServerAddress.String()
	buf := make([]byte, 16)
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte("ping\n"))
		m, err := io.ReadFull(c, buf[:5])
		c.Close()
		if err != nil || string(buf[:m]) != "ping\n" {
			t.Fatalf("request %d: %q %v", i, buf[:m], err)
		}
	}
	s.Shutdown()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s.ServerClose()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= goroutines }, "goroutines to exit")
	if got := countFDs(t); got > fds {
		t.Fatalf("descriptors: %d before, %d after", fds, got)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
