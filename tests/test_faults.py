"""The differential fault suite (issue 10): faults, misuse and hostile conditions.

Each case runs a scenario script of tests/faults/ in a fresh interpreter
(``python tests/faults/<scenario>.py IMPL CASE [ARGS]``) that loads the
implementation as ``socketserver`` exactly as support.py does, provokes the
fault and prints what happened as one JSON object (exception types and
messages, counts, exit codes and stderr of its own children).  The test runs
the stdlib first, checks that its outcome is the one CPython is known to give
(so two broken things are never compared), then runs the implementation and
asserts the same outcome and exit status.  A subprocess cannot take the test
runner down: it gets its own process group, a hard time limit after which
the whole group is killed, and it is always reaped.

The module is only loaded in the subprocess: the ``ss`` fixture is
overridden here to hand the tests the implementation's *name* (the ids and
the FEATURES citations stay those of the rest of the suite).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest
import support

FAULTS = support.REPO / "tests" / "faults"

#: Hard limit for one scenario run; the process group is killed after it.
RUN_TIMEOUT = 30.0


@pytest.fixture
def ss(request: pytest.FixtureRequest) -> str:
    """The implementation's name only: the scenario loads the module in its subprocess."""
    name: str = request.param
    return name


# --- running scenarios ----------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One scenario run: exit status, the JSON outcome it printed (None if none), stderr."""

    rc: int
    outcome: Any
    stderr: str
    file: str | None

    def summary(self) -> str:
        lines = self.stderr.splitlines()
        if len(lines) > 40:
            lines = [*lines[:20], "[...]", *lines[-20:]]
        text = "\n".join(lines)
        return f"exit status {self.rc}, outcome {self.outcome!r}\n--- stderr ---\n{text}"


def run(impl: str, scenario: str, *args: str, timeout: float = RUN_TIMEOUT) -> Run:
    """Run tests/faults/<scenario>.py IMPL ARGS in its own process group, bounded."""
    command = [sys.executable, str(FAULTS / f"{scenario}.py"), impl, *args]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        err += f"\n[test_faults: killed after {timeout} s]"
    finally:
        # Whatever the scenario left in its group (forked children) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    outcome: Any = None
    file = None
    lines = out.strip().splitlines()
    if lines:
        with contextlib.suppress(ValueError):
            record = json.loads(lines[-1])
            outcome, file = record["outcome"], record["file"]
    return Run(proc.returncode, outcome, err, file)


_STDLIB_RUNS: dict[tuple[str, ...], Run] = {}


def stdlib_run(scenario: str, *args: str) -> Run:
    """The stdlib's run of a case, once per test session."""
    key = (scenario, *args)
    if key not in _STDLIB_RUNS:
        _STDLIB_RUNS[key] = run(support.STDLIB, scenario, *args)
    return _STDLIB_RUNS[key]


def check(impl: str, scenario: str, *args: str, expected: dict[str, Any]) -> None:
    """The stdlib's outcome of the case is *expected*; impl's outcome and exit status equal it.

    The stdlib is run first (once per session) and checked against what
    CPython is known to do, so two broken things are never compared; then
    impl's outcome must equal the stdlib's exactly (messages included).
    """
    base = stdlib_run(scenario, *args)
    assert base.rc == 0 and base.outcome is not None, "stdlib run failed:\n" + base.summary()
    assert base.outcome == expected, "stdlib outcome not as expected:\n" + base.summary()
    if support.is_stdlib(impl):
        return
    got = run(impl, scenario, *args)
    assert got.outcome is not None, f"{impl} printed no outcome:\n" + got.summary()
    assert got.file == str(support.impl_path(impl)), got.file
    assert got.outcome == base.outcome, f"{impl} differs from stdlib:\n" + got.summary()
    assert got.rc == base.rc, f"{impl} exit status differs:\n" + got.summary()
    assert "fatal error" not in got.stderr, got.summary()


EMFILE = "OSError: [Errno 24] Too many open files"


# --- 1. descriptor exhaustion ---------------------------------------------------


