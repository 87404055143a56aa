package threading

import (
	"sync"
	"time"
)

// The default worker (Mixin.Spawn nil) is a goroutine. One that has run a
// request waits a moment for the next one before it exits, so a busy
// server hands each request to a goroutine that is already running, whose
// stack has already grown to what a request needs: starting a goroutine
// per request and growing its stack two or three times (copying it each
// time) cost a datagram echo about a quarter of its CPU time. Every
// request still runs concurrently with the loop and with every other
// request: when no worker is idle a new goroutine starts.
//
// The idle goroutines form a stack (the one idle the shortest is handed
// the next request, its stack and caches warm), each waiting on its own
// channel; a cleaner, running only while some are idle, tells those idle
// for workerLinger to exit.

// workerLinger is how long an idle worker waits for a request: it exits
// between one and two lingers after its last one.
const workerLinger = time.Second

// idleWorker is a goroutine waiting for a worker to run (nil: exit).
type idleWorker struct {
	next  chan *worker // buffered: a hand-off never blocks
	since time.Time    // when it became idle
}

var pool struct {
	mu       sync.Mutex
	idle     []*idleWorker // oldest first
	cleaning bool          // the cleaner runs
}

// goWorker runs w on an idle goroutine, or on a new one.
func goWorker(w *worker) {
	pool.mu.Lock()
	if n := len(pool.idle); n > 0 {
		iw := pool.idle[n-1]
		pool.idle[n-1] = nil
		pool.idle = pool.idle[:n-1]
		pool.mu.Unlock()
		iw.next <- w
		return
	}
	pool.mu.Unlock()
	go workerLoop(w)
}

// workerLoop runs w, then the workers handed to it until the cleaner
// tells it to exit. It keeps no reference to a finished request.
func workerLoop(w *worker) {
	iw := &idleWorker{next: make(chan *worker, 1)}
	for w != nil {
		w.run()
		w = nil
		iw.since = time.Now()
		pool.mu.Lock()
		pool.idle = append(pool.idle, iw)
		clean := !pool.cleaning
		pool.cleaning = true
		pool.mu.Unlock()
		if clean {
			go cleaner()
		}
		w = <-iw.next
	}
}

// cleaner tells the workers idle for workerLinger to exit, every
// workerLinger, and ends once none is idle.
func cleaner() {
	for {
		time.Sleep(workerLinger)
		now := time.Now()
		pool.mu.Lock()
		i := 0
		for i < len(pool.idle) && now.Sub(pool.idle[i].since) >= workerLinger {
			i++
		}
		stale := append([]*idleWorker(nil), pool.idle[:i]...)
		n := copy(pool.idle, pool.idle[i:])
		clear(pool.idle[n:])
		pool.idle = pool.idle[:n]
		done := n == 0
		if done {
			pool.cleaning = false
		}
		pool.mu.Unlock()
		for _, iw := range stale {
			iw.next <- nil
		}
		if done {
			return
		}
	}
}
