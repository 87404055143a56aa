"""Request handlers (I1-I14): BaseRequestHandler, StreamRequestHandler, _SocketWriter,
DatagramRequestHandler."""

from __future__ import annotations

import array
import io
import signal
import socket
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest
import support
from support import Tracer, call_with_timeout, traced_class

ADDR = ("127.0.0.1", 0)


# --- I1, I2: BaseRequestHandler ----------------------------------------------------------


@pytest.mark.features("I1", "I2")
def test_base_handler_stores_and_runs_hooks(ss: types.ModuleType, tracer: Tracer) -> None:
    seen = []

    class Handler(ss.BaseRequestHandler):
        def handle(self) -> None:
            seen.append((self.request, self.client_address, self.server))

    cls = traced_class(Handler, support.HANDLER_HOOKS, tracer)
    request, address, server = object(), ("127.0.0.1", 9), object()
    handler = cls(request, address, server)
    assert seen == [(request, address, server)]
    assert (handler.request, handler.client_address, handler.server) == seen[0]
    assert tracer.render() == "setup handle finish"


@pytest.mark.features("I2")
def test_base_handler_hooks_do_nothing(ss: types.ModuleType) -> None:
    handler = ss.BaseRequestHandler(None, None, None)
    assert vars(handler) == {"request": None, "client_address": None, "server": None}
    assert handler.setup() is None
    assert handler.handle() is None
    assert handler.finish() is None


@pytest.mark.features("I1")
def test_setup_failure_skips_finish(ss: types.ModuleType, tracer: Tracer) -> None:
    cls = traced_class(
        ss.BaseRequestHandler,
        support.HANDLER_HOOKS,
        tracer,
        behave={"setup": support.Raise(OSError("setup"))},
    )
    with pytest.raises(OSError, match="setup"):
        cls(None, None, None)
    assert tracer.render() == "setup!OSError"


@pytest.mark.features("I1")
@pytest.mark.parametrize("exc", [ValueError("handle"), SystemExit(3), KeyboardInterrupt()])
def test_handle_failure_still_finishes(
    ss: types.ModuleType, tracer: Tracer, exc: BaseException
) -> None:
    cls = traced_class(
        ss.BaseRequestHandler, support.HANDLER_HOOKS, tracer, behave={"handle": support.Raise(exc)}
    )
    with pytest.raises(type(exc)):
        cls(None, None, None)
    name = type(exc).__name__
    assert tracer.render() == f"setup handle!{name} finish"


@pytest.mark.features("I1")
def test_finish_failure_propagates(ss: types.ModuleType, tracer: Tracer) -> None:
    cls = traced_class(
        ss.BaseRequestHandler,
        support.HANDLER_HOOKS,
        tracer,
        behave={"finish": support.Raise(RuntimeError("finish"))},
    )
    with pytest.raises(RuntimeError, match="finish"):
        cls(None, None, None)
    assert tracer.render() == "setup handle finish!RuntimeError"


# --- I3-I8: StreamRequestHandler ----------------------------------------------------------


def run_stream_handler(
    ss: types.ModuleType, handle: Any, client_data: bytes = b"", **attrs: Any
) -> tuple[Any, socket.socket, bytes]:
    """Run a StreamRequestHandler subclass on a real TCP connection.

    Returns (handler, the server-side socket, what the client received).
    """

    class Handler(ss.StreamRequestHandler):
        pass

    for name, value in attrs.items():
        setattr(Handler, name, value)
    Handler.handle = handle
    with support.tcp_pair() as (accepted, client):
        client.sendall(client_data)
        handler = Handler(accepted, client.getsockname(), None)
        assert accepted.fileno() != -1, "finish() does not close the socket (I8)"
        accepted.shutdown(socket.SHUT_WR)
        received = support.recv_all(client)
        return handler, accepted, received


