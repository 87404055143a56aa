//go:build unix

package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/forking"
	"github.com/gopy-socketserver/socketserver/pkg/handler"
	"github.com/gopy-socketserver/socketserver/pkg/server"
	"github.com/gopy-socketserver/socketserver/pkg/threading"
)

// The Go side of tests/support.py's traced_class: a server type whose every
// hook records its call and then either behaves as the scenario says or
// calls the embedded kind's hook (super()), and handler types doing the same
// for setup, handle and finish.

// handlerTimeout is the stream handler's timeout (support.TIMEOUT).
const handlerTimeout = 10 * time.Second

// kind describes a server kind of the spec.
type kind struct {
	stream, unix bool
	threading    *threading.Mixin
	forking      *forking.Mixin
	udp          *server.UDPServer // the datagram kinds' UDPServer
	// inner is the embedded server value ("the base class"), unbound.
	inner server.Server
}

// newKind returns a fresh, unbound server of the named kind with CPython's
// class defaults (a threading kind's block_on_close, a forking kind's
// timeout of 300 s and max_children).
func newKind(name string) (*kind, error) {
	k := &kind{}
	switch name {
	case "TCPServer":
		k.stream, k.inner = true, &server.TCPServer{}
	case "UDPServer":
		s := &server.UDPServer{}
		k.udp, k.inner = s, s
	case "UnixStreamServer":
		k.stream, k.unix, k.inner = true, true, &server.UnixStreamServer{}
	case "UnixDatagramServer":
		s := &server.UnixDatagramServer{}
		k.unix, k.udp, k.inner = true, &s.UDPServer, s
	case "ThreadingTCPServer":
		s := &threading.TCPServer{Mixin: threading.NewMixin()}
		k.stream, k.threading, k.inner = true, &s.Mixin, s
	case "ThreadingUDPServer":
		s := &threading.UDPServer{Mixin: threading.NewMixin()}
		k.threading, k.udp, k.inner = &s.Mixin, &s.UDPServer, s
	case "ThreadingUnixStreamServer":
		s := &threading.UnixStreamServer{Mixin: threading.NewMixin()}
		k.stream, k.unix, k.threading, k.inner = true, true, &s.Mixin, s
	case "ThreadingUnixDatagramServer":
		s := &threading.UnixDatagramServer{Mixin: threading.NewMixin()}
		k.unix, k.threading, k.udp, k.inner = true, &s.Mixin, &s.UDPServer, s
	case "ForkingTCPServer":
		s := &forking.TCPServer{Mixin: forking.NewMixin()}
		k.stream, k.forking, k.inner = true, &s.Mixin, s
	case "ForkingUDPServer":
		s := &forking.UDPServer{Mixin: forking.NewMixin()}
		k.forking, k.udp, k.inner = &s.Mixin, &s.UDPServer, s
	case "ForkingUnixStreamServer":
		s := &forking.UnixStreamServer{Mixin: forking.NewMixin()}
		k.stream, k.unix, k.forking, k.inner = true, true, &s.Mixin, s
	case "ForkingUnixDatagramServer":
		s := &forking.UnixDatagramServer{Mixin: forking.NewMixin()}
		k.unix, k.forking, k.udp, k.inner = true, &s.Mixin, &s.UDPServer, s
	default:
		return nil, fmt.Errorf("unknown server kind %q", name)
	}
	if k.forking != nil {
		k.inner.Base().Timeout = server.After(forking.DefaultTimeout)
	}
	return k, nil
}

// setAttr sets an instance attribute of the spec's "attrs" on the server
// (J5: read at each use).
func (k *kind) setAttr(name string, value any) error {
	num, isNum := value.(float64)
	flag, isBool := value.(bool)
	switch {
	case name == "timeout" && isNum:
		k.inner.Base().Timeout = server.After(time.Duration(num * float64(time.Second)))
	case name == "max_packet_size" && isNum && k.udp != nil:
		k.udp.MaxPacketSize = int(num)
	case name == "block_on_close" && isBool && k.threading != nil:
		k.threading.BlockOnClose = flag
	case name == "block_on_close" && isBool && k.forking != nil:
		k.forking.BlockOnClose = flag
	case name == "daemon_threads" && isBool && k.threading != nil:
		k.threading.DaemonThreads = flag
	case name == "max_children" && isNum && k.forking != nil:
		k.forking.MaxChildren = int(num)
	default:
		return fmt.Errorf("attribute %s = %v is not supported by the Go runner for this kind", name, value)
	}
	return nil
}

// traced is the scenario's "subclass": it embeds the kind's server value
// (super()) and overrides every hook. It is the outermost value, given to
// Init.
type traced struct {
	server.Server
	tr    *tracer
	hooks map[string]Behaviour
}

