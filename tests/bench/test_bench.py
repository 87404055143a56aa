"""The benchmark tooling works end to end: every kind of server answers verified echoes.

Figures are never asserted here (they are shown by ``make bench``); these
tests prove that the orchestrator, the Python and Go echo servers and the
load generator run together, that every echoed byte was checked, that the
idle-connection run reads the server process, and that nothing is left
running afterwards.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent

# One server of each family and transport, memory runs on three of them; a
# synchronous server's sequential client, the repeated handle_request() and
# the thread-cost rows.
ONLY = (
    r"^(raw Go net|Go packages (threading\.UDPServer|threading\.TCPServer)"
    r"|stdlib (InlineTCPServer|(Joined)?ThreadingTCPServer)|pyref ForkingTCPServer"
    r"|Go-backed drop-in (ThreadingUnixStreamServer|ThreadingUDPServer|ThreadingTCPServer)"
    r"|(stdlib|Go-backed drop-in) (TCPServer|UDPServer\.handle_request)"
    r"|asyncio|uvloop)"
)


def leftover_processes(marker: str) -> list[str]:
    """Command lines of running processes that mention *marker*."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmdline:
            found.append(cmdline)
    return found


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench-out")
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "run.py"),
            "--secs",
            "0.2",
            "--warmup",
            "0.05",
            "--clients",
            "4",
            "--conns",
            "40",
            "--only",
            ONLY,
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=200,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Targets (issue 6" in done.stdout
    assert leftover_processes(str(out)) == []
    data: dict[str, Any] = json.loads((out / "bench.json").read_text())
    data["_svg"] = (out / "bench.svg").read_text()
    data["_stdout"] = done.stdout
    return data


@pytest.mark.timeout(240)
def test_every_kind_answers_verified_echoes(report: dict[str, Any]) -> None:
    rows = report["throughput"]
    seen = {(r["impl"], r["transport"], r["pattern"]) for r in rows}
    for expected in [
        ("raw-go", "tcp", "short"),
        ("raw-go", "unix", "keepalive"),
        ("raw-go", "udp", "datagram"),
        ("go-pkg", "tcp", "keepalive"),
        ("go-pkg", "udp", "datagram"),
        ("stdlib", "tcp", "short"),
        ("pyref", "tcp", "keepalive"),
        ("go", "unix", "short"),
        ("go", "udp", "datagram"),
        ("asyncio", "tcp", "short"),
        ("uvloop", "tcp", "keepalive"),
        ("stdlib", "tcp", "sequential"),
        ("go", "tcp", "sequential"),
    ]:
        assert expected in seen, expected
    for r in rows:
        assert "error" not in r, r
        assert r["requests"] > 0 and r["errors"] == 0, r
        assert r["bytes_verified"] == r["requests"] * report["environment"]["payload_bytes"], r
        assert r["p50_ms"] <= r["p99_ms"], r
        if r["impl"] == "raw-go":
            assert r["vs_raw_go"] == pytest.approx(1.0)
    stdlib = next(r for r in rows if r["name"] == "stdlib ThreadingTCPServer")
    assert stdlib["vs_stdlib"] == pytest.approx(1.0)
    sequential = next(r for r in rows if r["name"] == "Go-backed drop-in TCPServer")
    assert sequential["stdlib_ref"] == "stdlib TCPServer"


@pytest.mark.timeout(240)
def test_handle_request_loop_reports_time_and_memory(report: dict[str, Any]) -> None:
    rows = {(r["impl"], r["max_packet_size"]): r for r in report["handle_request"]}
    assert set(rows) == {("stdlib", 16 << 20), ("go", 16 << 20), ("stdlib", 8192), ("go", 8192)}
    for r in rows.values():
        assert "error" not in r, r
        assert r["calls"] == 2000 and r["seconds"] > 0, r
        assert r["rss_before_kib"] > 0 and r["rss_after_kib"] > 0, r
        assert r["hwm_growth_kib"] >= 0, r
    assert rows[("stdlib", 16 << 20)]["time_vs_stdlib"] == pytest.approx(1.0)
    assert rows[("go", 8192)]["time_vs_stdlib"] > 0
    assert "Repeated handle_request()" in report["_stdout"]


@pytest.mark.timeout(240)
def test_idle_connections_are_read_from_the_server_process(report: dict[str, Any]) -> None:
    memory = {r["impl"]: r for r in report["memory"]}
    assert {"raw-go", "go-pkg", "stdlib", "go", "asyncio", "uvloop"} <= set(memory)
    for r in memory.values():
        assert "error" not in r, r
        assert r["held"] == 40 and r["failed"] == 0, r
        assert r["rss_held_kib"] > 0 and r["kib_per_conn"] is not None, r
    # A threading socketserver pins a thread per held connection; Go does not.
    assert memory["stdlib"]["threads_held"] >= 40 + memory["stdlib"]["threads_before"]
    assert memory["go"]["threads_held"] >= 40
    assert memory["raw-go"]["threads_held"] < 40
    assert memory["go-pkg"]["threads_held"] < 40


@pytest.mark.timeout(240)
def test_report_has_targets_and_chart(report: dict[str, Any]) -> None:
    targets = {t["target"]: t for t in report["targets"]}
    short = targets["drop-in ThreadingTCPServer short >= 3x stdlib"]
    assert short["status"] in ("met", "MISSED") and short["value"] > 0
    for name in (
        "drop-in TCPServer one sequential client >= 0.9x stdlib",
        "drop-in UDPServer.handle_request() x2,000 16 MiB time <= 2x stdlib",
    ):
        assert targets[name]["status"] in ("met", "MISSED") and targets[name]["value"] > 0
    memory = targets[
        "drop-in UDPServer.handle_request() x2,000 16 MiB peak RSS growth <= stdlib's + 8 MiB"
    ]
    assert memory["status"] in ("met", "MISSED") and memory["unit"] == "MiB"
    assert report["_svg"].startswith("<svg") and report["_svg"].rstrip().endswith("</svg>")
    assert "stdlib ThreadingTCPServer" in report["_svg"]
    assert "Idle connections" in report["_stdout"]
    issue10 = targets["drop-in ThreadingTCPServer short >= 2x stdlib (a new thread per request)"]
    assert issue10["status"] in ("met", "MISSED") and issue10["value"] > 0


@pytest.mark.timeout(240)
def test_thread_cost_rows_bound_a_thread_per_request(report: dict[str, Any]) -> None:
    rows = {r["server"]: r for r in report["throughput"] if r["pattern"] == "thread-cost"}
    assert set(rows) == {"InlineTCPServer", "JoinedThreadingTCPServer", "ThreadingTCPServer"}
    for row in rows.values():
        assert row["impl"] == "stdlib" and row["requests"] > 0 and row["errors"] == 0
        assert row["stdlib_ref"] == "stdlib ThreadingTCPServer"
    ceiling = report["thread_ceiling"]
    if ceiling is None:  # the joined shape measured as fast as no thread: noise
        assert rows["JoinedThreadingTCPServer"]["rps"] >= rows["InlineTCPServer"]["rps"]
    else:
        assert ceiling["thread_us"] > 0 and ceiling["ceiling_rps"] > 0
        assert "A thread per request costs" in report["_stdout"]


def test_thread_ceiling_arithmetic() -> None:
    compare = bench_module("compare")

    def row(server: str, rps: float) -> dict[str, Any]:
        return {"impl": "stdlib", "server": server, "transport": "tcp"} | {
            "pattern": "thread-cost",
            "rps": rps,
        }

    rows = [row("InlineTCPServer", 5000.0), row("JoinedThreadingTCPServer", 2000.0)]
    assert compare.thread_ceiling(rows) is None  # ThreadingTCPServer not measured
    rows.append(row("ThreadingTCPServer", 1500.0))
    c = compare.thread_ceiling(rows)
    # 1/2000 - 1/5000 s = 300 us a thread: at most 3,333 req/s, 2.22x 1,500.
    assert c["thread_us"] == pytest.approx(300.0)
    assert c["ceiling_rps"] == pytest.approx(10000 / 3)
    assert c["ceiling_vs_stdlib"] == pytest.approx(10000 / 3 / 1500)


def bench_module(name: str) -> Any:
    """One of the bench's modules (measure, specs, targets...), for its pure helpers."""
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCH))


