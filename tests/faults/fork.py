"""Forked children using the module (issue 10, item 5).

Before every case the parent has served two requests with a
ThreadingTCPServer (``warm``), as a program does before it forks.  A child is
made by ``os.fork()`` (``fork``) or by multiprocessing's 'fork' start method
(``mp``, 3.11's default on Linux); its stderr goes to a pipe the parent
reads, its stdout to /dev/null, its result comes back as JSON on another
pipe, and the parent reaps it (killing it after CHILD_TIMEOUT).

Cases ``ACTION HOW`` (HOW is ``fork`` or ``mp``):

* ``close_plain``: close an inherited TCPServer that has served a request.
* ``close_threading``: close an inherited ThreadingTCPServer whose loop runs
  in a thread of the parent.
* ``close_inflight``: the same, forked while a request is in flight in a
  handler thread of the parent.
* ``serve_handle_request``: a new server (TCPServer and ThreadingTCPServer)
  in the child serves one request with handle_request().
* ``serve_forever``: a new server in the child serves a request in
  serve_forever(), which a helper thread then shuts down.
* ``exit``: forked while a ThreadingTCPServer that has served serves on in
  the parent, the child does nothing and ends as its kind of child ends
  (``fork``: ``sys.exit(0)``, running the interpreter's exit; ``mp``:
  multiprocessing's own exit).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

import _load  # tests/faults/_load.py

CHILD_TIMEOUT = 10.0
Body = Callable[[], dict[str, Any]]


def echo(ss: Any) -> type:
    class Echo(ss.BaseRequestHandler):  # type: ignore[misc]
        def handle(self) -> None:
            self.request.sendall(b"echo " + self.request.recv(100))

    return Echo


def serve(server: Any) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    return thread


def warm(ss: Any) -> None:
    """The parent serves with a ThreadingMixIn server first."""
    server = ss.ThreadingTCPServer(("127.0.0.1", 0), echo(ss))
    thread = serve(server)
    for n in range(2):
        assert _load.exchange(server.server_address, b"%d" % n) == f"echo {n}"
    server.shutdown()
    thread.join(_load.STEP)
    server.server_close()


def _child_side(body: Body, result_fd: int, err_fd: int) -> None:
    """In the child: stderr to the pipe, stdout to /dev/null, run body, send its result."""
    os.dup2(err_fd, 2)
    # A debug build (3.14d) reports, at the child's exit, the in-flight
    # request's socket that CPython's own child inherits and never closes:
    # the interpreter's warning policy, not the module's behaviour.
    warnings.simplefilter("ignore", ResourceWarning)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    try:
        result = body()
    except BaseException:
        traceback.print_exc()
        result = {"body": "raised"}
    os.write(result_fd, json.dumps(result, sort_keys=True).encode())
    os.close(result_fd)
    sys.stderr.flush()


def _read(fd: int) -> str:
    os.set_blocking(fd, False)
    data = b""
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(fd, 65536):
            data += chunk
    os.close(fd)
    return data.decode(errors="replace")


def in_child(how: str, body: Body) -> dict[str, Any]:
    """Run *body* in a child made by *how*; its exit, stderr and result."""
    result_r, result_w = os.pipe()
    err_r, err_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    if how == "fork":
        pid = os.fork()
        if pid == 0:
            try:
                os.close(result_r)
                os.close(err_r)
                _child_side(body, result_w, err_w)
            except BaseException:
                os._exit(70)
            # A forked child of a program ends like the program: sys.exit(0)
            # runs the interpreter's exit (threading._shutdown, atexit).
            sys.exit(0)
        os.close(result_w)
        os.close(err_w)
        deadline = time.monotonic() + CHILD_TIMEOUT
        status = None
        while status is None and time.monotonic() < deadline:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(raw)
            else:
                time.sleep(0.01)
        if status is None:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            exit_status: Any = "killed: still running"
        else:
            exit_status = status
    else:
        ctx = multiprocessing.get_context("fork")
        process = ctx.Process(target=_child_side, args=(body, result_w, err_w))
        process.start()
        os.close(result_w)
        os.close(err_w)
        process.join(CHILD_TIMEOUT)
        if process.is_alive():
            process.kill()
            process.join()
            exit_status = "killed: still running"
        else:
            exit_status = process.exitcode
        process.close()
    raw_result = _read(result_r)
    return {
        "exit": exit_status,
        "stderr": _read(err_r),
        "result": json.loads(raw_result) if raw_result else None,
    }


def closing(server: Any) -> Body:
    def body() -> dict[str, Any]:
        closed = _load.bounded(server.server_close)
        return {"server_close": closed, "fileno": server.socket.fileno()}

    return body


def close_plain(ss: Any, how: str) -> dict[str, Any]:
    warm(ss)
    server = ss.TCPServer(("127.0.0.1", 0), echo(ss))
    server.timeout = _load.STEP
    client = _load.connect(server.server_address)
    client.sendall(b"x")
    server.handle_request()
    client.close()
    child = in_child(how, closing(server))
    server.server_close()
    return {"child": child}


def close_threading(ss: Any, how: str) -> dict[str, Any]:
    warm(ss)
    server = ss.ThreadingTCPServer(("127.0.0.1", 0), echo(ss))
    thread = serve(server)
    replies = [_load.exchange(server.server_address, b"%d" % n) for n in range(2)]
    child = in_child(how, closing(server))
    replies.append(_load.exchange(server.server_address, b"after"))
    stopped = _load.bounded(server.shutdown)
    thread.join(_load.STEP)
    closed = _load.bounded(server.server_close)
    return {"child": child, "parent": [replies, stopped, closed]}


def close_inflight(ss: Any, how: str) -> dict[str, Any]:
    warm(ss)
    entered = threading.Event()
    release = threading.Event()

    class Slow(ss.BaseRequestHandler):  # type: ignore[misc]
        def handle(self) -> None:
            data = self.request.recv(100)
            entered.set()
            release.wait(_load.STEP)
            self.request.sendall(b"slow " + data)

    server = ss.ThreadingTCPServer(("127.0.0.1", 0), Slow)
    thread = serve(server)
    client = _load.connect(server.server_address)
    client.sendall(b"inflight")
    in_flight = entered.wait(_load.STEP)
    child = in_child(how, closing(server))
    release.set()
    reply = _load.read_all(client)
    client.close()
    stopped = _load.bounded(server.shutdown)
    thread.join(_load.STEP)
    closed = _load.bounded(server.server_close)
    return {"in_flight": in_flight, "child": child, "parent": [reply, stopped, closed]}


def new_server(ss: Any, how: str, loop: str) -> dict[str, Any]:
    warm(ss)
    return {
        name: in_child(how, serving(ss, getattr(ss, name), loop))
        for name in ("TCPServer", "ThreadingTCPServer")
    }


def serving(ss: Any, cls: type, loop: str) -> Body:
    """A child's body: a new *cls* serves one request with *loop*."""

    def body() -> dict[str, Any]:
        server = cls(("127.0.0.1", 0), echo(ss))
        server.timeout = _load.STEP
        if loop == "handle_request":
            client = _load.connect(server.server_address)
            client.sendall(b"child")
            try:
                server.handle_request()
                served = "returned"
            except Exception as exc:
                served = "raised " + _load.describe(exc)
            reply = _load.read_all(client)
            client.close()
        else:

            def client_then_shutdown() -> str:
                got = _load.exchange(server.server_address, b"child")
                server.shutdown()
                return got

            helper = _load.Bounded(client_then_shutdown)
            try:
                server.serve_forever(0.01)
                served = "returned"
            except Exception as exc:
                served = "raised " + _load.describe(exc)
                server.shutdown = lambda: None  # the helper must not wait for it
            helper.wait()
            reply = helper.value
        closed = _load.bounded(server.server_close)
        return {"served": served, "reply": reply, "server_close": closed}

    return body


def exit_only(ss: Any, how: str) -> dict[str, Any]:
    warm(ss)
    server = ss.ThreadingTCPServer(("127.0.0.1", 0), echo(ss))
    thread = serve(server)
    reply = _load.exchange(server.server_address, b"before")
    child = in_child(how, dict)
    stopped = _load.bounded(server.shutdown)
    thread.join(_load.STEP)
    server.server_close()
    return {"child": child, "parent": [reply, stopped]}


if __name__ == "__main__":
    _load.main(
        {
            "close_plain": close_plain,
            "close_threading": close_threading,
            "close_inflight": close_inflight,
            "serve_handle_request": lambda ss, how: new_server(ss, how, "handle_request"),
            "serve_forever": lambda ss, how: new_server(ss, how, "serve_forever"),
            "exit": exit_only,
        }
    )
