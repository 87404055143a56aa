//go:build unix

package scenario

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/forking"
	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// childTraceEnv names the file a re-executed forking child writes its
// events to.
const childTraceEnv = "SCENARIO_CHILD_TRACE"

// stepTimeout bounds every blocking step of a scenario (support.TIMEOUT).
const stepTimeout = 10 * time.Second

var (
	scenarios []Scenario
	loadErr   error

	// current is the tracer handlers record into: the running scenario's
	// in this process, the child's file tracer in a re-executed child.
	current atomic.Pointer[tracer]

	countMu sync.Mutex
	ran     int
	passed  int
	skipped []string
)

func currentTracer() *tracer { return current.Load() }

func registryName(sc *Scenario) string { return "scenario/" + sc.Name }

// TestMain registers every forking scenario's handler and server type (the
// re-executed child finds them by name), runs a re-executed child's
// request, or else the tests, and prints how many scenarios ran natively.
func TestMain(m *testing.M) {
	path, err := Path()
	if err == nil {
		scenarios, err = Load(path)
	}
	loadErr = err
	if forking.IsChild() {
		tr := &tracer{}
		f, err := os.OpenFile(os.Getenv(childTraceEnv), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "scenario child:", err)
			os.Exit(3)
		}
		tr.out = f
		current.Store(tr)
	}
	for i := range scenarios {
		sc := &scenarios[i]
		k, err := newKind(sc.Server)
		if err != nil || k.forking == nil {
			continue
		}
		stream := k.stream
		forking.Register(registryName(sc), handlerClass(sc, stream, currentTracer))
		forking.RegisterServer(registryName(sc), func() server.Server {
			t, _, err := newTraced(sc, currentTracer())
			if err != nil {
				panic(err)
			}
			t.Base().ErrorOutput = reportWriter{currentTracer()}
			return t
		})
	}
	forking.RunChild()
	// Children of a -race test binary would otherwise sleep 1 s at exit.
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	code := m.Run()
	if loadErr == nil {
		countMu.Lock()
		fmt.Printf("scenarios: %d run natively (%d passed), %d skipped with a reason\n",
			ran, passed, len(skipped))
		for _, s := range skipped {
			fmt.Printf("  skipped %s\n", s)
		}
		countMu.Unlock()
	}
	os.Exit(code)
}

func TestScenarios(t *testing.T) {
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	if len(scenarios) == 0 {
		t.Fatal("no scenarios")
	}
	for i := range scenarios {
		sc := &scenarios[i]
		t.Run(sc.Name, func(t *testing.T) {
			if sc.GoSkip != "" {
				countMu.Lock()
				skipped = append(skipped, sc.Name+": "+sc.GoSkip)
				countMu.Unlock()
				t.Skip(sc.GoSkip)
			}
			countMu.Lock()
			ran++
			countMu.Unlock()
			runScenario(t, sc)
			if !t.Failed() {
				countMu.Lock()
				passed++
				countMu.Unlock()
			}
		})
	}
}

