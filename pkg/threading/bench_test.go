package threading_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/server"
	"github.com/gopy-socketserver/socketserver/pkg/threading"
)

// echo5 answers a 5-byte request with the same 5 bytes.
var echo5 = server.HandlerFunc(func(req server.Request, _ net.Addr, _ server.Server) error {
	c := req.(server.Conn)
	b := make([]byte, 5)
	if _, err := io.ReadFull(c, b); err != nil {
		return err
	}
	_, err := c.Write(b)
	return err
})

func benchServer(b *testing.B, netpoll bool) string {
	s := &threading.TCPServer{Mixin: threading.NewMixin()}
	s.RequestQueueSize = 1024
	addr, _, _ := server.ResolveAddress("tcp", "127.0.0.1:0")
	if err := s.Init(s, addr, echo5, true); err != nil {
		b.Fatal(err)
	}
	if netpoll {
		if err := server.UseNetpoll(s.Socket); err != nil {
			b.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeForever(server.DefaultPollInterval) }()
	b.Cleanup(func() { s.Shutdown(); <-done; s.ServerClose() })
	return s.ServerAddress.String()
}

func benchRawNet(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 5)
				if _, err := io.ReadFull(c, buf); err == nil {
					c.Write(buf)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func shortConnections(b *testing.B, addr string) {
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 5)
		for pb.Next() {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				b.Error(err)
				return
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			c.Write([]byte("ping\n"))
			if _, err := io.ReadFull(c, buf); err != nil {
				b.Error(err)
			}
			c.Close()
		}
	})
}

// Short connections (connect, 5 bytes each way, close): the threading
// server with the default poll(2) wait, with UseNetpoll, and a plain
// net.Listener goroutine-per-connection echo for reference.
func BenchmarkShortConnections(b *testing.B) {
	b.Run("poll", func(b *testing.B) { shortConnections(b, benchServer(b, false)) })
	b.Run("netpoll", func(b *testing.B) { shortConnections(b, benchServer(b, true)) })
	b.Run("net.Listener", func(b *testing.B) { shortConnections(b, benchRawNet(b)) })
}
