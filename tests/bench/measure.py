"""Measurement: ssload runs in mirrored halves, and repeated handle_request().

Each measure_* function adds its rows to the Run and prints one progress line
per row. The servers compared with each other run at once; with at least a
second per measurement each measurement is split into halves (or rounds)
taken in mirrored order (A B C, C B A, ...), so that a drift of the
machine's background load weighs on every server alike and cancels out of
the ratios. The idle-connection runs are in idle_memory.py.
"""

from __future__ import annotations

import json
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from specs import (
    HANDLE_REQUEST_CALLS,
    REPO,
    SEQUENTIAL,
    THREAD_COST,
    LoopSpec,
    Run,
    ServerSpec,
    packet_label,
)
from supervise import START_TIMEOUT, ServerProcess, read_line, running

#: Limit of each dial, write and read of the load generator.
OP_TIMEOUT = "3s"

#: A single client's rate hangs on every wake-up of client and server, so a
#: burst of background load skews it most: its measurement is taken in this
#: many mirrored rounds (A B C, C B A, A B C, C B A) rather than two halves.
SEQUENTIAL_ROUNDS = 4

#: With at least a second per measurement, the handle_request() calls are
#: made in this many rounds taken in mirrored order (A B C, C B A, A B C,
#: ...): each round is a few hundredths of a second, so a burst of the
#: machine's background load weighs on every implementation alike.
HANDLE_REQUEST_ROUNDS = 8
#: The limit of each step of a handle_request_loop.py process.
HANDLE_REQUEST_TIMEOUT = 60.0


# --- throughput: ssload against a group of servers started at once ----------


def load(
    run: Run, spec: ServerSpec, server: ServerProcess, pattern: str, secs: float
) -> dict[str, Any]:
    """One ssload run of *secs* seconds: its JSON result. Raises RuntimeError.

    The sequential pattern is one client of ssload's short pattern (datagram
    over UDP); the thread-cost pattern is the short one.
    """
    o = run.opts
    clients = o.clients
    if pattern == SEQUENTIAL:
        clients = 1
        pattern = "datagram" if spec.transport == "udp" else "short"
    elif pattern == THREAD_COST:
        pattern = "short"
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
        run.failed(run.throughput, row, label, error)
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


# --- repeated handle_request(), one process per implementation --------------


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
        run.failed(run.handle_request, row, label, error)
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


# --- the machine ------------------------------------------------------------


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