@pytest.mark.features("B8", "G5", "H4")
def test_fd_limit_threading_server_survives(impl: str) -> None:
    # ulimit -n 64, 200 clients at once from another process: accept()'s
    # EMFILE is ignored (B8), the process lives, and serves again afterwards.
    check(
        impl,
        "fd_exhaustion",
        "rlimit_threading",
        expected={
            "clients_exit": 0,
            "some_served": True,
            "all_answered_or_failed": True,
            "after": "echo after\n",
            "shutdown": "returned",
            "server_close": "returned",
        },
    )


@pytest.mark.features("B8", "C11", "B4")
def test_full_fd_table_tcp_client_waits_then_served(impl: str) -> None:
    check(
        impl,
        "fd_exhaustion",
        "fill_table",
        expected={
            "table_full": EMFILE,
            "while_full": "no reply yet",
            "loop_alive_while_full": True,
            "after_freeing": "echo waiting\n",
            "shutdown": "returned",
            "server_close": "returned",
        },
    )


@pytest.mark.features("D4", "D5", "B7")
def test_full_fd_table_udp_keeps_serving(impl: str) -> None:
    # Datagrams need no descriptor: all 100 are answered while the table is
    # full (the go runtime must not need one either, e.g. when it collects).
    check(
        impl,
        "fd_exhaustion",
        "fill_table_udp",
        expected={"table_full": EMFILE, "answered_while_full": 100},
    )


# --- 2. descriptor ownership in a synchronous server -----------------------------

LOOPS = ("handle_request", "serve_forever")


@pytest.mark.features("C12", "C13", "B11", "J1")
@pytest.mark.parametrize("loop", LOOPS)
def test_detached_request_is_not_shut_down(impl: str, loop: str) -> None:
    check(
        impl,
        "ownership",
        "detach",
        loop,
        expected={
            "serve": "returned",
            "client_received": "hello from the handoff thread\n",
            "writer": "sent",
        },
    )


@pytest.mark.features("C12", "C13", "J1")
@pytest.mark.parametrize("loop", LOOPS)
def test_closed_request_number_reused_is_left_alone(impl: str, loop: str) -> None:
    check(
        impl,
        "ownership",
        "close_reuse",
        loop,
        expected={
            "serve": "returned",
            "same_number": True,
            "send": "sent",
            "peer_received": "still mine",
            "peer_then": "nothing (open)",
            "reply": "reply",
        },
    )


# --- 3. a closed server's loop and a new server on the same number ---------------


@pytest.mark.features("C9", "B4", "B8", "B5")
@pytest.mark.parametrize("kind", ["tcp", "udp"])
def test_closed_servers_loop_never_serves_new_server(impl: str, kind: str) -> None:
    check(
        impl,
        "closed_loop",
        kind,
        expected={
            "same_number": True,
            "answers": {"new": 20 if kind == "tcp" else 100},
            "new_shutdown": "returned",
            "old_loop_alive": True,
            "old_shutdown": "returned",
            "old_loop_ended": True,
        },
    )


# --- 4. Thread.start() failing ------------------------------------------------------

CANT_START = "RuntimeError: can't start new thread"
JOIN_UNSTARTED = "raised RuntimeError: cannot join thread before it is started"


#: case -> (what the clients got, what server_close() did)
THREAD_START_CASES = {
    # server_close() joins the unstarted thread still tracked (F4).
    "fail_then_close": (["EOF"], JOIN_UNSTARTED),
    # the next request's append prunes it (F2): server_close() returns.
    "fail_recover_close": (["EOF", "echo 1"], "returned"),
    "warm_then_fail": (["echo 0", "EOF"], JOIN_UNSTARTED),
    "serve_forever": (["EOF"], JOIN_UNSTARTED),
}


@pytest.mark.features("G5", "F2", "F4", "G6", "B8", "B16")
@pytest.mark.parametrize("case", THREAD_START_CASES)
def test_thread_start_failure(impl: str, case: str) -> None:
    replies, closed = THREAD_START_CASES[case]
    check(
        impl,
        "thread_start",
        case,
        expected={
            "replies": replies,
            "handle_error": [CANT_START],
            "shutdown": "returned" if case == "serve_forever" else "not serving",
            "server_close": closed,
        },
    )


# --- 5. forked children ------------------------------------------------------------

