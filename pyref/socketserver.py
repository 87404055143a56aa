"""A framework for network servers: the lifecycle, the concurrency, the handler.

This module separates three concerns that every socket server has, so that
each can be chosen on its own:

* the server's lifecycle -- create the socket, bind it, listen, wait for a
  request, dispatch it, clean up -- lives in the server classes;
* the concurrency policy -- serve each request in the calling thread, in a
  new thread, or in a forked child process -- lives in the mix-in classes;
* the work done for one request lives in a request handler class.

Server classes (each column inherits from the one to its left)::

    BaseServer ---> TCPServer ---> UDPServer
                        |              |
                        v              v
                UnixStreamServer  UnixDatagramServer

UDPServer is derived from TCPServer only to share code; datagram servers do
not use connections.  The Unix classes exist where the platform has
AF_UNIX.

Concurrency policies are mix-ins, listed *first* among the bases so that
their methods take precedence over the server's::

    class ThreadingTCPServer(ThreadingMixIn, TCPServer): pass

ThreadingMixIn starts a thread per request; ForkingMixIn (where os.fork
exists) forks a child per request.  The module ships the ready-made
combinations ThreadingTCPServer, ThreadingUDPServer, ForkingTCPServer,
ForkingUDPServer and their Unix-socket twins.

Which policy to choose: a synchronous server handles one request at a time
and suits short, cheap requests; a forking server isolates requests in
separate processes, which suits requests that hold per-process state or
must not disturb each other; a threading server shares memory between
requests and suits I/O-bound work.  Neither mix-in bounds the number of
simultaneous requests beyond ForkingMixIn.max_children.

To serve requests, subclass BaseRequestHandler (or one of
StreamRequestHandler and DatagramRequestHandler, which give the handler
file-like ``rfile`` and ``wfile`` objects) and override ``handle()``.  A new
handler instance is created for every request; its ``request``,
``client_address`` and ``server`` attributes describe the request, and
state shared between requests belongs on the server object.

Every step of the lifecycle is a method that a subclass may override:
server_bind, server_activate, get_request, verify_request,
process_request, finish_request, shutdown_request, close_request,
handle_error, handle_timeout, service_actions and server_close.  The
serving loop always calls them through ``self``, so the most-derived
definition wins.

This file is the typed Python reference implementation of the CPython 3.14
module, written from its documented behaviour.  Row ids such as B7 refer to
the behaviour checklist that the project's tests cite.
"""

__version__ = "0.4"

import os
import selectors
import socket
import sys
import threading
from collections.abc import Callable
from io import BufferedIOBase
from time import monotonic as time
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeAlias

if TYPE_CHECKING:
    from io import BytesIO

    from _typeshed import ReadableBuffer

