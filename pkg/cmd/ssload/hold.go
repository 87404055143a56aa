//go:build unix

package main

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// HoldConfig describes a run that opens many connections, answers one line
// on each and keeps them open (idle) while the server's memory is read.
type HoldConfig struct {
	Network string // "tcp" or "unix"
	Address string
	Conns   int // connections to open
	// Parallel is how many connections are being opened at once.
	Parallel int
	Payload  int
	Timeout  time.Duration // limit of every dial, write and read
	// MaxFailures stops the opening after this many failed connections
	// (0: no limit); it also stops when the first Parallel all failed.
	MaxFailures int
}

// HoldResult is the outcome of opening the connections.
type HoldResult struct {
	Network    string           `json:"network"`
	Address    string           `json:"address"`
	Wanted     int              `json:"wanted"`
	Held       int              `json:"held"`
	Failed     int              `json:"failed"`
	ErrorKinds map[string]int64 `json:"error_kinds"`
	FirstError string           `json:"first_error,omitempty"`
	// FDLimit is true when opening stopped at the descriptor limit;
	// GaveUp when it stopped at MaxFailures.
	FDLimit     bool    `json:"fd_limit_reached"`
	GaveUp      bool    `json:"gave_up"`
	OpenSeconds float64 `json:"open_seconds"`
	// BacklogRetries counts Unix connects refused with EAGAIN and retried.
	BacklogRetries int64 `json:"backlog_full_retries"`
}

// Hold opens up to cfg.Conns connections, sends one line on each and
// verifies its echo; it returns the open connections (which the caller must
// close) and a report. Opening stops early at the descriptor limit or when
// ctx ends; every dial, write and read has cfg.Timeout.
func Hold(ctx context.Context, cfg HoldConfig) ([]net.Conn, HoldResult) {
	res := HoldResult{Network: cfg.Network, Address: cfg.Address, Wanted: cfg.Conns, ErrorKinds: map[string]int64{}}
	started := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next    atomic.Int64
		mu      sync.Mutex
		held    []net.Conn
		wg      sync.WaitGroup
		fdLimit atomic.Bool
	)
	dialer := net.Dialer{Timeout: cfg.Timeout}
	parallel := min(max(cfg.Parallel, 1), max(cfg.Conns, 1))
	for p := range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := make([]byte, cfg.Payload)
			got := make([]byte, cfg.Payload)
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(cfg.Conns) {
					return
				}
				fillPayload(want, p, uint64(i))
				c, retries, err := dialRetrying(ctx, &dialer, cfg.Network, cfg.Address, cfg.Timeout)
				if err == nil {
					if err = roundTrip(c, cfg.Timeout, want, got); err != nil {
						c.Close()
					}
				}
				if err != nil && ctx.Err() != nil {
					return // cut short by the end of the opening, not the server
				}
				mu.Lock()
				res.BacklogRetries += int64(retries)
				if err != nil {
					res.Failed++
					res.ErrorKinds[errorKind(err)]++
					if res.FirstError == "" {
						res.FirstError = err.Error()
					}
				} else {
					held = append(held, c)
				}
				// Give up at MaxFailures, or at once when a whole first wave
				// failed: a server that does not answer would cost a timeout
				// per wanted connection.
				gaveUp := (cfg.MaxFailures > 0 && res.Failed >= cfg.MaxFailures) ||
					(len(held) == 0 && res.Failed >= parallel)
				if gaveUp {
					res.GaveUp = true
				}
				mu.Unlock()
				if gaveUp {
					cancel()
				}
				if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
					fdLimit.Store(true)
					cancel()
				}
			}
		}()
	}
	wg.Wait()
	res.Held = len(held)
	res.FDLimit = fdLimit.Load()
	res.OpenSeconds = time.Since(started).Seconds()
	return held, res
}
