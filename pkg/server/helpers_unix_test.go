//go:build unix

package server_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gopy-socketserver/socketserver/pkg/internal/servertest"
)

func sockPath(t *testing.T, name string) string {
	t.Helper()
	d, err := os.MkdirTemp("", "ss")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return filepath.Join(d, name)
}

// countFDs counts this process's open descriptors.
func countFDs(t *testing.T) int { t.Helper(); return servertest.CountFDs(t) }
