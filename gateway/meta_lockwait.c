/* meta_lockwait.c - what advisory locks keep in memory: requests waiting
 * for a lock (F_SETLKW), deadlock detection among them, cancelled
 * requests, and the grace period after a restart.
 *
 * Nothing spins: a waiting request is retried, in arrival order among
 * those on its inode, only when a lock on that inode goes (an unlock, a
 * downgrade, an owner's release, a session's end), when the grace period
 * ends, or never.  A waiter records which owners block it; a request whose
 * blockers wait, transitively, for its own owner would deadlock and is
 * refused with EDEADLK (POSIX locks only, as Linux).
 *
 * The grace period: meta_open takes a snapshot of the locks found in the
 * table.  Until the grace period ends, a request that conflicts with one
 * of them is refused (or waits) unless it is a reclaim; the snapshot is
 * not changed after start, so reading it takes no lock. */
#include "config.h"
#include "meta_internal.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#define LW_TOMBS       256              /* cancels that came before their request */
#define LW_TOMB_SECS   60
#define LW_MAX_DEPTH   64               /* of a wait-for chain */
#define LW_MAX_STEPS   4096             /* of one deadlock search */
/* Requests one session may have waiting: each holds a deferred call and
 * its memory, and a mount has one per blocked thread.  Past it: ENOLCK. */
#define LW_MAX_SESSION 4096

struct lw_waiter {
    struct lw_waiter *next;
    uint64_t ino;
    struct meta_lock lk;
    uint32_t flags;
    struct meta_lock_waiter w;
    struct lock_conflicts cf;           /* as of the last attempt */
    int status;                         /* once finished */
};

struct lw_tomb {
    uint64_t session, token;
    int64_t when;                       /* monotonic seconds; 0: free */
};

struct grace_lock {
    uint64_t ino;
    struct meta_lock l;
};

struct lockwait {
    pthread_mutex_t mu;                 /* guards the fields below it */
    struct lw_waiter *head, **tail;     /* in arrival order */
    size_t nwaiting;
    struct lw_tomb tombs[LW_TOMBS];
    unsigned next_tomb;
    int closing;
    int grace_over;                     /* the end of grace was acted on */

    /* Set at open, read-only after: no lock needed. */
    struct grace_lock *grace;
    size_t ngrace;
    int64_t grace_end;                  /* monotonic milliseconds */
};

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int64_t mono_now(void)
{
    return mono_ms() / 1000;
}

/* ---- the grace period ---- */

static int grace_live(const struct lockwait *lw)
{
    return lw->ngrace && mono_ms() < lw->grace_end;
}

int lock_grace_conflict(struct meta *m, uint64_t ino,
                        const struct meta_lock *lk, struct meta_lock *out)
{
    struct lockwait *lw = m->lw;
    if (!lw || !grace_live(lw))
        return 0;
    for (size_t i = 0; i < lw->ngrace; i++)
        if (lw->grace[i].ino == ino &&
            lock_conflicts_with(&lw->grace[i].l, lk)) {
            *out = lw->grace[i].l;
            return 1;
        }
    return 0;
}

uint32_t meta_lock_grace_left(struct meta *m)
{
    struct lockwait *lw = m->lw;
    if (!lw || !grace_live(lw))
        return 0;
    return (uint32_t)((lw->grace_end - mono_ms() + 999) / 1000);
}

static int grace_add(void *arg, uint64_t ino, const struct meta_lock *l,
                     int waiting)
{
    struct lockwait *lw = arg;
    struct grace_lock *g = realloc(lw->grace, (lw->ngrace + 1) * sizeof(*g));
    if (!g)
        return -ENOMEM;
    lw->grace = g;
    g[lw->ngrace++] = (struct grace_lock){ ino, *l };
    return 0;
}

