//go:build unix

package server_test

import (
	"log"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/handler"
	"github.com/gopy-socketserver/socketserver/pkg/internal/servertest"
	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// The Unix-domain examples: no AF_UNIX servers on Windows, as in CPython.

// ExampleUnixStreamServer serves line echo with a UnixStreamServer.
func ExampleUnixStreamServer() {
	path, cleanup := servertest.TempSocket()
	defer cleanup()
	srv, err := server.NewUnixStreamServer(path, handler.For[lineEcho]())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.ServerClose()
	go srv.ServeForever(server.After(50 * time.Millisecond))
	defer srv.Shutdown()

	servertest.Ask("unix", srv.ServerAddress, "hello over a Unix stream\n")
	// Output: hello over a Unix stream
}

// ExampleUnixDatagramServer serves line echo with a UnixDatagramServer.
func ExampleUnixDatagramServer() {
	path, cleanup := servertest.TempSocket()
	defer cleanup()
	srv, err := server.NewUnixDatagramServer(path, handler.For[datagramEcho]())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.ServerClose()
	go srv.ServeForever(server.After(50 * time.Millisecond))
	defer srv.Shutdown()

	servertest.Ask("unixgram", srv.ServerAddress, "hello over Unix datagrams\n")
	// Output: hello over Unix datagrams
}
