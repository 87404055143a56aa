"""Lifecycle misuse (issue 10, lifecycle items).

Cases:

* ``close_twice CLASS``: server_close() twice on a server that has served a
  request (C9: harmless).
* ``shutdown_before_serve``: shutdown() before any serve_forever() blocks
  (B5) until a loop runs, which then exits at once; once a loop has ended,
  shutdown() returns at once and the next serve_forever() exits at once.
* ``gc_unclosed STATE``: a server dropped without server_close() is
  collected with a ResourceWarning for its socket, whatever it did before.
* ``after_close OP CLASS``: handle_request() or serve_forever() after
  server_close(): the selector refuses descriptor -1 (ValueError).
"""

from __future__ import annotations

import gc
import threading
import warnings
import weakref
from typing import Any

import _load  # tests/faults/_load.py


def echo(ss: Any, cls: Any) -> type:
    if issubclass(cls, ss.UDPServer):

        class Datagram(ss.BaseRequestHandler):  # type: ignore[misc]
            def handle(self) -> None:
                data, sock = self.request
                sock.sendto(b"echo " + data, self.client_address)

        return Datagram

    class Stream(ss.BaseRequestHandler):  # type: ignore[misc]
        def handle(self) -> None:
            self.request.sendall(b"echo " + self.request.recv(100))

    return Stream


def one_request(ss: Any, server: Any, loop: str) -> str:
    """Serve one request with *loop* (``handle_request`` or ``serve_forever``)."""
    if loop == "serve_forever":
        thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
        thread.start()
    else:
        server.timeout = _load.STEP
    if isinstance(server, ss.UDPServer):
        import socket

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(_load.STEP)
            client.sendto(b"x", server.server_address)
            if loop == "handle_request":
                server.handle_request()
            reply = client.recv(100).decode()
    elif loop == "handle_request":
        with _load.connect(server.server_address) as client:
            client.sendall(b"x")
            server.handle_request()
            reply = _load.read_all(client)
    else:
        reply = _load.exchange(server.server_address, b"x")
    if loop == "serve_forever":
        server.shutdown()
        thread.join(_load.STEP)
    return reply


def close_twice(ss: Any, name: str) -> dict[str, Any]:
    cls = getattr(ss, name)
    server = cls(("127.0.0.1", 0), echo(ss, cls))
    reply = one_request(ss, server, "serve_forever")
    first = _load.bounded(server.server_close)
    second = _load.bounded(server.server_close)
    return {"reply": reply, "first": first, "second": second, "fileno": server.socket.fileno()}


def shutdown_before_serve(ss: Any) -> dict[str, Any]:
    server = ss.TCPServer(("127.0.0.1", 0), echo(ss, ss.TCPServer))
    stop = _load.Bounded(server.shutdown)
    outcome: dict[str, Any] = {"shutdown_before_serve": stop.wait(0.5)}
    loop = _load.Bounded(server.serve_forever, 0.01)
    outcome["serve_forever"] = loop.wait(2.0)
    outcome["shutdown_then"] = stop.wait(2.0)
    # The loop has ended: shutdown() returns at once, and the flag it leaves
    # makes the next serve_forever() exit at once (B5).
    outcome["shutdown_after_loop"] = _load.bounded(server.shutdown, timeout=0.5)
    outcome["next_serve_forever"] = _load.bounded(server.serve_forever, 0.01, timeout=0.5)
    if "blocked" not in outcome.values():
        server.server_close()
    return outcome


def gc_unclosed(ss: Any, state: str) -> dict[str, Any]:
    name, _, loop = state.partition("-")
    cls = getattr(ss, name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        server = cls(("127.0.0.1", 0), echo(ss, cls))
        threads = threading.active_count()
        reply = one_request(ss, server, loop) if loop else None
        # A request thread may still be finishing (and holding the server)
        # after the client has its reply: the question is what GC does once
        # nothing runs, so wait for the threads to end.
        _load.wait_until(lambda: threading.active_count() <= threads)
        ref = weakref.ref(server)
        del server
        for _ in range(3):
            gc.collect()
    return {
        "reply": reply,
        "collected": ref() is None,
        "warnings": [
            (w.category.__name__, str(w.message)[: len("unclosed <socket.socket")]) for w in caught
        ],
    }


def after_close(ss: Any, op: str, name: str) -> dict[str, Any]:
    cls = getattr(ss, name)
    server = cls(("127.0.0.1", 0), echo(ss, cls))
    server.timeout = 0.5
    server.server_close()
    call = _load.Bounded(getattr(server, op), *((0.01,) if op == "serve_forever" else ()))
    outcome = call.wait(2.0)
    if outcome == "blocked" and op == "serve_forever":
        server.shutdown = lambda: None
    return {op: outcome}


if __name__ == "__main__":
    _load.main(
        {
            "close_twice": close_twice,
            "shutdown_before_serve": shutdown_before_serve,
            "gc_unclosed": gc_unclosed,
            "after_close": after_close,
        }
    )
