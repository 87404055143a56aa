package threading

import "time"

// The default worker (Mixin.Spawn nil) is a goroutine. One that has run a
// request waits a moment for the next one before it exits, so a busy
// server hands each request to a goroutine that is already running, whose
// stack has already grown to what a request needs: starting a goroutine
// per request and growing its stack two or three times (copying it each
// time) cost a datagram echo about a quarter of its CPU time. Every
// request still runs concurrently with the loop and with every other
// request: when no worker is idle a new goroutine starts.

// idleWorkers hands a request's worker to a goroutine waiting for one.
var idleWorkers = make(chan *worker)

// workerLinger is how long an idle worker waits for a request: it exits
// between one and two lingers after its last one.
const workerLinger = time.Second

// goWorker runs w on an idle goroutine, or on a new one.
func goWorker(w *worker) {
	select {
	case idleWorkers <- w:
	default:
		go workerLoop(w)
	}
}

// workerLoop runs w, then the workers handed to it until it has been
// idle for a whole tick. It keeps no reference to a finished request.
func workerLoop(w *worker) {
	w.run()
	w = nil
	tick := time.NewTicker(workerLinger)
	defer tick.Stop()
	used := true
	for {
		select {
		case w = <-idleWorkers:
			w.run()
			w = nil
			used = true
		case <-tick.C:
			if !used {
				return
			}
			used = false
		}
	}
}
