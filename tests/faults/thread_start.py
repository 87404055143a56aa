"""Thread.start() failing in ThreadingTCPServer (issue 10, item 4).

``threading.stack_size(2**47)`` (a stack larger than the address space)
makes every ``Thread.start()`` raise ``RuntimeError: can't start new
thread``, portably and even as root (RLIMIT_NPROC does not bind root).
CPython's process_request appends the thread to ``_threads`` and then
starts it (G5): the RuntimeError goes to handle_error (B8), the request is
shut down, and the unstarted thread is pruned by the next append (F2).

Cases:

* ``fail_then_close``: one request whose thread cannot start, then
  server_close() (which joins the unstarted thread, F4).
* ``fail_recover_close``: the same, then a request served normally, then
  server_close().
* ``warm_then_fail``: a request served normally first, then one whose
  thread cannot start (a fresh thread per request: the first one's thread
  does not serve the second), then server_close().
* ``serve_forever``: fail_then_close with the requests served by
  serve_forever() in a thread started before the stack size is set.
"""

from __future__ import annotations

import threading
from typing import Any

import _load  # tests/faults/_load.py

IMPOSSIBLE_STACK = 2**47


def echo(ss: Any) -> type:
    class Echo(ss.BaseRequestHandler):  # type: ignore[misc]
        def handle(self) -> None:
            self.request.sendall(b"echo " + self.request.recv(100))

    return Echo


def request(ss: Any, server: Any, data: bytes, impossible: bool) -> str:
    """One request served by handle_request() on this thread; what the client got."""
    client = _load.connect(server.server_address)
    client.sendall(data)
    if impossible:
        threading.stack_size(IMPOSSIBLE_STACK)
    try:
        server.handle_request()
    finally:
        threading.stack_size(0)
    reply = _load.read_all(client)
    client.close()
    return reply or "EOF"


def scenario(ss: Any, steps: list[bool], serve_forever: bool = False) -> dict[str, Any]:
    server = ss.ThreadingTCPServer(("127.0.0.1", 0), echo(ss))
    server.timeout = _load.STEP
    replies = []
    with _load.captured_stderr() as err:
        if serve_forever:
            thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
            thread.start()
            for n, impossible in enumerate(steps):
                if impossible:
                    threading.stack_size(IMPOSSIBLE_STACK)
                try:
                    replies.append(_load.exchange(server.server_address, b"%d" % n) or "EOF")
                finally:
                    threading.stack_size(0)
            stopped = _load.bounded(server.shutdown)
            thread.join(_load.STEP)
        else:
            for n, impossible in enumerate(steps):
                replies.append(request(ss, server, b"%d" % n, impossible))
            stopped = "not serving"
        closed = _load.bounded(server.server_close)
    return {
        "replies": replies,
        "handle_error": _load.error_reports(err.getvalue()),
        "shutdown": stopped,
        "server_close": closed,
    }


if __name__ == "__main__":
    _load.main(
        {
            "fail_then_close": lambda ss: scenario(ss, [True]),
            "fail_recover_close": lambda ss: scenario(ss, [True, False]),
            "warm_then_fail": lambda ss: scenario(ss, [False, True]),
            "serve_forever": lambda ss: scenario(ss, [True], serve_forever=True),
        }
    )
