"""Hook traces: the exact sequence of hook calls, the same for every implementation.

Each scenario records every overridable hook of the server (get_request,
verify_request, process_request, process_request_thread, finish_request,
shutdown_request, close_request, handle_error, handle_timeout,
service_actions, collect_children, server_close, ...) and of the handler
(setup, handle, finish) as a nested call tree per lane (support.Tracer):
``main`` is the test's thread, ``worker`` a ThreadingMixIn request thread,
``child`` a ForkingMixIn child (which sends its events back through a pipe),
``serve`` a thread running serve_forever.  ``!Type`` marks a call that raised.

The expected traces below are written once, from the specification
(FEATURES.md B4-B15, C11-C13, D5-D8, E5-E9, G4-G6, I1, J1, J2); every
implementation must produce exactly them.
"""

from __future__ import annotations

import os
import socket
import threading
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import support
from support import SERVER_HOOKS, Raise, Return, Tracer, fork_guard, traced_class

ADDR = ("127.0.0.1", 0)

HANDLED = "finish_request(setup handle finish)"
SHUTDOWN = "shutdown_request(close_request)"


def failed(exc: str) -> str:
    return f"finish_request(setup handle!{exc} finish)!{exc}"


@dataclass
class Scenario:
    server: str
    expected: dict[str, str]
    handle: Any = None  # Raise(...) for the handler's handle()
    server_behave: dict[str, Any] = field(default_factory=dict)
    raises: type[BaseException] | None = None  # out of handle_request
    exit_code: int | None = None  # of the forked child
    reply: bool | None = True  # echoed line / EOF at once / left open (None: not read)
    client: bool = True  # a client sends a request


SCENARIOS: dict[str, Scenario] = {
    # --- the synchronous server (B8, B11, J1, J2)
    "tcp-success": Scenario(
        "TCPServer",
        {
            "main": "handle_request(get_request verify_request process_request("
            f"{HANDLED} {SHUTDOWN})) server_close"
        },
    ),
    "tcp-handler-exception": Scenario(
        "TCPServer",
        {
            "main": "handle_request(get_request verify_request process_request("
            f"{failed('ValueError')})!ValueError handle_error {SHUTDOWN}) server_close"
        },
        handle=Raise(ValueError("boom")),
        reply=False,
    ),
    "tcp-handler-systemexit": Scenario(
        "TCPServer",
        {
            "main": "handle_request(get_request verify_request process_request("
            f"{failed('SystemExit')})!SystemExit {SHUTDOWN})!SystemExit server_close"
        },
        handle=Raise(SystemExit(2)),
        raises=SystemExit,
        reply=False,
    ),
    "tcp-handler-keyboardinterrupt": Scenario(
        "TCPServer",
        {
            "main": "handle_request(get_request verify_request process_request("
            f"{failed('KeyboardInterrupt')})!KeyboardInterrupt {SHUTDOWN})!KeyboardInterrupt"
            " server_close"
        },
        handle=Raise(KeyboardInterrupt()),
        raises=KeyboardInterrupt,
        reply=False,
    ),
    "tcp-verify-false": Scenario(
        "TCPServer",
        {"main": f"handle_request(get_request verify_request {SHUTDOWN}) server_close"},
        server_behave={"verify_request": Return(False)},
        reply=False,
    ),
    "tcp-verify-raises": Scenario(
        # Outside the try: nothing shuts the request down; the error propagates.
        "TCPServer",
        {
            "main": "handle_request(get_request verify_request!LookupError)!LookupError"
            + " server_close"
        },
        server_behave={"verify_request": Raise(LookupError("verify"))},
        raises=LookupError,
        reply=None,
    ),
    "tcp-handle-error-raises": Scenario(
        # handle_error is not guarded: if it raises, shutdown_request is skipped.
        "TCPServer",
        {
            "main": "handle_request(get_request verify_request process_request("
            f"{failed('ValueError')})!ValueError handle_error!RuntimeError)!RuntimeError"
            " server_close"
        },
        handle=Raise(ValueError("boom")),
        server_behave={"handle_error": Raise(RuntimeError("from handle_error"))},
        raises=RuntimeError,
        reply=None,
    ),
    "tcp-get-request-oserror": Scenario(
        "TCPServer",
        {"main": "handle_request(get_request!OSError) server_close"},
        server_behave={"get_request": Raise(OSError("accept failed"))},
        reply=None,
    ),
    "tcp-get-request-other-error": Scenario(
        # Only OSError is swallowed.
        "TCPServer",
        {"main": "handle_request(get_request!ValueError)!ValueError server_close"},
        server_behave={"get_request": Raise(ValueError("not an OSError"))},
        raises=ValueError,
        reply=None,
    ),
    "tcp-timeout": Scenario(
        "TCPServer", {"main": "handle_request(handle_timeout) server_close"}, client=False
    ),
    "unix-stream-success": Scenario(
        "UnixStreamServer",
        {
            "main": "handle_request(get_request verify_request process_request("
            f"{HANDLED} {SHUTDOWN})) server_close"
        },
    ),
    # --- datagram servers (D5-D8)
    "udp-success": Scenario(
        "UDPServer",
        {
            "main": "handle_request(get_request verify_request process_request("
            f"{HANDLED} {SHUTDOWN})) server_close"
        },
    ),
    "udp-handler-exception": Scenario(
        "UDPServer",
        {
            "main": "handle_request(get_request verify_request process_request("
            f"{failed('ValueError')})!ValueError handle_error {SHUTDOWN}) server_close"
        },
        handle=Raise(ValueError("boom")),
        reply=False,
    ),
    "unix-datagram-success": Scenario(
        "UnixDatagramServer",
        {
            "main": "handle_request(get_request verify_request process_request("
            f"{HANDLED} {SHUTDOWN})) server_close"
        },
    ),
    # --- threading (G4-G6)
    "threading-success": Scenario(
        "ThreadingTCPServer",
        {
            "main": "handle_request(get_request verify_request process_request) server_close",
            "worker": f"process_request_thread({HANDLED} {SHUTDOWN})",
        },
    ),
    "threading-handler-exception": Scenario(
        "ThreadingTCPServer",
        {
            "main": "handle_request(get_request verify_request process_request) server_close",
            "worker": f"process_request_thread({failed('ValueError')} handle_error {SHUTDOWN})",
        },
        handle=Raise(ValueError("boom")),
        reply=False,
    ),
    "threading-handler-systemexit": Scenario(
        "ThreadingTCPServer",
        {
            "main": "handle_request(get_request verify_request process_request) server_close",
            "worker": f"process_request_thread({failed('SystemExit')} {SHUTDOWN})!SystemExit"
            " excepthook:SystemExit",
        },
        handle=Raise(SystemExit(2)),
        reply=False,
    ),
    "threading-udp-success": Scenario(
        "ThreadingUDPServer",
        {
            "main": "handle_request(get_request verify_request process_request) server_close",
            "worker": f"process_request_thread({HANDLED} {SHUTDOWN})",
        },
    ),
    # --- forking (E5-E9): the child's trace comes back through a pipe
    "forking-success": Scenario(
        "ForkingTCPServer",
        {
            "main": "handle_request(get_request verify_request process_request(close_request))"
            " server_close(collect_children)",
            "child": f"{HANDLED} {SHUTDOWN}",
        },
        exit_code=0,
    ),
    "forking-handler-exception": Scenario(
        "ForkingTCPServer",
        {
            "main": "handle_request(get_request verify_request process_request(close_request))"
            " server_close(collect_children)",
            "child": f"{failed('ValueError')} handle_error {SHUTDOWN}",
        },
        handle=Raise(ValueError("boom")),
        exit_code=1,
        reply=False,
    ),
    "forking-handler-systemexit": Scenario(
        "ForkingTCPServer",
        {
            "main": "handle_request(get_request verify_request process_request(close_request))"
            " server_close(collect_children)",
            "child": f"{failed('SystemExit')} {SHUTDOWN}",
        },
        handle=Raise(SystemExit(0)),
        exit_code=1,
        reply=False,
    ),
    "forking-verify-false": Scenario(
        "ForkingTCPServer",
        {
            "main": f"handle_request(get_request verify_request {SHUTDOWN})"
            " server_close(collect_children)"
        },
        server_behave={"verify_request": Return(False)},
        reply=False,
    ),
    "forking-timeout": Scenario(
        "ForkingTCPServer",
        {
            "main": "handle_request(handle_timeout(collect_children))"
            + " server_close(collect_children)"
        },
        client=False,
    ),
    "forking-udp-success": Scenario(
        "ForkingUDPServer",
        {
            "main": "handle_request(get_request verify_request process_request(close_request))"
            " server_close(collect_children)",
            "child": f"{HANDLED} {SHUTDOWN}",
        },
        exit_code=0,
    ),
}

