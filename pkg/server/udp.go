package server

import (
	"net"
	"sync"
)

// recvBufs holds receive buffers, so a datagram costs one allocation of
// its own length.
var recvBufs sync.Pool

// DefaultMaxPacketSize is UDPServer's max_packet_size (D4).
//
// CPython: Lib/socketserver.py:538 UDPServer.max_packet_size
const DefaultMaxPacketSize = 8192

// UDPServer is a synchronous datagram server (D). It embeds TCPServer, as
// CPython's class derives from it.
//
// CPython: Lib/socketserver.py:528 UDPServer
type UDPServer struct {
	TCPServer
	// MaxPacketSize is the most bytes read per datagram; the rest of a
	// longer datagram is discarded (D4). Zero means 8192.
	MaxPacketSize int
}

// NewUDPServer creates and binds a UDP server on address ("host:port").
//
// CPython: Lib/socketserver.py:450 TCPServer.__init__
func NewUDPServer(address string, h Handler) (*UDPServer, error) {
	addr, family, err := ResolveAddress("udp", address)
	if err != nil {
		return nil, err
	}
	s := &UDPServer{}
	s.AddressFamily = family
	if err := s.Init(s, addr, h, true); err != nil {
		return nil, err
	}
	return s, nil
}

// Init is TCPServer.Init with SOCK_DGRAM as the default socket type (D3).
//
// CPython: Lib/socketserver.py:450 TCPServer.__init__
func (s *UDPServer) Init(self Server, address net.Addr, h Handler, bindAndActivate bool) error {
	if err := s.checkSelf(self); err != nil {
		return err
	}
	s.BaseServer.Init(self, address, h)
	s.initDefaults(sockDGRAM)
	return s.initSocket(bindAndActivate)
}

// GetRequest reads one datagram of at most MaxPacketSize bytes (or the
// outermost value's "max_packet_size" setting, see Configurer) and returns
// a *Datagram sharing the server socket (D5).
//
// CPython: Lib/socketserver.py:540 UDPServer.get_request
func (s *UDPServer) GetRequest() (Request, net.Addr, error) {
	sock := s.Socket
	req, addr, _, err := s.receive(func(p []byte) (int, net.Addr, bool, error) {
		n, addr, err := sock.RecvFrom(p)
		return n, addr, true, err
	})
	return req, addr, err
}

// receive is GetRequest with recv as the socket's RecvFrom: recv reports
// ok false when it took nothing (a receive that would have blocked; see
// DirectGetter), and receive then too.
func (s *UDPServer) receive(recv func(p []byte) (int, net.Addr, bool, error)) (Request, net.Addr, bool, error) {
	size := SettingInt(s.self, "max_packet_size", s.MaxPacketSize)
	if size <= 0 {
		size = DefaultMaxPacketSize
	}
	bp, _ := recvBufs.Get().(*[]byte)
	if bp == nil || cap(*bp) < size {
		b := make([]byte, size)
		bp = &b
	}
	buf := (*bp)[:size]
	sock := s.Socket
	n, addr, ok, err := recv(buf)
	var data []byte
	if ok && err == nil {
		data = append(make([]byte, 0, n), buf[:n]...)
	}
	recvBufs.Put(bp)
	if !ok || err != nil {
		return nil, nil, ok, err
	}
	return &Datagram{Data: data, Socket: sock}, addr, true, nil
}

// ServerActivate does nothing: no listen for datagrams (D6).
//
// CPython: Lib/socketserver.py:544 UDPServer.server_activate
func (s *UDPServer) ServerActivate() error { return nil }

// ShutdownRequest only calls Self.CloseRequest (D7).
//
// CPython: Lib/socketserver.py:548 UDPServer.shutdown_request
func (s *UDPServer) ShutdownRequest(req Request) error {
	self, err := s.outer()
	if err != nil {
		return err
	}
	return self.CloseRequest(req)
}

// CloseRequest does nothing; the server socket stays open (D8).
//
// CPython: Lib/socketserver.py:552 UDPServer.close_request
func (s *UDPServer) CloseRequest(req Request) error { return nil }
