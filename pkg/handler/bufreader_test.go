package handler

import (
	"bytes"
	"io"
	"math/rand"
	"testing"
)

// chunked returns its data in the given chunk sizes, then io.EOF.
type chunked struct {
	data   []byte
	chunks []int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(c.data)
	if len(c.chunks) > 0 {
		n = min(n, c.chunks[0])
		c.chunks = c.chunks[1:]
	}
	n = copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// readyChunked is chunked with ReadWhenReady, as native connections have.
type readyChunked struct{ chunked }

func (c *readyChunked) ReadWhenReady(take func() []byte, put func([]byte)) ([]byte, int, error) {
	b := take()
	n, err := c.Read(b)
	return b, n, err
}

// The buffered Rfile reads the stream exactly: for random data, chunking
// and sequences of Read, ReadByte and ReadBytes, every call returns the next
// bytes of the stream (Read at least one while any is left, never more
// than asked), and io.EOF at its end (I3).
func TestBufReaderReadsTheStreamExactly_I3(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 300; round++ {
		data := make([]byte, rng.Intn(40000))
		for i := range data {
			data[i] = "ab\n"[rng.Intn(3)]
		}
		var chunks []int
		for i := 0; i < 50; i++ {
			chunks = append(chunks, 1+rng.Intn(10000))
		}
		size := []int{16, 100, DefaultBufferSize}[rng.Intn(3)]
		var src io.Reader = &chunked{data: data, chunks: chunks}
		if round%2 == 1 {
			src = &readyChunked{chunked{data: data, chunks: chunks}}
		}
		r := newBufReader(src, size)
		pos := 0
		for step := 0; step < 400 && pos <= len(data); step++ {
			rest := data[pos:]
			var got, want []byte
			var err, wantErr error
			op := rng.Intn(3)
			switch op {
			case 0:
				p := make([]byte, rng.Intn(2*size)+1)
				n, e := r.Read(p)
				got, err = p[:n], e
				want = rest[:min(len(rest), max(n, 1), len(p))]
			case 1:
				c, e := r.ReadByte()
				if err = e; e == nil {
					got = []byte{c}
				}
				want = rest[:min(len(rest), 1)]
			case 2:
				got, err = r.ReadBytes('\n')
				want = rest
				if i := bytes.IndexByte(rest, '\n'); i >= 0 {
					want = rest[:i+1]
				}
			}
			// io.EOF only at the end: for nothing left, or a last line
			// without its newline.
			switch {
			case len(rest) == 0:
				wantErr = io.EOF
			case op == 2 && !bytes.HasSuffix(want, []byte("\n")):
				wantErr = io.EOF
			}
			if !bytes.Equal(got, want) || err != wantErr {
				t.Fatalf("round %d step %d at %d of %d: got %q %v, want %q %v",
					round, step, pos, len(data), got, err, want, wantErr)
			}
			pos += len(got)
			if len(rest) == 0 {
				break
			}
		}
	}
}

// A reader that keeps returning nothing is an error, not a hang.
func TestBufReaderNoProgress(t *testing.T) {
	r := newBufReader(readerFunc(func([]byte) (int, error) { return 0, nil }), 16)
	if _, err := r.ReadByte(); err != io.ErrNoProgress {
		t.Fatalf("ReadByte: %v, want io.ErrNoProgress", err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