def test_halves_merge_into_one_measurement() -> None:
    measure = bench_module("measure")
    half = {
        "rps": 0.0,
        "max_ms": 0.0,
        "errors": 0,
        "error_kinds": {},
        "first_error": "",
        "stale_datagrams": 0,
    }
    first = half | {"requests": 300, "seconds": 1.0, "p50_ms": 1.0, "p99_ms": 3.0}
    first |= {"max_ms": 9.0, "bytes_verified": 300 * 64}
    second = half | {"requests": 100, "seconds": 1.0, "p50_ms": 2.0, "p99_ms": 7.0}
    second |= {"max_ms": 5.0, "errors": 1, "error_kinds": {"timeout": 1}}
    second |= {"bytes_verified": 100 * 64, "backlog_full_retries": 2}
    merged = measure.merge([first, second])
    assert merged["rps"] == pytest.approx(200.0)  # all requests over all seconds
    assert merged["requests"] == 400 and merged["seconds"] == 2.0
    assert merged["p50_ms"] == pytest.approx(1.25) and merged["p99_ms"] == pytest.approx(4.0)
    assert merged["max_ms"] == 9.0 and merged["errors"] == 1
    assert merged["error_kinds"] == {"timeout": 1} and merged["backlog_full_retries"] == 2
    assert merged["bytes_verified"] == 400 * 64


