//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestPercentileNearestRank(t *testing.T) {
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, ms(i))
	}
	cases := []struct {
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{nil, 50, 0},
		{[]time.Duration{ms(7)}, 50, ms(7)},
		{[]time.Duration{ms(7)}, 99, ms(7)},
		{[]time.Duration{ms(1), ms(2)}, 50, ms(1)},
		{[]time.Duration{ms(1), ms(2)}, 51, ms(2)},
		{[]time.Duration{ms(1), ms(2), ms(3), ms(4)}, 50, ms(2)},
		{[]time.Duration{ms(1), ms(2), ms(3), ms(4)}, 75, ms(3)},
		{[]time.Duration{ms(1), ms(2), ms(3), ms(4)}, 100, ms(4)},
		{[]time.Duration{ms(1), ms(2), ms(3), ms(4)}, 0, ms(1)},
		{hundred, 50, ms(50)},
		{hundred, 99, ms(99)},
		{hundred, 99.9, ms(100)},
		{hundred, 1, ms(1)},
	}
	for _, c := range cases {
		if got := percentile(c.samples, c.p); got != c.want {
			t.Errorf("percentile(%d samples, %v) = %v, want %v", len(c.samples), c.p, got, c.want)
		}
	}
}

func TestSummarizeMergesWorkers(t *testing.T) {
	s := summarize([][]time.Duration{{ms(4), ms(1)}, {ms(3)}, nil, {ms(2)}})
	if s.P50Ms != 2 || s.P99Ms != 4 || s.MaxMs != 4 || s.MeanMs != 2.5 || s.P90Ms != 4 {
		t.Fatalf("summarize = %+v", s)
	}
	if (summarize(nil) != Summary{}) {
		t.Fatal("summarize(nil) is not zero")
	}
}

func TestPayloadIsUniqueLineAndParses(t *testing.T) {
	a := make([]byte, 64)
	b := make([]byte, 64)
	fillPayload(a, 3, 41)
	fillPayload(b, 3, 42)
	if bytes.Equal(a, b) {
		t.Fatal("two sequence numbers gave the same payload")
	}
	if bytes.IndexByte(a, '\n') != len(a)-1 {
		t.Fatalf("payload is not one line: %q", a)
	}
	if !strings.HasPrefix(string(a), "00000003 000000000029 ") {
		t.Fatalf("header: %q", a[:headerLen])
	}
	if w, s, ok := payloadSeq(a); !ok || w != 3 || s != 41 {
		t.Fatalf("payloadSeq = %d, %d, %v", w, s, ok)
	}
	for _, bad := range []string{"", "short", "zzzzzzzz 000000000001 x\n", "00000001-000000000001 x\n"} {
		if _, _, ok := payloadSeq([]byte(bad)); ok {
			t.Errorf("payloadSeq(%q) accepted", bad)
		}
	}
	small := make([]byte, MinPayload)
	fillPayload(small, 0xffffffff, 1<<50) // the sequence wraps at 48 bits
	if _, s, ok := payloadSeq(small); !ok || s != 0 {
		t.Fatalf("wrapped sequence: %d %v", s, ok)
	}
}

func TestVerifyEcho(t *testing.T) {
	want := make([]byte, 40)
	fillPayload(want, 1, 1)
	if err := verifyEcho(append([]byte(nil), want...), want); err != nil {
		t.Fatalf("exact echo rejected: %v", err)
	}
	flipped := append([]byte(nil), want...)
	flipped[30] ^= 1
	err := verifyEcho(flipped, want)
	if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "byte 30") {
		t.Fatalf("one flipped byte: %v", err)
	}
	if err := verifyEcho(want[:10], want); !errors.Is(err, ErrShortEcho) {
		t.Fatalf("short echo: %v", err)
	}
	if err := verifyEcho(append(append([]byte(nil), want...), 'x'), want); !errors.Is(err, ErrMismatch) {
		t.Fatalf("long echo: %v", err)
	}
}

