/* The hand-off of requests to the worker threads of a ThreadingMixIn
   server (gss_pool.c).  Plain C, shared by the Go archive and the glue.

   Why C and not a Go channel: a worker is a Python thread that calls in
   from C.  A goroutine blocked on a channel inside such a call is locked
   to that thread, and every wake-up then passes through the Go scheduler
   twice (another thread readies the goroutine, hands it its processor and
   stops; measured as a quarter of the drop-in's time on short
   connections).  Here a waiting worker sleeps on a condition variable and
   is woken directly. */
#ifndef GSS_POOL_H
#define GSS_POOL_H

#include "gss_api.h"

typedef struct gss_pool gss_pool;

/* A new pool, or NULL when out of memory. */
gss_pool *gss_pool_new(void);

/* Close the pool (see gss_pool_close) and free it.  Only when nothing can
   use it any more: the last reference to its Python capsule is gone. */
void gss_pool_free(gss_pool *p);

/* Give *job (copied) to a worker waiting in gss_pool_next, without
   waiting: 1 if one takes it, 0 if none is idle or the pool is closed.
   A raw request (job->obj == 0) counts as unadopted from then on. */
int gss_pool_offer(gss_pool *p, const gss_job *job);

/* Wait up to idle seconds for a job, without the GIL.  1 with the job in
   *out; 0 when the pool is closed or the wait timed out. */
int gss_pool_next(gss_pool *p, double idle, gss_job *out);

/* A raw request from gss_pool_next is registered with its server, or was
   given up. */
void gss_pool_adopted(gss_pool *p);

/* Wait until every raw request offered has been adopted.  Without the
   GIL: the adopting workers need it. */
void gss_pool_settle(gss_pool *p);

/* Wake every idle worker (gss_pool_next returns 0 once the jobs already
   offered are taken) and refuse offers from now on. */
void gss_pool_close(gss_pool *p);

/* What the pool is doing, for tests and diagnostics: workers waiting in
   gss_pool_next, raw requests taken since the pool was made, and raw
   requests not yet adopted. */
void gss_pool_info(gss_pool *p, int *idle, long long *handoffs, long *unadopted);

/* How many pools are allocated, for the tests' leak checks. */
long long gss_pool_live(void);

#endif