@pytest.mark.features("I3", "I4", "I7", "I8")
def test_stream_handler_defaults_in_action(ss: types.ModuleType) -> None:
    seen: dict[str, Any] = {}

    def handle(self: Any) -> None:
        seen["connection"] = self.connection
        seen["rfile"] = self.rfile
        seen["wfile"] = self.wfile
        seen["timeout"] = self.connection.gettimeout()
        line = self.rfile.readline()
        self.wfile.write(line.upper())

    handler, accepted, received = run_stream_handler(ss, handle, b"hello\nrest")
    assert received == b"HELLO\n"
    assert seen["connection"] is accepted is handler.request
    assert isinstance(seen["rfile"], io.BufferedReader)
    assert type(seen["wfile"]) is ss._SocketWriter
    assert seen["timeout"] == support.TIMEOUT, "timeout None leaves the socket alone"
    # finish() closed both files (run_stream_handler checked the socket stayed open).
    assert handler.rfile.closed and handler.wfile.closed


@pytest.mark.features("I5", "I7")
def test_stream_handler_timeout(ss: types.ModuleType) -> None:
    seen = []
    run_stream_handler(ss, lambda self: seen.append(self.connection.gettimeout()), timeout=3.5)
    assert seen == [3.5]


@pytest.mark.features("I6", "I7")
@pytest.mark.parametrize("nodelay", [False, True])
def test_stream_handler_nagle(ss: types.ModuleType, nodelay: bool) -> None:
    seen = []

    def handle(self: Any) -> None:
        seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    run_stream_handler(ss, handle, disable_nagle_algorithm=nodelay)
    assert [bool(v) for v in seen] == [nodelay]


@pytest.mark.features("I3", "I7")
def test_stream_handler_unbuffered_rfile(ss: types.ModuleType) -> None:
    # CGIHTTPRequestHandler sets rbufsize = 0 and reads rfile._sock.
    seen = []

    def handle(self: Any) -> None:
        seen.append((type(self.rfile), self.rfile._sock is self.connection))
        self.wfile.write(self.rfile.read(4))

    _, _, received = run_stream_handler(ss, handle, b"data", rbufsize=0)
    assert seen == [(socket.SocketIO, True)]
    assert received == b"data"


@pytest.mark.features("I4", "I7", "I8")
def test_stream_handler_buffered_wfile_flushed_by_finish(ss: types.ModuleType) -> None:
    seen = []

    def handle(self: Any) -> None:
        seen.append(self.wfile)
        self.wfile.write(b"buffered until finish")

    handler, _, received = run_stream_handler(ss, handle, wbufsize=65536)
    assert isinstance(seen[0], io.BufferedWriter)
    assert received == b"buffered until finish"
    assert handler.wfile.closed


@pytest.mark.features("I8")
def test_finish_with_wfile_already_closed(ss: types.ModuleType) -> None:
    # finish() checks wfile.closed first: flushing a closed file would raise
    # ValueError, which is not the OSError it ignores.
    def handle(self: Any) -> None:
        self.wfile.write(b"x")
        self.wfile.close()  # flushes

    handler, _, received = run_stream_handler(ss, handle, wbufsize=65536)
    assert received == b"x"
    assert handler.wfile.closed and handler.rfile.closed


class FailingFile:
    """A wfile whose flush fails like a connection aborted by the peer."""

    def __init__(self, log: list[str], error: BaseException) -> None:
        self.log = log
        self.error = error
        self.closed = False

    def flush(self) -> None:
        self.log.append("flush")
        raise self.error

    def close(self) -> None:
        self.log.append("close")
        self.closed = True


@pytest.mark.features("I8")
def test_finish_ignores_oserror_from_flush(ss: types.ModuleType) -> None:
    log: list[str] = []

    def handle(self: Any) -> None:
        self.wfile.close()
        self.wfile = FailingFile(log, ConnectionAbortedError("aborted"))

    handler, _, _ = run_stream_handler(ss, handle)
    assert log == ["flush", "close"]
    assert handler.rfile.closed


