//go:build unix

package main

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// MinPayload is the smallest payload: the 22-byte "wwwwwwww ssssssssssss "
// header that makes every request unique, one filler byte and the newline.
const MinPayload = 24

// headerLen is the length of the worker/sequence header of a payload.
const headerLen = 22

// ErrMismatch reports an echo that differs from what was sent.
var ErrMismatch = errors.New("ssload: echo differs from the request")

// ErrShortEcho reports an echo that ended before the whole request came back.
var ErrShortEcho = errors.New("ssload: echo shorter than the request")

// fillPayload writes the request of worker w with sequence number seq into
// buf: a hex header naming both, filler bytes that depend on both (so that a
// stale or misrouted echo never compares equal), and a final newline. buf
// must be at least MinPayload bytes long.
func fillPayload(buf []byte, w int, seq uint64) {
	if len(buf) < MinPayload {
		panic("ssload: payload buffer shorter than MinPayload")
	}
	putHex(buf[0:8], uint64(uint32(w)))
	buf[8] = ' '
	putHex(buf[9:21], seq&0xffffffffffff)
	buf[21] = ' '
	x := uint64(w)*0x9e3779b97f4a7c15 ^ seq*0xbf58476d1ce4e5b9
	for i := headerLen; i < len(buf)-1; i++ {
		// xorshift: cheap, deterministic, printable ('!'..'~', never '\n').
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		buf[i] = byte('!' + x%94)
	}
	buf[len(buf)-1] = '\n'
}

// putHex writes v as lower-case hex digits filling dst, zero-padded.
func putHex(dst []byte, v uint64) {
	const digits = "0123456789abcdef"
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = digits[v&0xf]
		v >>= 4
	}
}

// verifyEcho checks that got is exactly want, byte for byte.
func verifyEcho(got, want []byte) error {
	if len(got) < len(want) {
		return fmt.Errorf("%w: %d of %d bytes", ErrShortEcho, len(got), len(want))
	}
	if !bytes.Equal(got, want) {
		at := 0
		for at < len(want) && at < len(got) && got[at] == want[at] {
			at++
		}
		return fmt.Errorf("%w at byte %d (got %d bytes, want %d)", ErrMismatch, at, len(got), len(want))
	}
	return nil
}

// payloadSeq parses the worker and sequence number of a payload's header;
// ok is false when p does not start with a well-formed header.
func payloadSeq(p []byte) (w int, seq uint64, ok bool) {
	if len(p) < headerLen || p[8] != ' ' || p[21] != ' ' {
		return 0, 0, false
	}
	wv, err := strconv.ParseUint(string(p[:8]), 16, 32)
	if err != nil {
		return 0, 0, false
	}
	sv, err := strconv.ParseUint(string(p[9:21]), 16, 48)
	if err != nil {
		return 0, 0, false
	}
	return int(wv), sv, true
}
