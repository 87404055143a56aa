package threading_test

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/handler"
	"github.com/gopy-socketserver/socketserver/pkg/server"
	"github.com/gopy-socketserver/socketserver/pkg/threading"
)

// packetCopy is ssecho's datagram handler: the reply is the packet.
type packetCopy struct{ handler.DatagramRequestHandler }

func (h *packetCopy) Handle() error {
	_, err := io.Copy(h.Wfile, h.Rfile)
	return err
}

// serveUDP serves s (initialized, bound) until the benchmark ends.
func serveUDP(b *testing.B, base *server.BaseServer, closeFn func() error) string {
	done := make(chan error, 1)
	go func() { done <- base.ServeForever(server.DefaultPollInterval) }()
	b.Cleanup(func() { base.Shutdown(); <-done; closeFn() })
	return base.ServerAddress.String()
}

// benchRawUDP is ssecho's raw Go loop: one ReadFrom/WriteTo goroutine.
func benchRawUDP(b *testing.B) string {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			pc.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	return pc.LocalAddr().String()
}

// datagrams is the bench's UDP load: each client sends a 64-byte line and
// waits for its echo.
func datagrams(b *testing.B, addr string) {
	b.ReportAllocs()
	b.SetParallelism(8) // 8 x GOMAXPROCS clients
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("udp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		msg := append(bytes.Repeat([]byte("x"), 63), '\n')
		buf := make([]byte, 128)
		for pb.Next() {
			c.SetDeadline(time.Now().Add(time.Second))
			if _, err := c.Write(msg); err != nil {
				b.Error(err)
				return
			}
			n, err := c.Read(buf)
			if err != nil {
				continue // a lost datagram: send the next one
			}
			if !bytes.Equal(buf[:n], msg) {
				b.Errorf("echo %q", buf[:n])
				return
			}
		}
	})
}

// Datagram echo (64-byte lines, 8 x GOMAXPROCS clients): the synchronous
// server.UDPServer, threading.UDPServer (a goroutine per datagram), both
// with the handler package's DatagramRequestHandler, and a raw net loop
// for reference (ssecho -impl raw -kind udp).
func BenchmarkDatagramEcho(b *testing.B) {
	h := handler.For[packetCopy]()
	b.Run("server.UDPServer", func(b *testing.B) {
		s, err := server.NewUDPServer("127.0.0.1:0", h)
		if err != nil {
			b.Fatal(err)
		}
		datagrams(b, serveUDP(b, s.Base(), s.ServerClose))
	})
	b.Run("threading.UDPServer", func(b *testing.B) {
		s, err := threading.NewUDPServer("127.0.0.1:0", h)
		if err != nil {
			b.Fatal(err)
		}
		datagrams(b, serveUDP(b, s.Base(), s.ServerClose))
	})
	b.Run("raw", func(b *testing.B) { datagrams(b, benchRawUDP(b)) })
}
