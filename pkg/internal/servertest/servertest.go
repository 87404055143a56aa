// Package servertest holds the helpers that the tests of packages server,
// threading and forking share: a line-echo handler and a descriptor count.
package servertest

import (
	"bufio"
	"io"
	"net"
	"os"
	"testing"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// EchoLine echoes one line of a stream connection, or a datagram back to
// its sender.
var EchoLine = server.HandlerFunc(func(req server.Request, addr net.Addr, _ server.Server) error {
	switch r := req.(type) {
	case server.Conn:
		line, err := bufio.NewReader(r).ReadBytes('\n')
		if err != nil && err != io.EOF {
			return err
		}
		_, err = r.Write(line)
		return err
	case *server.Datagram:
		return r.Socket.SendTo(r.Data, addr)
	}
	return nil
})

// CountFDs counts this process's open descriptors; the test is skipped
// where /proc/self/fd cannot be read.
func CountFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd: cannot count descriptors")
	}
	return len(ents)
}
