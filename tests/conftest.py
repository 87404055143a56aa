"""One suite, run against every implementation of socketserver.

The ``ss`` fixture yields the module under test; the test ids name it:

* ``stdlib``: this interpreter's own ``socketserver`` (CPython 3.11); on
  another interpreter it is named after it, e.g. ``stdlib314`` on CPython
  3.14, where no differs_311 mark applies (support.STDLIB);
* ``pyref``: ``pyref/socketserver.py``, the typed reference of CPython 3.14;
* ``go``: ``pybind/socketserver.py``, the Go-backed module, collected once
  that file exists (if it exists but fails to import, its tests error);
  SS_GO_PATH names an installed copy instead.

SS_IMPLS (e.g. ``go`` or ``stdlib314,pyref``) deselects the other
implementations' tests after collection (the FEATURES citations still see
every pyref test); tests of no implementation always run.  test_pybind.py's
tests count as ``go``'s.

Each non-stdlib module is executed from its file under the module name
``socketserver`` (its classes have ``__module__ == 'socketserver'``, A8)
without replacing the stdlib entry in ``sys.modules`` (see support.py).

Markers:

* ``features(*ids)``: the FEATURES.md rows a test covers.  test_features.py
  fails unless every row A1..J5 is cited by a test that runs against pyref.
* ``differs_311(reason, raises=Exc)``: CPython 3.11's module behaves differently from
  3.14 here (../shared/reference/DIFF_3_11_to_3_14.md); the stdlib case is
  marked ``xfail(strict=True, raises=Exc)``, so the difference stays visible,
  a failure for any other reason is still a failure, and the mark fails
  loudly if it ever stops being true.
* ``python_internals(reason)``: the test replaces a module global (the
  selector class, the clock) that only a module written in Python looks up;
  the Go-backed module's case is skipped with that reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import support

FEATURES_DUMP_ENV = "SS_FEATURES_DUMP"
IMPLS_ENV = "SS_IMPLS"
_CITED = pytest.StashKey[dict[str, list[str]]]()
_IMPL_OF = pytest.StashKey[dict[str, str]]()
_RAN_ALL = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "features(*ids): the FEATURES.md row ids (A1..J5) this test covers"
    )
    config.addinivalue_line(
        "markers",
        "differs_311(reason): CPython 3.11's socketserver differs from 3.14 here;"
        " the stdlib case is xfail(strict=True)",
    )
    config.addinivalue_line(
        "markers",
        "python_internals(reason): replaces module globals that only a pure-Python"
        " module looks up; skipped for the Go-backed module",
    )
    config.stash[_CITED] = {}
    config.stash[_IMPL_OF] = {}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "ss" in metafunc.fixturenames:
        metafunc.parametrize("ss", support.implementation_names(), indirect=True, ids=str)


def item_impl(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    value = callspec.params.get("ss")
    return value if isinstance(value, str) else None


def pytest_itemcollected(item: pytest.Item) -> None:
    """Record the rows cited by pyref tests (before any -k/-m deselection), add marks."""
    impl = item_impl(item)
    if impl is not None:
        item.config.stash[_IMPL_OF][item.nodeid] = impl
    elif item.path.name == "test_pybind.py":
        item.config.stash[_IMPL_OF][item.nodeid] = "go"
    if impl == "pyref":
        for mark in item.iter_markers("features"):
            for row in mark.args:
                item.config.stash[_CITED].setdefault(row, []).append(item.nodeid)
    if impl == "stdlib":
        mark = item.get_closest_marker("differs_311")
        if mark is not None:
            reason = mark.args[0] if mark.args else mark.kwargs["reason"]
            item.add_marker(
                pytest.mark.xfail(
                    strict=True,
                    raises=mark.kwargs.get("raises"),
                    reason=f"3.11 differs from 3.14 ({support.DIFF_MD.name}): {reason}",
                )
            )
    if impl == "go":
        mark = item.get_closest_marker("python_internals")
        if mark is not None:
            item.add_marker(
                pytest.mark.skip(
                    reason="replaces a module global that a Go-backed module does not "
                    f"look up: {mark.args[0]}"
                )
            )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep only the implementations named by SS_IMPLS, when it is set."""
    wanted = os.environ.get(IMPLS_ENV)
    if not wanted:
        return
    keep = set(wanted.split(","))
    impl_of = config.stash[_IMPL_OF]
    keep.add("")
    selected = [i for i in items if impl_of.get(i.nodeid, "") in keep]
    deselected = [i for i in items if impl_of.get(i.nodeid, "") not in keep]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def pytest_collection_finish(session: pytest.Session) -> None:
    files = {Path(str(item.path)).name for item in session.items}
    here = Path(__file__).resolve().parent
    session.config.stash[_RAN_ALL] = all(p.name in files for p in here.glob("test_*.py"))
    dump = os.environ.get(FEATURES_DUMP_ENV)
    if dump:
        Path(dump).write_text(json.dumps(session.config.stash[_CITED]))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print the outcome counts per implementation (stdlib, pyref, go)."""
    impl_of = config.stash[_IMPL_OF]
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "error", "xfailed", "xpassed", "skipped"):
        seen: set[str] = set()
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if nodeid in seen or not nodeid:
                continue
            seen.add(nodeid)
            impl = impl_of.get(nodeid, "(none)")
            bucket = counts.setdefault(impl, {})
            bucket[outcome] = bucket.get(outcome, 0) + 1
    if not counts:
        return
    terminalreporter.section("socketserver implementations")
    for impl in [*support.implementation_names(), "(none)"]:
        if impl in counts:
            text = ", ".join(f"{n} {outcome}" for outcome, n in counts[impl].items())
            terminalreporter.write_line(f"{impl}: {text}")
    # Which FEATURES rows a *passing* pyref test proves (a skipped or failed
    # test cites a row without proving it).
    passed = {r.nodeid for r in terminalreporter.stats.get("passed", []) if r.when == "call"}
    proven = {row for row, nodes in config.stash[_CITED].items() if passed.intersection(nodes)}
    required = support.required_rows()
    missing = [row for row in required if row not in proven]
    line = f"FEATURES rows A1..J5 proven by a passing pyref test: {len(required) - len(missing)}"
    line += f"/{len(required)}"
    ran_all = config.stash.get(_RAN_ALL, False)
    if missing and ran_all:
        line += f" (not proven: {' '.join(missing)})"
    elif not ran_all:
        line += " (only part of tests/ was collected)"
    terminalreporter.write_line(line)


def cited_rows(config: pytest.Config) -> dict[str, list[str]]:
    """FEATURES row id -> node ids of the collected pyref tests citing it."""
    return config.stash[_CITED]


@pytest.fixture
def ss(request: pytest.FixtureRequest) -> types.ModuleType:
    """The socketserver implementation under test."""
    return support.load_implementation(request.param)


@pytest.fixture
def impl(request: pytest.FixtureRequest, ss: types.ModuleType) -> str:
    """The name of the implementation under test: stdlib (or stdlib314...), pyref or go."""
    name = item_impl(request.node)
    assert name is not None
    return name


@pytest.fixture(autouse=True)
def no_child_left() -> Iterator[None]:
    """Every forked child is reaped by the end of its test: no zombies, no strays."""
    before = {pid for pid, _ in support.child_processes()}
    yield
    left = [(p, state) for p, state in support.child_processes() if p not in before]
    for pid, _ in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    assert not left, f"children left unreaped (pid, state): {left}"


@pytest.fixture
def harness() -> Iterator[support.Harness]:
    """Servers registered here are shut down and closed when the test ends."""
    h = support.Harness()
    try:
        yield h
    finally:
        h.close_all()


@pytest.fixture
def tracer() -> Iterator[support.Tracer]:
    t = support.Tracer()
    try:
        yield t
    finally:
        t.close()


@pytest.fixture
def sockdir(tmp_path: Path) -> Path:
    """A directory for Unix socket paths, short enough for sun_path (108 bytes)."""
    assert len(str(tmp_path / "server.sock")) < 100, tmp_path
    return tmp_path
