//go:build unix

// Command ssload is the load generator of the benchmarks: it drives a line
// echo server over TCP, a Unix stream socket or UDP and reports requests/s,
// latency percentiles and errors, verifying every echoed byte.
//
// Patterns (-pattern):
//
//	short      each client connects, sends one line, reads its echo, closes
//	keepalive  each client keeps one connection for request/response loops
//	datagram   each client sends one line per UDP datagram and reads the echo
//	hold       opens -conns connections, answers one line on each and holds
//	           them idle until standard input closes (or -hold-max passes)
//
// Every dial, write and read has a deadline (-timeout), and the run ends by
// itself after -warmup plus -duration; a watchdog ends the process if it
// ever overruns. With -json the result is one JSON object on standard
// output (for hold: one when the connections are held, one when released).
//
// Usage:
//
//	ssload -network tcp -addr 127.0.0.1:8000 -pattern keepalive -clients 16 -duration 2s
//	ssload -network unix -addr /tmp/echo.sock -pattern hold -conns 10000
//
// It builds on Unix only (Linux, macOS, the BSDs): it drives Unix-domain
// servers and raises RLIMIT_NOFILE to hold thousands of connections, and
// Windows has neither; make bench runs it on Linux.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	os.Exit(run1(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run1 is the command: it parses args, runs, and returns the exit status.
func run1(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ssload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg      Config
		conns    = fs.Int("conns", 10000, "hold: connections to open (capped by the descriptor limit)")
		parallel = fs.Int("parallel", 8, "hold: connections being opened at once")
		maxFail  = fs.Int("max-failures", 100, "hold: stop opening after this many failed connections (0: no limit)")
		holdMax  = fs.Duration("hold-max", 60*time.Second, "hold: release the connections after this long even if standard input stays open")
		asJSON   = fs.Bool("json", false, "print the result as JSON")
	)
	fs.StringVar(&cfg.Network, "network", "tcp", "tcp, unix or udp")
	fs.StringVar(&cfg.Address, "addr", "", "server address: host:port, or a socket path for unix")
	fs.StringVar(&cfg.Pattern, "pattern", PatternKeepAlive, "short, keepalive, datagram or hold")
	fs.IntVar(&cfg.Clients, "clients", 16, "concurrent clients")
	fs.DurationVar(&cfg.Duration, "duration", 2*time.Second, "measured time")
	fs.DurationVar(&cfg.Warmup, "warmup", 300*time.Millisecond, "load before the measured time, not counted")
	fs.IntVar(&cfg.Payload, "payload", 64, "bytes per request, newline included")
	fs.DurationVar(&cfg.Timeout, "timeout", 3*time.Second, "limit of every dial, write and read")
	fs.DurationVar(&cfg.ErrorPause, "error-pause", 10*time.Millisecond, "pause of a client after an error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ssload: unexpected arguments %q\n", fs.Args())
		return 2
	}
	limit := raiseNoFile()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if cfg.Pattern == "hold" {
		return runHold(ctx, HoldConfig{
			Network: cfg.Network, Address: cfg.Address, Conns: min(*conns, int(limit)-64),
			Parallel: *parallel, Payload: cfg.Payload, Timeout: cfg.Timeout, MaxFailures: *maxFail,
		}, *holdMax, stdin, stdout, stderr, *asJSON)
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "ssload:", err)
		return 2
	}
	// Every operation has a deadline; this is the last resort.
	watchdog := time.AfterFunc(cfg.Warmup+cfg.Duration+2*cfg.Timeout+5*time.Second, func() {
		fmt.Fprintln(stderr, "ssload: watchdog: the run overran its deadlines; exiting")
		os.Exit(3)
	})
	defer watchdog.Stop()
	res, err := Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "ssload:", err)
		return 2
	}
	if *asJSON {
		writeJSON(stdout, res)
	} else {
		fmt.Fprintf(stdout, "%s %s %s: %d clients, %.2f s: %d requests, %.0f req/s, p50 %.3f ms, p99 %.3f ms, max %.3f ms, %d errors %v\n",
			res.Network, res.Address, res.Pattern, res.Clients, res.Seconds, res.Requests, res.RPS,
			res.P50Ms, res.P99Ms, res.MaxMs, res.Errors, res.ErrorKinds)
		if res.FirstError != "" {
			fmt.Fprintln(stdout, "first error:", res.FirstError)
		}
	}
	if res.Requests == 0 {
		return 1
	}
	return 0
}

// runHold opens and holds the connections, reports, waits for standard
// input to close (or holdMax, or a signal), then closes them.
func runHold(ctx context.Context, cfg HoldConfig, holdMax time.Duration, stdin io.Reader, stdout, stderr io.Writer, asJSON bool) int {
	if cfg.Network != "tcp" && cfg.Network != "unix" {
		fmt.Fprintf(stderr, "ssload: hold needs network tcp or unix, not %q\n", cfg.Network)
		return 2
	}
	if cfg.Address == "" || cfg.Conns < 1 || cfg.Payload < MinPayload || cfg.Timeout <= 0 {
		fmt.Fprintln(stderr, "ssload: hold needs -addr, -conns >= 1, -payload >=", MinPayload, "and -timeout > 0")
		return 2
	}
	openCtx, cancel := context.WithTimeout(ctx, holdMax)
	conns, res := Hold(openCtx, cfg)
	cancel()
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if asJSON {
		writeJSON(stdout, map[string]any{"phase": "held", "hold": res})
	} else {
		fmt.Fprintf(stdout, "held %d of %d connections (%d failed %v) in %.2f s; close standard input to release\n",
			res.Held, res.Wanted, res.Failed, res.ErrorKinds, res.OpenSeconds)
	}
	released := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, stdin) // until EOF
		close(released)
	}()
	t := time.NewTimer(holdMax)
	defer t.Stop()
	why := "stdin closed"
	select {
	case <-released:
	case <-t.C:
		why = "hold-max passed"
	case <-ctx.Done():
		why = "signal"
	}
	for _, c := range conns {
		c.Close()
	}
	if asJSON {
		writeJSON(stdout, map[string]any{"phase": "released", "released": len(conns), "why": why})
	}
	conns = nil
	if res.Held == 0 {
		return 1
	}
	return 0
}

func writeJSON(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain data is marshalled
	}
	fmt.Fprintf(w, "%s\n", b)
}

// raiseNoFile raises the soft descriptor limit to the hard one where
// permitted and returns the soft limit in force.
func raiseNoFile() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 1024
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			return uint64(raised.Cur) // int64 on FreeBSD
		}
	}
	return uint64(lim.Cur)
}
