"""CPython 3.14's socketserver, with the server lifecycle driven by Go.

This module is a drop-in replacement for the standard library's
``socketserver``: load it under that name before anything imports the
standard one (``gopy_socketserver.install()`` does that; see README.md).

What is Python and what is Go:

* The classes, their attributes and every hook are those of pyref, the typed
  reference implementation of the 3.14 module (``_pyref_socketserver.py``
  beside this file), loaded as a module named ``socketserver``, so
  subclasses, ``super()`` calls, class and instance attribute overrides and
  ``__module__ == 'socketserver'`` are exactly as in CPython.  This module
  re-exports them and replaces two methods of BaseServer.
* ``serve_forever()`` and ``handle_request()`` run in Go (pkg/server's loop,
  through the _gosocketserver extension), on the calling thread, holding
  the GIL as CPython's loop does except around the blocking system calls:
  the wait is poll(2) with the GIL released.  get_request (accept(2) or
  recvfrom(2) on the descriptor the server's socket object holds at that
  moment), verify_request, process_request, handle_timeout and
  service_actions run in Go whenever the class keeps CPython's own
  definition, and in Python, called from the Go loop, whenever a class or
  instance overrides them; finish_request, shutdown_request,
  close_request and handle_error always run in Python.
* ThreadingMixIn and ForkingMixIn are pyref's: a thread per request, as
  CPython starts it; a forked child runs only Python and ends in
  ``os._exit``, never returning into Go.
* In a process forked from one that loaded the extension, the Go runtime
  cannot run: serve_forever() and handle_request() there are pyref's pure
  Python ones.

One call crosses into Go as one object, :class:`_Call`, whose attributes
are the fields of ``gss_call`` in pybind/capi/gss_api.h; the hook names and
their order come from that header too (``_gosocketserver.contract()``).
"""

from __future__ import annotations

import _socket
import importlib.machinery
import importlib.util
import math
import os
import select
import socket
import sys
from collections.abc import Callable
from typing import Any, Final


def _load_beside(name: str, module_name: str, suffixes: list[str]) -> None:
    """Load the file *name* + a suffix beside this one as the module
    *module_name*, and put it in ``sys.modules[name]`` so that the import
    statements below find it (and type checkers the file)."""
    here = os.path.dirname(os.path.abspath(__file__))
    for suffix in suffixes:
        path = os.path.join(here, name + suffix)
        if os.path.exists(path):
            break
    else:
        raise ImportError(f"socketserver: {name} is not beside {__file__} (run `make ext`)")
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


# pyref, named "socketserver" (its classes' __module__), imported once and
# kept only as this module's names.
_load_beside("_pyref_socketserver", "socketserver", [".py"])
from _pyref_socketserver import (  # noqa: E402
    BaseRequestHandler as BaseRequestHandler,
)
from _pyref_socketserver import BaseServer as BaseServer  # noqa: E402
from _pyref_socketserver import (  # noqa: E402
    DatagramRequestHandler as DatagramRequestHandler,
)
from _pyref_socketserver import (  # noqa: E402
    StreamRequestHandler as StreamRequestHandler,
)
from _pyref_socketserver import TCPServer as TCPServer  # noqa: E402
from _pyref_socketserver import ThreadingMixIn as ThreadingMixIn  # noqa: E402
from _pyref_socketserver import ThreadingTCPServer as ThreadingTCPServer  # noqa: E402
from _pyref_socketserver import ThreadingUDPServer as ThreadingUDPServer  # noqa: E402
from _pyref_socketserver import UDPServer as UDPServer  # noqa: E402
from _pyref_socketserver import __all__ as __all__  # noqa: E402
from _pyref_socketserver import __version__ as __version__  # noqa: E402
from _pyref_socketserver import _NoThreads as _NoThreads  # noqa: E402
from _pyref_socketserver import _ServerSelector as _ServerSelector  # noqa: E402
from _pyref_socketserver import _SocketWriter as _SocketWriter  # noqa: E402
from _pyref_socketserver import _Threads as _Threads  # noqa: E402

# What the platform offers, as pyref (and CPython) decided at import (A5-A7).
if hasattr(os, "fork"):
    from _pyref_socketserver import ForkingMixIn as ForkingMixIn
    from _pyref_socketserver import ForkingTCPServer as ForkingTCPServer
    from _pyref_socketserver import ForkingUDPServer as ForkingUDPServer
