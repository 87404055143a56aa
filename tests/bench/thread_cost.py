"""The server of the bench's thread-cost rows: what a thread per request costs.

Issue 10 requires every ThreadingMixIn request to run in a new
``threading.Thread`` (defect 7). How fast can any server that does so be?
The rows of ``make bench``'s thread-cost section serve the same 16 clients
of short connections with the interpreter's own module in three shapes:

- ``InlineTCPServer`` (here): TCPServer, the handler on the serving
  thread, no thread at all;
- ``JoinedThreadingTCPServer`` (here): ThreadingMixIn's thread, started as
  ``process_request`` starts it and joined before the next request is
  taken, so threads never overlap and nothing contends for the GIL: the
  thread's start, bootstrap, hand-offs and exit, and nothing more;
- ``ThreadingTCPServer``: the module as it is.

The two serial shapes take a connection only between requests, so their
listen queue is deeper than the module's 5 (``request_queue_size``): with
16 clients a full queue drops a handshake's last ACK and the kernel's
retransmission, a second or more later, would weigh on them alone.

The per-request time of the joined shape less the inline one's is what the
thread alone costs: a server that starts one per request cannot be faster
than that even if its loop and its handler cost nothing (compare.py's
thread_ceiling, printed next to the rows).

Imported by echo_server.py after the implementation is installed as
``socketserver``.
"""

import socketserver
import threading
from typing import Any

#: The serial shapes' listen queue (see the module docstring).
SERIAL_QUEUE = 128


class InlineTCPServer(socketserver.TCPServer):
    """TCPServer with the serial shapes' listen queue."""

    request_queue_size = SERIAL_QUEUE


class JoinedThreadingTCPServer(socketserver.ThreadingTCPServer):
    """ThreadingTCPServer whose request thread is joined before the next request."""

    request_queue_size = SERIAL_QUEUE

    def process_request(self, request: Any, client_address: Any) -> None:
        t = threading.Thread(target=self.process_request_thread, args=(request, client_address))
        t.daemon = self.daemon_threads
        t.start()
        t.join()
