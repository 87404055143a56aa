"""TCPServer (C1-C13), UDPServer (D1-D8), per-instance overrides (J5), end-to-end echo."""

from __future__ import annotations

import errno
import os
import socket
import types
from pathlib import Path
from typing import Any

import pytest
import support
from support import Harness, Tracer, call_with_timeout, connect, traced_class

ADDR = ("127.0.0.1", 0)
SHUT_WR = socket.SHUT_WR
DIFF_REUSEPORT = (
    "3.11 sets SO_REUSEPORT on AF_UNIX too; since Linux 6.12.9 the kernel rejects it "
    "with OSError 95 (§3, gh-128916)"
)
DIFF_FORKING_UNIX = "ForkingUnix*Server were added in 3.12 (§1)"

needs_ipv6 = pytest.mark.skipif(
    not support.ipv6_loopback_available(),
    reason="this host cannot bind ::1 (IPv6 loopback unavailable)",
)


class RecordingSocket:
    """Wraps a real socket and records the calls the server makes on it."""

    def __init__(self, sock: socket.socket, fail_shutdown: OSError | None = None) -> None:
        self.sock = sock
        self.calls: list[tuple[Any, ...]] = []
        self.fail_shutdown = fail_shutdown

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)

    def listen(self, backlog: int) -> None:
        self.calls.append(("listen", backlog))
        self.sock.listen(backlog)

    def shutdown(self, how: int) -> None:
        self.calls.append(("shutdown", how))
        if self.fail_shutdown is not None:
            raise self.fail_shutdown
        self.sock.shutdown(how)

    def close(self) -> None:
        self.calls.append(("close",))
        self.sock.close()


def sockopt(sock: socket.socket, option: int) -> int:
    return sock.getsockopt(socket.SOL_SOCKET, option)


# --- C6: construction ---------------------------------------------------------------


@pytest.mark.features("C6", "C7", "C8")
def test_init_binds_and_activates(ss: types.ModuleType, tracer: Tracer) -> None:
    cls = traced_class(ss.TCPServer, support.SERVER_HOOKS, tracer)
    with cls(ADDR, ss.BaseRequestHandler) as server:
        assert tracer.render() == "server_bind server_activate"
        assert server.socket.family == socket.AF_INET
        assert server.socket.type == socket.SOCK_STREAM
        assert sockopt(server.socket, socket.SO_ACCEPTCONN) == 1


@pytest.mark.features("C6")
def test_init_without_bind_and_activate(ss: types.ModuleType, tracer: Tracer) -> None:
    cls = traced_class(ss.TCPServer, support.SERVER_HOOKS, tracer)
    with cls(ADDR, ss.BaseRequestHandler, bind_and_activate=False) as server:
        assert tracer.render() == ""
        assert server.server_address == ADDR
        assert server.socket.getsockname() == ("0.0.0.0", 0)
        assert sockopt(server.socket, socket.SO_ACCEPTCONN) == 0
        server.server_bind()
        server.server_activate()
        assert server.server_address[1] != 0
        with connect(server.server_address):
            pass


@pytest.mark.features("C6")
@pytest.mark.parametrize(
    ("hook", "exc", "expected"),
    [
        ("server_bind", RuntimeError("bind"), "server_bind!RuntimeError server_close"),
        (
            "server_activate",
            RuntimeError("activate"),
            "server_bind server_activate!RuntimeError server_close",
        ),
        ("server_bind", KeyboardInterrupt(), "server_bind!KeyboardInterrupt server_close"),
    ],
    ids=["bind-fails", "activate-fails", "bind-interrupted"],
)
def test_init_failure_closes_the_socket(
    ss: types.ModuleType,
    tracer: Tracer,
    monkeypatch: pytest.MonkeyPatch,
    hook: str,
    exc: BaseException,
    expected: str,
) -> None:
    cls = traced_class(ss.TCPServer, support.SERVER_HOOKS, tracer, {hook: support.Raise(exc)})
    made: list[socket.socket] = []

    class Spy(socket.socket):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            made.append(self)

    fds = support.open_fds()
    with monkeypatch.context() as m, pytest.raises(type(exc)):
        m.setattr(socket, "socket", Spy)
        cls(ADDR, ss.BaseRequestHandler)
    # `made` keeps the socket object alive: only server_close() can have closed it.
    assert tracer.render() == expected
    assert len(made) == 1 and made[0].fileno() == -1
    assert support.open_fds() == fds


