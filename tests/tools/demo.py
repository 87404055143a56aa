"""`make demo`: show each socketserver implementation serving real clients.

For every implementation (the interpreter's stdlib module as the baseline,
pyref, and the Go-backed module of pybind/), it starts servers on loopback
and drives them with real sockets: several concurrent clients on a threading
TCP line-echo server, a datagram on a UDP echo server, a Unix stream echo, a
handler error reaching handle_error, and a graceful shutdown.  Everything it
prints was observed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT = 5.0


def load(name: str) -> ModuleType:
    """Load an implementation as a module called `socketserver`."""
    if name == "stdlib":
        import socketserver

        return socketserver
    path = os.path.join(ROOT, name, "socketserver.py")
    spec = importlib.util.spec_from_file_location("socketserver", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def serving(server: Any) -> Iterator[Any]:
    """Run serve_forever in a thread; shut down and close on exit."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(TIMEOUT)
        server.server_close()


def tcp_echo(ss: ModuleType) -> None:
    class Echo(ss.StreamRequestHandler):
        def handle(self) -> None:
            for line in self.rfile:
                self.wfile.write(line.upper())

    server = ss.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    with serving(server):
        host, port = server.server_address
        print(f"  ThreadingTCPServer on {host}:{port}")
        replies: dict[int, list[bytes]] = {}

        def client(n: int) -> None:
            with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
                f = sock.makefile("rwb")
                got = []
                for i in range(3):
                    f.write(f"client {n} line {i}\n".encode())
                    f.flush()
                    got.append(f.readline().rstrip())
                replies[n] = got

        clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        started = time.perf_counter()
        for c in clients:
            c.start()
        for c in clients:
            c.join(TIMEOUT)
        elapsed = (time.perf_counter() - started) * 1000
        for n in sorted(replies):
            print(f"    client {n} got {[r.decode() for r in replies[n]]}")
        if len(replies) != 4 or any(len(v) != 3 for v in replies.values()):
            raise SystemExit(f"demo: echo replies missing: {replies}")
        print(f"    4 concurrent clients x 3 lines each, all echoed, in {elapsed:.1f} ms")


def udp_echo(ss: ModuleType) -> None:
    class Echo(ss.DatagramRequestHandler):
        def handle(self) -> None:
            self.wfile.write(self.rfile.read()[::-1])

    server = ss.UDPServer(("127.0.0.1", 0), Echo)
    with serving(server), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.sendto(b"datagram", server.server_address)
        data, _ = sock.recvfrom(1024)
        print(f"  UDPServer: sent b'datagram', got {data!r} (reversed by the handler)")


def unix_echo(ss: ModuleType) -> None:
    class Echo(ss.StreamRequestHandler):
        def handle(self) -> None:
            self.wfile.write(self.rfile.readline())

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "echo.sock")
        server = ss.UnixStreamServer(path, Echo)
        with serving(server), socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(TIMEOUT)
            sock.connect(path)
            sock.sendall(b"over a unix socket\n")
            print(f"  UnixStreamServer: echoed {sock.recv(1024)!r}")


def handler_error(ss: ModuleType) -> None:
    class Broken(ss.BaseRequestHandler):
        def handle(self) -> None:
            raise ValueError("the handler failed")

    captured = io.StringIO()
    server = ss.TCPServer(("127.0.0.1", 0), Broken)
    with serving(server):
        with contextlib.redirect_stderr(captured):
            with socket.create_connection(server.server_address, timeout=TIMEOUT) as sock:
                # handle_error runs before the server closes the connection.
                sock.recv(1)
    lines = captured.getvalue().splitlines()
    banner = next((line for line in lines if line.startswith("Exception occurred")), "")
    last = next((line for line in reversed(lines) if line.startswith("ValueError")), "")
    print(f"  handle_error printed: {banner!r}")
    print(f"                        {last!r}")


def graceful_shutdown(ss: ModuleType) -> None:
    server = ss.ThreadingTCPServer(("127.0.0.1", 0), ss.BaseRequestHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,))
    thread.start()
    started = time.perf_counter()
    server.shutdown()
    thread.join(TIMEOUT)
    server.server_close()
    took = (time.perf_counter() - started) * 1000
    state = "stopped" if not thread.is_alive() else "STILL RUNNING"
    print(
        f"  shutdown(): serve_forever {state} after {took:.1f} ms, "
        f"socket fd now {server.socket.fileno()}"
    )


def main() -> int:
    implementations = ["stdlib", "pyref", "pybind"]
    for name in implementations:
        ss = load(name)
        print(f"== {name}: {ss.__file__}")
        for step in (tcp_echo, udp_echo, unix_echo, handler_error, graceful_shutdown):
            step(ss)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
