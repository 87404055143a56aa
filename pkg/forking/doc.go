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
// its pid. A runtime with an os.fork of its own plugs it in this way (one
// without fork uses ReExecCommand, below); the bindings fork in C and run
// the child entirely in Python (see BINDING_NOTES.md):
//
//	s, _ := forking.NewTCPServer(addr, h)
//	s.Fork = func(srv server.Server, req server.Request, addr net.Addr) (int, error) {
//		return runtimeFork(srv, req, addr) // pid in the parent
//	}
//
// # An embedder without fork
//
// A runtime without os.fork (a Go-hosted Python, say) still gets process
// isolation, but not a copy of its state: every child is a new process
// started by fork+exec (Go's syscall.ForkExec, which needs no fork that
// keeps running Go), so the child has nothing the parent built at run
// time: no objects, no open files other than the request's descriptor
// and stdin, stdout and stderr, no modules imported after start-up. What
// the child needs it must rebuild from its program and the request
// description. ReExecCommand runs the command the runtime names, such as
// itself as an interpreter with a module argument:
//
//	s.Fork = forking.ReExecCommand(exe, exe, "-m", "myserver_child")
//
// and that child calls TakeChildRequest (the request on the inherited
// descriptor 3, the addresses, the handler's Register name), runs
// ChildProcess with a server value of its own and exits with the status.
// Every bookkeeping piece of ForkingMixIn (active_children, max_children,
// collect_children, block_on_close, the statuses) is the parent's and
// works as in CPython. What does not carry over is anything that depends
// on the child sharing the parent's memory: a handler that mutates
// module state the parent later reads, or an attribute set on the server
// object after start-up (the child sees what its own start-up sets). On
// Windows, with neither fork nor this package, a runtime serves with
// package threading instead, as CPython's users do there.
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
//	ReExecCommand, TakeChildRequest,
//	  ChildRequest, ChildEnv             (none: fork+exec of a given command, and its child's side)
//	Register, RegisterServer, RunChild   (none: the re-executed child's registry and entry point)
//	Mixin.Wait, WaitFunc, Wait4          os.waitpid
//	TCPServer, NewTCPServer              ForkingTCPServer
//	UDPServer, NewUDPServer              ForkingUDPServer
//	UnixStreamServer                     ForkingUnixStreamServer
//	UnixDatagramServer                   ForkingUnixDatagramServer
package forking