@pytest.mark.features("C6")
def test_init_calls_base_server_init_by_name(ss: types.ModuleType) -> None:
    # TCPServer.__init__ calls BaseServer.__init__ explicitly, not super():
    # a class between TCPServer and BaseServer in the MRO is skipped.
    skipped = []

    class Between(ss.BaseServer):
        def __init__(self, *args: Any) -> None:
            skipped.append(args)
            super().__init__(*args)

    class Server(ss.TCPServer, Between):
        pass

    assert Server.__mro__[1:3] == (ss.TCPServer, Between)
    with Server(ADDR, ss.BaseRequestHandler) as server:
        assert skipped == []
        assert server._BaseServer__shutdown_request is False


@pytest.mark.features("C6", "J5")
def test_socket_made_from_instance_attributes(ss: types.ModuleType, sockdir: Path) -> None:
    # logging.config sets address_family on the instance before TCPServer.__init__.
    class Server(ss.TCPServer):
        def __init__(self, address: Any, handler: Any) -> None:
            self.address_family = socket.AF_UNIX
            super().__init__(address, handler)

    path = str(sockdir / "inst.sock")
    with Server(path, ss.StreamRequestHandler) as server:
        assert server.socket.family == socket.AF_UNIX
        assert server.server_address == path

    class Datagram(ss.TCPServer):
        def __init__(self, address: Any, handler: Any) -> None:
            self.socket_type = socket.SOCK_DGRAM
            super().__init__(address, handler, bind_and_activate=False)

    with Datagram(ADDR, ss.BaseRequestHandler) as server:
        assert server.socket.type == socket.SOCK_DGRAM


# --- C7: server_bind ----------------------------------------------------------------


@pytest.mark.features("C7")
def test_server_address_ipv4(ss: types.ModuleType) -> None:
    with ss.TCPServer(ADDR, ss.BaseRequestHandler) as server:
        host, port = server.server_address
        assert type(server.server_address) is tuple
        assert host == "127.0.0.1" and port != 0
        assert server.server_address == server.socket.getsockname()


@needs_ipv6
@pytest.mark.features("C7", "J5")
@pytest.mark.parametrize("server_class", ["TCPServer", "UDPServer"])
def test_server_address_ipv6(ss: types.ModuleType, server_class: str) -> None:
    class Server(getattr(ss, server_class)):  # type: ignore[misc]
        address_family = socket.AF_INET6

    with Server(("::1", 0), ss.BaseRequestHandler) as server:
        assert len(server.server_address) == 4
        host, port, flowinfo, scope_id = server.server_address
        assert (host, flowinfo, scope_id) == ("::1", 0, 0) and port != 0
        assert server.server_address == server.socket.getsockname()


@pytest.mark.features("C7", "H5", "H6")
@pytest.mark.parametrize("server_class", ["UnixStreamServer", "UnixDatagramServer"])
def test_server_address_unix(ss: types.ModuleType, sockdir: Path, server_class: str) -> None:
    path = str(sockdir / "addr.sock")
    with getattr(ss, server_class)(path, ss.BaseRequestHandler) as server:
        assert type(server.server_address) is str
        assert server.server_address == path
        assert Path(path).is_socket()


@pytest.mark.features("C7")
def test_server_address_unix_abstract(ss: types.ModuleType) -> None:
    name = f"\0socketserver-test-{id(ss)}-{os.getpid()}"
    with ss.UnixStreamServer(name, ss.BaseRequestHandler) as server:
        # getsockname() gives an abstract name back as bytes.
        assert server.server_address == name.encode()


@pytest.mark.features("C7", "D7")
def test_server_address_udp(ss: types.ModuleType) -> None:
    with ss.UDPServer(ADDR, ss.BaseRequestHandler) as server:
        assert server.server_address[1] != 0
        assert server.server_address == server.socket.getsockname()


