package server_test

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// Linux only: the test interrupts one thread with tgkill(2) (gettid and
// tgkill are Linux system calls).

// B7, J2: EINTR in the wait runs CheckSignals on the serving thread; its
// error (a KeyboardInterrupt) stops HandleRequest.
func TestHandleRequestEINTRCheckSignals_B7(t *testing.T) {
	s := newLogServer(t, echoLine)
	s.Timeout = server.After(20 * time.Second)
	var checks atomic.Int32
	s.CheckSignals = func() error {
		if checks.Add(1) >= 2 {
			return &server.KeyboardInterrupt{}
		}
		return nil
	}
	tidc := make(chan int, 1)
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tidc <- unix.Gettid()
		errc <- s.HandleRequest()
	}()
	tid := <-tidc
	deadline := time.After(10 * time.Second)
	for {
		unix.Tgkill(unix.Getpid(), tid, unix.SIGURG)
		select {
		case err := <-errc:
			if !server.IsBaseException(err) {
				t.Fatalf("HandleRequest = %v, want KeyboardInterrupt", err)
			}
			if checks.Load() < 2 {
				t.Fatal("CheckSignals not retried after first EINTR")
			}
			return
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			t.Fatal("HandleRequest not interrupted")
		}
	}
}
