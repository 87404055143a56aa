"""The differential fault suite's case for a process out of threads (issue 10, item 1).

tests/faults/thread_limit.py runs a ThreadingTCPServer as a user of its own
under a lowered RLIMIT_NPROC: CPython routes each failed ``Thread.start()``
to handle_error and keeps serving; the drop-in must do the same, and the Go
runtime inside it must never abort the process for want of a thread.
"""

from __future__ import annotations

import os

import pytest
from test_faults import check, ss  # noqa: F401 (ss: the name-only fixture)


@pytest.mark.skipif(os.geteuid() != 0, reason="RLIMIT_NPROC binds only a user root can drop to")
@pytest.mark.features("G5", "B8", "B16", "G6")
def test_thread_limit_threading_server_survives(impl: str) -> None:
    check(
        impl,
        "thread_limit",
        "nproc",
        expected={
            "some_served": True,
            "some_refused": True,
            "none_pending": True,
            "errors": ["RuntimeError: can't start new thread"],
            "after": "after\n",
            "shutdown": "returned",
            "server_close": "returned",
        },
    )
