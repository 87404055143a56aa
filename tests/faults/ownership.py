"""Descriptor ownership in a synchronous server (issue 10, item 2).

The request is a socket object; once the handler has detached or closed it,
the descriptor number is no longer the server's.  CPython's
shutdown_request calls ``request.shutdown(SHUT_WR)`` on the object (EBADF
on a detached or closed socket, ignored, C12) and touches nothing else.

Cases (each ``CASE LOOP``, LOOP being ``handle_request`` or ``serve_forever``):

* ``detach``: the handler detaches its request and hands the descriptor to a
  thread that writes to the client 0.2 s later: the client gets the data,
  the writer no error.
* ``close_reuse``: the handler closes its request, then opens a socket pair
  whose first socket gets the same descriptor number (asserted): after the
  request, that unrelated socket is intact (it can send, its peer sees no EOF).
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import _load  # tests/faults/_load.py

HANDOFF = b"hello from the handoff thread\n"


def serve_one(server: Any, loop: str) -> str:
    """Serve exactly one request with *loop*; how the serving ended."""
    if loop == "handle_request":
        server.timeout = _load.STEP
        return _load.bounded(server.handle_request)
    served = threading.Event()
    original = server.RequestHandlerClass

    def handler(*args: Any) -> Any:
        try:
            return original(*args)
        finally:
            served.set()

    server.RequestHandlerClass = handler
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    served.wait(_load.STEP)
    time.sleep(0.1)  # shutdown_request runs after the handler returns
    return _load.bounded(server.shutdown)


def detach(ss: Any, loop: str) -> dict[str, Any]:
    writer: dict[str, str] = {}
    writers: list[threading.Thread] = []

    def write_later(fd: int) -> None:
        time.sleep(0.2)
        try:
            with socket.socket(fileno=fd) as conn:
                conn.sendall(HANDOFF)
            writer["result"] = "sent"
        except OSError as exc:
            writer["result"] = _load.describe(exc)

    class HandOff(ss.BaseRequestHandler):  # type: ignore[misc]
        def handle(self) -> None:
            fd = self.request.detach()
            thread = threading.Thread(target=write_later, args=(fd,))
            thread.start()
            writers.append(thread)

    server = ss.TCPServer(("127.0.0.1", 0), HandOff)
    client = _load.connect(server.server_address)
    served = serve_one(server, loop)
    try:
        received = _load.read_all(client)
    finally:
        client.close()
    for thread in writers:
        thread.join(_load.STEP)
    server.server_close()
    return {"serve": served, "client_received": received, "writer": writer.get("result")}


def close_reuse(ss: Any, loop: str) -> dict[str, Any]:
    backend: list[tuple[socket.socket, socket.socket]] = []
    numbers: dict[str, int] = {}

    class Reopen(ss.BaseRequestHandler):  # type: ignore[misc]
        def handle(self) -> None:
            numbers["request"] = self.request.fileno()
            self.request.close()
            spare = []
            for _ in range(8):  # take the lowest numbers until ours comes back
                a, b = socket.socketpair()
                if a.fileno() == numbers["request"] or b.fileno() == numbers["request"]:
                    if b.fileno() == numbers["request"]:
                        a, b = b, a
                    backend.append((a, b))
                    break
                spare += [a, b]
            for sock in spare:
                sock.close()

    server = ss.TCPServer(("127.0.0.1", 0), Reopen)
    client = _load.connect(server.server_address)
    served = serve_one(server, loop)
    client.close()
    outcome: dict[str, Any] = {"serve": served, "same_number": bool(backend)}
    if backend:
        a, b = backend[0]
        a.settimeout(_load.STEP)
        b.settimeout(0.3)
        try:
            a.sendall(b"still mine")
            outcome["send"] = "sent"
            outcome["peer_received"] = b.recv(100).decode()
        except OSError as exc:
            outcome["send"] = _load.describe(exc)
        try:
            outcome["peer_then"] = "EOF" if b.recv(100) == b"" else "data"
        except TimeoutError:
            outcome["peer_then"] = "nothing (open)"
        try:
            b.sendall(b"reply")
            outcome["reply"] = a.recv(100).decode()
        except OSError as exc:
            outcome["reply"] = _load.describe(exc)
        a.close()
        b.close()
    server.server_close()
    return outcome


if __name__ == "__main__":
    _load.main({"detach": detach, "close_reuse": close_reuse})