func TestValidate(t *testing.T) {
	good := Config{Network: "tcp", Address: "127.0.0.1:1", Pattern: PatternShort, Clients: 1,
		Duration: time.Second, Payload: 64, Timeout: time.Second}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Config){
		"udp keepalive":  func(c *Config) { c.Network = "udp"; c.Pattern = PatternKeepAlive },
		"tcp datagram":   func(c *Config) { c.Pattern = PatternDatagram },
		"pattern":        func(c *Config) { c.Pattern = "bursty" },
		"no address":     func(c *Config) { c.Address = "" },
		"no clients":     func(c *Config) { c.Clients = 0 },
		"no duration":    func(c *Config) { c.Duration = 0 },
		"tiny payload":   func(c *Config) { c.Payload = MinPayload - 1 },
		"no timeout":     func(c *Config) { c.Timeout = 0 },
		"negative warmp": func(c *Config) { c.Warmup = -1 },
	} {
		c := good
		mut(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// echoListener serves line echo (or a corrupted echo) on ln until closed.
func echoListener(t *testing.T, ln net.Listener, corrupt bool) {
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadBytes('\n')
					if err != nil {
						return
					}
					if corrupt {
						line[len(line)/2] ^= 1
					}
					if _, err := c.Write(line); err != nil {
						return
					}
				}
			}()
		}
	}()
}

func checkClean(t *testing.T, res Result) {
	t.Helper()
	if res.Requests == 0 || res.Errors != 0 {
		t.Fatalf("requests %d, errors %d %v (%s)", res.Requests, res.Errors, res.ErrorKinds, res.FirstError)
	}
	if res.BytesVerified != res.Requests*int64(res.Payload) {
		t.Fatalf("verified %d bytes for %d requests of %d", res.BytesVerified, res.Requests, res.Payload)
	}
	if res.RPS <= 0 || res.P50Ms <= 0 || res.P99Ms < res.P50Ms || res.MaxMs < res.P99Ms {
		t.Fatalf("figures: %+v", res)
	}
}

