//go:build unix

package handler_test

import (
	"bytes"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The tests that read socket options or send signals with raw Unix calls.

// I6: DisableNagleAlgorithm sets TCP_NODELAY.
func TestNoDelay_I6(t *testing.T) {
	for _, on := range []bool{false, true} {
		var v int
		withProbe(t, func(h *streamProbe) { h.DisableNagleAlgorithm = on }, func(h *streamProbe) error {
			var err error
			v, err = unix.GetsockoptInt(h.Connection.Fileno(), unix.IPPROTO_TCP, unix.TCP_NODELAY)
			return err
		}, func(c net.Conn) { io.ReadAll(c) })
		if (v != 0) != on {
			t.Fatalf("disable_nagle_algorithm=%v: TCP_NODELAY=%d", on, v)
		}
	}
}

// I11: a large write completes while signals interrupt the process.
func TestLargeWriteSurvivesSignals_I11(t *testing.T) {
	const size = 8 << 20
	payload := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			unix.Kill(unix.Getpid(), unix.SIGURG)
			time.Sleep(time.Millisecond)
		}
	}()
	var n int
	var got int64
	withProbe(t, nil, func(h *streamProbe) error {
		var err error
		n, err = h.Wfile.Write(payload)
		return err
	}, func(c net.Conn) {
		time.Sleep(50 * time.Millisecond) // let the send buffer fill
		got, _ = io.Copy(io.Discard, c)
	})
	stop.Store(true)
	wg.Wait()
	if n != size || got != size {
		t.Fatalf("wrote %d, client got %d, want %d", n, got, size)
	}
}