HOWS = ("fork", "mp")
CLEAN_CLOSE = {"exit": 0, "stderr": "", "result": {"server_close": "returned", "fileno": -1}}
PARENT_SERVED = [["echo 0", "echo 1", "echo after"], "returned", "returned"]


#: case -> what the parent saw besides the child
CLOSE_CASES: dict[str, dict[str, Any]] = {
    "close_plain": {},
    "close_threading": {"parent": PARENT_SERVED},
    "close_inflight": {"in_flight": True, "parent": ["slow inflight", "returned", "returned"]},
}


@pytest.mark.features("C9", "G6", "J3")
@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("case", CLOSE_CASES)
def test_forked_child_closes_inherited_server(impl: str, how: str, case: str) -> None:
    check(impl, "fork", case, how, expected={"child": CLEAN_CLOSE, **CLOSE_CASES[case]})


@pytest.mark.features("B7", "B4", "B5", "H4", "G5")
@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("loop", ["serve_handle_request", "serve_forever"])
def test_forked_child_serves_a_new_server(impl: str, how: str, loop: str) -> None:
    child = {
        "exit": 0,
        "stderr": "",
        "result": {"served": "returned", "reply": "echo child", "server_close": "returned"},
    }
    check(impl, "fork", loop, how, expected={"TCPServer": child, "ThreadingTCPServer": child})


@pytest.mark.features("G1", "G5")
@pytest.mark.parametrize("how", HOWS)
def test_forked_child_exits_cleanly(impl: str, how: str) -> None:
    # fork: sys.exit(0) in the child runs the interpreter's exit; mp: the
    # multiprocessing child's exit code.  No traceback either way.
    check(
        impl,
        "fork",
        "exit",
        how,
        expected={
            "child": {"exit": 0, "stderr": "", "result": {}},
            "parent": ["echo before", "returned"],
        },
    )


# --- 6. bad timeouts -----------------------------------------------------------------


