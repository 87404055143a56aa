"""Helpers shared by the test modules, one module per concern, re-exported here.

* :mod:`support_load`: the implementations' names and paths, FEATURES.md rows,
  loading a module as ``socketserver``;
* :mod:`support_proc`: child processes and descriptors from /proc, bounded
  waits, helper threads, the Harness that serves and closes a test's servers;
* :mod:`support_net`: stream and datagram clients, a connected TCP pair;
* :mod:`support_trace`: the Tracer of hook calls and :func:`traced_class`.

Tests keep writing ``import support`` or ``from support import X``.
"""

from __future__ import annotations

from support_load import (
    DIFF_MD,
    FEATURES_MD,
    GO_PATH,
    PYREF_PATH,
    REPO,
    SHARED,
    STDLIB,
    feature_rows,
    impl_path,
    implementation_names,
    is_stdlib,
    load_from_path,
    load_implementation,
    required_rows,
)
from support_net import (
    connect,
    datagram_client,
    ipv6_loopback_available,
    recv_all,
    tcp_pair,
)
from support_proc import (
    TIMEOUT,
    Harness,
    call_with_timeout,
    child_processes,
    fd_count,
    fork_guard,
    open_fds,
    process_state,
    start_thread,
    wait_until,
)
from support_trace import (
    HANDLER_HOOKS,
    SERVER_HOOKS,
    Behaviour,
    Event,
    Node,
    Raise,
    Return,
    Tracer,
    traced_class,
)

__all__ = [
    # support_load
    "REPO",
    "SHARED",
    "FEATURES_MD",
    "DIFF_MD",
    "PYREF_PATH",
    "GO_PATH",
    "STDLIB",
    "feature_rows",
    "required_rows",
    "is_stdlib",
    "implementation_names",
    "impl_path",
    "load_from_path",
    "load_implementation",
    # support_proc
    "TIMEOUT",
    "child_processes",
    "process_state",
    "open_fds",
    "fd_count",
    "fork_guard",
    "wait_until",
    "call_with_timeout",
    "start_thread",
    "Harness",
    # support_net
    "connect",
    "datagram_client",
    "recv_all",
    "tcp_pair",
    "ipv6_loopback_available",
    # support_trace
    "SERVER_HOOKS",
    "HANDLER_HOOKS",
    "Raise",
    "Return",
    "Behaviour",
    "Event",
    "Node",
    "Tracer",
    "traced_class",
]
