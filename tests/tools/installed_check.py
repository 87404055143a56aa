"""Run by pip_install_check.sh in a fresh venv after `pip install .`.

Installs the Go-backed drop-in as `socketserver` the documented way, then
has the standard library's ThreadingHTTPServer serve one real request on it.
"""

import threading
import urllib.request

import gopy_socketserver

ss = gopy_socketserver.install()
import http.server  # noqa: E402
import socketserver  # noqa: E402

assert socketserver is ss and http.server.HTTPServer.__mro__[1] is ss.TCPServer, "not the drop-in"
http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
t.start()
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{srv.server_port}/", timeout=10) as r:
        print("served", r.status, "by", ss.__file__)
finally:
    srv.shutdown()
    t.join(10)
    srv.server_close()
