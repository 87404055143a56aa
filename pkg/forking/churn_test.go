//go:build unix

package forking_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/forking"
	"github.com/gopy-socketserver/socketserver/pkg/server"
	"github.com/gopy-socketserver/socketserver/pkg/threading"
)

// kind builds one of the 12 concrete servers on a fresh address.
type kind struct {
	name    string
	network string
	make    func(addr string) (server.Server, error)
}

func twelveKinds() []kind {
	h := echoH
	tcp := "127.0.0.1:0"
	return []kind{
		{"TCPServer", "tcp", func(string) (server.Server, error) { return server.NewTCPServer(tcp, h) }},
		{"UDPServer", "udp", func(string) (server.Server, error) { return server.NewUDPServer(tcp, h) }},
		{"UnixStreamServer", "unix", func(p string) (server.Server, error) { return server.NewUnixStreamServer(p, h) }},
		{"UnixDatagramServer", "unixgram", func(p string) (server.Server, error) { return server.NewUnixDatagramServer(p, h) }},
		{"ThreadingTCPServer", "tcp", func(string) (server.Server, error) { return threading.NewTCPServer(tcp, h) }},
		{"ThreadingUDPServer", "udp", func(string) (server.Server, error) { return threading.NewUDPServer(tcp, h) }},
		{"ThreadingUnixStreamServer", "unix", func(p string) (server.Server, error) { return threading.NewUnixStreamServer(p, h) }},
		{"ThreadingUnixDatagramServer", "unixgram", func(p string) (server.Server, error) { return threading.NewUnixDatagramServer(p, h) }},
		{"ForkingTCPServer", "tcp", func(string) (server.Server, error) { return forking.NewTCPServer(tcp, h) }},
		{"ForkingUDPServer", "udp", func(string) (server.Server, error) { return forking.NewUDPServer(tcp, h) }},
		{"ForkingUnixStreamServer", "unix", func(p string) (server.Server, error) { return forking.NewUnixStreamServer(p, h) }},
		{"ForkingUnixDatagramServer", "unixgram", func(p string) (server.Server, error) { return forking.NewUnixDatagramServer(p, h) }},
	}
}

func exchange(network string, addr net.Addr, dir, msg string) (string, error) {
	var c net.Conn
	var err error
	switch network {
	case "unixgram":
		c, err = net.DialUnix("unixgram", &net.UnixAddr{Name: filepath.Join(dir, "client"), Net: "unixgram"}, addr.(*net.UnixAddr))
	case "unix":
		c, err = net.Dial("unix", addr.(*net.UnixAddr).Name)
	default:
		c, err = net.Dial(network, addr.String())
	}
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

// H1-H10, B5: every concrete kind (and 8 more TCP servers: 20 in all) is
// started, serves, and is shut down and closed concurrently.
func TestTwentyServersOfEveryKindAtOnce_H_B5(t *testing.T) {
	kinds := twelveKinds()
	for i := 0; len(kinds) < 20; i++ {
		kinds = append(kinds, kinds[(i%3)*4]) // TCP: sync, threading, forking
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(kinds))
	for i, k := range kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := t.TempDir()
			s, err := k.make(filepath.Join(dir, "sock"))
			if err != nil {
				errs <- fmt.Errorf("%s: %v", k.name, err)
				return
			}
			done := make(chan error, 1)
			go func() { done <- s.Base().ServeForever(fast) }()
			msg := fmt.Sprintf("%s #%d\n", k.name, i)
			got, err := exchange(k.network, s.Base().ServerAddress, dir, msg)
			if err != nil || got != msg {
				errs <- fmt.Errorf("%s: %q %v", k.name, got, err)
			}
			s.Base().Shutdown()
			if err := <-done; err != nil {
				errs <- fmt.Errorf("%s: serve: %v", k.name, err)
			}
			if err := s.ServerClose(); err != nil {
				errs <- fmt.Errorf("%s: close: %v", k.name, err)
			}
			if s.Fileno() != -1 {
				errs <- fmt.Errorf("%s: not closed", k.name)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