@pytest.mark.features("C4", "C5", "C7")
@pytest.mark.parametrize("server_class", ["TCPServer", "UDPServer"])
def test_reuse_options_default_off(ss: types.ModuleType, server_class: str) -> None:
    with getattr(ss, server_class)(ADDR, ss.BaseRequestHandler) as server:
        assert sockopt(server.socket, socket.SO_REUSEADDR) == 0
        assert sockopt(server.socket, socket.SO_REUSEPORT) == 0


@pytest.mark.features("C4", "C5", "C7", "D1", "D2", "J5")
@pytest.mark.parametrize("server_class", ["TCPServer", "UDPServer"])
@pytest.mark.parametrize("where", ["class", "instance"])
def test_reuse_options_on_inet(ss: types.ModuleType, server_class: str, where: str) -> None:
    base = getattr(ss, server_class)
    if where == "class":

        class Server(base):  # type: ignore[valid-type, misc]
            allow_reuse_address = True
            allow_reuse_port = True

    else:

        class Server(base):  # type: ignore[valid-type, misc, no-redef]
            def __init__(self, *args: Any) -> None:
                self.allow_reuse_address = True
                self.allow_reuse_port = True
                super().__init__(*args)

    with Server(ADDR, ss.BaseRequestHandler) as server:
        assert sockopt(server.socket, socket.SO_REUSEADDR) == 1
        assert sockopt(server.socket, socket.SO_REUSEPORT) == 1


@pytest.mark.features("C4", "C7")
def test_reuse_address_on_unix(ss: types.ModuleType, sockdir: Path) -> None:
    class Server(ss.UnixStreamServer):
        allow_reuse_address = True

    with Server(str(sockdir / "ra.sock"), ss.BaseRequestHandler) as server:
        assert sockopt(server.socket, socket.SO_REUSEADDR) == 1


@pytest.mark.features("C5", "C7")
@pytest.mark.differs_311(DIFF_REUSEPORT, raises=OSError)
@pytest.mark.parametrize("server_class", ["UnixStreamServer", "UnixDatagramServer"])
def test_reuse_port_ignored_on_unix(
    ss: types.ModuleType, sockdir: Path, server_class: str
) -> None:
    class Server(getattr(ss, server_class)):  # type: ignore[misc]
        allow_reuse_port = True

    path = str(sockdir / "rp.sock")
    with Server(path, ss.BaseRequestHandler) as server:
        assert server.server_address == path
        assert sockopt(server.socket, socket.SO_REUSEPORT) == 0


@pytest.mark.features("C7")
def test_bind_conflict_raises(ss: types.ModuleType) -> None:
    with ss.TCPServer(ADDR, ss.BaseRequestHandler) as first:
        fds = support.open_fds()
        with pytest.raises(OSError) as info:
            ss.TCPServer(first.server_address, ss.BaseRequestHandler)
        assert info.value.errno == errno.EADDRINUSE
        assert support.open_fds() == fds


# --- C8-C13 ---------------------------------------------------------------------------


@pytest.mark.features("C3", "C8", "J5")
@pytest.mark.parametrize("backlog", [None, 17])
def test_server_activate_listens_with_queue_size(
    ss: types.ModuleType, backlog: int | None
) -> None:
    with ss.TCPServer(ADDR, ss.BaseRequestHandler, bind_and_activate=False) as server:
        if backlog is not None:
            server.request_queue_size = backlog
        server.server_bind()
        real = server.socket
        proxy = RecordingSocket(real)
        server.socket = proxy
        server.server_activate()
        server.socket = real
        assert proxy.calls == [("listen", 5 if backlog is None else backlog)]
        assert server.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1


@pytest.mark.features("C9", "C10")
def test_server_close_and_fileno(ss: types.ModuleType) -> None:
    server = ss.TCPServer(ADDR, ss.BaseRequestHandler)
    assert server.fileno() == server.socket.fileno() >= 0
    server.server_close()
    assert server.socket.fileno() == -1
    assert server.fileno() == -1
    server.server_close()  # harmless
    assert server.socket.fileno() == -1