if hasattr(socket, "AF_UNIX"):
    from _pyref_socketserver import (
        ThreadingUnixDatagramServer as ThreadingUnixDatagramServer,
    )
    from _pyref_socketserver import (
        ThreadingUnixStreamServer as ThreadingUnixStreamServer,
    )
    from _pyref_socketserver import UnixDatagramServer as UnixDatagramServer
    from _pyref_socketserver import UnixStreamServer as UnixStreamServer

    if hasattr(os, "fork"):
        from _pyref_socketserver import (
            ForkingUnixDatagramServer as ForkingUnixDatagramServer,
        )
        from _pyref_socketserver import (
            ForkingUnixStreamServer as ForkingUnixStreamServer,
        )

_pyref: Final = sys.modules.pop("_pyref_socketserver")

if "_gosocketserver" not in sys.modules:
    _load_beside("_gosocketserver", "_gosocketserver", importlib.machinery.EXTENSION_SUFFIXES)
import _gosocketserver as _go  # noqa: E402

__all__ = list(__all__)  # this module's own list, as CPython's

# The module globals pyref's code uses (socket, selectors, time...) are
# this module's too, as they are the standard module's.
for _name, _value in vars(_pyref).items():
    if not _name.startswith("__"):
        globals().setdefault(_name, _value)
del _name, _value


def _unpack2(value: Any) -> tuple[Any, Any]:
    """``request, client_address = get_request()`` for the Go loop: the
    unpacking, and its errors, are this interpreter's."""
    first, second = value
    return first, second


# Whether Go may read the descriptor of a socket object (see gss_glue.c).
_NATIVE_REQUESTS: Final = bool(_go.init(_unpack2))

_CONTRACT: Final = _go.contract()
#: Bit of each hook in _Call.python_hooks, from gss_api.h's GSS_HOOKS.
_HOOK_BIT: Final = {name: 1 << bit for bit, name in enumerate(_CONTRACT["hooks"])}
_GET_PYTHON: Final[int] = _CONTRACT["get_python"]
_GET_ACCEPT: Final[int] = _CONTRACT["get_accept"]
_GET_RECVFROM: Final[int] = _CONTRACT["get_recvfrom"]

# The hooks Go can run itself, with the definitions it reproduces; any
# other definition (in a class or on the instance) runs in Python.  The
# other hooks always run in Python.
_GO_DEFAULTS: Final[dict[str, tuple[object, ...]]] = {
    "get_request": (TCPServer.get_request, UDPServer.get_request),
    "verify_request": (BaseServer.verify_request,),
    "process_request": (BaseServer.process_request,),
    "handle_timeout": (BaseServer.handle_timeout,),
    "service_actions": (BaseServer.service_actions,),
}
_ALWAYS_PYTHON: Final = sum(bit for name, bit in _HOOK_BIT.items() if name not in _GO_DEFAULTS)
#: _GO_DEFAULTS with each hook's bit, in the order _Call checks them.
_GO_HOOKS: Final = tuple((name, dflt, _HOOK_BIT[name]) for name, dflt in _GO_DEFAULTS.items())
_GET_REQUEST_BIT: Final = _HOOK_BIT["get_request"]
# The integers a plain socket.socket holds: its family and type properties
# convert them to enums at each read, which a call need not pay for.
_RAW_FAMILY: Final = _socket.socket.family
_RAW_TYPE: Final = _socket.socket.type
# Go receives datagrams of at most this many bytes into one reused buffer;
# a larger max_packet_size takes Python's recvfrom, which sizes each
# buffer as CPython does.
_MAX_GO_PACKET: Final = 1 << 16
_INT_MAX: Final = 2**31 - 1


class _Call:
    """One serve_forever() or handle_request() call, as Go takes it: the
    fields of gss_call (pybind/capi/gss_api.h), one attribute each.

    Made at each call, so class and instance overrides are both seen.  A
    server socket that is not a plain socket.socket (an SSL socket, say)
    keeps its own accept().
    """

    __slots__ = (
        "family",
        "fd",
        "get_mode",
        "max_packet_size",
        "proto",
        "python_hooks",
        "server",
        "sock",
        "sotype",
        "timeout",
        "wait",
    )

    def __init__(self, server: BaseServer) -> None:
        cls = type(server)
        own = vars(server)
        hooks = _ALWAYS_PYTHON
        for name, defaults, bit in _GO_HOOKS:
            if name in own or getattr(cls, name, None) not in defaults:
                hooks |= bit
        sock = getattr(server, "socket", None)
        get_mode = _GET_PYTHON
        max_packet_size = family = sotype = proto = 0
        if not hooks & _GET_REQUEST_BIT and _NATIVE_REQUESTS and type(sock) is socket.socket:
            if getattr(cls, "get_request", None) is TCPServer.get_request:
                get_mode = _GET_ACCEPT
                family, sotype = _RAW_FAMILY.__get__(sock), _RAW_TYPE.__get__(sock)
                proto = sock.proto
            else:
                size = getattr(server, "max_packet_size", None)
                # Anything but a plain size takes Python's path, and its errors.
                if type(size) is int and 0 <= size <= _MAX_GO_PACKET:
                    get_mode, max_packet_size = _GET_RECVFROM, size
        if get_mode == _GET_PYTHON:
            hooks |= _GET_REQUEST_BIT
            sock = None
        self.server = server
        self.sock = sock
        self.fd = _registered_fd(server)
        self.python_hooks = hooks
        self.get_mode = get_mode
        self.max_packet_size = max_packet_size
        self.family = family
        self.sotype = sotype
        self.proto = proto
        self.wait = math.nan
        self.timeout = math.nan


