"""Bad input and faults: CPython's exception types and messages, no leaked descriptor,
no hang; misuse of shutdown() documented."""

from __future__ import annotations

import errno
import socket
import threading
import types
from pathlib import Path
from typing import Any

import pytest
import support
from support import Harness, call_with_timeout, connect

ADDR = ("127.0.0.1", 0)


def raw_bind_error(family: int, kind: int, address: Any) -> BaseException:
    """What a bare socket's bind() raises for *address*: CPython's type and message."""
    with socket.socket(family, kind) as sock:
        try:
            sock.bind(address)
        except BaseException as exc:
            return exc
    raise AssertionError(f"bind({address!r}) succeeded")


BAD_ADDRESSES = [
    pytest.param("TCPServer", ("127.0.0.1", -1), OverflowError, id="port-minus-1"),
    pytest.param("TCPServer", ("127.0.0.1", 65536), OverflowError, id="port-65536"),
    pytest.param("UDPServer", ("127.0.0.1", -1), OverflowError, id="udp-port-minus-1"),
    pytest.param("TCPServer", ("127.0.0.1", "80"), TypeError, id="port-str"),
    pytest.param("TCPServer", (127, 0), TypeError, id="host-int"),
    pytest.param("TCPServer", "127.0.0.1:0", TypeError, id="address-str"),
    pytest.param("TCPServer", ("127.0.0.1",), TypeError, id="address-1-tuple"),
    pytest.param("TCPServer", None, TypeError, id="address-none"),
    pytest.param("UnixStreamServer", 42, TypeError, id="unix-int"),
    pytest.param("UnixStreamServer", "/" + "x" * 200, OSError, id="unix-path-too-long"),
    pytest.param("UnixDatagramServer", None, TypeError, id="unix-dgram-none"),
]


@pytest.mark.features("C6", "C7")
@pytest.mark.parametrize(("server_class", "address", "error"), BAD_ADDRESSES)
def test_bad_address(
    ss: types.ModuleType, server_class: str, address: Any, error: type[BaseException]
) -> None:
    cls = getattr(ss, server_class)
    expected = raw_bind_error(cls.address_family, cls.socket_type, address)
    assert type(expected) is error
    fds = support.open_fds()
    with pytest.raises(error) as info:
        cls(address, ss.BaseRequestHandler)
    assert type(info.value) is type(expected)
    assert str(info.value) == str(expected)
    assert support.open_fds() == fds, "the server's socket was closed (C6)"


@pytest.mark.features("C6")
def test_bind_failures_leak_nothing(ss: types.ModuleType) -> None:
    # CPython's test_tcpserver_bind_leak does 1024 rounds; the descriptor
    # count is what proves it, so fewer rounds suffice.
    before = support.fd_count()
    for _ in range(200):
        with pytest.raises(OverflowError, match=r"port must be 0-65535"):
            ss.TCPServer(("127.0.0.1", -1), ss.StreamRequestHandler)
    assert support.fd_count() == before


@pytest.mark.features("C6")
def test_missing_directory_for_unix_path(ss: types.ModuleType, sockdir: Path) -> None:
    fds = support.open_fds()
    with pytest.raises(FileNotFoundError):
        ss.UnixStreamServer(str(sockdir / "no" / "such.sock"), ss.BaseRequestHandler)
    assert support.open_fds() == fds


@pytest.mark.features("C6", "J5")
def test_unsupported_address_family(ss: types.ModuleType) -> None:
    class Server(ss.TCPServer):
        address_family = 12345

    fds = support.open_fds()
    with pytest.raises(OSError) as info:
        Server(ADDR, ss.BaseRequestHandler)
    assert info.value.errno == errno.EAFNOSUPPORT
    assert support.open_fds() == fds


@pytest.mark.features("C9", "E9", "G6")
@pytest.mark.parametrize(
    "server_class", ["TCPServer", "UDPServer", "ThreadingTCPServer", "ForkingTCPServer"]
)
def test_server_close_twice(ss: types.ModuleType, server_class: str) -> None:
    fds = support.open_fds()
    server = getattr(ss, server_class)(ADDR, ss.BaseRequestHandler)
    server.server_close()
    server.server_close()
    assert server.socket.fileno() == -1
    assert support.open_fds() == fds


