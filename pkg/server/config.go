package server

import (
	"time"
)

// Configurer is implemented by an outermost value whose configuration lives
// elsewhere, typically an embedder's adapter for a Python server object,
// whose class attributes a program may change at run time. CPython reads
// those attributes at each use (self.timeout in handle_request,
// self.request_queue_size in server_activate, self.daemon_threads in
// process_request...), and so do the packages here: at each use they ask
// the outermost value's Setting first and fall back to the field only when
// it answers false (or the value is not one Setting may return for that
// name).
//
// The names are CPython's attribute names, and each is read where CPython
// reads it:
//
//	name                   type     read by                                 field (fallback)
//	"timeout"              Timeout  HandleRequest (B1)                      BaseServer.Timeout
//	"address_family"       int      Init (the socket, C1), ServerBind (C5)  TCPServer.AddressFamily
//	"socket_type"          int      Init (the socket, C2)                   TCPServer.SocketType
//	"request_queue_size"   int      TCPServer.ServerActivate (C3, C8)       TCPServer.RequestQueueSize
//	"allow_reuse_address"  bool     TCPServer.ServerBind (C4)               TCPServer.AllowReuseAddress
//	"allow_reuse_port"     bool     TCPServer.ServerBind (C5)               TCPServer.AllowReusePort
//	"max_packet_size"      int      UDPServer.GetRequest (D4)               UDPServer.MaxPacketSize
//	"daemon_threads"       bool     threading Mixin.ProcessRequest (G1)     threading Mixin.DaemonThreads
//	"block_on_close"       bool     threading Mixin.ProcessRequest (G2),    threading/forking Mixin.BlockOnClose
//	                                forking Mixin.ServerClose (E4)
//	"max_children"         int      forking CollectChildren (E3)            forking Mixin.MaxChildren
//
// A "timeout" may be given as a Timeout, nil (None), a float64 or int
// (seconds) or a time.Duration. Setting is called on the goroutine that
// makes the use (the loop's, a worker's), possibly concurrently, and must
// not block.
//
// CPython: Lib/socketserver.py:201 BaseServer.timeout (class attributes read through self)
type Configurer interface {
	Setting(name string) (value any, ok bool)
}

// setting asks self's Configurer for name.
func setting(self any, name string) (any, bool) {
	c, ok := self.(Configurer)
	if !ok {
		return nil, false
	}
	return c.Setting(name)
}

// SettingBool returns the bool setting name of the outermost value self
// (see Configurer), or field when self does not provide it.
//
// CPython: Lib/socketserver.py:201 BaseServer.timeout (class attributes read through self)
func SettingBool(self any, name string, field bool) bool {
	if v, ok := setting(self, name); ok {
		if b, ok := v.(bool); ok {
			return b
		}
	}
	return field
}

// SettingInt returns the int setting name of the outermost value self
// (see Configurer), or field when self does not provide it.
//
// CPython: Lib/socketserver.py:201 BaseServer.timeout (class attributes read through self)
func SettingInt(self any, name string, field int) int {
	if v, ok := setting(self, name); ok {
		if n, ok := v.(int); ok {
			return n
		}
	}
	return field
}

// SettingTimeout returns the Timeout setting name of the outermost value
// self (see Configurer, which lists the accepted forms), or field when
// self does not provide it.
//
// CPython: Lib/socketserver.py:201 BaseServer.timeout
func SettingTimeout(self any, name string, field Timeout) Timeout {
	v, ok := setting(self, name)
	if !ok {
		return field
	}
	switch t := v.(type) {
	case Timeout:
		return t
	case nil:
		return None
	case float64:
		return Seconds(t)
	case int:
		return After(time.Duration(t) * time.Second)
	case time.Duration:
		return After(t)
	}
	return field
}
