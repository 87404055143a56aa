"""Ratios: each measured row against stdlib's and raw Go's on its transport and pattern.

add_ratios() adds vs_stdlib and vs_raw_go to the throughput and memory rows
and time_vs_stdlib to the handle_request() rows; find() is the one lookup of
a measured row by its keys, shared with the targets; thread_ceiling() is
what the thread-cost rows bound.
"""

from __future__ import annotations

from typing import Any

from specs import THREAD_COST, Run

#: The stdlib server each transport's rows are compared with when stdlib has
#: no server of the row's own class.
STDLIB_DEFAULT = {
    "tcp": "ThreadingTCPServer",
    "unix": "ThreadingUnixStreamServer",
    "udp": "ThreadingUDPServer",
}


def find(rows: list[dict[str, Any]], **keys: Any) -> dict[str, Any] | None:
    """The first measured (not failed) row with these keys' values."""
    for row in rows:
        if all(row.get(k) == v for k, v in keys.items()) and "error" not in row:
            return row
    return None


def stdlib_twin(rows: list[dict[str, Any]], row: dict[str, Any]) -> dict[str, Any] | None:
    t, p = row["transport"], row["pattern"]
    if p == THREAD_COST:  # every shape against the module as it is
        return find(rows, impl="stdlib", server=STDLIB_DEFAULT[t], transport=t, pattern=p)
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


def thread_ceiling(rows: list[dict[str, Any]]) -> dict[str, float] | None:
    """What the thread-cost rows (thread_cost.py) bound, or None if not measured.

    thread_us is what a thread per request costs alone: the joined shape's
    time per request less the inline one's (no thread). A server that starts one
    per request cannot serve more than 1/thread_us requests a second, even
    if its loop and handler cost nothing: ceiling_rps, and ceiling_vs_stdlib
    against stdlib's ThreadingTCPServer of the same rows.
    """
    keys = {"impl": "stdlib", "transport": "tcp", "pattern": THREAD_COST}
    inline = find(rows, server="InlineTCPServer", **keys)
    joined = find(rows, server="JoinedThreadingTCPServer", **keys)
    std = find(rows, server="ThreadingTCPServer", **keys)
    if not (inline and joined and std and inline["rps"] and joined["rps"] and std["rps"]):
        return None
    thread_us = (1 / joined["rps"] - 1 / inline["rps"]) * 1e6
    if thread_us <= 0:
        return None
    ceiling = 1e6 / thread_us
    return {
        "thread_us": thread_us,
        "ceiling_rps": ceiling,
        "ceiling_vs_stdlib": ceiling / std["rps"],
        "stdlib_rps": std["rps"],
    }
