"""BaseServer (B1-B17): construction, serve_forever/shutdown, handle_request timeouts."""

from __future__ import annotations

import contextlib
import io
import signal
import socket
import sys
import threading
import time
import traceback
import types
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import support
from support import Harness, Tracer, call_with_timeout, connect, traced_class

ADDR = ("127.0.0.1", 0)


class FakeSelector:
    """A stand-in for _ServerSelector that follows a script instead of polling.

    Each select() call pops one step: ``(now, ready)`` sets the fake clock to
    *now* and returns a ready list (or an empty one); a callable step is run
    first (e.g. to request shutdown) and the next step is then used.
    """

    script: ClassVar[list[Any]] = []
    timeouts: ClassVar[list[float | None]] = []
    registered: ClassVar[list[tuple[Any, int]]] = []
    clock: ClassVar[list[float]] = [0.0]

    def __enter__(self) -> FakeSelector:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def register(self, fileobj: Any, events: int, data: Any = None) -> None:
        FakeSelector.registered.append((fileobj, events))

    def select(self, timeout: float | None = None) -> list[Any]:
        FakeSelector.timeouts.append(timeout)
        step = FakeSelector.script.pop(0)
        while callable(step):
            step()
            step = FakeSelector.script.pop(0)
        now, ready = step
        if now is not None:
            FakeSelector.clock[0] = now
        return [("key", 1)] if ready else []


@pytest.fixture
def fake_selector(ss: types.ModuleType, monkeypatch: pytest.MonkeyPatch) -> type[FakeSelector]:
    FakeSelector.script = []
    FakeSelector.timeouts = []
    FakeSelector.registered = []
    FakeSelector.clock = [100.0]
    monkeypatch.setattr(ss, "_ServerSelector", FakeSelector)
    monkeypatch.setattr(ss, "time", lambda: FakeSelector.clock[0])
    return FakeSelector


class FakeSocket:
    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout

    def gettimeout(self) -> float | None:
        return self.timeout


def scripted_server(ss: types.ModuleType, tracer: Tracer, socket_timeout: float | None) -> Any:
    """A BaseServer whose hooks are traced and whose get_request fails (returns silently)."""
    cls = traced_class(
        ss.BaseServer,
        support.SERVER_HOOKS,
        tracer,
        behave={
            "get_request": support.Raise(OSError("no request in a scripted test")),
            "handle_timeout": support.Return("timed out"),
        },
        attrs={"fileno": lambda self: 0},
    )
    server = cls(ADDR, None)
    server.socket = FakeSocket(socket_timeout)
    return server


# --- B2, B3, B6, B9, B10, B12-B15: the simple hooks ------------------------------


@pytest.mark.features("B2")
def test_init_stores_arguments_and_opens_nothing(ss: types.ModuleType) -> None:
    fds = support.open_fds()
    handler = object()
    server = ss.BaseServer(("host", 1234), handler)
    assert server.server_address == ("host", 1234)
    assert server.RequestHandlerClass is handler
    event = server._BaseServer__is_shut_down
    assert isinstance(event, threading.Event)
    assert not event.is_set()
    assert server._BaseServer__shutdown_request is False
    assert not hasattr(server, "socket")
    assert support.open_fds() == fds


@pytest.mark.features("B3", "B6", "B9", "B10", "B12", "B15")
def test_default_hooks_do_nothing(ss: types.ModuleType) -> None:
    server = ss.BaseServer(ADDR, None)
    before = dict(vars(server))
    request = object()
    assert server.server_activate() is None
    assert server.service_actions() is None
    assert server.handle_timeout() is None
    assert server.verify_request(request, ("127.0.0.1", 1)) is True
    assert server.server_close() is None
    assert server.close_request(request) is None
    assert vars(server) == before


@pytest.mark.features("B13")
def test_finish_request_instantiates_the_handler(ss: types.ModuleType) -> None:
    calls = []

    def handler(*args: Any) -> str:
        calls.append(args)
        return "ignored"

    server = ss.BaseServer(ADDR, handler)
    request, address = object(), ("127.0.0.1", 4242)
    assert server.finish_request(request, address) is None
    assert calls == [(request, address, server)]


