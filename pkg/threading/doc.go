// Package threading ports CPython 3.14's ThreadingMixIn and the threading
// server classes: each request is handled on its own goroutine.
//
// Mixin holds the policy; the concrete servers embed Mixin and a server
// kind, in CPython's order (the mixin first), and define ProcessRequest and
// ServerClose to go through the mixin, which receives the outermost server
// (Self()) for hook dispatch and the socket kind's method as super():
//
//	func (s *TCPServer) ServerClose() error {
//		return s.Mixin.ServerClose(s.TCPServer.ServerClose) // super() first (J3)
//	}
//
// A user type extends a threading server by embedding it and passing itself,
// the outermost value, to Init:
//
//	type MyServer struct{ threading.TCPServer }
//
//	s := &MyServer{TCPServer: threading.TCPServer{Mixin: threading.NewMixin()}}
//	err := s.Init(s, addr, h, true)
//
// Symbols:
//
//	Go                                   CPython (Lib/socketserver.py)
//	Mixin                                ThreadingMixIn
//	Mixin.DaemonThreads                  daemon_threads
//	Mixin.BlockOnClose                   block_on_close
//	Mixin.ProcessRequest                 process_request
//	Mixin.ProcessRequestThread           process_request_thread
//	RequestThreader                      an override of process_request_thread
//	Mixin.ServerClose                    server_close
//	Mixin.NumThreads                     len(_threads) (_Threads/_NoThreads)
//	Mixin.Drain                          (none: graceful shutdown support)
//	ExceptHook, Mixin.ExceptHook         threading.excepthook
//	Mixin.Spawn                          threading.Thread(...).start()
//	TCPServer, NewTCPServer              ThreadingTCPServer
//	UDPServer, NewUDPServer              ThreadingUDPServer
//	UnixStreamServer                     ThreadingUnixStreamServer (not on Windows)
//	UnixDatagramServer                   ThreadingUnixDatagramServer (not on Windows)
//
// As in CPython, which defines them only where socket.AF_UNIX exists, the
// Unix-domain kinds are absent on Windows; the rest builds everywhere.
//
// No panic escapes a worker (a panicking goroutine would end the program):
// as process_request_thread routes exceptions (G4), a panic in
// FinishRequest or the handler goes to HandleError, one in HandleError or
// ShutdownRequest to the excepthook, and one in the excepthook itself is
// reported on os.Stderr; each is a *server.PanicError naming the hook.
//
// Workers are goroutines, not OS threads; DaemonThreads only decides
// whether ServerClose waits for a worker, since a Go program does not wait
// for goroutines at exit.
//
// For an embedder (see package server's doc, Embedding): Mixin.Spawn
// decides how each worker runs, so a runtime whose Python threads carry a
// thread state starts its own thread and calls run there (an error from
// Spawn is process_request's exception: HandleError, and the request is
// shut down); Mixin.ExceptHook is where an error that escapes a worker
// goes (threading.excepthook), and DaemonThreads and BlockOnClose are read
// at each request through the outermost value's "daemon_threads" and
// "block_on_close" settings (server.Configurer) when it has them.
package threading
