"""Module level (A1-A9), the concrete classes (H1-H10) and every class-level default."""

from __future__ import annotations

import io
import os
import selectors
import socket
import sys
import threading
import time
import types
from typing import Any, ClassVar

import pytest
import support

BASE_ALL = [
    "BaseServer",
    "TCPServer",
    "UDPServer",
    "ThreadingUDPServer",
    "ThreadingTCPServer",
    "BaseRequestHandler",
    "StreamRequestHandler",
    "DatagramRequestHandler",
    "ThreadingMixIn",
]
FORK_ALL = ["ForkingUDPServer", "ForkingTCPServer", "ForkingMixIn"]
UNIX_ALL = [
    "UnixStreamServer",
    "UnixDatagramServer",
    "ThreadingUnixStreamServer",
    "ThreadingUnixDatagramServer",
]
UNIX_FORK_ALL = ["ForkingUnixStreamServer", "ForkingUnixDatagramServer"]


@pytest.mark.features("A1")
def test_module_docstring(ss: types.ModuleType) -> None:
    doc = ss.__doc__
    assert isinstance(doc, str)
    # A design note, not a one-liner: it names the class hierarchy and the mix-ins.
    assert len(doc.splitlines()) > 10
    for name in ("BaseServer", "TCPServer", "UDPServer", "ThreadingMixIn", "ForkingMixIn"):
        assert name in doc, name


@pytest.mark.features("A2")
def test_version(ss: types.ModuleType) -> None:
    assert ss.__version__ == "0.4"
    assert type(ss.__version__) is str
    assert "__version__" not in ss.__all__


@pytest.mark.features("A3")
def test_imports_are_module_globals(ss: types.ModuleType) -> None:
    assert ss.socket is socket
    assert ss.selectors is selectors
    assert ss.os is os
    assert ss.sys is sys
    assert ss.threading is threading
    assert ss.BufferedIOBase is io.BufferedIOBase
    # `time` is time.monotonic under the name time, not the time module.
    assert ss.time is time.monotonic
    assert not hasattr(ss, "dummy_threading")


@pytest.mark.features("A4", "A5", "A6", "A7")
@pytest.mark.differs_311(
    "__all__ has 16 names: no ForkingUnixStreamServer/DatagramServer (§2)", raises=AssertionError
)
def test_all_on_linux(ss: types.ModuleType) -> None:
    assert type(ss.__all__) is list
    assert ss.__all__ == BASE_ALL + FORK_ALL + UNIX_ALL + UNIX_FORK_ALL
    assert len(ss.__all__) == 18


@pytest.mark.features("A4")
def test_all_is_a_mutable_list(ss: types.ModuleType) -> None:
    assert type(ss.__all__) is list
    assert ss.__all__[: len(BASE_ALL)] == BASE_ALL
    for name in ss.__all__:
        assert hasattr(ss, name), name


@pytest.mark.features("A8")
def test_all_lists_exactly_the_public_names(ss: types.ModuleType) -> None:
    # CPython's MiscTestCase.test_all: every public name defined by the module
    # (its __module__ is 'socketserver') is in __all__, and nothing else is.
    public = {
        name
        for name, value in vars(ss).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == "socketserver"
    }
    assert public == set(ss.__all__)
    assert len(ss.__all__) == len(set(ss.__all__))
    for name in ss.__all__:
        assert getattr(ss, name).__module__ == "socketserver", name


def _reload(
    impl: str, monkeypatch: pytest.MonkeyPatch, *, fork: bool, unix: bool, poll: bool = True
) -> types.ModuleType:
    """A fresh copy of *impl*'s module, loaded while os/socket/selectors lack some names."""
    with monkeypatch.context() as m:
        if not fork:
            m.delattr(os, "fork")
        if not unix:
            m.delattr(socket, "AF_UNIX")
        if not poll:
            m.delattr(selectors, "PollSelector")
        return support.load_from_path(support.impl_path(impl))


@pytest.mark.features("A5", "A6", "A7", "H1", "H2", "H5", "H6", "H7", "H8", "H9", "H10")
@pytest.mark.parametrize(
    ("fork", "unix", "expected"),
    [
        (False, True, BASE_ALL + UNIX_ALL),
        (True, False, BASE_ALL + FORK_ALL),
        (False, False, BASE_ALL),
    ],
    ids=["no-fork", "no-af-unix", "neither"],
)
def test_conditional_definitions(
    ss: types.ModuleType,
    impl: str,
    monkeypatch: pytest.MonkeyPatch,
    fork: bool,
    unix: bool,
    expected: list[str],
) -> None:
    module = _reload(impl, monkeypatch, fork=fork, unix=unix)
    assert module.__all__ == expected
    absent = set(FORK_ALL + UNIX_ALL + UNIX_FORK_ALL) - set(expected)
    for name in absent:
        assert not hasattr(module, name), name
    for name in expected:
        assert getattr(module, name).__module__ == "socketserver"