# A1-A8: the public names.  The conditional parts follow what the platform
# offers, exactly as CPython decides them at import time.
__all__ = [
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
if hasattr(os, "fork"):
    __all__ += ["ForkingUDPServer", "ForkingTCPServer", "ForkingMixIn"]
if hasattr(socket, "AF_UNIX"):
    __all__ += [
        "UnixStreamServer",
        "UnixDatagramServer",
        "ThreadingUnixStreamServer",
        "ThreadingUnixDatagramServer",
    ]
    if hasattr(os, "fork"):
        __all__ += ["ForkingUnixStreamServer", "ForkingUnixDatagramServer"]

# Type aliases (K1).  typeshed's _socket._Address does not exist at run time,
# so the module spells out its own equivalents.
_socket: TypeAlias = socket.socket
_RequestType: TypeAlias = _socket | tuple[bytes, _socket]
# (3.14's stub adds int, for AF_CAN-style families; socket.bind() as typed
# here takes the three forms below, which are all this module binds.)
_Address: TypeAlias = "tuple[Any, ...] | str | ReadableBuffer"
_RetAddress: TypeAlias = Any
_HandlerFactory: TypeAlias = Callable[[Any, _RetAddress, Any], "BaseRequestHandler"]

# A9: wait with poll(2) where it exists, else select(2).  Both work on the
# server's descriptor directly; epoll or kqueue would open a descriptor of
# their own for every serve_forever()/handle_request() call.
_ServerSelector: type[selectors.BaseSelector]
if hasattr(selectors, "PollSelector"):
    _ServerSelector = selectors.PollSelector
else:
    _ServerSelector = selectors.SelectSelector


class BaseServer:
    """The lifecycle shared by every server, independent of the socket kind.

    Methods for the caller:

    - __init__(server_address, RequestHandlerClass)
    - serve_forever(poll_interval=0.5)
    - shutdown()
    - handle_request()  # when not using serve_forever()
    - service_actions()
    - server_close()
    - fileno() -> int   # supplied by subclasses, for select/poll

    Methods a subclass may override:

    - server_bind()
    - server_activate()
    - get_request() -> (request, client_address)
    - handle_timeout()
    - verify_request(request, client_address)
    - process_request(request, client_address)
    - shutdown_request(request)
    - close_request(request)
    - handle_error(request, client_address)

    Methods for derived classes:

    - finish_request(request, client_address)

    Class attributes that a subclass or an instance may override:

    - timeout: seconds handle_request() waits for a request, or None

    Instance attributes:

    - server_address
    - RequestHandlerClass
    - socket (supplied by subclasses)
    """

    # B1: handle_request() waits at most this long; serve_forever ignores it.
    timeout: float | None = None

    server_address: _Address
    # Any callable taking (request, client_address, server) will do (K3).
    RequestHandlerClass: _HandlerFactory

    if TYPE_CHECKING:
        # Supplied by the concrete servers (TCPServer and below), not here
        # (K4, K5): BaseServer's wait loops only assume that they exist.
        socket: _socket

        def fileno(self) -> int: ...

        def get_request(self) -> tuple[Any, Any]: ...

    def __init__(
        self,
        server_address: _Address,
        RequestHandlerClass: Callable[[Any, _RetAddress, Self], "BaseRequestHandler"],
    ) -> None:
        """Remember the address and the handler class; open nothing (B2)."""
        self.server_address = server_address
        self.RequestHandlerClass = RequestHandlerClass
        self.__is_shut_down = threading.Event()
        self.__shutdown_request = False

    def server_activate(self) -> None:
        """Called by the constructor to activate the server (B3).

        Does nothing here; TCPServer listens.
        """

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Handle requests until shutdown() is called (B4).

        The server checks for a shutdown request every *poll_interval*
        seconds, and calls service_actions() on every pass through the loop,
        whether or not a request arrived.  The server's ``timeout`` attribute
        plays no part here.
        """
        self.__is_shut_down.clear()
        try:
            with _ServerSelector() as selector:
                selector.register(self, selectors.EVENT_READ)
                while not self.__shutdown_request:
                    readable = selector.select(poll_interval)
                    # A shutdown requested during the wait wins over a
                    # request that became ready at the same time (bpo-35017).
                    if self.__shutdown_request:
                        break
                    if readable:
                        self._handle_request_noblock()
                    self.service_actions()
        finally:
            self.__shutdown_request = False
            self.__is_shut_down.set()

    def shutdown(self) -> None:
        """Make serve_forever() stop, and wait until it has (B5).

        This blocks until the loop has exited, so it must be called from
        another thread than the one running serve_forever(): called from that
        thread, or when serve_forever() is never run, it waits forever.
        """
        self.__shutdown_request = True
        self.__is_shut_down.wait()

    def service_actions(self) -> None:
        """Called on every pass of the serve_forever() loop (B6).

        Does nothing here; subclasses and mix-ins hook periodic work into it.
        """

    # The request-handling path shared by serve_forever() and
    # handle_request():
    #
    # - handle_request() waits for readiness, honouring the timeouts, then
    #   calls _handle_request_noblock();
    # - _handle_request_noblock() calls get_request(), verify_request() and
    #   process_request(), routing errors to handle_error();
    # - process_request() calls finish_request(), which builds the handler,
    #   then shutdown_request().  The mix-ins replace process_request() to
    #   move that work into a thread or a child process.

    def handle_request(self) -> None:
        """Wait for one request and handle it, or time out (B7).

        The wait is bounded by the smaller of the socket's own timeout and
        the server's ``timeout`` attribute, whichever are set; with neither,
        it blocks.  When the bound expires, handle_timeout() is called.
        """
        wait = self.socket.gettimeout()
        if wait is None:
            wait = self.timeout
        elif self.timeout is not None:
            wait = min(wait, self.timeout)
        deadline = 0.0 if wait is None else time() + wait

        with _ServerSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            while True:
                if selector.select(wait):
                    return self._handle_request_noblock()
                if wait is not None:
                    # Woken early (or by a signal): wait again for whatever
                    # remains, and give up only once the deadline is passed.
                    wait = deadline - time()
                    if wait < 0:
                        return self.handle_timeout()

    def _handle_request_noblock(self) -> None:
        """Take one request that is known to be waiting and process it (B8).

        An OSError from get_request() (the peer went away, for instance) is
        ignored.  An Exception from process_request() goes to handle_error();
        any other BaseException (SystemExit, KeyboardInterrupt) propagates.
        The request is shut down in every case.
        """
        try:
            request, client_address = self.get_request()
        except OSError:
            return
        if not self.verify_request(request, client_address):
            self.shutdown_request(request)
            return
        try:
            self.process_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
            self.shutdown_request(request)
        except BaseException:
            self.shutdown_request(request)
            raise

    def handle_timeout(self) -> None:
        """Called when handle_request() times out (B9).  Does nothing here."""

    def verify_request(self, request: _RequestType, client_address: _RetAddress) -> bool:
        """Return whether to process the request (B10).  Always True here."""
        return True

    def process_request(self, request: _RequestType, client_address: _RetAddress) -> None:
        """Handle the request in the calling thread, then shut it down (B11).

        The mix-ins override this to hand the request to a thread or to a
        child process.
        """
        self.finish_request(request, client_address)
        self.shutdown_request(request)

    def server_close(self) -> None:
        """Release the server's resources (B12).  Nothing to release here."""

    def finish_request(self, request: _RequestType, client_address: _RetAddress) -> None:
        """Run the handler: build one RequestHandlerClass instance (B13)."""
        self.RequestHandlerClass(request, client_address, self)

    def shutdown_request(self, request: _RequestType) -> None:
        """End one request and release it (B14).  Here: close_request()."""
        self.close_request(request)

    def close_request(self, request: _RequestType) -> None:
        """Release one request (B15).  Nothing to release here."""

    def handle_error(self, request: _RequestType, client_address: _RetAddress) -> None:
        """Report an exception raised while processing a request (B16).

        Must be called while the exception is being handled.  The default
        prints a banner and the traceback to sys.stderr and carries on
        serving.
        """
        rule = "-" * 40
        print(rule, file=sys.stderr)
        print(
            "Exception occurred during processing of request from",
            client_address,
            file=sys.stderr,
        )
        import traceback

        traceback.print_exc()
        print(rule, file=sys.stderr)

    def __enter__(self) -> Self:
        """Use the server as a context manager; leaving it closes it (B17)."""
        return self

    def __exit__(self, *args: object) -> None:
        self.server_close()


class TCPServer(BaseServer):
    """A server on a stream socket, by default TCP over IPv4.

    Methods for the caller:

    - __init__(server_address, RequestHandlerClass, bind_and_activate=True)
    - serve_forever(poll_interval=0.5)
    - shutdown()
    - handle_request()  # when not using serve_forever()
    - service_actions()
    - server_close()
    - fileno() -> int   # for select/poll

    Methods a subclass may override:

    - server_bind()
    - server_activate()
    - get_request() -> (request, client_address)
    - handle_timeout()
    - verify_request(request, client_address)
    - process_request(request, client_address)
    - shutdown_request(request)
    - close_request(request)
    - handle_error(request, client_address)

    Methods for derived classes:

    - finish_request(request, client_address)

    Class attributes that a subclass or an instance may override:

    - timeout
    - address_family
    - socket_type
    - request_queue_size (the listen() backlog)
    - allow_reuse_address
    - allow_reuse_port

    Instance attributes:

    - server_address
    - RequestHandlerClass
    - socket
    """

    address_family: int = socket.AF_INET  # C1
    socket_type: int = socket.SOCK_STREAM  # C2
    request_queue_size: int = 5  # C3
    allow_reuse_address: bool = False  # C4
    allow_reuse_port: bool = False  # C5

    socket: _socket

    def __init__(
        self,
        server_address: _Address,
        RequestHandlerClass: Callable[[Any, _RetAddress, Self], "BaseRequestHandler"],
        bind_and_activate: bool = True,
    ) -> None:
        """Create the socket and, unless told not to, bind and listen (C6).

        The socket's family and type are read from the instance, so a
        subclass or the instance itself may set them before this runs.  If
        binding or activating fails, the socket is closed before the error
        propagates.
        """
        BaseServer.__init__(self, server_address, RequestHandlerClass)
        self.socket = socket.socket(self.address_family, self.socket_type)
        if not bind_and_activate:
            return
        try:
            self.server_bind()
            self.server_activate()
        except BaseException:
            self.server_close()
            raise

    def server_bind(self) -> None:
        """Set the reuse options, bind, and record the bound address (C7).

        SO_REUSEPORT is set only on AF_INET and AF_INET6 sockets: Linux
        rejects it on other families.  After binding, ``server_address``
        becomes what the socket reports, so port 0 turns into the real port.
        """
        if self.allow_reuse_address and hasattr(socket, "SO_REUSEADDR"):
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if (
            self.allow_reuse_port
            and hasattr(socket, "SO_REUSEPORT")
            and self.address_family in (socket.AF_INET, socket.AF_INET6)
        ):
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()

    def server_activate(self) -> None:
        """Listen, with ``request_queue_size`` as the backlog (C8)."""
        self.socket.listen(self.request_queue_size)

    def server_close(self) -> None:
        """Close the server's socket; calling it again is harmless (C9)."""
        self.socket.close()

    def fileno(self) -> int:
        """Return the socket's file descriptor, for select and poll (C10)."""
        return self.socket.fileno()

    def get_request(self) -> tuple[_socket, _RetAddress]:
        """Accept a connection: return (connection socket, address) (C11)."""
        return self.socket.accept()

    def shutdown_request(self, request: _RequestType) -> None:
        """Half-close the connection for writing, then close it (C12).

        The half-close tells the peer that no more data follows even if a
        forked child still holds the connection.  It fails harmlessly
        (ENOTCONN, say) when the peer has already gone.
        """
        try:
            request.shutdown(socket.SHUT_WR)  # type: ignore[union-attr]
        except OSError:
            pass
        self.close_request(request)

    def close_request(self, request: _RequestType) -> None:
        """Close the connection socket (C13)."""
        request.close()  # type: ignore[union-attr]


class UDPServer(TCPServer):
    """A server on a datagram socket, by default UDP over IPv4.

    A request is the pair (datagram bytes, server socket): replies go out
    through the server's own socket, which a request never closes.
    """

    allow_reuse_address: bool = False  # D1
    allow_reuse_port: bool = False  # D2
    socket_type: int = socket.SOCK_DGRAM  # D3
    # D4: bytes read per datagram; the kernel drops the rest of a longer one.
    max_packet_size: ClassVar[int] = 8192

    # typeshed marks this override the same way: a datagram request is not a
    # connection socket.
    def get_request(self) -> tuple[tuple[bytes, _socket], _RetAddress]:  # type: ignore[override]
        """Receive one datagram: return ((data, server socket), address) (D5)."""
        data, client_address = self.socket.recvfrom(self.max_packet_size)
        return (data, self.socket), client_address

    def server_activate(self) -> None:
        """Nothing to do: datagram sockets do not listen (D6)."""

    def shutdown_request(self, request: _RequestType) -> None:
        """Only close_request(): there is no connection to shut down (D7)."""
        self.close_request(request)

    def close_request(self, request: _RequestType) -> None:
        """Nothing to close: the socket belongs to the server (D8)."""


if TYPE_CHECKING:
    # For the type checker, a mix-in is a BaseServer: its methods call the
    # server's hooks through self and super().  At run time the mix-ins
    # derive from object alone, as in CPython, and only meet a server class
    # in the concrete combinations below.
    _MixInBase: TypeAlias = BaseServer
else:
    _MixInBase = object


if hasattr(os, "fork"):

    class ForkingMixIn(_MixInBase):
        """Handle each request in a forked child process.

        The parent keeps the pids of its children in ``active_children``
        and reaps them from service_actions(), handle_timeout() and
        server_close().  When ``max_children`` are alive it waits for one to
        exit before forking another.
        """

        timeout: float | None = 300  # E1
        active_children: set[int] | None = None  # E2
        max_children: int = 40  # E3
        block_on_close: bool = True  # E4: server_close() waits for children

        def collect_children(self, *, blocking: bool = False) -> None:
            """Reap finished children (E5).

            While too many children are alive, wait for any one to exit.
            Then reap, without waiting unless *blocking*, each child this
            server forked.
            """
            children = self.active_children
            if children is None:
                return

            # Phase 1: at the limit, block until some child exits.  This may
            # reap a child the server did not fork; its pid is simply not in
            # the set.
            while len(children) >= self.max_children:
                try:
                    pid, _ = os.waitpid(-1, 0)
                except ChildProcessError:
                    # No children left at all: none of ours is alive.
                    children.clear()
                except OSError:
                    break
                else:
                    children.discard(pid)

            # Phase 2: reap our own children that have exited.  waitpid
            # returns pid 0 for one still running, which is never in the set.
            flags = 0 if blocking else os.WNOHANG
            for child in set(children):
                try:
                    pid, _ = os.waitpid(child, flags)
                except ChildProcessError:
                    # Already reaped elsewhere.
                    children.discard(child)
                except OSError:
                    pass
                else:
                    children.discard(pid)

        def handle_timeout(self) -> None:
            """Reap children when handle_request() times out (E6)."""
            self.collect_children()

        def service_actions(self) -> None:
            """Reap children on every pass of serve_forever() (E7)."""
            self.collect_children()

        def process_request(self, request: _RequestType, client_address: _RetAddress) -> None:
            """Fork a child to handle the request (E8).

            The parent records the child and drops its own reference to the
            request.  The child handles the request, shuts it down and exits
            with status 0 on success and 1 on any exception; it never returns
            into the serving loop.
            """
            pid = os.fork()
            if pid:
                if self.active_children is None:
                    self.active_children = set()
                self.active_children.add(pid)
                self.close_request(request)
                return

            # Child process.
            status = 1
            try:
                self.finish_request(request, client_address)
                status = 0
            except Exception:
                self.handle_error(request, client_address)
            finally:
                # Exiting from the finally clause also swallows a
                # BaseException such as SystemExit: the status stays 1.
                try:
                    self.shutdown_request(request)
                finally:
                    os._exit(status)

        def server_close(self) -> None:
            """Close the socket, then reap children, waiting if
            ``block_on_close`` is set (E9)."""
            super().server_close()
            self.collect_children(blocking=self.block_on_close)


class _Threads(list[threading.Thread]):
    """The joinable (non-daemon) request threads of a server (F1)."""

    def append(self, thread: threading.Thread) -> None:
        """Track *thread* unless it is a daemon, dropping dead ones first (F2)."""
        self.reap()
        if thread.daemon:
            return
        super().append(thread)

    def pop_all(self) -> list[threading.Thread]:
        """Empty the list and return what it held (F3)."""
        taken = self[:]
        self[:] = []
        return taken

    def join(self) -> None:
        """Wait for every tracked thread (F4)."""
        for thread in self.pop_all():
            thread.join()

    def reap(self) -> None:
        """Forget the threads that have finished (F5)."""
        self[:] = [thread for thread in self if thread.is_alive()]


class _NoThreads:
    """Stands in for _Threads when threads are not to be joined (F6)."""

    def append(self, thread: threading.Thread) -> None:
        pass

    def join(self) -> None:
        pass


class ThreadingMixIn(_MixInBase):
    """Handle each request in a new thread."""

    # G1: whether request threads are daemons (and so not waited for).
    daemon_threads: bool = False
    # G2: whether server_close() waits for the non-daemon request threads.
    block_on_close: bool = True
    # G3: the class-wide do-nothing tracker; process_request() gives an
    # instance its own _Threads on first use when block_on_close is set.
    _threads: _Threads | _NoThreads = _NoThreads()

    def process_request_thread(self, request: _RequestType, client_address: _RetAddress) -> None:
        """The body of a request thread (G4).

        Like BaseServer.process_request(), but an Exception goes to
        handle_error() here, and the request is shut down whatever happens.
        A BaseException leaves the thread and reaches threading.excepthook.
        """
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def process_request(self, request: _RequestType, client_address: _RetAddress) -> None:
        """Start a thread to handle the request (G5)."""
        if self.block_on_close:
            vars(self).setdefault("_threads", _Threads())
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
        )
        thread.daemon = self.daemon_threads
        self._threads.append(thread)
        thread.start()

    def server_close(self) -> None:
        """Close the socket, then wait for the tracked threads (G6)."""
        super().server_close()
        self._threads.join()


