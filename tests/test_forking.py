"""ForkingMixIn (E1-E9): children, exit statuses, the two phases of collect_children.

Every child forked here is reaped before its test ends; the autouse
``no_child_left`` fixture fails a test that leaves a zombie or a stray.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import types
from collections.abc import Iterator
from typing import Any

import pytest
import support
from support import call_with_timeout, connect, fork_guard

ADDR = ("127.0.0.1", 0)


def fork_exiting(code: int = 0) -> int:
    """A child that exits at once; returns when it is a zombie."""
    pid = os.fork()
    if pid == 0:
        os._exit(code)
    support.wait_until(lambda: support.process_state(pid) == "Z", f"child {pid} to exit")
    return pid


@contextlib.contextmanager
def fork_blocked() -> Iterator[tuple[int, Any]]:
    """A child that runs until released; yields (pid, release)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)
        os._exit(0)
    os.close(r)
    released = []

    def release() -> None:
        if not released:
            released.append(True)
            os.write(w, b"x")

    try:
        yield pid, release
    finally:
        release()
        os.close(w)


def reap(pid: int) -> int:
    """Wait for *pid* (our child) and return its exit code."""
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def already_reaped_pid() -> int:
    pid = fork_exiting()
    os.waitpid(pid, 0)
    return pid


def forking_server(ss: types.ModuleType, **attrs: Any) -> Any:
    server = ss.ForkingTCPServer(ADDR, ss.BaseRequestHandler, bind_and_activate=False)
    for name, value in attrs.items():
        setattr(server, name, value)
    return server


# --- E5: collect_children --------------------------------------------------------------


@pytest.mark.features("E2", "E5")
def test_collect_children_without_children(ss: types.ModuleType) -> None:
    foreign = fork_exiting()
    with forking_server(ss) as server:
        assert server.active_children is None
        server.collect_children()
        server.collect_children(blocking=True)
        assert server.active_children is None
    assert support.process_state(foreign) == "Z", "a child it never spawned is left alone"
    assert reap(foreign) == 0


@pytest.mark.features("E5")
def test_collect_children_is_keyword_only(ss: types.ModuleType) -> None:
    with forking_server(ss) as server, pytest.raises(TypeError):
        server.collect_children(True)


@pytest.mark.features("E5")
def test_phase_two_reaps_own_exited_children_only(ss: types.ModuleType) -> None:
    foreign = fork_exiting(7)
    exited = fork_exiting(3)
    with fork_blocked() as (running, release):
        server = forking_server(ss, active_children={running, exited})
        server.collect_children()
        # The exited child is reaped; the running one (waitpid returns 0) stays.
        assert server.active_children == {running}
        assert support.process_state(foreign) == "Z", "phase 2 never waits for -1"
        release()
        call_with_timeout(lambda: server.collect_children(blocking=True))
        assert server.active_children == set()
        server.server_close()
    assert reap(foreign) == 7


@pytest.mark.features("E5")
def test_phase_two_discards_pids_reaped_elsewhere(ss: types.ModuleType) -> None:
    gone = already_reaped_pid()
    server = forking_server(ss, active_children={gone})
    server.collect_children()
    assert server.active_children == set()
    server.server_close()


@pytest.mark.features("E3", "E5")
def test_phase_one_waits_for_any_child_at_the_limit(ss: types.ModuleType) -> None:
    with fork_blocked() as (first, release_first), fork_blocked() as (second, _):
        server = forking_server(ss, active_children={first, second}, max_children=2)
        collector = support.start_thread(server.collect_children)
        collector.join(0.2)
        assert collector.is_alive(), "at max_children it blocks until a child exits"
        release_first()
        collector.join(support.TIMEOUT)
        assert not collector.is_alive()
        assert server.active_children == {second}
    call_with_timeout(lambda: server.collect_children(blocking=True))
    assert server.active_children == set()
    server.server_close()


@pytest.mark.features("E5")
def test_phase_one_may_reap_a_foreign_child(ss: types.ModuleType) -> None:
    # At the limit, waitpid(-1) reaps whatever child exits, ours or not.
    # Here the only child is foreign: it is reaped (its pid is not in the
    # set), then waitpid(-1) finds no child at all and the set is cleared.
    foreign = fork_exiting()
    server = forking_server(ss, active_children={already_reaped_pid()}, max_children=1)
    server.collect_children()
    assert server.active_children == set()
    with pytest.raises(ChildProcessError):
        os.waitpid(foreign, os.WNOHANG)
    server.server_close()


