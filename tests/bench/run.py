"""Benchmark every socketserver implementation side by side: ``make bench``.

One run, one machine, one after another: CPython's stdlib module, pyref, the
Go-backed drop-in (all three serving the same unchanged handler classes of
echo_handlers.py), this project's Go packages with a Go handler, a raw Go
``net`` echo (the practical limit of the machine) and asyncio streams on the
default loop and on uvloop. The load comes from pkg/cmd/ssload (short
connections, keep-alive and UDP datagrams over TCP, Unix stream sockets and
UDP; every echoed byte verified), the Go servers from pkg/cmd/ssecho.

The synchronous servers (TCPServer, UnixStreamServer, UDPServer) also serve
one sequential client, and UDPServer.handle_request() is called 2,000 times
in a row with a 16 MiB and the default max_packet_size, timed with the RSS
it adds (handle_request_loop.py).

Then every threading server holds 10,000 idle connections (or as many as the
descriptor limit allows), each having answered one line, while the server's
RSS and thread count are read from /proc/PID/status.

It prints progress, then the tables with absolute figures and each row's
ratio to stdlib and to raw Go, the issue's targets met or missed, writes
``bench.json`` and ``bench.svg`` into bench-out/ (or $BENCH_OUT) and exits
non-zero if any measurement failed.

Options: ``--secs`` (default $BENCH_SECS or 1.5) per measurement, ``--clients``
(16), ``--payload`` (64 bytes), ``--conns`` (10,000 idle connections),
``--no-memory``, ``--only REGEX`` (servers whose name matches), ``--quick``
(the short table of ``make demo``: a few servers, 0.5 s each, no memory run).

Every process started here runs in its own session and is stopped (its stdin
closed, SIGTERM, then SIGKILL to its process group) and reaped even when the
run fails; every wait has a time limit.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import chart

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parents[1]
PYTHON = sys.executable

#: How long a server may take to print READY, and to stop.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
#: Limit of each dial, write and read of the load generator.
OP_TIMEOUT = "3s"

IMPL_LABELS = {
    "raw-go": "raw Go net",
    "go-pkg": "Go packages",
    "stdlib": "stdlib",
    "pyref": "pyref",
    "go": "Go-backed drop-in",
    "asyncio": "asyncio",
    "uvloop": "uvloop",
}

#: The sections of the table: (transport, pattern) and their titles.
SECTIONS = {
    ("tcp", "short"): "TCP, short connections (connect, one line, close)",
    ("tcp", "keepalive"): "TCP, keep-alive (request/response on persistent connections)",
    ("unix", "short"): "Unix stream, short connections",
    ("unix", "keepalive"): "Unix stream, keep-alive",
    ("udp", "datagram"): "UDP datagrams (one line per datagram)",
    ("tcp", "sequential"): "TCP, one sequential client (connect, one line, close)",
    ("unix", "sequential"): "Unix stream, one sequential client (connect, one line, close)",
    ("udp", "sequential"): "UDP, one sequential client (one datagram at a time)",
}

#: The pattern of the synchronous servers' rows: a single client, one request
#: at a time (ssload's short pattern, or datagram over UDP, with -clients 1).
SEQUENTIAL = "sequential"
#: A single client's rate hangs on every wake-up of client and server, so a
#: burst of background load skews it most: its measurement is taken in this
#: many mirrored rounds (A B C, C B A, A B C, C B A) rather than two halves.
SEQUENTIAL_ROUNDS = 4

#: Repeated handle_request() (handle_request_loop.py): a UDPServer with each
#: max_packet_size, this many calls per implementation in one process.
HANDLE_REQUEST_SIZES = (16 << 20, 8192)
HANDLE_REQUEST_CALLS = 2000
#: With at least a second per measurement, the calls are made in this many
#: rounds taken in mirrored order (A B C, C B A, A B C, ...): each round is
#: a few hundredths of a second, so a burst of the machine's background
#: load weighs on every implementation alike.
HANDLE_REQUEST_ROUNDS = 8
#: The limit of each step of a handle_request_loop.py process.
HANDLE_REQUEST_TIMEOUT = 60.0

#: The stdlib server each transport's rows are compared with when stdlib has
#: no server of the row's own class.
STDLIB_DEFAULT = {
    "tcp": "ThreadingTCPServer",
    "unix": "ThreadingUnixStreamServer",
    "udp": "ThreadingUDPServer",
}

#: The issue's anchors (an independent load generator, this machine, 16 clients).
ANCHORS = {
    "raw Go": "13.5k short / 104k keep-alive / 116k UDP req/s, 9.6 KiB per idle connection",
    "stdlib": "ThreadingTCPServer 3.3k short / 61k keep-alive, ThreadingUDPServer 3.3k, "
    "25.9 KiB and 10,001 threads for 10,000 idle connections",
    "asyncio": "9.6k short / 33k keep-alive, 5.4 KiB per idle connection",
    "uvloop": "10.7k short / 55k keep-alive",
}


@dataclass(frozen=True)
class ServerSpec:
    """One server under test."""

    impl: str  # a key of IMPL_LABELS
    server: str  # the class (or, for raw Go and asyncio, the shape) served
    transport: str  # tcp, unix or udp
    patterns: tuple[str, ...]
    memory: bool = False  # also hold idle connections on it
    quick: bool = False  # part of the short table of make demo
    group: str = ""  # the servers compared with each other share one (see measure_group)

    @property
    def name(self) -> str:
        return f"{IMPL_LABELS[self.impl]} {self.server}"

    def command(self, tools: Tools, address: str) -> list[str]:
        if self.impl in ("raw-go", "go-pkg"):
            kind = "udp-sync" if self.server == "server.UDPServer" else self.transport
            flavour = "raw" if self.impl == "raw-go" else "pkg"
            return [str(tools.ssecho), "-impl", flavour, "-kind", kind, "-addr", address]
        if self.impl in ("asyncio", "uvloop"):
            where = f"unix:{address}" if self.transport == "unix" else address
            return [PYTHON, str(BENCH_DIR / "aio_server.py"), self.impl, where]
        return [PYTHON, str(BENCH_DIR / "echo_server.py"), self.impl, self.server, address]


@dataclass(frozen=True)
class LoopSpec:
    """One process of the repeated handle_request() measurement."""

    impl: str  # stdlib, pyref or go
    packet: int  # the UDPServer's max_packet_size
    quick: bool = False

    @property
    def name(self) -> str:
        return f"{IMPL_LABELS[self.impl]} UDPServer.handle_request()"

    def command(self) -> list[str]:
        return [PYTHON, str(BENCH_DIR / "handle_request_loop.py"), self.impl, str(self.packet)]


def loop_specs() -> list[list[LoopSpec]]:
    """The handle_request() processes, one group (run together) per packet size."""
    return [
        [
            LoopSpec(impl, packet, quick=packet == HANDLE_REQUEST_SIZES[0] and impl != "pyref")
            for impl in ("stdlib", "pyref", "go")
        ]
        for packet in HANDLE_REQUEST_SIZES
    ]


def packet_label(size: int) -> str:
    return f"{size >> 20} MiB" if size >= 1 << 20 and size % (1 << 20) == 0 else f"{size} B"


def server_specs() -> list[ServerSpec]:
    """Every server, in run order.

    The servers compared with each other share a group (stdlib, pyref and
    the drop-in of one class; raw Go and the Go packages of one transport):
    they run at the same time and are measured in mirrored halves (see
    measure_group), so that a change in the machine's background load skews
    a ratio least.
    """
    stream = ("short", "keepalive")
    dgram = ("datagram",)

    def by_impl(
        cls: str,
        transport: str,
        patterns: tuple[str, ...],
        memory: bool = False,
        quick: bool = False,
    ) -> list[ServerSpec]:
        return [
            ServerSpec(impl, cls, transport, patterns, memory, quick and impl != "pyref", cls)
            for impl in ("stdlib", "pyref", "go")
        ]

    def go(
        impl: str, shape: str, transport: str, patterns: tuple[str, ...], **kw: Any
    ) -> ServerSpec:
        return ServerSpec(impl, shape, transport, patterns, group=f"Go {transport}", **kw)

    return [
        go("raw-go", "goroutine per connection", "tcp", stream, memory=True, quick=True),
        go("go-pkg", "threading.TCPServer", "tcp", stream, memory=True, quick=True),
        *by_impl("ThreadingTCPServer", "tcp", stream, memory=True, quick=True),
        # asyncio and uvloop are compared with the stdlib ThreadingTCPServer.
        ServerSpec("asyncio", "start_server", "tcp", stream, True, True, "ThreadingTCPServer"),
        ServerSpec("uvloop", "start_server", "tcp", stream, True, True, "ThreadingTCPServer"),
        *by_impl("ForkingTCPServer", "tcp", stream),
        *by_impl("TCPServer", "tcp", (SEQUENTIAL,), quick=True),
        go("raw-go", "goroutine per connection", "unix", stream),
        go("go-pkg", "threading.UnixStreamServer", "unix", stream),
        *by_impl("ThreadingUnixStreamServer", "unix", stream),
        *by_impl("UnixStreamServer", "unix", (SEQUENTIAL,)),
        go("raw-go", "one ReadFrom/WriteTo loop", "udp", dgram, quick=True),
        go("go-pkg", "threading.UDPServer", "udp", dgram, quick=True),
        go("go-pkg", "server.UDPServer", "udp", dgram),
        *by_impl("UDPServer", "udp", (*dgram, SEQUENTIAL)),
        *by_impl("ThreadingUDPServer", "udp", dgram, quick=True),
    ]


@dataclass
class Tools:
    ssload: Path
    ssecho: Path


@dataclass
class Options:
    secs: float
    warmup: float
    clients: int
    payload: int
    conns: int
    memory: bool
    only: re.Pattern[str] | None
    quick: bool
    out: Path
    cpu_busy_before: float | None = None


@dataclass
class Run:
    """The state of the whole run: what was measured, what failed."""

    opts: Options
    tools: Tools
    tmp: Path
    throughput: list[dict[str, Any]] = field(default_factory=list)
    memory: list[dict[str, Any]] = field(default_factory=list)
    handle_request: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    step: int = 0
    steps: int = 0
    sockets: int = 0

    def progress(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{self.step:2}/{self.steps} {elapsed:5.1f}s] {text}", flush=True)

    def address(self, spec: ServerSpec) -> str:
        if spec.transport == "unix":
            self.sockets += 1
            return str(self.tmp / f"s{self.sockets}.sock")
        return "127.0.0.1:0"


# --- processes --------------------------------------------------------------


class ServerProcess:
    """A server under test in its own session; stop() always leaves nothing behind."""

    def __init__(self, cmd: list[str], stderr_path: Path) -> None:
        self.cmd = cmd
        self.stderr_path = stderr_path
        with open(stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                cwd=REPO,
                start_new_session=True,
            )
        self.pid = self.proc.pid
        self.info: dict[str, Any] = {}
        self.killed = False

    def wait_ready(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = read_line(self.proc.stdout, timeout)
        if not line.startswith("READY "):
            raise RuntimeError(
                f"server did not start ({self.cmd[0]} ... exit {self.proc.poll()}): "
                f"{line.strip()!r} {self.stderr_tail()}"
            )
        self.info = json.loads(line[len("READY ") :])
        return self.info

    def stderr_tail(self, lines: int = 6) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def stderr_lines(self) -> int:
        try:
            return len(self.stderr_path.read_text(errors="replace").splitlines())
        except OSError:
            return 0

    def kill(self) -> None:
        """SIGKILL the process group at once and reap the server.

        For the idle-connection runs: a graceful stop of a server holding
        10,000 Python threads takes up to a minute (each thread must take the
        GIL to finish, then server_close() joins them one by one), which is
        not what is measured there.
        """
        self.killed = True
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(STOP_TIMEOUT)
        reap_orphans()

    def stop(self) -> int | None:
        """Close stdin, SIGTERM, wait; SIGKILL the process group; reap."""
        with suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        if self.proc.poll() is None:
            with suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(STOP_TIMEOUT)
        code = self.proc.poll()
        # Whatever is left of the group (a hung server, forked children).
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        if code is None:
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(STOP_TIMEOUT)
        with suppress(OSError):
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        reap_orphans()
        return code


def read_line(stream: IO[bytes], timeout: float) -> str:
    """Read one whole line from a pipe within *timeout* seconds ('' on EOF or timeout)."""
    fd = stream.fileno()
    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, 1)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace") if data.endswith(b"\n") else ""


def become_subreaper() -> None:
    """Adopt orphaned grandchildren (a killed forking server's children) to reap them."""
    with suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def reap_orphans() -> None:
    """Reap adopted children that have exited (never blocks)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


@contextmanager
def running(run: Run, spec: ServerSpec, tag: str) -> Iterator[ServerProcess]:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", f"{spec.name}-{spec.transport}-{tag}").strip("-")
    server = ServerProcess(spec.command(run.tools, run.address(spec)), run.tmp / f"{slug}.err")
    try:
        server.wait_ready(START_TIMEOUT)
        yield server
    finally:
        code = server.stop()
        if code not in (0, None, -signal.SIGTERM) and not server.killed:
            run.progress(f"  note: {spec.name} exited with {code}: {server.stderr_tail()}")


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (KiB) and Threads of a process, from /proc/PID/status."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                out[key] = int(value.split()[0])
    return out


def memory_map(pid: int) -> dict[str, int]:
    """A process's resident memory (KiB) by kind of mapping, from /proc/PID/smaps.

    ``stacks``: anonymous 8 MiB read-write mappings, the default pthread
    stack (so a thread per connection shows here; Go's goroutine stacks live
    in its heap instead); ``heap``: every other anonymous mapping (malloc,
    Python's object arenas, the Go heap); ``files``: mapped files.
    """
    kinds = {"stacks": 0, "heap": 0, "files": 0}
    kind = "heap"
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if line.startswith("Rss:"):
                kinds[kind] += int(line.split()[1])
                continue
            head = line.split(None, 5)
            if not head or "-" not in head[0] or head[0].endswith(":"):
                continue
            start, _, end = head[0].partition("-")
            path = head[5].strip() if len(head) > 5 else ""
            size_kib = (int(end, 16) - int(start, 16)) // 1024
            if path and not path.startswith("["):
                kind = "files"
            elif path.startswith("[stack") or (head[1] == "rw-p" and size_kib == 8192):
                kind = "stacks"
            else:
                kind = "heap"
    return kinds


def raise_nofile() -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft, hard


# --- measurements -----------------------------------------------------------


def load(
    run: Run, spec: ServerSpec, server: ServerProcess, pattern: str, secs: float
) -> dict[str, Any]:
    """One ssload run of *secs* seconds: its JSON result. Raises RuntimeError.

    The sequential pattern is one client of ssload's short pattern (datagram
    over UDP).
    """
    o = run.opts
    clients = o.clients
    if pattern == SEQUENTIAL:
        clients = 1
        pattern = "datagram" if spec.transport == "udp" else "short"
    cmd = [
        str(run.tools.ssload),
        "-json",
        "-network",
        spec.transport,
        "-addr",
        server.info["address"],
        "-pattern",
        pattern,
        "-clients",
        str(clients),
        "-duration",
        f"{secs}s",
        "-warmup",
        f"{o.warmup}s",
        "-payload",
        str(o.payload),
        "-timeout",
        OP_TIMEOUT,
    ]
    try:
        done = subprocess.run(
            cmd, capture_output=True, timeout=secs + o.warmup + 30, cwd=REPO, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(str(exc)) from None
    lines = done.stdout.decode(errors="replace").strip().splitlines()
    if not lines:
        raise RuntimeError(
            f"ssload exit {done.returncode}: {done.stderr.decode(errors='replace').strip()}"
        )
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except ValueError as exc:
        raise RuntimeError(f"ssload printed no JSON: {exc}") from None
    return result


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The results of the halves of one measurement as one: counts add up,
    req/s is all requests over all measured seconds, p50 and p99 are the
    request-weighted means of the halves' (ssload reports no histogram),
    max is the larger."""
    total = sum(p["requests"] for p in parts)
    seconds = sum(p["seconds"] for p in parts)

    def weighted(key: str) -> float:
        if total == 0:
            return max(float(p[key]) for p in parts)
        return sum(float(p[key]) * p["requests"] for p in parts) / total

    kinds: dict[str, int] = {}
    for p in parts:
        for kind, n in (p.get("error_kinds") or {}).items():
            kinds[kind] = kinds.get(kind, 0) + n
    return {
        "rps": total / seconds if seconds else 0.0,
        "p50_ms": weighted("p50_ms"),
        "p99_ms": weighted("p99_ms"),
        "max_ms": max(p["max_ms"] for p in parts),
        "requests": total,
        "seconds": seconds,
        "errors": sum(p["errors"] for p in parts),
        "error_kinds": kinds,
        "first_error": next((p["first_error"] for p in parts if p.get("first_error")), ""),
        "bytes_verified": sum(p["bytes_verified"] for p in parts),
        "stale_datagrams": sum(p["stale_datagrams"] for p in parts),
        "backlog_full_retries": sum(p.get("backlog_full_retries", 0) for p in parts),
    }


def record(
    run: Run, spec: ServerSpec, pattern: str, parts: list[dict[str, Any]], error: str
) -> None:
    """Add one row of the throughput table and print its progress line."""
    run.step += 1
    row: dict[str, Any] = {
        "name": spec.name,
        "impl": spec.impl,
        "server": spec.server,
        "transport": spec.transport,
        "pattern": pattern,
    }
    label = f"{spec.name:<46} {spec.transport:<4} {pattern:<9}"
    if error:
        row["error"] = error
        run.failures.append(f"{label.strip()}: {error}")
        run.throughput.append(row)
        run.progress(f"{label} FAILED: {error}")
        return
    result = merge(parts)
    row.update(
        (key, result[key])
        for key in (
            "rps",
            "p50_ms",
            "p99_ms",
            "max_ms",
            "requests",
            "seconds",
            "errors",
            "error_kinds",
            "first_error",
            "bytes_verified",
            "stale_datagrams",
            "backlog_full_retries",
        )
    )
    row["halves"] = [round(p["rps"], 1) for p in parts] if len(parts) > 1 else []
    if result["requests"] == 0:
        row["error"] = f"no request answered ({result.get('first_error', '')})"
        run.failures.append(f"{label.strip()}: {row['error']}")
    run.throughput.append(row)
    errs = f"{result['errors']} errors" + (f" {result['error_kinds']}" if result["errors"] else "")
    if result.get("backlog_full_retries"):
        errs += f", {result['backlog_full_retries']:,} connects waited for backlog room"
    run.progress(
        f"{label} {result['rps']:>9,.0f} req/s  p50 {result['p50_ms']:6.3f} ms  "
        f"p99 {result['p99_ms']:7.3f} ms  {errs}"
    )


def groups(specs: list[ServerSpec]) -> list[list[ServerSpec]]:
    """Consecutive servers of one group (those compared with each other)."""
    out: list[list[ServerSpec]] = []
    for spec in specs:
        if out and spec.group and out[-1][0].group == spec.group:
            out[-1].append(spec)
        else:
            out.append([spec])
    return out


def measure_group(run: Run, group: list[ServerSpec]) -> None:
    """Measure the servers of one group, all started at once, pattern by pattern.

    With at least a second per measurement, each measurement is two halves
    taken in mirrored order (A B C, then C B A), so that a drift of the
    machine's background load over the group weighs on every server alike
    and cancels out of the ratios; the sequential pattern takes
    SEQUENTIAL_ROUNDS such rounds.
    """
    secs = run.opts.secs
    halves = 2 if secs >= 1.0 and len(group) > 1 else 1
    if len(group) > 1:
        names = ", ".join(spec.name for spec in group)
        run.progress(f"starting together: {names}" + (" (mirrored halves)" if halves > 1 else ""))
    with ExitStack() as stack:
        servers: dict[ServerSpec, ServerProcess] = {}
        started: dict[ServerSpec, str] = {}
        for spec in group:
            try:
                servers[spec] = stack.enter_context(running(run, spec, "load"))
            except RuntimeError as exc:
                started[spec] = str(exc)
                run.failures.append(f"{spec.name}: {exc}")
        for pattern in dict.fromkeys(p for spec in group for p in spec.patterns):
            members = [spec for spec in group if pattern in spec.patterns]
            parts: dict[ServerSpec, list[dict[str, Any]]] = {spec: [] for spec in members}
            errors: dict[ServerSpec, str] = {spec: started.get(spec, "") for spec in members}
            rounds = SEQUENTIAL_ROUNDS if pattern == SEQUENTIAL and halves > 1 else halves
            for turn in range(rounds):
                for spec in members if turn % 2 == 0 else reversed(members):
                    if errors[spec]:
                        continue
                    try:
                        parts[spec].append(load(run, spec, servers[spec], pattern, secs / rounds))
                    except RuntimeError as exc:
                        errors[spec] = str(exc)
            for spec in members:
                record(run, spec, pattern, parts[spec], errors[spec])
        for spec, server in servers.items():
            if server.stderr_lines():
                run.progress(f"  note: {spec.name} wrote to stderr: {server.stderr_tail(3)}")


def measure_memory(run: Run, spec: ServerSpec) -> None:
    o = run.opts
    run.step += 1
    row: dict[str, Any] = {"name": spec.name, "impl": spec.impl, "server": spec.server}
    hold: subprocess.Popen[bytes] | None = None
    try:
        with running(run, spec, "memory") as server:
            time.sleep(0.3)
            before = proc_status(server.pid)
            map_before = memory_map(server.pid)
            hold = subprocess.Popen(
                [
                    str(run.tools.ssload),
                    "-json",
                    "-pattern",
                    "hold",
                    "-network",
                    spec.transport,
                    "-addr",
                    server.info["address"],
                    "-conns",
                    str(o.conns),
                    "-parallel",
                    "4",
                    "-hold-max",
                    "120s",
                    "-timeout",
                    "5s",
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=REPO,
                start_new_session=True,
            )
            assert hold.stdout is not None
            line = read_line(hold.stdout, 150.0)
            if not line:
                raise RuntimeError(f"ssload hold: no report (exit {hold.poll()})")
            held = json.loads(line)["hold"]
            time.sleep(0.5)  # let the server finish its answers and settle
            during = proc_status(server.pid)
            map_during = memory_map(server.pid)
            server.kill()  # before the client lets go: see ServerProcess.kill
            n = held["held"]
            growth = during["VmRSS"] - before["VmRSS"]
            row.update(
                wanted=held["wanted"],
                held=n,
                failed=held["failed"],
                error_kinds=held["error_kinds"],
                first_error=held.get("first_error", ""),
                fd_limit_reached=held["fd_limit_reached"],
                open_seconds=held["open_seconds"],
                rss_before_kib=before["VmRSS"],
                rss_held_kib=during["VmRSS"],
                threads_before=before["Threads"],
                threads_held=during["Threads"],
                kib_per_conn=growth / n if n else None,
                kib_per_conn_by_kind={
                    k: (map_during[k] - map_before[k]) / n if n else None for k in map_during
                },
            )
            if n == 0:
                raise RuntimeError(f"no connection held: {held.get('first_error', '')}")
    except (RuntimeError, OSError, ValueError, KeyError) as exc:
        row["error"] = str(exc)
        run.failures.append(f"memory {spec.name}: {exc}")
        run.memory.append(row)
        run.progress(f"{spec.name:<46} idle connections FAILED: {exc}")
        return
    finally:
        if hold is not None:
            with suppress(OSError):
                assert hold.stdin is not None
                hold.stdin.close()
            try:
                hold.wait(30)
            except subprocess.TimeoutExpired:
                hold.kill()
                hold.wait(10)
            for pipe in (hold.stdout, hold.stderr):
                if pipe is not None:
                    pipe.close()
    run.memory.append(row)
    run.progress(
        f"{spec.name:<46} {row['held']:,} idle connections held: RSS "
        f"{row['rss_before_kib'] / 1024:.1f} -> {row['rss_held_kib'] / 1024:.1f} MiB, "
        f"{row['kib_per_conn']:.1f} KiB/conn, {row['threads_held']:,} threads"
        + (f", {row['failed']} failed {row['error_kinds']}" if row["failed"] else "")
    )


def loop_step(proc: ServerProcess, calls: int) -> dict[str, Any]:
    """Have a handle_request_loop.py process make *calls* calls: its DONE report."""
    assert proc.proc.stdin is not None and proc.proc.stdout is not None
    try:
        proc.proc.stdin.write(f"{calls}\n".encode())
        proc.proc.stdin.flush()
    except OSError as exc:
        raise RuntimeError(f"{exc} (exit {proc.proc.poll()}): {proc.stderr_tail()}") from None
    line = read_line(proc.proc.stdout, HANDLE_REQUEST_TIMEOUT)
    if not line.startswith("DONE "):
        what = line.strip() or f"no report within {HANDLE_REQUEST_TIMEOUT:g} s"
        raise RuntimeError(f"{what} (exit {proc.proc.poll()}) {proc.stderr_tail()}".strip())
    done: dict[str, Any] = json.loads(line[len("DONE ") :])
    return done


def measure_handle_request(run: Run, group: list[LoopSpec]) -> None:
    """Repeated handle_request() on a UDPServer, one process per implementation.

    The processes of one max_packet_size start at once; with at least a
    second per measurement the calls are made in HANDLE_REQUEST_ROUNDS
    rounds taken in mirrored order (A B C, C B A, ...), as the halves of
    measure_group. Memory is read by each process itself, before its first
    call and after each round.
    """
    rounds = HANDLE_REQUEST_ROUNDS if run.opts.secs >= 1.0 and len(group) > 1 else 1
    calls = HANDLE_REQUEST_CALLS // rounds
    if len(group) > 1:
        names = ", ".join(spec.name for spec in group)
        run.progress(
            f"starting together: {names}, max_packet_size {packet_label(group[0].packet)}"
            + (f" ({rounds} mirrored rounds)" if rounds > 1 else "")
        )
    ready: dict[LoopSpec, dict[str, Any]] = {}
    parts: dict[LoopSpec, list[dict[str, Any]]] = {spec: [] for spec in group}
    errors: dict[LoopSpec, str] = {}
    with ExitStack() as stack:
        procs: dict[LoopSpec, ServerProcess] = {}
        for spec in group:
            slug = f"{spec.impl}-handle-request-{spec.packet}"
            procs[spec] = proc = ServerProcess(spec.command(), run.tmp / f"{slug}.err")
            stack.callback(proc.stop)
            try:
                ready[spec] = proc.wait_ready(START_TIMEOUT)
            except (RuntimeError, ValueError) as exc:
                errors[spec] = str(exc)
        for turn in range(rounds):
            for spec in group if turn % 2 == 0 else reversed(group):
                if spec in errors:
                    continue
                try:
                    parts[spec].append(loop_step(procs[spec], calls))
                except (RuntimeError, ValueError) as exc:
                    errors[spec] = str(exc)
    for spec in group:
        record_handle_request(run, spec, ready.get(spec, {}), parts[spec], errors.get(spec, ""))


def record_handle_request(
    run: Run, spec: LoopSpec, ready: dict[str, Any], parts: list[dict[str, Any]], error: str
) -> None:
    """Add one row of the handle_request() table and print its progress line."""
    run.step += 1
    row: dict[str, Any] = {
        "name": spec.name,
        "impl": spec.impl,
        "server": "UDPServer",
        "max_packet_size": spec.packet,
    }
    label = f"{spec.name:<46} {packet_label(spec.packet):>6}"
    if error:
        row["error"] = error
        run.failures.append(f"{label.strip()}: {error}")
        run.handle_request.append(row)
        run.progress(f"{label} FAILED: {error}")
        return
    calls = sum(p["iterations"] for p in parts)
    seconds = sum(p["seconds"] for p in parts)
    last = parts[-1]
    row.update(
        calls=calls,
        seconds=seconds,
        us_per_call=seconds / calls * 1e6 if calls else None,
        rounds=[round(p["seconds"], 4) for p in parts] if len(parts) > 1 else [],
        rss_before_kib=ready["rss_kib"],
        rss_after_kib=last["rss_kib"],
        rss_growth_kib=last["rss_kib"] - ready["rss_kib"],
        hwm_growth_kib=last["hwm_kib"] - ready["hwm_kib"],
        maxrss_growth_kib=last["maxrss_kib"] - ready["maxrss_kib"],
    )
    run.handle_request.append(row)
    run.progress(
        f"{label} {calls:,} calls in {seconds:.3f} s ({row['us_per_call']:.1f} us/call), "
        f"RSS {row['rss_before_kib'] / 1024:.1f} -> {row['rss_after_kib'] / 1024:.1f} MiB, "
        f"peak +{row['hwm_growth_kib'] / 1024:.1f} MiB"
    )


# --- ratios, table, targets -------------------------------------------------


def find(rows: list[dict[str, Any]], **keys: Any) -> dict[str, Any] | None:
    for row in rows:
        if all(row.get(k) == v for k, v in keys.items()) and "error" not in row:
            return row
    return None


def stdlib_twin(rows: list[dict[str, Any]], row: dict[str, Any]) -> dict[str, Any] | None:
    t, p = row["transport"], row["pattern"]
    same = find(rows, impl="stdlib", server=row["server"], transport=t, pattern=p)
    return same or find(rows, impl="stdlib", server=STDLIB_DEFAULT[t], transport=t, pattern=p)


def add_ratios(run: Run) -> None:
    for row in run.throughput:
        if "error" in row:
            continue
        ref = stdlib_twin(run.throughput, row)
        raw = find(
            run.throughput, impl="raw-go", transport=row["transport"], pattern=row["pattern"]
        )
        row["vs_stdlib"] = row["rps"] / ref["rps"] if ref and ref["rps"] else None
        row["stdlib_ref"] = ref["name"] if ref else None
        row["vs_raw_go"] = row["rps"] / raw["rps"] if raw and raw["rps"] else None
    for row in run.handle_request:
        if "error" in row:
            continue
        std = find(run.handle_request, impl="stdlib", max_packet_size=row["max_packet_size"])
        row["time_vs_stdlib"] = row["seconds"] / std["seconds"] if std and std["seconds"] else None
    ref = find(run.memory, impl="stdlib")
    raw = find(run.memory, impl="raw-go")
    for row in run.memory:
        if "error" in row or not row.get("kib_per_conn"):
            continue
        for key, other in (("vs_stdlib", ref), ("vs_raw_go", raw)):
            base = other.get("kib_per_conn") if other else None
            row[key] = row["kib_per_conn"] / base if base else None


def ratio(value: float | None) -> str:
    return f"{value:.2f}x" if value is not None else "-"


def stack_heap(row: dict[str, Any]) -> str:
    kinds = row.get("kib_per_conn_by_kind") or {}
    if kinds.get("stacks") is None or kinds.get("heap") is None:
        return "-"
    return f"{kinds['stacks']:.1f}+{kinds['heap']:.1f}"


def print_tables(run: Run) -> None:
    o = run.opts
    print()
    how = (
        f"two halves of {o.secs / 2:g} s taken in mirrored order within each group (A B C, C B A)"
        if o.secs >= 1.0
        else f"{o.secs:g} s each"
    )
    print(
        f"Throughput: {o.clients} clients, {o.payload}-byte lines, {how}, each after "
        f"{o.warmup:g} s warm-up; every echoed byte verified."
    )
    print("x stdlib: against stdlib's server of the same class, else stdlib's Threading* server")
    print("on that transport; x raw Go: against raw Go net on that transport and pattern.")
    print(
        "The synchronous servers' sequential rows have a single client, not the clients above"
        + (f", in {SEQUENTIAL_ROUNDS} mirrored rounds." if o.secs >= 1.0 else ".")
    )
    for (transport, pattern), title in SECTIONS.items():
        rows = [
            r for r in run.throughput if r["transport"] == transport and r["pattern"] == pattern
        ]
        if not rows:
            continue
        print()
        print(title)
        print(
            f"  {'server':<46} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
            f"{'x stdlib':>8} {'x raw Go':>8}"
        )
        for r in rows:
            if "error" in r:
                print(f"  {r['name']:<46} FAILED: {r['error'][:60]}")
                continue
            print(
                f"  {r['name']:<46} {r['rps']:>9,.0f} {r['p50_ms']:>8.3f} {r['p99_ms']:>8.3f} "
                f"{r['errors']:>6} {ratio(r['vs_stdlib']):>8} {ratio(r['vs_raw_go']):>8}"
            )
    if run.handle_request:
        print_handle_request(run)
    if run.memory:
        print()
        print(
            f"Idle connections: up to {o.conns:,} TCP connections per server, one line answered "
            "on each, then held idle; server process from /proc/PID/status."
        )
        print(
            "stack+heap: KiB/conn in 8 MiB thread-stack mappings + other anonymous memory "
            "(/proc/PID/smaps)."
        )
        print(
            f"  {'server':<46} {'held':>6} {'open s':>6} {'RSS before':>10} {'RSS held':>10} "
            f"{'KiB/conn':>8} {'stack+heap':>10} {'threads':>7} {'x stdlib':>8} {'x raw Go':>8}"
        )
        for r in run.memory:
            if "error" in r:
                print(f"  {r['name']:<46} FAILED: {r['error'][:60]}")
                continue
            print(
                f"  {r['name']:<46} {r['held']:>6,} {r['open_seconds']:>6.1f} "
                f"{r['rss_before_kib'] / 1024:>6.1f} MiB "
                f"{r['rss_held_kib'] / 1024:>6.1f} MiB {r['kib_per_conn']:>8.1f} "
                f"{stack_heap(r):>10} "
                f"{r['threads_held']:>7,} {ratio(r.get('vs_stdlib')):>8} "
                f"{ratio(r.get('vs_raw_go')):>8}"
            )


def print_handle_request(run: Run) -> None:
    rounds = max((len(r.get("rounds") or [1]) for r in run.handle_request), default=1)
    how = (
        f"{rounds} rounds taken in mirrored order (A B C, C B A, ...)"
        if rounds > 1
        else "one pass"
    )
    print()
    print(
        f"Repeated handle_request(): a UDPServer, {HANDLE_REQUEST_CALLS:,} x (the client sends "
        "a 64-byte line, server.handle_request(),"
    )
    print(
        "the client checks the echo) in one process per implementation, all started at once, "
        f"{how};"
    )
    print(
        "RSS +, peak +: growth of VmRSS and VmHWM (/proc/self/status) over the calls; "
        "x stdlib: time against stdlib's (lower is better)."
    )
    print(
        f"  {'server':<46} {'packet':>6} {'calls':>6} {'seconds':>8} {'us/call':>8} "
        f"{'RSS before':>10} {'RSS +':>9} {'peak +':>9} {'x stdlib':>8}"
    )
    for r in run.handle_request:
        size = packet_label(r["max_packet_size"])
        if "error" in r:
            print(f"  {r['name']:<46} {size:>6} FAILED: {r['error'][:60]}")
            continue
        print(
            f"  {r['name']:<46} {size:>6} {r['calls']:>6,} {r['seconds']:>8.3f} "
            f"{r['us_per_call']:>8.1f} {r['rss_before_kib'] / 1024:>6.1f} MiB "
            f"{r['rss_growth_kib'] / 1024:>5.1f} MiB {r['hwm_growth_kib'] / 1024:>5.1f} MiB "
            f"{ratio(r.get('time_vs_stdlib')):>8}"
        )


def targets(run: Run) -> list[dict[str, Any]]:
    """The issue's targets, each with its figures and met/missed."""
    tp, mem = run.throughput, run.memory
    out: list[dict[str, Any]] = []

    def rps(impl: str, server: str, transport: str, pattern: str) -> float | None:
        row = find(tp, impl=impl, server=server, transport=transport, pattern=pattern)
        return row["rps"] if row else None

    def add(
        what: str,
        value: float | None,
        bound: float,
        detail: str,
        at_most: bool = False,
        unit: str = "x",
    ) -> None:
        if value is None:
            status = "not measured"
        elif at_most:
            status = "met" if value <= bound else "MISSED"
        else:
            status = "met" if value >= bound else "MISSED"
        out.append(
            {
                "target": what,
                "value": value,
                "bound": bound,
                "unit": unit,
                "status": status,
                "detail": detail,
            }
        )

    def div(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    for pattern, bound in (("short", 3.0), ("keepalive", 1.0)):
        go = rps("go", "ThreadingTCPServer", "tcp", pattern)
        std = rps("stdlib", "ThreadingTCPServer", "tcp", pattern)
        add(
            f"drop-in ThreadingTCPServer {pattern} >= {bound:g}x stdlib",
            div(go, std),
            bound,
            f"{go or 0:,.0f} vs {std or 0:,.0f} req/s",
        )
    go = rps("go", "ThreadingTCPServer", "tcp", "short")
    uv = rps("uvloop", "start_server", "tcp", "short")
    add(
        "drop-in ThreadingTCPServer short ahead of uvloop",
        div(go, uv),
        1.0,
        f"{go or 0:,.0f} vs {uv or 0:,.0f} req/s",
    )
    go = rps("go", "ThreadingUDPServer", "udp", "datagram")
    std = rps("stdlib", "ThreadingUDPServer", "udp", "datagram")
    add(
        "drop-in ThreadingUDPServer >= 10x stdlib",
        div(go, std),
        10.0,
        f"{go or 0:,.0f} vs {std or 0:,.0f} req/s",
    )
    # Issue 10, defect 8: the synchronous servers' slow paths.
    for server, transport in (
        ("TCPServer", "tcp"),
        ("UnixStreamServer", "unix"),
        ("UDPServer", "udp"),
    ):
        go = rps("go", server, transport, SEQUENTIAL)
        std = rps("stdlib", server, transport, SEQUENTIAL)
        add(
            f"drop-in {server} one sequential client >= 0.9x stdlib",
            div(go, std),
            0.9,
            f"{go or 0:,.0f} vs {std or 0:,.0f} req/s",
        )
    for packet in HANDLE_REQUEST_SIZES:
        go_row = find(run.handle_request, impl="go", max_packet_size=packet)
        std_row = find(run.handle_request, impl="stdlib", max_packet_size=packet)
        size = packet_label(packet)
        add(
            f"drop-in UDPServer.handle_request() x{HANDLE_REQUEST_CALLS:,} {size} "
            "time <= 2x stdlib",
            div(go_row["seconds"] if go_row else None, std_row["seconds"] if std_row else None),
            2.0,
            f"{go_row['seconds'] if go_row else 0:.3f} vs "
            f"{std_row['seconds'] if std_row else 0:.3f} s",
            at_most=True,
        )
        growth = (
            (go_row["hwm_growth_kib"] - std_row["hwm_growth_kib"]) / 1024
            if go_row and std_row
            else None
        )
        add(
            f"drop-in UDPServer.handle_request() x{HANDLE_REQUEST_CALLS:,} {size} "
            "peak RSS growth <= stdlib's + 8 MiB",
            growth,
            8.0,
            f"+{(go_row['hwm_growth_kib'] if go_row else 0) / 1024:.1f} vs "
            f"+{(std_row['hwm_growth_kib'] if std_row else 0) / 1024:.1f} MiB",
            at_most=True,
            unit="MiB",
        )
    for server, transport, pattern in (
        ("threading.TCPServer", "tcp", "short"),
        ("threading.TCPServer", "tcp", "keepalive"),
        ("threading.UnixStreamServer", "unix", "short"),
        ("threading.UnixStreamServer", "unix", "keepalive"),
        ("threading.UDPServer", "udp", "datagram"),
        ("server.UDPServer", "udp", "datagram"),
    ):
        pkg = rps("go-pkg", server, transport, pattern)
        raw = find(tp, impl="raw-go", transport=transport, pattern=pattern)
        raw_rps = raw["rps"] if raw else None
        add(
            f"Go packages {server} {transport} {pattern} >= 0.9x raw Go",
            div(pkg, raw_rps),
            0.9,
            f"{pkg or 0:,.0f} vs {raw_rps or 0:,.0f} req/s",
        )
    for row in tp:
        if row["impl"] != "pyref" or "error" in row:
            continue
        twin = find(
            tp,
            impl="stdlib",
            server=row["server"],
            transport=row["transport"],
            pattern=row["pattern"],
        )
        add(
            f"pyref {row['server']} {row['transport']} {row['pattern']} >= 0.95x stdlib",
            div(row["rps"], twin["rps"] if twin else None),
            0.95,
            f"{row['rps']:,.0f} vs {twin['rps'] if twin else 0:,.0f} req/s",
        )

    def kib(impl: str) -> tuple[float | None, str]:
        row = find(mem, impl=impl)
        if not row or not row.get("kib_per_conn"):
            return None, "?"
        return row[
            "kib_per_conn"
        ], f"{row['kib_per_conn']:.1f} KiB/conn, {row['threads_held']:,} threads"

    pkg, pkg_s = kib("go-pkg")
    raw_k, raw_s = kib("raw-go")
    add(
        "idle connections: Go packages <= 1.2x raw Go per connection",
        div(pkg, raw_k),
        1.2,
        f"{pkg_s} vs {raw_s}",
        at_most=True,
    )
    go_k, go_s = kib("go")
    std_k, std_s = kib("stdlib")
    add(
        "idle connections: drop-in <= stdlib per connection",
        div(go_k, std_k),
        1.0,
        f"{go_s} vs {std_s}",
        at_most=True,
    )
    return out


def print_targets(found: list[dict[str, Any]]) -> None:
    print()
    print("Targets (issue 6; sequential and handle_request: issue 10 defect 8; never asserted):")
    for t in found:
        if t["value"] is None:
            value = "-"
        elif t.get("unit", "x") == "x":
            value = f"{t['value']:.3f}x"
        else:
            value = f"{t['value']:+.1f} {t['unit']}"
        print(f"  [{t['status']:^12}] {t['target']}: {value} ({t['detail']})")
    print(
        "Anchors (independent load generator): "
        + "; ".join(f"{k}: {v}" for k, v in ANCHORS.items())
    )


# --- set-up and main --------------------------------------------------------


def cpu_busy(seconds: float = 0.5) -> float | None:
    """The share of CPU time the machine spent busy over *seconds* (from /proc/stat).

    Sampled before the run: other work on the machine skews every figure.
    """

    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    total = total1 - total0
    return (total - (idle1 - idle0)) / total if total > 0 else None


def build_tools(out: Path) -> Tools:
    go = os.environ.get("GO", "go")
    if shutil.which(go) is None:
        raise SystemExit(f"bench: {go!r} not found: Go 1.26 is needed to build pkg/cmd")
    bindir = out / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    tools = Tools(ssload=bindir / "ssload", ssecho=bindir / "ssecho")
    for name in ("ssload", "ssecho"):
        subprocess.run(
            [go, "build", "-o", str(bindir / name), f"./pkg/cmd/{name}"],
            cwd=REPO,
            check=True,
            timeout=600,
        )
    return tools


def environment(opts: Options, nofile: tuple[int, int]) -> dict[str, Any]:
    go = os.environ.get("GO", "go")
    go_version = subprocess.run(
        [go, "version"], capture_output=True, text=True, timeout=60, check=False
    ).stdout.strip()
    try:
        import uvloop

        uvloop_version = uvloop.__version__
    except ImportError:
        uvloop_version = None
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpu_busy_before": opts.cpu_busy_before,
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "go": go_version,
        "uvloop": uvloop_version,
        "secs": opts.secs,
        "warmup": opts.warmup,
        "clients": opts.clients,
        "payload_bytes": opts.payload,
        "idle_conns_wanted": opts.conns,
        "rlimit_nofile": list(nofile),
        "quick": opts.quick,
    }


def parse_args(argv: list[str]) -> Options:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--secs", type=float, default=None, help="seconds per measurement")
    p.add_argument("--warmup", type=float, default=0.3)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--payload", type=int, default=64)
    p.add_argument("--conns", type=int, default=10_000)
    p.add_argument("--no-memory", action="store_true")
    p.add_argument("--only", default=None, help="regex over server names")
    p.add_argument("--quick", action="store_true", help="the short table of make demo")
    p.add_argument("--out", default=os.environ.get("BENCH_OUT", str(REPO / "bench-out")))
    a = p.parse_args(argv)
    secs = a.secs
    if secs is None:
        secs = float(os.environ.get("BENCH_SECS") or (0.5 if a.quick else 1.5))
    if secs <= 0 or a.clients < 1 or a.conns < 1:
        p.error("--secs, --clients and --conns must be positive")
    return Options(
        secs=secs,
        warmup=0.1 if a.quick else a.warmup,
        clients=a.clients,
        payload=a.payload,
        conns=a.conns,
        memory=not a.no_memory and not a.quick,
        only=re.compile(a.only) if a.only else None,
        quick=a.quick,
        out=Path(a.out),
    )


def main(argv: list[str]) -> int:
    opts = parse_args(argv)
    # SIGTERM (make interrupted, CI timeout) unwinds like Ctrl-C: every finally runs.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    become_subreaper()
    nofile = raise_nofile()
    opts.conns = min(opts.conns, nofile[0] - 200)
    opts.out.mkdir(parents=True, exist_ok=True)
    specs = [s for s in server_specs() if (s.quick or not opts.quick)]
    if opts.only:
        specs = [s for s in specs if opts.only.search(s.name)]
    memory = [s for s in specs if s.memory] if opts.memory else []
    loops = [
        [
            s
            for s in group
            if (s.quick or not opts.quick) and (not opts.only or opts.only.search(s.name))
        ]
        for group in loop_specs()
    ]
    loops = [group for group in loops if group]
    print(f"bench: building pkg/cmd/ssload and pkg/cmd/ssecho into {opts.out / 'bin'}", flush=True)
    tools = build_tools(opts.out)
    opts.cpu_busy_before = busy = cpu_busy()
    if busy is not None and busy > 0.2:
        print(
            f"bench: the CPUs were {busy:.0%} busy before the run: other work is running "
            "on this machine, so the figures will be noisier",
            flush=True,
        )
    with tempfile.TemporaryDirectory(prefix="ssbench-") as tmp:
        run = Run(opts=opts, tools=tools, tmp=Path(tmp))
        run.steps = sum(len(s.patterns) for s in specs) + len(memory)
        run.steps += sum(len(group) for group in loops)
        halves = 2 if opts.secs >= 1.0 else 1
        estimate = sum(len(s.patterns) for s in specs) * (opts.secs + halves * opts.warmup + 0.2)
        estimate += len(specs) * 0.5 + len(memory) * 6 + len(loops) * 2
        print(
            f"bench: {len(specs)} servers, {run.steps} measurements, {opts.secs:g} s each "
            f"(BENCH_SECS), {opts.clients} clients; about {estimate:.0f} s",
            flush=True,
        )
        for group in groups(specs):
            measure_group(run, group)
        for loop_group in loops:
            measure_handle_request(run, loop_group)
        for spec in memory:
            measure_memory(run, spec)
        elapsed = time.monotonic() - run.started
    add_ratios(run)
    found = targets(run) if not opts.quick else []
    print_tables(run)
    if found:
        print_targets(found)
    stem = "quick" if opts.quick else "bench"
    report = {
        "environment": environment(opts, nofile),
        "elapsed_seconds": elapsed,
        "throughput": run.throughput,
        "memory": run.memory,
        "handle_request": run.handle_request,
        "targets": found,
        "failures": run.failures,
        "anchors": ANCHORS,
    }
    json_path = opts.out / f"{stem}.json"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    svg_path = opts.out / f"{stem}.svg"
    svg_path.write_text(chart.render(report, SECTIONS))
    print()
    print(f"bench: {elapsed:.0f} s; results in {json_path}, chart in {svg_path}")
    if run.failures:
        print(f"bench: {len(run.failures)} failure(s):")
        for f in run.failures:
            print(f"  {f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
