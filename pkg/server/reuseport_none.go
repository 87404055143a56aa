//go:build solaris || windows

package server

// Winsock, Solaris and illumos have no SO_REUSEPORT, so, as in CPython
// (hasattr(socket, "SO_REUSEPORT") is false there), TCPServer.AllowReusePort
// sets nothing.
const (
	haveReusePort = false
	soREUSEPORT   = 0 // never used
)
