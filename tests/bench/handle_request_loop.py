"""Call handle_request() over and over on one UDPServer, timed, with the RSS.

usage: handle_request_loop.py IMPL [MAX_PACKET_SIZE]

IMPL             stdlib, pyref or go, installed as ``sys.modules['socketserver']``
                 exactly as echo_server.py does (tests/support.py loads them
                 the same way: stdlib by import, the others by file path under
                 the module name ``socketserver``)
MAX_PACKET_SIZE  the server's max_packet_size (default 16 MiB)

The script makes a ``UDPServer`` on 127.0.0.1 serving
echo_handlers.DatagramEcho with that max_packet_size, and a client socket,
then prints ``READY <json>`` (pid, module, memory figures). Each line ``N``
then read from standard input runs N iterations of: the client sends one
64-byte line in one datagram, ``server.handle_request()``, the client
receives the echo and checks it byte for byte; then it prints ``DONE
<json>`` (seconds, memory figures after). A failed iteration prints ``ERROR
<json>`` and exits 1. At EOF on standard input it closes the server and
exits.

Memory figures: VmRSS and VmHWM (KiB) from /proc/self/status and ru_maxrss
(KiB on Linux), so the caller sees what the loop adds, now and at its peak.

The server keeps the default timeout (None), as a program calling
handle_request() in a loop would: a lost datagram would block it, so the
caller bounds every wait and kills the process on overrun.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import sys
import time
from typing import Any

from echo_server import MODULE_PATHS, install

PAYLOAD = 64
DEFAULT_PACKET = 16 << 20
#: The client's limit on each send and receive.
CLIENT_TIMEOUT = 10.0


def memory() -> dict[str, int]:
    """VmRSS and VmHWM of this process (KiB) and its ru_maxrss (KiB on Linux)."""
    out = {"rss_kib": 0, "hwm_kib": 0}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key == "VmRSS":
                out["rss_kib"] = int(value.split()[0])
            elif key == "VmHWM":
                out["hwm_kib"] = int(value.split()[0])
    out["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out


def report(kind: str, data: dict[str, Any]) -> None:
    print(kind, json.dumps(data), flush=True)


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2 or argv[0] not in ("stdlib", *MODULE_PATHS):
        print(__doc__, file=sys.stderr)
        return 2
    impl = argv[0]
    packet = int(argv[1]) if len(argv) > 1 else DEFAULT_PACKET
    ss = install(impl)
    import echo_handlers  # after install(): it imports socketserver

    class Server(ss.UDPServer):
        max_packet_size = packet

    server = Server(("127.0.0.1", 0), echo_handlers.DatagramEcho)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(CLIENT_TIMEOUT)
    address = server.server_address
    done = 0
    report(
        "READY",
        {"pid": os.getpid(), "impl": impl, "module": ss.__file__, "max_packet_size": packet}
        | memory(),
    )
    try:
        for line in sys.stdin:
            n = int(line)
            start = time.perf_counter()
            for _ in range(n):
                message = f"{done:012d}".encode().ljust(PAYLOAD - 1, b".") + b"\n"
                client.sendto(message, address)
                server.handle_request()
                echo = client.recv(65536)
                if echo != message:
                    report("ERROR", {"iteration": done, "sent": len(message), "got": repr(echo)})
                    return 1
                done += 1
            seconds = time.perf_counter() - start
            report("DONE", {"iterations": n, "seconds": seconds} | memory())
    except OSError as exc:
        report("ERROR", {"iteration": done, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    finally:
        client.close()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
