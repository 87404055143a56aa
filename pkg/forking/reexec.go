//go:build unix

package forking

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// ChildEnv is the environment variable that carries the request
// description (JSON) to a re-executed child; TakeChildRequest decodes it.
//
// CPython: none (Go addition)
const ChildEnv = "GOPY_SOCKETSERVER_FORK_CHILD"

// childFD is the descriptor number of the connection (stream) or the server
// socket (datagram) in a re-executed child.
const childFD = 3

// ErrNotRegistered is returned by ReExec when the server's RequestHandler
// did not come from Register: the child could not find it.
//
// CPython: none (Go addition)
var ErrNotRegistered = errors.New("forking: RequestHandler not registered with forking.Register; the re-executed child cannot find it")

var registry sync.Map // name -> server.Handler

type registered struct {
	name string
	h    server.Handler
}

func (r *registered) ServeRequest(req server.Request, addr net.Addr, srv server.Server) error {
	return r.h.ServeRequest(req, addr, srv)
}

// Register records h under name for re-executed children and returns the
// handler to give the server. Register must run in the child before
// RunChild looks it up: call it from a package-level variable or init, or
// in main before RunChild.
//
// CPython: none (Go addition)
func Register(name string, h server.Handler) server.Handler {
	registry.Store(name, h)
	return &registered{name: name, h: h}
}

var servers sync.Map // name -> func() server.Server

// RegisterServer records, under the name of a handler registered with
// Register, a factory for the server value a re-executed child runs the
// request on, so that hooks the parent's server type overrides
// (FinishRequest, HandleError, ShutdownRequest, CloseRequest) are the ones
// the child calls, as a forked CPython child would. The factory returns a
// new outermost value, not initialized and not bound; the child initializes
// it with its address and handler (srv.Base().Init(srv, address, handler)).
// Without it the child uses the plain server kind.
//
// CPython: none (Go addition: a forked child keeps the parent's class)
func RegisterServer(name string, newServer func() server.Server) {
	servers.Store(name, newServer)
}

