//go:build unix

package threading_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/handler"
	"github.com/gopy-socketserver/socketserver/pkg/server"
	"github.com/gopy-socketserver/socketserver/pkg/threading"
)

// lineCopy is ssecho's stream handler: it echoes each line until EOF.
type lineCopy struct{ handler.StreamRequestHandler }

func (h *lineCopy) Handle() error {
	for {
		line, err := h.Rfile.ReadBytes('\n')
		if len(line) > 0 {
			if _, werr := h.Wfile.Write(line); werr != nil {
				return werr
			}
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// benchRawUnix is ssecho's raw Go stream echo on a Unix socket.
func benchRawUnix(b *testing.B, path string) string {
	ln, err := net.Listen("unix", path)
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
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadSlice('\n')
					if len(line) > 0 {
						if _, err := c.Write(line); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return path
}

// keepAlive is the bench's keep-alive load: each client sends a 64-byte
// line on its own connection and reads the echo.
func keepAlive(b *testing.B, network, addr string) {
	b.ReportAllocs()
	b.SetParallelism(8) // 8 x GOMAXPROCS clients
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.DialTimeout(network, addr, 5*time.Second)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		msg := append(bytes.Repeat([]byte("x"), 63), '\n')
		buf := make([]byte, len(msg))
		for pb.Next() {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write(msg); err != nil {
				b.Error(err)
				return
			}
			if _, err := io.ReadFull(c, buf); err != nil || !bytes.Equal(buf, msg) {
				b.Errorf("echo %q, %v", buf, err)
				return
			}
		}
	})
}

// Line echo on persistent Unix-socket connections (64-byte lines,
// 8 x GOMAXPROCS clients): threading.UnixStreamServer with the handler
// package's StreamRequestHandler, and a raw net goroutine per connection
// for reference (ssecho -kind unix).
func BenchmarkUnixKeepAlive(b *testing.B) {
	b.Run("threading.UnixStreamServer", func(b *testing.B) {
		s := &threading.UnixStreamServer{Mixin: threading.NewMixin()}
		s.RequestQueueSize = 128 // the clients connect at once
		addr := &net.UnixAddr{Name: filepath.Join(b.TempDir(), "s"), Net: "unix"}
		if err := s.Init(s, addr, handler.For[lineCopy](), true); err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.ServeForever(server.DefaultPollInterval) }()
		b.Cleanup(func() { s.Shutdown(); <-done; s.ServerClose() })
		keepAlive(b, "unix", s.ServerAddress.String())
	})
	b.Run("raw", func(b *testing.B) { keepAlive(b, "unix", benchRawUnix(b, filepath.Join(b.TempDir(), "r"))) })
}
