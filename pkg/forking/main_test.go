//go:build unix

package forking_test

import (
	"os"
	"testing"

	"github.com/gopy-socketserver/socketserver/pkg/forking"
)

// TestMain runs re-executed children (forking.ReExec) before any test.
func TestMain(m *testing.M) {
	if os.Getenv(takeEnv) != "" && forking.IsChild() {
		os.Exit(takeChild())
	}
	forking.RunChild()
	// Children of a -race test binary would otherwise sleep 1 s at exit
	// (the race runtime's atexit_sleep_ms default), slowing every wait.
	if os.Getenv("GORACE") == "" {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	os.Exit(m.Run())
}
