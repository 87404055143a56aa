"""ThreadingMixIn (G1-G6) and its private thread bookkeeping (F1-F6, J3, J4)."""

from __future__ import annotations

import threading
import types
from typing import Any

import pytest
import support
from support import call_with_timeout, connect

ADDR = ("127.0.0.1", 0)


def finished_thread() -> threading.Thread:
    t = threading.Thread(target=lambda: None)
    t.start()
    t.join()
    return t


class Gate:
    """A thread that runs until released (always released by the test's end)."""

    def __init__(self, daemon: bool = False) -> None:
        self.release = threading.Event()
        self.thread = threading.Thread(target=self.release.wait, args=(support.TIMEOUT,))
        self.thread.daemon = daemon

    def __enter__(self) -> threading.Thread:
        self.thread.start()
        return self.thread

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join()


# --- F: _Threads and _NoThreads ----------------------------------------------------------


@pytest.mark.features("F1", "F2", "F5")
def test_threads_append_reaps_and_ignores_daemons(ss: types.ModuleType) -> None:
    threads = ss._Threads()
    assert isinstance(threads, list) and len(threads) == 0
    dead = finished_thread()
    list.append(threads, dead)  # as if it had been alive when appended
    with Gate() as alive, Gate(daemon=True) as daemon:
        threads.append(alive)
        assert list(threads) == [alive], "the finished thread was pruned first"
        threads.append(daemon)
        assert list(threads) == [alive], "a daemon thread is not stored"
        threads.reap()
        assert list(threads) == [alive]
    alive.join()
    threads.reap()
    assert list(threads) == []


@pytest.mark.features("F3", "F4")
def test_threads_pop_all_and_join(ss: types.ModuleType) -> None:
    threads = ss._Threads()
    gates = [Gate(), Gate()]
    started = [g.__enter__() for g in gates]
    try:
        for t in started:
            threads.append(t)
        identity = id(threads)
        popped = threads.pop_all()
        assert popped == started and type(popped) is list
        assert list(threads) == [] and id(threads) == identity
        for t in started:
            threads.append(t)
    finally:
        for g in gates:
            g.release.set()
    threads.join()
    assert list(threads) == []
    assert not any(t.is_alive() for t in started), "join() waited for every thread"


@pytest.mark.features("F6")
def test_no_threads_is_inert(ss: types.ModuleType) -> None:
    nothing = ss._NoThreads()
    assert not isinstance(nothing, list)
    assert not hasattr(nothing, "__len__")
    with pytest.raises(TypeError):
        len(nothing)
    with Gate() as t:
        assert nothing.append(t) is None
    assert nothing.join() is None


# --- G: ThreadingMixIn ----------------------------------------------------------------


def threading_server(ss: types.ModuleType, record: list[Any], **attrs: Any) -> Any:
    class Handler(ss.BaseRequestHandler):
        def handle(self) -> None:
            current = threading.current_thread()
            record.append((current.daemon, current is threading.main_thread()))

    server = ss.ThreadingTCPServer(ADDR, Handler)
    for name, value in attrs.items():
        setattr(server, name, value)  # instance overrides (J5)
    server.timeout = support.TIMEOUT
    return server


def one_request(server: Any) -> None:
    with connect(server.server_address) as client:
        call_with_timeout(server.handle_request)
        assert support.recv_all(client) == b""


@pytest.mark.features("G3", "G5", "J4")
def test_threads_tracked_from_first_request(ss: types.ModuleType) -> None:
    record: list[Any] = []
    with threading_server(ss, record) as server:
        assert "_threads" not in vars(server)
        assert server._threads is vars(ss.ThreadingMixIn)["_threads"]
        assert type(server._threads) is ss._NoThreads
        one_request(server)
        assert type(vars(server)["_threads"]) is ss._Threads
        assert vars(ss.ThreadingMixIn)["_threads"] is not vars(server)["_threads"]
    assert record == [(False, False)]
    assert len(server._threads) == 0, "server_close() joined and emptied the list"


@pytest.mark.features("G5", "F2", "F5", "J4")
def test_dead_threads_are_pruned(ss: types.ModuleType) -> None:
    # test_threads_reaped, made exact: each append first prunes the finished
    # request threads, so the list never holds more than the newest one.
    record: list[Any] = []
    with threading_server(ss, record) as server:
        for _ in range(10):
            one_request(server)
            assert len(server._threads) == 1
            server._threads[0].join(support.TIMEOUT)
    assert len(record) == 10


@pytest.mark.features("G1", "G5", "F2", "J5")
def test_daemon_threads_not_tracked(ss: types.ModuleType) -> None:
    record: list[Any] = []
    with threading_server(ss, record, daemon_threads=True) as server:
        for _ in range(3):
            one_request(server)
        assert type(vars(server)["_threads"]) is ss._Threads
        assert len(server._threads) == 0
    support.wait_until(lambda: len(record) == 3, "three handlers")
    assert record == [(True, False)] * 3


@pytest.mark.features("G2", "G5", "J5")
def test_block_on_close_false_tracks_nothing(ss: types.ModuleType) -> None:
    record: list[Any] = []
    with threading_server(ss, record, block_on_close=False) as server:
        for _ in range(3):
            one_request(server)
        assert "_threads" not in vars(server)
        assert type(server._threads) is ss._NoThreads
    support.wait_until(lambda: len(record) == 3, "three handlers")


