"""Hook traces: the exact sequence of hook calls, the same for every implementation.

Each scenario records every overridable hook of the server (get_request,
verify_request, process_request, process_request_thread, finish_request,
shutdown_request, close_request, handle_error, handle_timeout,
service_actions, collect_children, server_close, ...) and of the handler
(setup, handle, finish) as a nested call tree per lane (support.Tracer):
``main`` is the test's thread, ``worker`` a ThreadingMixIn request thread,
``child`` a ForkingMixIn child (which sends its events back through a pipe),
``serve`` a thread running serve_forever.  ``!Type`` marks a call that raised.

The scenarios are data, tests/scenarios.json (its ``fields`` describe the
format), written once from the specification (FEATURES.md) and run here
against every implementation and by ``go test`` against the Go packages
natively (pkg/internal/scenario); each scenario's FEATURES rows are its
``features`` mark.
"""

from __future__ import annotations

import builtins
import json
import os
import socket
import threading
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import support
from support import SERVER_HOOKS, Raise, Return, Tracer, fork_guard, traced_class

ADDR = ("127.0.0.1", 0)
SCENARIOS_JSON = Path(__file__).resolve().parent / "scenarios.json"
REPORT = "Exception occurred during processing of request from"


def exception_class(name: str) -> type[BaseException]:
    cls = getattr(builtins, name)
    assert isinstance(cls, type) and issubclass(cls, BaseException), name
    return cls


def behaviour(spec: Any, base: type, hook: str) -> Any:
    """A scenario behaviour for traced_class: Raise, Return, or (with "super") a callable.

    {"raise": ..., "args": [...]} raises, {"return": ...} returns; with
    "super": true, *base*'s *hook* runs first.
    """
    if spec is None or spec == "echo":
        return None
    if "raise" in spec:
        outcome: Any = Raise(exception_class(spec["raise"])(*spec.get("args", [])))
    else:
        outcome = Return(spec["return"])
    if not spec.get("super"):
        return outcome

    def after_super(self: Any, *args: Any) -> Any:
        getattr(base, hook)(self, *args)
        if isinstance(outcome, Raise):
            raise outcome.exc
        return outcome.value

    return after_super


@dataclass
class Scenario:
    """One entry of scenarios.json (see its ``fields``)."""

    name: str
    server: str
    features: list[str]
    expected: dict[str, str]
    note: str = ""
    handle: Any = None
    handle_delay: float = 0.0
    handler_base: str | None = None
    handler_hooks: dict[str, Any] | None = None
    handler_attrs: dict[str, Any] | None = None
    hooks: dict[str, Any] | None = None
    attrs: dict[str, Any] | None = None
    construct: str = "server_bind server_activate"
    construct_raises: str | None = None
    client: str = "line"
    drive: str = "handle_request"
    raises: str | None = None
    reply: str | None = None
    reply_size: int | None = None
    exit_code: int | None = None
    left_open: bool = False
    stderr_report: bool = False
    collapse: list[str] | None = None
    differs_311: dict[str, str] | None = None
    go_skip: str = ""

    def marks(self) -> list[pytest.MarkDecorator]:
        marks = [pytest.mark.features(*self.features)]
        if self.differs_311 is not None:
            raises = exception_class(self.differs_311["raises"])
            marks.append(pytest.mark.differs_311(self.differs_311["reason"], raises=raises))
        return marks


def load_scenarios() -> dict[str, Scenario]:
    scenarios: dict[str, Scenario] = {}
    for entry in json.loads(SCENARIOS_JSON.read_text())["scenarios"]:
        sc = Scenario(**entry)
        assert sc.name not in scenarios, f"scenario {sc.name} defined twice"
        scenarios[sc.name] = sc
    return scenarios


SCENARIOS = load_scenarios()