// childServer returns the registered server for name, prepared for a
// request, or nil. A factory that panics, returns nil or returns a value
// Init rejects (ErrNoSelf) is an error: the child exits with status 1.
func childServer(name string, addr net.Addr, h server.Handler) (srv server.Server, err error) {
	f, ok := servers.Load(name)
	if !ok {
		return nil, nil
	}
	err = server.Recover("RegisterServer", func() error {
		srv = f.(func() server.Server)()
		if srv == nil {
			return fmt.Errorf("the server factory registered for %q returned nil", name)
		}
		srv.Base().Init(srv, addr, h)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return srv, nil
}

type childSpec struct {
	Name          string `json:"name"`
	Datagram      bool   `json:"datagram"`
	Family        int    `json:"family"`
	SockType      int    `json:"sotype"`
	ServerNetwork string `json:"server_network"`
	ServerAddress string `json:"server_address"`
	ClientNetwork string `json:"client_network"`
	ClientAddress string `json:"client_address"`
	Packet        string `json:"packet"`
	MaxPacketSize int    `json:"max_packet_size"`
}

func addrParts(a net.Addr) (string, string) {
	if a == nil {
		return "", ""
	}
	if u, ok := a.(*net.UnixAddr); ok {
		return u.Net, u.Name
	}
	return a.Network(), a.String()
}

func parseAddr(network, s string) net.Addr {
	switch network {
	case "tcp":
		a, _ := net.ResolveTCPAddr("tcp", s)
		return a
	case "udp":
		a, _ := net.ResolveUDPAddr("udp", s)
		return a
	case "unix", "unixgram":
		return &net.UnixAddr{Name: s, Net: network}
	}
	return nil
}

type filenoer interface{ Fileno() int }

// ReExec is the default ForkFunc for Go programs: it starts a fresh copy
// of the running executable (fork+exec, never a bare fork) with the
// connection, or for a datagram the server socket, inherited as descriptor 3
// and the request described in the environment. The child must call
// RunChild early in main (and in TestMain); RunChild looks the handler up by
// its Register name, runs ChildProcess on a server of the same kind and
// exits with its status (0 or 1). The child never touches the listening
// socket. The child runs the request on the server registered with
// RegisterServer under the same name, or else on the plain server kind
// (stream: shutdown(SHUT_WR) and close; datagram: nothing; the default
// HandleError on its stderr). It is ReExecCommand with os.Executable() and
// os.Args, for a handler that came from Register (else ErrNotRegistered).
//
// CPython: Lib/socketserver.py:617 ForkingMixIn.process_request (os.fork)
func ReExec(srv server.Server, req server.Request, clientAddress net.Addr) (int, error) {
	if _, ok := srv.Base().RequestHandler.(*registered); !ok {
		return 0, ErrNotRegistered
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	return reExec(srv, req, clientAddress, exe, os.Args)
}

// ReExecCommand returns a ForkFunc that starts the program at path with
// argv args (args[0] is the name the program sees, as in os/exec's
// Cmd.Args) in place of the running executable, in the same way as
// ReExec: the connection (or, for a datagram, the server socket) is
// inherited as descriptor 3, stdin, stdout and stderr are shared, and the
// request is described in the environment variable ChildEnv. It is how a
// runtime re-executes itself in another role, for instance as its own
// interpreter with a module argument (ReExecCommand(exe, exe, "-m",
// "mychild")); that child takes the request with TakeChildRequest (or
// RunChild, for a handler registered in Go), handles it and exits with
// CPython's status. The handler need not come from Register (the request's
// Name is then empty).
//
// CPython: Lib/socketserver.py:617 ForkingMixIn.process_request (os.fork)
func ReExecCommand(path string, args ...string) ForkFunc {
	args = append([]string(nil), args...)
	return func(srv server.Server, req server.Request, clientAddress net.Addr) (int, error) {
		return reExec(srv, req, clientAddress, path, args)
	}
}

func reExec(srv server.Server, req server.Request, clientAddress net.Addr, path string, args []string) (int, error) {
	b := srv.Base()
	var spec childSpec
	if reg, ok := b.RequestHandler.(*registered); ok {
		spec.Name = reg.name
	}
	spec.ServerNetwork, spec.ServerAddress = addrParts(b.ServerAddress)
	spec.ClientNetwork, spec.ClientAddress = addrParts(clientAddress)
	var fd int
	switch r := req.(type) {
	case *server.Datagram:
		spec.Datagram = true
		spec.Packet = base64.StdEncoding.EncodeToString(r.Data)
		spec.Family, spec.SockType = r.Socket.Family(), r.Socket.Type()
		fd = r.Socket.Fileno()
	case server.Conn:
		fd = r.Fileno()
		if h, ok := srv.(server.SocketHolder); ok && h.ServerSocket() != nil {
			spec.Family = h.ServerSocket().Family()
		}
		spec.SockType = syscall.SOCK_STREAM
	case filenoer:
		fd = r.Fileno()
		spec.SockType = syscall.SOCK_STREAM
	default:
		return 0, fmt.Errorf("forking: cannot pass a request of type %T to a child", req)
	}
	if fd < 0 {
		return 0, server.ErrBadFileno
	}
	env, err := json.Marshal(spec)
	if err != nil {
		return 0, err
	}
	pid, err := syscall.ForkExec(path, args, &syscall.ProcAttr{
		Env:   append(os.Environ(), ChildEnv+"="+string(env)),
		Files: []uintptr{0, 1, 2, uintptr(fd)},
	})
	if err != nil {
		return 0, &os.SyscallError{Syscall: "fork/exec", Err: err}
	}
	return pid, nil
}

// ChildRequest is the request a child started by ReExec or ReExecCommand
// was started for.
//
// CPython: Lib/socketserver.py:615 ForkingMixIn.process_request (the child branch)
type ChildRequest struct {
	// Name is the Register name of the parent's handler ("" if it had
	// none).
	Name string
	// Request is a server.Conn on the inherited descriptor 3 (stream), or
	// a *server.Datagram whose Socket is the inherited server socket; the
	// child owns the descriptor.
	Request server.Request
	// ClientAddress and ServerAddress are the parent's.
	ClientAddress, ServerAddress net.Addr
	// Family and SocketType are the server socket's.
	Family, SocketType int
}

// TakeChildRequest returns the request this process was started for by
// ReExec or ReExecCommand, and removes ChildEnv from the environment (so
// the child's own children do not take it); ok is false in any other
// process. A child that runs its handler itself (an embedder's runtime)
// calls it, runs ChildProcess with its server value and exits with the
// status.
//
// CPython: Lib/socketserver.py:615 ForkingMixIn.process_request (the child branch)
func TakeChildRequest() (req *ChildRequest, ok bool, err error) {
	raw := os.Getenv(ChildEnv)
	if raw == "" {
		return nil, false, nil
	}
	os.Unsetenv(ChildEnv)
	spec, data, err := decodeSpec(raw)
	if err != nil {
		return nil, true, err
	}
	r, err := childRequest(spec, data)
	return r, true, err
}

func childRequest(spec childSpec, data []byte) (*ChildRequest, error) {
	r := &ChildRequest{
		Name:          spec.Name,
		ClientAddress: parseAddr(spec.ClientNetwork, spec.ClientAddress),
		ServerAddress: parseAddr(spec.ServerNetwork, spec.ServerAddress),
		Family:        spec.Family,
		SocketType:    spec.SockType,
	}
	if spec.Datagram {
		r.Request = &server.Datagram{Data: data, Socket: server.SocketFromFD(childFD, spec.Family, spec.SockType)}
		return r, nil
	}
	c, err := server.ConnFromFD(childFD, spec.Family)
	if err != nil {
		return nil, err
	}
	r.Request = c
	return r, nil
}

// IsChild reports whether this process is a child started by ReExec.
//
// CPython: none (Go addition)
func IsChild() bool { return os.Getenv(ChildEnv) != "" }

// RunChild must be called early in main (and in TestMain) of a program
// whose forking servers use ReExec. In a child started by ReExec it handles
// the request and exits the process with CPython's status (0 success, 1
// error); otherwise it returns at once.
//
// CPython: Lib/socketserver.py:615 ForkingMixIn.process_request (the child branch)
func RunChild() {
	spec := os.Getenv(ChildEnv)
	if spec == "" {
		return
	}
	os.Unsetenv(ChildEnv)
	os.Exit(runChild(spec))
}

// decodeSpec parses the child's request description.
func decodeSpec(raw string) (spec childSpec, packet []byte, err error) {
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return spec, nil, fmt.Errorf("bad request description: %w", err)
	}
	packet, err = base64.StdEncoding.DecodeString(spec.Packet)
	if err != nil {
		return spec, nil, fmt.Errorf("bad packet: %w", err)
	}
	return spec, packet, nil
}

func runChild(raw string) int {
	spec, data, err := decodeSpec(raw)
	if err == nil && spec.Name == "" {
		err = errors.New("bad request description: no handler name (the parent's handler was not registered)")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "forking child:", err)
		return 1
	}
	v, ok := registry.Load(spec.Name)
	if !ok {
		fmt.Fprintf(os.Stderr, "forking child: handler %q not registered (call forking.Register before forking.RunChild)\n", spec.Name)
		return 1
	}
	h := v.(server.Handler)
	serverAddr := parseAddr(spec.ServerNetwork, spec.ServerAddress)
	clientAddr := parseAddr(spec.ClientNetwork, spec.ClientAddress)
	custom, err := childServer(spec.Name, serverAddr, h)
	if err != nil {
		fmt.Fprintln(os.Stderr, "forking child:", err)
		return 1
	}
	if spec.Datagram {
		sock := server.SocketFromFD(childFD, spec.Family, spec.SockType)
		if custom != nil {
			return ChildProcess(custom, &server.Datagram{Data: data, Socket: sock}, clientAddr)
		}
		s := &server.UDPServer{}
		s.BaseServer.Init(s, serverAddr, h)
		s.AddressFamily, s.SocketType = spec.Family, spec.SockType
		s.Socket = sock
		return ChildProcess(s, &server.Datagram{Data: data, Socket: s.Socket}, clientAddr)
	}
	c, err := server.ConnFromFD(childFD, spec.Family)
	if err != nil {
		fmt.Fprintln(os.Stderr, "forking child:", err)
		return 1
	}
	if custom != nil {
		return ChildProcess(custom, c, clientAddr)
	}
	s := &server.TCPServer{}
	s.BaseServer.Init(s, serverAddr, h)
	s.AddressFamily, s.SocketType = spec.Family, spec.SockType
	return ChildProcess(s, c, clientAddr)
}