@pytest.mark.features("G5", "G1")
def test_daemon_flag_not_inherited(ss: types.ModuleType, harness: support.Harness) -> None:
    # The request thread's daemon flag comes from daemon_threads, even when the
    # serving thread is a daemon (the harness serves in a daemon thread).
    record: list[Any] = []
    server = harness.add(threading_server(ss, record))
    thread = harness.serve(server)
    assert thread.daemon
    with connect(server.server_address) as client:
        assert support.recv_all(client) == b""
    harness.stop(server)
    server.server_close()
    assert record == [(False, False)]


@pytest.mark.features("G6", "J3", "J4")
def test_server_close_closes_socket_then_joins(ss: types.ModuleType) -> None:
    # The handler finishes only once it sees the listening socket closed, so a
    # server_close() that joined before closing would never see it.
    seen = []

    class Handler(ss.BaseRequestHandler):
        def handle(self) -> None:
            support.wait_until(lambda: self.server.socket.fileno() == -1, "socket closed")
            seen.append(self.server.socket.fileno())

    server = ss.ThreadingTCPServer(ADDR, Handler)
    try:
        one_request_in_flight = connect(server.server_address)
        with one_request_in_flight:
            call_with_timeout(server.handle_request)
            (request_thread,) = server._threads
    finally:
        call_with_timeout(server.server_close)
    assert seen == [-1]
    assert not request_thread.is_alive(), "server_close() joined the request thread"
    assert server.socket.fileno() == -1


@pytest.mark.features("G6", "G2")
def test_server_close_waits_for_request_threads(ss: types.ModuleType) -> None:
    release = threading.Event()
    done = []

    class Handler(ss.BaseRequestHandler):
        def handle(self) -> None:
            release.wait(support.TIMEOUT)
            done.append(True)

    server = ss.ThreadingTCPServer(ADDR, Handler)
    with connect(server.server_address):
        call_with_timeout(server.handle_request)
    closer = support.start_thread(server.server_close)
    closer.join(0.2)
    assert closer.is_alive(), "server_close() returned while a request thread ran"
    release.set()
    closer.join(support.TIMEOUT)
    assert not closer.is_alive()
    assert done == [True]


@pytest.mark.features("G6", "F3", "F4")
def test_server_close_from_a_request_thread_cannot_join_it(ss: types.ModuleType) -> None:
    # _threads.join() reaches the request's own thread, which cannot be
    # joined: RuntimeError in the handler, as Thread.join() raises it.
    seen: list[str] = []

    class Handler(ss.BaseRequestHandler):
        def handle(self) -> None:
            try:
                self.server.server_close()
                seen.append("returned")
            except RuntimeError as exc:
                seen.append(str(exc))
            self.request.sendall(b"done")

    server = ss.ThreadingTCPServer(ADDR, Handler)
    try:
        with connect(server.server_address) as client:
            call_with_timeout(server.handle_request)
            assert support.recv_all(client) == b"done"
        assert seen == ["cannot join current thread"]
    finally:
        server.server_close()


@pytest.mark.features("G4", "J2", "B16")
def test_handler_exception_goes_to_handle_error(
    ss: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[Any] = []
    hooked: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: hooked.append(args.exc_type))

    class Server(ss.ThreadingTCPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            events.append(("handle_error", threading.current_thread().name))

        def shutdown_request(self, request: Any) -> None:
            events.append(("shutdown_request", threading.current_thread().name))
            super().shutdown_request(request)

    class Handler(ss.BaseRequestHandler):
        def handle(self) -> None:
            raise ValueError("boom")

    with Server(ADDR, Handler) as server:
        with connect(server.server_address) as client:
            call_with_timeout(server.handle_request)
            assert support.recv_all(client) == b""
    assert [e[0] for e in events] == ["handle_error", "shutdown_request"]
    assert events[0][1] != threading.current_thread().name, "ran in the request thread"
    assert hooked == []


@pytest.mark.features("G5", "H4", "H3")
@pytest.mark.parametrize("server_class", ["ThreadingTCPServer", "ThreadingUDPServer"])
def test_requests_run_concurrently(
    ss: types.ModuleType, harness: support.Harness, server_class: str
) -> None:
    # One thread per request: five handlers all wait at one barrier, which
    # only opens if all five run at the same time.
    parties = 5
    barrier = threading.Barrier(parties, timeout=support.TIMEOUT)
    stream = server_class == "ThreadingTCPServer"

    class Handler(ss.BaseRequestHandler):
        def handle(self) -> None:
            index = barrier.wait()
            reply = b"%d" % index
            if stream:
                self.request.sendall(reply)
            else:
                self.request[1].sendto(reply, self.client_address)

    server = harness.add(getattr(ss, server_class)(ADDR, Handler))
    harness.serve(server)
    clients = []
    try:
        for _ in range(parties):
            if stream:
                clients.append(connect(server.server_address))
            else:
                client = support.datagram_client()
                clients.append(client)
                client.sendto(b"go", server.server_address)
        replies = sorted(int(client.recv(10)) for client in clients)
    finally:
        for client in clients:
            client.close()
    assert replies == list(range(parties))
    harness.stop(server)
