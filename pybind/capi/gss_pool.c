#include "gss_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct gss_pool {
    pthread_mutex_t mu;
    pthread_cond_t work;    /* a job was queued, or the pool closed */
    pthread_cond_t settled; /* unadopted fell to 0 */
    int idle;               /* workers waiting in gss_pool_next */
    int closed;
    long unadopted;         /* raw requests offered, not yet adopted */
    long long handoffs;     /* raw requests offered and taken, in all */
    /* Jobs offered and not yet taken: a ring of at most idle entries, so
       an offer never waits behind a busy worker. */
    gss_job *queue;
    int head, len, cap;
};

static long long live;

gss_pool *gss_pool_new(void)
{
    gss_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, &attr);
    pthread_cond_init(&p->settled, NULL);
    pthread_condattr_destroy(&attr);
    __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
    return p;
}

void gss_pool_free(gss_pool *p)
{
    gss_pool_close(p);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->settled);
    pthread_mutex_destroy(&p->mu);
    free(p->queue);
    free(p);
    __atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED);
}

long long gss_pool_live(void) { return __atomic_load_n(&live, __ATOMIC_RELAXED); }

/* Room for one more queued job.  Lock held. */
static int reserve(gss_pool *p)
{
    if (p->len < p->cap)
        return 0;
    int cap = p->cap ? 2 * p->cap : 8;
    gss_job *q = malloc(cap * sizeof *q);
    if (q == NULL)
        return -1;
    for (int i = 0; i < p->len; i++)
        q[i] = p->queue[(p->head + i) % p->cap];
    free(p->queue);
    p->queue = q;
    p->head = 0;
    p->cap = cap;
    return 0;
}

int gss_pool_offer(gss_pool *p, const gss_job *job)
{
    int taken = 0;
    pthread_mutex_lock(&p->mu);
    if (!p->closed && p->len < p->idle && reserve(p) == 0) {
        p->queue[(p->head + p->len) % p->cap] = *job;
        p->len++;
        if (job->obj == 0) {
            p->unadopted++;
            p->handoffs++;
        }
        pthread_cond_signal(&p->work);
        taken = 1;
    }
    pthread_mutex_unlock(&p->mu);
    return taken;
}

int gss_pool_next(gss_pool *p, double idle, gss_job *out)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    if (idle > 0) {
        double whole = (double)(time_t)idle;
        deadline.tv_sec += (time_t)whole;
        deadline.tv_nsec += (long)((idle - whole) * 1e9);
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    int got = 0, timed_out = idle <= 0;
    pthread_mutex_lock(&p->mu);
    p->idle++;
    for (;;) {
        /* A job offered while this worker was counted idle is taken even
           after a timeout or close: an offer that succeeded is never lost. */
        if (p->len > 0) {
            *out = p->queue[p->head];
            p->head = (p->head + 1) % p->cap;
            p->len--;
            got = 1;
            break;
        }
        if (p->closed || timed_out)
            break;
        if (pthread_cond_timedwait(&p->work, &p->mu, &deadline) == ETIMEDOUT)
            timed_out = 1;
    }
    p->idle--;
    pthread_mutex_unlock(&p->mu);
    return got;
}

void gss_pool_adopted(gss_pool *p)
{
    pthread_mutex_lock(&p->mu);
    if (--p->unadopted == 0)
        pthread_cond_broadcast(&p->settled);
    pthread_mutex_unlock(&p->mu);
}

void gss_pool_settle(gss_pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->unadopted > 0)
        pthread_cond_wait(&p->settled, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void gss_pool_close(gss_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->closed = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
}

void gss_pool_info(gss_pool *p, int *idle, long long *handoffs, long *unadopted)
{
    pthread_mutex_lock(&p->mu);
    *idle = p->idle;
    *handoffs = p->handoffs;
    *unadopted = p->unadopted;
    pthread_mutex_unlock(&p->mu);
}
