//go:build unix

package scenario

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// The Go side of tests/support.py's Tracer: hook calls recorded per lane and
// rendered as nested call trees, in the same notation.

type event struct{ lane, kind, name, exc string }

// tracer records the events of one scenario. In a forked (re-executed)
// child, out is set and every event is written there, one line each, for
// the parent to read once the child has exited.
type tracer struct {
	mu       sync.Mutex
	events   []event
	requests []server.Request // what GetRequest returned, in order
	mainG    uint64
	serveG   atomic.Uint64 // the goroutine running serve_forever
	out      *os.File
	reported bool // a handle_error report was written in this process
}

func newTracer() *tracer { return &tracer{mainG: goid()} }

// goid is the current goroutine's id, read from its stack header.
func goid() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	field := strings.Fields(strings.TrimPrefix(string(buf[:n]), "goroutine "))[0]
	id, err := strconv.ParseUint(field, 10, 64)
	if err != nil {
		panic("goid: " + err.Error())
	}
	return id
}

func (t *tracer) lane() string {
	if t.out != nil {
		return "child"
	}
	switch g := goid(); g {
	case t.mainG:
		return "main"
	case t.serveG.Load():
		return "serve"
	default:
		return "worker"
	}
}

func (t *tracer) emit(kind, name, exc string) {
	lane := t.lane()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.out != nil {
		fmt.Fprintf(t.out, "%s %s %s\n", kind, name, exc)
		return
	}
	t.events = append(t.events, event{lane, kind, name, exc})
}

func (t *tracer) note(name string) { t.emit("note", name, "") }

// call records a call of name around f; an error (or a panic, re-raised)
// marks the call as raised with the Python class the error stands for.
func (t *tracer) call(name string, f func() error) (err error) {
	t.emit("call", name, "")
	panicking := true
	defer func() {
		if panicking {
			t.emit("raise", name, "Panic")
		}
	}()
	err = f()
	panicking = false
	if err != nil {
		t.emit("raise", name, excName(err))
	} else {
		t.emit("return", name, "")
	}
	return err
}

// count returns how many calls of name lane has recorded.
func (t *tracer) count(lane, name string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, e := range t.events {
		if e.lane == lane && e.kind == "call" && e.name == name {
			n++
		}
	}
	return n
}

func (t *tracer) clear() {
	t.mu.Lock()
	t.events = nil
	t.mu.Unlock()
}

func (t *tracer) addRequest(req server.Request) {
	t.mu.Lock()
	t.requests = append(t.requests, req)
	t.mu.Unlock()
}

// readChild moves the events a child wrote to path into the record.
func (t *tracer) readChild(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), " ", 3)
		if len(parts) != 3 {
			return fmt.Errorf("bad child event %q", sc.Text())
		}
		if parts[0] == "report" {
			t.reported = true
			continue
		}
		t.events = append(t.events, event{"child", parts[0], parts[1], parts[2]})
	}
	return sc.Err()
}

func (t *tracer) lanes() map[string]bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	lanes := map[string]bool{}
	for _, e := range t.events {
		lanes[e.lane] = true
	}
	return lanes
}

type node struct {
	name     string
	children []*node
	exc      string
	open     bool
}

// render is support.Tracer.render: the calls of lane as a string; names in
// collapse render once per run of consecutive identical calls, with "+".
func (t *tracer) render(lane string, collapse ...string) (string, error) {
	t.mu.Lock()
	var events []event
	for _, e := range t.events {
		if e.lane == lane {
			events = append(events, e)
		}
	}
	t.mu.Unlock()
	var roots []*node
	var stack []*node
	for _, e := range events {
		siblings := &roots
		if len(stack) > 0 {
			siblings = &stack[len(stack)-1].children
		}
		switch e.kind {
		case "call":
			n := &node{name: e.name, open: true}
			*siblings = append(*siblings, n)
			stack = append(stack, n)
		case "note":
			*siblings = append(*siblings, &node{name: e.name})
		default:
			if len(stack) == 0 || stack[len(stack)-1].name != e.name {
				return "", fmt.Errorf("lane %s: %s %s without a matching call", lane, e.kind, e.name)
			}
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			n.exc = e.exc
			n.open = false
		}
	}
	return renderNodes(roots, collapse), nil
}

func renderNodes(nodes []*node, collapse []string) string {
	var parts []string
	for _, n := range nodes {
		text := n.name
		if len(n.children) > 0 {
			text += "(" + renderNodes(n.children, collapse) + ")"
		}
		if n.exc != "" {
			text += "!" + n.exc
		}
		if n.open {
			text += "..."
		}
		if contains(collapse, n.name) {
			text += "+"
			if len(parts) > 0 && parts[len(parts)-1] == text {
				continue
			}
		}
		parts = append(parts, text)
	}
	return strings.Join(parts, " ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// --- Python exceptions as Go errors -------------------------------------------

// pyError is a Python Exception (not a BaseException, not an OSError) of
// the named class.
type pyError struct {
	class string
	args  []any
}

func (e *pyError) Error() string { return fmt.Sprintf("%s%v", e.class, e.args) }

// pyOSError is a Python OSError (or subclass): GetRequest's OSError is
// swallowed (B8).
type pyOSError struct{ pyError }

func (*pyOSError) OSError() bool { return true }

var exceptionClasses = map[string]string{
	"Exception": "", "ValueError": "", "LookupError": "", "KeyError": "", "IndexError": "",
	"RuntimeError": "", "TypeError": "", "AttributeError": "", "ZeroDivisionError": "",
	"OSError": "os", "ConnectionError": "os", "ConnectionResetError": "os",
	"BrokenPipeError": "os", "TimeoutError": "os",
	"SystemExit": "base", "KeyboardInterrupt": "base",
}

// newException returns the Go error standing for the Python exception
// class(args...).
func newException(class string, args []any) (error, error) {
	kind, ok := exceptionClasses[class]
	if !ok {
		return nil, fmt.Errorf("exception class %q is not known to the Go runner", class)
	}
	switch {
	case class == "SystemExit":
		var code any
		if len(args) > 0 {
			code = args[0]
		}
		return &server.SystemExit{Code: code}, nil
	case class == "KeyboardInterrupt":
		return &server.KeyboardInterrupt{}, nil
	case kind == "os":
		return &pyOSError{pyError{class, args}}, nil
	}
	return &pyError{class, args}, nil
}

// excName is the Python class an error stands for.
func excName(err error) string {
	var pe *pyError
	var pose *pyOSError
	var se *server.SystemExit
	var ki *server.KeyboardInterrupt
	var panicErr *server.PanicError
	switch {
	case errors.As(err, &pose):
		return pose.class
	case errors.As(err, &pe):
		return pe.class
	case errors.As(err, &se):
		return "SystemExit"
	case errors.As(err, &ki):
		return "KeyboardInterrupt"
	case errors.As(err, &panicErr):
		return "Panic"
	case server.IsOSError(err):
		return "OSError"
	}
	return fmt.Sprintf("%T", err)
}