@pytest.mark.features("B4", "B7", "C9")
def test_serving_a_closed_server(ss: types.ModuleType) -> None:
    # After server_close() the descriptor is -1: registering it with the
    # selector fails with ValueError, and serve_forever still releases
    # shutdown() on its way out.
    server = ss.TCPServer(ADDR, ss.BaseRequestHandler)
    server.server_close()
    with pytest.raises(ValueError):
        server.handle_request()
    with pytest.raises(ValueError):
        server.serve_forever(0.01)
    call_with_timeout(server.shutdown)


@pytest.mark.features("B4", "B5")
def test_bad_poll_interval(ss: types.ModuleType) -> None:
    with ss.TCPServer(ADDR, ss.BaseRequestHandler) as server:
        with pytest.raises(TypeError):
            server.serve_forever(poll_interval="soon")
        call_with_timeout(server.shutdown)  # the event was set on the way out


@pytest.mark.features("B7", "B9")
@pytest.mark.parametrize("timeout", [-1.0, 0.0])
def test_non_positive_timeout_times_out_at_once(ss: types.ModuleType, timeout: float) -> None:
    class Server(ss.TCPServer):
        def handle_timeout(self) -> str:
            return "timed out"

    with Server(ADDR, ss.BaseRequestHandler) as server:
        server.timeout = timeout
        assert call_with_timeout(server.handle_request) == "timed out"


@pytest.mark.features("B8", "B13", "B16")
def test_handler_class_not_callable(
    ss: types.ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Any object is accepted as RequestHandlerClass (K3); calling it fails per
    # request, which handle_error reports, and the server carries on.
    with ss.TCPServer(ADDR, None) as server:
        server.timeout = support.TIMEOUT
        for _ in range(2):
            with connect(server.server_address) as client:
                call_with_timeout(server.handle_request)
                assert support.recv_all(client) == b""
    err = capsys.readouterr().err
    assert err.count("TypeError: 'NoneType' object is not callable") == 2


@pytest.mark.features("D4", "D5", "B8")
def test_negative_max_packet_size(ss: types.ModuleType) -> None:
    # recvfrom's ValueError is not an OSError: it propagates out of handle_request.
    with ss.UDPServer(ADDR, ss.DatagramRequestHandler) as server:
        server.max_packet_size = -1
        server.timeout = support.TIMEOUT
        with support.datagram_client() as client:
            client.sendto(b"x", server.server_address)
            with pytest.raises(ValueError, match="negative buffersize in recvfrom"):
                call_with_timeout(server.handle_request)


# --- shutdown() misuse ---------------------------------------------------------------


@pytest.mark.features("B5")
def test_shutdown_without_serve_forever_blocks(ss: types.ModuleType) -> None:
    # Documented misuse: shutdown() waits for a serve_forever loop to finish,
    # so with no loop it blocks.  A later serve_forever releases it, because
    # the flag is already set and that loop exits at once.
    with ss.TCPServer(ADDR, ss.BaseRequestHandler) as server:
        stopper = support.start_thread(server.shutdown)
        stopper.join(0.2)
        assert stopper.is_alive(), "shutdown() returned with no serve_forever running"
        call_with_timeout(server.serve_forever, 0.01)
        stopper.join(support.TIMEOUT)
        assert not stopper.is_alive()


@pytest.mark.features("B5", "B4")
def test_shutdown_from_the_serving_thread_deadlocks(
    ss: types.ModuleType, harness: Harness
) -> None:
    # Documented misuse: a handler of a synchronous server runs in the
    # serve_forever thread, so its shutdown() waits for itself.  The test
    # breaks the deadlock by setting the loop's private event by hand.
    calling = threading.Event()

    class Handler(ss.BaseRequestHandler):
        def handle(self) -> None:
            calling.set()
            self.server.shutdown()

    server = harness.add(ss.TCPServer(ADDR, Handler))
    loop = harness.serve(server)
    with connect(server.server_address):
        assert calling.wait(support.TIMEOUT)
        loop.join(0.2)
        assert loop.is_alive(), "shutdown() inside serve_forever did not block"
        server._BaseServer__is_shut_down.set()
        loop.join(support.TIMEOUT)
        assert not loop.is_alive(), "the loop saw the shutdown flag and exited"
    harness.threads.clear()
