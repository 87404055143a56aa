//go:build unix

package forking_test

import (
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/gopy-socketserver/socketserver/pkg/forking"
	"golang.org/x/sys/unix"
)

// Per-use configuration (issue 12, item 3): max_children and
// block_on_close are read through the outermost value at each use.

type configured struct {
	forking.TCPServer
	mu sync.Mutex
	m  map[string]any
}

func (s *configured) Setting(name string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[name]
	return v, ok
}

func (s *configured) set(name string, v any) {
	s.mu.Lock()
	s.m[name] = v
	s.mu.Unlock()
}

func TestSettingsReadAtEachUse_E3_E4(t *testing.T) {
	s := &configured{TCPServer: forking.TCPServer{Mixin: forking.NewMixin()}, m: map[string]any{}}
	if err := s.Init(s, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, echoH, true); err != nil {
		t.Fatal(err)
	}
	fw := &fakeWait{results: map[string][]any{}}
	s.Wait = fw.wait
	s.Fork = fakeFork(10, 11)
	for range 2 {
		s.ProcessRequest(nil, nil) // the pid is recorded; closing nil fails
	}
	// max_children 2 (the field says 40): phase 1 blocks in waitpid(-1).
	s.set("max_children", 2)
	fw.results["-1/0"] = []any{unix.ECHILD}
	if err := s.ServiceActions(); err != nil {
		t.Fatal(err)
	}
	if len(fw.calls) != 1 || fw.calls[0] != "-1/0" {
		t.Fatalf("max_children 2: waitpid calls %v, want [-1/0]", fw.calls)
	}
	// Two new children; max_children back to 40: no phase 1.
	s.Fork = fakeFork(12, 13)
	for range 2 {
		s.ProcessRequest(nil, nil)
	}
	s.set("max_children", 40)
	fw.calls = nil
	s.ServiceActions()
	for _, c := range fw.calls {
		if c == "-1/0" {
			t.Fatalf("max_children 40: waitpid calls %v", fw.calls)
		}
	}
	// block_on_close False (the field says true): server_close does not block.
	s.set("block_on_close", false)
	fw.calls = nil
	s.ServerClose()
	for _, c := range fw.calls {
		if c != fmt.Sprintf("12/%d", unix.WNOHANG) && c != fmt.Sprintf("13/%d", unix.WNOHANG) {
			t.Fatalf("block_on_close False: waitpid calls %v, want WNOHANG", fw.calls)
		}
	}
	if len(fw.calls) != 2 {
		t.Fatalf("block_on_close False: waitpid calls %v", fw.calls)
	}
	s.set("block_on_close", true)
	fw.calls = nil
	s.ServerClose()
	if len(fw.calls) != 2 || fw.calls[0][len(fw.calls[0])-2:] != "/0" {
		t.Fatalf("block_on_close True: waitpid calls %v, want blocking", fw.calls)
	}
}