func TestRunStreamPatterns(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	echoListener(t, ln, false)
	sock := filepath.Join(t.TempDir(), "echo.sock")
	uln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	echoListener(t, uln, false)
	for _, c := range []Config{
		{Network: "tcp", Address: ln.Addr().String(), Pattern: PatternShort},
		{Network: "tcp", Address: ln.Addr().String(), Pattern: PatternKeepAlive},
		{Network: "unix", Address: sock, Pattern: PatternShort},
		{Network: "unix", Address: sock, Pattern: PatternKeepAlive},
	} {
		c.Clients, c.Duration, c.Warmup, c.Payload, c.Timeout = 4, 200*time.Millisecond, 50*time.Millisecond, 100, 5*time.Second
		res, err := Run(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		checkClean(t, res)
	}
}

func TestRunDatagram(t *testing.T) {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	res, err := Run(context.Background(), Config{Network: "udp", Address: pc.LocalAddr().String(),
		Pattern: PatternDatagram, Clients: 4, Duration: 200 * time.Millisecond, Payload: 64, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	checkClean(t, res)
}

func TestRunCountsCorruptEchoes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	echoListener(t, ln, true)
	res, err := Run(context.Background(), Config{Network: "tcp", Address: ln.Addr().String(),
		Pattern: PatternKeepAlive, Clients: 2, Duration: 100 * time.Millisecond, Payload: 64,
		Timeout: 5 * time.Second, ErrorPause: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 0 || res.Errors == 0 || res.ErrorKinds["mismatch"] != res.Errors {
		t.Fatalf("corrupt echoes: requests %d, errors %v", res.Requests, res.ErrorKinds)
	}
}

func TestRunRefusedEndsOnTime(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	res, err := Run(context.Background(), Config{Network: "tcp", Address: addr, Pattern: PatternShort,
		Clients: 2, Duration: 100 * time.Millisecond, Payload: 64, Timeout: 5 * time.Second, ErrorPause: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 0 || res.ErrorKinds["refused"] == 0 {
		t.Fatalf("refused: %+v", res)
	}
}

func TestHoldOpensAnswersAndReports(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	echoListener(t, ln, false)
	conns, res := Hold(context.Background(), HoldConfig{Network: "tcp", Address: ln.Addr().String(),
		Conns: 50, Parallel: 4, Payload: 32, Timeout: 5 * time.Second})
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if res.Held != 50 || len(conns) != 50 || res.Failed != 0 || res.FDLimit {
		t.Fatalf("hold: %+v", res)
	}
	// Held connections are still served.
	want := make([]byte, 32)
	got := make([]byte, 32)
	fillPayload(want, 9, 9)
	if err := roundTrip(conns[49], 5*time.Second, want, got); err != nil {
		t.Fatal(err)
	}
}

func TestCommandHoldReleasesOnStdinEOF(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	echoListener(t, ln, false)
	var out, errs bytes.Buffer
	code := run1([]string{"-pattern", "hold", "-addr", ln.Addr().String(), "-conns", "10", "-json"},
		strings.NewReader(""), &out, &errs)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"held":10`) || !strings.Contains(lines[1], `"why":"stdin closed"`) {
		t.Fatalf("output: %q", out.String())
	}
}

func TestCommandRejectsBadFlags(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run1([]string{"-pattern", "datagram", "-network", "tcp", "-addr", "x:1"}, nil, &out, &errs); code != 2 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errs.String(), "needs network udp") {
		t.Fatalf("stderr: %q", errs.String())
	}
}

// A Unix listener whose backlog is full refuses a non-blocking connect with
// EAGAIN; dialRetrying waits for room as a blocking connect does.
func TestDialRetryingWaitsForUnixBacklog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "full.sock")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil { // room for one pending connection
		t.Fatal(err)
	}
	d := &net.Dialer{}
	var pending []net.Conn
	defer func() {
		for _, c := range pending {
			c.Close()
		}
	}()
	// Fill the backlog: connects succeed until one is refused.
	for i := 0; i < 10; i++ {
		c, retries, err := dialRetrying(context.Background(), d, "unix", path, 20*time.Millisecond)
		if err != nil {
			if !errors.Is(err, syscall.EAGAIN) || retries == 0 {
				t.Fatalf("full backlog: err %v after %d retries", err, retries)
			}
			break
		}
		pending = append(pending, c)
		if i == 9 {
			t.Fatal("the backlog never filled")
		}
	}
	// Accepting makes room: a retrying dial then succeeds.
	go func() {
		time.Sleep(30 * time.Millisecond)
		if nfd, _, err := syscall.Accept(fd); err == nil {
			syscall.Close(nfd)
		}
	}()
	c, retries, err := dialRetrying(context.Background(), d, "unix", path, 5*time.Second)
	if err != nil {
		t.Fatalf("after accept: %v", err)
	}
	pending = append(pending, c)
	if retries == 0 {
		t.Fatal("the dial was not refused first")
	}
}

func TestHoldGivesUpOnASilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer func() {
		ln.Close()
		<-done
	}()
	go func() { // accepts, never answers; closes everything when ln closes
		defer close(done)
		var accepted []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range accepted {
					c.Close()
				}
				return
			}
			accepted = append(accepted, c)
		}
	}()
	conns, res := Hold(context.Background(), HoldConfig{Network: "tcp", Address: ln.Addr().String(),
		Conns: 1000, Parallel: 2, Payload: 32, Timeout: 50 * time.Millisecond, MaxFailures: 100})
	for _, c := range conns {
		c.Close()
	}
	if !res.GaveUp || res.Held != 0 || res.Failed < 2 || res.Failed > 4 || res.ErrorKinds["timeout"] != int64(res.Failed) {
		t.Fatalf("silent server: %+v", res)
	}
}
