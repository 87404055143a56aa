"""A closed server's loop and a new server on the same number (issue 10, item 3).

``serve_forever()`` runs in a thread; the server is closed with
``server_close()`` but not shut down (what ``with Server(...) as s:
Thread(target=s.serve_forever).start()`` leaves behind).  A new server then
gets the same descriptor number and serves 20 requests (100 datagrams).  CPython's old loop
polls the number, but accepts and receives through its own closed socket
object (EBADF, ignored, B8): none of the new server's requests reach the old
handler.  Cases: ``tcp``, ``udp``.
"""

from __future__ import annotations

import functools
import socket
import threading
import time
from typing import Any

import _load  # tests/faults/_load.py

REQUESTS = {"tcp": 20, "udp": 100}


def handler(ss: Any, kind: str, tag: bytes) -> type:
    if kind == "tcp":

        class Stream(ss.BaseRequestHandler):  # type: ignore[misc]
            def handle(self) -> None:
                self.request.recv(100)
                self.request.sendall(tag)

        return Stream

    class Datagram(ss.BaseRequestHandler):  # type: ignore[misc]
        def handle(self) -> None:
            _, sock = self.request
            sock.sendto(tag, self.client_address)

    return Datagram


def serve(server: Any, *args: float) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, args=args, daemon=True)
    thread.start()
    return thread


def stale_loop(ss: Any, kind: str) -> dict[str, Any]:
    cls = ss.TCPServer if kind == "tcp" else ss.UDPServer
    old = cls(("127.0.0.1", 0), handler(ss, kind, b"old"))
    number = old.fileno()
    old_thread = serve(old, 0.01)
    time.sleep(0.05)
    old.server_close()
    new = None
    spare = []
    for _ in range(10):  # take the lowest free numbers until the old one comes back
        server = cls(("127.0.0.1", 0), handler(ss, kind, b"new"))
        if server.fileno() == number:
            new = server
            break
        spare.append(server)
    for server in spare:
        server.server_close()
    outcome: dict[str, Any] = {"same_number": new is not None}
    if new is not None:
        new_thread = serve(new, 0.01)
        time.sleep(0.1)  # the old loop polls the number a few times: now the new socket's
        answers: dict[str, int] = {}
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.settimeout(1.0)
        for n in range(REQUESTS[kind]):
            if kind == "tcp":
                reply = _load.exchange(new.server_address, b"%d" % n, timeout=2.0)
            else:
                client.sendto(b"%d" % n, new.server_address)
                try:
                    reply = client.recv(100).decode()
                except TimeoutError:
                    reply = "no reply"
            answers[reply] = answers.get(reply, 0) + 1
        client.close()
        outcome["answers"] = answers
        outcome["new_shutdown"] = _load.bounded(new.shutdown)
        new_thread.join(_load.STEP)
        new.server_close()
    # The old loop still runs (CPython's spins on the closed number) until shut down.
    outcome["old_loop_alive"] = old_thread.is_alive()
    outcome["old_shutdown"] = _load.bounded(old.shutdown)
    old_thread.join(_load.STEP)
    outcome["old_loop_ended"] = not old_thread.is_alive()
    return outcome


if __name__ == "__main__":
    _load.main({kind: functools.partial(stale_loop, kind=kind) for kind in ("tcp", "udp")})
