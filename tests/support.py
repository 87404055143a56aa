"""Helpers shared by the test modules: loading implementations, hygiene, hook traces."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import socket
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FEATURES_MD = SHARED / "reference" / "FEATURES.md"
DIFF_MD = SHARED / "reference" / "DIFF_3_11_to_3_14.md"

PYREF_PATH = REPO / "pyref" / "socketserver.py"
#: The Go-backed module: the checkout's, or an installed copy named by SS_GO_PATH
#: (the interpreter matrix runs the suite against the wheel it installed).
GO_PATH = Path(os.environ.get("SS_GO_PATH") or REPO / "pybind" / "socketserver.py")

#: This interpreter's own module as an implementation: ``stdlib`` on CPython
#: 3.11 (the oracle whose differences from 3.14 are marked differs_311), else
#: ``stdlib`` and the version, e.g. ``stdlib314`` on CPython 3.14.
_MAJOR, _MINOR = sys.version_info[:2]
STDLIB = "stdlib" if (_MAJOR, _MINOR) == (3, 11) else f"stdlib{_MAJOR}{_MINOR}"

#: Seconds any single blocking step of a test may take before it is a failure.
TIMEOUT = 10.0


# --- FEATURES.md ----------------------------------------------------------------

_ROW = re.compile(r"^\|\s*([A-K]\d+)\s*\|", re.MULTILINE)


def feature_rows() -> list[str]:
    """Every row id of FEATURES.md (A1..K16), in order."""
    return _ROW.findall(FEATURES_MD.read_text())


def required_rows() -> list[str]:
    """The rows every implementation's tests must cover: sections A to J."""
    return [row for row in feature_rows() if row[0] in "ABCDEFGHIJ"]


# --- implementations ----------------------------------------------------------


def is_stdlib(name: str) -> bool:
    """Whether *name* is the interpreter's own module (stdlib, stdlib314, ...)."""
    return name == STDLIB


def implementation_names() -> list[str]:
    names = [STDLIB, "pyref"]
    if GO_PATH.exists():
        names.append("go")
    return names


def impl_path(name: str) -> Path:
    if is_stdlib(name):
        import socketserver

        assert socketserver.__file__ is not None
        return Path(socketserver.__file__)
    if name == "pyref":
        return PYREF_PATH
    if name == "go":
        return GO_PATH
    raise ValueError(f"unknown implementation {name!r}")


