/*
 * Hand-written glue between CPython and the Go archive.
 *
 * Two directions:
 *
 * - Python -> Go: the gss_py_* functions, wrapped by the pybindgen-generated
 *   module _gosocketserver.  Each is entered with the GIL held, calls into
 *   Go with it held (Go releases it around its blocking system calls), and
 *   turns an exception handed back by Go into a NULL return with the error
 *   set.
 *
 * - Go -> Python: the callbacks in gss_api.h.  Go runs the serving loop on
 *   the thread that called serve_forever()/handle_request(), holding its
 *   GIL as CPython's own loop does, and gives the GIL back only around
 *   blocking system calls (gss_release / gss_acquire).  So the callbacks
 *   are called with the GIL held, on the calling thread, and run there
 *   exactly as CPython's pure-Python loop would (signal handlers included).
 *
 * Fork: a child process must never run Go again (see BINDING_NOTES.md).
 * A pthread_atfork child handler sets gss_in_child; every entry point checks
 * it in plain C and raises RuntimeError instead of entering Go.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "gss_api.h"
#include "gss_glue.h"
#include "libgosocketserver.h"

static volatile int gss_in_child = 0;
static PyObject *socket_class;   /* socket.socket */
static PyObject *hook_names[GSS_NHOOKS];

/* The pthread_atfork child handler: any thread, GIL or not. */
static void gss_after_fork_child(void) { gss_in_child = 1; }

/* Whether to refuse entering Go (RuntimeError set).  GIL held. */
static int gss_refuse_in_child(void)
{
    if (gss_in_child) {
        PyErr_SetString(PyExc_RuntimeError,
                        "socketserver: the Go runtime cannot run in a forked "
                        "child; the child's request path is pure Python");
        return 1;
    }
    return 0;
}

/* Whether the interpreter is finalizing.  Any thread. */
static int gss_finalizing(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsFinalizing();
#else
    return _Py_IsFinalizing();
#endif
}

/* ---- exceptions ------------------------------------------------------- */

/* Take the pending exception, normalised, as a new reference.  GIL held. */
static gss_obj fetch_exception(int *kind)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL)
        return 0;
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL) {
        PyException_SetTraceback(value, tb);
        Py_DECREF(tb);
    }
    Py_DECREF(type);
    *kind = 0;
    if (PyObject_TypeCheck(value, (PyTypeObject *)PyExc_Exception))
        *kind |= GSS_EXC_EXCEPTION;
    if (PyObject_TypeCheck(value, (PyTypeObject *)PyExc_OSError))
        *kind |= GSS_EXC_OSERROR;
    return (gss_obj)value;
}

/* Make exc (stolen) the pending exception.  GIL held. */
static void raise_exception(gss_obj exc)
{
    PyObject *value = (PyObject *)exc;
    PyObject *type = (PyObject *)Py_TYPE(value);
    Py_INCREF(type);
    PyErr_Restore(type, value, PyException_GetTraceback(value));
}

/* ---- addresses -------------------------------------------------------- */

/* The Python form of a socket address, as the socket module builds it. */
static PyObject *make_address(const void *sa_, int salen)
{
    const struct sockaddr *sa = sa_;
    char host[INET6_ADDRSTRLEN];
    if (salen <= 0)
        Py_RETURN_NONE;
    switch (sa->sa_family) {
    case AF_INET: {
        const struct sockaddr_in *a = sa_;
        if (inet_ntop(AF_INET, &a->sin_addr, host, sizeof host) == NULL)
            return PyErr_SetFromErrno(PyExc_OSError);
        return Py_BuildValue("si", host, ntohs(a->sin_port));
    }
    case AF_INET6: {
        const struct sockaddr_in6 *a = sa_;
        if (inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host) == NULL)
            return PyErr_SetFromErrno(PyExc_OSError);
        return Py_BuildValue("siII", host, ntohs(a->sin6_port),
                             ntohl(a->sin6_flowinfo), a->sin6_scope_id);
    }
    case AF_UNIX: {
        const struct sockaddr_un *a = sa_;
        Py_ssize_t n = salen - (Py_ssize_t)offsetof(struct sockaddr_un, sun_path);
        if (n > 0 && a->sun_path[0] == 0) /* Linux abstract namespace */
            return PyBytes_FromStringAndSize(a->sun_path, n);
        if (n <= 0)
            return PyUnicode_FromString("");
        return PyUnicode_DecodeFSDefaultAndSize(a->sun_path, strnlen(a->sun_path, n));
    }
    }
    return Py_BuildValue("(iy#)", sa->sa_family, ((const char *)sa_) + 2,
                         (Py_ssize_t)(salen > 2 ? salen - 2 : 0));
}

