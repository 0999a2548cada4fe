/* admin_jobs.c - the admin program's background jobs (see admin_jobs.h).
 *
 * Threads are detached; the table counts the running ones so destroy can
 * wait for them.  A job's record belongs to the table and is freed only
 * once the job has finished (and fallen out of the kept history), so the
 * job thread may touch it until it reports the end. */
#include "config.h"
#include "admin_jobs.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOBS_KEPT      16               /* finished jobs remembered */
#define JOB_MSGS_MAX   1000
#define JOB_COUNTERS   16
#define NAME_LEN       64

struct counter {
    char name[NAME_LEN];
    uint64_t value;
};

struct admin_job {
    struct admin_jobs *t;
    struct admin_job *next;
    uint64_t id;
    char kind[NAME_LEN];
    admin_job_fn fn;
    void *arg;
    void (*free_arg)(void *);

    /* Guarded by t->lock. */
    fa_job_state state;
    int error;
    char phase[NAME_LEN];
    uint64_t done, total;
    struct counter counters[JOB_COUNTERS];
    unsigned ncounters;
    char **msgs;
    unsigned nmsgs;
    int truncated;
};

struct admin_jobs {
    pthread_mutex_t lock;               /* guards everything below */
    pthread_cond_t idle;                /* running dropped to 0 */
    struct admin_job *jobs;             /* newest first */
    uint64_t next_id;
    unsigned running;
    int stopping;
};

int admin_jobs_create(struct admin_jobs **out)
{
    struct admin_jobs *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->idle, NULL);
    t->next_id = 1;
    *out = t;
    return 0;
}

static void job_free(struct admin_job *j)
{
    for (unsigned i = 0; i < j->nmsgs; i++)
        free(j->msgs[i]);
    free(j->msgs);
    free(j);
}

