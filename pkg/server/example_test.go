package server_test

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/handler"
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

// ask sends a line to a server and prints the line it answers.
func ask(network string, addr net.Addr, line string) {
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

// tempSocket returns a path for a Unix socket in a new temporary directory.
func tempSocket() (string, func()) {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	return filepath.Join(dir, "sock"), func() { os.RemoveAll(dir) }
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

	ask("tcp", srv.ServerAddress, "hello over TCP\n")
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

	ask("udp", srv.ServerAddress, "hello over UDP\n")
	// Output: hello over UDP
}

// ExampleUnixStreamServer serves line echo with a UnixStreamServer.
func ExampleUnixStreamServer() {
	path, cleanup := tempSocket()
	defer cleanup()
	srv, err := server.NewUnixStreamServer(path, handler.For[lineEcho]())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.ServerClose()
	go srv.ServeForever(server.After(50 * time.Millisecond))
	defer srv.Shutdown()

	ask("unix", srv.ServerAddress, "hello over a Unix stream\n")
	// Output: hello over a Unix stream
}

// ExampleUnixDatagramServer serves line echo with a UnixDatagramServer.
func ExampleUnixDatagramServer() {
	path, cleanup := tempSocket()
	defer cleanup()
	srv, err := server.NewUnixDatagramServer(path, handler.For[datagramEcho]())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.ServerClose()
	go srv.ServeForever(server.After(50 * time.Millisecond))
	defer srv.Shutdown()

	ask("unixgram", srv.ServerAddress, "hello over Unix datagrams\n")
	// Output: hello over Unix datagrams
}