// newTraced builds the traced server of sc's kind, not yet initialised.
func newTraced(sc *Scenario, tr *tracer) (*traced, *kind, error) {
	k, err := newKind(sc.Server)
	if err != nil {
		return nil, nil, err
	}
	for hook := range sc.Hooks {
		if !contains(serverHooks, hook) {
			return nil, nil, fmt.Errorf("behaviour for hook %q, which is not traced", hook)
		}
	}
	return &traced{Server: k.inner, tr: tr, hooks: sc.Hooks}, k, nil
}

// serverHooks are the hooks traced (support.SERVER_HOOKS, less the loop
// entry points serve_forever and handle_request, which the runner records).
var serverHooks = []string{
	"server_bind", "server_activate", "get_request", "verify_request", "process_request",
	"process_request_thread", "finish_request", "shutdown_request", "close_request",
	"handle_error", "handle_timeout", "service_actions", "collect_children", "server_close",
}

// behave runs name's behaviour if the scenario gives one, else super.
func (t *traced) behave(name string, super func() error) error {
	return behave(t.hooks, name, super)
}

// behave runs the behaviour hooks gives name (after super, with Super),
// or else super.
func behave(hooks map[string]Behaviour, name string, super func() error) error {
	b, ok := hooks[name]
	if !ok {
		return super()
	}
	if b.Super {
		if err := super(); err != nil {
			return err
		}
	}
	return b.run()
}

func (b *Behaviour) run() error {
	if b.Raise != "" {
		err, bad := newException(b.Raise, b.Args)
		if bad != nil {
			panic(bad)
		}
		return err
	}
	return nil
}

func (t *traced) hook(name string, super func() error) error {
	return t.tr.call(name, func() error { return t.behave(name, super) })
}

func (t *traced) ServerBind() error { return t.hook("server_bind", t.Server.ServerBind) }

func (t *traced) ServerActivate() error {
	return t.hook("server_activate", t.Server.ServerActivate)
}

func (t *traced) ServerClose() error { return t.hook("server_close", t.Server.ServerClose) }

func (t *traced) GetRequest() (req server.Request, addr net.Addr, err error) {
	err = t.hook("get_request", func() error {
		req, addr, err = t.Server.GetRequest()
		return err
	})
	if err == nil {
		t.tr.addRequest(req)
	}
	return req, addr, err
}

func (t *traced) VerifyRequest(req server.Request, addr net.Addr) (ok bool, err error) {
	err = t.tr.call("verify_request", func() error {
		if b, given := t.hooks["verify_request"]; given {
			if b.Super {
				if _, err := t.Server.VerifyRequest(req, addr); err != nil {
					return err
				}
			}
			if b.Raise != "" {
				return b.run()
			}
			return json.Unmarshal(b.Return, &ok)
		}
		var err error
		ok, err = t.Server.VerifyRequest(req, addr)
		return err
	})
	return ok, err
}

func (t *traced) ProcessRequest(req server.Request, addr net.Addr) error {
	return t.hook("process_request", func() error { return t.Server.ProcessRequest(req, addr) })
}

func (t *traced) FinishRequest(req server.Request, addr net.Addr) error {
	return t.hook("finish_request", func() error { return t.Server.FinishRequest(req, addr) })
}

func (t *traced) ShutdownRequest(req server.Request) error {
	return t.hook("shutdown_request", func() error { return t.Server.ShutdownRequest(req) })
}

func (t *traced) CloseRequest(req server.Request) error {
	return t.hook("close_request", func() error { return t.Server.CloseRequest(req) })
}

func (t *traced) HandleError(req server.Request, addr net.Addr, herr error) error {
	return t.hook("handle_error", func() error { return t.Server.HandleError(req, addr, herr) })
}

func (t *traced) HandleTimeout() error { return t.hook("handle_timeout", t.Server.HandleTimeout) }

func (t *traced) ServiceActions() error {
	return t.hook("service_actions", t.Server.ServiceActions)
}

// ProcessRequestThread is ThreadingMixIn.process_request_thread, for the
// threading kinds.
func (t *traced) ProcessRequestThread(req server.Request, addr net.Addr) error {
	m, ok := t.Server.(interface {
		ProcessRequestThread(server.Server, server.Request, net.Addr) error
	})
	if !ok {
		return errors.New("process_request_thread on a server without ThreadingMixIn")
	}
	return t.hook("process_request_thread", func() error { return m.ProcessRequestThread(t, req, addr) })
}

// CollectChildren is ForkingMixIn.collect_children, for the forking kinds.
func (t *traced) CollectChildren(blocking bool) {
	m, ok := t.Server.(interface{ CollectChildren(bool) })
	if !ok {
		panic("collect_children on a server without ForkingMixIn")
	}
	_ = t.hook("collect_children", func() error { m.CollectChildren(blocking); return nil })
}

// ServerSocket makes the traced server a server.SocketHolder when its kind
// is one (HandleRequest reads the socket's timeout through it).
func (t *traced) ServerSocket() server.Socket {
	if h, ok := t.Server.(server.SocketHolder); ok {
		return h.ServerSocket()
	}
	return nil
}

