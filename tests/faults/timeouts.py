"""Bad timeouts (issue 10, item 6): a differential sweep of timeout values.

CPython hands the value to its PollSelector (math.ceil(t * 1e3), then
poll's own conversion) or to ``socket.settimeout``: nan raises ValueError,
±inf and huge values OverflowError, a negative one means "do not wait", a
str TypeError, None waits forever.  Each outcome names what happened, within
short deadlines: ``raised Type: message``, ``returned``, or ``blocked``
(then the scenario unblocks the call by connecting a client or shutting the
loop down, and says how it ended).

Cases ``CASE VALUE`` (VALUE a key of VALUES):

* ``serve_forever``: serve_forever(VALUE) in a thread, shutdown() after 0.3 s.
* ``server_timeout``: handle_request() with ``server.timeout = VALUE``.
* ``socket_timeout``: ``server.socket.settimeout(VALUE)``, then, if it was
  accepted, handle_request().
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import _load  # tests/faults/_load.py

VALUES: dict[str, Any] = {
    "nan": math.nan,
    "inf": math.inf,
    "-inf": -math.inf,
    "1e10": 1e10,
    "1e9": 1e9,
    "2**64": 2**64,
    "-1": -1,
    "0": 0,
    "0.05": 0.05,
    "str": "1",
    "None": None,
}


def server_with_flag(ss: Any) -> tuple[Any, threading.Event]:
    handled = threading.Event()

    class Flag(ss.BaseRequestHandler):  # type: ignore[misc]
        def handle(self) -> None:
            handled.set()

    return ss.TCPServer(("127.0.0.1", 0), Flag), handled


def serve_forever(ss: Any, key: str) -> dict[str, Any]:
    server, handled = server_with_flag(ss)
    loop = _load.Bounded(server.serve_forever, VALUES[key])
    outcome: dict[str, Any] = {"serve_forever": loop.wait(0.3)}
    if outcome["serve_forever"] == "blocked":  # still serving: stop it
        stop = _load.Bounded(server.shutdown)
        outcome["shutdown"] = stop.wait(2.0)
        if outcome["shutdown"] == "blocked":  # the loop never wakes: a client wakes it
            client = _load.connect(server.server_address)
            outcome["shutdown_after_client"] = stop.wait(2.0)
            client.close()
        outcome["serve_forever"] = loop.wait(2.0)
    outcome["handled"] = handled.is_set()
    hung = outcome["serve_forever"] == "blocked"
    if not hung:
        server.server_close()
    return outcome


def handle_request(ss: Any, server: Any, handled: threading.Event) -> dict[str, Any]:
    # The call's own duration, timed on its thread: timed from this thread
    # it would include the thread's start, or miss part of the wait, on a
    # loaded machine.
    took: list[float] = []

    def timed() -> Any:
        started = time.monotonic()
        try:
            return server.handle_request()
        finally:
            took.append(time.monotonic() - started)

    call = _load.Bounded(timed)
    outcome: dict[str, Any] = {"handle_request": call.wait(1.0)}
    if outcome["handle_request"] == "blocked":
        client = _load.connect(server.server_address)
        outcome["after_client"] = call.wait(2.0)
        client.close()
    elif outcome["handle_request"] == "returned":
        outcome["waited_at_least_40ms"] = took[0] >= 0.04
    outcome["handled"] = handled.is_set()
    if outcome.get("after_client") != "blocked":
        server.server_close()
    return outcome


def server_timeout(ss: Any, key: str) -> dict[str, Any]:
    server, handled = server_with_flag(ss)
    server.timeout = VALUES[key]
    return handle_request(ss, server, handled)


def socket_timeout(ss: Any, key: str) -> dict[str, Any]:
    server, handled = server_with_flag(ss)
    try:
        server.socket.settimeout(VALUES[key])
    except Exception as exc:
        server.server_close()
        return {"settimeout": "raised " + _load.describe(exc)}
    return {"settimeout": "returned", **handle_request(ss, server, handled)}


if __name__ == "__main__":
    _load.main(
        {
            "serve_forever": serve_forever,
            "server_timeout": server_timeout,
            "socket_timeout": socket_timeout,
        }
    )