class Run:
    """The parts of one scenario run: its server, client and tracer."""

    def __init__(self, ss: types.ModuleType, sc: Scenario, tracer: Tracer, sockdir: Path) -> None:
        self.sc = sc
        self.tracer = tracer
        self.sockdir = sockdir
        base = getattr(ss, sc.server)
        self.stream = base.socket_type == socket.SOCK_STREAM
        self.unix = base.address_family == socket.AF_UNIX
        self.family = socket.AF_UNIX if self.unix else socket.AF_INET
        self.forking = hasattr(base, "collect_children")

        def echo(handler: Any) -> None:
            time.sleep(sc.handle_delay)
            handler.wfile.write(handler.rfile.readline())

        if sc.handler_base is not None:
            handler_base = getattr(ss, sc.handler_base)
        else:
            handler_base = ss.StreamRequestHandler if self.stream else ss.DatagramRequestHandler
        handler_behave = {
            h: behaviour(b, handler_base, h) for h, b in (sc.handler_hooks or {}).items()
        }
        handler_behave["handle"] = behaviour(sc.handle, handler_base, "handle") or echo
        self.handler_cls = traced_class(
            handler_base,
            support.HANDLER_HOOKS,
            tracer,
            handler_behave,
            {
                **(
                    {"timeout": support.TIMEOUT} if handler_base is ss.StreamRequestHandler else {}
                ),
                **(sc.handler_attrs or {}),
            },
        )
        hooks = {hook: behaviour(spec, base, hook) for hook, spec in (sc.hooks or {}).items()}
        self.server_cls = traced_class(base, SERVER_HOOKS, tracer, hooks)
        self.address = str(sockdir / "s.sock") if self.unix else ADDR
        self.line = f"request for {sc.name}\n".encode()
        self.client: socket.socket | None = None

    def send(self, server: Any) -> None:
        if self.stream:
            self.client = support.connect(server.server_address, self.family)
            self.client.sendall(self.line)
        else:
            bind = str(self.sockdir / "c.sock") if self.unix else None
            self.client = support.datagram_client(self.family, bind)
            self.client.sendto(self.line, server.server_address)

    def check_reply(self) -> None:
        if self.client is None or self.sc.reply in (None, "unread"):
            return
        reply = support.recv_all(self.client) if self.stream else self.client.recv(65536)
        want = self.line if self.sc.reply == "line" else b""
        if self.sc.reply_size is not None:
            want = want[: self.sc.reply_size]
        assert reply == want

    def wait_child(self, server: Any) -> None:
        """Wait for the one forked child; check its exit status and collect its events."""
        (pid,) = server.active_children
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == self.sc.exit_code
        self.tracer.collect_child_events()

    def drive(self, server: Any) -> None:
        sc = self.sc
        if sc.drive == "handle_request":
            if sc.raises is None:
                assert server.handle_request() is None
            else:
                with pytest.raises(exception_class(sc.raises)) as info:
                    server.handle_request()
                assert type(info.value).__name__ == sc.raises
            self.check_reply()
            if sc.exit_code is not None:
                self.wait_child(server)
        elif sc.drive == "serve_forever":
            self.serve_forever(server)
        elif sc.drive == "shutdown_then_serve":
            helper = support.start_thread(server.shutdown, name="shutdown")
            time.sleep(0.05)  # shutdown() has set the flag and waits
            assert server.serve_forever(0.01) is None
            helper.join(support.TIMEOUT)
            assert not helper.is_alive(), "shutdown() did not return"
        elif sc.drive == "exit":
            with server as entered:
                assert entered is server
        else:
            assert sc.drive == "none", sc.drive

    def serve_forever(self, server: Any) -> None:
        """serve_forever(0.01) in the "serve" thread until the request is done and idle."""
        result: dict[str, Any] = {}

        pid = os.getpid()

        def serve() -> None:
            try:
                result["value"] = server.serve_forever(0.01)
            except BaseException as exc:
                result["error"] = exc
            finally:
                if os.getpid() != pid:  # a forked child must never get here
                    os._exit(99)

        thread = threading.Thread(target=serve, name="serve", daemon=True)
        thread.start()
        try:
            self.check_reply()
            if self.forking:
                support.wait_until(
                    lambda: server.active_children == set(), "service_actions to reap the child"
                )
                self.tracer.collect_child_events()
            support.wait_until(
                lambda: self.tracer.names("serve").count("service_actions") >= 2,
                "an idle iteration",
            )
        finally:
            if os.getpid() == pid:
                support.call_with_timeout(server.shutdown)
                thread.join(support.TIMEOUT)
        assert not thread.is_alive(), "serve_forever() did not return after shutdown()"
        assert result == {"value": None}


@pytest.mark.parametrize(
    "name",
    [pytest.param(name, marks=sc.marks()) for name, sc in SCENARIOS.items()],
)
def test_hook_trace(
    ss: types.ModuleType,
    tracer: Tracer,
    sockdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    name: str,
) -> None:
    sc = SCENARIOS[name]
    run = Run(ss, sc, tracer, sockdir)
    monkeypatch.setattr(
        threading, "excepthook", lambda args: tracer.note(f"excepthook:{args.exc_type.__name__}")
    )
    if sc.construct_raises is not None:
        with pytest.raises(exception_class(sc.construct_raises)) as info:
            run.server_cls(run.address, run.handler_cls)
        assert type(info.value).__name__ == sc.construct_raises
        assert {lane: tracer.render(lane) for lane in ("main",)} == sc.expected
        return

    server = run.server_cls(run.address, run.handler_cls)
    try:
        assert tracer.render() == sc.construct
        tracer.events.clear()
        server.timeout = support.TIMEOUT if sc.client == "line" else 0.001
        for attr, value in (sc.attrs or {}).items():
            setattr(server, attr, value)
        if sc.client == "line":
            run.send(server)
        with fork_guard():
            run.drive(server)
    finally:
        if run.client is not None:
            run.client.close()
        server.server_close()
        left_open = [
            r for r in tracer.requests if isinstance(r, socket.socket) and r.fileno() >= 0
        ]
        for request in left_open:
            request.close()

    assert bool(left_open) == sc.left_open
    assert server.fileno() == -1  # C9
    if run.forking:
        # server_close waited for every child (block_on_close, E4, E9).
        assert not server.active_children
        if sc.exit_code is None and sc.drive == "handle_request":
            tracer.collect_child_events()
    collapse = tuple(sc.collapse or ())
    lanes = sorted({lane for lane, *_ in tracer.events})
    assert {lane: tracer.render(lane, collapse) for lane in lanes} == sc.expected
    assert (REPORT in capfd.readouterr().err) == sc.stderr_report


def test_scenarios_cover_features_b_to_j() -> None:
    """Each FEATURES row of B-J is cited by a scenario, or listed as not with a reason."""
    not_in = json.loads(SCENARIOS_JSON.read_text())["not_in_scenarios"]
    cited = {row for sc in SCENARIOS.values() for row in sc.features}
    rows = support.feature_rows()
    assert cited <= set(rows), sorted(cited - set(rows))
    assert not cited & set(not_in), (
        f"cited and listed as not covered: {sorted(cited & set(not_in))}"
    )
    assert all(reason for reason in not_in.values())
    b_to_j = [row for row in rows if row[0] in "BCDEFGHIJ"]
    assert [row for row in b_to_j if row not in cited and row not in not_in] == []
