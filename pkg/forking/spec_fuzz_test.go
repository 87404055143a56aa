//go:build unix

package forking

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net"
	"testing"
)

// FuzzChildSpec: the description a re-executed child parses from its
// environment never panics; a valid one round-trips, packet included (D4:
// the datagram's bytes reach the child unchanged).
func FuzzChildSpec(f *testing.F) {
	f.Add(`{"name":"echo","datagram":true,"family":2,"sotype":2,"server_network":"udp","server_address":"127.0.0.1:5","client_network":"udp","client_address":"127.0.0.1:6","packet":"aGk="}`, []byte("hi"))
	f.Add(`{"name":"x"}`, []byte{})
	f.Add(`{}`, []byte{0, 1, 2})
	f.Add(`not json`, []byte(nil))
	f.Fuzz(func(t *testing.T, raw string, packet []byte) {
		if spec, _, err := decodeSpec(raw); err == nil {
			parseAddr(spec.ServerNetwork, spec.ServerAddress)
			parseAddr(spec.ClientNetwork, spec.ClientAddress)
		}
		in := childSpec{Name: "n", Datagram: true, Packet: base64.StdEncoding.EncodeToString(packet),
			ClientNetwork: "udp", ClientAddress: "127.0.0.1:7"}
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		out, data, err := decodeSpec(string(b))
		if err != nil || out != in || !bytes.Equal(data, packet) {
			t.Fatalf("round trip: %+v %q %v", out, data, err)
		}
		if a, ok := parseAddr(out.ClientNetwork, out.ClientAddress).(*net.UDPAddr); !ok || a.Port != 7 {
			t.Fatal("client address lost")
		}
	})
}
