"""Serve line echo with asyncio streams (what users pick instead of socketserver).

usage: aio_server.py LOOP ADDRESS

LOOP     asyncio (the default event loop) or uvloop
ADDRESS  host:port, or unix:PATH for a Unix stream socket

Prints ``READY <json>`` when serving; stops on SIGTERM/SIGINT or when
standard input reaches EOF.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import sys


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Echo each line until the client closes the connection."""
    try:
        while line := await reader.readline():
            writer.write(line)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def serve(loop_name: str, address: str) -> None:
    if address.startswith("unix:"):
        server = await asyncio.start_unix_server(echo, address[len("unix:") :])
        bound = address[len("unix:") :]
    else:
        host, _, port = address.rpartition(":")
        server = await asyncio.start_server(echo, host, int(port))
        name = server.sockets[0].getsockname()
        bound = f"{name[0]}:{name[1]}"
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def on_stdin() -> None:
        if not os.read(sys.stdin.fileno(), 4096):
            loop.remove_reader(sys.stdin.fileno())
            stop.set()

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    ready = {"address": bound, "pid": os.getpid(), "loop": loop_name, "class": type(loop).__name__}
    print("READY", json.dumps(ready), flush=True)
    await stop.wait()
    server.close()


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("asyncio", "uvloop"):
        print(__doc__, file=sys.stderr)
        return 2
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    loop_name, address = argv
    if loop_name == "uvloop":
        import uvloop

        uvloop.run(serve(loop_name, address))
    else:
        asyncio.run(serve(loop_name, address))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
