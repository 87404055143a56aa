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
  through the _gosocketserver extension): the wait is a raw poll(2) on the
  calling thread with the GIL released; get_request, verify_request,
  process_request, shutdown_request, close_request, handle_timeout and
  service_actions run in Go whenever the class keeps CPython's own
  definition (accept(2) and recvfrom(2) included), and in Python, called
  from the Go loop, whenever a class or instance overrides them.
* ThreadingMixIn hands each request to a pool of Python worker threads
  instead of starting a new thread per request; a request is tracked in
  ``_threads`` by a job object that behaves like its thread.  When the
  class keeps CPython's get_request, verify_request and process_request,
  the Go loop hands the accepted descriptor or the datagram to an idle
  worker without the GIL, and the worker completes process_request
  (``_adopt``).
* ForkingMixIn is pyref's: the child's whole path is Python and ends in
  ``os._exit``, never returning into Go (a forked child must not run Go).
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

_go = _load_extension()
_go.init()

import _thread  # noqa: E402
import math as _math  # noqa: E402
import weakref as _weakref  # noqa: E402

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
_SHUTDOWN_WRITE = 1 << len(_HOOKS)
_MAX_GO_PACKET = 1 << 24
_GET_PYTHON, _GET_ACCEPT, _GET_RECVFROM = 0, 1, 2

# The definitions Go reproduces; any other definition runs in Python.
_GO_DEFAULTS = {
    "verify_request": (BaseServer.verify_request,),
    "process_request": (BaseServer.process_request,),
    "close_request": (BaseServer.close_request, UDPServer.close_request),
    "handle_timeout": (BaseServer.handle_timeout,),
    "service_actions": (BaseServer.service_actions,),
}


def _spec(server):
    """What Go needs to serve *server*: its fd and which hooks are Python's.

    Looked up on the instance at each serve_forever()/handle_request() call,
    so class and instance overrides are both seen.  A server socket that is
    not a plain socket.socket (an SSL socket, say) keeps its own accept().
    """
    impl = {}
    mask = 0
    for bit, name in enumerate(_HOOKS):
        impl[name] = getattr(getattr(server, name, None), "__func__", None)
        if impl[name] not in _GO_DEFAULTS.get(name, ()):
            mask |= 1 << bit
    sock = getattr(server, "socket", None)
    plain = type(sock) is socket.socket
    get_mode = _GET_PYTHON
    if plain and impl["get_request"] is TCPServer.get_request:
        get_mode = _GET_ACCEPT
    elif plain and impl["get_request"] is UDPServer.get_request:
        size = server.max_packet_size
        # Anything but a plain size takes Python's path, and its errors.
        if type(size) is int and 0 <= size <= _MAX_GO_PACKET:
            get_mode = _GET_RECVFROM
    if get_mode != _GET_PYTHON:
        mask &= ~(1 << _HOOKS.index("get_request"))
    shutdown = impl["shutdown_request"]
    if shutdown is TCPServer.shutdown_request and get_mode == _GET_ACCEPT:
        mask &= ~(1 << _HOOKS.index("shutdown_request"))
        mask |= _SHUTDOWN_WRITE
    elif shutdown in (BaseServer.shutdown_request, UDPServer.shutdown_request):
        mask &= ~(1 << _HOOKS.index("shutdown_request"))
    max_packet = server.max_packet_size if get_mode == _GET_RECVFROM else 0
    # ThreadingMixIn's process_request with Go's get_request and CPython's
    # verify_request: Go hands the request to a worker thread itself,
    # without the GIL, and the worker completes process_request there
    # (_adopt).
    pool = None
    if (
        get_mode != _GET_PYTHON
        and impl["process_request"] is _process_request
        and not mask & (1 << _HOOKS.index("verify_request"))
    ):
        pool = _pool(server, bool(server.daemon_threads))
    # What selector.register(server) checks, with its messages (A9).
    try:
        fd = int(server.fileno())
    except (AttributeError, TypeError, ValueError):
        raise ValueError(f"Invalid file object: {server!r}") from None
    if fd < 0:
        raise ValueError(f"Invalid file descriptor: {fd}")
    if plain:
        return (fd, mask, get_mode, max_packet, sock, sock.family, sock.type, sock.proto, pool)
    return (fd, mask, get_mode, max_packet, None, 0, 0, 0, None)


