/* tpool.c - worker threads for block transfers (see tpool.h).  The queue
 * is a FIFO list under the pool mutex. */
#include "config.h"
#include "tpool.h"

#include <errno.h>
#include <stdlib.h>

struct job {
    tpool_fn fn;
    void *arg;
    struct job *next;
};

struct tpool {
    pthread_mutex_t lock;       /* guards the queue and stopping */
    pthread_cond_t cond;
    struct job *head, *tail;
    int stopping;
    unsigned n;
    pthread_t *threads;
};

static void *worker(void *arg)
{
    struct tpool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        struct job *j = p->head;
        if (!j)
            break;
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->lock);
        j->fn(j->arg);
        free(j);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int tpool_create(unsigned nthreads, struct tpool **out)
{
    struct tpool *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->threads = calloc(nthreads, sizeof(pthread_t));
    if (!p->threads) {
        free(p);
        return -ENOMEM;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    for (unsigned i = 0; i < nthreads; i++) {
        int rc = pthread_create(&p->threads[i], NULL, worker, p);
        if (rc) {
            p->n = i;
            tpool_destroy(p);
            return -rc;
        }
    }
    p->n = nthreads;
    *out = p;
    return 0;
}

void tpool_destroy(struct tpool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->threads);
    free(p);
}

void tpool_submit(struct tpool *p, tpool_fn fn, void *arg)
{
    struct job *j = malloc(sizeof(*j));
    if (!j) {
        fn(arg);
        return;
    }
    j->fn = fn;
    j->arg = arg;
    j->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

void tbatch_init(struct tbatch *b)
{
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->cond, NULL);
    b->pending = 0;
    b->err = 0;
}

void tbatch_add(struct tbatch *b)
{
    pthread_mutex_lock(&b->lock);
    b->pending++;
    pthread_mutex_unlock(&b->lock);
}

void tbatch_done(struct tbatch *b, int err)
{
    pthread_mutex_lock(&b->lock);
    if (err < 0 && b->err == 0)
        b->err = err;
    if (--b->pending == 0)
        pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

int tbatch_wait(struct tbatch *b)
{
    pthread_mutex_lock(&b->lock);
    while (b->pending)
        pthread_cond_wait(&b->cond, &b->lock);
    int err = b->err;
    pthread_mutex_unlock(&b->lock);
    return err;
}

void tbatch_destroy(struct tbatch *b)
{
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->cond);
}
