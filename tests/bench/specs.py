"""What a bench run measures: the servers under test, their groups, the run's state.

The servers compared with each other share a group: they run at the same
time and are measured in mirrored halves (measure.measure_group). The run's
state (Run) collects the rows the measurements add, which the ratios, the
targets and the report then read.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parents[1]
PYTHON = sys.executable

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
    ("tcp", "thread-cost"): "What a thread per request costs (stdlib's module, TCP short "
    "connections; see thread_cost.py)",
}

#: The pattern of the synchronous servers' rows: a single client, one request
#: at a time (ssload's short pattern, or datagram over UDP, with -clients 1).
SEQUENTIAL = "sequential"

#: The pattern of the thread-cost rows (thread_cost.py): ssload's short
#: pattern with the run's clients, on stdlib's module in three shapes; each
#: row is compared with stdlib's ThreadingTCPServer of this pattern.
THREAD_COST = "thread-cost"

#: Repeated handle_request() (handle_request_loop.py): a UDPServer with each
#: max_packet_size, this many calls per implementation in one process.
HANDLE_REQUEST_SIZES = (16 << 20, 8192)
HANDLE_REQUEST_CALLS = 2000


@dataclass
class Tools:
    ssload: Path
    ssecho: Path


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
        *(
            ServerSpec("stdlib", cls, "tcp", (THREAD_COST,), group=THREAD_COST)
            for cls in ("InlineTCPServer", "JoinedThreadingTCPServer", "ThreadingTCPServer")
        ),
    ]


def groups(specs: list[ServerSpec]) -> list[list[ServerSpec]]:
    """Consecutive servers of one group (those compared with each other)."""
    out: list[list[ServerSpec]] = []
    for spec in specs:
        if out and spec.group and out[-1][0].group == spec.group:
            out[-1].append(spec)
        else:
            out.append([spec])
    return out


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

    def failed(
        self, rows: list[dict[str, Any]], row: dict[str, Any], label: str, error: str
    ) -> None:
        """Add *row* to *rows* as failed with *error*, count the failure and say so."""
        row["error"] = error
        self.failures.append(f"{label.strip()}: {error}")
        rows.append(row)
        self.progress(f"{label} FAILED: {error}")

    def address(self, spec: ServerSpec) -> str:
        if spec.transport == "unix":
            self.sockets += 1
            return str(self.tmp / f"s{self.sockets}.sock")
        return "127.0.0.1:0"