def _seconds(value):
    """A timeout for Go: NaN stands for None; anything else as a float."""
    return _math.nan if value is None else float(value)


class _GoState:
    """The Go side of one ThreadingMixIn server: its worker pools."""

    __slots__ = ("__weakref__", "pools")

    def __init__(self) -> None:
        # Idle workers, by daemon flag (see _process_request).
        self.pools = {}

    def close_pools(self) -> None:
        for pool in self.pools.values():
            _go.pool_close(pool)


# Every state with pools, so that interpreter exit can release idle workers.
_states_with_pools = _weakref.WeakSet()


def _state(server):
    state = vars(server).get("_gosocketserver")
    if state is None:
        state = vars(server).setdefault("_gosocketserver", _GoState())
    return state


def _serve_forever(self, poll_interval=0.5):
    self._BaseServer__is_shut_down.clear()
    try:
        # PollSelector.select() treats None as "block" and anything <= 0
        # as "do not block"; the comparison raises for a non-number.
        wait = None if poll_interval is None else (0.0 if poll_interval <= 0 else poll_interval)
        _go.serve_forever(self, _seconds(wait), _spec(self))
    finally:
        self._BaseServer__shutdown_request = False
        self._BaseServer__is_shut_down.set()


def _handle_request(self):
    return _go.handle_request(
        self,
        _seconds(self.socket.gettimeout()),
        _seconds(self.timeout),
        _spec(self),
    )


def _install(cls, func, name):
    """Make *func* the method *name* of *cls*, with the name, qualified name
    and docstring of the definition it replaces."""
    func.__doc__ = getattr(cls, name).__doc__
    func.__name__ = name
    func.__qualname__ = f"{cls.__name__}.{name}"
    setattr(cls, name, func)


_install(BaseServer, _serve_forever, "serve_forever")
_install(BaseServer, _handle_request, "handle_request")


# ---- ThreadingMixIn: requests run by pooled Python threads ----------------
#
# CPython starts a thread per request.  Here the serving loop hands the
# request to a worker thread that is idle (the pool is C: gss_pool.h), and
# starts a new worker only when none is; a worker that stays idle for
# _WORKER_IDLE seconds ends.  Two paths lead to a worker: process_request
# below (a job made in Python), and the Go loop itself, which hands over
# the bare descriptor or datagram without the GIL when the class keeps
# CPython's get_request, verify_request and this process_request (_adopt
# completes process_request on the worker).  Workers are real
# threading.Thread objects, and a request runs on a worker whose daemon
# flag is the server's daemon_threads, so current_thread(),
# threading.excepthook and interpreter exit (non-daemon request threads
# are joined, daemon ones abandoned) behave as in CPython.  At exit, idle
# workers are released first, so only busy ones are waited for.

_WORKER_IDLE = 5.0


class _Job:
    """One request handed to a worker; stands in for its thread in _threads.

    It has what _Threads uses of a thread: ``daemon``, ``is_alive()`` and
    ``join()``.
    """

    __slots__ = ("client_address", "daemon", "done", "ident", "request", "server")

    def __init__(self, server, request, client_address, daemon):
        self.server = server
        self.request = request
        self.client_address = client_address
        self.daemon = daemon
        self.done = False
        self.ident = None  # the worker thread's, once it runs the job

    def is_alive(self) -> bool:
        return not self.done

    def join(self, timeout=None):
        """Wait until the request is finished, as Thread.join() waits for
        its thread, with the same refusal to join the current one."""
        global _joining
        if not self.done and self.ident == _thread.get_ident():
            raise RuntimeError("cannot join current thread")
        with _jobs_done:
            _joining += 1  # before reading done: see run()
            try:
                _jobs_done.wait_for(
                    lambda: self.done, None if timeout is None else max(timeout, 0)
                )
            finally:
                _joining -= 1

    def run(self) -> None:
        """The request thread's body (G4).  A BaseException that leaves
        process_request_thread goes to threading.excepthook, as it would
        leave a request thread."""
        self.ident = _thread.get_ident()
        server, request, address = self.server, self.request, self.client_address
        self.server = self.request = self.client_address = None
        try:
            server.process_request_thread(request, address)
        except BaseException as exc:
            _excepthook(exc)
        finally:
            del server, request, address
            # done before _joining is read, as join() counts itself in
            # before reading done: a joiner either sees done or is notified.
            self.done = True
            if _joining:
                with _jobs_done:
                    _jobs_done.notify_all()