@pytest.mark.features("B14", "B15")
def test_shutdown_request_delegates_to_close_request(ss: types.ModuleType) -> None:
    closed = []

    class Server(ss.BaseServer):
        def close_request(self, request: Any) -> None:
            closed.append(request)

    request = object()
    Server(ADDR, None).shutdown_request(request)
    assert closed == [request]


@pytest.mark.features("B11", "B13", "B14")
def test_process_request_finishes_then_shuts_down(ss: types.ModuleType, tracer: Tracer) -> None:
    cls = traced_class(ss.BaseServer, support.SERVER_HOOKS, tracer)
    handler = traced_class(ss.BaseRequestHandler, support.HANDLER_HOOKS, tracer)
    server = cls(ADDR, handler)
    server.process_request(object(), ("127.0.0.1", 1))
    assert tracer.render() == (
        "process_request(finish_request(setup handle finish) shutdown_request(close_request))"
    )


@pytest.mark.features("B11")
def test_process_request_has_no_finally(ss: types.ModuleType, tracer: Tracer) -> None:
    # If the handler raises, process_request does not reach shutdown_request
    # itself: that is left to _handle_request_noblock's error path (B8).
    cls = traced_class(ss.BaseServer, support.SERVER_HOOKS, tracer)
    handler = traced_class(
        ss.BaseRequestHandler,
        support.HANDLER_HOOKS,
        tracer,
        behave={"handle": support.Raise(ValueError("boom"))},
    )
    server = cls(ADDR, handler)
    with pytest.raises(ValueError, match="boom"):
        server.process_request(object(), ("127.0.0.1", 1))
    assert tracer.render() == (
        "process_request(finish_request(setup handle!ValueError finish)!ValueError)!ValueError"
    )


# --- B4, B5: serve_forever and shutdown -------------------------------------------


@pytest.mark.features("B4", "B6")
@pytest.mark.python_internals("scripts _ServerSelector")
def test_serve_forever_loop_steps(
    ss: types.ModuleType, tracer: Tracer, fake_selector: type[FakeSelector]
) -> None:
    server = scripted_server(ss, tracer, socket_timeout=None)

    def request_shutdown() -> None:
        # What shutdown() does first, without its wait (we are the loop's thread).
        server._BaseServer__shutdown_request = True

    fake_selector.script = [
        (None, False),  # idle: service_actions all the same
        (None, True),  # ready: get_request, then service_actions
        (None, False),
        request_shutdown,  # shutdown() arrives during select() (bpo-35017) ...
        (None, True),  # ... so this ready request is not served
    ]
    server.serve_forever(poll_interval=0.123)
    assert fake_selector.timeouts == [0.123] * 4
    assert fake_selector.registered == [(server, ss.selectors.EVENT_READ)]
    assert tracer.render() == (
        "serve_forever(service_actions get_request!OSError service_actions service_actions)"
    )
    # On exit the flag is reset and the event set.
    assert server._BaseServer__shutdown_request is False
    assert server._BaseServer__is_shut_down.is_set()


@pytest.mark.features("B4", "B6")
def test_serve_forever_calls_service_actions_when_idle(
    ss: types.ModuleType, harness: Harness
) -> None:
    count = [0]

    class Server(ss.TCPServer):
        def service_actions(self) -> None:
            count[0] += 1

    server = harness.add(Server(ADDR, ss.BaseRequestHandler))
    harness.serve(server, poll_interval=0.001)
    support.wait_until(lambda: count[0] >= 3, "three idle service_actions calls")
    harness.stop(server)


@pytest.mark.features("B4", "B5")
def test_serve_forever_exception_still_releases(ss: types.ModuleType) -> None:
    class Server(ss.TCPServer):
        def service_actions(self) -> None:
            raise RuntimeError("from service_actions")

    with Server(ADDR, ss.BaseRequestHandler) as server:
        with pytest.raises(RuntimeError, match="from service_actions"):
            server.serve_forever(poll_interval=0.001)
        assert server._BaseServer__is_shut_down.is_set()
        assert server._BaseServer__shutdown_request is False
        # The event is set, so shutdown() now returns at once ...
        call_with_timeout(server.shutdown)
        # ... and leaves the flag set: the next serve_forever exits at once,
        # before service_actions could raise again.
        call_with_timeout(server.serve_forever, 0.001)


