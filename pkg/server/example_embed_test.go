package server_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/server"
	"github.com/gopy-socketserver/socketserver/pkg/threading"
)

// A small dynamic object model, the shape of a Go-hosted Python runtime:
// instances and classes are attribute maps with a class (Base) to look
// further in; exceptions are one Go type whose class is data.
type Object struct {
	Base *Object
	Dict map[string]any
}

type Method func(self *Object, args ...any) (any, error)

type Exc struct{ Class, Msg string }

func (e *Exc) Error() string { return e.Class + ": " + e.Msg }

// ExceptionKind classifies the runtime's exceptions (server.Classifier).
func (e *Exc) ExceptionKind() server.ExceptionKind {
	if e.Class == "KeyboardInterrupt" {
		return server.KindKeyboardInterrupt
	}
	return server.KindException
}

var dicts sync.RWMutex // the runtime's lock on every attribute dict

func setattr(d map[string]any, name string, v any) { dicts.Lock(); d[name] = v; dicts.Unlock() }

// Getattr looks name up on the instance, then its class chain, at each
// call: a program may change either at any time.
func (o *Object) Getattr(name string) (any, bool) {
	dicts.RLock()
	defer dicts.RUnlock()
	for ; o != nil; o = o.Base {
		if v, ok := o.Dict[name]; ok {
			return v, true
		}
	}
	return nil, false
}

// Call calls the method name if the object's class chain defines it.
func (o *Object) Call(name string, args ...any) (r any, found bool, err error) {
	v, _ := o.Getattr(name)
	if m, ok := v.(Method); ok {
		r, err = m(o, args...)
		return r, true, err
	}
	return nil, false, nil
}

// pyServer is the adapter: a Go threading server whose configuration and
// overridden hooks come from a Python object.
type pyServer struct {
	threading.TCPServer
	obj *Object
}

// Setting forwards timeout, daemon_threads, block_on_close... to the
// object's attributes, read at each use (server.Configurer).
func (s *pyServer) Setting(name string) (any, bool) { return s.obj.Getattr(name) }

// Each hook runs the override the class defines, else super().
func (s *pyServer) VerifyRequest(req server.Request, addr net.Addr) (bool, error) {
	if r, found, err := s.obj.Call("verify_request", req, addr); found {
		return r == true, err
	}
	return s.TCPServer.VerifyRequest(req, addr)
}

func (s *pyServer) HandleError(req server.Request, addr net.Addr, err error) error {
	if _, found, herr := s.obj.Call("handle_error", req, addr, err); found {
		return herr
	}
	return s.TCPServer.HandleError(req, addr, err)
}

func (s *pyServer) HandleTimeout() error {
	if _, found, err := s.obj.Call("handle_timeout"); found {
		return err
	}
	return s.TCPServer.HandleTimeout()
}

// handlerClass runs a Python handler class per request as
// BaseRequestHandler.__init__ does: setup(), handle(), finally finish().
func handlerClass(cls *Object) server.Handler {
	return server.HandlerFunc(func(req server.Request, addr net.Addr, _ server.Server) error {
		h := &Object{Base: cls, Dict: map[string]any{"request": req, "client_address": addr}}
		if _, _, err := h.Call("setup"); err != nil {
			return err
		}
		_, _, err := h.Call("handle")
		if _, _, ferr := h.Call("finish"); ferr != nil {
			return ferr
		}
		return err
	})
}

func Example_embedding() {
	// class Upper(BaseRequestHandler): one line back in upper case;
	// "quit" raises KeyboardInterrupt, "bad" ValueError.
	upper := &Object{Dict: map[string]any{
		"setup": Method(func(h *Object, _ ...any) (any, error) {
			c, _ := h.Getattr("request")
			setattr(h.Dict, "rfile", bufio.NewReader(c.(server.Conn)))
			return nil, nil
		}),
		"handle": Method(func(h *Object, _ ...any) (any, error) {
			r, _ := h.Getattr("rfile")
			line, _ := r.(*bufio.Reader).ReadString('\n')
			switch line = strings.TrimSpace(line); line {
			case "quit":
				return nil, &Exc{"KeyboardInterrupt", ""}
			case "bad":
				return nil, &Exc{"ValueError", "bad line"}
			}
			c, _ := h.Getattr("request")
			_, err := fmt.Fprintln(c.(server.Conn), strings.ToUpper(line))
			return nil, err
		}),
	}}
	// class MyServer(ThreadingTCPServer), overriding handle_error and
	// handle_timeout.
	base := &Object{Dict: map[string]any{"daemon_threads": false, "block_on_close": true, "timeout": nil}}
	cls := &Object{Base: base, Dict: map[string]any{
		"handle_error":   Method(func(_ *Object, a ...any) (any, error) { fmt.Println("handle_error:", a[2]); return nil, nil }),
		"handle_timeout": Method(func(*Object, ...any) (any, error) { fmt.Println("handle_timeout"); return nil, nil }),
	}}
	s := &pyServer{obj: &Object{Base: cls, Dict: map[string]any{}}}
	if err := s.Init(s, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, handlerClass(upper), true); err != nil {
		panic(err)
	}
	// Errors that escape a worker go to the runtime's threading.excepthook,
	// turned into its own exception classes by Classify.
	hooked := make(chan struct{})
	s.ExceptHook = func(err error) { fmt.Println("excepthook:", server.Classify(err)); close(hooked) }
	go s.ServeForever(server.After(10 * time.Millisecond))

	ask := func(line string) string {
		c, _ := net.Dial("tcp", s.ServerAddress.String())
		defer c.Close()
		fmt.Fprintln(c, line)
		reply, _ := bufio.NewReader(c).ReadString('\n')
		return reply
	}
	fmt.Print(ask("hello"))
	ask("bad")
	ask("quit")
	<-hooked
	// verify_request defined on the class at run time: used at once.
	setattr(cls.Dict, "verify_request", Method(func(*Object, ...any) (any, error) { return false, nil }))
	fmt.Printf("rejected: %q\n", ask("hello"))
	s.Shutdown()
	// self.timeout = 0.01 on the instance: handle_request times out.
	setattr(s.obj.Dict, "timeout", 0.01)
	s.HandleRequest()
	s.ServerClose()
	// Output:
	// HELLO
	// handle_error: ValueError: bad line
	// excepthook: KeyboardInterrupt
	// rejected: ""
	// handle_timeout
}