def load_from_path(path: Path) -> types.ModuleType:
    """Execute *path* as a fresh module named ``socketserver``.

    ``sys.modules['socketserver']`` holds the new module only while its body
    runs; the previous entry is restored afterwards, so the stdlib parameter
    keeps its own module and the implementations never see each other.
    """
    spec = importlib.util.spec_from_file_location("socketserver", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get("socketserver")
    sys.modules["socketserver"] = module
    try:
        spec.loader.exec_module(module)
    finally:
        if previous is None:
            del sys.modules["socketserver"]
        else:
            sys.modules["socketserver"] = previous
    return module


_MODULES: dict[str, types.ModuleType] = {}


def load_implementation(name: str) -> types.ModuleType:
    """The module for *name*, loaded once per test session."""
    if name not in _MODULES:
        if is_stdlib(name):
            import socketserver

            _MODULES[name] = socketserver
        else:
            _MODULES[name] = load_from_path(impl_path(name))
    return _MODULES[name]


# --- processes, descriptors, blocking calls -----------------------------------


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


@contextlib.contextmanager
def fork_guard() -> Iterator[None]:
    """If a forked child ever returns into the test, end it before it runs pytest code."""
    pid = os.getpid()
    try:
        yield
    finally:
        if os.getpid() != pid:
            os._exit(99)


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


# --- clients ------------------------------------------------------------------


def connect(address: Any, family: int = socket.AF_INET) -> socket.socket:
    """A connected stream client with a timeout."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT)
    try:
        sock.connect(address)
    except BaseException:
        sock.close()
        raise
    return sock


def datagram_client(family: int = socket.AF_INET, bind: Any = None) -> socket.socket:
    """A datagram client with a timeout; Unix clients must bind to get replies (I14)."""
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.settimeout(TIMEOUT)
    if bind is not None:
        sock.bind(bind)
    elif family == socket.AF_INET:
        sock.bind(("127.0.0.1", 0))
    return sock


def recv_all(sock: socket.socket) -> bytes:
    """Read until EOF (the socket has a timeout, so this cannot hang)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@contextlib.contextmanager
def tcp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """(accepted, client): a connected TCP pair on 127.0.0.1, both with timeouts."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(TIMEOUT)
        client = connect(listener.getsockname())
        try:
            accepted, _ = listener.accept()
        except BaseException:
            client.close()
            raise
    accepted.settimeout(TIMEOUT)
    with accepted, client:
        yield accepted, client


def ipv6_loopback_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


# --- hook traces ----------------------------------------------------------------

SERVER_HOOKS = (
    "server_bind",
    "server_activate",
    "serve_forever",
    "handle_request",
    "get_request",
    "verify_request",
    "process_request",
    "process_request_thread",
    "finish_request",
    "shutdown_request",
    "close_request",
    "handle_error",
    "handle_timeout",
    "service_actions",
    "collect_children",
    "server_close",
)
HANDLER_HOOKS = ("setup", "handle", "finish")


class Raise:
    """Behaviour for a traced hook: raise *exc* instead of running the real hook."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class Return:
    """Behaviour for a traced hook: return *value* instead of running the real hook."""

    def __init__(self, value: Any) -> None:
        self.value = value


class Tracer:
    """Records hook calls per lane and renders them as nested call trees.

    Lanes: ``main`` (the thread that made the tracer), ``serve`` (a thread
    named "serve"), ``worker`` (any other thread, e.g. ThreadingMixIn's) and
    ``child`` (a forked child, whose events come back through a pipe).
    A call renders as ``name(callees)``; ``!Type`` marks a call that raised.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.main = threading.get_ident()
        self.events: list[tuple[str, str, str, str]] = []
        self.requests: list[Any] = []  # what get_request returned, in order
        self.lock = threading.Lock()
        self.rfd, self.wfd = os.pipe()
        os.set_blocking(self.rfd, False)

    def close(self) -> None:
        os.close(self.rfd)
        os.close(self.wfd)

    def lane(self) -> str:
        if os.getpid() != self.pid:
            return "child"
        if threading.get_ident() == self.main:
            return "main"
        return "serve" if threading.current_thread().name == "serve" else "worker"

    def emit(self, kind: str, name: str, exc: str = "") -> None:
        lane = self.lane()
        if lane == "child":
            os.write(self.wfd, f"{kind} {name} {exc}\n".encode())
            return
        with self.lock:
            self.events.append((lane, kind, name, exc))

    def note(self, name: str) -> None:
        self.emit("note", name)

    def collect_child_events(self) -> None:
        """Move the events written by forked children (already exited) into the record."""
        data = b""
        while True:
            try:
                chunk = os.read(self.rfd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
        with self.lock:
            for line in data.decode().splitlines():
                kind, name, exc = line.split(" ")
                self.events.append(("child", kind, name, exc))

    def names(self, lane: str = "main") -> list[str]:
        with self.lock:
            return [name for ln, kind, name, _ in self.events if ln == lane and kind != "return"]

    def render(self, lane: str = "main", collapse: tuple[str, ...] = ()) -> str:
        """The calls of *lane* as a string, e.g. ``handle_request(get_request ...)``.

        Consecutive identical calls of a name in *collapse* render once,
        followed by ``+`` (one or more).
        """
        roots: list[list[Any]] = []
        stack: list[list[Any]] = []
        with self.lock:
            events = [e for e in self.events if e[0] == lane]
        for _, kind, name, exc in events:
            siblings = stack[-1][1] if stack else roots
            if kind == "call":
                node: list[Any] = [name, [], "", True]
                siblings.append(node)
                stack.append(node)
            elif kind == "note":
                siblings.append([name, [], "", False])
            else:
                assert stack and stack[-1][0] == name, (lane, kind, name, events)
                node = stack.pop()
                node[2] = exc
                node[3] = False
        return self._render_nodes(roots, collapse)

    def _render_nodes(self, nodes: list[list[Any]], collapse: tuple[str, ...]) -> str:
        parts: list[str] = []
        for name, children, exc, still_open in nodes:
            text = name
            if children:
                text += "(" + self._render_nodes(children, collapse) + ")"
            if exc:
                text += "!" + exc
            if still_open:
                text += "..."
            if name in collapse:
                text += "+"
                if parts and parts[-1] == text:
                    continue
            parts.append(text)
        return " ".join(parts)


def _traced_method(cls_ref: list[type], name: str, behave: Any, tracer: Tracer) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        tracer.emit("call", name)
        try:
            if isinstance(behave, Raise):
                raise behave.exc
            if isinstance(behave, Return):
                result = behave.value
            elif callable(behave):
                result = behave(self, *args, **kwargs)
            else:
                result = getattr(super(cls_ref[0], self), name)(*args, **kwargs)
        except BaseException as exc:
            tracer.emit("raise", name, type(exc).__name__)
            raise
        tracer.emit("return", name)
        if name == "get_request":
            tracer.requests.append(result[0])
        return result

    method.__name__ = name
    return method


def traced_class(
    base: type,
    hooks: tuple[str, ...],
    tracer: Tracer,
    behave: dict[str, Any] | None = None,
    attrs: dict[str, Any] | None = None,
) -> type:
    """A subclass of *base* whose *hooks* (those *base* has) are recorded in *tracer*.

    *behave* maps a hook to Raise(exc), Return(value) or a callable run
    instead of the base method; other hooks call the base method.
    """
    behave = dict(behave or {})
    cls_ref: list[type] = []
    namespace: dict[str, Any] = dict(attrs or {})
    for name in hooks:
        if hasattr(base, name) or name in behave:
            namespace[name] = _traced_method(cls_ref, name, behave.pop(name, None), tracer)
    assert not behave, f"behaviour for hooks not traced: {sorted(behave)}"
    cls = type(f"Traced{base.__name__}", (base,), namespace)
    cls_ref.append(cls)
    return cls
