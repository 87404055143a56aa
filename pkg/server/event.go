package server

import "sync"

// event is a resettable threading.Event.
type event struct {
	mu  sync.Mutex
	ch  chan struct{}
	set bool
}

func (e *event) chLocked() chan struct{} {
	if e.ch == nil {
		e.ch = make(chan struct{})
	}
	return e.ch
}

func (e *event) clear() {
	e.mu.Lock()
	if e.set {
		e.ch = make(chan struct{})
		e.set = false
	}
	e.mu.Unlock()
}

func (e *event) fire() {
	e.mu.Lock()
	if !e.set {
		close(e.chLocked())
		e.set = true
	}
	e.mu.Unlock()
}

func (e *event) done() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.chLocked()
}
