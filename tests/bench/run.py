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

The concerns live in their own modules: specs.py (the servers under test and
the run's state), supervise.py (the processes), measure.py and
idle_memory.py (the measurements), compare.py (the ratios), targets.py (the
targets, as a table) and report.py (the tables, bench.json and the chart).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

import report
from compare import add_ratios
from idle_memory import measure_memory
from measure import cpu_busy, measure_group, measure_handle_request
from specs import REPO, Options, Run, groups, loop_specs, server_specs
from supervise import become_subreaper, build_tools, raise_nofile
from targets import evaluate


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
    found = evaluate(run) if not opts.quick else []
    report.print_tables(run)
    if found:
        report.print_targets(found)
    json_path, svg_path = report.write(run, found, nofile, elapsed)
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
