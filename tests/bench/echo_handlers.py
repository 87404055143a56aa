"""The request handlers every socketserver implementation serves in the benchmarks.

Plain user code, written against ``import socketserver`` as any program
would: the server scripts put the implementation under test in
``sys.modules['socketserver']`` (the stdlib's, pyref's, or the Go-backed
drop-in's) before importing this module, so the very same classes run
unchanged on each of them.
"""

import socketserver


class LineEcho(socketserver.StreamRequestHandler):
    """Echo each line of the connection until the client closes it.

    One handler serves every stream pattern: a short connection (one line,
    then EOF), a keep-alive client (a line per round trip) and an idle held
    connection (one line, then nothing until the client closes).
    """

    def handle(self) -> None:
        for line in self.rfile:
            self.wfile.write(line)


class DatagramEcho(socketserver.DatagramRequestHandler):
    """Echo the lines of a datagram (the reply is sent by finish())."""

    def handle(self) -> None:
        for line in self.rfile:
            self.wfile.write(line)
