"""Build the _gosocketserver extension.

Three steps, all into a build directory (nothing generated is committed):

1. ``go build -buildmode=c-archive`` of pybind/capi, giving
   libgosocketserver.a and its header (or, when GSS_GO_ARCHIVE_DIR names a
   folder holding them, those: the archive is the same for every
   interpreter);
2. pybindgen generates the module's C source (gen_module.py);
3. the generated source and the hand-written glue are compiled and linked
   with the archive into one self-contained extension module.

Used two ways: ``python pybind/tooling/gss_build.py`` builds the module
into pybind/ for development (``make``), and the setuptools command
``BuildExt`` below runs the same steps for ``pip install .``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from setuptools import Distribution, Extension
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYBIND = os.path.join(ROOT, "pybind")
NAME = "_gosocketserver"
#: A folder holding a prebuilt libgosocketserver.a and its header: step 1 is
#: skipped (tests/matrix builds the archive once for every interpreter).
PREBUILT_ENV = "GSS_GO_ARCHIVE_DIR"


def prepare(ext: Extension, build_temp: str) -> None:
    """Run steps 1 and 2 and point *ext* at their output."""
    out = os.path.abspath(os.path.join(build_temp, "gosocketserver"))
    os.makedirs(out, exist_ok=True)
    prebuilt = os.environ.get(PREBUILT_ENV)
    if prebuilt:
        # The archive does not depend on the interpreter: the wheel matrix
        # builds it once and builds only the C part per interpreter.
        archive_dir = os.path.abspath(prebuilt)
        archive = os.path.join(archive_dir, "libgosocketserver.a")
        if not os.path.exists(archive):
            raise FileNotFoundError(f"{PREBUILT_ENV}: no {archive}")
    else:
        archive_dir = out
        archive = os.path.join(out, "libgosocketserver.a")
        subprocess.run(
            ["go", "build", "-buildmode=c-archive", "-o", archive, "./pybind/capi"],
            cwd=ROOT,
            check=True,
        )
    generated = os.path.join(out, NAME + ".c")
    subprocess.run(
        [sys.executable, os.path.join(PYBIND, "tooling", "gen_module.py"), generated],
        check=True,
    )
    ext.sources = [generated, os.path.join(PYBIND, "glue", "gss_glue.c")]
    ext.include_dirs = [
        out,
        archive_dir,
        os.path.join(PYBIND, "glue"),
        os.path.join(PYBIND, "capi"),
    ]
    ext.extra_objects = [archive]
    ext.libraries = ["pthread"]
    ext.depends = [archive]


class BuildExt(build_ext):
    """build_ext that first builds the Go archive and the pybindgen source."""

    def build_extension(self, ext: Any) -> None:
        if ext.name.endswith(NAME):
            prepare(ext, self.build_temp)
        super().build_extension(ext)


#: Read by site at every interpreter start (lines that begin with "import"
#: are executed): loads the package only when GOPY_SOCKETSERVER is set.
PTH_NAME = "gopy_socketserver.pth"
PTH_LINE = (
    "import os; os.environ.get('GOPY_SOCKETSERVER') == '1' and "
    "__import__('gopy_socketserver')._activate_from_env()\n"
)


class BuildPy(build_py):
    """build_py that also ships pyref, which the Go-backed module builds on,
    and gopy_socketserver.pth at the top of site-packages."""

    def run(self) -> None:
        super().run()
        target = os.path.join(self.build_lib, "gopy_socketserver", "_pyref_socketserver.py")
        self.copy_file(os.path.join(ROOT, "pyref", "socketserver.py"), target)
        with open(os.path.join(self.build_lib, PTH_NAME), "w") as pth:
            pth.write(PTH_LINE)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), os.path.join(self.build_lib, PTH_NAME)]


def main() -> int:
    """Build the module in place, into pybind/."""
    dist = Distribution({"name": "gopy-socketserver", "ext_modules": [Extension(NAME, [])]})
    cmd = BuildExt(dist)
    cmd.build_lib = PYBIND
    cmd.build_temp = os.path.join(ROOT, "build")
    cmd.ensure_finalized()
    cmd.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
