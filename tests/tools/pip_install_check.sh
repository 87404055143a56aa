#!/usr/bin/env bash
# `pip install .` into a fresh venv, then serve one request through the
# installed drop-in (tests/tools/installed_check.py).
#   usage: pip_install_check.sh PYTHON
set -euo pipefail
py=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check pip==26.3
"$tmp/venv/bin/pip" install --quiet "$root"
cd "$tmp"  # away from the checkout: only the installed package can be imported
timeout 60 "$tmp/venv/bin/python" "$root/tests/tools/installed_check.py"
# Activation is inherited by a program that re-executes itself (issue 10
# defect 9), and is off without the environment variable.
out=$(timeout 120 "$tmp/venv/bin/python" -m gopy_socketserver "$root/tests/tools/reexec_check.py")
echo "$out"
grep -qx "parent: drop-in=True env=1" <<<"$out"
grep -qx "child: drop-in=True env=1" <<<"$out"
plain=$(timeout 60 "$tmp/venv/bin/python" -c 'import socketserver; print(socketserver.__file__)')
case $plain in *gopy_socketserver*) echo "drop-in active without GOPY_SOCKETSERVER: $plain"; exit 1;; esac
echo "activation: inherited by a re-executed child; off by default"
