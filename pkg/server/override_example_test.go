package server_test

import (
	"fmt"
	"log"
	"net"
	"strings"
	"time"

	"github.com/gopy-socketserver/socketserver/pkg/handler"
	"github.com/gopy-socketserver/socketserver/pkg/internal/servertest"
	"github.com/gopy-socketserver/socketserver/pkg/server"
)

// allowList is a TCPServer "subclass": it overrides VerifyRequest and
// ProcessRequest and calls the overridden methods as super().
type allowList struct {
	server.TCPServer
	log []string
}

func (s *allowList) VerifyRequest(req server.Request, addr net.Addr) (bool, error) {
	s.log = append(s.log, "verify_request")
	if !strings.HasPrefix(addr.String(), "127.") {
		return false, nil
	}
	return s.TCPServer.VerifyRequest(req, addr) // super()
}

func (s *allowList) ProcessRequest(req server.Request, addr net.Addr) error {
	s.log = append(s.log, "process_request")
	return s.TCPServer.ProcessRequest(req, addr) // super()
}

// Example_overrideWithSuper shows most-derived dispatch: the loop calls the
// outermost type's hooks, the value given to Init.
func Example_overrideWithSuper() {
	s := &allowList{}
	addr, _, err := server.ResolveAddress("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	// Init takes the outermost value first: the loop calls its hooks.
	if err := s.Init(s, addr, handler.For[lineEcho](), true); err != nil {
		log.Fatal(err)
	}
	defer s.ServerClose()
	asked := make(chan struct{})
	go func() { servertest.Ask("tcp", s.ServerAddress, "hi\n"); close(asked) }()
	s.Timeout = server.After(10 * time.Second)
	if err := s.HandleRequest(); err != nil {
		log.Fatal(err)
	}
	<-asked
	fmt.Println(s.log)
	// Output:
	// hi
	// [verify_request process_request]
}
