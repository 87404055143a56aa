"""The standard library's own socketserver consumers run unchanged (CONSUMERS.md).

http.server, xmlrpc.server, logging.config and wsgiref bind their base
classes at import time, so each scenario runs in a fresh interpreter that
installs the implementation as ``socketserver`` before importing them
(tests/tools/consumer_probe.py).  The probe reports which module the
consumer's classes were built on, so a substitution that silently fell back
to the stdlib would fail here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import support

PROBE = support.REPO / "tests" / "tools" / "consumer_probe.py"


def run_probe(impl: str, scenario: str) -> dict[str, Any]:
    target = "stdlib" if support.is_stdlib(impl) else str(support.impl_path(impl))
    done = subprocess.run(
        [sys.executable, str(PROBE), target, scenario],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"probe failed:\n{done.stdout}\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if not support.is_stdlib(impl):
        # The consumer really ran on the implementation under test.
        assert result["socketserver_file"] == target
        assert result["base_file"] == target
    assert result["base"] == "socketserver"
    return result


@pytest.mark.features("J1", "G1", "C7", "B17")
def test_http_server_threading(impl: str) -> None:
    result = run_probe(impl, "http_server")
    assert result["bodies"] == ["hello from http.server\n"] * 3
    assert result["daemon_threads"] is True


@pytest.mark.features("C6", "J1")
def test_xmlrpc_server(impl: str) -> None:
    result = run_probe(impl, "xmlrpc_server")
    assert result["results"] == [5, "ab", ["add", "system.listMethods"]]


@pytest.mark.features("B7", "J5", "I7")
def test_logging_config_listener(impl: str) -> None:
    result = run_probe(impl, "logging_config")
    assert result["level"] == 30  # WARNING, applied from the config sent
    assert result["alive"] is False


@pytest.mark.features("J1")
def test_wsgiref_server(impl: str) -> None:
    result = run_probe(impl, "wsgiref_server")
    assert result["body"] == "wsgi says hi to /probe"
