"""A ThreadingTCPServer in a process that runs out of threads (issue 10, item 1).

RLIMIT_NPROC counts the tasks (threads included) of a user, and does not
bind root: the scenario, started as root, drops to a user id of its own
(no other process has it, so runs in parallel do not share a count) after
loading the implementation (for the drop-in, the Go runtime has
started its threads by then), then lowers the limit so that only a couple
of request threads can start.  A burst of clients, all opened from the main
thread (a client thread would need a task of its own), then meets
``Thread.start()`` failing: CPython routes each RuntimeError to
handle_error and shuts the request down (B8, G5), and the process lives.
Once the limit is raised again the server serves the next client, and
server_close() returns.

Case ``nproc``; prints ``{"skipped": reason}`` when not run as root.
"""

from __future__ import annotations

import os
import resource
import select
import socket
import threading
import time
from typing import Any

import _load  # tests/faults/_load.py

#: A user id no other process has: one per scenario process.
UID = 50_000 + os.getpid() % 10_000
CLIENTS = 20
SPARE = 2  # request threads that may start under the limit


def threads_now() -> int:
    return len(os.listdir("/proc/self/task"))


def burst(address: Any) -> dict[str, int]:
    """CLIENTS requests at once from this thread; how each ended."""
    clients = []
    for i in range(CLIENTS):
        sock = socket.create_connection(address, timeout=_load.STEP)
        sock.sendall(b"%d\n" % i)
        clients.append(sock)
    replies = {sock: b"" for sock in clients}
    open_ = set(clients)
    deadline = time.monotonic() + 3 * _load.STEP
    while open_ and time.monotonic() < deadline:
        ready, _, _ = select.select(list(open_), [], [], 0.1)
        for sock in ready:
            try:
                chunk = sock.recv(100)
            except OSError:
                chunk = b""
            if chunk:
                replies[sock] += chunk
            else:
                open_.discard(sock)
    ends = {"served": 0, "closed_unserved": 0, "pending": len(open_)}
    for sock in clients:
        if sock not in open_:
            ends["served" if replies[sock] else "closed_unserved"] += 1
        sock.close()
    return ends


def nproc(ss: Any) -> dict[str, Any]:
    if os.geteuid() != 0:
        return {"skipped": "RLIMIT_NPROC binds only a non-root user: run as root to drop to one"}

    class Echo(ss.StreamRequestHandler):  # type: ignore[misc]
        def handle(self) -> None:
            line = self.rfile.readline()
            time.sleep(0.2)  # hold the thread, so the burst finds none free
            self.wfile.write(line)

    with _load.captured_stderr() as err:
        server = ss.ThreadingTCPServer(("127.0.0.1", 0), Echo)
        # Everything imported lazily is imported now: as nobody, the
        # interpreter's files under /root may be unreadable.
        "127.0.0.1".encode("idna")
        try:
            raise RuntimeError("warm-up")
        except RuntimeError:
            server.handle_error(None, None)  # imports traceback's modules
        err.seek(0)
        err.truncate()
        os.setgid(UID)
        os.setuid(UID)
        loop = threading.Thread(target=server.serve_forever, args=(0.05,), name="serve")
        loop.start()
        _, hard = resource.getrlimit(resource.RLIMIT_NPROC)
        resource.setrlimit(resource.RLIMIT_NPROC, (threads_now() + SPARE, hard))
        ends = burst(server.server_address)
        resource.setrlimit(resource.RLIMIT_NPROC, (hard, hard))
        after = _load.exchange(server.server_address, b"after\n")
        stopped = _load.bounded(server.shutdown)
        loop.join(_load.STEP)
        closed = _load.bounded(server.server_close)
    reports = sorted(set(_load.error_reports(err.getvalue())))
    return {
        "some_served": ends["served"] > 0,
        "some_refused": ends["closed_unserved"] > 0,
        "none_pending": ends["pending"] == 0,
        "errors": reports,
        "after": after,
        "shutdown": stopped,
        "server_close": closed,
    }


if __name__ == "__main__":
    _load.main({"nproc": nproc})
