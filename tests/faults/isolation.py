"""Per-request isolation in ThreadingMixIn servers (issue 10, item 7).

CPython runs every request in a new ``threading.Thread`` (G5): a request
never sees the ``threading.local`` attributes or ContextVar values that an
earlier request set, its thread is named ``Thread-N
(process_request_thread)``, has ``daemon == daemon_threads``, is listed by
``threading.enumerate()`` only while the request runs, and is the thread
``threading.excepthook`` gets when the handler raises a BaseException (G4).

Cases ``KIND DAEMON``: KIND is ``tcp`` (ThreadingTCPServer) or ``udp``
(ThreadingUDPServer), DAEMON ``daemon`` or ``nondaemon`` (daemon_threads).
Four sequential requests (new connections) are probed one by one, then a
burst of 20 concurrent requests must leave ``threading.active_count()`` at
its baseline within 2 s, then one request raises a BaseException.
"""

from __future__ import annotations

import contextvars
import re
import socket
import threading
import time
from typing import Any

import _load  # tests/faults/_load.py

THREAD_NAME = re.compile(r"Thread-\d+ \(process_request_thread\)")
BURST = 20


class Boom(BaseException):
    pass


def isolation(ss: Any, kind: str, daemon: str) -> dict[str, Any]:
    tls = threading.local()
    var: contextvars.ContextVar[int] = contextvars.ContextVar("var")
    records: list[dict[str, Any]] = []
    request_threads: list[threading.Thread] = []
    hooked: list[dict[str, Any]] = []

    def probe(server: Any, command: bytes) -> None:
        me = threading.current_thread()
        if command == b"burst":
            time.sleep(0.05)
            return
        if command == b"boom":
            request_threads.append(me)
            raise Boom("from the handler")
        records.append(
            {
                "local_seen": getattr(tls, "mark", None),
                "context_seen": var.get(None),
                "name": bool(THREAD_NAME.fullmatch(me.name)) or me.name,
                "type": type(me).__name__,
                "daemon_is_daemon_threads": me.daemon == server.daemon_threads,
                "enumerated": me in threading.enumerate(),
                "is_main": me is threading.main_thread(),
            }
        )
        tls.mark = len(records)
        var.set(len(records))
        request_threads.append(me)

    if kind == "tcp":

        class Stream(ss.BaseRequestHandler):  # type: ignore[misc]
            def handle(self) -> None:
                command = self.request.recv(100)
                probe(self.server, command)
                self.request.sendall(b"done")

        server = ss.ThreadingTCPServer(("127.0.0.1", 0), Stream)
    else:

        class Datagram(ss.BaseRequestHandler):  # type: ignore[misc]
            def handle(self) -> None:
                command, sock = self.request
                probe(self.server, command)
                sock.sendto(b"done", self.client_address)

        server = ss.ThreadingUDPServer(("127.0.0.1", 0), Datagram)
    server.daemon_threads = daemon == "daemon"

    def hook(args: Any) -> None:
        hooked.append(
            {
                "exc_type": args.exc_type.__name__,
                "thread_is_request_thread": bool(request_threads)
                and args.thread is request_threads[-1],
            }
        )

    threading.excepthook = hook
    loop = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    loop.start()

    def request(command: bytes) -> socket.socket:
        if kind == "tcp":
            sock = _load.connect(server.server_address)
            sock.sendall(command)
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.settimeout(_load.STEP)
            sock.sendto(command, server.server_address)
        return sock

    def reply(sock: socket.socket, timeout: float = _load.STEP) -> str:
        sock.settimeout(timeout)
        try:
            return sock.recv(100).decode() or "EOF"
        except OSError as exc:
            return "error " + type(exc).__name__
        finally:
            sock.close()

    replies = []
    gone = []
    for _ in range(4):
        replies.append(reply(request(b"probe")))
        me = request_threads[-1]
        gone.append(_load.wait_until(lambda me=me: me not in threading.enumerate(), 2.0))
    distinct = len({id(t) for t in request_threads}) == len(request_threads)
    baseline = threading.active_count()
    socks = [request(b"burst") for _ in range(BURST)]
    burst = [reply(sock) for sock in socks]
    settled = _load.wait_until(lambda: threading.active_count() <= baseline, 2.0)
    boom = reply(request(b"boom"), 1.0)  # UDP: no reply comes
    _load.wait_until(lambda: bool(hooked), 2.0)
    stopped = _load.bounded(server.shutdown)
    loop.join(_load.STEP)
    closed = _load.bounded(server.server_close)
    threading.excepthook = threading.__excepthook__
    return {
        "replies": replies,
        "requests": records,
        "thread_gone_after_request": gone,
        "distinct_threads": distinct,
        "burst_replies": burst.count("done"),
        "active_count_back_to_baseline": settled,
        "boom_reply": boom,
        "excepthook": hooked,
        "shutdown": stopped,
        "server_close": closed,
    }


if __name__ == "__main__":
    _load.main(
        {
            "tcp": lambda ss, d: isolation(ss, "tcp", d),
            "udp": lambda ss, d: isolation(ss, "udp", d),
        }
    )
