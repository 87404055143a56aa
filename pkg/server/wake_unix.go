//go:build unix

package server

import (
	"os"

	"golang.org/x/sys/unix"
)

// waker is a non-blocking, close-on-exec pipe polled with the server's
// descriptor; wake writes a byte to it.
type waker struct {
	r, w   *os.File
	rd, wr int
}

func newWaker() (*waker, error) {
	r, w, err := os.Pipe() // close-on-exec on every Unix
	if err != nil {
		return nil, &osError{op: "pipe", err: err}
	}
	k := &waker{r: r, w: w}
	for _, p := range []struct {
		f  *os.File
		fd *int
	}{{r, &k.rd}, {w, &k.wr}} {
		rc, err := p.f.SyscallConn()
		if err == nil {
			err = rc.Control(func(fd uintptr) { *p.fd = int(fd) })
		}
		if err == nil {
			err = unix.SetNonblock(*p.fd, true)
		}
		if err != nil {
			r.Close()
			w.Close()
			return nil, &osError{op: "pipe", err: err}
		}
	}
	return k, nil
}

func (k *waker) wake() {
	_, _ = unix.Write(k.wr, []byte{0}) // EAGAIN: a wake is already pending
}

func (k *waker) close() error {
	err := k.r.Close()
	if werr := k.w.Close(); err == nil {
		err = werr
	}
	return err
}

// wait polls fd and the pipe for one slice (None: no limit). A wake, EINTR
// or the end of the slice return false; a wake is drained.
func (k *waker) wait(fd int, slice Timeout) (bool, error) {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(k.rd), Events: unix.POLLIN}}
	ms := -1
	if d, set := slice.Duration(); set {
		ms = pollMillis(d)
	}
	if ms != 0 {
		kickNetpoller()
	}
	_, err := unix.Poll(fds, ms)
	if err == unix.EINTR {
		return false, nil
	}
	if err != nil {
		return false, &osError{op: "poll", err: err}
	}
	if fds[1].Revents != 0 {
		var b [64]byte
		for {
			if n, _ := unix.Read(k.rd, b[:]); n < len(b) {
				break
			}
		}
	}
	return fds[0].Revents != 0, nil
}
