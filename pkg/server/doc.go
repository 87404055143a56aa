// Package server is a Go port of the server classes of CPython 3.14's
// Lib/socketserver.py: BaseServer, TCPServer, UDPServer, UnixStreamServer and
// UnixDatagramServer, with CPython's behaviour (rows A-J of FEATURES.md) and
// Go idioms on the surface. Packages threading and forking add the
// ThreadingMixIn and ForkingMixIn policies; package handler has the request
// handler classes.
//
// # Most-derived dispatch
//
// Every overridable hook of CPython's classes is a method of the Server
// interface. Python finds a method on the most-derived class (its MRO); Go
// embedding does not, because a method of an embedded type sees only its own
// receiver. So the outermost value is part of construction: Init takes it
// as its first argument (Python's self), BaseServer keeps it (Self), and
// the loop and every hook that calls another hook call through it. A
// "subclass" embeds the type it extends, overrides methods, calls the
// embedded method explicitly where Python would call super(), and passes
// itself to Init:
//
//	type LoggingServer struct {
//		server.TCPServer
//	}
//
//	func (s *LoggingServer) VerifyRequest(req server.Request, addr net.Addr) (bool, error) {
//		log.Println("request from", addr)
//		return s.TCPServer.VerifyRequest(req, addr) // super()
//	}
//
//	s := &LoggingServer{}
//	err := s.Init(s, addr, h, true) // s: the outermost value
//
// Constructors (NewTCPServer, threading.NewTCPServer, ...) pass the value
// they build. There is no other way to set the outermost value, so it
// cannot be forgotten: Init does not compile without it. Init rejects a nil
// value or one whose Base() is another server (BaseServer.Init panics,
// TCPServer.Init and the other kinds' Init return the error), and
// ServeForever and HandleRequest return ErrNoSelf, calling no hook, on a
// server whose Init never ran or that was copied after Init, so the loop
// never silently runs the embedded hooks in place of an embedding type's
// overrides. A value that forwards to a server it holds in an interface
// field (embedding server.Server) is an outermost value too: its Base() is
// the held server's. The bindings implement a Go type whose methods forward
// the hooks a Python subclass overrides into Python and otherwise call the
// embedded Go implementation.
//
// # Errors
//
// Hooks return errors. An error is Python's Exception unless it is a
// BaseException (see IsBaseException; SystemExit and KeyboardInterrupt are
// provided): a request's Exception goes to Self.HandleError and the request
// is shut down (B8); a BaseException shuts the request down and propagates
// out of HandleRequest/ServeForever. An OS error from GetRequest is ignored
// (B8; see IsOSError).
//
// A panic is Go's raised exception, and no hook's panic escapes the
// server: each is recovered as a *PanicError naming the hook (Hook, Value,
// Stack) and takes the path CPython gives that hook's exception. A panic in
// ProcessRequest, FinishRequest, the handler or the ShutdownRequest and
// CloseRequest they call goes to HandleError, as an Exception (B8); a panic
// in any other hook the loop calls (Fileno, the readiness wait,
// ServerSocket, GetRequest, VerifyRequest, ShutdownRequest, CloseRequest,
// HandleError, HandleTimeout, ServiceActions) ends ServeForever or
// HandleRequest, which return it, as the exception ends serve_forever; Init
// returns one from NewSocket, ServerBind, ServerActivate or ServerClose,
// Close one from ServerClose, ShutdownContext one from Drain. A panic
// whose value is a BaseException keeps the BaseException path. Package
// threading sends a worker's to HandleError or the excepthook (G4), package
// forking's child exits with status 1 (E8). See PanicError.
//
// # Timeouts
//
// CPython distinguishes None (block) from 0 (do not wait). Timeout models
// that: its zero value is None, After(0) is 0. BaseServer.Timeout (B1),
// ServeForever's poll interval (B4, DefaultPollInterval is 0.5 s), the
// Socket's gettimeout (B7) and handler.StreamRequestHandler.Timeout (I5)
// are Timeouts.
//
// # Sockets
//
// The server socket is the Socket interface, created by TCPServer.NewSocket
// (default NewSocket, raw system calls: socket, setsockopt, bind, listen,
// accept4, recvfrom, sendto, getsockname) and stored in the exported,
// replaceable TCPServer.Socket field. Accepted connections are Conns; the
// native ones are non-blocking descriptors owned by an *os.File and served
// by Go's netpoller, so an idle connection costs a parked goroutine, not an
// OS thread. Datagram requests are *Datagram values ((data, socket) in
// CPython). The loop waits for readiness on Self.Fileno() through the
// server Socket's WaitReadable, adding no descriptor (A9): a native socket
// made by the default factory waits on Go's netpoller (UseNetpoll, applied
// by Init; the runtime's single epoll or kqueue instance; on Unix), and with
// BaseServer.CheckSignals set it waits with poll(2) on the calling thread
// instead (PollReadable), calling CheckSignals on EINTR, as an embedder
// that must run signal handlers on that thread needs. BaseServer.WaitReadable
// replaces the wait altogether. The netpoller is the default because a
// thread blocked in poll(2) keeps its processor until the runtime's monitor
// takes it back: on a 2-core machine that cost a threading server about a
// third of its short-connection throughput against a net.Listener server
// (BenchmarkShortConnections in package threading: poll(2) about 0.7x,
// netpoller about 1.0x).
//
// To plug in another socket implementation, set TCPServer.NewSocket before
// Init (every server socket is then made by it), or assign TCPServer.Socket
// after Init (as http.server's HTTPSServer does):
//
//	s := &server.TCPServer{NewSocket: func(family, sotype int) (server.Socket, error) {
//		return gopySocket(family, sotype) // any Socket implementation
//	}}
//	err := s.Init(s, addr, h, true)
//
// SocketFromFD and ConnFromFD wrap descriptors handed over to them (a
// forked child's inherited connection); BorrowSocket and BorrowConn wrap
// descriptors that stay their owner's (see Embedding for the rule).
//
// # Embedding
//
// A runtime that hosts Python in Go (gopy: types with method descriptors,
// Python threads as goroutines with a per-goroutine thread state, signals
// through a pending-call queue, no os.fork, errors as Go errors or a
// raised-exception wrapper) plugs these packages in with one adapter type
// per server class. Example_embedding is a complete adapter for a small
// dynamic object model. The contract, piece by piece:
//
// Overrides. The adapter embeds the Go server kind (server.TCPServer,
// threading.TCPServer...) and defines each hook a Python class may
// override: it looks the method up by name on the Python instance's type
// at each call and calls it if found, else the embedded method (super()).
// The adapter is the outermost value, passed to Init, so the loop and
// every hook that calls another reach its methods (see Most-derived
// dispatch). Hooks of packages threading and forking are overridden the
// same way (RequestThreader, ChildCollector).
//
// Configuration. CPython reads class attributes at each use; the adapter
// implements Configurer (Setting(name)), forwarding "timeout",
// "address_family", "socket_type", "request_queue_size", "allow_reuse_address", "allow_reuse_port",
// "max_packet_size", "daemon_threads", "block_on_close" and
// "max_children" to the Python object's attributes, and each is read
// through it where CPython reads it, the fields being the fallback. A
// program that changes server.timeout between two handle_request calls
// is seen at the second.
//
// Threads. threading.Mixin.Spawn decides how each worker runs: by default
// a goroutine; an embedder starts its own thread with its thread state and
// calls run there, and an error from Spawn is process_request's (to
// HandleError). threading.Mixin.ExceptHook receives what escapes a worker
// (CPython's threading.excepthook).
//
// Errors. The embedder classifies its errors in one place: its exception
// type implements Classifier (ExceptionKind: Exception, OSError,
// TimeoutError, SystemExit, KeyboardInterrupt, BaseException), which
// IsBaseException and IsOSError, and so every path of the loop, the
// workers and the children, ask first. Error types whose class is fixed
// may implement the BaseException marker or OSError instead. The way
// back, from the errors these packages return (SystemExit,
// KeyboardInterrupt, timeouts, OS errors, *PanicError) to the embedder's
// exceptions, is one switch on Classify. A hook's Go panic is contained
// (PanicError).
//
// Signals. A runtime that runs signal handlers on its own schedule sets
// BaseServer.WaitReadable to a SignalWaiter's: its CheckSignals is called
// on every slice of the readiness wait (at most Interval long), and Wake,
// called from whichever goroutine the runtime's signal delivery runs on,
// ends the slice at once; an error from CheckSignals (KeyboardInterrupt)
// ends ServeForever or HandleRequest. BaseServer.CheckSignals alone is
// called only on EINTR, for a runtime whose signals interrupt the serving
// thread (the bindings' case).
//
// Sockets. The server socket is a Socket (TCPServer.NewSocket makes it, or
// assign TCPServer.Socket), so the embedder's socket object can be the
// server's. A connection is a Conn: a small core (read, write, close,
// fileno, addresses) with optional capabilities asked for where CPython
// uses them: HalfCloser (shutdown_request), TimeoutConn (settimeout),
// NoDelayer (TCP_NODELAY), Deadliner. Every descriptor has one owner,
// and only its owner closes it, so the embedder's socket object and ours
// never close one number twice:
//
//   - what these packages create (NewSocket's socket, accepted connections)
//     is theirs: ServerClose closes the server socket, CloseRequest the
//     connection, each through its Close;
//   - SocketFromFD and ConnFromFD take ownership of the number they are
//     given (a Python socket gives it up with detach());
//   - BorrowSocket and BorrowConn leave it with the caller: a borrowed
//     Socket's Close only forgets the number, a borrowed Conn works on a
//     duplicate of its own;
//   - AcceptBorrowed and RecvFromBorrowed (Linux) take a request on a
//     number the caller reads from its own socket object right before
//     each call, the peer as a RawAddr for the caller's own conversion:
//     the bindings take every request this way, so a closed or detached
//     Python socket (-1) never has a reused number accepted on;
//   - a Socket or Conn the embedder implements closes what its Close
//     decides: the packages never close a descriptor number themselves,
//     only call Close on the value that holds it; package forking hands a
//     number to a child process, which owns its inherited copy, while the
//     parent's copy is closed by the parent's CloseRequest.
//
// Processes. A runtime without os.fork uses package forking's
// ReExecCommand to re-execute itself (for instance as its interpreter
// with a module argument), the connection inherited; the child takes the
// request with TakeChildRequest. See package forking's doc for what such a
// child does and does not share with its parent.
//
// # Platforms
//
// The package builds on Linux, macOS, the BSDs and Windows, and offers on
// each what CPython's module offers there. On Unix the native socket is
// made with raw system calls; a new socket and every accepted connection
// are close-on-exec from the start where the system has SOCK_CLOEXEC and
// accept4 (Linux, FreeBSD, DragonFly, illumos), and are marked right after
// socket or accept under syscall.ForkLock where it does not (macOS, the
// other BSDs), so no concurrent fork+exec inherits them. PollReadable waits
// with poll(2), CPython's PollSelector. On Windows, where CPython has no
// AF_UNIX, os.fork or poll: UnixStreamServer and UnixDatagramServer do not
// exist (nor, in package threading, their threading kinds, nor package
// forking's content); PollReadable and the native socket's WaitReadable
// wait with select, CPython's SelectSelector there; the native socket is Go's
// net listener or UDP socket (created at Bind, which also listens, with
// Go's backlog) and accepted connections are Go's *net.TCPConn, so that
// idle connections cost no OS thread; SocketFromFD and ConnFromFD do not
// exist; AllowReusePort sets nothing (no SO_REUSEPORT, as CPython's hasattr
// test finds). Only Linux runs the tests here; the other platforms are
// built and vetted, with their test binaries (make cross).
//
// # Shutdown
//
// Shutdown has CPython's semantics (B5). ShutdownContext is the graceful
// variant, as net/http's Server.Shutdown: stop the loop, wait for in-flight
// requests (Drainer), return ctx.Err() at the deadline.
//
// # Symbols
//
//	Go                                CPython (Lib/socketserver.py)
//	Server (interface)                the overridable methods of BaseServer/TCPServer
//	BaseServer                        BaseServer
//	BaseServer.Init                   BaseServer.__init__ (its first argument: self)
//	BaseServer.Self                   self (the most-derived instance)
//	ErrNoSelf                         (none: a server without its outermost value)
//	BaseServer.ServeForever           BaseServer.serve_forever
//	BaseServer.Shutdown               BaseServer.shutdown
//	BaseServer.ShutdownContext        (none: graceful shutdown, as net/http)
//	BaseServer.HandleRequest          BaseServer.handle_request
//	BaseServer.Close                  BaseServer.__exit__
//	BaseServer.RequestHandler         BaseServer.RequestHandlerClass
//	BaseServer.Timeout                BaseServer.timeout
//	BaseServer.ServerAddress          BaseServer.server_address
//	BaseServer.{ServerActivate, ServiceActions, HandleTimeout, VerifyRequest,
//	  ProcessRequest, ServerClose, FinishRequest, ShutdownRequest,
//	  CloseRequest, HandleError}      the methods of the same names
//	TCPServer, NewTCPServer           TCPServer, TCPServer(...)
//	TCPServer.Init                    TCPServer.__init__
//	TCPServer.{AddressFamily, SocketType, RequestQueueSize,
//	  AllowReuseAddress, AllowReusePort, Socket}
//	                                  address_family, socket_type,
//	                                  request_queue_size, allow_reuse_address,
//	                                  allow_reuse_port, socket
//	TCPServer.{ServerBind, ServerActivate, ServerClose, Fileno, GetRequest,
//	  ShutdownRequest, CloseRequest}  TCPServer methods of the same names
//	UDPServer, NewUDPServer           UDPServer
//	UDPServer.MaxPacketSize           UDPServer.max_packet_size
//	UnixStreamServer                  UnixStreamServer (not on Windows)
//	UnixDatagramServer                UnixDatagramServer (not on Windows)
//	Socket.WaitReadable, PollReadable,
//	  UseNetpoll                      _ServerSelector (PollSelector;
//	                                  SelectSelector on Windows)
//	Datagram                          the (data, socket) request tuple
//	Socket, Conn, NewSocket           socket.socket
//	HalfCloser, TimeoutConn, NoDelayer,
//	  Deadliner, NativeConn           a request socket's optional methods
//	SocketFromFD, ConnFromFD,
//	  BorrowSocket, BorrowConn        socket.socket(fileno=...), socket.dup
//	AcceptBorrowed, RecvFromBorrowed,
//	  RawAddr                         sock_accept, sock_recvfrom and
//	                                  sock_addr_t of socketmodule.c
//	Configurer, SettingBool,
//	  SettingInt, SettingTimeout      class attributes read through self
//	SignalWaiter                      selector.select with PEP 475 and
//	                                  PyErr_CheckSignals
//	DirectGetter, DirectGet           (none: serve_forever's select, then
//	                                  get_request, taken in one step for a
//	                                  server kind used as is)
//	Handler, HandlerFunc              RequestHandlerClass
//	SystemExit, KeyboardInterrupt     the Python exceptions of those names
//	IsBaseException                   "except:" vs "except Exception:"
//	IsOSError, OSError                "except OSError:" (get_request)
//	Classifier, ExceptionKind,
//	  Classify                        an exception's class (isinstance)
//	PanicError, Recover               an exception raised by a hook (a Go
//	                                  panic), caught where CPython catches it
//
// Not ported: __version__, __all__ and the module docstring (A1-A8) are
// Python module attributes, provided by the bindings.
package server