# Signalled when a job finishes while some thread is in _Job.join(): one
# condition for all jobs, so that a job costs no lock of its own (10,000
# idle connections hold 10,000 jobs), and finishing one costs nothing when
# nobody waits.
_jobs_done = threading.Condition(threading.Lock())
_joining = 0


def _excepthook(exc: BaseException) -> None:
    args = threading.ExceptHookArgs(
        [type(exc), exc, exc.__traceback__, threading.current_thread()]
    )
    try:
        threading.excepthook(args)
    except BaseException as hook_exc:
        _sys.excepthook(type(hook_exc), hook_exc, hook_exc.__traceback__)
    finally:
        del args


def _worker(pool, job, daemon):
    """A worker thread: run the first job, then whatever the pool hands
    over, until it stays idle for _WORKER_IDLE seconds or closes."""
    while True:
        if job is not None:
            job.run()
            job = None  # not kept alive while idle
        job = _go.pool_next(pool, _WORKER_IDLE)
        if job is None:
            return
        if type(job) is tuple:
            # A request the Go loop received without the GIL.
            try:
                job = _adopt(job, daemon)
            finally:
                _go.pool_adopted(pool)


def _adopt(raw, daemon):
    """Complete process_request (G5) for a request that the Go loop handed
    to this worker: register it in _threads, as process_request does before
    the request thread starts, and return its job, or None if another
    worker is to run it (the server's daemon_threads changed) or it failed.
    """
    server, request, client_address = raw
    try:
        if bool(server.daemon_threads) != daemon:
            _process_request(server, request, client_address)
            return None
        if server.block_on_close:
            vars(server).setdefault("_threads", _Threads())
        job = _Job(server, request, client_address, daemon)
        server._threads.append(job)
        return job
    except Exception:
        # What the serving loop does when process_request raises.
        server.handle_error(request, client_address)
        server.shutdown_request(request)
        return None


def _pool(server, daemon):
    """The server's pool of idle workers with this daemon flag."""
    state = _state(server)
    pool = state.pools.get(daemon)
    if pool is None:
        pool = state.pools[daemon] = _go.pool_new()
        _states_with_pools.add(state)
    return pool


def _process_request(self, request, client_address):
    """Hand the request to an idle worker thread, or start one (G5)."""
    if self.block_on_close:
        vars(self).setdefault("_threads", _Threads())
    daemon = bool(self.daemon_threads)
    job = _Job(self, request, client_address, daemon)
    self._threads.append(job)
    pool = _pool(self, daemon)
    if not _go.pool_submit(pool, job):
        worker = threading.Thread(
            target=_worker, args=(pool, job, daemon), name="socketserver worker", daemon=daemon
        )
        worker.start()


_threading_server_close = ThreadingMixIn.server_close


def _server_close(self):
    """Close the socket, wait for the tracked requests (G6), then let the
    idle workers go."""
    try:
        _threading_server_close(self)
    finally:
        state = vars(self).get("_gosocketserver")
        if state is not None:
            state.close_pools()


def _release_idle_workers() -> None:
    for state in list(_states_with_pools):
        state.close_pools()


_install(ThreadingMixIn, _process_request, "process_request")
_install(ThreadingMixIn, _server_close, "server_close")
threading._register_atexit(_release_idle_workers)

__doc__ = (__doc__ or "") + "\n\n(Go-backed: see pybind/socketserver.py.)\n"