@pytest.mark.features("I8")
def test_finish_does_not_ignore_other_errors_from_flush(ss: types.ModuleType) -> None:
    log: list[str] = []
    handlers: list[Any] = []

    def handle(self: Any) -> None:
        handlers.append(self)
        self.wfile.close()
        self.wfile = FailingFile(log, ValueError("not an OSError"))

    with pytest.raises(ValueError, match="not an OSError"):
        run_stream_handler(ss, handle)
    assert log == ["flush"]
    # The error left finish() before it closed the files; release the fd.
    (handler,) = handlers
    assert not handler.rfile.closed
    handler.rfile.close()


@pytest.mark.features("I8")
def test_buffered_wfile_on_a_broken_connection(ss: types.ModuleType) -> None:
    # The failing flush is ignored, but a BufferedWriter still holds the data,
    # and its close() flushes again: that error reaches the caller.
    handlers: list[Any] = []

    class Handler(ss.StreamRequestHandler):
        wbufsize = 65536

        def handle(self) -> None:
            handlers.append(self)
            self.wfile.write(b"never sent")
            self.connection.shutdown(socket.SHUT_WR)  # sending now fails with EPIPE

    with support.tcp_pair() as (accepted, client):
        with pytest.raises(BrokenPipeError):
            Handler(accepted, client.getsockname(), None)
        assert accepted.fileno() != -1
        assert support.recv_all(client) == b""
        (handler,) = handlers
        assert handler.wfile.closed
        # finish() never reached rfile.close(); close it so the fd is released.
        assert not handler.rfile.closed
        handler.rfile.close()


# --- I9-I12: _SocketWriter -------------------------------------------------------------


@pytest.mark.features("I9", "I10", "I12")
def test_socket_writer_is_a_buffered_io_base(ss: types.ModuleType) -> None:
    with support.tcp_pair() as (accepted, _):
        writer = ss._SocketWriter(accepted)
        assert isinstance(writer, io.BufferedIOBase)
        assert writer.writable() is True
        assert writer.fileno() == accepted.fileno()
        with pytest.raises(io.UnsupportedOperation):
            writer.read()
        writer.flush()  # nothing buffered: a no-op


@pytest.mark.features("I11")
def test_socket_writer_write_returns_nbytes(ss: types.ModuleType) -> None:
    with support.tcp_pair() as (accepted, client):
        writer = ss._SocketWriter(accepted)
        data = array.array("i", [1, 2, 3])
        view = memoryview(data)
        assert len(view) == 3
        assert writer.write(view) == 12 == view.nbytes
        assert writer.write(b"abc") == 3
        assert writer.write(bytearray(b"de")) == 2
        accepted.shutdown(socket.SHUT_WR)
        assert support.recv_all(client) == data.tobytes() + b"abcde"


@pytest.mark.features("I11", "I12")
def test_socket_writer_close_leaves_the_socket(ss: types.ModuleType) -> None:
    with support.tcp_pair() as (accepted, client):
        writer = ss._SocketWriter(accepted)
        writer.close()
        assert writer.closed
        assert accepted.fileno() != -1
        # write() does not check closed: it still sends.
        assert writer.write(b"after close") == 11
        accepted.shutdown(socket.SHUT_WR)
        assert support.recv_all(client) == b"after close"


