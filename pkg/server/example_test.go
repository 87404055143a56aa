package server_test

import (
	"bufio"
	"io"
	"log"
	"time"

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

// ExampleTCPServer serves line echo with a TCPServer.
func ExampleTCPServer() {
	srv, err := server.NewTCPServer("127.0.0.1:0", handler.For[lineEcho]())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.ServerClose()
	go srv.ServeForever(server.After(50 * time.Millisecond))
	defer srv.Shutdown()

	servertest.Ask("tcp", srv.ServerAddress, "hello over TCP\n")
	// Output: hello over TCP
}

// ExampleUDPServer serves line echo with a UDPServer.
func ExampleUDPServer() {
	srv, err := server.NewUDPServer("127.0.0.1:0", handler.For[datagramEcho]())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.ServerClose()
	go srv.ServeForever(server.After(50 * time.Millisecond))
	defer srv.Shutdown()

	servertest.Ask("udp", srv.ServerAddress, "hello over UDP\n")
	// Output: hello over UDP
}
