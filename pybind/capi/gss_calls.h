/* Calls from Go through the glue's callback table (gss_api.h).  cgo cannot
   call a C function pointer directly, hence these thin wrappers. */
#ifndef GSS_CALLS_H
#define GSS_CALLS_H

#include "gss_api.h"

void gss_set_callbacks(gss_callbacks *c);
void gss_call_release(void);
void gss_call_acquire(void);
int gss_call_sock_fd(gss_obj sock);
gss_obj gss_call_check_signals(int *kind);
gss_obj gss_call_hook(gss_obj self, int hook, gss_obj a1, gss_obj a2, gss_obj *r1, gss_obj *r2,
                      int *truth, int *kind);
gss_obj gss_call_stream_request(int fd, int family, int sotype, int proto, void *sa, int salen,
                                gss_obj *req, gss_obj *addr, int *kind);
gss_obj gss_call_datagram_request(gss_obj sock, void *data, int n, void *sa, int salen,
                                  gss_obj *req, gss_obj *addr, int *kind);
gss_obj gss_call_handle_error(gss_obj self, gss_obj req, gss_obj addr, gss_obj exc, int *kind);
gss_obj gss_call_shutdown_requested(gss_obj self, int *flag, int *kind);
void gss_call_decref(gss_obj a, gss_obj b, gss_obj c);
gss_obj gss_call_go_error(int errnum, char *msg, int *kind);

#endif
