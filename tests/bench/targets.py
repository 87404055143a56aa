"""The issues' targets as a table: which two rows each compares, and its bound.

Every target is one Target row of TARGETS; evaluate() is the one function
that reads them against a run. A target's value is the ratio of its
subject's figure to its reference's (or, for a unit other than "x", their
difference), met when at least its bound (at most, for at_most). Targets
are shown by ``make bench``, never asserted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from compare import find
from specs import (
    HANDLE_REQUEST_CALLS,
    HANDLE_REQUEST_SIZES,
    SEQUENTIAL,
    Run,
    packet_label,
    server_specs,
)

Row = dict[str, Any]
Keys = dict[str, Any]


@dataclass(frozen=True)
class Metric:
    """The figure a target reads from its two rows, and how its detail shows them."""

    rows: Callable[[Run], list[Row]]  # the table the rows are found in
    value: Callable[[Row], float | None]  # a measured row's figure (None: none)
    side: Callable[[Row | None], str]  # one row's figure in the detail
    suffix: str = ""  # after the two sides of the detail
    unit: str = "x"  # "x": the ratio of the figures; else their difference in this unit
    scale: int = 1  # the difference is divided by this (KiB to MiB: 1024)

    def compare(self, subject: Row | None, reference: Row | None) -> float | None:
        a = self.value(subject) if subject else None
        b = self.value(reference) if reference else None
        if self.unit == "x":
            return a / b if a is not None and b else None
        return (a - b) / self.scale if a is not None and b is not None else None

    def detail(self, subject: Row | None, reference: Row | None) -> str:
        return f"{self.side(subject)} vs {self.side(reference)}{self.suffix}"


def _kib_per_conn(row: Row | None) -> str:
    if not row or not row.get("kib_per_conn"):
        return "?"
    return f"{row['kib_per_conn']:.1f} KiB/conn, {row['threads_held']:,} threads"


#: Requests per second of a throughput row.
RPS = Metric(
    rows=lambda run: run.throughput,
    value=lambda row: row["rps"],
    side=lambda row: f"{row['rps'] if row else 0:,.0f}",
    suffix=" req/s",
)
#: Seconds taken by a handle_request() row's calls.
SECONDS = Metric(
    rows=lambda run: run.handle_request,
    value=lambda row: row["seconds"],
    side=lambda row: f"{row['seconds'] if row else 0:.3f}",
    suffix=" s",
)
#: Peak RSS growth (VmHWM) over a handle_request() row's calls.
PEAK_GROWTH = Metric(
    rows=lambda run: run.handle_request,
    value=lambda row: row["hwm_growth_kib"],
    side=lambda row: f"+{(row['hwm_growth_kib'] if row else 0) / 1024:.1f}",
    suffix=" MiB",
    unit="MiB",
    scale=1024,
)
#: RSS per idle connection of a memory row.
KIB_PER_CONN = Metric(
    rows=lambda run: run.memory,
    value=lambda row: row.get("kib_per_conn") or None,
    side=_kib_per_conn,
)


@dataclass(frozen=True)
class Target:
    """One target: its subject row's figure against its reference row's."""

    what: str  # as printed, and the "target" of bench.json
    metric: Metric
    subject: Keys  # the keys of the row measured (see compare.find)
    reference: Keys  # the keys of the row it is compared with
    bound: float
    at_most: bool = False  # met when the value is at most the bound (else at least)
    if_measured: bool = False  # listed only when its subject row was measured


def tp(impl: str, server: str, transport: str, pattern: str) -> Keys:
    """The keys of one throughput row."""
    return {"impl": impl, "server": server, "transport": transport, "pattern": pattern}


def raw_go(transport: str, pattern: str) -> Keys:
    """The keys of raw Go net's throughput row on a transport and pattern."""
    return {"impl": "raw-go", "transport": transport, "pattern": pattern}


def handle_request(impl: str, packet: int) -> Keys:
    """The keys of one handle_request() row."""
    return {"impl": impl, "max_packet_size": packet}


def handle_request_targets(packet: int) -> list[Target]:
    """Issue 10, defect 8: repeated handle_request() with one max_packet_size."""
    what = f"drop-in UDPServer.handle_request() x{HANDLE_REQUEST_CALLS:,} {packet_label(packet)}"
    go, std = handle_request("go", packet), handle_request("stdlib", packet)
    return [
        Target(f"{what} time <= 2x stdlib", SECONDS, go, std, 2.0, at_most=True),
        Target(
            f"{what} peak RSS growth <= stdlib's + 8 MiB", PEAK_GROWTH, go, std, 8.0, at_most=True
        ),
    ]


