"""Reporting: the tables, the targets, bench.json and the chart.

Everything here reads a finished Run (its rows with their ratios, see
compare.py) and prints or writes it; nothing is measured.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

import chart
from compare import thread_ceiling
from measure import SEQUENTIAL_ROUNDS
from specs import HANDLE_REQUEST_CALLS, SECTIONS, Options, Run, packet_label

#: The issue's anchors (an independent load generator, this machine, 16 clients).
ANCHORS = {
    "raw Go": "13.5k short / 104k keep-alive / 116k UDP req/s, 9.6 KiB per idle connection",
    "stdlib": "ThreadingTCPServer 3.3k short / 61k keep-alive, ThreadingUDPServer 3.3k, "
    "25.9 KiB and 10,001 threads for 10,000 idle connections",
    "asyncio": "9.6k short / 33k keep-alive, 5.4 KiB per idle connection",
    "uvloop": "10.7k short / 55k keep-alive",
}


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
    print_thread_ceiling(run)
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


def print_thread_ceiling(run: Run) -> None:
    """The ceiling the thread-cost rows put on a thread per request (issue 10)."""
    c = thread_ceiling(run.throughput)
    if c is None:
        return
    print(
        f"  A thread per request costs {c['thread_us']:.0f} us here (the joined shape's time per "
        "request less the inline one's): a server that"
    )
    print(
        f"  starts one per request serves at most {c['ceiling_rps']:,.0f} req/s even if its loop "
        f"and handler cost nothing, {c['ceiling_vs_stdlib']:.2f}x stdlib's ThreadingTCPServer."
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


def print_targets(found: list[dict[str, Any]]) -> None:
    print()
    print(
        "Targets (issue 6; thread per request, sequential and handle_request: issue 10; "
        "never asserted):"
    )
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


def write(
    run: Run, found: list[dict[str, Any]], nofile: tuple[int, int], elapsed: float
) -> tuple[Path, Path]:
    """Write bench.json and bench.svg (quick.* for --quick): their paths."""
    opts = run.opts
    stem = "quick" if opts.quick else "bench"
    report = {
        "environment": environment(opts, nofile),
        "elapsed_seconds": elapsed,
        "throughput": run.throughput,
        "memory": run.memory,
        "handle_request": run.handle_request,
        "thread_ceiling": thread_ceiling(run.throughput),
        "targets": found,
        "failures": run.failures,
        "anchors": ANCHORS,
    }
    json_path = opts.out / f"{stem}.json"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    svg_path = opts.out / f"{stem}.svg"
    svg_path.write_text(chart.render(report, SECTIONS))
    return json_path, svg_path