int locks_open(struct meta *m, const struct meta_opts *o)
{
    struct lockwait *lw = calloc(1, sizeof(*lw));
    if (!lw)
        return -ENOMEM;
    pthread_mutex_init(&lw->mu, NULL);
    lw->tail = &lw->head;
    /* The snapshot is taken before m->lw is set: no grace applies to the
     * listing itself, and no waiter exists yet. */
    int rc = meta_lock_list(m, 0, grace_add, lw);
    if (rc) {
        free(lw->grace);
        pthread_mutex_destroy(&lw->mu);
        free(lw);
        return rc < 0 ? rc : -ENOMEM;
    }
    uint32_t secs = o->grace_secs ? o->grace_secs : m->lease_secs;
    lw->grace_end = mono_ms() + (int64_t)secs * 1000;
    if (lw->ngrace)
        log_notice("meta: %zu lock%s held before the restart; grace period "
                   "of %u s", lw->ngrace, lw->ngrace == 1 ? "" : "s", secs);
    m->lw = lw;
    return 0;
}

/* ---- the registry ---- */

static void finish(struct lw_waiter **done, struct lw_waiter *w, int status)
{
    w->status = status;
    w->next = *done;
    *done = w;
}

/* Calls done for each finished waiter, outside the mutex. */
static void finish_all(struct lw_waiter *done)
{
    while (done) {
        struct lw_waiter *w = done;
        done = w->next;
        w->w.done(w->w.arg, w->status);
        free(w);
    }
}

/* Unlinks *pp's waiter (the caller holds mu); returns it. */
static struct lw_waiter *unlink_at(struct lockwait *lw, struct lw_waiter **pp)
{
    struct lw_waiter *w = *pp;
    *pp = w->next;
    if (lw->tail == &w->next)
        lw->tail = pp;
    w->next = NULL;
    lw->nwaiting--;
    return w;
}

static void lw_append(struct lockwait *lw, struct lw_waiter *w)
{
    w->next = NULL;
    *lw->tail = w;
    lw->tail = &w->next;
    lw->nwaiting++;
}

static int same_id(const struct lock_owner_id *a, uint64_t session,
                   uint64_t owner)
{
    return a->session == session && a->owner == owner;
}

/* Does owner `from` wait, directly or through others, for `target`? */
static int waits_for(struct lockwait *lw, const struct lock_owner_id *from,
                     const struct lock_owner_id *target, int depth,
                     int *steps)
{
    if (same_id(from, target->session, target->owner))
        return 1;
    if (depth >= LW_MAX_DEPTH || ++*steps > LW_MAX_STEPS)
        return 0;
    for (struct lw_waiter *w = lw->head; w; w = w->next) {
        if (w->lk.kind != META_LOCK_POSIX ||
            !same_id(from, w->lk.session, w->lk.owner))
            continue;
        for (uint32_t i = 0; i < w->cf.nblockers; i++)
            if (waits_for(lw, &w->cf.blockers[i], target, depth + 1, steps))
                return 1;
    }
    return 0;
}

/* Would lk, blocked by cf's owners, close a cycle? */
static int deadlock(struct lockwait *lw, const struct meta_lock *lk,
                    const struct lock_conflicts *cf)
{
    if (lk->kind != META_LOCK_POSIX)
        return 0;
    struct lock_owner_id me = { lk->session, lk->owner };
    int steps = 0;
    for (uint32_t i = 0; i < cf->nblockers; i++)
        if (waits_for(lw, &cf->blockers[i], &me, 0, &steps))
            return 1;
    return 0;
}

/* A cancel that came first: consumed (1) if it names this request. */
/* Whether session has LW_MAX_SESSION requests waiting already. */
static int session_full(const struct lockwait *lw, uint64_t session)
{
    if (lw->nwaiting < LW_MAX_SESSION)
        return 0;
    size_t n = 0;
    for (const struct lw_waiter *w = lw->head; w; w = w->next)
        if (w->lk.session == session && ++n >= LW_MAX_SESSION)
            return 1;
    return 0;
}