@pytest.mark.features("B5", "B4")
def test_shutdown_before_serve_forever(ss: types.ModuleType) -> None:
    # The test_shutdown pattern: shutdown() in another thread before the loop starts.
    with ss.TCPServer(ADDR, ss.BaseRequestHandler) as server:
        done = threading.Event()

        def stop() -> None:
            server.shutdown()
            done.set()

        thread = support.start_thread(stop)
        support.wait_until(lambda: server._BaseServer__shutdown_request, "shutdown() to start")
        assert not done.is_set(), "shutdown() returned before any serve_forever ran"
        call_with_timeout(server.serve_forever, 0.001)  # exits at once
        thread.join(support.TIMEOUT)
        assert done.is_set()
        assert server._BaseServer__shutdown_request is False


@pytest.mark.features("B5")
def test_shutdown_twice_and_serve_again(ss: types.ModuleType, harness: Harness) -> None:
    served = []

    class Handler(ss.BaseRequestHandler):
        def handle(self) -> None:
            served.append(self.client_address)

    server = harness.add(ss.TCPServer(ADDR, Handler))
    harness.serve(server)
    harness.stop(server)
    # A second shutdown after the loop ended returns at once (the event is set)...
    call_with_timeout(server.shutdown)
    # ...but leaves the flag set, so the next serve_forever returns immediately.
    call_with_timeout(server.serve_forever, 0.001)
    # That consumed the flag: a third loop serves normally until shut down.
    harness.serve(server)
    with connect(server.server_address) as client:
        client.sendall(b"x")
        assert support.recv_all(client) == b""
    support.wait_until(lambda: len(served) == 1, "the request to be served")
    harness.stop(server)


@pytest.mark.features("B5")
def test_concurrent_shutdowns_both_return(ss: types.ModuleType, harness: Harness) -> None:
    server = harness.add(ss.TCPServer(ADDR, ss.BaseRequestHandler))
    thread = harness.serve(server)
    stoppers = [support.start_thread(server.shutdown) for _ in range(2)]
    for t in stoppers:
        t.join(support.TIMEOUT)
        assert not t.is_alive()
    thread.join(support.TIMEOUT)
    assert not thread.is_alive()
    harness.threads.clear()


# --- B7: handle_request ---------------------------------------------------------


@pytest.mark.features("B7", "B9")
@pytest.mark.parametrize(
    ("socket_timeout", "server_timeout"),
    [(None, 0.01), (0.01, None), (0.01, 60.0), (60.0, 0.01)],
    ids=["server-only", "socket-only", "socket-smaller", "server-smaller"],
)
def test_handle_request_times_out(
    ss: types.ModuleType, socket_timeout: float | None, server_timeout: float | None
) -> None:
    # Black box, real clock: the smaller timeout wins (a 60 s wait would trip
    # the watchdog), and handle_request returns handle_timeout's result.
    class Server(ss.TCPServer):
        def handle_timeout(self) -> str:
            return "timed out"

    with Server(ADDR, ss.BaseRequestHandler) as server:
        server.socket.settimeout(socket_timeout)
        server.timeout = server_timeout
        assert call_with_timeout(server.handle_request) == "timed out"


@pytest.mark.features("B7", "B9")
def test_handle_timeout_default_returns_none(ss: types.ModuleType) -> None:
    with ss.TCPServer(ADDR, ss.BaseRequestHandler) as server:
        server.timeout = 0.001
        assert call_with_timeout(server.handle_request) is None


@pytest.mark.features("B7")
def test_handle_request_without_timeout_blocks_until_a_request(ss: types.ModuleType) -> None:
    served = threading.Event()

    class Handler(ss.BaseRequestHandler):
        def handle(self) -> None:
            served.set()

    with ss.TCPServer(ADDR, Handler) as server:
        assert server.timeout is None and server.socket.gettimeout() is None
        thread = support.start_thread(server.handle_request)
        thread.join(0.2)
        assert thread.is_alive(), "handle_request() returned with no request and no timeout"
        with connect(server.server_address):
            thread.join(support.TIMEOUT)
        assert not thread.is_alive()
        assert served.is_set()


