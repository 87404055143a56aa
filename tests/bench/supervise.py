"""Process supervision: the servers under test, each in its own session, always reaped.

Every process started here runs in its own session and is stopped (its
stdin closed, SIGTERM, then SIGKILL to its process group) and reaped even
when the run fails; every wait has a time limit. The bench process adopts
orphaned grandchildren (a killed forking server's children) to reap them.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from specs import REPO, Run, ServerSpec, Tools

#: How long a server may take to print READY, and to stop.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class ServerProcess:
    """A server under test in its own session; stop() always leaves nothing behind."""

    def __init__(self, cmd: list[str], stderr_path: Path) -> None:
        self.cmd = cmd
        self.stderr_path = stderr_path
        with open(stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                cwd=REPO,
                start_new_session=True,
            )
        self.pid = self.proc.pid
        self.info: dict[str, Any] = {}
        self.killed = False

    def wait_ready(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = read_line(self.proc.stdout, timeout)
        if not line.startswith("READY "):
            raise RuntimeError(
                f"server did not start ({self.cmd[0]} ... exit {self.proc.poll()}): "
                f"{line.strip()!r} {self.stderr_tail()}"
            )
        self.info = json.loads(line[len("READY ") :])
        return self.info

    def stderr_tail(self, lines: int = 6) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def stderr_lines(self) -> int:
        try:
            return len(self.stderr_path.read_text(errors="replace").splitlines())
        except OSError:
            return 0

    def kill(self) -> None:
        """SIGKILL the process group at once and reap the server.

        For the idle-connection runs: a graceful stop of a server holding
        10,000 Python threads takes up to a minute (each thread must take the
        GIL to finish, then server_close() joins them one by one), which is
        not what is measured there.
        """
        self.killed = True
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(STOP_TIMEOUT)
        reap_orphans()

    def stop(self) -> int | None:
        """Close stdin, SIGTERM, wait; SIGKILL the process group; reap."""
        with suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        if self.proc.poll() is None:
            with suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(STOP_TIMEOUT)
        code = self.proc.poll()
        # Whatever is left of the group (a hung server, forked children).
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        if code is None:
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(STOP_TIMEOUT)
        with suppress(OSError):
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        reap_orphans()
        return code


def read_line(stream: IO[bytes], timeout: float) -> str:
    """Read one whole line from a pipe within *timeout* seconds ('' on EOF or timeout)."""
    fd = stream.fileno()
    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, 1)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace") if data.endswith(b"\n") else ""


def become_subreaper() -> None:
    """Adopt orphaned grandchildren (a killed forking server's children) to reap them."""
    with suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def reap_orphans() -> None:
    """Reap adopted children that have exited (never blocks)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


@contextmanager
def running(run: Run, spec: ServerSpec, tag: str) -> Iterator[ServerProcess]:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", f"{spec.name}-{spec.transport}-{tag}").strip("-")
    server = ServerProcess(spec.command(run.tools, run.address(spec)), run.tmp / f"{slug}.err")
    try:
        server.wait_ready(START_TIMEOUT)
        yield server
    finally:
        code = server.stop()
        if code not in (0, None, -signal.SIGTERM) and not server.killed:
            run.progress(f"  note: {spec.name} exited with {code}: {server.stderr_tail()}")


def raise_nofile() -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft, hard


def build_tools(out: Path) -> Tools:
    go = os.environ.get("GO", "go")
    if shutil.which(go) is None:
        raise SystemExit(f"bench: {go!r} not found: Go 1.26 is needed to build pkg/cmd")
    bindir = out / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    tools = Tools(ssload=bindir / "ssload", ssecho=bindir / "ssecho")
    for name in ("ssload", "ssecho"):
        subprocess.run(
            [go, "build", "-o", str(bindir / name), f"./pkg/cmd/{name}"],
            cwd=REPO,
            check=True,
            timeout=600,
        )
    return tools
