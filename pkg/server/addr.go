package server

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// ResolveAddress resolves a Go-style address string for a server kind:
// "host:port" for the IP kinds (network "tcp" or "udp"), a path for the Unix
// kinds ("unix" or "unixgram"). It returns the address and the address
// family it needs (AF_INET6 for an IPv6 host, AF_INET otherwise, AF_UNIX).
// On Windows, where CPython has no AF_UNIX, the Unix kinds are a
// net.UnknownNetworkError.
//
// CPython: Lib/socketserver.py:450 TCPServer.__init__ (server_address)
func ResolveAddress(network, address string) (net.Addr, int, error) {
	switch network {
	case "tcp", "udp":
		host, portStr, err := net.SplitHostPort(address)
		if err != nil {
			return nil, 0, err
		}
		port, err := strconv.Atoi(portStr)
		if err != nil {
			return nil, 0, fmt.Errorf("socketserver: bad port %q", portStr)
		}
		var ip net.IP
		family := afINET
		if host != "" {
			if a, err := netip.ParseAddr(host); err == nil {
				ip = net.IP(a.Unmap().AsSlice())
				if a.Is6() && !a.Is4In6() {
					ip = net.IP(a.AsSlice())
					family = afINET6
				}
			} else {
				ips, err := net.DefaultResolver.LookupIP(context.Background(), "ip4", host)
				if err != nil || len(ips) == 0 {
					return nil, 0, fmt.Errorf("socketserver: cannot resolve %q: %w", host, err)
				}
				ip = ips[0]
			}
		} else {
			ip = net.IPv4zero
		}
		if network == "tcp" {
			return &net.TCPAddr{IP: ip, Port: port}, family, nil
		}
		return &net.UDPAddr{IP: ip, Port: port}, family, nil
	case "unix", "unixgram":
		return resolveUnix(network, address)
	}
	return nil, 0, net.UnknownNetworkError(network)
}

// toSockaddr converts a Go address to a raw sockaddr for family.
func toSockaddr(family int, addr net.Addr) (sockaddr, error) {
	var ip net.IP
	var port int
	var zone string
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip, port, zone = a.IP, a.Port, a.Zone
	case *net.UDPAddr:
		ip, port, zone = a.IP, a.Port, a.Zone
	case *net.UnixAddr:
		return unixSockaddr(family, a)
	case nil:
		return nil, fmt.Errorf("socketserver: nil address")
	default:
		return nil, fmt.Errorf("socketserver: unsupported address type %T", addr)
	}
	if port < 0 || port > 65535 {
		return nil, ErrPortRange
	}
	switch family {
	case afINET:
		sa := &sockaddrInet4{Port: port}
		if len(ip) != 0 {
			ip4 := ip.To4()
			if ip4 == nil {
				return nil, errNoFamily
			}
			copy(sa.Addr[:], ip4)
		}
		return sa, nil
	case afINET6:
		sa := &sockaddrInet6{Port: port}
		if len(ip) != 0 {
			copy(sa.Addr[:], ip.To16())
		}
		if zone != "" {
			if ifi, err := net.InterfaceByName(zone); err == nil {
				sa.ZoneId = uint32(ifi.Index)
			} else if n, err := strconv.Atoi(zone); err == nil {
				sa.ZoneId = uint32(n)
			}
		}
		return sa, nil
	}
	return nil, errNoFamily
}

// fromSockaddr converts a raw sockaddr to a Go address for a socket type.
func fromSockaddr(sa sockaddr, sotype int) net.Addr {
	switch a := sa.(type) {
	case *sockaddrInet4:
		ip := net.IPv4(a.Addr[0], a.Addr[1], a.Addr[2], a.Addr[3]).To4()
		if sotype == sockDGRAM {
			return &net.UDPAddr{IP: ip, Port: a.Port}
		}
		return &net.TCPAddr{IP: ip, Port: a.Port}
	case *sockaddrInet6:
		ip := make(net.IP, net.IPv6len)
		copy(ip, a.Addr[:])
		zone := ""
		if a.ZoneId != 0 {
			zone = strconv.Itoa(int(a.ZoneId))
		}
		if sotype == sockDGRAM {
			return &net.UDPAddr{IP: ip, Port: a.Port, Zone: zone}
		}
		return &net.TCPAddr{IP: ip, Port: a.Port, Zone: zone}
	}
	return fromUnixSockaddr(sa, sotype)
}

// FormatAddress renders a client address the way CPython's str() prints it
// in HandleError's banner (B16): ('127.0.0.1', 47832) for IPv4,
// ('::1', 47832, 0, 0) for IPv6, the path for a Unix address, None for nil.
// Other net.Addr types print their String().
//
// CPython: Lib/socketserver.py:372 BaseServer.handle_error
func FormatAddress(addr net.Addr) string {
	var ip net.IP
	var port int
	var zone string
	switch a := addr.(type) {
	case nil:
		return "None"
	case *net.TCPAddr:
		if a == nil {
			return "None"
		}
		ip, port, zone = a.IP, a.Port, a.Zone
	case *net.UDPAddr:
		if a == nil {
			return "None"
		}
		ip, port, zone = a.IP, a.Port, a.Zone
	case *net.UnixAddr:
		if a == nil {
			return "None"
		}
		return a.Name
	default:
		return addr.String()
	}
	if len(ip) == net.IPv4len {
		return fmt.Sprintf("('%s', %d)", ip, port)
	}
	if len(ip) == net.IPv6len {
		a := netip.AddrFrom16([16]byte(ip))
		scope := 0
		if zone != "" {
			scope, _ = strconv.Atoi(zone)
		}
		return fmt.Sprintf("('%s', %d, 0, %d)", a, port, scope)
	}
	return fmt.Sprintf("('%s', %d)", ip, port)
}
