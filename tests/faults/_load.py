"""What every fault scenario shares: loading the implementation, bounded waits, the outcome.

A scenario is run as ``python tests/faults/<scenario>.py IMPL CASE [ARGS...]``
(IMPL is one of support.implementation_names(): stdlib, pyref or go).
:func:`load` installs the implementation as ``sys.modules['socketserver']``
exactly as tests/support.py loads it, before anything else imports
socketserver; :func:`emit` prints the outcome as the
last line of stdout, one JSON object that test_faults.py compares with the
stdlib's outcome of the same case.  Nothing here may block without a bound:
a call that does not return within its deadline is reported as ``blocked``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

import support  # noqa: E402  (tests/support.py: the implementations' paths)

#: Seconds a single step may take before the scenario calls it blocked.
STEP = 5.0


def load(impl: str) -> types.ModuleType:
    """The implementation *impl* as the module ``socketserver``, for good."""
    if support.is_stdlib(impl):
        import socketserver

        return socketserver
    import importlib.util

    path = support.impl_path(impl)
    spec = importlib.util.spec_from_file_location("socketserver", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules["socketserver"] = module
    spec.loader.exec_module(module)
    return module


def describe(exc: BaseException) -> str:
    """``Type: message``, how outcomes name an exception."""
    return f"{type(exc).__name__}: {exc}"


def emit(outcome: dict[str, Any]) -> None:
    """Print the outcome (with the module's file, so the test can check it ran on IMPL)."""
    module = sys.modules.get("socketserver")
    record = {"file": getattr(module, "__file__", None), "outcome": outcome}
    sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
    sys.stdout.flush()


def finish(outcome: dict[str, Any], hung: bool = False) -> None:
    """Emit, then leave: at once (``os._exit``) if a thread is still stuck in the module."""
    emit(outcome)
    if hung:
        sys.stderr.flush()
        os._exit(0)


class Bounded:
    """fn(*args) in a daemon thread; :meth:`wait` says how it ended within a deadline."""

    def __init__(self, fn: Callable[..., Any], *args: Any, name: str = "bounded") -> None:
        self.value: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(fn, args), name=name, daemon=True)
        self.thread.start()

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            self.value = fn(*args)
        except BaseException as exc:
            self.error = exc

    def wait(self, timeout: float = STEP) -> str:
        """``returned``, ``raised Type: message`` or ``blocked``."""
        self.thread.join(timeout)
        if self.thread.is_alive():
            return "blocked"
        if self.error is not None:
            return "raised " + describe(self.error)
        return "returned"


def bounded(fn: Callable[..., Any], *args: Any, timeout: float = STEP) -> str:
    return Bounded(fn, *args).wait(timeout)


def wait_until(predicate: Callable[[], bool], timeout: float = STEP) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def connect(address: Any, timeout: float = STEP) -> socket.socket:
    sock = socket.create_connection(address, timeout=timeout)
    sock.settimeout(timeout)
    return sock


def read_all(sock: socket.socket) -> str:
    """What *sock* receives up to EOF, or what went wrong (the socket has a timeout)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except OSError as exc:
        return b"".join(chunks).decode("latin-1") + "[error " + type(exc).__name__ + "]"
    return b"".join(chunks).decode("latin-1")


def exchange(address: Any, data: bytes = b"ping\n", timeout: float = STEP) -> str:
    """One request on a new connection: the reply up to EOF, or what went wrong."""
    try:
        with connect(address, timeout) as sock:
            sock.sendall(data)
            return read_all(sock)
    except OSError as exc:
        return "error " + type(exc).__name__


@contextlib.contextmanager
def captured_stderr() -> Iterator[io.StringIO]:
    """sys.stderr (which handle_error looks up when called) replaced by a buffer."""
    buffer = io.StringIO()
    previous = sys.stderr
    sys.stderr = buffer
    try:
        yield buffer
    finally:
        sys.stderr = previous


def error_reports(text: str) -> list[str]:
    """The last line (``Type: message``) of each report handle_error printed in *text*."""
    reports = []
    for block in text.split("-" * 40):
        lines = [line for line in block.strip().splitlines() if line]
        if lines and lines[0].startswith("Exception occurred during processing of request"):
            reports.append(lines[-1])
    return reports


def main(cases: dict[str, Callable[..., dict[str, Any]]]) -> None:
    """``script IMPL CASE [ARGS]``: load IMPL, run CASE, emit its outcome."""
    impl, case, *args = sys.argv[1:]
    ss = load(impl)
    outcome = cases[case](ss, *args)
    # A thread still stuck in the module must not hold up (or crash) the exit.
    finish(outcome, hung="blocked" in json.dumps(outcome))
