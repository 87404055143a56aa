/*
 * The contract between the Go archive (pybind/capi) and the hand-written C
 * glue (pybind/glue).  Plain C: the cgo package includes it too, and must
 * not see Python.h.
 *
 * A gss_obj is a PyObject* carried through Go as an integer.  Go never
 * dereferences one; it only hands it back to the glue.  Ownership is stated
 * on every callback: "new" means the receiver owns a reference and must give
 * it back through decref (or pass it to a callback that steals it).
 *
 * The GIL: Go runs each serve_forever/handle_request call on the Python
 * thread that made it, holding that thread's GIL, and gives it back only
 * around blocking system calls, between release() and acquire().  Every
 * callback is called with the GIL held unless it says otherwise.  A Python
 * exception comes back as the return value (a new reference to the
 * exception object, 0 when none) with *kind set to a mix of the GSS_EXC_*
 * flags.
 */
#ifndef GSS_API_H
#define GSS_API_H

#include <stdint.h>

typedef uintptr_t gss_obj;

/* The overridable hooks, declared once: GSS_HOOKS(X) expands X(enum
   constant, Python name) per hook.  Go uses the constants (cgo reads this
   header); Python gets the names, in this order, from the extension's
   contract() (pybind/socketserver.py: _HOOK_BIT). */
#define GSS_HOOKS(X)                                  \
    X(GSS_SERVER_BIND, "server_bind")                 \
    X(GSS_SERVER_ACTIVATE, "server_activate")         \
    X(GSS_GET_REQUEST, "get_request")                 \
    X(GSS_VERIFY_REQUEST, "verify_request")           \
    X(GSS_PROCESS_REQUEST, "process_request")         \
    X(GSS_FINISH_REQUEST, "finish_request")           \
    X(GSS_SHUTDOWN_REQUEST, "shutdown_request")       \
    X(GSS_CLOSE_REQUEST, "close_request")             \
    X(GSS_HANDLE_ERROR, "handle_error")               \
    X(GSS_HANDLE_TIMEOUT, "handle_timeout")           \
    X(GSS_SERVICE_ACTIONS, "service_actions")         \
    X(GSS_SERVER_CLOSE, "server_close")

#define GSS_HOOK_ENUM(constant, name) constant,
enum gss_hook { GSS_HOOKS(GSS_HOOK_ENUM) GSS_NHOOKS };
#undef GSS_HOOK_ENUM

/* How Go gets a request when the class keeps CPython's get_request. */
enum gss_get_mode {
    GSS_GET_PYTHON = 0, /* call the Python method */
    GSS_GET_ACCEPT,     /* TCPServer.get_request: accept(2) on the socket */
    GSS_GET_RECVFROM    /* UDPServer.get_request: recvfrom(2) on the socket */
};

/* One serve_forever() or handle_request() call: the one crossing from
   Python to Go.  The glue fills it from the Python layer's _Call object,
   one attribute per field of the same name (pybind/socketserver.py). */
typedef struct gss_call {
    gss_obj server;        /* the Python server (borrowed for the call) */
    gss_obj sock;          /* its socket object when get_mode is not
                              GSS_GET_PYTHON, else 0 (borrowed) */
    int fd;                /* fileno() when the call starts: waited on */
    uint64_t python_hooks; /* bit (1 << GSS_x) set: hook x runs in Python */
    int get_mode;          /* enum gss_get_mode */
    int max_packet_size;   /* GSS_GET_RECVFROM: bytes per datagram */
    int family, sotype, proto; /* GSS_GET_ACCEPT: the accepted sockets' */
    double wait;           /* serve_forever: the poll interval; NaN: None */
    double timeout;        /* handle_request: the timeout; NaN: None */
} gss_call;

/* What a fetched exception is (CPython's except clauses in BaseServer). */
enum {
    GSS_EXC_EXCEPTION = 1, /* an Exception subclass: goes to handle_error */
    GSS_EXC_OSERROR = 2    /* an OSError: get_request's errors are ignored */
};

typedef struct gss_callbacks {
    /* GIL held -> released: PyEval_SaveThread(), the thread state kept in a
       thread-local variable of the glue. */
    void (*release)(void);

    /* GIL released -> held: PyEval_RestoreThread() of that thread state. */
    void (*acquire)(void);

    /* PyErr_CheckSignals() on the calling thread: runs Python's signal
       handlers; a KeyboardInterrupt or a handler's exception comes back. */
    gss_obj (*check_signals)(int *kind);

    /* The descriptor a Python socket.socket object holds now: -1 once it
       is closed or detached (what its fileno() returns).  sock is kept
       alive by the caller. */
    int (*sock_fd)(gss_obj sock);

    /* self.<hook>(a1[, a2]) with borrowed self and args.  The number of
       arguments follows the hook.  *result is a new reference: for
       GSS_GET_REQUEST the request, with the address in *result2; for
       GSS_VERIFY_REQUEST 0 or 1 in *truth; for GSS_HANDLE_TIMEOUT the
       result; for the other hooks the result is dropped. */
    gss_obj (*call_hook)(gss_obj self, int hook, gss_obj a1, gss_obj a2,
                         gss_obj *result, gss_obj *result2, int *truth,
                         int *kind);

    /* Build socket.socket(family, sotype, proto, fileno=fd) and the client
       address for a descriptor Go accepted.  Both new.  On failure the
       descriptor is closed. */
    gss_obj (*stream_request)(int fd, int family, int sotype, int proto,
                              const void *sa, int salen, gss_obj *request,
                              gss_obj *addr, int *kind);

    /* Build the datagram request (bytes(data), server_socket) and the
       address.  server_socket is borrowed; request and addr are new. */
    gss_obj (*datagram_request)(gss_obj server_socket, const void *data,
                                int n, const void *sa, int salen,
                                gss_obj *request, gss_obj *addr, int *kind);

    /* self.handle_error(request, addr) while exc is the exception being
       handled (sys.exc_info()).  Steals exc. */
    gss_obj (*handle_error)(gss_obj self, gss_obj request, gss_obj addr,
                            gss_obj exc, int *kind);

    /* Whether self._BaseServer__shutdown_request is true: the Python
       attribute stays the flag that shutdown() sets (B4, B5). */
    gss_obj (*shutdown_requested)(gss_obj self, int *flag, int *kind);

    /* Give back up to three references (0 is skipped). */
    void (*decref)(gss_obj a, gss_obj b, gss_obj c);

    /* A Go error as a Python exception: OSError(errno, strerror) when errno
       is not 0, else RuntimeError(msg).  New. */
    gss_obj (*go_error)(int errnum, const char *msg, int *kind);
} gss_callbacks;

#endif