func runScenario(t *testing.T, sc *Scenario) {
	tr := newTracer()
	current.Store(tr)
	srv, k, err := newTraced(sc, tr)
	if err != nil {
		t.Fatal(err)
	}
	base := srv.Base()
	base.ErrorOutput = reportWriter{tr}
	if k.threading != nil {
		k.threading.ExceptHook = func(err error) { tr.note("excepthook:" + excName(err)) }
	}
	dir, err := os.MkdirTemp("", "scenario")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	childTrace := filepath.Join(dir, "child.trace")
	if k.forking != nil {
		if err := os.WriteFile(childTrace, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv(childTraceEnv, childTrace)
	}

	var addr net.Addr
	switch {
	case k.unix && k.stream:
		addr = &net.UnixAddr{Name: filepath.Join(dir, "s.sock"), Net: "unix"}
	case k.unix:
		addr = &net.UnixAddr{Name: filepath.Join(dir, "s.sock"), Net: "unixgram"}
	case k.stream:
		addr, _, err = server.ResolveAddress("tcp", "127.0.0.1:0")
	default:
		addr, _, err = server.ResolveAddress("udp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	var h server.Handler = handlerClass(sc, k.stream, currentTracer)
	if k.forking != nil {
		h = forking.Register(registryName(sc), h)
	}
	initer, ok := k.inner.(interface {
		Init(server.Server, net.Addr, server.Handler, bool) error
	})
	if !ok {
		t.Fatalf("%T has no Init", k.inner)
	}
	if sc.ConstructRaises != "" {
		err := initer.Init(srv, addr, h, true)
		if err == nil || excName(err) != sc.ConstructRaises {
			t.Fatalf("construction returned %v, want %s", err, sc.ConstructRaises)
		}
		checkTraces(t, sc, tr)
		return
	}
	if err := initer.Init(srv, addr, h, true); err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			srv.ServerClose()
		}
	}()
	if got, _ := tr.render("main"); got != sc.Construct {
		t.Fatalf("construction: %q, want %q", got, sc.Construct)
	}
	tr.clear()

	withClient := sc.Client == "line"
	if withClient {
		base.Timeout = server.After(stepTimeout)
	} else {
		base.Timeout = server.After(time.Millisecond)
	}
	for name, value := range sc.Attrs {
		if err := k.setAttr(name, value); err != nil {
			t.Fatal(err)
		}
	}
	r := &run{t: t, sc: sc, tr: tr, srv: srv, k: k, childTrace: childTrace}
	r.line = []byte("request for " + sc.Name + "\n")
	defer r.close()
	if withClient {
		if err := r.send(dir); err != nil {
			t.Fatal(err)
		}
	}
	r.drive()

	r.close()
	closed = true
	srv.ServerClose()
	var leftOpen bool
	for _, req := range tr.requests {
		if conn, ok := req.(server.Conn); ok && conn.Fileno() >= 0 {
			leftOpen = true
			conn.Close()
		}
	}
	if leftOpen != sc.LeftOpen {
		t.Errorf("a request left open after server_close: %v, want %v", leftOpen, sc.LeftOpen)
	}
	if fd := srv.Fileno(); fd != -1 {
		t.Errorf("fileno after server_close: %d, want -1 (C9)", fd)
	}
	if k.forking != nil {
		// server_close waited for every child (block_on_close, E4, E9).
		if pids := k.forking.ActiveChildren(); len(pids) != 0 {
			t.Errorf("active children after server_close: %v", pids)
		}
		if sc.ExitCode == nil && sc.Drive == "handle_request" {
			if err := tr.readChild(childTrace); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkTraces(t, sc, tr)
	tr.mu.Lock()
	reported := tr.reported
	tr.mu.Unlock()
	if reported != sc.StderrReport {
		t.Errorf("handle_error report written: %v, want %v", reported, sc.StderrReport)
	}
}

// checkTraces compares every lane's rendered trace with the expected ones.
func checkTraces(t *testing.T, sc *Scenario, tr *tracer) {
	t.Helper()
	got := map[string]string{}
	for lane := range tr.lanes() {
		r, err := tr.render(lane, sc.Collapse...)
		if err != nil {
			t.Fatal(err)
		}
		got[lane] = r
	}
	if !equalMaps(got, sc.Expected) {
		t.Errorf("traces\n%s\nwant\n%s", showLanes(got), showLanes(sc.Expected))
	}
}

// run is one scenario's server, client and tracer.
type run struct {
	t          *testing.T
	sc         *Scenario
	tr         *tracer
	srv        *traced
	k          *kind
	childTrace string
	line       []byte
	stream     net.Conn
	dgram      net.PacketConn
}

func (r *run) close() {
	if r.stream != nil {
		r.stream.Close()
	}
	if r.dgram != nil {
		r.dgram.Close()
	}
}

// record runs f as a call of name on the current lane (the loop entry
// points, which are not hooks in Go).
func (r *run) record(name string, f func() error) error {
	r.tr.emit("call", name, "")
	err := f()
	if err != nil {
		r.tr.emit("raise", name, excName(err))
	} else {
		r.tr.emit("return", name, "")
	}
	return err
}

func (r *run) drive() {
	t, sc, base := r.t, r.sc, r.srv.Base()
	switch sc.Drive {
	case "handle_request":
		herr := r.record("handle_request", base.HandleRequest)
		if sc.Raises == "" && herr != nil {
			t.Errorf("handle_request: %v", herr)
		} else if sc.Raises != "" && (herr == nil || excName(herr) != sc.Raises) {
			t.Errorf("handle_request returned %v (%s), want %s", herr, excName(herr), sc.Raises)
		}
		r.checkReply()
		if sc.ExitCode != nil {
			r.waitChild()
		}
	case "serve_forever":
		r.serveForever()
	case "shutdown_then_serve":
		done := make(chan struct{})
		go func() {
			defer close(done)
			base.Shutdown()
		}()
		time.Sleep(50 * time.Millisecond) // Shutdown has set the flag and waits
		if err := r.record("serve_forever", func() error {
			return base.ServeForever(server.After(10 * time.Millisecond))
		}); err != nil {
			t.Errorf("serve_forever: %v", err)
		}
		select {
		case <-done:
		case <-time.After(stepTimeout):
			t.Fatal("Shutdown did not return")
		}
	case "exit":
		if err := base.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	case "none":
	default:
		t.Fatalf("drive %q is not supported by the Go runner", sc.Drive)
	}
}

func (r *run) serveForever() {
	t, base := r.t, r.srv.Base()
	done := make(chan error, 1)
	go func() {
		r.tr.serveG.Store(goid())
		done <- r.record("serve_forever", func() error {
			return base.ServeForever(server.After(10 * time.Millisecond))
		})
	}()
	defer func() {
		stopped := make(chan struct{})
		go func() {
			base.Shutdown()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-time.After(stepTimeout):
			t.Fatal("Shutdown did not return")
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve_forever: %v", err)
			}
		case <-time.After(stepTimeout):
			t.Fatal("serve_forever did not return after Shutdown")
		}
	}()
	r.checkReply()
	if r.k.forking != nil {
		waitUntil(t, "service_actions to reap the child", func() bool {
			return len(r.k.forking.ActiveChildren()) == 0
		})
		if err := r.tr.readChild(r.childTrace); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "an idle iteration", func() bool { return r.tr.count("serve", "service_actions") >= 2 })
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (r *run) checkReply() {
	if r.stream == nil && r.dgram == nil || r.sc.Reply == "" || r.sc.Reply == "unread" {
		return
	}
	reply, err := r.read()
	want := ""
	if r.sc.Reply == "line" {
		want = string(r.line)
	}
	if r.sc.ReplySize != nil {
		want = want[:*r.sc.ReplySize]
	}
	if err != nil {
		r.t.Errorf("reading the reply: %v", err)
	} else if reply != want {
		r.t.Errorf("reply %q, want %q", reply, want)
	}
}

// waitChild waits for the one forked child, checks its exit status and
// reads its events.
func (r *run) waitChild() {
	t := r.t
	pids := r.k.forking.ActiveChildren()
	if len(pids) != 1 {
		t.Fatalf("active children %v, want one", pids)
	}
	code, err := waitExit(pids[0])
	if err != nil {
		t.Fatal(err)
	}
	if code != *r.sc.ExitCode {
		t.Errorf("child exit status %d, want %d", code, *r.sc.ExitCode)
	}
	if err := r.tr.readChild(r.childTrace); err != nil {
		t.Fatal(err)
	}
}

// waitExit waits (bounded) for the child pid and returns its exit status.
func waitExit(pid int) (int, error) {
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		_, ws, err := forking.Wait4(pid, 0)
		done <- result{ws.ExitStatus(), err}
	}()
	select {
	case r := <-done:
		return r.code, r.err
	case <-time.After(stepTimeout):
		return 0, fmt.Errorf("child %d did not exit in %v", pid, stepTimeout)
	}
}

func (r *run) send(dir string) error {
	addr := r.srv.Base().ServerAddress
	var err error
	if r.k.stream {
		r.stream, err = net.DialTimeout(addr.Network(), addr.String(), stepTimeout)
		if err != nil {
			return err
		}
		r.stream.SetDeadline(time.Now().Add(stepTimeout))
		_, err = r.stream.Write(r.line)
		return err
	}
	if r.k.unix {
		// A Unix datagram client binds its own path to get replies (I14).
		r.dgram, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(dir, "c.sock"), Net: "unixgram"})
	} else {
		r.dgram, err = net.ListenPacket("udp", "127.0.0.1:0")
	}
	if err != nil {
		return err
	}
	r.dgram.SetDeadline(time.Now().Add(stepTimeout))
	_, err = r.dgram.WriteTo(r.line, addr)
	return err
}

func (r *run) read() (string, error) {
	if r.stream != nil {
		data, err := io.ReadAll(r.stream)
		return string(data), err
	}
	buf := make([]byte, 65536)
	n, _, err := r.dgram.ReadFrom(buf)
	return string(buf[:n]), err
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func showLanes(m map[string]string) string {
	lanes := make([]string, 0, len(m))
	for lane := range m {
		lanes = append(lanes, lane)
	}
	sort.Strings(lanes)
	var b strings.Builder
	for _, lane := range lanes {
		fmt.Fprintf(&b, "  %s: %s\n", lane, m[lane])
	}
	return b.String()
}
