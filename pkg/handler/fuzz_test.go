package handler_test

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/handler"
	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// chunkConn is a server.Conn whose reads return at most the next chunk size.
type chunkConn struct {
	server.Conn // nil: only the methods below are used
	r           *bytes.Reader
	chunks      []byte
	i           int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	n := 1
	if len(c.chunks) > 0 {
		n = int(c.chunks[c.i%len(c.chunks)])%7 + 1
		c.i++
	}
	if n > len(p) {
		n = len(p)
	}
	return c.r.Read(p[:n])
}

func (c *chunkConn) Write(p []byte) (int, error)     { return len(p), nil }
func (c *chunkConn) SetTimeout(server.Timeout) error { return nil }
func (c *chunkConn) SetNoDelay(bool) error           { return nil }
func (c *chunkConn) Fileno() int                     { return -1 }
func (c *chunkConn) SetDeadline(time.Time) error     { return nil }
func (c *chunkConn) RemoteAddr() net.Addr            { return nil }

func readLines(t *testing.T, data, chunks []byte, rbufsize int) []string {
	h := &handler.StreamRequestHandler{RBufSize: rbufsize}
	h.Request = &chunkConn{r: bytes.NewReader(data), chunks: chunks}
	if err := h.Setup(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for {
		line, err := h.Rfile.ReadString('\n')
		if line != "" {
			lines = append(lines, line)
		}
		if err == io.EOF {
			return lines
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzRfileReadline: whatever the chunking of the stream, buffered (I3
// default, small) and unbuffered Rfiles split it into the same lines, which
// join back into the input.
func FuzzRfileReadline(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.0\r\nHost: x\r\n\r\n"), []byte{1, 2, 3})
	f.Add([]byte("no newline"), []byte{0})
	f.Add([]byte("\n\n\n"), []byte{6})
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, data, chunks []byte) {
		want := readLines(t, data, chunks, 0)
		for _, size := range []int{handler.Unbuffered, 1, 16} {
			got := readLines(t, data, chunks, size)
			if len(got) != len(want) {
				t.Fatalf("rbufsize %d: %d lines, want %d", size, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("rbufsize %d line %d: %q want %q", size, i, got[i], want[i])
				}
			}
		}
		var joined bytes.Buffer
		for _, l := range want {
			joined.WriteString(l)
		}
		if !bytes.Equal(joined.Bytes(), data) {
			t.Fatal("lines do not join back into the input")
		}
	})
}