@pytest.mark.features("E5")
def test_below_the_limit_a_foreign_child_is_left_alone(ss: types.ModuleType) -> None:
    foreign = fork_exiting(5)
    server = forking_server(ss, active_children={already_reaped_pid()}, max_children=2)
    server.collect_children()
    assert server.active_children == set()
    assert support.process_state(foreign) == "Z"
    assert reap(foreign) == 5
    server.server_close()


@pytest.mark.features("E5")
def test_other_oserrors(ss: types.ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []

    def failing_waitpid(pid: int, flags: int) -> tuple[int, int]:
        calls.append((pid, flags))
        raise OSError(errno.EINVAL, "injected")

    server = forking_server(ss, active_children={1001, 1002}, max_children=2)
    monkeypatch.setattr(os, "waitpid", failing_waitpid)
    server.collect_children()
    monkeypatch.undo()
    # Phase 1 stops at its first other OSError; phase 2 ignores them and
    # keeps the pids.
    assert calls[0] == (-1, 0)
    assert sorted(calls[1:]) == [(1001, os.WNOHANG), (1002, os.WNOHANG)]
    assert server.active_children == {1001, 1002}
    server.active_children = None
    server.server_close()


@pytest.mark.features("E5")
def test_phase_one_no_children_clears_the_set(
    ss: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, int]] = []

    def no_children(pid: int, flags: int) -> tuple[int, int]:
        calls.append((pid, flags))
        raise ChildProcessError(errno.ECHILD, "No child processes")

    server = forking_server(ss, active_children={1001, 1002, 1003}, max_children=3)
    monkeypatch.setattr(os, "waitpid", no_children)
    server.collect_children()
    monkeypatch.undo()
    # ChildProcessError in phase 1 clears the whole set at once, so phase 2
    # has nothing left to wait for.
    assert calls == [(-1, 0)]
    assert server.active_children == set()
    server.server_close()


# --- E8: process_request ----------------------------------------------------------------


@pytest.mark.features("E8", "E2", "J2")
@pytest.mark.parametrize(("behaviour", "code"), [("ok", 0), ("exception", 1), ("system-exit", 1)])
def test_child_exit_status(
    ss: types.ModuleType, capfd: pytest.CaptureFixture[str], behaviour: str, code: int
) -> None:
    class Handler(ss.StreamRequestHandler):
        timeout = support.TIMEOUT  # the connection never blocks forever

        def handle(self) -> None:
            self.wfile.write(b"child " + str(os.getpid()).encode())
            if behaviour == "exception":
                raise ValueError("in the child")
            if behaviour == "system-exit":
                raise SystemExit(0)  # still exit status 1

    with ss.ForkingTCPServer(ADDR, Handler) as server, fork_guard():
        server.timeout = support.TIMEOUT
        assert "active_children" not in vars(server)
        with connect(server.server_address) as client:
            call_with_timeout(server.handle_request)
            reply = support.recv_all(client)
        (pid,) = server.active_children
        assert type(vars(server)["active_children"]) is set
        assert reply == b"child %d" % pid
        assert reap(pid) == code
    # server_close found the pid already reaped (ChildProcessError) and dropped it.
    assert server.active_children == set()
    err = capfd.readouterr().err
    assert ("Exception occurred during processing" in err) == (behaviour == "exception")


@pytest.mark.features("E8")
def test_parent_closes_its_copy_of_the_connection(ss: types.ModuleType) -> None:
    closed: list[Any] = []
    parent = os.getpid()

    class Server(ss.ForkingTCPServer):
        def close_request(self, request: Any) -> None:
            if os.getpid() == parent:
                closed.append(request)
            super().close_request(request)

    class Handler(ss.StreamRequestHandler):
        timeout = support.TIMEOUT  # the connection never blocks forever

        def handle(self) -> None:
            self.wfile.write(self.rfile.readline())

    with Server(ADDR, Handler) as server, fork_guard():
        server.timeout = support.TIMEOUT
        with connect(server.server_address) as client:
            call_with_timeout(server.handle_request)
            (request,) = closed
            assert request.fileno() == -1
            assert server.socket.fileno() != -1
            # The child still has the connection and serves it.
            client.sendall(b"after the parent closed\n")
            assert support.recv_all(client) == b"after the parent closed\n"
    assert server.active_children == set()


@pytest.mark.features("E8")
def test_child_exits_even_if_shutdown_request_raises(ss: types.ModuleType) -> None:
    parent = os.getpid()

    class Server(ss.ForkingTCPServer):
        def shutdown_request(self, request: Any) -> None:
            super().shutdown_request(request)
            if os.getpid() != parent:
                raise RuntimeError("shutdown_request failed in the child")

    with Server(ADDR, ss.BaseRequestHandler) as server, fork_guard():
        server.timeout = support.TIMEOUT
        with connect(server.server_address) as client:
            call_with_timeout(server.handle_request)
            assert support.recv_all(client) == b""
        (pid,) = server.active_children
        assert reap(pid) == 0


