/* lease.c - the lease reaper (see lease.h). */
#include "config.h"
#include "lease.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

struct lease {
    struct meta *meta;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;                /* CLOCK_MONOTONIC */
    int stop;                           /* guarded by lock */
};

/* Sleeps up to one second; returns nonzero when asked to stop. */
static int lease_wait(struct lease *l)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += 1;
    pthread_mutex_lock(&l->lock);
    while (!l->stop &&
           pthread_cond_timedwait(&l->cond, &l->lock, &ts) != ETIMEDOUT)
        ;
    int stop = l->stop;
    pthread_mutex_unlock(&l->lock);
    return stop;
}

static void *lease_main(void *arg)
{
    struct lease *l = arg;
    while (!lease_wait(l)) {
        int n = meta_session_expire(l->meta, (int64_t)time(NULL));
        if (n > 0)
            log_notice("lease: %d session%s expired", n, n == 1 ? "" : "s");
        else if (n < 0)
            log_warn("lease: expiring sessions: %s", strerror(-n));
    }
    return NULL;
}

int lease_start(struct meta *m, struct lease **out)
{
    struct lease *l = calloc(1, sizeof(*l));
    pthread_condattr_t ca;
    if (!l)
        return -ENOMEM;
    l->meta = m;
    pthread_mutex_init(&l->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cond, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&l->thread, NULL, lease_main, l);
    if (rc) {
        pthread_cond_destroy(&l->cond);
        pthread_mutex_destroy(&l->lock);
        free(l);
        return -rc;
    }
    *out = l;
    return 0;
}

void lease_stop(struct lease *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->lock);
    l->stop = 1;
    pthread_cond_signal(&l->cond);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    pthread_cond_destroy(&l->cond);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
