#!/usr/bin/env bash
# Check pyref/socketserver.py against typeshed's stub with mypy's stubtest.
#   usage: stubtest.sh PYTHON STUB
# stubtest compares the module that imports as `socketserver` with the stub
# that mypy finds for it.  A copy of mypy's bundled typeshed with the
# reference stub dropped in makes the stub exactly the one in ../shared, and
# PYTHONPATH=pyref makes the runtime module pyref's, not the stdlib's.
set -euo pipefail
py=$1 stub=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bundled=$("$py" -c 'import mypy, os; print(os.path.join(os.path.dirname(mypy.__file__), "typeshed"))')
cp -r "$bundled" "$tmp/typeshed"
cp "$stub" "$tmp/typeshed/stdlib/socketserver.pyi"
got=$(PYTHONPATH="$root/pyref" "$py" -c 'import socketserver; print(socketserver.__file__)')
[ "$got" = "$root/pyref/socketserver.py" ] || { echo "stubtest: imported $got, not pyref"; exit 1; }
PYTHONPATH="$root/pyref" "$py" -m mypy.stubtest socketserver \
    --custom-typeshed-dir "$tmp/typeshed" \
    --allowlist "$here/stubtest_allowlist.txt"
