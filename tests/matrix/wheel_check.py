"""Run by leg.sh in a fresh venv where only the wheel was installed.

Checks that no Go toolchain and no C compiler is on PATH (the wheel must not
need them), that gopy_socketserver was installed from a wheel (no build
step), then serves one real HTTP request on 127.0.0.1 through install()
(tests/tools/installed_check.py, whose client has a socket timeout).
"""

import os
import runpy
import shutil
import sys

found = {tool: shutil.which(tool) for tool in ("go", "gcc", "cc", "clang", "c99")}
assert not any(found.values()), f"PATH must have no Go and no compiler here: {found}"
import gopy_socketserver  # noqa: E402

package = os.path.dirname(gopy_socketserver.__file__)
assert package.startswith(sys.prefix), f"not installed in this venv: {package}"
print("wheel_check: no go/gcc/cc/clang on PATH; package in", package, flush=True)
runpy.run_path(sys.argv[1], run_name="__main__")