@pytest.mark.features("A9")
def test_server_selector_is_poll(ss: types.ModuleType) -> None:
    assert ss._ServerSelector is selectors.PollSelector


@pytest.mark.features("A9")
def test_server_selector_falls_back_to_select(
    ss: types.ModuleType, impl: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = _reload(impl, monkeypatch, fork=True, unix=True, poll=False)
    assert module._ServerSelector is selectors.SelectSelector


class _CountingSelector(selectors.PollSelector):
    made: ClassVar[list[_CountingSelector]] = []

    def __init__(self) -> None:
        super().__init__()
        _CountingSelector.made.append(self)


@pytest.mark.features("A9", "B4", "B7")
@pytest.mark.python_internals("counts instances of _ServerSelector")
def test_fresh_selector_per_call(
    ss: types.ModuleType, monkeypatch: pytest.MonkeyPatch, harness: support.Harness
) -> None:
    _CountingSelector.made = []
    monkeypatch.setattr(ss, "_ServerSelector", _CountingSelector)
    server = harness.add(ss.TCPServer(("127.0.0.1", 0), ss.BaseRequestHandler))
    server.timeout = 0.001
    server.handle_request()
    server.handle_request()
    assert len(_CountingSelector.made) == 2
    harness.serve(server)
    harness.stop(server)
    assert len(_CountingSelector.made) == 3
    # Each was used as a context manager, so each is closed (no fd kept).
    assert all(sel.get_map() is None for sel in _CountingSelector.made)


# --- H: the concrete classes ------------------------------------------------------


def _mro(ss: types.ModuleType, *names: str) -> tuple[Any, ...]:
    return (*(getattr(ss, n) for n in names), object)


MROS = {
    "ForkingUDPServer": ("ForkingMixIn", "UDPServer", "TCPServer", "BaseServer"),
    "ForkingTCPServer": ("ForkingMixIn", "TCPServer", "BaseServer"),
    "ThreadingUDPServer": ("ThreadingMixIn", "UDPServer", "TCPServer", "BaseServer"),
    "ThreadingTCPServer": ("ThreadingMixIn", "TCPServer", "BaseServer"),
    "UnixStreamServer": ("TCPServer", "BaseServer"),
    "UnixDatagramServer": ("UDPServer", "TCPServer", "BaseServer"),
    "ThreadingUnixStreamServer": ("ThreadingMixIn", "UnixStreamServer", "TCPServer", "BaseServer"),
    "ThreadingUnixDatagramServer": (
        "ThreadingMixIn",
        "UnixDatagramServer",
        "UDPServer",
        "TCPServer",
        "BaseServer",
    ),
}
ROWS = {
    "ForkingUDPServer": "H1",
    "ForkingTCPServer": "H2",
    "ThreadingUDPServer": "H3",
    "ThreadingTCPServer": "H4",
    "UnixStreamServer": "H5",
    "UnixDatagramServer": "H6",
    "ThreadingUnixStreamServer": "H7",
    "ThreadingUnixDatagramServer": "H8",
}


def _own_names(cls: type) -> set[str]:
    """What a class body defines, ignoring the dunders every class gets."""
    return {n for n in vars(cls) if not (n.startswith("__") and n.endswith("__"))}


@pytest.mark.features(*ROWS.values())
@pytest.mark.parametrize("name", list(MROS))
def test_concrete_class_mro(ss: types.ModuleType, name: str) -> None:
    cls = getattr(ss, name)
    assert cls.__mro__ == _mro(ss, name, *MROS[name])
    assert cls.__module__ == "socketserver"
    assert cls.__name__ == name
    if name.startswith("Unix"):
        assert _own_names(cls) == {"address_family"}
        assert vars(cls)["address_family"] == socket.AF_UNIX
    else:
        assert _own_names(cls) == set(), "the body adds nothing"


@pytest.mark.features("H9", "H10")
@pytest.mark.differs_311("ForkingUnix*Server were added in 3.12 (§1)", raises=AttributeError)
@pytest.mark.parametrize(
    ("name", "base"),
    [
        ("ForkingUnixStreamServer", "UnixStreamServer"),
        ("ForkingUnixDatagramServer", "UnixDatagramServer"),
    ],
)
def test_forking_unix_classes(ss: types.ModuleType, name: str, base: str) -> None:
    cls = getattr(ss, name)
    bases = ("ForkingMixIn", base, *MROS[base])
    assert cls.__mro__ == _mro(ss, name, *bases)
    assert cls.__module__ == "socketserver"
    assert _own_names(cls) == set()


@pytest.mark.features("H6")
def test_unix_datagram_is_not_a_stream_server(ss: types.ModuleType) -> None:
    assert ss.UnixDatagramServer.__bases__ == (ss.UDPServer,)
    assert not issubclass(ss.UnixDatagramServer, ss.UnixStreamServer)
    assert ss.UnixDatagramServer.socket_type == socket.SOCK_DGRAM


@pytest.mark.features("E1", "E2", "E3", "E4")
def test_forking_mixin_defaults(ss: types.ModuleType) -> None:
    mixin = ss.ForkingMixIn
    assert mixin.__bases__ == (object,)
    assert mixin.timeout == 300
    assert mixin.active_children is None
    assert mixin.max_children == 40
    assert mixin.block_on_close is True
    # The mixin comes first, so its timeout overrides BaseServer's None.
    assert ss.ForkingTCPServer.timeout == 300
    assert ss.ForkingUDPServer.timeout == 300
    assert ss.TCPServer.timeout is None


@pytest.mark.features("G1", "G2", "G3", "F6")
def test_threading_mixin_defaults(ss: types.ModuleType) -> None:
    mixin = ss.ThreadingMixIn
    assert mixin.__bases__ == (object,)
    assert mixin.daemon_threads is False
    assert mixin.block_on_close is True
    assert type(vars(mixin)["_threads"]) is ss._NoThreads


@pytest.mark.features("B1", "C1", "C2", "C3", "C4", "C5")
def test_server_class_defaults(ss: types.ModuleType) -> None:
    assert ss.BaseServer.timeout is None
    assert ss.TCPServer.address_family == socket.AF_INET
    assert ss.TCPServer.socket_type == socket.SOCK_STREAM
    assert ss.TCPServer.request_queue_size == 5
    assert ss.TCPServer.allow_reuse_address is False
    assert ss.TCPServer.allow_reuse_port is False
    assert ss.TCPServer.__bases__ == (ss.BaseServer,)
    # BaseServer defines no socket attributes and no get_request (K4, K5).
    for name in ("socket", "address_family", "socket_type", "get_request", "fileno"):
        assert not hasattr(ss.BaseServer, name), name


@pytest.mark.features("D1", "D2", "D3", "D4")
def test_udp_server_defaults(ss: types.ModuleType) -> None:
    udp = ss.UDPServer
    assert udp.__bases__ == (ss.TCPServer,)
    for name in ("allow_reuse_address", "allow_reuse_port", "socket_type", "max_packet_size"):
        assert name in vars(udp), f"{name} is restated on UDPServer"
    assert udp.allow_reuse_address is False
    assert udp.allow_reuse_port is False
    assert udp.socket_type == socket.SOCK_DGRAM
    assert udp.max_packet_size == 8192
    assert udp.address_family == socket.AF_INET


@pytest.mark.features("I3", "I4", "I5", "I6")
def test_stream_handler_defaults(ss: types.ModuleType) -> None:
    h = ss.StreamRequestHandler
    assert h.__bases__ == (ss.BaseRequestHandler,)
    assert h.rbufsize == -1
    assert h.wbufsize == 0
    assert h.timeout is None
    assert h.disable_nagle_algorithm is False


@pytest.mark.features("I13", "I14")
def test_datagram_handler_has_no_stream_options(ss: types.ModuleType) -> None:
    h = ss.DatagramRequestHandler
    assert h.__bases__ == (ss.BaseRequestHandler,)
    for name in ("rbufsize", "wbufsize", "timeout", "disable_nagle_algorithm"):
        assert not hasattr(h, name), name


def test_implementation_under_test(ss: types.ModuleType, impl: str) -> None:
    """The fixture yields the module from this checkout and leaves sys.modules alone."""
    import socketserver as stdlib_module

    assert ss.__name__ == "socketserver"
    assert ss.__file__ is not None
    assert os.path.samefile(ss.__file__, support.impl_path(impl))
    if support.is_stdlib(impl):
        assert ss is stdlib_module
        assert os.path.dirname(ss.__file__) == os.path.dirname(os.__file__)
    else:
        assert ss is not stdlib_module
        folder = {"pyref": support.PYREF_PATH.parent, "go": support.GO_PATH.parent}[impl]
        assert os.path.dirname(ss.__file__) == str(folder)
    assert sys.modules["socketserver"] is stdlib_module
