"""Where the implementations are and how they load: paths, FEATURES.md rows, modules."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import types
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FEATURES_MD = SHARED / "reference" / "FEATURES.md"
DIFF_MD = SHARED / "reference" / "DIFF_3_11_to_3_14.md"

PYREF_PATH = REPO / "pyref" / "socketserver.py"
#: The Go-backed module: the checkout's, or an installed copy named by SS_GO_PATH
#: (the interpreter matrix runs the suite against the wheel it installed).
GO_PATH = Path(os.environ.get("SS_GO_PATH") or REPO / "pybind" / "socketserver.py")

#: This interpreter's own module as an implementation: ``stdlib`` on CPython
#: 3.11 (the oracle whose differences from 3.14 are marked differs_311), else
#: ``stdlib`` and the version, e.g. ``stdlib314`` on CPython 3.14.
_MAJOR, _MINOR = sys.version_info[:2]
STDLIB = "stdlib" if (_MAJOR, _MINOR) == (3, 11) else f"stdlib{_MAJOR}{_MINOR}"


# --- FEATURES.md ----------------------------------------------------------------

_ROW = re.compile(r"^\|\s*([A-K]\d+)\s*\|", re.MULTILINE)


def feature_rows() -> list[str]:
    """Every row id of FEATURES.md (A1..K16), in order."""
    return _ROW.findall(FEATURES_MD.read_text())


def required_rows() -> list[str]:
    """The rows every implementation's tests must cover: sections A to J."""
    return [row for row in feature_rows() if row[0] in "ABCDEFGHIJ"]


# --- implementations ----------------------------------------------------------


def is_stdlib(name: str) -> bool:
    """Whether *name* is the interpreter's own module (stdlib, stdlib314, ...)."""
    return name == STDLIB


def implementation_names() -> list[str]:
    names = [STDLIB, "pyref"]
    if GO_PATH.exists():
        names.append("go")
    return names


def impl_path(name: str) -> Path:
    if is_stdlib(name):
        import socketserver

        assert socketserver.__file__ is not None
        return Path(socketserver.__file__)
    if name == "pyref":
        return PYREF_PATH
    if name == "go":
        return GO_PATH
    raise ValueError(f"unknown implementation {name!r}")


def load_from_path(path: Path) -> types.ModuleType:
    """Execute *path* as a fresh module named ``socketserver``.

    ``sys.modules['socketserver']`` holds the new module only while its body
    runs; the previous entry is restored afterwards, so the stdlib parameter
    keeps its own module and the implementations never see each other.
    """
    spec = importlib.util.spec_from_file_location("socketserver", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get("socketserver")
    sys.modules["socketserver"] = module
    try:
        spec.loader.exec_module(module)
    finally:
        if previous is None:
            del sys.modules["socketserver"]
        else:
            sys.modules["socketserver"] = previous
    return module


_MODULES: dict[str, types.ModuleType] = {}


def load_implementation(name: str) -> types.ModuleType:
    """The module for *name*, loaded once per test session."""
    if name not in _MODULES:
        if is_stdlib(name):
            import socketserver

            _MODULES[name] = socketserver
        else:
            _MODULES[name] = load_from_path(impl_path(name))
    return _MODULES[name]
