#!/usr/bin/env bash
# Run CPython's test_socketserver (3.14's and 3.11's, 27 tests each) against
# an implementation and fail unless all 54 pass with none skipped.
#   usage: conformance.sh PYTHON SHARED IMPL [IMPL ...]
set -euo pipefail
py=$1 shared=$2; shift 2
status=0
for impl in "$@"; do
    log=$(mktemp)
    CONFORMANCE_VERBOSE=0 "$py" "$shared/conformance/run_cpython_tests.py" "$impl" ss314 ss311 \
        >"$log" 2>&1 || true
    last=$(tail -n 1 "$log")
    if [ "$last" = "54 passed, 0 failed, 0 skipped" ]; then
        echo "conformance $impl: $last"
    else
        echo "conformance $impl: FAILED ($last)"
        grep -E '^(FAILED|SKIPPED|ERROR|FAIL:|Traceback)' "$log" | head -40 || true
        status=1
    fi
    rm -f "$log"
done
exit $status
