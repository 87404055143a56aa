"""Run one standard-library consumer of socketserver on an implementation.

    python consumer_probe.py IMPL SCENARIO

IMPL is `stdlib` or the path of a socketserver.py to install as the module
`socketserver` before any consumer is imported (their base classes are bound
at import time, see ../shared/reference/CONSUMERS.md).  SCENARIO is one of
the functions below.  The probe serves real requests on loopback and prints
one JSON object: what the client saw, and which socketserver module the
consumer's classes were built on.  Every socket has a timeout and every
server is shut down, so a broken implementation fails instead of hanging.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import struct
import sys
import tempfile
import threading
from collections.abc import Callable
from typing import Any

TIMEOUT = 10.0


def install(impl: str) -> Any:
    if impl == "stdlib":
        import socketserver

        return socketserver
    spec = importlib.util.spec_from_file_location("socketserver", impl)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["socketserver"] = module
    spec.loader.exec_module(module)
    return module


def serve_in_thread(server: Any) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return thread


def stop(server: Any, thread: threading.Thread) -> None:
    server.shutdown()
    thread.join(TIMEOUT)
    server.server_close()


def http_server() -> dict[str, Any]:
    """ThreadingHTTPServer + SimpleHTTPRequestHandler serving a file."""
    import functools
    import http.server
    import urllib.request

    with tempfile.TemporaryDirectory() as root:
        with open(os.path.join(root, "hello.txt"), "wb") as f:
            f.write(b"hello from http.server\n")
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
        http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = serve_in_thread(server)
        try:
            url = f"http://127.0.0.1:{server.server_port}/hello.txt"
            bodies = []
            for _ in range(3):
                with urllib.request.urlopen(url, timeout=TIMEOUT) as reply:
                    bodies.append(reply.read().decode())
        finally:
            stop(server, thread)
    return {
        "bodies": bodies,
        "base": http.server.HTTPServer.__mro__[1].__module__,
        "base_file": sys.modules[http.server.HTTPServer.__mro__[1].__module__].__file__,
        "daemon_threads": server.daemon_threads,
    }


def xmlrpc_server() -> dict[str, Any]:
    """SimpleXMLRPCServer answering calls through handle_request()."""
    import xmlrpc.client
    import xmlrpc.server

    server = xmlrpc.server.SimpleXMLRPCServer(("127.0.0.1", 0), logRequests=False, allow_none=True)
    server.register_function(lambda a, b: a + b, "add")
    server.register_introspection_functions()
    thread = serve_in_thread(server)
    try:
        host, port = server.server_address[:2]
        proxy = xmlrpc.client.ServerProxy(f"http://{host}:{port}/")
        results = [proxy.add(2, 3), proxy.add("a", "b"), sorted(proxy.system.listMethods())[:2]]
    finally:
        stop(server, thread)
    base = xmlrpc.server.SimpleXMLRPCServer.__mro__[1]
    return {
        "results": results,
        "base": base.__module__,
        "base_file": sys.modules[base.__module__].__file__,
    }


def logging_config() -> dict[str, Any]:
    """logging.config.listen(): a ThreadingTCPServer bound at import time."""
    import logging
    import logging.config

    listener = logging.config.listen(0)
    listener.start()
    try:
        if not listener.ready.wait(TIMEOUT):
            raise RuntimeError("logging.config.listen() did not become ready")
        port = listener.port
        config = {
            "version": 1,
            "loggers": {"probe": {"level": "WARNING"}},
        }
        payload = json.dumps(config).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
            sock.sendall(struct.pack(">L", len(payload)) + payload)
            sock.shutdown(socket.SHUT_WR)
            sock.recv(1)  # returns b"" once the server has processed and closed
    finally:
        logging.config.stopListening()
        listener.join(TIMEOUT)
    receiver_base = logging.config.ThreadingTCPServer
    return {
        "level": logging.getLogger("probe").level,
        "alive": listener.is_alive(),
        "base": receiver_base.__module__,
        "base_file": sys.modules[receiver_base.__module__].__file__,
    }


def wsgiref_server() -> dict[str, Any]:
    """wsgiref.simple_server.make_server serving a WSGI app."""
    import urllib.request
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"wsgi says hi to {environ['PATH_INFO']}".encode()]

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = serve_in_thread(server)
    try:
        url = f"http://127.0.0.1:{server.server_port}/probe"
        with urllib.request.urlopen(url, timeout=TIMEOUT) as reply:
            body = reply.read().decode()
    finally:
        stop(server, thread)
    base = WSGIServer.__mro__[2]
    return {
        "body": body,
        "base": base.__module__,
        "base_file": sys.modules[base.__module__].__file__,
    }


SCENARIOS: dict[str, Callable[[], dict[str, Any]]] = {
    "http_server": http_server,
    "xmlrpc_server": xmlrpc_server,
    "logging_config": logging_config,
    "wsgiref_server": wsgiref_server,
}


def main() -> int:
    impl, scenario = sys.argv[1], sys.argv[2]
    socket.setdefaulttimeout(TIMEOUT)
    module = install(impl)
    result = SCENARIOS[scenario]()
    result["socketserver_file"] = module.__file__
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