@pytest.mark.features("B7", "B9")
@pytest.mark.python_internals("scripts _ServerSelector and the monotonic clock `time`")
@pytest.mark.parametrize(
    ("socket_timeout", "server_timeout", "first"),
    [(None, 5.0, 5.0), (3.0, 5.0, 3.0), (7.0, 5.0, 5.0), (2.0, None, 2.0)],
)
def test_handle_request_timeout_arithmetic(
    ss: types.ModuleType,
    tracer: Tracer,
    fake_selector: type[FakeSelector],
    socket_timeout: float | None,
    server_timeout: float | None,
    first: float,
) -> None:
    server = scripted_server(ss, tracer, socket_timeout)
    server.timeout = server_timeout
    # The deadline is read at t=100.  Two early wake-ups (like EINTR) re-wait
    # for the remainder; a remainder of exactly 0 is not yet "strictly
    # negative", so it waits once more; then the deadline has passed.
    fake_selector.script = [
        (100.0 + first - 2.0, False),
        (100.0 + first, False),
        (100.0 + first + 0.5, False),
    ]
    assert server.handle_request() == "timed out"
    assert fake_selector.timeouts == [first, 2.0, 0.0]
    assert fake_selector.registered == [(server, ss.selectors.EVENT_READ)]
    assert tracer.render() == "handle_request(handle_timeout)"


@pytest.mark.features("B7", "B8")
@pytest.mark.python_internals("scripts _ServerSelector and the monotonic clock `time`")
def test_handle_request_ready_after_early_wakeups(
    ss: types.ModuleType, tracer: Tracer, fake_selector: type[FakeSelector]
) -> None:
    server = scripted_server(ss, tracer, socket_timeout=None)
    # No timeout at all: empty wake-ups simply wait again, with no deadline.
    fake_selector.script = [(None, False), (None, False), (None, True)]
    assert server.handle_request() is None
    assert fake_selector.timeouts == [None, None, None]
    # The ready request goes through _handle_request_noblock: get_request's
    # OSError is swallowed, so nothing else is called.
    assert tracer.render() == "handle_request(get_request!OSError)"


@pytest.mark.features("B7", "E1", "E6")
@pytest.mark.python_internals("scripts _ServerSelector and the monotonic clock `time`")
def test_forking_server_waits_300_seconds(
    ss: types.ModuleType, tracer: Tracer, fake_selector: type[FakeSelector]
) -> None:
    cls = traced_class(ss.ForkingTCPServer, support.SERVER_HOOKS, tracer)
    with cls(ADDR, ss.BaseRequestHandler) as server:
        fake_selector.script = [(400.5, False)]
        assert server.handle_request() is None
        assert fake_selector.timeouts == [300]
        assert tracer.render() == (
            "server_bind server_activate handle_request(handle_timeout(collect_children))"
        )


@pytest.mark.features("B7")
def test_handle_request_needs_a_socket_attribute(ss: types.ModuleType) -> None:
    server = ss.BaseServer(ADDR, None)
    with pytest.raises(AttributeError, match="socket"):
        server.handle_request()


# --- B16: handle_error --------------------------------------------------------------


