//go:build unix

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// Patterns of load.
const (
	// PatternShort is one request per connection: connect, send one line,
	// read its echo, close.
	PatternShort = "short"
	// PatternKeepAlive is one persistent connection per client, used for
	// request/response round trips until the end of the run.
	PatternKeepAlive = "keepalive"
	// PatternDatagram is one datagram socket per client sending one line
	// per datagram and waiting for its echo.
	PatternDatagram = "datagram"
)

// Config describes one load run.
type Config struct {
	Network  string        // "tcp", "unix" or "udp"
	Address  string        // host:port, or a socket path for "unix"
	Pattern  string        // PatternShort, PatternKeepAlive or PatternDatagram
	Clients  int           // concurrent clients, each with one request in flight
	Duration time.Duration // measured time
	Warmup   time.Duration // load before the measured time, not counted
	Payload  int           // bytes per request, newline included
	Timeout  time.Duration // limit of every dial, write and read
	// ErrorPause is how long a client waits after an error before its next
	// request, so that a refusing server is not spun on.
	ErrorPause time.Duration
}

// Validate reports a configuration that cannot run.
func (c *Config) Validate() error {
	switch c.Pattern {
	case PatternShort, PatternKeepAlive:
		if c.Network != "tcp" && c.Network != "unix" {
			return fmt.Errorf("pattern %q needs network tcp or unix, not %q", c.Pattern, c.Network)
		}
	case PatternDatagram:
		if c.Network != "udp" {
			return fmt.Errorf("pattern %q needs network udp, not %q", c.Pattern, c.Network)
		}
	default:
		return fmt.Errorf("unknown pattern %q (short, keepalive, datagram)", c.Pattern)
	}
	switch {
	case c.Address == "":
		return errors.New("no address")
	case c.Clients < 1:
		return fmt.Errorf("clients must be at least 1, not %d", c.Clients)
	case c.Duration <= 0:
		return fmt.Errorf("duration must be positive, not %v", c.Duration)
	case c.Warmup < 0:
		return fmt.Errorf("warmup must not be negative, not %v", c.Warmup)
	case c.Payload < MinPayload || c.Payload > 60000:
		return fmt.Errorf("payload must be %d..60000 bytes, not %d", MinPayload, c.Payload)
	case c.Timeout <= 0:
		return fmt.Errorf("timeout must be positive, not %v", c.Timeout)
	}
	return nil
}

// Result is what a run measured.
type Result struct {
	Network  string  `json:"network"`
	Address  string  `json:"address"`
	Pattern  string  `json:"pattern"`
	Clients  int     `json:"clients"`
	Payload  int     `json:"payload_bytes"`
	Seconds  float64 `json:"seconds"`
	Warmup   float64 `json:"warmup_seconds"`
	Requests int64   `json:"requests"`
	RPS      float64 `json:"rps"`
	Summary
	// BytesVerified counts the echoed bytes compared with the request in
	// the measured time (every byte of every counted request).
	BytesVerified int64 `json:"bytes_verified"`
	// Errors counts failed requests over the whole run, warm-up included;
	// ErrorKinds breaks them down and FirstError quotes the first one.
	Errors     int64            `json:"errors"`
	ErrorKinds map[string]int64 `json:"error_kinds"`
	FirstError string           `json:"first_error,omitempty"`
	// Stale counts late datagram echoes of requests that had timed out,
	// recognised by their header and discarded.
	Stale int64 `json:"stale_datagrams"`
	// BacklogRetries counts Unix connects refused because the server's
	// listen backlog was full, retried as a blocking connect would wait.
	BacklogRetries int64 `json:"backlog_full_retries"`
}

// workerStats is one client's share of a Result.
type workerStats struct {
	lat        []time.Duration
	requests   int64
	bytes      int64
	errors     map[string]int64
	firstError error
	stale      int64
	// backlogRetries counts connects refused with EAGAIN and retried.
	backlogRetries int64
}

func (w *workerStats) fail(err error) {
	if w.errors == nil {
		w.errors = map[string]int64{}
	}
	w.errors[errorKind(err)]++
	if w.firstError == nil {
		w.firstError = err
	}
}

// errorKind names the class of a request's error for the report.
func errorKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, ErrMismatch):
		return "mismatch"
	case errors.Is(err, ErrShortEcho), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "fd_limit"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no_port"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "other"
}

// run is one load run in progress.
type run struct {
	cfg          Config
	measureStart time.Time
	end          time.Time
	dialer       net.Dialer
}

// Run drives the server for cfg.Warmup + cfg.Duration and returns what it
// measured. Every operation has a deadline, so Run returns at most
// cfg.Timeout after the end of the run (ctx can end it earlier).
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	start := time.Now()
	r := &run{
		cfg:          cfg,
		measureStart: start.Add(cfg.Warmup),
		end:          start.Add(cfg.Warmup + cfg.Duration),
		dialer:       net.Dialer{Timeout: cfg.Timeout},
	}
	ctx, cancel := context.WithDeadline(ctx, r.end)
	defer cancel()
	stats := make([]workerStats, cfg.Clients)
	var wg sync.WaitGroup
	for i := range stats {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r.worker(ctx, i, &stats[i])
		}(i)
	}
	wg.Wait()
	measured := r.end.Sub(r.measureStart)
	if now := time.Now(); now.Before(r.end) { // ended early by ctx
		measured = max(now.Sub(r.measureStart), 0)
	}
	return r.result(stats, measured), nil
}

