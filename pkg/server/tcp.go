package server

import "net"

// DefaultRequestQueueSize is the listen backlog, CPython's
// request_queue_size (C3).
//
// CPython: Lib/socketserver.py:444 TCPServer.request_queue_size
const DefaultRequestQueueSize = 5

// TCPServer is a synchronous stream server (C). UDPServer and the Unix
// kinds embed it.
//
// CPython: Lib/socketserver.py:392 TCPServer
type TCPServer struct {
	BaseServer
	// AddressFamily is the socket's family: syscall.AF_INET (C1), AF_INET6
	// or AF_UNIX (not on Windows). Zero means AF_INET. Set it before Init
	// (J5).
	AddressFamily int
	// SocketType is syscall.SOCK_STREAM (C2); zero means that.
	SocketType int
	// RequestQueueSize is the listen backlog; zero means 5 (C3).
	RequestQueueSize int
	// AllowReuseAddress sets SO_REUSEADDR before bind (C4, C7).
	AllowReuseAddress bool
	// AllowReusePort sets SO_REUSEPORT before bind, for AF_INET and
	// AF_INET6 only (C5, C7), where the option exists: not on Windows.
	AllowReusePort bool
	// Socket is the server socket; it may be replaced (e.g. wrapped in TLS
	// by a consumer) after activation.
	Socket Socket
	// NewSocket creates Socket in Init; nil means NewSocket (native).
	NewSocket SocketFactory
}

// NewTCPServer creates, binds and activates a TCP server on address
// ("host:port"; an IPv6 literal host selects AF_INET6).
//
// CPython: Lib/socketserver.py:450 TCPServer.__init__
func NewTCPServer(address string, h Handler) (*TCPServer, error) {
	addr, family, err := ResolveAddress("tcp", address)
	if err != nil {
		return nil, err
	}
	s := &TCPServer{AddressFamily: family}
	if err := s.Init(s, addr, h, true); err != nil {
		return nil, err
	}
	return s, nil
}

// Init is CPython's TCPServer.__init__: it records self, the outermost
// value (the constructors pass the value they build; a type that embeds a
// server passes itself: s.Init(s, addr, h, true)), stores address and
// handler, creates Socket from the value's AddressFamily and SocketType,
// and, if bindAndActivate, calls self.ServerBind then self.ServerActivate,
// calling self.ServerClose and returning the error if either fails (C6: no
// fd leaks). A nil self, or one whose Base() is not this server, is an
// error wrapping ErrNoSelf, returned before anything is created.
//
// CPython: Lib/socketserver.py:450 TCPServer.__init__
func (s *TCPServer) Init(self Server, address net.Addr, h Handler, bindAndActivate bool) error {
	if err := s.checkSelf(self); err != nil {
		return err
	}
	s.BaseServer.Init(self, address, h)
	s.initDefaults(sockSTREAM)
	return s.initSocket(bindAndActivate)
}

func (s *TCPServer) initDefaults(sotype int) {
	if s.AddressFamily == 0 {
		s.AddressFamily = afINET
	}
	if s.SocketType == 0 {
		s.SocketType = sotype
	}
	if s.RequestQueueSize == 0 {
		s.RequestQueueSize = DefaultRequestQueueSize
	}
}

func (s *TCPServer) initSocket(bindAndActivate bool) error {
	f := s.NewSocket
	if f == nil {
		f = NewSocket
	}
	var sock Socket
	err := Recover("NewSocket", func() (err error) {
		sock, err = f(SettingInt(s.self, "address_family", s.AddressFamily), SettingInt(s.self, "socket_type", s.SocketType))
		return err
	})
	if err != nil {
		return err
	}
	if s.NewSocket == nil {
		// A native socket waits on Go's netpoller (no extra descriptor);
		// with BaseServer.CheckSignals set, it still waits in poll(2) on
		// the calling thread. The switch cannot fail on a fresh socket;
		// if it did, the socket would simply keep poll(2).
		_ = UseNetpoll(sock)
	}
	s.Socket = sock
	if !bindAndActivate {
		return nil
	}
	self := s.self
	err = Recover("ServerBind", func() error { return self.ServerBind() })
	if err == nil {
		err = Recover("ServerActivate", func() error { return self.ServerActivate() })
	}
	if err != nil {
		// CPython: "except: self.server_close(); raise". An error from
		// ServerClose is ignored; a panic in it replaces err, as an
		// exception raised in that except clause does.
		cerr := Recover("ServerClose", func() error { return self.ServerClose() })
		if pe, ok := cerr.(*PanicError); ok && pe.Hook == "ServerClose" {
			return pe
		}
		return err
	}
	return nil
}

