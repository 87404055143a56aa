// Package handler ports CPython 3.14's request handler classes:
// BaseRequestHandler, StreamRequestHandler (with _SocketWriter) and
// DatagramRequestHandler.
//
// A Python handler class is instantiated per request and does all its work
// in __init__ (setup, handle, finish). In Go a handler is a type that embeds
// one of the handler structs and overrides Handle (and optionally Setup and
// Finish, calling the embedded method as super()); Class (or For) turns a
// constructor of such values into the server.Handler a server calls per
// request, and Run is the setup/handle/finish template:
//
//	type Echo struct{ handler.StreamRequestHandler }
//
//	func (h *Echo) Handle() error {
//		line, err := h.Rfile.ReadBytes('\n')
//		if err != nil && err != io.EOF {
//			return err
//		}
//		_, err = h.Wfile.Write(line)
//		return err
//	}
//
//	srv, err := server.NewTCPServer("127.0.0.1:0", handler.For[Echo]())
//
// Symbols:
//
//	Go                                   CPython (Lib/socketserver.py)
//	RequestHandler (interface)           setup/handle/finish of a handler class
//	BaseRequestHandler                   BaseRequestHandler
//	Run                                  BaseRequestHandler.__init__
//	Class, For                           passing RequestHandlerClass
//	StreamRequestHandler                 StreamRequestHandler
//	  .RBufSize, .WBufSize               rbufsize, wbufsize
//	  .Timeout, .DisableNagleAlgorithm   timeout, disable_nagle_algorithm
//	  .Connection, .Rfile, .Wfile        connection, rfile, wfile
//	SocketWriter                         _SocketWriter
//	DatagramRequestHandler               DatagramRequestHandler
//	  .Packet, .Socket, .Rfile, .Wfile   packet, socket, rfile, wfile
package handler
