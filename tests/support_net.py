"""Clients for the servers under test: stream and datagram clients, a TCP pair, IPv6."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

from support_proc import TIMEOUT


def connect(address: Any, family: int = socket.AF_INET) -> socket.socket:
    """A connected stream client with a timeout."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT)
    try:
        sock.connect(address)
    except BaseException:
        sock.close()
        raise
    return sock


def datagram_client(family: int = socket.AF_INET, bind: Any = None) -> socket.socket:
    """A datagram client with a timeout; Unix clients must bind to get replies (I14)."""
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.settimeout(TIMEOUT)
    if bind is not None:
        sock.bind(bind)
    elif family == socket.AF_INET:
        sock.bind(("127.0.0.1", 0))
    return sock


def recv_all(sock: socket.socket) -> bytes:
    """Read until EOF (the socket has a timeout, so this cannot hang)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@contextlib.contextmanager
def tcp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """(accepted, client): a connected TCP pair on 127.0.0.1, both with timeouts."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(TIMEOUT)
        client = connect(listener.getsockname())
        try:
            accepted, _ = listener.accept()
        except BaseException:
            client.close()
            raise
    accepted.settimeout(TIMEOUT)
    with accepted, client:
        yield accepted, client


def ipv6_loopback_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True