@pytest.mark.features("C10")
def test_fileno_follows_a_replaced_socket(ss: types.ModuleType) -> None:
    # http.server's HTTPSServer replaces self.socket after activation.
    with ss.TCPServer(ADDR, ss.BaseRequestHandler) as server:
        original = server.socket
        replacement = socket.socket()
        server.socket = replacement
        try:
            assert server.fileno() == replacement.fileno() != original.fileno()
        finally:
            original.close()
    assert replacement.fileno() == -1


@pytest.mark.features("C11")
def test_get_request_accepts(ss: types.ModuleType) -> None:
    with ss.TCPServer(ADDR, ss.BaseRequestHandler) as server:
        server.socket.settimeout(support.TIMEOUT)
        with connect(server.server_address) as client:
            request, address = server.get_request()
            with request:
                assert isinstance(request, socket.socket)
                assert address == client.getsockname()
                assert request.getpeername() == client.getsockname()


@pytest.mark.features("C12", "C13")
def test_shutdown_request_half_closes_then_closes(ss: types.ModuleType) -> None:
    with support.tcp_pair() as (accepted, client):
        closed = []

        class Server(ss.TCPServer):
            def close_request(self, request: Any) -> None:
                closed.append(list(request.calls))
                super().close_request(request)

        with Server(ADDR, ss.BaseRequestHandler) as server:
            proxy = RecordingSocket(accepted)
            server.shutdown_request(proxy)
        assert closed == [[("shutdown", SHUT_WR)]], "SHUT_WR comes before close_request"
        assert proxy.calls == [("shutdown", SHUT_WR), ("close",)]
        assert accepted.fileno() == -1
        assert client.recv(10) == b""


@pytest.mark.features("C12")
@pytest.mark.parametrize("kind", ["raises-ENOTCONN", "never-connected"])
def test_shutdown_request_ignores_oserror(ss: types.ModuleType, kind: str) -> None:
    with ss.TCPServer(ADDR, ss.BaseRequestHandler) as server:
        if kind == "raises-ENOTCONN":
            request: Any = RecordingSocket(
                socket.socket(), fail_shutdown=OSError(errno.ENOTCONN, "not connected")
            )
        else:
            request = socket.socket()  # shutdown() on it really raises ENOTCONN
        server.shutdown_request(request)
        assert request.fileno() == -1


@pytest.mark.features("C12", "J1")
def test_client_sees_reply_then_eof(ss: types.ModuleType) -> None:
    class Handler(ss.StreamRequestHandler):
        timeout = support.TIMEOUT  # the connection never blocks forever

        def handle(self) -> None:
            self.wfile.write(self.rfile.readline().upper())

    with ss.TCPServer(ADDR, Handler) as server:
        with connect(server.server_address) as client:
            client.sendall(b"hello\n")
            call_with_timeout(server.handle_request)
            # The server half-closed and closed: all the data, then EOF.
            assert support.recv_all(client) == b"HELLO\n"


@pytest.mark.features("C13")
def test_close_request_closes(ss: types.ModuleType) -> None:
    with support.tcp_pair() as (accepted, client):
        with ss.TCPServer(ADDR, ss.BaseRequestHandler) as server:
            server.close_request(accepted)
        assert accepted.fileno() == -1
        assert client.recv(1) == b""


# --- D: UDPServer ---------------------------------------------------------------------


@pytest.mark.features("D5")
def test_udp_get_request(ss: types.ModuleType) -> None:
    with ss.UDPServer(ADDR, ss.BaseRequestHandler) as server:
        server.socket.settimeout(support.TIMEOUT)
        with support.datagram_client() as client:
            client.sendto(b"ping", server.server_address)
            request, address = server.get_request()
            assert type(request) is tuple and len(request) == 2
            data, sock = request
            assert data == b"ping" and type(data) is bytes
            assert sock is server.socket
            assert address == client.getsockname()


