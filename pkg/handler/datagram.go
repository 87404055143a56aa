package handler

import (
	"bytes"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// DatagramRequestHandler gives a datagram handler the packet as Rfile and a
// reply buffer as Wfile, sent back in Finish (I13, I14).
//
// CPython: Lib/socketserver.py:852 DatagramRequestHandler
type DatagramRequestHandler struct {
	BaseRequestHandler
	// Packet is the datagram's data; Socket the server socket it came on.
	Packet []byte
	Socket server.Socket
	Rfile  *bytes.Reader
	Wfile  *bytes.Buffer

	// rfile and wfile are what Setup points Rfile and Wfile at: allocated
	// with the handler, not per request on their own; wfile starts in
	// wbuf, so a short reply allocates nothing more.
	rfile bytes.Reader
	wfile bytes.Buffer
	wbuf  [64]byte
}

// Setup unpacks the request into Packet and Socket and creates Rfile over
// the packet and an empty Wfile (I13).
//
// CPython: Lib/socketserver.py:856 DatagramRequestHandler.setup
func (h *DatagramRequestHandler) Setup() error {
	d, ok := h.Request.(*server.Datagram)
	if !ok {
		return server.ErrNotDatagram
	}
	h.Packet, h.Socket = d.Data, d.Socket
	h.rfile.Reset(d.Data)
	h.wfile = *bytes.NewBuffer(h.wbuf[:0])
	h.Rfile, h.Wfile = &h.rfile, &h.wfile
	return nil
}

// Finish always sends Wfile's contents to the client with sendto, a
// zero-length datagram when nothing was written (I14).
//
// CPython: Lib/socketserver.py:862 DatagramRequestHandler.finish
func (h *DatagramRequestHandler) Finish() error {
	return h.Socket.SendTo(h.Wfile.Bytes(), h.ClientAddress)
}
