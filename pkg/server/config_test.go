package server_test

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// Per-use configuration (issue 12, item 3): the outermost value's Setting
// is asked at each use, so a change between two uses is seen, as CPython
// reads self.timeout, self.request_queue_size... each time.

// attrs is a concurrency-safe attribute dictionary, the shape of an
// embedder's Python object.
type attrs struct {
	mu sync.Mutex
	m  map[string]any
}

func (a *attrs) Setting(name string) (any, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	v, ok := a.m[name]
	return v, ok
}

func (a *attrs) set(name string, v any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]any{}
	}
	a.m[name] = v
}

type configuredTCP struct {
	server.TCPServer
	attrs
	timeouts int
}

func (s *configuredTCP) HandleTimeout() error { s.timeouts++; return nil }

// recordingSocket records the backlog and options the server gives it.
type recordingSocket struct {
	server.Socket
	mu      sync.Mutex
	backlog int
	opts    []int
}

func (r *recordingSocket) Listen(n int) error {
	r.mu.Lock()
	r.backlog = n
	r.mu.Unlock()
	return r.Socket.Listen(n)
}

func (r *recordingSocket) SetsockoptInt(level, opt, v int) error {
	r.mu.Lock()
	r.opts = append(r.opts, opt)
	r.mu.Unlock()
	return r.Socket.SetsockoptInt(level, opt, v)
}

func TestConfigTimeoutReadAtEachHandleRequest_B1(t *testing.T) {
	s := &configuredTCP{}
	if err := s.Init(s, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, echoLine, true); err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	s.ErrorOutput = io.Discard          // the client may hang up before the echo
	s.Timeout = server.After(time.Hour) // the field: overridden by the setting
	for i, v := range []any{server.After(10 * time.Millisecond), 0.02, nil} {
		if v == nil {
			// None: block until a request; one arrives.
			s.set("timeout", nil)
			go func() {
				if c, err := net.Dial("tcp", s.ServerAddress.String()); err == nil {
					c.Write([]byte("x\n"))
					c.Close()
				}
			}()
		} else {
			s.set("timeout", v)
		}
		start := time.Now()
		if err := s.HandleRequest(); err != nil {
			t.Fatal(err)
		}
		if v != nil && s.timeouts != i+1 {
			t.Fatalf("setting %v: HandleTimeout calls = %d, want %d", v, s.timeouts, i+1)
		}
		if v == 0.02 && time.Since(start) < 20*time.Millisecond {
			t.Fatalf("timeout 0.02 ended after %v", time.Since(start))
		}
	}
	if s.timeouts != 2 {
		t.Fatalf("a request under timeout None timed out (%d timeouts)", s.timeouts)
	}
}

func TestConfigBindSettingsReadAtUse_C3_C4(t *testing.T) {
	var rec *recordingSocket
	s := &configuredTCP{}
	s.NewSocket = func(family, sotype int) (server.Socket, error) {
		sock, err := server.NewSocket(family, sotype)
		rec = &recordingSocket{Socket: sock}
		return rec, err
	}
	s.set("request_queue_size", 17)
	s.set("allow_reuse_address", true)
	var family, sotype int
	s.set("address_family", 2) // AF_INET, as the field's zero also means
	inner := s.NewSocket
	s.NewSocket = func(f, t int) (server.Socket, error) {
		family, sotype = f, t
		return inner(f, t)
	}
	s.SocketType = 99       // replaced by the setting
	s.set("socket_type", 1) // SOCK_STREAM on every platform the tests run on
	if err := s.Init(s, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, echoLine, true); err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	if family != 2 || sotype != 1 {
		t.Fatalf("socket made with (%d, %d), want the settings (2, 1)", family, sotype)
	}
	if rec.backlog != 17 || len(rec.opts) != 1 {
		t.Fatalf("backlog %d, options %v: want 17 and SO_REUSEADDR", rec.backlog, rec.opts)
	}
	// A change after activation is seen by the next use (a second
	// server_activate, as a Python program may call it).
	s.set("request_queue_size", 3)
	if err := s.ServerActivate(); err != nil {
		t.Fatal(err)
	}
	if rec.backlog != 3 {
		t.Fatalf("backlog after the change: %d, want 3", rec.backlog)
	}
	// A value of the wrong type falls back to the field.
	s.set("request_queue_size", "many")
	s.RequestQueueSize = 9
	if err := s.ServerActivate(); err != nil {
		t.Fatal(err)
	}
	if rec.backlog != 9 {
		t.Fatalf("backlog with a non-int setting: %d, want the field's 9", rec.backlog)
	}
}

type configuredUDP struct {
	server.UDPServer
	attrs
}

func TestConfigMaxPacketSizeBetweenRequests_D4(t *testing.T) {
	got := make(chan int, 2)
	h := server.HandlerFunc(func(req server.Request, _ net.Addr, _ server.Server) error {
		got <- len(req.(*server.Datagram).Data)
		return nil
	})
	s := &configuredUDP{}
	if err := s.Init(s, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, h, true); err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	c, err := net.Dial("udp", s.ServerAddress.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, size := range []int{10, 20} {
		s.set("max_packet_size", size)
		if _, err := c.Write(make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
		s.Timeout = server.After(5 * time.Second)
		if err := s.HandleRequest(); err != nil {
			t.Fatal(err)
		}
		if n := <-got; n != size {
			t.Fatalf("max_packet_size %d: got %d bytes", size, n)
		}
	}
}

func TestSettingHelpers(t *testing.T) {
	a := &attrs{}
	if server.SettingInt(a, "x", 4) != 4 || server.SettingBool(nil, "x", true) != true {
		t.Fatal("fallback to the field")
	}
	for _, c := range []struct {
		v    any
		want server.Timeout
	}{
		{nil, server.None},
		{1.5, server.Seconds(1.5)},
		{2, server.After(2 * time.Second)},
		{time.Millisecond, server.After(time.Millisecond)},
		{server.After(0), server.After(0)},
		{"bad", server.After(time.Minute)},
	} {
		a.set("timeout", c.v)
		if got := server.SettingTimeout(a, "timeout", server.After(time.Minute)); got != c.want {
			t.Errorf("timeout %#v: %v, want %v", c.v, got, c.want)
		}
	}
}