func (r *run) result(stats []workerStats, measured time.Duration) Result {
	res := Result{
		Network:    r.cfg.Network,
		Address:    r.cfg.Address,
		Pattern:    r.cfg.Pattern,
		Clients:    r.cfg.Clients,
		Payload:    r.cfg.Payload,
		Seconds:    measured.Seconds(),
		Warmup:     r.cfg.Warmup.Seconds(),
		ErrorKinds: map[string]int64{},
	}
	lat := make([][]time.Duration, len(stats))
	for i := range stats {
		s := &stats[i]
		lat[i] = s.lat
		res.Requests += s.requests
		res.BytesVerified += s.bytes
		res.Stale += s.stale
		res.BacklogRetries += s.backlogRetries
		for k, n := range s.errors {
			res.ErrorKinds[k] += n
			res.Errors += n
		}
		if s.firstError != nil && res.FirstError == "" {
			res.FirstError = s.firstError.Error()
		}
	}
	if measured > 0 {
		res.RPS = float64(res.Requests) / measured.Seconds()
	}
	res.Summary = summarize(lat)
	return res
}

// worker is one client: it sends requests one after another until the end.
func (r *run) worker(ctx context.Context, id int, st *workerStats) {
	want := make([]byte, r.cfg.Payload)
	got := make([]byte, max(r.cfg.Payload, 65536))
	var conn net.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for seq := uint64(0); ctx.Err() == nil; seq++ {
		fillPayload(want, id, seq)
		began := time.Now()
		if !began.Before(r.end) {
			return
		}
		var err error
		switch r.cfg.Pattern {
		case PatternShort:
			err = r.short(ctx, want, got, st)
		case PatternKeepAlive:
			conn, err = r.keepAlive(ctx, conn, want, got, st)
		case PatternDatagram:
			conn, err = r.datagram(ctx, conn, id, seq, want, got, st)
		}
		done := time.Now()
		if err != nil {
			var de *dialError
			if errors.As(err, &de) && (ctx.Err() != nil || !done.Before(r.end)) {
				return // a dial cut short by the end of the run
			}
			st.fail(err)
			if conn != nil && r.cfg.Pattern != PatternDatagram {
				conn.Close()
				conn = nil
			}
			pause(ctx, r.cfg.ErrorPause)
			continue
		}
		if !began.Before(r.measureStart) && done.Before(r.end) {
			st.requests++
			st.bytes += int64(len(want))
			st.lat = append(st.lat, done.Sub(began))
		}
	}
}

func pause(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// dialError marks an error of dialling, which the end of the run (ctx)
// can cut short; that one is not the server's failure.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// dial connects to the server within ctx and cfg.Timeout.
func (r *run) dial(ctx context.Context, network string, st *workerStats) (net.Conn, error) {
	c, retries, err := dialRetrying(ctx, &r.dialer, network, r.cfg.Address, r.cfg.Timeout)
	st.backlogRetries += int64(retries)
	if err != nil {
		return nil, &dialError{err}
	}
	return c, nil
}

// dialRetrying dials like a blocking connect(2). A Unix stream socket whose
// listen backlog is full refuses a non-blocking connect with EAGAIN (where
// TCP drops the SYN and the kernel retries it), and Go always connects
// non-blocking; a blocking connect would sleep until the backlog has room,
// so EAGAIN is retried until timeout. retries counts the refused attempts.
func dialRetrying(ctx context.Context, d *net.Dialer, network, address string, timeout time.Duration) (net.Conn, int, error) {
	deadline := time.Now().Add(timeout)
	wait := 50 * time.Microsecond
	for retries := 0; ; retries++ {
		c, err := d.DialContext(ctx, network, address)
		if err == nil || !errors.Is(err, syscall.EAGAIN) || !time.Now().Add(wait).Before(deadline) {
			return c, retries, err
		}
		pause(ctx, wait)
		wait = min(2*wait, 2*time.Millisecond)
	}
}

// roundTrip sends want on c and reads and verifies its echo into got.
func roundTrip(c net.Conn, timeout time.Duration, want, got []byte) error {
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if _, err := c.Write(want); err != nil {
		return err
	}
	n, err := io.ReadFull(c, got[:len(want)])
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: %d of %d bytes before EOF", ErrShortEcho, n, len(want))
		}
		return err
	}
	return verifyEcho(got[:n], want)
}

// short is one request on a new connection.
func (r *run) short(ctx context.Context, want, got []byte, st *workerStats) error {
	c, err := r.dial(ctx, r.cfg.Network, st)
	if err != nil {
		return err
	}
	err = roundTrip(c, r.cfg.Timeout, want, got)
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	return err
}

// keepAlive is one request on the client's persistent connection, dialled
// first if there is none (after an error).
func (r *run) keepAlive(ctx context.Context, c net.Conn, want, got []byte, st *workerStats) (net.Conn, error) {
	if c == nil {
		var err error
		if c, err = r.dial(ctx, r.cfg.Network, st); err != nil {
			return nil, err
		}
	}
	return c, roundTrip(c, r.cfg.Timeout, want, got)
}

// datagram is one request datagram and its echo. A late echo of an earlier
// request of this client (one that timed out) is recognised by its header
// and skipped; anything else that is not the exact echo is a mismatch.
func (r *run) datagram(ctx context.Context, c net.Conn, id int, seq uint64, want, got []byte, st *workerStats) (net.Conn, error) {
	if c == nil {
		var err error
		if c, err = r.dial(ctx, "udp", st); err != nil {
			return nil, err
		}
	}
	if err := c.SetDeadline(time.Now().Add(r.cfg.Timeout)); err != nil {
		return c, err
	}
	if _, err := c.Write(want); err != nil {
		return c, err
	}
	for {
		n, err := c.Read(got)
		if err != nil {
			return c, err
		}
		if w, s, ok := payloadSeq(got[:n]); ok && w == id && s < seq&0xffffffffffff {
			st.stale++
			continue
		}
		return c, verifyEcho(got[:n], want)
	}
}
