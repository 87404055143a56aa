"""Descriptor exhaustion (issue 10, item 1): the server's process runs out of descriptors.

Cases:

* ``rlimit_threading``: RLIMIT_NOFILE lowered to 64 (soft and hard, as
  ``ulimit -n 64``), a ThreadingTCPServer, and 200 clients connecting at once
  from a separate process (``clients`` mode, which keeps its own limit).
  accept() fails with EMFILE while the handlers hold descriptors; CPython
  ignores it, keeps looping, and serves again once descriptors come back.
* ``fill_table``: a plain TCPServer whose process fills its whole descriptor
  table (pipes, then single descriptors, until EMFILE) while a client waits;
  once they are freed the waiting client is served.
* ``fill_table_udp``: 20 UDPServers with ``max_packet_size`` 16 MiB keep
  handling datagrams (which need no descriptor) while their process's table
  is full: 100 requests, each reading into a 16 MiB buffer, so memory is
  allocated and collected in that state (Go's collector then starts the
  scavenger's timer, whose first use creates the netpoller's epoll
  descriptor: EMFILE aborts the runtime).
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import _load  # tests/faults/_load.py

LIMIT = 64
CLIENTS = 200
REQUESTS_WHILE_FULL = 100
UDP_SERVERS = 20


def echo_handler(ss: Any, hold: float) -> type:
    class Echo(ss.BaseRequestHandler):  # type: ignore[misc]
        def handle(self) -> None:
            try:
                data = self.request.recv(1024)
                time.sleep(hold)
                self.request.sendall(b"echo " + data)
            except OSError:
                pass  # a client that gave up

    return Echo


def rlimit_threading(ss: Any) -> dict[str, Any]:
    server = ss.ThreadingTCPServer(("127.0.0.1", 0), echo_handler(ss, 0.2))
    server.daemon_threads = True
    host, port = server.server_address
    clients = subprocess.Popen(
        [sys.executable, __file__, "-", "clients", host, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        report, _ = clients.communicate("go\n", timeout=60)
    except subprocess.TimeoutExpired:
        clients.kill()
        report, _ = clients.communicate()
    served, failed = (int(n) for n in (report.split() or ["0", "0"])[:2])
    # Descriptors come back as the handlers finish: a new client is served.
    after = "nothing"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        after = _load.exchange(server.server_address, b"after\n", timeout=2)
        if after == "echo after\n":
            break
        time.sleep(0.1)
    stopped = _load.bounded(server.shutdown)
    thread.join(_load.STEP)
    closed = _load.bounded(server.server_close)
    return {
        "clients_exit": clients.returncode,
        "some_served": served > 0,
        "all_answered_or_failed": served + failed == CLIENTS,
        "after": after,
        "shutdown": stopped,
        "server_close": closed,
    }


def clients(host: str, port: str) -> None:
    """200 clients at once, each with a timeout; prints ``served failed``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * CLIENTS)), hard))
    sys.stdin.readline()
    results: list[bool] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        reply = _load.exchange((host, int(port)), b"%d\n" % n, timeout=3)
        with lock:
            results.append(reply == f"echo {n}\n")

    threads = [threading.Thread(target=one, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    served = sum(results)
    print(served, len(results) - served, flush=True)


def fill() -> tuple[list[int], str]:
    """Fill the descriptor table: (the descriptors taken, the error that ended it)."""
    held: list[int] = []
    try:
        while True:
            held.extend(os.pipe())
    except OSError:
        pass
    try:
        while True:
            held.append(os.dup(0))
    except OSError as exc:
        return held, _load.describe(exc)


def fill_table(ss: Any) -> dict[str, Any]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    server = ss.TCPServer(("127.0.0.1", 0), echo_handler(ss, 0))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    client = socket.socket()
    client.settimeout(_load.STEP)
    held, full = fill()
    # The client waits in the backlog while accept() fails with EMFILE.
    client.connect(server.server_address)
    client.sendall(b"waiting\n")
    client.settimeout(0.5)
    try:
        early = client.recv(1024).decode() or "EOF"
    except TimeoutError:
        early = "no reply yet"
    alive_while_full = thread.is_alive()
    for fd in held:
        os.close(fd)
    client.settimeout(_load.STEP)
    try:
        reply = client.recv(1024).decode()
    except OSError as exc:
        reply = "error " + type(exc).__name__
    client.close()
    stopped = _load.bounded(server.shutdown)
    thread.join(_load.STEP)
    closed = _load.bounded(server.server_close)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return {
        "table_full": full,
        "while_full": early,
        "loop_alive_while_full": alive_while_full,
        "after_freeing": reply,
        "shutdown": stopped,
        "server_close": closed,
    }


def fill_table_udp(ss: Any) -> dict[str, Any]:
    class Echo(ss.DatagramRequestHandler):  # type: ignore[misc]
        def handle(self) -> None:
            self.wfile.write(self.rfile.read())

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    servers = [ss.UDPServer(("127.0.0.1", 0), Echo) for _ in range(UDP_SERVERS)]
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(_load.STEP)
    held, full = fill()
    answered = 0
    for n in range(REQUESTS_WHILE_FULL):
        server = servers[n % UDP_SERVERS]
        server.max_packet_size = 16 << 20
        server.timeout = _load.STEP
        client.sendto(b"%d" % n, server.server_address)
        server.handle_request()
        with contextlib.suppress(OSError):
            answered += client.recv(1024) == b"%d" % n
    for fd in held:
        os.close(fd)
    client.close()
    for server in servers:
        server.server_close()
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return {"table_full": full, "answered_while_full": answered}


if __name__ == "__main__":
    if sys.argv[1:3] == ["-", "clients"]:
        clients(*sys.argv[3:5])
    else:
        _load.main(
            {
                "rlimit_threading": rlimit_threading,
                "fill_table": fill_table,
                "fill_table_udp": fill_table_udp,
            }
        )
