//go:build unix

package threading_test

import (
	"path/filepath"
	"testing"

	"github.com/gopy-socketserver/socketserver/pkg/internal/servertest"
	"github.com/gopy-socketserver/socketserver/pkg/threading"
)

// H3, H7, H8: the other kinds serve.
func TestOtherKinds_H3_H7_H8(t *testing.T) {
	dir := t.TempDir()
	u, err := threading.NewUDPServer("127.0.0.1:0", echoLine)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, u)
	servertest.RoundTrip(t, "udp", u.ServerAddress.String(), "udp")

	us, err := threading.NewUnixStreamServer(filepath.Join(dir, "s"), echoLine)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, us)
	servertest.RoundTrip(t, "unix", filepath.Join(dir, "s"), "us\n")

	ud, err := threading.NewUnixDatagramServer(filepath.Join(dir, "d"), echoLine)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, ud)
	servertest.RoundTrip(t, "unixgram", filepath.Join(dir, "d"), "ud")
}