@pytest.mark.features("I11")
def test_socket_writer_write_survives_signals(ss: types.ModuleType) -> None:
    # As CPython's test_write: a large write interrupted by signals is not
    # truncated (sendall retries after EINTR).  The reader holds back until
    # the blocked sender has run the signal handler a few times, which proves
    # the write really was interrupted.
    size = 2 * 1024 * 1024  # far more than the socket buffers hold
    payload = bytes(range(256)) * (size // 256)
    received: list[bytes] = []
    handled = threading.Semaphore(0)
    writing = threading.Event()
    main = threading.main_thread().ident
    assert main == threading.get_ident()

    def on_signal(signum: int, frame: Any) -> None:
        handled.release()

    def read() -> None:
        for _ in range(5):
            handled.acquire(timeout=support.TIMEOUT)
        received.append(support.recv_all(client))

    def interrupt() -> None:
        while writing.is_set():
            signal.pthread_kill(main, signal.SIGUSR1)
            time.sleep(0.001)

    previous = signal.signal(signal.SIGUSR1, on_signal)
    try:
        with support.tcp_pair() as (accepted, client):
            accepted.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            reader = support.start_thread(read)
            writing.set()
            killer = support.start_thread(interrupt)
            try:
                written = ss._SocketWriter(accepted).write(payload)
            finally:
                writing.clear()
                killer.join(support.TIMEOUT)
            accepted.shutdown(socket.SHUT_WR)
            reader.join(support.TIMEOUT)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert written == size
    assert received == [payload]


# --- I13, I14: DatagramRequestHandler --------------------------------------------------


@pytest.mark.features("I13", "I14")
def test_datagram_handler_setup_and_reply(ss: types.ModuleType) -> None:
    seen: dict[str, Any] = {}

    class Handler(ss.DatagramRequestHandler):
        def handle(self) -> None:
            seen.update(packet=self.packet, socket=self.socket, rfile=self.rfile)
            seen["wfile_start"] = self.wfile.getvalue()
            self.wfile.write(self.rfile.read().upper())

    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server_sock,
        support.datagram_client() as client,
    ):
        server_sock.bind(ADDR)
        Handler((b"ping", server_sock), client.getsockname(), None)
        assert client.recvfrom(100) == (b"PING", server_sock.getsockname())
    assert seen["packet"] == b"ping"
    assert seen["socket"] is server_sock
    assert isinstance(seen["rfile"], io.BytesIO)
    assert seen["wfile_start"] == b""


@pytest.mark.features("I14")
@pytest.mark.parametrize("family", ["inet", "unix"])
def test_datagram_handler_sends_empty_reply(
    ss: types.ModuleType, sockdir: Path, family: str
) -> None:
    # A handler that writes nothing still answers: a zero-length datagram.
    if family == "unix":
        server_cls, address = ss.UnixDatagramServer, str(sockdir / "dg.sock")
        client = support.datagram_client(socket.AF_UNIX, bind=str(sockdir / "cl.sock"))
    else:
        server_cls, address = ss.UDPServer, ADDR
        client = support.datagram_client()
    with client, server_cls(address, ss.DatagramRequestHandler) as server:
        server.timeout = support.TIMEOUT
        client.sendto(b"anything", server.server_address)
        call_with_timeout(server.handle_request)
        data, source = client.recvfrom(100)
        assert data == b""
        assert source == server.server_address


@pytest.mark.features("I13")
def test_datagram_handler_needs_a_pair(ss: types.ModuleType) -> None:
    with pytest.raises((TypeError, ValueError)):
        ss.DatagramRequestHandler(b"not a pair", ("127.0.0.1", 1), None)


@pytest.mark.features("I13", "H8")
def test_threading_unix_datagram_round_trip(
    ss: types.ModuleType, sockdir: Path, harness: support.Harness
) -> None:
    lock = threading.Lock()
    threads = []

    class Handler(ss.DatagramRequestHandler):
        def handle(self) -> None:
            with lock:
                threads.append(threading.current_thread().name)
            self.wfile.write(self.packet * 2)

    server = harness.add(ss.ThreadingUnixDatagramServer(str(sockdir / "t.sock"), Handler))
    harness.serve(server)
    with support.datagram_client(socket.AF_UNIX, bind=str(sockdir / "c.sock")) as client:
        client.sendto(b"ab", server.server_address)
        assert client.recv(10) == b"abab"
    harness.stop(server)
    assert threads and threads[0] != "serve"
