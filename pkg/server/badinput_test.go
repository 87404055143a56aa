//go:build unix

package server_test

import (
	"errors"
	"net"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// C6, C7: bad addresses give clear errors and leak no descriptor.
func TestBadAddresses_C6_C7(t *testing.T) {
	long := "/tmp/" + strings.Repeat("x", 200)
	cases := []struct {
		name string
		make func() error
		want error // nil: any error
	}{
		{"no port", func() error { _, err := server.NewTCPServer("127.0.0.1", echoLine); return err }, nil},
		{"bad port", func() error { _, err := server.NewTCPServer("127.0.0.1:http!", echoLine); return err }, nil},
		{"port too large", func() error { _, err := server.NewUDPServer("127.0.0.1:70000", echoLine); return err }, server.ErrPortRange},
		{"negative port", func() error { _, err := server.NewTCPServer("127.0.0.1:-5", echoLine); return err }, server.ErrPortRange},
		{"non-local address", func() error { _, err := server.NewTCPServer("192.0.2.1:0", echoLine); return err }, unix.EADDRNOTAVAIL},
		{"unix path too long", func() error { _, err := server.NewUnixStreamServer(long, echoLine); return err }, unix.EINVAL},
		{"unix dir missing", func() error {
			_, err := server.NewUnixDatagramServer("/nonexistent-dir/s", echoLine)
			return err
		}, unix.ENOENT},
		{"IPv6 address on an AF_INET server", func() error {
			s := &server.TCPServer{AddressFamily: unix.AF_INET}
			return s.Init(s, &net.TCPAddr{IP: net.IPv6loopback}, echoLine, true)
		}, unix.EAFNOSUPPORT},
		{"Unix address on an AF_INET server", func() error {
			s := &server.TCPServer{}
			return s.Init(s, &net.UnixAddr{Name: "x", Net: "unix"}, echoLine, true)
		}, unix.EAFNOSUPPORT},
		{"nil address", func() error {
			s := &server.TCPServer{}
			return s.Init(s, nil, echoLine, true)
		}, nil},
		{"bad family", func() error {
			s := &server.TCPServer{AddressFamily: 12345}
			return s.Init(s, &net.TCPAddr{}, echoLine, true)
		}, unix.EAFNOSUPPORT},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := countFDs(t)
			err := tc.make()
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if after := countFDs(t); after != before {
				t.Fatalf("descriptors %d -> %d", before, after)
			}
		})
	}
}

// D5: a datagram request whose client address cannot be replied to (an
// unbound Unix datagram client: CPython's None address) is routed to
// HandleError, and the server keeps serving.
func TestUnreplyableDatagram_D5_B8(t *testing.T) {
	var report strings.Builder
	path := sockPath(t, "d")
	s, err := server.NewUnixDatagramServer(path, echoLine)
	if err != nil {
		t.Fatal(err)
	}
	defer s.ServerClose()
	s.ErrorOutput = &report
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("anonymous"))
	if err := s.HandleRequest(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(report.String(), "Exception occurred during processing of request from None") {
		t.Fatalf("report %q", report.String())
	}
}
