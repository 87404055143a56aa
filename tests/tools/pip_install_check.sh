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
