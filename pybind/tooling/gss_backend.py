"""The project's PEP 517 build backend: setuptools', unchanged.

pyproject.toml names this module (with backend-path pointing here) only so
that gss_build, which holds the build_ext and build_py commands named in
[tool.setuptools.cmdclass], is importable while setuptools reads the
configuration.  Everything else is setuptools.build_meta.
"""

from setuptools.build_meta import *  # noqa: F403