@pytest.mark.features("B16")
def test_handle_error_exact_text(ss: types.ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    server = ss.BaseServer(ADDR, None)
    # sys.stderr is looked up when handle_error runs, not when the server is made.
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    try:
        raise ValueError("boom")
    except ValueError:
        expected_tb = traceback.format_exc()
        server.handle_error(object(), ("127.0.0.1", 47832))
    assert err.getvalue() == (
        "-" * 40
        + "\n"
        + "Exception occurred during processing of request from ('127.0.0.1', 47832)\n"
        + expected_tb
        + "-" * 40
        + "\n"
    )


@pytest.mark.features("B16", "C7")
def test_handle_error_from_a_real_request(
    ss: types.ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    class Handler(ss.BaseRequestHandler):
        def handle(self) -> None:
            raise KeyError("in handler")

    with ss.TCPServer(ADDR, Handler) as server:
        server.timeout = support.TIMEOUT
        with connect(server.server_address) as client:
            call_with_timeout(server.handle_request)
            client_address = client.getsockname()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "-" * 40
    assert lines[1] == f"Exception occurred during processing of request from {client_address}"
    assert lines[2] == "Traceback (most recent call last):"
    assert lines[-2] == "KeyError: 'in handler'"
    assert lines[-1] == "-" * 40


# --- B17: context manager -------------------------------------------------------------


@pytest.mark.features("B17", "C9")
def test_context_manager(ss: types.ModuleType) -> None:
    with ss.TCPServer(ADDR, ss.BaseRequestHandler) as server:
        assert isinstance(server, ss.TCPServer)
        assert server.socket.fileno() != -1
    assert server.socket.fileno() == -1


@pytest.mark.features("B17")
def test_context_manager_does_not_suppress(ss: types.ModuleType, tracer: Tracer) -> None:
    cls = traced_class(ss.BaseServer, support.SERVER_HOOKS, tracer)
    server = cls(ADDR, None)
    assert server.__enter__() is server
    with pytest.raises(LookupError), server:
        raise LookupError("inside with")
    assert server.__exit__(None, None, None) is None
    assert tracer.render() == "server_close server_close"


@pytest.mark.features("B17", "C9")
def test_context_manager_closes_unix_server(ss: types.ModuleType, sockdir: Any) -> None:
    path = str(sockdir / "cm.sock")
    with ss.UnixStreamServer(path, ss.BaseRequestHandler) as server:
        assert server.socket.family == socket.AF_UNIX
    assert server.socket.fileno() == -1


# --- signals: the wait is not cut short, and Ctrl-C gets out (B4, B7) ------------------


@contextlib.contextmanager
def signals_to_main_thread(handler: Any, interval: float = 0.005) -> Iterator[list[int]]:
    """Deliver SIGUSR1 to the main thread every *interval* s while the block runs."""
    main = threading.main_thread().ident
    assert main == threading.get_ident()
    sent = [0]
    running = threading.Event()
    running.set()

    def send() -> None:
        while running.is_set():
            signal.pthread_kill(main, signal.SIGUSR1)
            sent[0] += 1
            time.sleep(interval)

    previous = signal.signal(signal.SIGUSR1, handler)
    sender = support.start_thread(send)
    try:
        yield sent
    finally:
        # Signals still in flight must meet a harmless handler: SIGUSR1's
        # default action would end the process.
        signal.signal(signal.SIGUSR1, lambda signum, frame: None)
        running.clear()
        sender.join(support.TIMEOUT)
        signal.signal(signal.SIGUSR1, previous)


@pytest.mark.features("B7", "B9")
def test_handle_request_timeout_survives_signals(ss: types.ModuleType) -> None:
    # Signals wake the wait early; handle_request waits again for the rest
    # of the timeout and only then calls handle_timeout.
    handled = [0]

    class Server(ss.TCPServer):
        def handle_timeout(self) -> str:
            return "timed out"

    def count(signum: int, frame: Any) -> None:
        handled[0] += 1

    with Server(ADDR, ss.BaseRequestHandler) as server:
        server.timeout = 0.2
        with signals_to_main_thread(count):
            start = time.monotonic()
            result = server.handle_request()
            waited = time.monotonic() - start
    assert result == "timed out"
    assert handled[0] > 0, "the signal handler ran during the wait"
    assert waited >= 0.2, "the wait was not cut short"


@pytest.mark.features("B4", "B5", "J2")
def test_keyboard_interrupt_leaves_serve_forever(ss: types.ModuleType) -> None:
    # Ctrl-C: a signal handler raising KeyboardInterrupt in the serving
    # thread ends serve_forever, which still releases shutdown().
    entered: list[float] = []
    raised: list[bool] = []

    class Server(ss.TCPServer):
        def serve_forever(self, poll_interval: float = 0.5) -> None:
            entered.append(time.monotonic())
            super().serve_forever(poll_interval)

    def interrupt(signum: int, frame: Any) -> None:
        # Once, and only when the loop is surely waiting in its 5 s poll.
        if entered and not raised and time.monotonic() - entered[0] > 0.1:
            raised.append(True)
            raise KeyboardInterrupt

    with Server(ADDR, ss.BaseRequestHandler) as server:
        with pytest.raises(KeyboardInterrupt), signals_to_main_thread(interrupt, 0.01):
            server.serve_forever(poll_interval=5.0)
        assert server._BaseServer__is_shut_down.is_set()
        assert server._BaseServer__shutdown_request is False
        call_with_timeout(server.shutdown)
