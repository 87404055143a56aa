package threading

import (
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// funcServer's ProcessRequestThread calls the request, a func().
type funcServer struct{ *server.BaseServer }

func (funcServer) ProcessRequestThread(req server.Request, _ net.Addr) error {
	req.(func())()
	return nil
}

// goFunc runs f as a request's worker of m.
func goFunc(m *Mixin, f func()) {
	m.mu.Lock()
	m.active++
	m.mu.Unlock()
	goWorker(&worker{m: m, srv: funcServer{&server.BaseServer{}}, req: f})
}

// A worker that finished runs the next request; workers still run
// concurrently (a request that blocks until another runs does not
// deadlock), and an idle worker exits after its linger.
func TestWorkersReusedConcurrentAndExit(t *testing.T) {
	before := runtime.NumGoroutine()
	m := &Mixin{}
	done := make(chan struct{})
	goFunc(m, func() { close(done) })
	<-done
	// The first worker is idle now: the next request runs on it (or, if it
	// is not parked yet, on a new goroutine; either way it runs).
	var wg sync.WaitGroup
	first, second := make(chan struct{}), make(chan struct{})
	wg.Add(2)
	goFunc(m, func() { defer wg.Done(); close(first); <-second })
	goFunc(m, func() { defer wg.Done(); <-first; close(second) })
	wg.Wait()
	deadline := time.Now().Add(3*workerLinger + 5*time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before: idle workers did not exit", runtime.NumGoroutine(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
