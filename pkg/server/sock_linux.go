//go:build linux

package server

import (
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On Linux, golang.org/x/sys/unix's Recvfrom and Accept4 convert an
// AF_INET or AF_INET6 peer address only after a getsockopt(SO_PROTOCOL)
// call (to tell L2TP apart): one more system call per datagram received
// and per connection accepted. The two calls here make the one system call
// and convert the address as x/sys does for every other protocol.

// zeroByte is the buffer of an empty receive (a valid pointer).
var zeroByte byte

// socketCloexec creates a socket that is close-on-exec from the start
// (SOCK_CLOEXEC), so no exec can inherit it.
func socketCloexec(family, sotype int) (int, error) {
	return unix.Socket(family, sotype|unix.SOCK_CLOEXEC, 0)
}

// acceptNonblock accepts a connection that is non-blocking and
// close-on-exec from the start, in one accept4(2) call.
func acceptNonblock(fd int) (int, unix.Sockaddr, error) {
	var from RawAddr
	nfd, err := accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, &from)
	if err != nil {
		return -1, nil, err
	}
	return nfd, rawToSockaddr(&from.Any), nil
}

// recvfrom is recvfrom(2) with flags, returning the sender as
// fromSockaddr does for x/sys's Recvfrom (nil for an unnamed sender); an
// IPv4 sender costs one allocation.
func recvfrom(fd int, p []byte, flags, sotype int) (int, net.Addr, error) {
	var from RawAddr
	n, err := recvfromRaw(fd, p, flags, &from)
	if err != nil {
		return 0, nil, err
	}
	return n, addrFromRaw(&from.Any, sotype), nil
}

// addrFromRaw is fromSockaddr(rawToSockaddr(rsa), sotype), with an IPv4
// address in one allocation.
func addrFromRaw(rsa *unix.RawSockaddrAny, sotype int) net.Addr {
	if rsa.Addr.Family != unix.AF_INET {
		return fromSockaddr(rawToSockaddr(rsa), sotype)
	}
	pp := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
	pb := (*[2]byte)(unsafe.Pointer(&pp.Port))
	port := int(pb[0])<<8 | int(pb[1])
	if sotype == sockDGRAM {
		a := &udp4Addr{ip: pp.Addr}
		a.UDPAddr = net.UDPAddr{IP: a.ip[:], Port: port}
		return &a.UDPAddr
	}
	a := &tcp4Addr{ip: pp.Addr}
	a.TCPAddr = net.TCPAddr{IP: a.ip[:], Port: port}
	return &a.TCPAddr
}

// udp4Addr and tcp4Addr are an IPv4 address and its 4-byte IP in one
// allocation.
type udp4Addr struct {
	net.UDPAddr
	ip [4]byte
}

type tcp4Addr struct {
	net.TCPAddr
	ip [4]byte
}

// rawInet4 converts an IPv4 *net.UDPAddr or *net.TCPAddr for an AF_INET
// socket as toSockaddr does, on the stack; ok false for anything else
// (toSockaddr then converts it, or reports its error).
func rawInet4(family int, addr net.Addr) (rsa unix.RawSockaddrInet4, ok bool) {
	var ip net.IP
	var port int
	switch a := addr.(type) {
	case *net.UDPAddr:
		ip, port = a.IP, a.Port
	case *net.TCPAddr:
		ip, port = a.IP, a.Port
	default:
		return rsa, false
	}
	if family != unix.AF_INET || port < 0 || port > 65535 {
		return rsa, false
	}
	if len(ip) != 0 {
		ip4 := ip.To4()
		if ip4 == nil {
			return rsa, false
		}
		copy(rsa.Addr[:], ip4)
	}
	rsa.Family = unix.AF_INET
	p := (*[2]byte)(unsafe.Pointer(&rsa.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	return rsa, true
}

// sendtoInet4 is sendto(2) of p to rsa.
func sendtoInet4(fd int, p []byte, rsa *unix.RawSockaddrInet4) error {
	base := unsafe.Pointer(&zeroByte)
	if len(p) > 0 {
		base = unsafe.Pointer(&p[0])
	}
	_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(base), uintptr(len(p)), 0,
		uintptr(unsafe.Pointer(rsa)), unix.SizeofSockaddrInet4)
	if e != 0 {
		return e
	}
	return nil
}

// rawToSockaddr converts the addresses a server socket sees (AF_INET,
// AF_INET6, AF_UNIX, with an abstract name's leading NUL shown as '@', as
// x/sys does); nil for AF_UNSPEC (an unnamed peer) or another family.
func rawToSockaddr(rsa *unix.RawSockaddrAny) unix.Sockaddr {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		pp := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&pp.Port))
		return &unix.SockaddrInet4{Port: int(p[0])<<8 + int(p[1]), Addr: pp.Addr}
	case unix.AF_INET6:
		pp := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&pp.Port))
		return &unix.SockaddrInet6{Port: int(p[0])<<8 + int(p[1]), ZoneId: pp.Scope_id, Addr: pp.Addr}
	case unix.AF_UNIX:
		pp := (*unix.RawSockaddrUnix)(unsafe.Pointer(rsa))
		if pp.Path[0] == 0 {
			pp.Path[0] = '@'
		}
		n := 0
		for n < len(pp.Path) && pp.Path[n] != 0 {
			n++
		}
		return &unix.SockaddrUnix{Name: string(unsafe.Slice((*byte)(unsafe.Pointer(&pp.Path[0])), n))}
	}
	return nil
}
