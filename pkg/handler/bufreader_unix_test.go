//go:build unix

package handler

import (
	"errors"
	"io"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gopy-socketserver/socketserver/pkg/internal/servertest"
	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// The test that drives a native connection over a raw socketpair.

// Once everything buffered is read, the buffer goes back to the pool: a
// handler blocked on an idle connection holds none (I3).
func TestBufReaderGivesBackItsBufferWhenDrained_I3(t *testing.T) {
	fd, peer := servertest.Socketpair(t, unix.AF_UNIX, unix.SOCK_STREAM)
	defer unix.Close(peer)
	conn, err := server.ConnFromFD(fd, unix.AF_UNIX)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := conn.(server.NativeConn)
	c.SetTimeout(server.After(5 * time.Second))
	r := newBufReader(c, DefaultBufferSize)
	if r.ready == nil {
		t.Fatal("a native connection has no ReadWhenReady")
	}
	unix.Write(peer, []byte("one\ntw"))
	if line, err := r.ReadBytes('\n'); string(line) != "one\n" || err != nil {
		t.Fatalf("ReadBytes: %q %v", line, err)
	}
	if r.buf == nil {
		t.Fatal("the buffer went back while it still held data")
	}
	unix.Write(peer, []byte("o\n"))
	if line, err := r.ReadBytes('\n'); string(line) != "two\n" || err != nil {
		t.Fatalf("ReadBytes: %q %v", line, err)
	}
	if r.buf != nil {
		t.Fatal("the drained buffer was kept")
	}
	// A timeout takes nothing either.
	c.SetTimeout(server.After(20 * time.Millisecond))
	if _, err := r.ReadByte(); !errors.Is(err, server.ErrTimeout) {
		t.Fatalf("idle ReadByte: %v, want the timeout", err)
	}
	if r.buf != nil {
		t.Fatal("a timed-out read kept a buffer")
	}
	unix.Shutdown(peer, unix.SHUT_WR)
	c.SetTimeout(server.After(5 * time.Second))
	if line, err := r.ReadBytes('\n'); len(line) != 0 || err != io.EOF {
		t.Fatalf("at EOF: %q %v", line, err)
	}
}
