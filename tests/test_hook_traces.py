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
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import support
from support import SERVER_HOOKS, Raise, Return, Tracer, fork_guard, traced_class

ADDR = ("127.0.0.1", 0)
SCENARIOS_JSON = Path(__file__).resolve().parent / "scenarios.json"

HANDLED = "finish_request(setup handle finish)"
SHUTDOWN = "shutdown_request(close_request)"


def exception_class(name: str) -> type[BaseException]:
    cls = getattr(builtins, name)
    assert isinstance(cls, type) and issubclass(cls, BaseException), name
    return cls


def behaviour(spec: Any) -> Any:
    """A scenario behaviour ({"raise": ..., "args": [...]} or {"return": ...}) for traced_class."""
    if spec is None or spec == "echo":
        return None
    if "raise" in spec:
        return Raise(exception_class(spec["raise"])(*spec.get("args", [])))
    return Return(spec["return"])


@dataclass
class Scenario:
    """One entry of scenarios.json (see its ``fields``)."""

    name: str
    server: str
    features: list[str]
    expected: dict[str, str]
    handle: Any = None
    hooks: dict[str, Any] | None = None
    client: str = "line"
    drive: str = "handle_request"
    raises: str | None = None
    reply: str | None = None
    exit_code: int | None = None
    left_open: bool = False
    stderr_report: bool = False
    note: str = ""
    go_skip: str = ""


def load_scenarios() -> dict[str, Scenario]:
    scenarios: dict[str, Scenario] = {}
    for entry in json.loads(SCENARIOS_JSON.read_text())["scenarios"]:
        sc = Scenario(**entry)
        assert sc.name not in scenarios, f"scenario {sc.name} defined twice"
        scenarios[sc.name] = sc
    return scenarios


SCENARIOS = load_scenarios()


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.features(*sc.features))
        for name, sc in SCENARIOS.items()
    ],
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
    assert sc.drive == "handle_request", sc.drive
    base = getattr(ss, sc.server)
    stream = base.socket_type == socket.SOCK_STREAM
    unix = base.address_family == socket.AF_UNIX
    family = socket.AF_UNIX if unix else socket.AF_INET

    def echo(handler: Any) -> None:
        handler.wfile.write(handler.rfile.readline())

    handler_base = ss.StreamRequestHandler if stream else ss.DatagramRequestHandler
    handler_cls = traced_class(
        handler_base,
        support.HANDLER_HOOKS,
        tracer,
        {"handle": behaviour(sc.handle) or echo},
        {"timeout": support.TIMEOUT} if stream else None,
    )
    hooks = {hook: behaviour(spec) for hook, spec in (sc.hooks or {}).items()}
    server_cls = traced_class(base, SERVER_HOOKS, tracer, hooks)
    monkeypatch.setattr(
        threading, "excepthook", lambda args: tracer.note(f"excepthook:{args.exc_type.__name__}")
    )

    server = server_cls(str(sockdir / "s.sock") if unix else ADDR, handler_cls)
    client: socket.socket | None = None
    try:
        assert tracer.render() == "server_bind server_activate"
        tracer.events.clear()
        with_client = sc.client == "line"
        server.timeout = support.TIMEOUT if with_client else 0.001
        line = f"request for {name}\n".encode()
        if with_client and stream:
            client = support.connect(server.server_address, family)
            client.sendall(line)
        elif with_client:
            client = support.datagram_client(family, str(sockdir / "c.sock") if unix else None)
            client.sendto(line, server.server_address)

        with fork_guard():
            if sc.raises is None:
                assert server.handle_request() is None
            else:
                with pytest.raises(exception_class(sc.raises)) as info:
                    server.handle_request()
                assert type(info.value).__name__ == sc.raises

            if client is not None and sc.reply != "unread":
                if stream:
                    reply = support.recv_all(client)
                else:
                    reply = client.recv(1024)
                assert reply == (line if sc.reply == "line" else b"")

            if sc.exit_code is not None:
                (pid,) = server.active_children
                _, status = os.waitpid(pid, 0)
                assert os.waitstatus_to_exitcode(status) == sc.exit_code
                tracer.collect_child_events()
    finally:
        if client is not None:
            client.close()
        server.server_close()
        left_open = [
            r for r in tracer.requests if isinstance(r, socket.socket) and r.fileno() >= 0
        ]
        for request in left_open:
            request.close()

    assert bool(left_open) == sc.left_open
    lanes = {lane for lane, *_ in tracer.events}
    assert {lane: tracer.render(lane) for lane in sorted(lanes)} == sc.expected
    err = capfd.readouterr().err
    assert ("Exception occurred during processing of request from" in err) == sc.stderr_report


@pytest.mark.features("B1", "B4", "B6", "E7", "J1")
@pytest.mark.parametrize("server_class", ["TCPServer", "ForkingTCPServer"])
def test_serve_forever_trace(
    ss: types.ModuleType, tracer: Tracer, harness: support.Harness, server_class: str
) -> None:
    handler_cls = traced_class(
        ss.StreamRequestHandler,
        support.HANDLER_HOOKS,
        tracer,
        {"handle": lambda h: h.wfile.write(h.rfile.readline())},
        {"timeout": support.TIMEOUT},
    )
    server = harness.add(
        traced_class(getattr(ss, server_class), SERVER_HOOKS, tracer)(ADDR, handler_cls)
    )
    server.timeout = 0.001  # serve_forever ignores it: no handle_timeout (B1)
    forking = server_class.startswith("Forking")
    with fork_guard(), support.connect(server.server_address) as client:
        # The request is queued before the loop starts, so the first poll
        # finds it ready.
        client.sendall(b"queued\n")
        harness.serve(server)
        assert support.recv_all(client) == b"queued\n"
        if forking:
            support.wait_until(
                lambda: server.active_children == set(), "service_actions to reap the child"
            )
        else:
            support.wait_until(
                lambda: tracer.names("serve").count("service_actions") >= 2,
                "an idle iteration",
            )
        harness.stop(server)
    if forking:
        process = "process_request(close_request)"
        actions = "service_actions(collect_children)+"
    else:
        process = f"process_request({HANDLED} {SHUTDOWN})"
        actions = "service_actions+"
    rendered = tracer.render("serve", collapse=("service_actions",))
    assert rendered == f"serve_forever(get_request verify_request {process} {actions})"


@pytest.mark.features("C6", "E9", "G6")
@pytest.mark.parametrize(
    ("server_class", "close"),
    [
        ("TCPServer", "server_close"),
        ("UDPServer", "server_close"),
        ("ThreadingTCPServer", "server_close"),
        ("ForkingTCPServer", "server_close(collect_children)"),
    ],
)
def test_construction_and_close_trace(
    ss: types.ModuleType, tracer: Tracer, server_class: str, close: str
) -> None:
    server = traced_class(getattr(ss, server_class), SERVER_HOOKS, tracer)(
        ADDR, ss.BaseRequestHandler
    )
    server.server_close()
    assert tracer.render() == f"server_bind server_activate {close}"