ROWS = {
    "tcp": ("B7", "B8", "B11", "B13", "B14", "C11", "C12", "C13", "I1", "J1", "J2"),
    "unix": ("H5", "H6", "J1"),
    "udp": ("D5", "D7", "D8", "I13", "I14", "J1"),
    "threading": ("G4", "G5", "G6", "J2"),
    "forking": ("E6", "E8", "E9", "J2"),
}


@pytest.mark.features(*sorted({row for rows in ROWS.values() for row in rows}), "B9", "B16")
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_hook_trace(
    ss: types.ModuleType,
    tracer: Tracer,
    sockdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    name: str,
) -> None:
    sc = SCENARIOS[name]
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
        {"handle": sc.handle or echo},
        {"timeout": support.TIMEOUT} if stream else None,
    )
    server_cls = traced_class(base, SERVER_HOOKS, tracer, sc.server_behave)
    monkeypatch.setattr(
        threading, "excepthook", lambda args: tracer.note(f"excepthook:{args.exc_type.__name__}")
    )

    server = server_cls(str(sockdir / "s.sock") if unix else ADDR, handler_cls)
    client: socket.socket | None = None
    try:
        assert tracer.render() == "server_bind server_activate"
        tracer.events.clear()
        server.timeout = support.TIMEOUT if sc.client else 0.001
        line = f"request for {name}\n".encode()
        if sc.client and stream:
            client = support.connect(server.server_address, family)
            client.sendall(line)
        elif sc.client:
            client = support.datagram_client(family, str(sockdir / "c.sock") if unix else None)
            client.sendto(line, server.server_address)

        with fork_guard():
            if sc.raises is None:
                assert server.handle_request() is None
            else:
                with pytest.raises(sc.raises):
                    server.handle_request()

            if client is not None and sc.reply is not None:
                if stream:
                    reply = support.recv_all(client)
                else:
                    reply = client.recv(1024) if sc.reply else b""
                assert reply == (line if sc.reply else b"")

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

    # Only when verify_request or handle_error raise is the request not shut down.
    assert bool(left_open) == (sc.reply is None and "get_request!" not in sc.expected["main"])

    lanes = {lane for lane, *_ in tracer.events}
    assert {lane: tracer.render(lane) for lane in sorted(lanes)} == sc.expected
    err = capfd.readouterr().err
    reported = "handle_error" in " ".join(sc.expected.values())
    assert ("Exception occurred during processing of request from" in err) == (
        reported and "handle_error!" not in sc.expected["main"]
    )


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
