//go:build unix

package main

import (
	"bufio"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// ask sends line to srv over network and returns the reply.
func ask(t *testing.T, network, addr, line string) string {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte(line)); err != nil {
		t.Fatal(err)
	}
	if network == "udp" {
		buf := make([]byte, 1024)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	reply, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return reply
}

func TestEchoServers(t *testing.T) {
	for _, tc := range []struct{ impl, kind, network string }{
		{"raw", "tcp", "tcp"}, {"raw", "unix", "unix"}, {"raw", "udp", "udp"},
		{"pkg", "tcp", "tcp"}, {"pkg", "unix", "unix"}, {"pkg", "udp", "udp"}, {"pkg", "udp-sync", "udp"},
	} {
		t.Run(tc.impl+"-"+tc.kind, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if tc.network == "unix" {
				addr = filepath.Join(t.TempDir(), "s")
			}
			var (
				srv echoServer
				err error
			)
			if tc.impl == "raw" {
				srv, err = newRaw(tc.kind, addr, 0)
			} else {
				srv, err = newPkg(tc.kind, addr, "netpoll")
			}
			if err != nil {
				t.Fatal(err)
			}
			served := make(chan error, 1)
			go func() { served <- srv.Serve() }()
			// A stream connection is echoed line by line until EOF.
			if got := ask(t, tc.network, srv.Addr(), "hello\n"); got != "hello\n" {
				t.Errorf("echo = %q", got)
			}
			if err := srv.Stop(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-served:
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return after Stop")
			}
		})
	}
	if _, err := newRaw("sctp", "x", 0); err == nil {
		t.Error("raw accepted an unknown kind")
	}
	if _, err := newPkg("tcp", "127.0.0.1:0", "epoll"); err == nil {
		t.Error("pkg accepted an unknown wait")
	}
}
