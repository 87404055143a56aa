"""gopy_socketserver: CPython 3.14's socketserver with a Go core, as a drop-in.

The module itself is ``gopy_socketserver/socketserver.py``.  Its classes
report ``__module__ == 'socketserver'``, and it is meant to be *the*
socketserver module of a program: the standard library's consumers
(http.server, xmlrpc.server, logging.config, wsgiref) bind its classes when
they are imported, so it must be installed before they are.

Three ways to do that::

    import gopy_socketserver
    gopy_socketserver.install()   # first thing in the program
    import http.server            # now built on the Go-backed module

    python -m gopy_socketserver -m http.server 8000
    python -m gopy_socketserver myserver.py args...

    GOPY_SOCKETSERVER=1 python myserver.py args...

The environment variable is read at every interpreter start by the
``gopy_socketserver.pth`` file that ``pip install`` puts in site-packages
(the way coverage.py measures subprocesses), so every child process
inherits the activation, including a program that re-executes itself with
a command line of its own (an autoreloader).  ``python -m
gopy_socketserver`` sets it for the program it runs.
"""

import importlib.util
import os
import sys
import types
import warnings

__all__ = ["install"]

#: The environment variable that activates the drop-in at interpreter start
#: ("1"; anything else leaves the standard module).
ENV = "GOPY_SOCKETSERVER"


def install() -> types.ModuleType:
    """Make ``import socketserver`` give the Go-backed module, and return it.

    Idempotent.  If the standard library's module was imported already,
    modules that imported it keep it; a RuntimeWarning says so.
    """
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "socketserver.py")
    current = sys.modules.get("socketserver")
    if current is not None and getattr(current, "__file__", None) == path:
        return current
    if current is not None:
        warnings.warn(
            f"socketserver was already imported from {current.__file__}; modules that "
            "imported it before install() keep using it",
            RuntimeWarning,
            stacklevel=2,
        )
    spec = importlib.util.spec_from_file_location("socketserver", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["socketserver"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if current is None:
            del sys.modules["socketserver"]
        else:
            sys.modules["socketserver"] = current
        raise
    return module


def _activate_from_env() -> None:
    """Called by gopy_socketserver.pth at interpreter start when ENV is set.

    A failure is reported on stderr and leaves the standard module: an
    interpreter must still start.
    """
    if os.environ.get(ENV) != "1":
        return
    try:
        install()
    except Exception as exc:
        print(f"gopy_socketserver: {ENV}=1 but the drop-in failed: {exc!r}", file=sys.stderr)
