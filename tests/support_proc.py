"""Processes, descriptors and threads: /proc scans, fd counts, bounded waits, serving."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

#: Seconds any single blocking step of a test may take before it is a failure.
TIMEOUT = 10.0


# --- processes and descriptors ------------------------------------------------


def child_processes() -> list[tuple[int, str]]:
    """(pid, state) of every running or zombie child of this process."""
    me = os.getpid()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == me:
            found.append((int(entry.name), fields[0]))
    return found


def process_state(pid: int) -> str:
    """The state letter of *pid* (``Z`` for a zombie), or '' if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


@contextlib.contextmanager
def fork_guard() -> Iterator[None]:
    """If a forked child ever returns into the test, end it before it runs pytest code."""
    pid = os.getpid()
    try:
        yield
    finally:
        if os.getpid() != pid:
            os._exit(99)


# --- bounded waits and threads ------------------------------------------------


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    """Poll *predicate* until it is true; fail naming *what* if it never is."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


def call_with_timeout(fn: Callable[..., Any], *args: Any, timeout: float = TIMEOUT) -> Any:
    """Run fn(*args) in a helper thread; fail, instead of hanging, if it blocks."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = fn(*args)
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=run, name="watchdog", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise AssertionError(f"{fn!r} still blocked after {timeout} s")
    if "error" in result:
        raise result["error"]
    return result.get("value")


def start_thread(fn: Callable[..., Any], *args: Any, name: str = "helper") -> threading.Thread:
    thread = threading.Thread(target=fn, args=args, name=name, daemon=True)
    thread.start()
    return thread


class Harness:
    """Owns the servers of one test: serves them in threads, always stops and closes them."""

    def __init__(self) -> None:
        self.servers: list[Any] = []
        self.threads: dict[int, threading.Thread] = {}

    def add(self, server: Any) -> Any:
        self.servers.append(server)
        return server

    def serve(self, server: Any, poll_interval: float = 0.01) -> threading.Thread:
        if not any(s is server for s in self.servers):
            self.servers.append(server)
        parent = os.getpid()

        def run() -> None:
            try:
                server.serve_forever(poll_interval)
            finally:
                if os.getpid() != parent:  # a forked child must never get here
                    os._exit(99)

        thread = threading.Thread(target=run, name="serve", daemon=True)
        self.threads[id(server)] = thread
        thread.start()
        return thread

    def stop(self, server: Any) -> None:
        """shutdown() a server started with serve(); fail if it does not stop."""
        thread = self.threads.pop(id(server), None)
        if thread is None:
            return
        call_with_timeout(server.shutdown)
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "serve_forever() did not return after shutdown()"

    def close_all(self) -> None:
        errors: list[BaseException] = []
        for server in reversed(self.servers):
            for step in (self.stop, lambda s: call_with_timeout(s.server_close)):
                try:
                    step(server)
                except BaseException as exc:
                    errors.append(exc)
        self.servers.clear()
        if errors:
            raise errors[0]