void admin_jobs_destroy(struct admin_jobs *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    while (t->running)
        pthread_cond_wait(&t->idle, &t->lock);
    pthread_mutex_unlock(&t->lock);
    while (t->jobs) {
        struct admin_job *j = t->jobs;
        t->jobs = j->next;
        job_free(j);
    }
    pthread_cond_destroy(&t->idle);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* Drops finished jobs beyond the kept history (caller holds the lock). */
static void trim_history(struct admin_jobs *t)
{
    unsigned finished = 0;
    struct admin_job **pp = &t->jobs;
    while (*pp) {
        struct admin_job *j = *pp;
        if (j->state != FA_JOB_RUNNING && ++finished > JOBS_KEPT) {
            *pp = j->next;
            job_free(j);
            continue;
        }
        pp = &j->next;
    }
}

static void *job_thread(void *arg)
{
    struct admin_job *j = arg;
    struct admin_jobs *t = j->t;
    int rc = j->fn(j, j->arg);
    if (j->free_arg)
        j->free_arg(j->arg);
    if (rc < 0)
        log_warn("admin: %s job %llu failed: %s", j->kind,
                 (unsigned long long)j->id, strerror(-rc));
    else
        log_info("admin: %s job %llu done", j->kind,
                   (unsigned long long)j->id);
    pthread_mutex_lock(&t->lock);
    j->state = rc < 0 ? FA_JOB_FAILED : FA_JOB_DONE;
    j->error = rc < 0 ? -rc : 0;
    if (--t->running == 0)
        pthread_cond_broadcast(&t->idle);
    trim_history(t);
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int admin_jobs_start(struct admin_jobs *t, const char *kind,
                     admin_job_fn fn, void *arg, void (*free_arg)(void *),
                     uint64_t *id)
{
    struct admin_job *j = calloc(1, sizeof *j);
    if (!j) {
        if (free_arg)
            free_arg(arg);
        return -ENOMEM;
    }
    j->t = t;
    snprintf(j->kind, sizeof j->kind, "%s", kind);
    snprintf(j->phase, sizeof j->phase, "starting");
    j->fn = fn;
    j->arg = arg;
    j->free_arg = free_arg;
    j->state = FA_JOB_RUNNING;

    pthread_mutex_lock(&t->lock);
    int rc = 0;
    if (t->stopping)
        rc = -ESHUTDOWN;
    for (struct admin_job *o = t->jobs; o && rc == 0; o = o->next)
        if (o->state == FA_JOB_RUNNING && strcmp(o->kind, kind) == 0)
            rc = -EBUSY;
    if (rc == 0) {
        j->id = t->next_id++;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        rc = -pthread_create(&(pthread_t){0}, &attr, job_thread, j);
        pthread_attr_destroy(&attr);
    }
    if (rc < 0) {
        pthread_mutex_unlock(&t->lock);
        if (free_arg)
            free_arg(arg);
        free(j);
        return rc;
    }
    /* The thread takes t->lock before it touches the list or running. */
    j->next = t->jobs;
    t->jobs = j;
    t->running++;
    *id = j->id;
    pthread_mutex_unlock(&t->lock);
    log_info("admin: %s job %llu started", kind, (unsigned long long)*id);
    return 0;
}

static struct admin_job *find(struct admin_jobs *t, uint64_t id)
{
    for (struct admin_job *j = t->jobs; j; j = j->next)
        if (j->id == id)
            return j;
    return NULL;
}

static int fill_status(const struct admin_job *j, fa_job_ok *out)
{
    memset(out, 0, sizeof *out);
    out->kind = strdup(j->kind);
    out->phase = strdup(j->phase);
    out->state = j->state;
    out->error = j->error;
    out->done = j->done;
    out->total = j->total;
    out->messages_truncated = j->truncated;
    if (!out->kind || !out->phase)
        return -ENOMEM;
    if (j->ncounters) {
        out->counters.counters_val = calloc(j->ncounters, sizeof(fa_counter));
        if (!out->counters.counters_val)
            return -ENOMEM;
        for (unsigned i = 0; i < j->ncounters; i++) {
            fa_counter *c = &out->counters.counters_val[i];
            c->name = strdup(j->counters[i].name);
            c->value = j->counters[i].value;
            out->counters.counters_len = i + 1;
            if (!c->name)
                return -ENOMEM;
        }
    }
    if (j->nmsgs) {
        out->messages.messages_val = calloc(j->nmsgs, sizeof(fa_text));
        if (!out->messages.messages_val)
            return -ENOMEM;
        for (unsigned i = 0; i < j->nmsgs; i++) {
            out->messages.messages_val[i] = strdup(j->msgs[i]);
            out->messages.messages_len = i + 1;
            if (!out->messages.messages_val[i])
                return -ENOMEM;
        }
    }
    return 0;
}

int admin_jobs_status(struct admin_jobs *t, uint64_t id, fa_job_ok *out)
{
    pthread_mutex_lock(&t->lock);
    struct admin_job *j = find(t, id);
    int rc = j ? fill_status(j, out) : -ENOENT;
    pthread_mutex_unlock(&t->lock);
    return rc;
}

void admin_job_progress(struct admin_job *j, const char *phase,
                        uint64_t done, uint64_t total)
{
    pthread_mutex_lock(&j->t->lock);
    if (phase)
        snprintf(j->phase, sizeof j->phase, "%s", phase);
    j->done = done;
    j->total = total;
    pthread_mutex_unlock(&j->t->lock);
}

void admin_job_counter(struct admin_job *j, const char *name, uint64_t value)
{
    pthread_mutex_lock(&j->t->lock);
    unsigned i;
    for (i = 0; i < j->ncounters; i++)
        if (strcmp(j->counters[i].name, name) == 0)
            break;
    if (i < JOB_COUNTERS) {
        if (i == j->ncounters) {
            snprintf(j->counters[i].name, NAME_LEN, "%s", name);
            j->ncounters++;
        }
        j->counters[i].value = value;
    }
    pthread_mutex_unlock(&j->t->lock);
}

void admin_job_message(struct admin_job *j, const char *msg)
{
    pthread_mutex_lock(&j->t->lock);
    if (j->nmsgs == JOB_MSGS_MAX) {
        j->truncated = 1;
    } else {
        char **m = realloc(j->msgs, (j->nmsgs + 1) * sizeof *m);
        char *copy = strndup(msg, FA_TEXT_MAX - 1);
        if (m)
            j->msgs = m;
        if (m && copy)
            j->msgs[j->nmsgs++] = copy;
        else {
            free(copy);
            j->truncated = 1;
        }
    }
    pthread_mutex_unlock(&j->t->lock);
}

int admin_job_cancelled(struct admin_job *j)
{
    pthread_mutex_lock(&j->t->lock);
    int stop = j->t->stopping;
    pthread_mutex_unlock(&j->t->lock);
    return stop;
}
