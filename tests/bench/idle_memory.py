"""Idle connections: what a server's process holds for each connection it keeps open.

ssload's hold pattern opens up to --conns connections, each answering one
line, and keeps them idle while the server's RSS and thread count are read
from /proc/PID/status and its resident memory by kind from /proc/PID/smaps.
"""

from __future__ import annotations

import json
import subprocess
import time
from contextlib import suppress
from typing import Any

from specs import REPO, Run, ServerSpec
from supervise import read_line, running


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