/* ---- callbacks (Go -> Python) ---------------------------------------- */

/* The thread state of the serving call on this thread while Go has the GIL
   released (gss_api.h: release, acquire). */
static __thread PyThreadState *saved_tstate;

/* GIL held -> released. */
static void cb_release(void) { saved_tstate = PyEval_SaveThread(); }

/* GIL released -> held.  A daemon thread that wakes while the interpreter
   finalizes must not take the GIL: the interpreter would end the thread
   with pthread_exit under Go's frames.  It waits for the process to exit,
   as CPython 3.14 makes such threads wait. */
static void cb_acquire(void)
{
    if (gss_finalizing()) {
        for (;;)
            pause();
    }
    PyEval_RestoreThread(saved_tstate);
}

/* The head of CPython's socket object (Modules/socketmodule.h,
   PySocketSockObject): the descriptor follows the object header, the same
   in 3.11 through 3.14.  gss_py_init checks the layout on a live socket
   and, if it ever differs, Go is told to take Python's get_request. */
typedef struct {
    PyObject_HEAD
    int sock_fd;
} sock_head;

static int sock_layout_ok;

/* GIL held or not: sock is kept alive by the caller, and its descriptor
   is one aligned int that close() and detach() set to -1. */
static int cb_sock_fd(gss_obj sock)
{
    return __atomic_load_n(&((sock_head *)sock)->sock_fd, __ATOMIC_RELAXED);
}

/* Whether sock_head matches socket.socket: its descriptor read both ways,
   open and once detached.  GIL held. */
static int check_sock_layout(void)
{
    PyObject *sock = PyObject_CallNoArgs(socket_class);
    if (sock == NULL)
        return -1;
    PyObject *fileno = PyObject_CallMethod(sock, "fileno", NULL);
    long open_fd = fileno ? PyLong_AsLong(fileno) : -1;
    Py_XDECREF(fileno);
    int ok = open_fd >= 0 && cb_sock_fd((gss_obj)sock) == open_fd;
    PyObject *detached = PyObject_CallMethod(sock, "detach", NULL);
    if (detached == NULL) {
        Py_DECREF(sock);
        return -1;
    }
    ok = ok && cb_sock_fd((gss_obj)sock) == -1;
    close((int)open_fd);
    Py_DECREF(detached);
    Py_DECREF(sock);
    return ok;
}

/* Python's signal handlers, run now on this thread.  GIL held. */
static gss_obj cb_check_signals(int *kind)
{
    gss_obj exc = 0;
    if (PyErr_CheckSignals() < 0)
        exc = fetch_exception(kind);
    return exc;
}

/* The Python layer's _unpack2: `a, b = value; return a, b`, so that a bad
   result fails with this interpreter's own messages (they differ between
   versions). */
static PyObject *unpack_fn;

/* `a, b = value`: two new references, or -1 with the exception set.  GIL
   held. */
static int unpack2(PyObject *value, PyObject **a, PyObject **b)
{
    PyObject *pair = NULL;
    if (PyTuple_CheckExact(value) && PyTuple_GET_SIZE(value) == 2) {
        pair = Py_NewRef(value);
    } else {
        pair = PyObject_CallOneArg(unpack_fn, value);
        if (pair == NULL)
            return -1;
    }
    *a = Py_NewRef(PyTuple_GET_ITEM(pair, 0));
    *b = Py_NewRef(PyTuple_GET_ITEM(pair, 1));
    Py_DECREF(pair);
    return 0;
}