class Raises:
    """Equal to an outcome ``raised <type>: <any message>`` (messages vary by version)."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.startswith(f"raised {self.type_name}: ")

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Raises({self.type_name})"


TIMEOUT_VALUES = ("nan", "inf", "-inf", "1e10", "1e9", "2**64", "-1", "0", "0.05", "str", "None")
#: What CPython's PollSelector raises for a wait of that many seconds
#: (-inf, -1 and 0 mean "poll, do not wait"; None "wait forever").
SELECT_RAISES = {
    "nan": "ValueError",
    "inf": "OverflowError",
    "1e10": "OverflowError",
    "1e9": "OverflowError",
    "2**64": "OverflowError",
    "str": "TypeError",
}
#: What socket.settimeout() raises.
SETTIMEOUT_RAISES = {
    "nan": "ValueError",
    "inf": "OverflowError",
    "-inf": "OverflowError",
    "1e10": "OverflowError",
    "2**64": "OverflowError",
    "-1": "ValueError",
    "str": "TypeError",
}


def expected_handle_request(key: str) -> dict[str, Any]:
    if key in SELECT_RAISES:
        return {"handle_request": Raises(SELECT_RAISES[key]), "handled": False}
    if key == "None":  # waits until a client comes, and serves it
        return {"handle_request": "blocked", "after_client": "returned", "handled": True}
    return {"handle_request": "returned", "handled": False, "waited_at_least_40ms": key == "0.05"}


@pytest.mark.features("B4", "B5", "A9")
@pytest.mark.parametrize("key", TIMEOUT_VALUES)
def test_serve_forever_poll_interval(impl: str, key: str) -> None:
    if key in SELECT_RAISES:
        expected: dict[str, Any] = {"serve_forever": Raises(SELECT_RAISES[key])}
    elif key == "None":  # the loop waits for a client before it sees shutdown()
        expected = {
            "serve_forever": "returned",
            "shutdown": "blocked",
            "shutdown_after_client": "returned",
        }
    else:
        expected = {"serve_forever": "returned", "shutdown": "returned"}
    check(impl, "timeouts", "serve_forever", key, expected={**expected, "handled": False})


@pytest.mark.features("B7", "B9", "B1", "J5")
@pytest.mark.parametrize("key", TIMEOUT_VALUES)
def test_handle_request_server_timeout(impl: str, key: str) -> None:
    check(impl, "timeouts", "server_timeout", key, expected=expected_handle_request(key))


@pytest.mark.features("B7", "B9")
@pytest.mark.parametrize("key", TIMEOUT_VALUES)
def test_handle_request_socket_timeout(impl: str, key: str) -> None:
    if key in SETTIMEOUT_RAISES:
        expected: dict[str, Any] = {"settimeout": Raises(SETTIMEOUT_RAISES[key])}
    else:
        expected = {"settimeout": "returned", **expected_handle_request(key)}
    check(impl, "timeouts", "socket_timeout", key, expected=expected)


# --- 7. per-request isolation in ThreadingMixIn servers ---------------------------


@pytest.mark.features("G1", "G4", "G5", "H3", "H4", "J2", "J5")
@pytest.mark.parametrize("daemon", ["daemon", "nondaemon"])
@pytest.mark.parametrize("kind", ["tcp", "udp"])
def test_each_request_runs_in_a_new_thread(impl: str, kind: str, daemon: str) -> None:
    fresh = {
        "local_seen": None,  # no threading.local attribute of an earlier request
        "context_seen": None,  # no ContextVar value of an earlier request
        "name": True,  # Thread-N (process_request_thread)
        "type": "Thread",
        "daemon_is_daemon_threads": True,
        "enumerated": True,
        "is_main": False,
    }
    check(
        impl,
        "isolation",
        kind,
        daemon,
        expected={
            "replies": ["done"] * 4,
            "requests": [fresh] * 4,
            "thread_gone_after_request": [True] * 4,
            "distinct_threads": True,
            "burst_replies": 20,
            "active_count_back_to_baseline": True,
            "boom_reply": "EOF" if kind == "tcp" else "error TimeoutError",
            "excepthook": [{"exc_type": "Boom", "thread_is_request_thread": True}],
            "shutdown": "returned",
            "server_close": "returned",
        },
    )


# --- 8. lifecycle misuse ---------------------------------------------------------------


@pytest.mark.features("C9", "E9", "G6", "B17")
@pytest.mark.parametrize(
    "name",
    ["TCPServer", "UDPServer", "ThreadingTCPServer", "ThreadingUDPServer", "ForkingTCPServer"],
)
def test_server_close_twice(impl: str, name: str) -> None:
    check(
        impl,
        "lifecycle",
        "close_twice",
        name,
        expected={"reply": "echo x", "first": "returned", "second": "returned", "fileno": -1},
    )


@pytest.mark.features("B5", "B4")
def test_shutdown_before_serve_forever(impl: str) -> None:
    check(
        impl,
        "lifecycle",
        "shutdown_before_serve",
        expected={
            "shutdown_before_serve": "blocked",  # until a loop runs...
            "serve_forever": "returned",  # ...which exits at once
            "shutdown_then": "returned",
            "shutdown_after_loop": "returned",
            "next_serve_forever": "returned",
        },
    )


@pytest.mark.features("C6", "C9")
@pytest.mark.parametrize(
    "state",
    [
        "TCPServer",
        "TCPServer-handle_request",
        "TCPServer-serve_forever",
        "UDPServer-handle_request",
        "ThreadingTCPServer-serve_forever",
        "ThreadingUDPServer-serve_forever",
    ],
)
def test_unclosed_server_collected_with_resource_warning(impl: str, state: str) -> None:
    check(
        impl,
        "lifecycle",
        "gc_unclosed",
        state,
        expected={
            "reply": "echo x" if "-" in state else None,
            "collected": True,
            "warnings": [["ResourceWarning", "unclosed <socket.socket"]],
        },
    )


@pytest.mark.features("C9", "B7", "B4", "A9")
@pytest.mark.parametrize("name", ["TCPServer", "UDPServer", "ThreadingTCPServer"])
@pytest.mark.parametrize("op", ["handle_request", "serve_forever"])
def test_serving_after_server_close(impl: str, op: str, name: str) -> None:
    check(
        impl,
        "lifecycle",
        "after_close",
        op,
        name,
        expected={op: "raised ValueError: Invalid file descriptor: -1"},
    )
