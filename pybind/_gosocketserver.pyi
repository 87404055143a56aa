# The _gosocketserver extension (pybind/tooling/gen_module.py wraps the
# gss_py_* functions of pybind/glue/gss_glue.h).  Every function raises
# RuntimeError in a process forked from one that loaded the extension.
from collections.abc import Callable
from typing import Any

def init(unpack: Callable[[Any], tuple[Any, Any]], /) -> bool:
    """Set up once; whether Go may read socket objects' descriptors."""

def contract() -> dict[str, Any]:
    """gss_api.h's hook names (in enum order) and get modes."""

def serve_forever(call: Any, /) -> None:
    """serve_forever() for one _Call; raises what ended the loop."""

def handle_request(call: Any, /) -> Any:
    """handle_request() for one _Call; handle_timeout()'s result or None."""

def stats() -> dict[str, int]:
    """Go's goroutines, runtime threads, heap allocations and serving yields so far."""
