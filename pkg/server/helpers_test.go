package server_test

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/internal/servertest"
	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// fast is the poll interval used by tests, so shutdown is quick.
var fast = server.After(10 * time.Millisecond)

// echoLine is a handler that echoes one line.
var echoLine = servertest.EchoLine

// serve runs ServeForever in a goroutine and returns a stop function that
// shuts the loop down, closes the server and returns the loop's error.
func serve(t *testing.T, s server.Server) func() error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Base().ServeForever(fast) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			s.Base().Shutdown()
			err = <-done
			s.ServerClose()
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func dial(t *testing.T, network, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

func tcpRoundTrip(t *testing.T, addr, msg string) string {
	t.Helper()
	c := dial(t, "tcp", addr)
	defer c.Close()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
