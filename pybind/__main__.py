"""python -m gopy_socketserver [-m MODULE | SCRIPT] [ARGS...]

Run a module or a script with the Go-backed socketserver installed first,
e.g. ``python -m gopy_socketserver -m http.server 8000``.  Child processes
inherit it (GOPY_SOCKETSERVER=1 in their environment).
"""

import os
import runpy
import sys

from . import ENV, install


def main() -> None:
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        raise SystemExit(0 if args else 2)
    # Child processes (an autoreloader re-executing the program, say) load
    # the drop-in too, through gopy_socketserver.pth.
    os.environ[ENV] = "1"
    install()
    if args[0] == "-m":
        if len(args) < 2:
            raise SystemExit("gopy_socketserver: -m needs a module name")
        sys.argv = [args[1], *args[2:]]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = args
        runpy.run_path(args[0], run_name="__main__")


main()
