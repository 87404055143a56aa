//go:build unix

// Command ssecho is the Go line-echo server of the benchmarks, in two
// flavours:
//
//	-impl raw   the practical limit: Go's net package, one goroutine per
//	            connection (TCP, Unix), one ReadFrom/WriteTo loop (UDP; on
//	            2 cores one loop answers about 1.5x what two loops sharing
//	            the socket do, see -udp-readers); no socketserver code
//	-impl pkg   this project's Go packages with a Go handler:
//	            threading.TCPServer / threading.UnixStreamServer /
//	            threading.UDPServer, or server.UDPServer (-kind udp-sync)
//
// Kinds (-kind): tcp, unix, udp, udp-sync (pkg only: the synchronous
// UDPServer, CPython's UDPServer).
//
// The handlers echo every line of a stream connection until EOF (so one
// server serves short connections, keep-alive clients and idle held ones)
// and every datagram. The pkg servers wait for readiness on Go's netpoller
// (the default for native sockets) unless
// -wait poll is given.
//
// For profiling one server under the benchmark's load, -cpuprofile writes a
// CPU profile and -pprof serves net/http/pprof on a loopback address (e.g.
// a heap profile while ssload -pattern hold keeps connections open).
//
// When it serves, ssecho prints "READY <json>" with its address and pid on
// standard output; it stops on SIGTERM/SIGINT, when standard input reaches
// EOF (so it never outlives the process that started it) or after -max-life.
//
// It builds on Unix only (Linux, macOS, the BSDs): it serves the
// Unix-domain kinds, stops on SIGTERM and raises RLIMIT_NOFILE, none of
// which Windows has (the pkg servers themselves build there); make bench
// runs it on Linux.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/handler"
	"github.com/gopy-socketserver/socketserver/pkg/server"
	"github.com/gopy-socketserver/socketserver/pkg/threading"
)

// lineEcho is the Go handler of the pkg servers: it echoes each line of the
// connection until the client closes it.
type lineEcho struct{ handler.StreamRequestHandler }

// Handle echoes lines until EOF.
func (h *lineEcho) Handle() error {
	for {
		line, err := h.Rfile.ReadBytes('\n')
		if len(line) > 0 {
			if _, werr := h.Wfile.Write(line); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// datagramEcho echoes the datagram's lines (the whole datagram).
type datagramEcho struct{ handler.DatagramRequestHandler }

// Handle copies the packet to the reply.
func (h *datagramEcho) Handle() error {
	_, err := io.Copy(h.Wfile, h.Rfile)
	return err
}

// echoServer is what main starts and stops.
type echoServer interface {
	Addr() string
	Serve() error
	Stop() error
}

func main() {
	impl := flag.String("impl", "raw", "raw (Go net) or pkg (this project's packages)")
	kind := flag.String("kind", "tcp", "tcp, unix, udp, or udp-sync (pkg)")
	addr := flag.String("addr", "127.0.0.1:0", "host:port, or a socket path for unix")
	wait := flag.String("wait", "netpoll", "pkg: readiness wait of the serve loop: netpoll or poll")
	maxLife := flag.Duration("max-life", 30*time.Minute, "exit after this long whatever happens")
	readers := flag.Int("udp-readers", 1, "raw udp: goroutines reading the socket (0: GOMAXPROCS)")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this loopback address (e.g. 127.0.0.1:6060)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile from READY to the stop to this file")
	flag.Parse()
	raiseNoFile()

	var (
		srv echoServer
		err error
	)
	switch *impl {
	case "raw":
		srv, err = newRaw(*kind, *addr, *readers)
	case "pkg":
		srv, err = newPkg(*kind, *addr, *wait)
	default:
		err = fmt.Errorf("unknown -impl %q", *impl)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ssecho:", err)
		os.Exit(2)
	}
	if *pprofAddr != "" {
		if err := servePprof(*pprofAddr); err != nil {
			fmt.Fprintln(os.Stderr, "ssecho: pprof:", err)
			os.Exit(2)
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "ssecho: cpuprofile:", err)
			os.Exit(2)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	ready, _ := json.Marshal(map[string]any{"address": srv.Addr(), "pid": os.Getpid(), "impl": *impl, "kind": *kind})
	fmt.Printf("READY %s\n", ready)

	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	eof := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(eof)
	}()
	select {
	case <-sig:
	case <-eof:
	case <-time.After(*maxLife):
		fmt.Fprintln(os.Stderr, "ssecho: -max-life passed")
	case err := <-served:
		fmt.Fprintln(os.Stderr, "ssecho: serve:", err)
		os.Exit(1)
	}
	// Stopping must not hang either.
	time.AfterFunc(5*time.Second, func() { os.Exit(4) })
	if err := srv.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "ssecho: stop:", err)
		os.Exit(1)
	}
}

// servePprof serves net/http/pprof's handlers on addr, which must be a
// loopback address.
func servePprof(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", httppprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
	go func() { _ = http.Serve(ln, mux) }()
	return nil
}

// raiseNoFile raises the soft descriptor limit to the hard one.
func raiseNoFile() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

// --- raw Go -------------------------------------------------------------

type rawStream struct{ ln net.Listener }

func (r *rawStream) Addr() string { return r.ln.Addr().String() }

func (r *rawStream) Serve() error {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// EMFILE and the like: back off briefly, as net/http does.
			time.Sleep(5 * time.Millisecond)
			continue
		}
		go rawEchoConn(c)
	}
}

