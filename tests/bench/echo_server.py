"""Serve line echo on one socketserver implementation until told to stop.

usage: echo_server.py IMPL CLASS ADDRESS

IMPL     stdlib (this interpreter's module), pyref (pyref/socketserver.py)
         or go (pybind/socketserver.py, the Go-backed drop-in)
CLASS    a server class of the module: ThreadingTCPServer, ForkingTCPServer,
         UDPServer, ThreadingUDPServer, ThreadingUnixStreamServer, ...;
         or one of thread_cost.py's (InlineTCPServer, JoinedThreadingTCPServer)
ADDRESS  host:port, or a socket path for the Unix classes

The implementation is installed as ``sys.modules['socketserver']`` before
the handlers (echo_handlers.py) are imported, as a program would install the
drop-in; the handler classes are the same for every implementation.

When it serves, the script prints ``READY <json>`` (address, pid) on
standard output. It stops on SIGTERM or SIGINT, or when standard input
reaches EOF (it never outlives the benchmark that started it), with
``shutdown()`` and ``server_close()``; if stopping takes longer than 10 s it
exits anyway.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import signal
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
MODULE_PATHS = {
    "pyref": REPO / "pyref" / "socketserver.py",
    "go": REPO / "pybind" / "socketserver.py",
}


def install(impl: str) -> ModuleType:
    """Make *impl* the module ``socketserver`` of this process."""
    if impl == "stdlib":
        import socketserver

        return socketserver
    path = MODULE_PATHS[impl]
    spec = importlib.util.spec_from_file_location("socketserver", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["socketserver"] = module
    spec.loader.exec_module(module)
    return module


def raise_nofile() -> int:
    """Raise the soft descriptor limit to the hard one; return the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


def parse_address(text: str, unix: bool) -> Any:
    if unix:
        return text
    host, _, port = text.rpartition(":")
    return (host, int(port))


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in ("stdlib", *MODULE_PATHS):
        print(__doc__, file=sys.stderr)
        return 2
    impl, class_name, address_text = argv
    raise_nofile()
    ss = install(impl)
    import echo_handlers  # after install(): it imports socketserver

    if hasattr(ss, class_name):
        cls = getattr(ss, class_name)
    else:
        import thread_cost  # the thread-cost rows' server, on the module installed

        cls = getattr(thread_cost, class_name)
    datagram = issubclass(cls, ss.UDPServer) or "Datagram" in class_name
    handler = echo_handlers.DatagramEcho if datagram else echo_handlers.LineEcho
    server = cls(parse_address(address_text, "Unix" in class_name), handler)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def watch_stdin() -> None:
        # os.read, not sys.stdin: a daemon thread blocked in a buffered read
        # holds its lock, which interpreter shutdown then cannot take.
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    serving = threading.Thread(target=server.serve_forever, args=(0.5,), daemon=True)
    serving.start()
    address = server.server_address
    ready = {
        "address": address if isinstance(address, str) else f"{address[0]}:{address[1]}",
        "pid": os.getpid(),
        "impl": impl,
        "class": class_name,
        "module": ss.__file__,
    }
    print("READY", json.dumps(ready), flush=True)
    while not stop.wait(1.0):
        pass
    # Stopping must not hang the benchmark either.
    watchdog = threading.Timer(10.0, os._exit, (4,))
    watchdog.daemon = True
    watchdog.start()
    server.shutdown()
    serving.join(10.0)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