def _registered_fd(server: BaseServer) -> int:
    """The descriptor selector.register(server) takes, with its checks and
    messages (A9)."""
    try:
        fd = int(server.fileno())
    except (AttributeError, TypeError, ValueError):
        raise ValueError(f"Invalid file object: {server!r}") from None
    if fd < 0:
        raise ValueError(f"Invalid file descriptor: {fd}")
    return fd


def _poll_timeout(timeout: Any) -> float:
    """Check *timeout* as PollSelector.select() converts it for poll(2),
    raising what it raises (A9): ValueError for NaN, OverflowError for an
    infinity or a wait poll(2) cannot express, TypeError for a non-number.
    Returns the wait in seconds for Go, NaN standing for None (block)."""
    if timeout is None:
        return math.nan
    if timeout <= 0:
        return 0.0
    ms = math.ceil(timeout * 1e3)
    if ms > _INT_MAX:
        # Out of poll(2)'s range: poll() itself raises, with the message of
        # this interpreter's version, before it waits.
        select.poll().poll(ms)
    return float(timeout)


# pyref's own loop, for a forked child (see _forked).
_py_serve_forever: Final = BaseServer.serve_forever
_py_handle_request: Final = BaseServer.handle_request
_in_forked_child = False


def _forked() -> None:
    """In a forked child the Go runtime is gone (its threads were not
    copied): from now on this process serves with pyref's loop."""
    global _in_forked_child
    _in_forked_child = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def _serve_forever(self: BaseServer, poll_interval: float = 0.5) -> None:
    if _in_forked_child:
        return _py_serve_forever(self, poll_interval)
    is_shut_down = self._BaseServer__is_shut_down  # type: ignore[attr-defined]
    is_shut_down.clear()
    try:
        call = _Call(self)
        call.wait = 0.0
        # The loop converts poll_interval at its first select(); a shutdown
        # requested before it starts ends it before that.
        if not self._BaseServer__shutdown_request:  # type: ignore[attr-defined]
            call.wait = _poll_timeout(poll_interval)
        _go.serve_forever(call)
    finally:
        self._BaseServer__shutdown_request = False  # type: ignore[attr-defined]
        is_shut_down.set()


def _handle_request(self: BaseServer) -> Any:
    if _in_forked_child:
        return _py_handle_request(self)
    # B7: the socket's timeout, the server's, or the smaller of both, with
    # CPython's arithmetic (and its TypeError for a non-number).
    sock: socket.socket = self.socket
    timeout: Any = sock.gettimeout()
    if timeout is None:
        timeout = self.timeout
    elif self.timeout is not None:
        timeout = min(timeout, self.timeout)
    if timeout is not None:
        _pyref.time() + timeout  # the deadline CPython computes (its TypeError)
    call = _Call(self)
    call.timeout = _poll_timeout(timeout)
    # What handle_timeout() returned when the wait timed out, else None (B7).
    return _go.handle_request(call)


def _install(cls: type, func: Callable[..., Any], name: str) -> None:
    """Make *func* the method *name* of *cls*, with the name, qualified name
    and docstring of the definition it replaces."""
    func.__doc__ = getattr(cls, name).__doc__
    func.__name__ = name
    func.__qualname__ = f"{cls.__name__}.{name}"
    setattr(cls, name, func)


_install(BaseServer, _serve_forever, "serve_forever")
_install(BaseServer, _handle_request, "handle_request")

# The module's documentation is the standard one's (pyref's), as a drop-in's
# should be; the design note above stays in the source.
__doc__ = (_pyref.__doc__ or "") + "\n\n(Go-backed: see pybind/socketserver.py.)\n"
