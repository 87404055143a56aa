"""One leg of the interpreter matrix, run by the interpreter under test.

    python leg.py build WORK
    python leg.py test WORK WHEEL REPO SHARED IMPLS CONFORMANCE PINS...

``build``: a wheel of gopy_socketserver from WORK/src (a copy of the
checkout's sources) with WORK/go's prebuilt Go archive (GSS_GO_ARCHIVE_DIR:
only the C part is compiled for this interpreter), through pip's isolated
PEP 517 build, into WORK/wheel.

``test``: a fresh venv WORK/venv, used on a PATH that holds only that venv
(no Go, no compiler): pip installs WHEEL (no index, no build) and PINS
(pytest, pytest-timeout), then

1. tests/matrix/wheel_check.py: one real HTTP request on 127.0.0.1 through
   ``gopy_socketserver.install()``;
2. CPython's own 27 tests of test_socketserver on the installed drop-in:
   CONFORMANCE ``regrtest`` runs this interpreter's own test.test_socketserver
   through its regrtest (CPython 3.14), ``runner`` runs 3.14's copy through
   SHARED/conformance/run_cpython_tests.py;
3. the shared pytest suite of REPO/tests with SS_IMPLS=IMPLS and SS_GO_PATH
   naming the installed module.

It prints one line per implementation, ``drop-in on CPython X.Y.Z: N passed,
M failed`` (the conformance tests, ``go``'s tests and the suite's tests of
no implementation), ``pyref on CPython X.Y.Z: ...`` and ``stdlib314 on
CPython X.Y.Z: ...`` when IMPLS has them; a debug build's version ends in
its ABI flag (``3.14.10d``). Details go to WORK/leg.log. Exit status 0 only
when every count has 0 failed.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERSION = platform.python_version() + sys.abiflags
STEP_TIMEOUT = {"venv": 120, "pip": 300, "check": 90, "conformance": 300, "pytest": 420}


class Leg:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.log = open(work / "leg.log", "a", buffering=1)

    def say(self, text: str) -> None:
        self.log.write(f"--- {text}\n")

    def run(
        self,
        step: str,
        args: list[str],
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        check: bool = True,
    ) -> tuple[int, str]:
        """Run *args* with a time limit; its output goes to the log and is returned."""
        self.say(f"{step}: {' '.join(args)}")
        proc = subprocess.Popen(
            args,
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        try:
            out, _ = proc.communicate(timeout=STEP_TIMEOUT[step.split()[0]])
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            self.log.write(out)
            self.say(f"{step}: TIMED OUT after {STEP_TIMEOUT[step.split()[0]]} s")
            if check:
                raise SystemExit(f"leg: {step} timed out") from None
            return -1, out
        self.log.write(out)
        self.say(f"{step}: exit status {proc.returncode}")
        if check and proc.returncode != 0:
            tail = "\n".join(out.splitlines()[-15:])
            raise SystemExit(f"leg: {step} failed (exit {proc.returncode}):\n{tail}")
        return proc.returncode, out


def build(work: Path) -> int:
    leg = Leg(work)
    venv = work / "bvenv"
    leg.run("venv build", [sys.executable, "-m", "venv", str(venv)])
    env = dict(os.environ, GSS_GO_ARCHIVE_DIR=str(work / "go"), PIP_DISABLE_PIP_VERSION_CHECK="1")
    leg.run(
        "pip wheel",
        [
            *(str(venv / "bin" / "python"), "-m", "pip", "wheel", "--no-deps", "-q"),
            *("--wheel-dir", str(work / "wheel"), str(work / "src")),
        ],
        env=env,
    )
    shutil.rmtree(venv)
    return 0


def pytest_buckets(out: str) -> dict[str, dict[str, int]]:
    """The per-implementation counts of conftest's "socketserver implementations" section."""
    buckets: dict[str, dict[str, int]] = {}
    in_section = False
    for line in out.splitlines():
        if "socketserver implementations" in line:
            in_section = True
            continue
        if not in_section:
            continue
        m = re.fullmatch(r"(stdlib\d*|pyref|go|\(none\)): (.*)", line.strip())
        if m is None:
            if line.startswith("FEATURES rows") or line.startswith("="):
                break
            continue
        counts = buckets.setdefault(m.group(1), {})
        for n, outcome in re.findall(r"(\d+) (\w+)", m.group(2)):
            counts[outcome] = counts.get(outcome, 0) + int(n)
    return buckets


def passed_failed(counts: dict[str, int]) -> tuple[int, int]:
    # A strict xfail that passes is already "failed"; a non-strict one passed.
    failed = counts.get("failed", 0) + counts.get("error", 0)
    return counts.get("passed", 0) + counts.get("xpassed", 0), failed