@pytest.mark.features("D4", "J5")
@pytest.mark.parametrize(("limit", "sent", "kept"), [(None, 9000, 8192), (10, 100, 10)])
def test_udp_max_packet_size(
    ss: types.ModuleType, limit: int | None, sent: int, kept: int
) -> None:
    with ss.UDPServer(ADDR, ss.BaseRequestHandler) as server:
        if limit is not None:
            server.max_packet_size = limit  # an instance override is honoured
        server.socket.settimeout(support.TIMEOUT)
        payload = bytes(range(256)) * (sent // 256 + 1)
        with support.datagram_client() as client:
            client.sendto(payload[:sent], server.server_address)
            client.sendto(b"next", server.server_address)
            (data, _), _ = server.get_request()
            assert data == payload[:kept]
            # The rest of the large datagram is gone, not read as a new one.
            (data, _), _ = server.get_request()
            assert data == b"next"


@pytest.mark.features("D6")
def test_udp_server_activate_does_not_listen(ss: types.ModuleType) -> None:
    with ss.UDPServer(ADDR, ss.BaseRequestHandler, bind_and_activate=False) as server:
        server.server_bind()
        real = server.socket
        server.socket = RecordingSocket(real)
        try:
            assert server.server_activate() is None
            assert server.socket.calls == []
        finally:
            server.socket = real


@pytest.mark.features("D7", "D8")
def test_udp_shutdown_request_touches_nothing(ss: types.ModuleType, tracer: Tracer) -> None:
    cls = traced_class(ss.UDPServer, support.SERVER_HOOKS, tracer)
    with cls(ADDR, ss.BaseRequestHandler) as server:
        real = server.socket
        proxy = RecordingSocket(real)
        tracer.events.clear()
        server.shutdown_request((b"data", proxy))
        assert tracer.render() == "shutdown_request(close_request)"
        assert proxy.calls == []
        assert real.fileno() != -1


@pytest.mark.features("D8", "I13", "I14", "J1")
def test_udp_server_serves_repeatedly(ss: types.ModuleType) -> None:
    class Handler(ss.DatagramRequestHandler):
        def handle(self) -> None:
            self.wfile.write(self.rfile.read()[::-1])

    with ss.UDPServer(ADDR, Handler) as server:
        server.timeout = support.TIMEOUT
        with support.datagram_client() as client:
            for word in (b"abc", b"hello"):
                client.sendto(word, server.server_address)
                call_with_timeout(server.handle_request)
                assert client.recvfrom(100) == (word[::-1], server.server_address)
        assert server.socket.fileno() != -1


# --- end to end: every concrete class ----------------------------------------------------


ADDED_IN_312 = pytest.mark.differs_311(DIFF_FORKING_UNIX, raises=AttributeError)


def _case(name: str, marks: Any = ()) -> Any:
    return pytest.param(name, id=name, marks=marks)


ECHO_CASES = [
    _case("TCPServer"),
    _case("ThreadingTCPServer"),
    _case("ForkingTCPServer"),
    _case("UnixStreamServer"),
    _case("ThreadingUnixStreamServer"),
    _case(
        "ForkingUnixStreamServer",
        ADDED_IN_312,
    ),
    _case("UDPServer"),
    _case("ThreadingUDPServer"),
    _case("ForkingUDPServer"),
    _case("UnixDatagramServer"),
    _case("ThreadingUnixDatagramServer"),
    _case(
        "ForkingUnixDatagramServer",
        ADDED_IN_312,
    ),
]


@pytest.mark.features("H1", "H2", "H3", "H4", "H5", "H6", "H7", "H8", "H9", "H10", "J1")
@pytest.mark.parametrize("name", ECHO_CASES)
def test_echo_with_every_server_class(
    ss: types.ModuleType, harness: Harness, sockdir: Path, name: str
) -> None:
    cls = getattr(ss, name)
    unix = name.startswith(("Unix", "ThreadingUnix", "ForkingUnix"))
    stream = cls.socket_type == socket.SOCK_STREAM
    family = socket.AF_UNIX if unix else socket.AF_INET
    address: Any = str(sockdir / "echo.sock") if unix else ADDR

    class Stream(ss.StreamRequestHandler):
        timeout = support.TIMEOUT  # the connection never blocks forever

        def handle(self) -> None:
            self.wfile.write(self.rfile.readline())

    class Datagram(ss.DatagramRequestHandler):
        def handle(self) -> None:
            self.wfile.write(self.rfile.readline())

    server = harness.add(cls(address, Stream if stream else Datagram))
    assert cls.address_family == family
    harness.serve(server)
    for i in range(3):
        line = f"line {i} for {name}\n".encode()
        if stream:
            with support.connect(server.server_address, family) as client:
                client.sendall(line)
                assert support.recv_all(client) == line
        else:
            bind = str(sockdir / f"c{i}.sock") if unix else None
            with support.datagram_client(family, bind) as client:
                client.sendto(line, server.server_address)
                assert client.recv(1024) == line
    harness.stop(server)
    server.server_close()
    if name.startswith("Forking"):
        assert not server.active_children


# --- hooks and attributes are looked up on the instance, at call time (J5) ----------------


@pytest.mark.features("J5", "B8", "B9", "B10", "B11", "B6")
def test_instance_level_hook_overrides(ss: types.ModuleType, harness: Harness) -> None:
    calls: list[str] = []
    with ss.TCPServer(ADDR, ss.BaseRequestHandler) as server:
        real_get_request = server.get_request

        def get_request() -> Any:
            calls.append("get_request")
            return real_get_request()

        def verify_request(request: Any, address: Any) -> bool:
            calls.append("verify_request")
            return False

        def shutdown_request(request: Any) -> None:
            calls.append("shutdown_request")
            request.close()

        server.get_request = get_request
        server.verify_request = verify_request
        server.shutdown_request = shutdown_request
        server.handle_timeout = lambda: calls.append("handle_timeout") or "timed out"
        server.timeout = support.TIMEOUT
        with connect(server.server_address) as client:
            assert call_with_timeout(server.handle_request) is None
            assert support.recv_all(client) == b""
        server.timeout = 0.001
        assert call_with_timeout(server.handle_request) == "timed out"
        server.service_actions = lambda: calls.append("service_actions")
        harness.serve(server)
        support.wait_until(lambda: "service_actions" in calls, "service_actions on the instance")
        harness.stop(server)
    assert calls[:4] == ["get_request", "verify_request", "shutdown_request", "handle_timeout"]


@pytest.mark.features("C10", "C11", "J5")
def test_replaced_listening_socket_is_used(ss: types.ModuleType) -> None:
    # http.server's HTTPSServer swaps self.socket after activation: the wait
    # (through fileno()) and get_request() must both use the new socket.
    served = []

    class Handler(ss.BaseRequestHandler):
        def handle(self) -> None:
            served.append(self.request.getsockname())

    with ss.TCPServer(ADDR, Handler) as server:
        replacement = socket.create_server(ADDR)
        address = replacement.getsockname()
        server.socket.close()
        server.socket = replacement
        server.timeout = support.TIMEOUT
        with connect(address):
            call_with_timeout(server.handle_request)
    assert served == [address]
    assert replacement.fileno() == -1, "server_close() closed the new socket"


@pytest.mark.features("C6", "C10", "B7", "B13")
def test_idlelib_style_connecting_server(ss: types.ModuleType) -> None:
    # idlelib.rpc.RPCServer: server_bind does nothing, server_activate
    # connects instead of listening, and get_request hands out the connected
    # socket itself.  Every step is an overridden hook.
    with socket.create_server(ADDR) as peer_listener:
        peer_listener.settimeout(support.TIMEOUT)
        seen = []

        class Server(ss.TCPServer):
            def server_bind(self) -> None:
                pass

            def server_activate(self) -> None:
                self.socket.settimeout(support.TIMEOUT)
                self.socket.connect(self.server_address)

            def get_request(self) -> Any:
                return self.socket, self.server_address

            def shutdown_request(self, request: Any) -> None:
                pass  # the connection is the server's own socket

        class Handler(ss.BaseRequestHandler):
            def handle(self) -> None:
                seen.append(self.request.recv(100))
                self.request.sendall(b"pong")

        with Server(peer_listener.getsockname(), Handler) as server:
            peer, _ = peer_listener.accept()
            with peer:
                peer.settimeout(support.TIMEOUT)
                peer.sendall(b"ping")
                call_with_timeout(server.handle_request)
                assert peer.recv(100) == b"pong"
        assert seen == [b"ping"]