static int tomb_take(struct lockwait *lw, uint64_t session, uint64_t token)
{
    int64_t now = mono_now();
    for (unsigned i = 0; i < LW_TOMBS; i++) {
        struct lw_tomb *t = &lw->tombs[i];
        if (t->when && now - t->when > LW_TOMB_SECS)
            t->when = 0;
        if (t->when && t->session == session && t->token == token) {
            t->when = 0;
            return 1;
        }
    }
    return 0;
}

int meta_lock_wait(struct meta *m, uint64_t ino, const struct meta_lock *lk,
                   uint32_t flags, const struct meta_lock_waiter *w)
{
    struct lockwait *lw = m->lw;
    if (lk->type == META_LOCK_UNLOCK)
        return meta_lock_set(m, ino, lk, flags, NULL);
    if (!w || !w->done)
        return -EINVAL;
    struct lw_waiter *nw = calloc(1, sizeof(*nw));
    if (!nw)
        return -ENOMEM;
    nw->ino = ino;
    nw->lk = *lk;
    nw->flags = flags;
    nw->w = *w;
    /* The attempt and the queuing happen under mu, and a release retries
     * waiters under mu after its commit: no wake-up falls in between. */
    pthread_mutex_lock(&lw->mu);
    int rc, released = 0;
    if (lw->closing)
        rc = -ESHUTDOWN;
    else if (tomb_take(lw, lk->session, w->token))
        rc = -EINTR;
    else
        rc = lock_try(m, ino, lk, flags, 0, &nw->cf, &released);
    if (rc == -EAGAIN) {
        if (deadlock(lw, lk, &nw->cf)) {
            rc = -EDEADLK;
        } else if (session_full(lw, lk->session)) {
            log_warn("locks: session %llu has %u requests waiting; "
                     "refusing more", (unsigned long long)lk->session,
                     LW_MAX_SESSION);
            rc = -ENOLCK;
        } else {
            lw_append(lw, nw);
            nw = NULL;
            rc = META_LOCK_QUEUED;
        }
    }
    pthread_mutex_unlock(&lw->mu);
    free(nw);
    if (rc == 0 && released) {         /* a downgrade lets others in */
        struct lock_kick k = { NULL, 0, 0 };
        if (lock_kick_add(&k, ino) == 0)
            lockwait_kick(m, &k);
    }
    return rc;
}

int meta_lock_cancel(struct meta *m, uint64_t session, uint64_t token)
{
    struct lockwait *lw = m->lw;
    struct lw_waiter *done = NULL;
    pthread_mutex_lock(&lw->mu);
    for (struct lw_waiter **pp = &lw->head; *pp; pp = &(*pp)->next) {
        if ((*pp)->lk.session == session && (*pp)->w.token == token) {
            finish(&done, unlink_at(lw, pp), -EINTR);
            break;
        }
    }
    if (!done) {
        struct lw_tomb *t = &lw->tombs[lw->next_tomb++ % LW_TOMBS];
        *t = (struct lw_tomb){ session, token, mono_now() };
    }
    pthread_mutex_unlock(&lw->mu);
    int found = done != NULL;
    finish_all(done);
    return found ? 0 : -ENOENT;
}

/* Retries the waiters on ino in order (the caller holds mu). */
static void retry_ino(struct meta *m, uint64_t ino, struct lw_waiter **done,
                      struct lock_kick *more)
{
    struct lockwait *lw = m->lw;
    struct lw_waiter **pp = &lw->head;
    while (*pp) {
        struct lw_waiter *w = *pp;
        if (w->ino != ino) {
            pp = &w->next;
            continue;
        }
        if (w->w.alive && !w->w.alive(w->w.arg)) {
            finish(done, unlink_at(lw, pp), -ENOTCONN);
            continue;
        }
        int released;
        int rc = lock_try(m, ino, &w->lk, w->flags, 0, &w->cf, &released);
        if (released)
            lock_kick_add(more, ino);
        if (rc == -EAGAIN) {
            /* The owners in the way may have changed. */
            if (!deadlock(lw, &w->lk, &w->cf)) {
                pp = &w->next;
                continue;
            }
            rc = -EDEADLK;
        }
        finish(done, unlink_at(lw, pp), rc);
    }
}