# H1-H10: the ready-made combinations.  The mix-in comes first so that its
# process_request() and server_close() take precedence.

if hasattr(os, "fork"):

    class ForkingUDPServer(ForkingMixIn, UDPServer):
        pass

    class ForkingTCPServer(ForkingMixIn, TCPServer):
        pass


class ThreadingUDPServer(ThreadingMixIn, UDPServer):
    pass


class ThreadingTCPServer(ThreadingMixIn, TCPServer):
    pass


if hasattr(socket, "AF_UNIX"):

    class UnixStreamServer(TCPServer):
        address_family: int = socket.AF_UNIX

    class UnixDatagramServer(UDPServer):
        address_family: int = socket.AF_UNIX

    class ThreadingUnixStreamServer(ThreadingMixIn, UnixStreamServer):
        pass

    class ThreadingUnixDatagramServer(ThreadingMixIn, UnixDatagramServer):
        pass

    if hasattr(os, "fork"):

        class ForkingUnixStreamServer(ForkingMixIn, UnixStreamServer):
            pass

        class ForkingUnixDatagramServer(ForkingMixIn, UnixDatagramServer):
            pass


class BaseRequestHandler:
    """The base of request handler classes.

    One instance is created per request.  The constructor stores the
    request, the client's address and the server, then runs setup(),
    handle() and finish(); subclasses override those three and leave the
    constructor alone.  The server's own attributes are the place for state
    that outlives one request.
    """

    request: Any
    client_address: _RetAddress
    server: BaseServer

    def __init__(
        self, request: _RequestType, client_address: _RetAddress, server: BaseServer
    ) -> None:
        """Handle the request entirely (I1).

        finish() runs even when handle() raises, but not when setup() does.
        """
        self.request = request
        self.client_address = client_address
        self.server = server
        self.setup()
        try:
            self.handle()
        finally:
            self.finish()

    def setup(self) -> None:
        """Prepare for handle() (I2).  Does nothing here."""

    def handle(self) -> None:
        """Do the request's work (I2).  Does nothing here."""

    def finish(self) -> None:
        """Clean up after handle() (I2).  Does nothing here."""


