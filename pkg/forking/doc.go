// Package forking ports CPython 3.14's ForkingMixIn and the forking server
// classes: each request is handled in a child process.
//
// Like CPython, which defines them only where os.fork exists, the package
// has content on Unix only (Linux, macOS, the BSDs): on Windows it is this
// documentation and nothing else, so code that uses it fails to compile
// there rather than at run time.
//
// A Go process cannot fork(2) and go on running Go in the child, so the
// fork is an injected primitive (Mixin.Fork, a ForkFunc) and the package
// owns CPython's bookkeeping: ActiveChildren, MaxChildren (40),
// CollectChildren with both phases, the 300 s Timeout, the exit statuses
// (ChildProcess) and ServerClose waiting for children when BlockOnClose.
//
// The default primitive, ReExec, gives Go programs real process isolation:
// it fork+execs the running binary with the connection (or, for datagrams,
// the server socket) inherited as descriptor 3. The program must register
// its handler by name and call RunChild first thing in main:
//
//	var echo = forking.Register("echo", handler.For[Echo]())
//
//	func main() {
//		forking.RunChild() // in a child: handle the request, then exit 0/1
//		srv, err := forking.NewTCPServer("127.0.0.1:8000", echo)
//		...
//	}
//
// The child runs the request on the plain server kind, or on the value
// returned by the factory given to RegisterServer under the same name, so
// that hooks overridden by the parent's type run in the child too.
//
// Another fork primitive is plugged in by setting Mixin.Fork: it must start
// a child that handles the request (ChildProcess is the child's side for a
// child that runs Go; CPython's statuses: 0 success, 1 error) and return
// its pid. gopy plugs its runtime's os.fork in this way; the bindings fork
// in C and run the child entirely in Python (see BINDING_NOTES.md):
//
//	s, _ := forking.NewTCPServer(addr, h)
//	s.Fork = func(srv server.Server, req server.Request, addr net.Addr) (int, error) {
//		return runtimeFork(srv, req, addr) // pid in the parent
//	}
//
// No panic escapes (see server.PanicError): in the parent, a panic in the
// fork primitive goes to HandleError, one in Wait ends the call that
// collects children (ServiceActions, HandleTimeout, ServerClose, Drain);
// in the child, ChildProcess keeps CPython's statuses (a panic in
// FinishRequest or the handler goes to HandleError, status 1), and
// RunChild exits with status 1 when the RegisterServer factory panics.
//
// Mixin.Wait replaces waitpid (the tests use it to observe both phases of
// CollectChildren).
//
// Symbols:
//
//	Go                                   CPython (Lib/socketserver.py)
//	Mixin                                ForkingMixIn
//	DefaultTimeout (BaseServer.Timeout)  ForkingMixIn.timeout = 300
//	Mixin.ActiveChildren                 active_children
//	Mixin.MaxChildren                    max_children
//	Mixin.BlockOnClose                   block_on_close
//	Mixin.CollectChildren                collect_children(blocking=...)
//	ChildCollector                       self.collect_children (an override runs)
//	Mixin.HandleTimeout                  handle_timeout
//	Mixin.ServiceActions                 service_actions
//	Mixin.ProcessRequest                 process_request (parent side)
//	ChildProcess                         process_request (child side)
//	Mixin.ServerClose                    server_close
//	Mixin.Fork, ForkFunc, ReExec         os.fork
//	Register, RegisterServer, RunChild   (none: the re-executed child's registry and entry point)
//	Mixin.Wait, WaitFunc, Wait4          os.waitpid
//	TCPServer, NewTCPServer              ForkingTCPServer
//	UDPServer, NewUDPServer              ForkingUDPServer
//	UnixStreamServer                     ForkingUnixStreamServer
//	UnixDatagramServer                   ForkingUnixDatagramServer
package forking