def pyref_targets() -> list[Target]:
    """pyref keeps up with stdlib on every row it was measured on."""
    return [
        Target(
            f"pyref {spec.server} {spec.transport} {pattern} >= 0.95x stdlib",
            RPS,
            tp("pyref", spec.server, spec.transport, pattern),
            tp("stdlib", spec.server, spec.transport, pattern),
            0.95,
            if_measured=True,
        )
        for spec in server_specs()
        if spec.impl == "pyref"
        for pattern in spec.patterns
    ]


def drop_in(what: str, server: str, transport: str, pattern: str, bound: float) -> Target:
    """The drop-in's *server* against stdlib's of the same class, in req/s."""
    return Target(
        what,
        RPS,
        tp("go", server, transport, pattern),
        tp("stdlib", server, transport, pattern),
        bound,
    )


TARGETS: list[Target] = [
    # Issue 6: the drop-in against stdlib and uvloop.
    drop_in(
        "drop-in ThreadingTCPServer short >= 3x stdlib", "ThreadingTCPServer", "tcp", "short", 3.0
    ),
    drop_in(
        "drop-in ThreadingTCPServer keepalive >= 1x stdlib",
        "ThreadingTCPServer",
        "tcp",
        "keepalive",
        1.0,
    ),
    Target(
        "drop-in ThreadingTCPServer short ahead of uvloop",
        RPS,
        tp("go", "ThreadingTCPServer", "tcp", "short"),
        tp("uvloop", "start_server", "tcp", "short"),
        1.0,
    ),
    drop_in(
        "drop-in ThreadingUDPServer >= 10x stdlib", "ThreadingUDPServer", "udp", "datagram", 10.0
    ),
    # Issue 10, defect 7: each request in a new thread, short connections
    # at least 2x stdlib (see the thread-cost rows and their ceiling).
    drop_in(
        "drop-in ThreadingTCPServer short >= 2x stdlib (a new thread per request)",
        "ThreadingTCPServer",
        "tcp",
        "short",
        2.0,
    ),
    # Issue 10, defect 8: the synchronous servers' slow paths.
    *(
        drop_in(
            f"drop-in {server} one sequential client >= 0.9x stdlib", server, t, SEQUENTIAL, 0.9
        )
        for server, t in (("TCPServer", "tcp"), ("UnixStreamServer", "unix"), ("UDPServer", "udp"))
    ),
    *(target for packet in HANDLE_REQUEST_SIZES for target in handle_request_targets(packet)),
    # Issue 6, and issue 12 item 5 (UDP and Unix keep-alive): the Go packages
    # with a Go handler against raw Go net.
    *(
        Target(
            f"Go packages {server} {transport} {pattern} >= 0.9x raw Go",
            RPS,
            tp("go-pkg", server, transport, pattern),
            raw_go(transport, pattern),
            0.9,
        )
        for server, transport, pattern in (
            ("threading.TCPServer", "tcp", "short"),
            ("threading.TCPServer", "tcp", "keepalive"),
            ("threading.UnixStreamServer", "unix", "short"),
            ("threading.UnixStreamServer", "unix", "keepalive"),
            ("threading.UDPServer", "udp", "datagram"),
            ("server.UDPServer", "udp", "datagram"),
        )
    ),
    *pyref_targets(),
    # Issue 6: what an idle connection costs.
    Target(
        "idle connections: Go packages <= 1.2x raw Go per connection",
        KIB_PER_CONN,
        {"impl": "go-pkg"},
        {"impl": "raw-go"},
        1.2,
        at_most=True,
    ),
    Target(
        "idle connections: drop-in <= stdlib per connection",
        KIB_PER_CONN,
        {"impl": "go"},
        {"impl": "stdlib"},
        1.0,
        at_most=True,
    ),
]


def evaluate(run: Run, table: list[Target] = TARGETS) -> list[dict[str, Any]]:
    """Each target of *table* with its figures and status: met, MISSED or not measured."""
    out: list[dict[str, Any]] = []
    for t in table:
        rows = t.metric.rows(run)
        subject = find(rows, **t.subject)
        if subject is None and t.if_measured:
            continue
        reference = find(rows, **t.reference)
        value = t.metric.compare(subject, reference)
        if value is None:
            status = "not measured"
        elif t.at_most:
            status = "met" if value <= t.bound else "MISSED"
        else:
            status = "met" if value >= t.bound else "MISSED"
        out.append(
            {
                "target": t.what,
                "value": value,
                "bound": t.bound,
                "unit": t.metric.unit,
                "status": status,
                "detail": t.metric.detail(subject, reference),
            }
        )
    return out