class StreamRequestHandler(BaseRequestHandler):
    """A handler for stream sockets, with file objects for the connection.

    ``rfile`` reads from the connection and ``wfile`` writes to it.
    """

    # I3: rfile's buffer size, as for makefile(): -1 means the default
    # buffering, 0 an unbuffered raw reader.
    rbufsize: ClassVar[int] = -1
    # I4: wfile's buffer size.  0 gives an unbuffered writer whose writes go
    # out at once; anything else a buffered file that must be flushed.
    wbufsize: ClassVar[int] = 0
    # I5: a socket timeout for the connection, in seconds, or None.
    timeout: ClassVar[float | None] = None
    # I6: set TCP_NODELAY on the connection.
    disable_nagle_algorithm: ClassVar[bool] = False

    connection: Any
    rfile: BufferedIOBase
    wfile: BufferedIOBase

    def setup(self) -> None:
        """Configure the connection and open rfile and wfile (I7)."""
        self.connection = self.request
        if self.timeout is not None:
            self.connection.settimeout(self.timeout)
        if self.disable_nagle_algorithm:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        self.rfile = self.connection.makefile("rb", self.rbufsize)
        if self.wbufsize == 0:
            self.wfile = _SocketWriter(self.connection)
        else:
            self.wfile = self.connection.makefile("wb", self.wbufsize)

    def finish(self) -> None:
        """Flush wfile and close both files, leaving the socket open (I8).

        A flush that fails because the peer is gone is ignored; the server's
        shutdown_request() closes the socket itself.
        """
        if not self.wfile.closed:
            try:
                self.wfile.flush()
            except OSError:
                pass
        self.wfile.close()
        self.rfile.close()


