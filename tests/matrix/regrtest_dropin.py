"""Run CPython's own test.test_socketserver through its regrtest, on the drop-in.

    python regrtest_dropin.py

For an interpreter whose test package has the 3.14 test (CPython 3.14): the
installed gopy_socketserver becomes ``socketserver`` first, then regrtest
runs test_socketserver in this process (no -j), so the test imports the
drop-in. The last line says which module was tested.
"""

import sys

import gopy_socketserver

dropin = gopy_socketserver.install()
sys.argv = ["regrtest", "-u", "network", "-v", "test_socketserver"]
from test.libregrtest.main import main  # noqa: E402

try:
    main()
finally:
    tested = sys.modules.get("socketserver")
    ok = tested is dropin
    print(f"regrtest_dropin: socketserver was {getattr(tested, '__file__', tested)}", flush=True)
    if not ok:
        print("regrtest_dropin: FAILED, the drop-in was not the module tested", flush=True)
        sys.exit(1)