// --- handlers ---------------------------------------------------------------

type handlerHooks struct {
	tr     *tracer
	handle *Behaviour // nil: echo
	delay  time.Duration
	hooks  map[string]Behaviour
}

func (h *handlerHooks) run(name string, super func() error) error {
	return h.tr.call(name, func() error { return behave(h.hooks, name, super) })
}

func (h *handlerHooks) doHandle(echo func() error) error {
	return h.tr.call("handle", func() error {
		if h.handle != nil {
			return h.handle.run()
		}
		time.Sleep(h.delay)
		return echo()
	})
}

type streamHandler struct {
	handler.StreamRequestHandler
	hooks handlerHooks
}

func (h *streamHandler) Setup() error {
	return h.hooks.run("setup", h.StreamRequestHandler.Setup)
}

func (h *streamHandler) Handle() error {
	return h.hooks.doHandle(func() error {
		line, err := h.Rfile.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		_, err = h.Wfile.Write(line)
		return err
	})
}

func (h *streamHandler) Finish() error {
	return h.hooks.run("finish", h.StreamRequestHandler.Finish)
}

// setAttrs sets the spec's handler_attrs (Python's class attributes).
func (h *streamHandler) setAttrs(attrs map[string]any) error {
	for name, value := range attrs {
		num, isNum := value.(float64)
		flag, isBool := value.(bool)
		switch {
		case name == "rbufsize" && isNum && num == 0:
			h.RBufSize = handler.Unbuffered
		case name == "rbufsize" && isNum:
			h.RBufSize = int(num)
		case name == "wbufsize" && isNum:
			h.WBufSize = int(num)
		case name == "timeout" && isNum:
			h.Timeout = server.After(time.Duration(num * float64(time.Second)))
		case name == "disable_nagle_algorithm" && isBool:
			h.DisableNagleAlgorithm = flag
		default:
			return fmt.Errorf("handler attribute %s = %v is not supported by the Go runner", name, value)
		}
	}
	return nil
}

type datagramHandler struct {
	handler.DatagramRequestHandler
	hooks handlerHooks
}

func (h *datagramHandler) Setup() error {
	return h.hooks.run("setup", h.DatagramRequestHandler.Setup)
}

func (h *datagramHandler) Handle() error {
	return h.hooks.doHandle(func() error {
		rest, _ := io.ReadAll(h.Rfile)
		line, _, found := bytes.Cut(rest, []byte("\n"))
		if found {
			line = append(line, '\n')
		}
		_, err := h.Wfile.Write(line)
		return err
	})
}

func (h *datagramHandler) Finish() error {
	return h.hooks.run("finish", h.DatagramRequestHandler.Finish)
}

type baseHandler struct {
	handler.BaseRequestHandler
	hooks handlerHooks
}

func (h *baseHandler) Setup() error { return h.hooks.run("setup", h.BaseRequestHandler.Setup) }

func (h *baseHandler) Handle() error {
	return h.hooks.doHandle(func() error { return errors.New("echo needs a stream or datagram handler") })
}

func (h *baseHandler) Finish() error { return h.hooks.run("finish", h.BaseRequestHandler.Finish) }

// handlerClass is the scenario's traced RequestHandlerClass; tr is called
// per request, so that a re-executed child's handler records into the
// child's tracer.
func handlerClass(sc *Scenario, stream bool, tr func() *tracer) handler.Class {
	var b *Behaviour
	if sc.Handle != nil && !sc.Handle.Echo {
		b = sc.Handle.Behaviour
	}
	return func() handler.RequestHandler {
		hooks := handlerHooks{tr: tr(), handle: b, hooks: sc.HandlerHooks,
			delay: time.Duration(sc.HandleDelay * float64(time.Second))}
		if !stream || sc.HandlerBase != "" {
			if len(sc.HandlerAttrs) > 0 {
				panic("handler_attrs are supported on stream handlers only")
			}
		}
		if sc.HandlerBase == "BaseRequestHandler" {
			return &baseHandler{hooks: hooks}
		}
		if stream {
			h := &streamHandler{hooks: hooks}
			h.Timeout = server.After(handlerTimeout)
			if err := h.setAttrs(sc.HandlerAttrs); err != nil {
				panic(err)
			}
			return h
		}
		return &datagramHandler{hooks: hooks}
	}
}

// reportWriter is ErrorOutput: it notes handle_error's report.
type reportWriter struct{ tr *tracer }

const reportLine = "Exception occurred during processing of request from"

func (w reportWriter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), reportLine) {
		w.tr.mu.Lock()
		if w.tr.out != nil {
			fmt.Fprintln(w.tr.out, "report - -")
		}
		w.tr.reported = true
		w.tr.mu.Unlock()
	}
	return len(p), nil
}
