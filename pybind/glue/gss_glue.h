/* The functions of the _gosocketserver module, implemented in gss_glue.c
   and wrapped by the code pybindgen generates (pybind/tooling/gen_module.py).
   Each returns a new reference, or NULL with a Python exception set.
   A number of seconds is NaN for None. */
#ifndef GSS_GLUE_H
#define GSS_GLUE_H

#include <Python.h>

/* Set up once, with the Python layer's `a, b = value` helper; returns
   whether Go may read socket objects' descriptors (then it accepts and
   receives itself for CPython's get_request). */
PyObject *gss_py_init(PyObject *unpack);
/* serve_forever() and handle_request() for one call, described by the
   Python layer's _Call object (gss_api.h: gss_call). */
PyObject *gss_py_serve_forever(PyObject *call);
PyObject *gss_py_handle_request(PyObject *call);
/* The hook names and get modes of gss_api.h, as a dict. */
PyObject *gss_py_contract(void);
PyObject *gss_py_stats(void);

#endif