void lockwait_kick(struct meta *m, struct lock_kick *k)
{
    struct lockwait *lw = m->lw;
    struct lw_waiter *done = NULL;
    struct lock_kick more = { NULL, 0, 0 };
    if (lw && k->n) {
        pthread_mutex_lock(&lw->mu);
        for (size_t i = 0; i < k->n; i++)
            retry_ino(m, k->inos[i], &done, &more);
        /* A granted request never lets go of anything, but be safe. */
        for (size_t i = 0; i < more.n; i++)
            retry_ino(m, more.inos[i], &done, &more);
        pthread_mutex_unlock(&lw->mu);
    }
    free(more.inos);
    free(k->inos);
    *k = (struct lock_kick){ NULL, 0, 0 };
    finish_all(done);
}

void lockwait_session_gone(struct meta *m, uint64_t session)
{
    struct lockwait *lw = m->lw;
    struct lw_waiter *done = NULL;
    if (!lw)
        return;
    pthread_mutex_lock(&lw->mu);
    struct lw_waiter **pp = &lw->head;
    while (*pp) {
        if ((*pp)->lk.session == session)
            finish(&done, unlink_at(lw, pp), -ESTALE);
        else
            pp = &(*pp)->next;
    }
    pthread_mutex_unlock(&lw->mu);
    finish_all(done);
}

void lockwait_tick(struct meta *m)
{
    struct lockwait *lw = m->lw;
    struct lw_waiter *done = NULL;
    struct lock_kick k = { NULL, 0, 0 };
    if (!lw)
        return;
    pthread_mutex_lock(&lw->mu);
    struct lw_waiter **pp = &lw->head;
    while (*pp) {
        struct lw_waiter *w = *pp;
        if (w->w.alive && !w->w.alive(w->w.arg)) {
            finish(&done, unlink_at(lw, pp), -ENOTCONN);
            continue;
        }
        pp = &w->next;
    }
    if (lw->ngrace && !lw->grace_over && !grace_live(lw)) {
        lw->grace_over = 1;
        log_notice("meta: lock grace period over");
        for (struct lw_waiter *w = lw->head; w; w = w->next)
            if (w->cf.by_grace)
                lock_kick_add(&k, w->ino);
    }
    pthread_mutex_unlock(&lw->mu);
    finish_all(done);
    lockwait_kick(m, &k);
}

int lockwait_list(struct meta *m, uint64_t ino, meta_lock_visit cb,
                  void *arg)
{
    struct lockwait *lw = m->lw;
    struct grace_lock *list = NULL;
    size_t n = 0;
    if (!lw)
        return 0;
    /* Copied out, so cb runs without the mutex. */
    pthread_mutex_lock(&lw->mu);
    for (struct lw_waiter *w = lw->head; w; w = w->next)
        if (!ino || w->ino == ino)
            n++;
    list = calloc(n ? n : 1, sizeof(*list));
    size_t i = 0;
    for (struct lw_waiter *w = lw->head; list && w; w = w->next)
        if (!ino || w->ino == ino)
            list[i++] = (struct grace_lock){ w->ino, w->lk };
    pthread_mutex_unlock(&lw->mu);
    if (!list)
        return -ENOMEM;
    for (i = 0; i < n; i++)
        if (cb(arg, list[i].ino, &list[i].l, 1))
            break;
    free(list);
    return 0;
}

void locks_close(struct meta *m)
{
    struct lockwait *lw = m->lw;
    struct lw_waiter *done = NULL;
    if (!lw)
        return;
    pthread_mutex_lock(&lw->mu);
    lw->closing = 1;
    while (lw->head)
        finish(&done, unlink_at(lw, &lw->head), -ESHUTDOWN);
    pthread_mutex_unlock(&lw->mu);
    finish_all(done);
    m->lw = NULL;
    pthread_mutex_destroy(&lw->mu);
    free(lw->grace);
    free(lw);
}