func (r *rawStream) Stop() error { return r.ln.Close() }

// rawEchoConn echoes the lines of c until EOF or an error.
func rawEchoConn(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			if _, werr := c.Write(line); werr != nil {
				return
			}
		}
		if err == bufio.ErrBufferFull {
			continue // a line longer than the buffer: echo it piecewise
		}
		if err != nil {
			return
		}
	}
}

type rawPacket struct {
	pc      *net.UDPConn
	readers int
}

func (r *rawPacket) Addr() string { return r.pc.LocalAddr().String() }

func (r *rawPacket) Serve() error {
	n := r.readers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	errc := make(chan error, n)
	for range n {
		go func() {
			buf := make([]byte, 65536)
			for {
				m, from, err := r.pc.ReadFromUDPAddrPort(buf)
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						errc <- nil
						return
					}
					continue
				}
				_, _ = r.pc.WriteToUDPAddrPort(buf[:m], from)
			}
		}()
	}
	return <-errc
}

func (r *rawPacket) Stop() error { return r.pc.Close() }

func newRaw(kind, addr string, udpReaders int) (echoServer, error) {
	switch kind {
	case "tcp", "unix":
		ln, err := net.Listen(kind, addr)
		if err != nil {
			return nil, err
		}
		return &rawStream{ln: ln}, nil
	case "udp":
		ua, err := net.ResolveUDPAddr("udp", addr)
		if err != nil {
			return nil, err
		}
		pc, err := net.ListenUDP("udp", ua)
		if err != nil {
			return nil, err
		}
		return &rawPacket{pc: pc, readers: udpReaders}, nil
	}
	return nil, fmt.Errorf("raw: unknown -kind %q (tcp, unix, udp)", kind)
}

// --- this project's packages ---------------------------------------------

// pkgServer adapts a socketserver server to echoServer.
type pkgServer struct {
	base  *server.BaseServer
	sock  server.Socket
	close func() error
}

func (p *pkgServer) Addr() string { return p.base.ServerAddress.String() }

func (p *pkgServer) Serve() error { return p.base.ServeForever(server.DefaultPollInterval) }

func (p *pkgServer) Stop() error {
	p.base.Shutdown()
	return p.close()
}

func newPkg(kind, addr, wait string) (echoServer, error) {
	stream := handler.For[lineEcho]()
	dgram := handler.For[datagramEcho]()
	var (
		p   pkgServer
		err error
	)
	switch kind {
	case "tcp":
		var s *threading.TCPServer
		if s, err = threading.NewTCPServer(addr, stream); err == nil {
			p = pkgServer{base: s.Base(), sock: s.Socket, close: s.ServerClose}
		}
	case "unix":
		var s *threading.UnixStreamServer
		if s, err = threading.NewUnixStreamServer(addr, stream); err == nil {
			p = pkgServer{base: s.Base(), sock: s.Socket, close: s.ServerClose}
		}
	case "udp":
		var s *threading.UDPServer
		if s, err = threading.NewUDPServer(addr, dgram); err == nil {
			p = pkgServer{base: s.Base(), sock: s.Socket, close: s.ServerClose}
		}
	case "udp-sync":
		var s *server.UDPServer
		if s, err = server.NewUDPServer(addr, dgram); err == nil {
			p = pkgServer{base: s.Base(), sock: s.Socket, close: s.ServerClose}
		}
	default:
		return nil, fmt.Errorf("pkg: unknown -kind %q (tcp, unix, udp, udp-sync)", kind)
	}
	if err != nil {
		return nil, err
	}
	switch wait {
	case "netpoll":
		if err := server.UseNetpoll(p.sock); err != nil {
			p.close()
			return nil, err
		}
	case "poll":
		// Native sockets wait on the netpoller by default; a CheckSignals
		// callback makes the loop wait in poll(2) on its own thread, as an
		// embedder that runs signal handlers there does.
		p.base.CheckSignals = func() error { return nil }
	default:
		p.close()
		return nil, fmt.Errorf("pkg: unknown -wait %q (netpoll, poll)", wait)
	}
	return &p, nil
}
