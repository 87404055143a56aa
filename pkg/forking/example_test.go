//go:build unix

package forking_test

import (
	"bufio"
	"io"
	"log"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/forking"
	"github.com/gopy-socketserver/socketserver/pkg/handler"
	"github.com/gopy-socketserver/socketserver/pkg/internal/servertest"
	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// lineEcho echoes one line of a stream connection.
type lineEcho struct{ handler.StreamRequestHandler }

func (h *lineEcho) Handle() error {
	line, err := h.Rfile.ReadBytes('\n')
	if err != nil && err != io.EOF {
		return err
	}
	_, err = h.Wfile.Write(line)
	return err
}

// datagramEcho echoes a datagram's line.
type datagramEcho struct{ handler.DatagramRequestHandler }

func (h *datagramEcho) Handle() error {
	line, _ := bufio.NewReader(h.Rfile).ReadBytes('\n')
	_, err := h.Wfile.Write(line)
	return err
}

// The forking examples' handlers are registered at package level, so that a
// re-executed child (see TestMain: forking.RunChild) finds them.
var (
	forkLineEcho     = forking.Register("example-line-echo", handler.For[lineEcho]())
	forkDatagramEcho = forking.Register("example-datagram-echo", handler.For[datagramEcho]())
)

// ExampleTCPServer serves line echo with a forking.TCPServer.
func ExampleTCPServer() {
	srv, err := forking.NewTCPServer("127.0.0.1:0", forkLineEcho)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.ServerClose()
	go srv.ServeForever(server.After(50 * time.Millisecond))
	defer srv.Shutdown()

	servertest.Ask("tcp", srv.ServerAddress, "hello over TCP\n")
	// Output: hello over TCP
}

// ExampleUDPServer serves line echo with a forking.UDPServer.
func ExampleUDPServer() {
	srv, err := forking.NewUDPServer("127.0.0.1:0", forkDatagramEcho)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.ServerClose()
	go srv.ServeForever(server.After(50 * time.Millisecond))
	defer srv.Shutdown()

	servertest.Ask("udp", srv.ServerAddress, "hello over UDP\n")
	// Output: hello over UDP
}

// ExampleUnixStreamServer serves line echo with a forking.UnixStreamServer.
func ExampleUnixStreamServer() {
	path, cleanup := servertest.TempSocket()
	defer cleanup()
	srv, err := forking.NewUnixStreamServer(path, forkLineEcho)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.ServerClose()
	go srv.ServeForever(server.After(50 * time.Millisecond))
	defer srv.Shutdown()

	servertest.Ask("unix", srv.ServerAddress, "hello over a Unix stream\n")
	// Output: hello over a Unix stream
}

// ExampleUnixDatagramServer serves line echo with a forking.UnixDatagramServer.
func ExampleUnixDatagramServer() {
	path, cleanup := servertest.TempSocket()
	defer cleanup()
	srv, err := forking.NewUnixDatagramServer(path, forkDatagramEcho)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.ServerClose()
	go srv.ServeForever(server.After(50 * time.Millisecond))
	defer srv.Shutdown()

	servertest.Ask("unixgram", srv.ServerAddress, "hello over Unix datagrams\n")
	// Output: hello over Unix datagrams
}
