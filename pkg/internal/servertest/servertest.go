// Package servertest holds the helpers that the tests and examples of
// packages server, threading and forking share: a line-echo handler, a
// descriptor count, and the examples' client.
package servertest

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

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

// Ask sends a line to a server and prints the line it answers (the
// client side of the packages' line-echo examples).
func Ask(network string, addr net.Addr, line string) {
	var c net.Conn
	var err error
	switch network {
	case "unixgram":
		dir, _ := os.MkdirTemp("", "client")
		defer os.RemoveAll(dir)
		local := &net.UnixAddr{Name: filepath.Join(dir, "c"), Net: "unixgram"}
		c, err = net.DialUnix("unixgram", local, addr.(*net.UnixAddr))
	case "unix":
		c, err = net.Dial("unix", addr.(*net.UnixAddr).Name)
	default:
		c, err = net.Dial(network, addr.String())
	}
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprint(c, line)
	reply, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(reply)
}

// TempSocket returns a path for a Unix socket in a new temporary directory.
func TempSocket() (string, func()) {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	return filepath.Join(dir, "sock"), func() { os.RemoveAll(dir) }
}

// RoundTrip sends payload to a server at address (for "unixgram", from a
// bound client socket beside it, so the reply can come back) and fails the
// test unless the same bytes come back within 20 seconds: for a stream, the
// whole reply up to EOF, which also proves the server ended the request; for
// a datagram, one datagram.
func RoundTrip(t testing.TB, network, address, payload string) {
	t.Helper()
	var c net.Conn
	var err error
	if network == "unixgram" {
		local := &net.UnixAddr{Name: address + ".client", Net: "unixgram"}
		c, err = net.DialUnix("unixgram", local, &net.UnixAddr{Name: address, Net: "unixgram"})
		defer os.Remove(local.Name)
	} else {
		c, err = net.Dial(network, address)
	}
	if err != nil {
		t.Fatalf("%s dial %s: %v", network, address, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write([]byte(payload)); err != nil {
		t.Fatalf("%s write: %v", network, err)
	}
	var got []byte
	if network == "udp" || network == "unixgram" {
		buf := make([]byte, len(payload)+64)
		var n int
		n, err = c.Read(buf)
		got = buf[:n]
	} else {
		got, err = io.ReadAll(c)
	}
	if err != nil || string(got) != payload {
		t.Fatalf("%s echo: got %q, %v; want %q", network, got, err, payload)
	}
}
