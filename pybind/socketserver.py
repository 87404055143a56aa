"""CPython 3.14's socketserver, with the server lifecycle driven by Go.

This module is a drop-in replacement for the standard library's
``socketserver``: load it under that name before anything imports the
standard one (``gopy_socketserver.install()`` does that; see README.md).

What is Python and what is Go:

* The classes, their attributes and every hook are those of pyref, the typed
  reference implementation of the 3.14 module: its source is executed as the
  body of this module, so subclasses, ``super()`` calls, class and instance
  attribute overrides and ``__module__ == 'socketserver'`` are exactly as in
  CPython.
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
"""

import importlib.machinery as _machinery
import importlib.util as _util
import os as _os
import sys as _sys

_HERE = _os.path.dirname(_os.path.abspath(__file__))


def _pyref_source() -> str:
    """pyref's file: beside this one when installed, else in the checkout."""
    for path in (
        _os.path.join(_HERE, "_pyref_socketserver.py"),
        _os.path.join(_os.path.dirname(_HERE), "pyref", "socketserver.py"),
    ):
        if _os.path.exists(path):
            return path
    raise ImportError("socketserver: pyref/socketserver.py not found")


def _load_extension():
    """The _gosocketserver extension module built beside this file."""
    if "_gosocketserver" in _sys.modules:
        return _sys.modules["_gosocketserver"]
    for suffix in _machinery.EXTENSION_SUFFIXES:
        path = _os.path.join(_HERE, "_gosocketserver" + suffix)
        if _os.path.exists(path):
            spec = _util.spec_from_file_location("_gosocketserver", path)
            assert spec is not None and spec.loader is not None
            module = _util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _sys.modules["_gosocketserver"] = module
            return module
    raise ImportError(
        "socketserver: the _gosocketserver extension is not built (run `make` or `pip install .`)"
    )


# The classes and hooks: pyref's source, run as this module's own body.
_PYREF = _pyref_source()
with open(_PYREF, encoding="utf-8") as _file:
    exec(compile(_file.read(), _PYREF, "exec"), globals())
del _file


def _unpack2(value):
    """``request, client_address = get_request()`` for the Go loop: the
    unpacking, and its errors, are this interpreter's."""
    first, second = value
    return first, second


_go = _load_extension()
# Whether Go may read the descriptor of a socket object (see gss_glue.c).
_NATIVE_REQUESTS = bool(_go.init(_unpack2))

import math as _math  # noqa: E402
import select as _select  # noqa: E402

# The hooks in the order of gss_api.h's enum gss_hook.
_HOOKS = (
    "server_bind",
    "server_activate",
    "get_request",
    "verify_request",
    "process_request",
    "finish_request",
    "shutdown_request",
    "close_request",
    "handle_error",
    "handle_timeout",
    "service_actions",
    "server_close",
)
# Go receives datagrams of at most this many bytes into one reused buffer;
# a larger max_packet_size takes Python's recvfrom, which sizes each
# buffer as CPython does.
_MAX_GO_PACKET = 1 << 16
_GET_PYTHON, _GET_ACCEPT, _GET_RECVFROM = 0, 1, 2
_INT_MAX = 2**31 - 1

# The hooks Go can run itself, with the definitions it reproduces; any
# other definition (in a class or on the instance) runs in Python.  The
# other hooks always run in Python.
_GO_DEFAULTS = {
    "get_request": (TCPServer.get_request, UDPServer.get_request),
    "verify_request": (BaseServer.verify_request,),
    "process_request": (BaseServer.process_request,),
    "handle_timeout": (BaseServer.handle_timeout,),
    "service_actions": (BaseServer.service_actions,),
}
_HOOK_BIT = {name: 1 << bit for bit, name in enumerate(_HOOKS)}
_ALWAYS_PYTHON = sum(1 << bit for bit, name in enumerate(_HOOKS) if name not in _GO_DEFAULTS)

# pyref's own loop, for a forked child (see _forked).
_py_serve_forever = BaseServer.serve_forever
_py_handle_request = BaseServer.handle_request
_in_forked_child = False


def _forked() -> None:
    """In a forked child the Go runtime is gone (its threads were not
    copied): from now on this process serves with pyref's loop."""
    global _in_forked_child
    _in_forked_child = True