def test(work: Path, wheel: str, repo: Path, shared: Path, impls: str, conf: str, pins: list[str]):
    leg = Leg(work)
    venv = work / "venv"
    leg.run("venv test", [sys.executable, "-m", "venv", str(venv)])
    py = str(venv / "bin" / "python")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"CC", "CXX", "GOROOT", "GOPATH", "PYTHONPATH", "VIRTUAL_ENV"}
    }
    env.update(PATH=str(venv / "bin"), PYTHONDONTWRITEBYTECODE="1", PYTHONNOUSERSITE="1")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    leg.run(
        "pip install wheel",
        [py, "-m", "pip", "install", "-q", "--no-index", "--no-deps", wheel],
        env=env,
    )
    leg.run(
        "pip install pins",
        [py, "-m", "pip", "install", "-q", "--only-binary=:all:", *pins],
        env=env,
    )
    leg.run(
        "check wheel",
        [py, str(HERE / "wheel_check.py"), str(repo / "tests" / "tools" / "installed_check.py")],
        env=env,
        cwd=work,
    )
    _, out = leg.run(
        "check path",
        [
            py,
            "-c",
            "import gopy_socketserver, os; print(os.path.dirname(gopy_socketserver.__file__))",
        ],
        env=env,
        cwd=work,
    )
    module = Path(out.strip().splitlines()[-1]) / "socketserver.py"

    # CPython's own 27 tests on the installed drop-in.
    if conf == "regrtest":
        rc, out = leg.run(
            "conformance regrtest",
            [py, str(HERE / "regrtest_dropin.py")],
            env=env,
            cwd=work,
            check=False,
        )
        m = re.search(r"^Total tests: run=(\d+)(?: failures=(\d+))?(?: skipped=(\d+))?", out, re.M)
        run, fails, skips = (int(g or 0) for g in m.groups()) if m else (0, 0, 0)
        c_passed, c_failed = run - fails - skips, fails
        ok = "Result: SUCCESS" in out and "regrtest_dropin: socketserver was " + str(module) in out
    else:
        runner = str(shared / "conformance" / "run_cpython_tests.py")
        cenv = dict(env, CONFORMANCE_VERBOSE="0")
        rc, out = leg.run(
            "conformance runner",
            [py, runner, str(module), "ss314"],
            env=cenv,
            cwd=work,
            check=False,
        )
        last = out.strip().splitlines()[-1] if out.strip() else ""
        m = re.fullmatch(r"(\d+) passed, (\d+) failed, (\d+) skipped", last)
        c_passed, c_failed, skips = (int(g) for g in m.groups()) if m else (0, 0, 0)
        ok = m is not None and f"socketserver is {module}" in out
    if skips:
        leg.say(f"conformance: {skips} skipped")
    if rc != 0 or not ok or c_passed != 27:
        c_failed = max(c_failed, 1)
        leg.say(f"conformance: FAILED (exit {rc}, {c_passed} passed of 27)")

    # The shared suite.
    penv = dict(env, SS_GO_PATH=str(module), SS_IMPLS=impls)
    rc, out = leg.run(
        "pytest",
        [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--ignore=tests/bench", "tests"],
        env=penv,
        cwd=repo,
        check=False,
    )
    buckets = pytest_buckets(out)
    lines = []
    status = 0
    for impl in impls.split(","):
        p, f = passed_failed(buckets.get(impl, {}))
        if impl == "go":
            np, nf = passed_failed(buckets.get("(none)", {}))
            p, f = p + np + c_passed, f + nf + c_failed
            if rc != 0 and f == 0:  # pytest failed outside any test (collection, internal error)
                f = 1
            name = "drop-in"
        elif impl == "pyref":
            name = "pyref"
        else:
            name = impl
        if p == 0:  # nothing ran is never a pass
            f = max(f, 1)
        status |= f != 0
        lines.append(f"{name} on CPython {VERSION}: {p} passed, {f} failed")
    for line in lines:
        leg.say(line)
        print(line, flush=True)
    if status:
        for line in out.splitlines():
            if line.startswith(("FAILED", "ERROR")):
                print(f"  [{VERSION}] {line}", flush=True)
    return status


def main() -> int:
    mode, work = sys.argv[1], Path(sys.argv[2])
    if mode == "build":
        return build(work)
    wheel, repo, shared, impls, conf, *pins = sys.argv[3:]
    return test(work, wheel, Path(repo), Path(shared), impls, conf, pins)


if __name__ == "__main__":
    sys.exit(main())
