package server

import (
	"net"
	"net/netip"
	"regexp"
	"testing"
)

// FuzzResolveAddress: parsing "host:port" never panics, and a parsed IP
// address survives the trip to a raw sockaddr and back (C7: the
// server_address that getsockname returns).
func FuzzResolveAddress(f *testing.F) {
	for _, s := range []string{"127.0.0.1:0", "[::1]:8080", ":80", "0.0.0.0:65535", "127.0.0.1:-1",
		"127.0.0.1:65536", "[fe80::1%1]:5", "[::ffff:127.0.0.1]:7", "1.2.3.4", "::1:2", "[::1]:x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		host, _, err := net.SplitHostPort(s)
		if err == nil && host != "" {
			if _, err := netip.ParseAddr(host); err != nil {
				return // a host name would need a resolver
			}
		}
		for _, network := range []string{"tcp", "udp"} {
			addr, family, err := ResolveAddress(network, s)
			if err != nil {
				continue
			}
			sa, err := toSockaddr(family, addr)
			var port int
			var ip net.IP
			switch a := addr.(type) {
			case *net.TCPAddr:
				port, ip = a.Port, a.IP
			case *net.UDPAddr:
				port, ip = a.Port, a.IP
			}
			if port < 0 || port > 65535 {
				if err != ErrPortRange {
					t.Fatalf("%q: port %d accepted (%v)", s, port, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%q: %v", s, err)
			}
			sotype := 1
			if network == "udp" {
				sotype = 2
			}
			back := fromSockaddr(sa, sotype)
			var bport int
			var bip net.IP
			switch a := back.(type) {
			case *net.TCPAddr:
				bport, bip = a.Port, a.IP
			case *net.UDPAddr:
				bport, bip = a.Port, a.IP
			default:
				t.Fatalf("%q: back to %T", s, back)
			}
			if bport != port || !bip.Equal(ip) {
				t.Fatalf("%q: %v:%d became %v:%d", s, ip, port, bip, bport)
			}
			if !regexp.MustCompile(`^\('[0-9a-f:.]+', \d+(, 0, \d+)?\)$`).MatchString(FormatAddress(back)) {
				t.Fatalf("%q: format %q", s, FormatAddress(back))
			}
		}
	})
}
