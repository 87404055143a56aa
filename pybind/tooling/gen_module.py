"""Generate the C source of the _gosocketserver extension with pybindgen.

    python gen_module.py OUT.c

Every function is a thin wrapper over a gss_py_* function of the glue
(pybind/glue/gss_glue.h): pybindgen converts the arguments, and the glue
returns a new reference or NULL with the exception set, which pybindgen's
PyObject* return passes through untouched.  Go releases the GIL itself
around its blocking system calls, so no wrapper uses unblock_threads.
"""

import sys

from pybindgen import FileCodeSink, Module, param, retval


def obj(name: str) -> param:
    return param("PyObject*", name, transfer_ownership=False)


def build() -> Module:
    mod = Module("_gosocketserver")
    mod.add_include('"gss_glue.h"')
    result = retval("PyObject*", caller_owns_return=True)
    functions = [
        ("init", "gss_py_init", [obj("unpack")]),
        ("serve_forever", "gss_py_serve_forever", [obj("call")]),
        ("handle_request", "gss_py_handle_request", [obj("call")]),
        ("contract", "gss_py_contract", []),
        ("stats", "gss_py_stats", []),
    ]
    for name, c_name, params in functions:
        mod.add_function(c_name, result, params, custom_name=name)
    return mod


def main() -> int:
    with open(sys.argv[1], "w") as out:
        build().generate(FileCodeSink(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
