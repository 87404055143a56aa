#include "gss_calls.h"

static gss_callbacks *cb;

void gss_set_callbacks(gss_callbacks *c) { cb = c; }

void gss_call_release(void) { cb->release(); }

void gss_call_acquire(void) { cb->acquire(); }

int gss_call_sock_fd(gss_obj sock) { return cb->sock_fd(sock); }

gss_obj gss_call_check_signals(int *kind) { return cb->check_signals(kind); }

gss_obj gss_call_hook(gss_obj self, int hook, gss_obj a1, gss_obj a2, gss_obj *r1, gss_obj *r2,
                      int *truth, int *kind)
{
    return cb->call_hook(self, hook, a1, a2, r1, r2, truth, kind);
}

gss_obj gss_call_stream_request(int fd, int family, int sotype, int proto, void *sa, int salen,
                                gss_obj *req, gss_obj *addr, int *kind)
{
    return cb->stream_request(fd, family, sotype, proto, sa, salen, req, addr, kind);
}

gss_obj gss_call_datagram_request(gss_obj sock, void *data, int n, void *sa, int salen,
                                  gss_obj *req, gss_obj *addr, int *kind)
{
    return cb->datagram_request(sock, data, n, sa, salen, req, addr, kind);
}

gss_obj gss_call_handle_error(gss_obj self, gss_obj req, gss_obj addr, gss_obj exc, int *kind)
{
    return cb->handle_error(self, req, addr, exc, kind);
}

gss_obj gss_call_shutdown_requested(gss_obj self, int *flag, int *kind)
{
    return cb->shutdown_requested(self, flag, kind);
}

void gss_call_decref(gss_obj a, gss_obj b, gss_obj c) { cb->decref(a, b, c); }

gss_obj gss_call_go_error(int errnum, char *msg, int *kind) { return cb->go_error(errnum, msg, kind); }