@pytest.mark.features("E8", "D8", "H1")
def test_forking_udp_parent_keeps_the_socket(ss: types.ModuleType) -> None:
    class Handler(ss.DatagramRequestHandler):
        def handle(self) -> None:
            self.wfile.write(b"%d" % os.getpid())

    with ss.ForkingUDPServer(ADDR, Handler) as server, fork_guard():
        server.timeout = support.TIMEOUT
        with support.datagram_client() as client:
            for _ in range(2):
                client.sendto(b"x", server.server_address)
                call_with_timeout(server.handle_request)
                assert server.socket.fileno() != -1
                reply = client.recv(100)
                assert int(reply) in server.active_children
    assert server.active_children == set()


# --- E9: server_close -------------------------------------------------------------------


class Blocking:
    """A handler that tells the client it runs, then waits for the client's go-ahead.

    (Not for EOF: the child inherited the test's client socket too.)
    """

    @staticmethod
    def make(ss: types.ModuleType) -> type:
        class Handler(ss.StreamRequestHandler):
            timeout = support.TIMEOUT  # the connection never blocks forever

            def handle(self) -> None:
                self.wfile.write(b"running\n")
                self.rfile.readline()

        return Handler


@pytest.mark.features("E4", "E9", "J3", "J4")
def test_server_close_waits_for_children(ss: types.ModuleType) -> None:
    seen_fileno = []

    class Server(ss.ForkingTCPServer):
        def collect_children(self, *, blocking: bool = False) -> None:
            seen_fileno.append((self.socket.fileno(), blocking))
            super().collect_children(blocking=blocking)

    server = Server(ADDR, Blocking.make(ss))
    server.timeout = support.TIMEOUT
    with fork_guard(), connect(server.server_address) as client:
        call_with_timeout(server.handle_request)
        assert client.recv(100) == b"running\n"
        closer = support.start_thread(server.server_close)
        try:
            closer.join(0.2)
            assert closer.is_alive(), "server_close() returned while a child ran"
        finally:
            client.sendall(b"go\n")
            closer.join(support.TIMEOUT)
    assert not closer.is_alive()
    assert server.active_children == set()
    # The socket was closed before children were collected, blocking.
    assert seen_fileno[-1] == (-1, True)


@pytest.mark.features("E4", "E9", "J5")
def test_server_close_without_blocking(ss: types.ModuleType) -> None:
    server = ss.ForkingTCPServer(ADDR, Blocking.make(ss))
    server.block_on_close = False
    server.timeout = support.TIMEOUT
    with fork_guard(), connect(server.server_address) as client:
        call_with_timeout(server.handle_request)
        assert client.recv(100) == b"running\n"
        call_with_timeout(server.server_close)
        (pid,) = server.active_children  # still running: not waited for
        assert server.socket.fileno() == -1
        assert support.process_state(pid) not in ("", "Z")
        client.sendall(b"go\n")
        assert reap(pid) == 0


@pytest.mark.features("E7", "E5")
def test_serve_forever_collects_children(ss: types.ModuleType, harness: support.Harness) -> None:
    server = harness.add(ss.ForkingTCPServer(ADDR, ss.BaseRequestHandler))
    harness.serve(server)
    with fork_guard():
        for _ in range(3):
            with connect(server.server_address) as client:
                assert support.recv_all(client) == b""
        # service_actions reaps finished children between polls.
        support.wait_until(
            lambda: server.active_children is not None and not server.active_children,
            "serve_forever to reap every child",
        )
        assert not [state for _, state in support.child_processes() if state == "Z"]
    harness.stop(server)


@pytest.mark.features("E1", "E6", "J5")
def test_handle_timeout_collects_children(ss: types.ModuleType) -> None:
    pid_holder: list[int] = []
    lock = threading.Lock()

    class Server(ss.ForkingTCPServer):
        def collect_children(self, *, blocking: bool = False) -> None:
            with lock:
                pid_holder.append(len(self.active_children or ()))
            super().collect_children(blocking=blocking)

    with Server(ADDR, ss.BaseRequestHandler) as server, fork_guard():
        server.timeout = support.TIMEOUT
        with connect(server.server_address) as client:
            call_with_timeout(server.handle_request)
            assert support.recv_all(client) == b""
        (pid,) = server.active_children
        support.wait_until(lambda: support.process_state(pid) == "Z", "the child to exit")
        server.timeout = 0.001  # instance override of the mixin's 300
        call_with_timeout(server.handle_request)  # times out: handle_timeout reaps
        assert pid_holder == [1]
        assert server.active_children == set()
