"""Run by pip_install_check.sh: activation survives a program re-executing itself.

Started as ``python -m gopy_socketserver reexec_check.py``, the program runs
itself again with a command line of its own (``sys.executable`` and its
script, as Django's autoreloader rebuilds it, without the wrapper).  The
child must still get the drop-in, through GOPY_SOCKETSERVER and the .pth
file pip installed.  Prints one line per process.
"""

import os
import socketserver
import subprocess
import sys

drop_in = "gopy_socketserver" in (socketserver.__file__ or "")
role = sys.argv[1] if len(sys.argv) > 1 else "parent"
print(f"{role}: drop-in={drop_in} env={os.environ.get('GOPY_SOCKETSERVER')}", flush=True)
if role == "parent":
    child = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "child"], timeout=60, check=False
    )
    if child.returncode != 0:
        sys.exit(f"child exited {child.returncode}")
if not drop_in:
    sys.exit(f"{role}: socketserver is {socketserver.__file__}, not the drop-in")
