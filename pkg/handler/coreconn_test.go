package handler_test

import (
	"bytes"
	"net"
	"strings"
	"testing"

	"github.com/gopy-socketserver/socketserver/pkg/handler"
	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// coreConn is an embedder's connection with only the core of server.Conn:
// no deadlines, no timeout, no TCP_NODELAY, no half-close.
type coreConn struct {
	in  *strings.Reader
	out bytes.Buffer
}

func (c *coreConn) Read(p []byte) (int, error)  { return c.in.Read(p) }
func (c *coreConn) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *coreConn) Close() error                { return nil }
func (c *coreConn) Fileno() int                 { return -1 }
func (c *coreConn) LocalAddr() net.Addr         { return nil }
func (c *coreConn) RemoteAddr() net.Addr        { return nil }

type upper struct{ handler.StreamRequestHandler }

func (h *upper) Handle() error {
	line, _ := h.Rfile.ReadBytes('\n')
	_, err := h.Wfile.Write(bytes.ToUpper(line))
	return err
}

// TestCoreConnServes: the optional capabilities are asked for only where
// used (issue 12, item 3): a core Conn serves a stream handler and is
// shut down by TCPServer.ShutdownRequest without CloseWrite; asking for a
// timeout or TCP_NODELAY on it is an error naming the capability.
func TestCoreConnServes(t *testing.T) {
	c := &coreConn{in: strings.NewReader("hi\n")}
	s := &server.TCPServer{}
	s.BaseServer.Init(s, nil, handler.For[upper]())
	if err := s.ProcessRequest(c, nil); err != nil {
		t.Fatal(err)
	}
	if c.out.String() != "HI\n" {
		t.Fatalf("reply %q", c.out.String())
	}
	for _, cfg := range []func(*upper){
		func(h *upper) { h.Timeout = server.After(1) },
		func(h *upper) { h.DisableNagleAlgorithm = true },
	} {
		h := &upper{}
		cfg(h)
		err := handler.Run(h, &coreConn{in: strings.NewReader("")}, nil, s)
		if err == nil || !strings.Contains(err.Error(), "server.") {
			t.Fatalf("a missing capability: %v", err)
		}
	}
}