class _SocketWriter(BufferedIOBase):
    """An unbuffered, write-only file over a socket (I9).

    Every write() hands all its bytes to sendall(), so nothing waits in a
    buffer and flush() has nothing to do.
    """

    def __init__(self, sock: _socket) -> None:
        self._sock = sock

    def writable(self) -> bool:
        """I10."""
        return True

    def write(self, b: "ReadableBuffer") -> int:
        """Send all of *b*; return its size in bytes (I11)."""
        self._sock.sendall(b)
        with memoryview(b) as view:
            return view.nbytes

    def fileno(self) -> int:
        """The socket's file descriptor (I12)."""
        return self._sock.fileno()


class DatagramRequestHandler(BaseRequestHandler):
    """A handler for datagram sockets, with file objects for one packet.

    ``rfile`` reads the datagram received; what the handler writes to
    ``wfile`` is sent back to the client as one datagram by finish().
    """

    packet: bytes
    socket: _socket
    rfile: "BytesIO"
    wfile: "BytesIO"

    def setup(self) -> None:
        """Split the request into packet and socket; open the files (I13)."""
        from io import BytesIO  # imported on first use, as CPython does

        self.packet, self.socket = self.request
        self.rfile = BytesIO(self.packet)
        self.wfile = BytesIO()

    def finish(self) -> None:
        """Send wfile's contents to the client, even when empty (I14)."""
        self.socket.sendto(self.wfile.getvalue(), self.client_address)
