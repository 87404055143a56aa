"""Hook traces: a Tracer that records hook calls per lane and renders them as call trees.

:func:`traced_class` subclasses a server or handler class so that each hook
it names reports its call, return or exception to a :class:`Tracer`;
:meth:`Tracer.render` rebuilds the calls of one lane as a tree of
:class:`Node` and prints it, e.g. ``handle_request(get_request verify_request)``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeAlias, cast

SERVER_HOOKS = (
    "server_bind",
    "server_activate",
    "serve_forever",
    "handle_request",
    "get_request",
    "verify_request",
    "process_request",
    "process_request_thread",
    "finish_request",
    "shutdown_request",
    "close_request",
    "handle_error",
    "handle_timeout",
    "service_actions",
    "collect_children",
    "server_close",
)
HANDLER_HOOKS = ("setup", "handle", "finish")

#: What an event records: a hook was called, returned or raised, or a test noted a name.
Kind: TypeAlias = Literal["call", "return", "raise", "note"]
#: Where an event happened: see :class:`Tracer`.
Lane: TypeAlias = Literal["main", "serve", "worker", "child"]


class Raise:
    """Behaviour for a traced hook: raise *exc* instead of running the real hook."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class Return:
    """Behaviour for a traced hook: return *value* instead of running the real hook."""

    def __init__(self, value: Any) -> None:
        self.value = value


#: What a traced hook does: raise, return a value, run a callable instead of the
#: base method (called with the instance and the hook's arguments), or (None)
#: call the base method.
Behaviour: TypeAlias = Raise | Return | Callable[..., Any] | None


class Event(NamedTuple):
    """One record of a Tracer; *exc* is the exception type's name of a ``raise``."""

    lane: Lane
    kind: Kind
    name: str
    exc: str


@dataclass
class Node:
    """One call (or note) of a rendered trace, with the calls it made."""

    name: str
    kind: Literal["call", "note"]
    #: The exception type's name if the call raised, else ''.
    exc: str = ""
    children: list[Node] = field(default_factory=list)
    #: Whether the call returned or raised (a call still running renders with ``...``).
    ended: bool = False

    @property
    def still_open(self) -> bool:
        return self.kind == "call" and not self.ended

    def render(self, collapse: tuple[str, ...]) -> str:
        """``name(children)``, then ``!Exc`` if it raised, ``...`` if still open."""
        text = self.name
        if self.children:
            text += "(" + render_nodes(self.children, collapse) + ")"
        if self.exc:
            text += "!" + self.exc
        if self.still_open:
            text += "..."
        if self.name in collapse:
            text += "+"
        return text


def render_nodes(nodes: list[Node], collapse: tuple[str, ...]) -> str:
    """The *nodes* separated by spaces; a repeat of a collapsed node renders once."""
    parts: list[str] = []
    for node in nodes:
        text = node.render(collapse)
        if node.name in collapse and parts and parts[-1] == text:
            continue
        parts.append(text)
    return " ".join(parts)


class Tracer:
    """Records hook calls per lane and renders them as nested call trees.

    Lanes: ``main`` (the thread that made the tracer), ``serve`` (a thread
    named "serve"), ``worker`` (any other thread, e.g. ThreadingMixIn's) and
    ``child`` (a forked child, whose events come back through a pipe).
    A call renders as ``name(callees)``; ``!Type`` marks a call that raised.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.main = threading.get_ident()
        self.events: list[Event] = []
        self.requests: list[Any] = []  # what get_request returned, in order
        self.lock = threading.Lock()
        self.rfd, self.wfd = os.pipe()
        os.set_blocking(self.rfd, False)

    def close(self) -> None:
        os.close(self.rfd)
        os.close(self.wfd)

    def lane(self) -> Lane:
        if os.getpid() != self.pid:
            return "child"
        if threading.get_ident() == self.main:
            return "main"
        return "serve" if threading.current_thread().name == "serve" else "worker"

    def emit(self, kind: Kind, name: str, exc: str = "") -> None:
        lane = self.lane()
        if lane == "child":
            os.write(self.wfd, f"{kind} {name} {exc}\n".encode())
            return
        with self.lock:
            self.events.append(Event(lane, kind, name, exc))

    def note(self, name: str) -> None:
        self.emit("note", name)

    def collect_child_events(self) -> None:
        """Move the events written by forked children (already exited) into the record."""
        data = b""
        while True:
            try:
                chunk = os.read(self.rfd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
        with self.lock:
            for line in data.decode().splitlines():
                kind, name, exc = line.split(" ")
                self.events.append(Event("child", cast(Kind, kind), name, exc))

    def names(self, lane: str = "main") -> list[str]:
        with self.lock:
            return [e.name for e in self.events if e.lane == lane and e.kind != "return"]

    def tree(self, lane: str = "main") -> list[Node]:
        """The calls of *lane* as call trees, in the order they were made."""
        roots: list[Node] = []
        stack: list[Node] = []
        with self.lock:
            events = [e for e in self.events if e.lane == lane]
        for event in events:
            siblings = stack[-1].children if stack else roots
            if event.kind == "call":
                node = Node(event.name, "call")
                siblings.append(node)
                stack.append(node)
            elif event.kind == "note":
                siblings.append(Node(event.name, "note"))
            else:
                assert stack and stack[-1].name == event.name, (lane, event, events)
                node = stack.pop()
                node.exc = event.exc
                node.ended = True
        return roots

    def render(self, lane: str = "main", collapse: tuple[str, ...] = ()) -> str:
        """The calls of *lane* as a string, e.g. ``handle_request(get_request ...)``.

        Consecutive identical calls of a name in *collapse* render once,
        followed by ``+`` (one or more).
        """
        return render_nodes(self.tree(lane), collapse)


def traced_class(
    base: type,
    hooks: tuple[str, ...],
    tracer: Tracer,
    behave: Mapping[str, Behaviour] | None = None,
    attrs: dict[str, Any] | None = None,
) -> type:
    """A subclass of *base* whose *hooks* (those *base* has) are recorded in *tracer*.

    *behave* maps a hook to Raise(exc), Return(value) or a callable run
    instead of the base method; other hooks call the base method.
    """
    behaviours = dict(behave or {})

    def traced(name: str, behaviour: Behaviour) -> Callable[..., Any]:
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            tracer.emit("call", name)
            try:
                if isinstance(behaviour, Raise):
                    raise behaviour.exc
                if isinstance(behaviour, Return):
                    result = behaviour.value
                elif callable(behaviour):
                    result = behaviour(self, *args, **kwargs)
                else:
                    result = getattr(super(cls, self), name)(*args, **kwargs)
            except BaseException as exc:
                tracer.emit("raise", name, type(exc).__name__)
                raise
            tracer.emit("return", name)
            if name == "get_request":
                tracer.requests.append(result[0])
            return result

        method.__name__ = name
        return method

    namespace: dict[str, Any] = dict(attrs or {})
    for name in hooks:
        if hasattr(base, name) or name in behaviours:
            namespace[name] = traced(name, behaviours.pop(name, None))
    assert not behaviours, f"behaviour for hooks not traced: {sorted(behaviours)}"
    cls = type(f"Traced{base.__name__}", (base,), namespace)
    return cls
