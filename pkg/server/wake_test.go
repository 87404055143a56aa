package server_test

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// Signals delivered elsewhere (issue 12, item 3): SignalWaiter calls the
// embedder's check on every slice of the wait, and Wake from another
// goroutine ends the slice at once.

func newWaitingServer(t *testing.T, check func() error, interval time.Duration) (*server.TCPServer, *server.SignalWaiter) {
	t.Helper()
	s, err := server.NewTCPServer("127.0.0.1:0", echoLine)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.ServerClose() })
	w, err := server.NewSignalWaiter(check, interval)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	s.WaitReadable = w.WaitReadable
	return s, w
}

// TestWakeEndsNoneWaitPromptly: ServeForever(None) with no slicing is
// stopped by a signal handler that raises, run at once on a Wake from
// another goroutine.
func TestWakeEndsNoneWaitPromptly(t *testing.T) {
	var pending atomic.Bool
	var checks atomic.Int32
	check := func() error {
		checks.Add(1)
		if pending.Load() {
			return &server.KeyboardInterrupt{}
		}
		return nil
	}
	s, w := newWaitingServer(t, check, 0)
	done := make(chan error, 1)
	go func() { done <- s.ServeForever(server.None) }()
	time.Sleep(100 * time.Millisecond)
	if n := checks.Load(); n != 0 {
		t.Fatalf("the check ran %d times before any wake with no interval", n)
	}
	woke := time.Now()
	pending.Store(true) // the runtime queues the handler...
	w.Wake()            // ...and wakes the serving thread
	select {
	case err := <-done:
		var ki *server.KeyboardInterrupt
		if !errors.As(err, &ki) {
			t.Fatalf("ServeForever returned %v, want KeyboardInterrupt", err)
		}
		if d := time.Since(woke); d > time.Second {
			t.Fatalf("the wake took %v", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeForever(None) did not end after Wake")
	}
}

// TestCheckCalledEverySlice: with Interval 10 ms, a 300 ms handle_request
// wait calls the check once per slice (an unsliced wait would call it at
// most twice: at the deadline and after HandleRequest's last short wait),
// then times out; no gap between two checks is anywhere near the whole
// wait.
func TestCheckCalledEverySlice(t *testing.T) {
	var mu sync.Mutex
	var at []time.Time
	s, _ := newWaitingServer(t, func() error {
		mu.Lock()
		at = append(at, time.Now())
		mu.Unlock()
		return nil
	}, 10*time.Millisecond)
	s.Timeout = server.After(300 * time.Millisecond)
	start := time.Now()
	if err := s.HandleRequest(); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < 300*time.Millisecond {
		t.Fatalf("handle_request timed out after %v", elapsed)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(at) < 5 {
		t.Fatalf("%d checks in a 300 ms wait sliced at 10 ms", len(at))
	}
	prev := start
	for _, ts := range at {
		if gap := ts.Sub(prev); gap > 200*time.Millisecond {
			t.Fatalf("%v between two checks", gap)
		}
		prev = ts
	}
}

// TestWakeResumesWait_PEP475: a handler that does not raise resumes the
// wait, which still serves the request that comes next; a wake made
// before the wait ends its first slice at once.
func TestWakeResumesWait_PEP475(t *testing.T) {
	var checks atomic.Int32
	s, w := newWaitingServer(t, func() error { checks.Add(1); return nil }, 0)
	w.Wake() // before any wait
	done := make(chan error, 1)
	go func() { done <- s.HandleRequest() }()
	deadline := time.Now().Add(5 * time.Second)
	for checks.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	w.Wake()
	for checks.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := checks.Load(); n != 2 {
		t.Fatalf("%d checks after two wakes, want 2", n)
	}
	select {
	case err := <-done:
		t.Fatalf("handle_request ended after a wake: %v", err)
	default:
	}
	c, err := net.Dial("tcp", s.ServerAddress.String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("x\n"))
	defer c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
