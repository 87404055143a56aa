package threading_test

import (
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/server"
	"github.com/gopy-socketserver/socketserver/pkg/threading"
)

// The embedding contract of package threading (issue 12, item 3):
// daemon_threads and block_on_close read at each request through the
// outermost value, Spawn deciding how each worker runs, and ExceptHook.

type configured struct {
	threading.TCPServer
	mu sync.Mutex
	m  map[string]any
}

func (s *configured) Setting(name string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[name]
	return v, ok
}

func (s *configured) set(name string, v any) {
	s.mu.Lock()
	s.m[name] = v
	s.mu.Unlock()
}

func newConfigured(t *testing.T, h server.Handler) *configured {
	t.Helper()
	s := &configured{TCPServer: threading.TCPServer{Mixin: threading.NewMixin()}, m: map[string]any{}}
	if err := s.Init(s, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, h, true); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSettingsReadAtEachRequest_G1_G2: block_on_close false leaves
// tracking off (_NoThreads) until a request sees it true; daemon_threads
// true leaves a worker untracked, and the next request sees false.
func TestSettingsReadAtEachRequest_G1_G2(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 4)
	h := server.HandlerFunc(func(server.Request, net.Addr, server.Server) error {
		started <- struct{}{}
		<-release
		return nil
	})
	s := newConfigured(t, h)
	serve(t, s)
	defer close(release)
	s.set("block_on_close", false) // the field (true) is not used
	go roundTrip(t, s.ServerAddress.String(), "")
	<-started
	if n, tracked := s.NumThreads(); tracked || n != 0 {
		t.Fatalf("block_on_close False: NumThreads = %d, %v; want tracking off", n, tracked)
	}
	s.set("block_on_close", true)
	s.set("daemon_threads", true)
	go roundTrip(t, s.ServerAddress.String(), "")
	<-started
	if n, tracked := s.NumThreads(); !tracked || n != 0 {
		t.Fatalf("daemon_threads True: NumThreads = %d, %v; want 0 tracked", n, tracked)
	}
	s.set("daemon_threads", false)
	go roundTrip(t, s.ServerAddress.String(), "")
	<-started
	if n, _ := s.NumThreads(); n != 1 {
		t.Fatalf("daemon_threads False: NumThreads = %d; want 1", n)
	}
}

// TestSpawnRunsEachWorker: Spawn is called once per request with a run
// function that serves it, on the embedder's own "thread" (here a
// goroutine that records a thread state).
func TestSpawnRunsEachWorker(t *testing.T) {
	type threadState struct{ id int }
	var spawned atomic.Int32
	var states sync.Map // request address -> *threadState seen by the handler
	current := make(chan *threadState, 1)
	h := server.HandlerFunc(func(req server.Request, addr net.Addr, _ server.Server) error {
		ts := <-current // the thread state the spawn hook set for this thread
		states.Store(addr.String(), ts)
		return echoLine.ServeRequest(req, addr, nil)
	})
	s := newConfigured(t, h)
	s.Spawn = func(run func()) error {
		n := int(spawned.Add(1))
		go func() {
			current <- &threadState{id: n} // the embedder's per-thread setup
			run()
		}()
		return nil
	}
	serve(t, s)
	for i := 0; i < 3; i++ {
		if got := roundTrip(t, s.ServerAddress.String(), "hi\n"); got != "hi\n" {
			t.Fatalf("reply %q", got)
		}
	}
	if spawned.Load() != 3 {
		t.Fatalf("Spawn called %d times, want 3", spawned.Load())
	}
	n := 0
	states.Range(func(_, v any) bool { n++; return v.(*threadState).id > 0 })
	if n != 3 {
		t.Fatalf("%d requests ran under a thread state, want 3", n)
	}
}

// TestSpawnErrorGoesToHandleError: a thread that cannot start is
// process_request's exception: HandleError reports it, the request is
// shut down (the client sees EOF) and no worker is counted.
func TestSpawnErrorGoesToHandleError(t *testing.T) {
	s := newConfigured(t, echoLine)
	var out strings.Builder
	var mu sync.Mutex
	s.ErrorOutput = writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	})
	var fail atomic.Bool
	fail.Store(true)
	s.Spawn = func(run func()) error {
		if fail.Load() {
			return errors.New("can't start new thread")
		}
		go run()
		return nil
	}
	serve(t, s)
	if got := roundTrip(t, s.ServerAddress.String(), "hi\n"); got != "" {
		t.Fatalf("reply %q, want none", got)
	}
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(out.String(), "can't start new thread")
	}, "HandleError's report")
	if n, _ := s.NumThreads(); n != 0 {
		t.Fatalf("NumThreads = %d after a failed spawn", n)
	}
	fail.Store(false)
	if got := roundTrip(t, s.ServerAddress.String(), "hi\n"); got != "hi\n" {
		t.Fatalf("reply %q", got)
	}
}

// TestExceptHookReceivesWorkerErrors_G4: a BaseException from the handler
// reaches the server's ExceptHook (CPython's threading.excepthook), on
// the worker started by Spawn.
func TestExceptHookReceivesWorkerErrors_G4(t *testing.T) {
	h := server.HandlerFunc(func(server.Request, net.Addr, server.Server) error {
		return &server.KeyboardInterrupt{}
	})
	s := newConfigured(t, h)
	got := make(chan error, 1)
	s.ExceptHook = func(err error) { got <- err }
	var spawned atomic.Bool
	s.Spawn = func(run func()) error { spawned.Store(true); go run(); return nil }
	serve(t, s)
	roundTrip(t, s.ServerAddress.String(), "")
	select {
	case err := <-got:
		var ki *server.KeyboardInterrupt
		if !errors.As(err, &ki) || !spawned.Load() {
			t.Fatalf("excepthook got %v (spawned %v)", err, spawned.Load())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the excepthook was not called")
	}
}

// TestSpawnRunsAtMostOnce: run called twice serves once; a Spawn that
// fails after handing run to a thread leaves a later run doing nothing.
func TestSpawnRunsAtMostOnce(t *testing.T) {
	var served atomic.Int32
	h := server.HandlerFunc(func(server.Request, net.Addr, server.Server) error {
		served.Add(1)
		return nil
	})
	s := newConfigured(t, h)
	s.ErrorOutput = writerFunc(func(p []byte) (int, error) { return len(p), nil })
	late := make(chan func(), 1)
	var fail atomic.Bool
	s.Spawn = func(run func()) error {
		if fail.Load() {
			late <- run
			return errors.New("can't start new thread")
		}
		run()
		run()
		return nil
	}
	serve(t, s)
	roundTrip(t, s.ServerAddress.String(), "")
	if n := served.Load(); n != 1 {
		t.Fatalf("served %d times, want 1", n)
	}
	fail.Store(true)
	roundTrip(t, s.ServerAddress.String(), "")
	(<-late)() // the thread the failed Spawn had started runs after all
	if n := served.Load(); n != 1 {
		t.Fatalf("served %d times after a failed spawn, want 1", n)
	}
	if n, _ := s.NumThreads(); n != 0 {
		t.Fatalf("NumThreads = %d", n)
	}
}