/* self.<hook>(a1[, a2]) and its result (gss_api.h: call_hook).  GIL held. */
static gss_obj cb_call_hook(gss_obj self, int hook, gss_obj a1, gss_obj a2, gss_obj *result,
                            gss_obj *result2, int *truth, int *kind)
{
    PyObject *args[3] = {(PyObject *)self, (PyObject *)a1, (PyObject *)a2};
    size_t nargs = 1 + (a1 != 0) + (a2 != 0);
    gss_obj exc = 0;
    PyObject *r = PyObject_VectorcallMethod(hook_names[hook], args,
                                            nargs | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    if (r == NULL)
        goto error;
    if (hook == GSS_GET_REQUEST) {
        PyObject *req, *addr;
        int rc = unpack2(r, &req, &addr);
        Py_DECREF(r);
        if (rc < 0)
            goto error;
        *result = (gss_obj)req;
        *result2 = (gss_obj)addr;
    } else if (hook == GSS_VERIFY_REQUEST) {
        int t = PyObject_IsTrue(r);
        Py_DECREF(r);
        if (t < 0)
            goto error;
        *truth = t;
    } else if (hook == GSS_HANDLE_TIMEOUT) {
        *result = (gss_obj)r; /* handle_request() returns it (B7) */
    } else {
        Py_DECREF(r);
    }
    return 0;
error:
    exc = fetch_exception(kind);
    return exc;
}

/* The request and the client address as Python makes them: for a
   descriptor Go accepted (fd >= 0), socket.socket(family, sotype, proto,
   fd), closing fd on failure; for a datagram, (bytes(data), server_socket).
   GIL held.  0 with two new references, or -1 with the exception set. */
static int make_request(int fd, int family, int sotype, int proto, PyObject *server_socket,
                        const void *data, int n, const void *sa, int salen, PyObject **request,
                        PyObject **addr)
{
    PyObject *a = make_address(sa, salen), *req = NULL;
    if (fd >= 0) {
        if (a != NULL)
            req = PyObject_CallFunction(socket_class, "iiii", family, sotype, proto, fd);
        if (req == NULL)
            close(fd);
    } else if (a != NULL) {
        req = Py_BuildValue("(y#O)", (const char *)data, (Py_ssize_t)n, server_socket);
    }
    if (req == NULL) {
        Py_XDECREF(a);
        return -1;
    }
    *request = req;
    *addr = a;
    return 0;
}

/* make_request for Go: the exception comes back as gss_obj.  GIL held. */
static gss_obj request_for_go(int fd, int family, int sotype, int proto, gss_obj server_socket,
                              const void *data, int n, const void *sa, int salen,
                              gss_obj *request, gss_obj *addr, int *kind)
{
    gss_obj exc = 0;
    PyObject *req, *a;
    if (make_request(fd, family, sotype, proto, (PyObject *)server_socket, data, n, sa, salen,
                     &req, &a) < 0) {
        exc = fetch_exception(kind);
    } else {
        *request = (gss_obj)req;
        *addr = (gss_obj)a;
    }
    return exc;
}

/* A socket object for a descriptor Go accepted.  GIL held. */
static gss_obj cb_stream_request(int fd, int family, int sotype, int proto, const void *sa,
                                 int salen, gss_obj *request, gss_obj *addr, int *kind)
{
    return request_for_go(fd, family, sotype, proto, 0, NULL, 0, sa, salen, request, addr, kind);
}

/* The (data, socket) request of a datagram Go received.  GIL held. */
static gss_obj cb_datagram_request(gss_obj server_socket, const void *data, int n, const void *sa,
                                   int salen, gss_obj *request, gss_obj *addr, int *kind)
{
    return request_for_go(-1, 0, 0, 0, server_socket, data, n, sa, salen, request, addr, kind);
}

/* self.handle_error(request, addr) while exc is handled.  GIL held. */
static gss_obj cb_handle_error(gss_obj self, gss_obj request, gss_obj addr, gss_obj exc, int *kind)
{
    PyObject *value = (PyObject *)exc;
    /* handle_error() reads the exception being handled (sys.exc_info(),
       traceback.print_exc()): make exc that exception for the call. */
    PyObject *old_t, *old_v, *old_tb;
    PyErr_GetExcInfo(&old_t, &old_v, &old_tb);
    Py_INCREF(Py_TYPE(value));
    PyErr_SetExcInfo((PyObject *)Py_TYPE(value), value, PyException_GetTraceback(value));
    /* A request that could not be made into objects is None. */
    PyObject *args[3] = {(PyObject *)self, request ? (PyObject *)request : Py_None,
                         addr ? (PyObject *)addr : Py_None};
    PyObject *r = PyObject_VectorcallMethod(hook_names[GSS_HANDLE_ERROR], args,
                                            3 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    gss_obj err = 0;
    if (r == NULL)
        err = fetch_exception(kind);
    Py_XDECREF(r);
    PyErr_SetExcInfo(old_t, old_v, old_tb);
    return err;
}

static PyObject *flag_name;

/* self._BaseServer__shutdown_request as a truth value.  GIL held. */
static gss_obj cb_shutdown_requested(gss_obj self, int *flag, int *kind)
{
    gss_obj exc = 0;
    PyObject *v = PyObject_GetAttr((PyObject *)self, flag_name);
    int t = v == NULL ? -1 : PyObject_IsTrue(v);
    Py_XDECREF(v);
    if (t < 0)
        exc = fetch_exception(kind);
    else
        *flag = t;
    return exc;
}

/* Give back up to three references.  GIL held. */
static void cb_decref(gss_obj a, gss_obj b, gss_obj c)
{
    Py_XDECREF((PyObject *)a);
    Py_XDECREF((PyObject *)b);
    Py_XDECREF((PyObject *)c);
}

/* A Go error as OSError or RuntimeError.  GIL held. */
static gss_obj cb_go_error(int errnum, const char *msg, int *kind)
{
    if (errnum != 0) {
        errno = errnum;
        PyErr_SetFromErrno(PyExc_OSError);
    } else {
        PyErr_SetString(PyExc_RuntimeError, msg);
    }
    gss_obj exc = fetch_exception(kind);
    return exc;
}

static gss_callbacks callbacks = {
    .release = cb_release,
    .acquire = cb_acquire,
    .sock_fd = cb_sock_fd,
    .check_signals = cb_check_signals,
    .call_hook = cb_call_hook,
    .stream_request = cb_stream_request,
    .datagram_request = cb_datagram_request,
    .handle_error = cb_handle_error,
    .shutdown_requested = cb_shutdown_requested,
    .decref = cb_decref,
    .go_error = cb_go_error,
};

/* ---- entry points (Python -> Go) ------------------------------------- */

#define GSS_HOOK_NAME(constant, name) [constant] = name,
static const char *hook_strings[GSS_NHOOKS] = {GSS_HOOKS(GSS_HOOK_NAME)};
#undef GSS_HOOK_NAME

/* Set up once (gss_glue.h).  GIL held. */
PyObject *gss_py_init(PyObject *unpack)
{
    static int done = 0;
    if (done)
        return PyBool_FromLong(sock_layout_ok);
    PyObject *mod = PyImport_ImportModule("socket");
    if (mod == NULL)
        return NULL;
    unpack_fn = Py_NewRef(unpack);
    socket_class = PyObject_GetAttrString(mod, "socket");
    Py_DECREF(mod);
    if (socket_class == NULL)
        return NULL;
    flag_name = PyUnicode_InternFromString("_BaseServer__shutdown_request");
    if (flag_name == NULL)
        return NULL;
    for (int i = 0; i < GSS_NHOOKS; i++) {
        hook_names[i] = PyUnicode_InternFromString(hook_strings[i]);
        if (hook_names[i] == NULL)
            return NULL;
    }
    sock_layout_ok = check_sock_layout();
    if (sock_layout_ok < 0) {
        /* No socket to check with (the process is out of descriptors, say):
           Python's get_request is used, which needs no layout. */
        PyErr_Clear();
        sock_layout_ok = 0;
    }
    if (pthread_atfork(NULL, NULL, gss_after_fork_child) != 0) {
        PyErr_SetString(PyExc_RuntimeError, "pthread_atfork failed");
        return NULL;
    }
    GSSInit(&callbacks);
    done = 1;
    return PyBool_FromLong(sock_layout_ok);
}

/* Finish a call into Go: raise what Go handed back, else return result. */
static PyObject *finish(gss_obj exc, PyObject *result)
{
    if (exc != 0) {
        Py_XDECREF(result);
        raise_exception(exc);
        return NULL;
    }
    return result;
}

/* v as a C int (PyLong_AsInt is public only from 3.13).  GIL held. */
static int as_int(PyObject *v)
{
    long n = PyLong_AsLong(v);
    if ((n > INT_MAX || n < INT_MIN) && !PyErr_Occurred())
        PyErr_SetString(PyExc_OverflowError, "Python int too large to convert to C int");
    return (int)n;
}

/* The fields of gss_call, read from the attributes of the same names of
   the Python layer's _Call object.  GIL held.  0, or -1 with the exception
   set. */
static int read_call(PyObject *call, gss_call *c)
{
    PyObject *v;
#define GSS_FIELD(name, convert)                                        \
    if ((v = PyObject_GetAttrString(call, #name)) == NULL)              \
        return -1;                                                      \
    convert;                                                            \
    Py_DECREF(v);                                                       \
    if (PyErr_Occurred())                                               \
        return -1;
    GSS_FIELD(fd, c->fd = as_int(v))
    GSS_FIELD(python_hooks, c->python_hooks = PyLong_AsUnsignedLongLong(v))
    GSS_FIELD(get_mode, c->get_mode = as_int(v))
    GSS_FIELD(max_packet_size, c->max_packet_size = as_int(v))
    GSS_FIELD(family, c->family = as_int(v))
    GSS_FIELD(sotype, c->sotype = as_int(v))
    GSS_FIELD(proto, c->proto = as_int(v))
    GSS_FIELD(wait, c->wait = PyFloat_AsDouble(v))
    GSS_FIELD(timeout, c->timeout = PyFloat_AsDouble(v))
    /* server and sock stay alive as attributes of call, which the caller
       holds for the whole call. */
    GSS_FIELD(server, c->server = (gss_obj)v)
    GSS_FIELD(sock, c->sock = v == Py_None ? 0 : (gss_obj)v)
#undef GSS_FIELD
    if (c->get_mode != GSS_GET_PYTHON && c->sock == 0) {
        PyErr_SetString(PyExc_ValueError, "_Call: Go's get_request needs the socket object");
        return -1;
    }
    return 0;
}

/* GIL held on entry and on return; Go releases it around its waits. */
PyObject *gss_py_serve_forever(PyObject *call)
{
    gss_call c;
    if (gss_refuse_in_child() || read_call(call, &c) < 0)
        return NULL;
    return finish(GSSServeForever(&c), Py_NewRef(Py_None));
}

/* GIL held on entry and on return; Go releases it around its waits. */
PyObject *gss_py_handle_request(PyObject *call)
{
    gss_call c;
    if (gss_refuse_in_child() || read_call(call, &c) < 0)
        return NULL;
    gss_obj result = 0;
    gss_obj exc = GSSHandleRequest(&c, &result);
    return finish(exc, result ? (PyObject *)result : Py_NewRef(Py_None));
}

/* What the Python layer takes from gss_api.h instead of repeating it: the
   hook names in enum order and the get modes.  GIL held. */
PyObject *gss_py_contract(void)
{
    PyObject *hooks = PyTuple_New(GSS_NHOOKS);
    if (hooks == NULL)
        return NULL;
    for (int i = 0; i < GSS_NHOOKS; i++) {
        PyObject *name = PyUnicode_FromString(hook_strings[i]);
        if (name == NULL) {
            Py_DECREF(hooks);
            return NULL;
        }
        PyTuple_SET_ITEM(hooks, i, name);
    }
    return Py_BuildValue("{sNsisisi}", "hooks", hooks, "get_python", GSS_GET_PYTHON,
                         "get_accept", GSS_GET_ACCEPT, "get_recvfrom", GSS_GET_RECVFROM);
}

/* Go's counters as a dict.  GIL held. */
PyObject *gss_py_stats(void)
{
    if (gss_refuse_in_child())
        return NULL;
    long long goroutines, threads, mallocs, yields;
    GSSStats(&goroutines, &threads, &mallocs, &yields);
    return Py_BuildValue("{sLsLsLsL}", "goroutines", goroutines, "threads", threads, "mallocs",
                         mallocs, "yields", yields);
}
