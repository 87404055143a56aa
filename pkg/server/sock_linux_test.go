//go:build linux

package server

import (
	"net"
	"reflect"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// unsafePointer is unsafe.Pointer of p.
func unsafePointer[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }

// The Linux receive gives the sender exactly as fromSockaddr does for
// x/sys's Recvfrom, and rawInet4 converts exactly what toSockaddr
// converts to a SockaddrInet4 (leaving the rest to it).
func TestLinuxAddressConversions(t *testing.T) {
	for _, sotype := range []int{unix.SOCK_DGRAM, unix.SOCK_STREAM} {
		var rsa unix.RawSockaddrAny
		pp := (*unix.RawSockaddrInet4)(unsafePointer(&rsa))
		pp.Family = unix.AF_INET
		pp.Addr = [4]byte{127, 0, 0, 9}
		pb := (*[2]byte)(unsafePointer(&pp.Port))
		pb[0], pb[1] = 0xbe, 0xef
		want := fromSockaddr(rawToSockaddr(&rsa), sotype)
		got := addrFromRaw(&rsa, sotype)
		if !reflect.DeepEqual(got, want) || got.String() != "127.0.0.9:48879" {
			t.Errorf("sotype %d: got %#v, want %#v", sotype, got, want)
		}
	}
	for _, a := range []net.Addr{
		&net.UDPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 53},
		&net.UDPAddr{IP: net.IP{10, 1, 2, 3}, Port: 65535},
		&net.UDPAddr{Port: 7},
		&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80},
	} {
		raw, ok := rawInet4(unix.AF_INET, a)
		sa, err := toSockaddr(unix.AF_INET, a)
		if !ok || err != nil {
			t.Fatalf("%v: ok %v, toSockaddr %v", a, ok, err)
		}
		s4 := sa.(*unix.SockaddrInet4)
		pb := (*[2]byte)(unsafePointer(&raw.Port))
		if raw.Family != unix.AF_INET || raw.Addr != s4.Addr || int(pb[0])<<8|int(pb[1]) != s4.Port {
			t.Errorf("%v: raw %+v, toSockaddr %+v", a, raw, s4)
		}
	}
	for _, c := range []struct {
		family int
		addr   net.Addr
	}{
		{unix.AF_INET, &net.UDPAddr{IP: net.ParseIP("::1"), Port: 1}},
		{unix.AF_INET, &net.UDPAddr{IP: net.IPv4(1, 2, 3, 4), Port: 70000}},
		{unix.AF_INET, &net.UDPAddr{IP: net.IPv4(1, 2, 3, 4), Port: -1}},
		{unix.AF_INET6, &net.UDPAddr{IP: net.IPv4(1, 2, 3, 4), Port: 1}},
		{unix.AF_INET, &net.UnixAddr{Name: "x", Net: "unixgram"}},
		{unix.AF_INET, nil},
	} {
		if _, ok := rawInet4(c.family, c.addr); ok {
			t.Errorf("family %d, %v: converted on the fast path", c.family, c.addr)
		}
	}
}