_os.register_at_fork(after_in_child=_forked)


def _spec(server):
    """What Go needs to serve *server*: its fd and which hooks are Python's.

    Looked up at each serve_forever()/handle_request() call, so class and
    instance overrides are both seen.  A server socket that is not a plain
    socket.socket (an SSL socket, say) keeps its own accept().
    """
    cls = type(server)
    own = vars(server)
    mask = _ALWAYS_PYTHON
    for name, defaults in _GO_DEFAULTS.items():
        if name in own or getattr(cls, name, None) not in defaults:
            mask |= _HOOK_BIT[name]
    sock = getattr(server, "socket", None)
    get_mode = _GET_PYTHON
    if not mask & _HOOK_BIT["get_request"] and _NATIVE_REQUESTS and type(sock) is socket.socket:
        if cls.get_request is TCPServer.get_request:
            get_mode = _GET_ACCEPT
        else:
            size = server.max_packet_size
            # Anything but a plain size takes Python's path, and its errors.
            if type(size) is int and 0 <= size <= _MAX_GO_PACKET:
                get_mode = _GET_RECVFROM
    if get_mode == _GET_PYTHON:
        mask |= _HOOK_BIT["get_request"]
    # What selector.register(server) checks, with its messages (A9).
    try:
        fd = int(server.fileno())
    except (AttributeError, TypeError, ValueError):
        raise ValueError(f"Invalid file object: {server!r}") from None
    if fd < 0:
        raise ValueError(f"Invalid file descriptor: {fd}")
    if get_mode == _GET_ACCEPT:
        return (fd, mask, get_mode, 0, sock, sock.family, sock.type, sock.proto)
    if get_mode == _GET_RECVFROM:
        return (fd, mask, get_mode, server.max_packet_size, sock, 0, 0, 0)
    return (fd, mask, get_mode, 0, None, 0, 0, 0)


def _poll_timeout(timeout):
    """Check *timeout* as PollSelector.select() converts it for poll(2),
    raising what it raises (A9): ValueError for NaN, OverflowError for an
    infinity or a wait poll(2) cannot express, TypeError for a non-number.
    Returns the wait in seconds for Go, NaN standing for None (block)."""
    if timeout is None:
        return _math.nan
    if timeout <= 0:
        return 0.0
    ms = _math.ceil(timeout * 1e3)
    if ms > _INT_MAX:
        # Out of poll(2)'s range: poll() itself raises, with the message of
        # this interpreter's version, before it waits.
        _select.poll().poll(ms)
    return float(timeout)


def _serve_forever(self, poll_interval=0.5):
    if _in_forked_child:
        return _py_serve_forever(self, poll_interval)
    self._BaseServer__is_shut_down.clear()
    try:
        spec = _spec(self)
        wait = 0.0
        # The loop converts poll_interval at its first select(); a shutdown
        # requested before it starts ends it before that.
        if not self._BaseServer__shutdown_request:
            wait = _poll_timeout(poll_interval)
        _go.serve_forever(self, wait, spec)
    finally:
        self._BaseServer__shutdown_request = False
        self._BaseServer__is_shut_down.set()


def _handle_request(self):
    if _in_forked_child:
        return _py_handle_request(self)
    # B7: the socket's timeout, the server's, or the smaller of both, with
    # CPython's arithmetic (and its TypeError for a non-number).
    timeout = self.socket.gettimeout()
    if timeout is None:
        timeout = self.timeout
    elif self.timeout is not None:
        timeout = min(timeout, self.timeout)
    if timeout is not None:
        time() + timeout  # the deadline CPython computes (its TypeError)
    spec = _spec(self)
    return _go.handle_request(self, _math.nan, _poll_timeout(timeout), spec)


def _install(cls, func, name):
    """Make *func* the method *name* of *cls*, with the name, qualified name
    and docstring of the definition it replaces."""
    func.__doc__ = getattr(cls, name).__doc__
    func.__name__ = name
    func.__qualname__ = f"{cls.__name__}.{name}"
    setattr(cls, name, func)


_install(BaseServer, _serve_forever, "serve_forever")
_install(BaseServer, _handle_request, "handle_request")

__doc__ = (__doc__ or "") + "\n\n(Go-backed: see pybind/socketserver.py.)\n"
