/* tpool.h - a fixed pool of worker threads running queued jobs, and a
 * batch counter to wait for a group of jobs.  Jobs must not wait for
 * other jobs of the same pool (that could starve it). */
#ifndef FLEXFS_CLIENT_TPOOL_H
#define FLEXFS_CLIENT_TPOOL_H

#include <pthread.h>

struct tpool;
typedef void (*tpool_fn)(void *arg);

int tpool_create(unsigned nthreads, struct tpool **out);
/* Runs the jobs still queued, then joins the threads. */
void tpool_destroy(struct tpool *p);
/* Queues fn(arg); never fails (falls back to running it inline). */
void tpool_submit(struct tpool *p, tpool_fn fn, void *arg);

/* Waits for a group of jobs: add before submitting, done from the job. */
struct tbatch {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned pending;
    int err;                    /* first error reported */
};
void tbatch_init(struct tbatch *b);
void tbatch_add(struct tbatch *b);
void tbatch_done(struct tbatch *b, int err);
/* Returns the first error. */
int tbatch_wait(struct tbatch *b);
void tbatch_destroy(struct tbatch *b);

#endif