def test_compared_servers_share_a_group() -> None:
    specs = bench_module("specs")
    found = {tuple(spec.name for spec in group) for group in specs.groups(specs.server_specs())}
    assert (
        "stdlib ThreadingTCPServer",
        "pyref ThreadingTCPServer",
        "Go-backed drop-in ThreadingTCPServer",
        "asyncio start_server",
        "uvloop start_server",
    ) in found
    assert ("raw Go net goroutine per connection", "Go packages threading.TCPServer") in found
    assert ("stdlib TCPServer", "pyref TCPServer", "Go-backed drop-in TCPServer") in found
    assert (
        "stdlib InlineTCPServer",
        "stdlib JoinedThreadingTCPServer",
        "stdlib ThreadingTCPServer",
    ) in found
    assert (
        "stdlib UnixStreamServer",
        "pyref UnixStreamServer",
        "Go-backed drop-in UnixStreamServer",
    ) in found
    udp = [spec for spec in specs.server_specs() if spec.server == "UDPServer"]
    assert len(udp) == 3 and all(spec.patterns == ("datagram", "sequential") for spec in udp)
    loops = [[(spec.impl, spec.packet) for spec in group] for group in specs.loop_specs()]
    assert loops == [
        [("stdlib", 16 << 20), ("pyref", 16 << 20), ("go", 16 << 20)],
        [("stdlib", 8192), ("pyref", 8192), ("go", 8192)],
    ]
    assert (
        "raw Go net one ReadFrom/WriteTo loop",
        "Go packages threading.UDPServer",
        "Go packages server.UDPServer",
    ) in found


def test_targets_are_one_table() -> None:
    targets = bench_module("targets")
    names = [t.what for t in targets.TARGETS]
    assert len(names) == len(set(names)), "a target is defined twice"
    # Issue 12, item 5: the Go packages' UDP servers and Unix keep-alive.
    for name in (
        "Go packages threading.UDPServer udp datagram >= 0.9x raw Go",
        "Go packages server.UDPServer udp datagram >= 0.9x raw Go",
        "Go packages threading.UnixStreamServer unix keepalive >= 0.9x raw Go",
    ):
        assert names.count(name) == 1, name
    # Every target reads rows some server or handle_request() process produces.
    specs = bench_module("specs")
    servers = specs.server_specs()
    for t in targets.TARGETS:
        if t.metric is targets.RPS:
            for keys in (t.subject, t.reference):
                assert any(
                    all(getattr(s, k) == v for k, v in keys.items() if k != "pattern")
                    and keys["pattern"] in s.patterns
                    for s in servers
                ), (t.what, keys)