// ServerSocket returns Socket (SocketHolder).
//
// CPython: Lib/socketserver.py:453 TCPServer.__init__ (self.socket)
func (s *TCPServer) ServerSocket() Socket { return s.Socket }

// ServerBind sets SO_REUSEADDR if AllowReuseAddress, SO_REUSEPORT if
// AllowReusePort (each read through the outermost value's Configurer first), the family is AF_INET or AF_INET6 and the platform has
// the option (not Windows), binds to
// ServerAddress and replaces it with the bound address (C7).
//
// CPython: Lib/socketserver.py:463 TCPServer.server_bind
func (s *TCPServer) ServerBind() error {
	if SettingBool(s.self, "allow_reuse_address", s.AllowReuseAddress) {
		if err := s.Socket.SetsockoptInt(solSOCKET, soREUSEADDR, 1); err != nil {
			return err
		}
	}
	family := SettingInt(s.self, "address_family", s.AddressFamily)
	if SettingBool(s.self, "allow_reuse_port", s.AllowReusePort) && haveReusePort && (family == afINET || family == afINET6) {
		if err := s.Socket.SetsockoptInt(solSOCKET, soREUSEPORT, 1); err != nil {
			return err
		}
	}
	if err := s.Socket.Bind(s.ServerAddress); err != nil {
		return err
	}
	addr, err := s.Socket.Getsockname()
	if err != nil {
		return err
	}
	s.ServerAddress = addr
	return nil
}

// ServerActivate listens with RequestQueueSize as backlog (C8), or the
// outermost value's "request_queue_size" setting (Configurer).
//
// CPython: Lib/socketserver.py:481 TCPServer.server_activate
func (s *TCPServer) ServerActivate() error {
	return s.Socket.Listen(SettingInt(s.self, "request_queue_size", s.RequestQueueSize))
}

// ServerClose closes Socket; Fileno is -1 afterwards and a second call is
// harmless (C9).
//
// CPython: Lib/socketserver.py:489 TCPServer.server_close
func (s *TCPServer) ServerClose() error {
	if s.Socket == nil {
		return nil
	}
	return s.Socket.Close()
}

// Fileno returns Socket's descriptor (C10).
//
// CPython: Lib/socketserver.py:497 TCPServer.fileno
func (s *TCPServer) Fileno() int {
	if s.Socket == nil {
		return -1
	}
	return s.Socket.Fileno()
}

// GetRequest accepts a connection (C11).
//
// CPython: Lib/socketserver.py:505 TCPServer.get_request
func (s *TCPServer) GetRequest() (Request, net.Addr, error) {
	c, addr, err := s.Socket.Accept()
	if err != nil {
		return nil, nil, err
	}
	return c, addr, nil
}

// ShutdownRequest half-closes the connection (shutdown(SHUT_WR), errors
// ignored) and then calls Self.CloseRequest (C12).
//
// CPython: Lib/socketserver.py:513 TCPServer.shutdown_request
func (s *TCPServer) ShutdownRequest(req Request) error {
	if c, ok := req.(interface{ CloseWrite() error }); ok {
		_ = c.CloseWrite()
	}
	self, err := s.outer()
	if err != nil {
		return err
	}
	return self.CloseRequest(req)
}

// CloseRequest closes the connection (C13).
//
// CPython: Lib/socketserver.py:523 TCPServer.close_request
func (s *TCPServer) CloseRequest(req Request) error {
	c, ok := req.(interface{ Close() error })
	if !ok {
		return ErrNotConn
	}
	return c.Close()
}
