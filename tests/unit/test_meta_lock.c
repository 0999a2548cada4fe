/* test_meta_lock.c - unit tests of advisory locks in the metadata core:
 * conflicts and the conflicting lock reported, POSIX range splitting,
 * merging, upgrade and downgrade, to-EOF ranges, flock locks beside
 * POSIX ones, owner release, session close and expiry, blocking requests
 * woken in order on release, cancel (also before the request comes),
 * deadlock detection, dead askers, lock state across a restart and the
 * grace period, and mutual exclusion under threads. */
#include "config.h"
#include "meta_testutil.h"

#include <pthread.h>
#include <time.h>

#define EOF_ META_LOCK_EOF

static uint64_t s1, s2, s3, f;

static uint64_t mount_session(void)
{
    uint64_t s;
    struct meta_volume v;
    ck_assert_int_eq(meta_session_open(tu_m, "default", "c", "127.0.0.1",
                                       &tu_rootcred, &s, &v), 0);
    return s;
}

static void lsetup(void)
{
    tu_setup();
    s1 = mount_session();
    s2 = mount_session();
    s3 = mount_session();
    struct meta_attr a;
    ck_assert_int_eq(tu_create(&tu_rootcred, tu_root, "f", 0666, &a), 0);
    f = a.ino;
}

static struct meta_lock L(uint32_t type, uint64_t start, uint64_t end,
                          uint64_t session, uint64_t owner)
{
    return (struct meta_lock){ .type = type, .kind = META_LOCK_POSIX,
                               .start = start, .end = end,
                               .session = session, .owner = owner,
                               .pid = (uint32_t)(100 + owner) };
}

static int set(uint32_t type, uint64_t start, uint64_t end, uint64_t session,
               uint64_t owner)
{
    struct meta_lock lk = L(type, start, end, session, owner);
    return meta_lock_set(tu_m, f, &lk, 0, NULL);
}

static int test(uint32_t type, uint64_t start, uint64_t end,
                uint64_t session, uint64_t owner, struct meta_lock *cf)
{
    struct meta_lock lk = L(type, start, end, session, owner);
    return meta_lock_test(tu_m, f, &lk, cf);
}

/* The locks on f, as "type:start-end/owner" joined by spaces (a "w"
 * before a waiting one; F: flock). */
struct held {
    char s[512];
};

static int held_add(void *arg, uint64_t ino, const struct meta_lock *l,
                    int waiting)
{
    struct held *h = arg;
    size_t n = strlen(h->s);
    char end[24];
    if (l->end == EOF_)
        snprintf(end, sizeof(end), "EOF");
    else
        snprintf(end, sizeof(end), "%llu", (unsigned long long)l->end);
    snprintf(h->s + n, sizeof(h->s) - n, "%s%s%c:%llu-%s/%llu",
             n ? " " : "", waiting ? "w" : "",
             l->kind == META_LOCK_FLOCK ? 'F'
                                        : l->type == META_LOCK_WRITE ? 'W'
                                                                     : 'R',
             (unsigned long long)l->start, end,
             (unsigned long long)l->owner);
    return 0;
}

static const char *held(void)
{
    static struct held h;
    h.s[0] = 0;
    ck_assert_int_eq(meta_lock_list(tu_m, f, held_add, &h), 0);
    return h.s;
}

START_TEST(conflicts)
{
    struct meta_lock cf;
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, 99, s1, 1), 0);
    ck_assert_int_eq(set(META_LOCK_WRITE, 50, 60, s2, 2), -EAGAIN);
    ck_assert_int_eq(set(META_LOCK_READ, 99, 99, s2, 2), -EAGAIN);
    ck_assert_int_eq(set(META_LOCK_READ, 100, 200, s2, 2), 0);
    ck_assert_int_eq(set(META_LOCK_READ, 150, 150, s1, 3), 0);
    /* The same owner number in another session is another owner. */
    ck_assert_int_eq(set(META_LOCK_WRITE, 10, 10, s2, 1), -EAGAIN);
    /* GETLK: the first lock in the way, with its owner and pid. */
    ck_assert_int_eq(test(META_LOCK_WRITE, 90, 120, s3, 9, &cf), -EAGAIN);
    ck_assert_uint_eq(cf.type, META_LOCK_WRITE);
    ck_assert_uint_eq(cf.start, 0);
    ck_assert_uint_eq(cf.end, 99);
    ck_assert_uint_eq(cf.session, s1);
    ck_assert_uint_eq(cf.owner, 1);
    ck_assert_uint_eq(cf.pid, 101);
    ck_assert_int_eq(test(META_LOCK_READ, 100, 300, s3, 9, &cf), 0);
    ck_assert_uint_eq(cf.type, META_LOCK_UNLOCK);
    /* An owner never conflicts with itself. */
    ck_assert_int_eq(test(META_LOCK_WRITE, 0, 99, s1, 1, &cf), 0);
    ck_assert_int_eq(test(META_LOCK_UNLOCK, 0, 99, s1, 1, &cf), -EINVAL);
    /* Bad requests. */
    ck_assert_int_eq(set(META_LOCK_WRITE, 10, 5, s1, 1), -EINVAL);
    ck_assert_int_eq(set(7, 0, 5, s1, 1), -EINVAL);
    struct meta_lock lk = L(META_LOCK_WRITE, 0, 1, s1, 1);
    ck_assert_int_eq(meta_lock_set(tu_m, 999999, &lk, 0, NULL), -ESTALE);
    ck_assert_int_eq(set(META_LOCK_WRITE, 1000, 1001, 999999, 1), -ESTALE);
}
END_TEST

START_TEST(split_merge)
{
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, 99, s1, 1), 0);
    ck_assert_int_eq(set(META_LOCK_UNLOCK, 40, 59, s1, 1), 0);
    ck_assert_str_eq(held(), "W:0-39/1 W:60-99/1");
    ck_assert_int_eq(set(META_LOCK_WRITE, 40, 59, s2, 2), 0);
    ck_assert_int_eq(set(META_LOCK_UNLOCK, 40, 59, s2, 2), 0);
    /* Adjacent and overlapping locks of one type merge. */
    ck_assert_int_eq(set(META_LOCK_WRITE, 40, 49, s1, 1), 0);
    ck_assert_str_eq(held(), "W:0-49/1 W:60-99/1");
    ck_assert_int_eq(set(META_LOCK_WRITE, 45, 65, s1, 1), 0);
    ck_assert_str_eq(held(), "W:0-99/1");
    /* A read inside a write splits it in three (a downgrade of the
     * middle), and others may share the middle. */
    ck_assert_int_eq(set(META_LOCK_READ, 30, 69, s1, 1), 0);
    ck_assert_str_eq(held(), "W:0-29/1 R:30-69/1 W:70-99/1");
    ck_assert_int_eq(set(META_LOCK_READ, 30, 69, s2, 2), 0);
    ck_assert_int_eq(set(META_LOCK_READ, 29, 30, s2, 2), -EAGAIN);
    /* Upgrading the middle back waits for the other reader. */
    ck_assert_int_eq(set(META_LOCK_WRITE, 30, 69, s1, 1), -EAGAIN);
    ck_assert_str_eq(held(), "W:0-29/1 R:30-69/1 W:70-99/1 R:30-69/2");
    ck_assert_int_eq(set(META_LOCK_UNLOCK, 0, EOF_, s2, 2), 0);
    ck_assert_int_eq(set(META_LOCK_WRITE, 30, 69, s1, 1), 0);
    ck_assert_str_eq(held(), "W:0-99/1");
    /* Unlock everything, to EOF. */
    ck_assert_int_eq(set(META_LOCK_UNLOCK, 0, EOF_, s1, 1), 0);
    ck_assert_str_eq(held(), "");
    /* Unlocking nothing is fine. */
    ck_assert_int_eq(set(META_LOCK_UNLOCK, 5, 6, s1, 1), 0);
}
END_TEST

START_TEST(to_eof)
{
    ck_assert_int_eq(set(META_LOCK_WRITE, 100, EOF_, s1, 1), 0);
    ck_assert_int_eq(set(META_LOCK_WRITE, 1ull << 62, 1ull << 62, s2, 2),
                     -EAGAIN);
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, 99, s2, 2), 0);
    ck_assert_int_eq(set(META_LOCK_READ, EOF_ - 1, EOF_, s1, 1), 0);
    ck_assert_str_eq(held(), "W:100-18446744073709551613/1 "
                             "R:18446744073709551614-EOF/1 W:0-99/2");
    /* Writing the tail again merges it back into one lock to EOF. */
    ck_assert_int_eq(set(META_LOCK_WRITE, EOF_ - 1, EOF_, s1, 1), 0);
    ck_assert_str_eq(held(), "W:100-EOF/1 W:0-99/2");
}
END_TEST

static int fl(uint32_t type, uint64_t session, uint64_t owner)
{
    struct meta_lock lk = L(type, 0, 0, session, owner);
    lk.kind = META_LOCK_FLOCK;
    return meta_lock_set(tu_m, f, &lk, 0, NULL);
}

START_TEST(flock_locks)
{
    ck_assert_int_eq(fl(META_LOCK_WRITE, s1, 1), 0);
    ck_assert_int_eq(fl(META_LOCK_READ, s2, 2), -EAGAIN);
    /* POSIX and flock locks do not see each other. */
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, EOF_, s2, 2), 0);
    /* Downgrade, then share. */
    ck_assert_int_eq(fl(META_LOCK_READ, s1, 1), 0);
    ck_assert_int_eq(fl(META_LOCK_READ, s2, 2), 0);
    ck_assert_int_eq(fl(META_LOCK_WRITE, s1, 1), -EAGAIN);
    ck_assert_str_eq(held(), "W:0-EOF/2 F:0-EOF/1 F:0-EOF/2");
    /* Releasing an owner's POSIX locks leaves its flock lock. */
    ck_assert_int_eq(meta_lock_held(tu_m, f, s2, 2), 2);
    ck_assert_int_eq(meta_lock_release(tu_m, f, s2, 2, META_LOCK_POSIX), 0);
    ck_assert_str_eq(held(), "F:0-EOF/1 F:0-EOF/2");
    ck_assert_int_eq(meta_lock_release(tu_m, f, s2, 2, META_LOCK_FLOCK), 0);
    ck_assert_int_eq(fl(META_LOCK_WRITE, s1, 1), 0);
    ck_assert_int_eq(fl(META_LOCK_UNLOCK, s1, 1), 0);
    ck_assert_str_eq(held(), "");
}
END_TEST

START_TEST(release_and_sessions)
{
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, 9, s1, 1), 0);
    ck_assert_int_eq(set(META_LOCK_WRITE, 20, 29, s1, 1), 0);
    ck_assert_int_eq(set(META_LOCK_WRITE, 40, 49, s1, 2), 0);
    ck_assert_int_eq(set(META_LOCK_WRITE, 60, 69, s2, 1), 0);
    ck_assert_int_eq(meta_lock_held(tu_m, f, s1, 1), 2);
    /* Close semantics: every lock of the owner on the file goes. */
    ck_assert_int_eq(meta_lock_release(tu_m, f, s1, 1, META_LOCK_POSIX), 0);
    ck_assert_str_eq(held(), "W:40-49/2 W:60-69/1");
    ck_assert_int_eq(meta_lock_held(tu_m, f, s1, 1), 0);
    /* A session's end drops its locks. */
    ck_assert_int_eq(meta_session_close(tu_m, s1), 0);
    ck_assert_str_eq(held(), "W:60-69/1");
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, 9, s1, 1), -ESTALE);
    /* ... and so does a lease running out. */
    ck_assert_int_eq(meta_session_expire(tu_m, time(NULL) + 10 * TU_LEASE),
                     2);
    ck_assert_str_eq(held(), "");
    /* An unlinked inode takes its locks with it. */
    uint64_t s = mount_session();
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, 9, s, 1), 0);
    ck_assert_int_eq(tu_unlink(tu_root, "f"), 0);
    struct held h = { "" };
    ck_assert_int_eq(meta_lock_list(tu_m, 0, held_add, &h), 0);
    ck_assert_str_eq(h.s, "");
}
END_TEST

/* ---- waiting ---- */

struct waitrec {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, status, alive;
};

static void wr_init(struct waitrec *w)
{
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->done = 0;
    w->status = 12345;
    w->alive = 1;
}

static void wr_done(void *arg, int status)
{
    struct waitrec *w = arg;
    pthread_mutex_lock(&w->mu);
    ck_assert_int_eq(w->done, 0);       /* exactly once */
    w->done = 1;
    w->status = status;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static int wr_alive(void *arg)
{
    return ((struct waitrec *)arg)->alive;
}

static int wr_finished(struct waitrec *w)
{
    pthread_mutex_lock(&w->mu);
    int d = w->done;
    pthread_mutex_unlock(&w->mu);
    return d;
}

static int wait_lock(uint32_t type, uint64_t start, uint64_t end,
                     uint64_t session, uint64_t owner, uint64_t token,
                     struct waitrec *w)
{
    struct meta_lock lk = L(type, start, end, session, owner);
    struct meta_lock_waiter mw = { token, wr_done, wr_alive, w };
    return meta_lock_wait(tu_m, f, &lk, 0, &mw);
}

START_TEST(wait_and_wake)
{
    struct waitrec b, c;
    wr_init(&b);
    wr_init(&c);
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, 99, s1, 1), 0);
    /* Granted at once when free. */
    struct waitrec x;
    wr_init(&x);
    ck_assert_int_eq(wait_lock(META_LOCK_READ, 200, 300, s3, 3, 7, &x), 0);
    ck_assert_int_eq(wr_finished(&x), 0);
    /* Two wait, in order. */
    ck_assert_int_eq(wait_lock(META_LOCK_WRITE, 0, 9, s2, 2, 1, &b),
                     META_LOCK_QUEUED);
    ck_assert_int_eq(wait_lock(META_LOCK_WRITE, 5, 15, s3, 3, 2, &c),
                     META_LOCK_QUEUED);
    ck_assert_str_eq(held(), "W:0-99/1 R:200-300/3 wW:0-9/2 wW:5-15/3");
    /* A release elsewhere wakes nobody. */
    ck_assert_int_eq(set(META_LOCK_UNLOCK, 50, 99, s1, 1), 0);
    ck_assert_int_eq(wr_finished(&b) + wr_finished(&c), 0);
    /* The release that frees them: the first gets it, the second still
     * conflicts with the first and waits on. */
    ck_assert_int_eq(set(META_LOCK_UNLOCK, 0, EOF_, s1, 1), 0);
    ck_assert_int_eq(wr_finished(&b), 1);
    ck_assert_int_eq(b.status, 0);
    ck_assert_int_eq(wr_finished(&c), 0);
    ck_assert_str_eq(held(), "W:0-9/2 R:200-300/3 wW:5-15/3");
    /* A downgrade lets the second in? No: read still conflicts. */
    ck_assert_int_eq(set(META_LOCK_READ, 0, 9, s2, 2), 0);
    ck_assert_int_eq(wr_finished(&c), 0);
    /* The holder's session ends: the waiter gets the lock. */
    ck_assert_int_eq(meta_session_close(tu_m, s2), 0);
    ck_assert_int_eq(wr_finished(&c), 1);
    ck_assert_int_eq(c.status, 0);
    ck_assert_str_eq(held(), "W:5-15/3 R:200-300/3");
}
END_TEST

START_TEST(shared_waiters)
{
    struct waitrec b, c;
    wr_init(&b);
    wr_init(&c);
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, EOF_, s1, 1), 0);
    ck_assert_int_eq(wait_lock(META_LOCK_READ, 0, 9, s2, 2, 1, &b),
                     META_LOCK_QUEUED);
    ck_assert_int_eq(wait_lock(META_LOCK_READ, 0, 9, s3, 3, 2, &c),
                     META_LOCK_QUEUED);
    /* A downgrade to shared lets both readers in. */
    ck_assert_int_eq(set(META_LOCK_READ, 0, EOF_, s1, 1), 0);
    ck_assert_int_eq(wr_finished(&b) + wr_finished(&c), 2);
    ck_assert_int_eq(b.status, 0);
    ck_assert_int_eq(c.status, 0);
}
END_TEST

START_TEST(cancel)
{
    struct waitrec b, c;
    wr_init(&b);
    wr_init(&c);
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, 9, s1, 1), 0);
    ck_assert_int_eq(wait_lock(META_LOCK_WRITE, 0, 9, s2, 2, 77, &b),
                     META_LOCK_QUEUED);
    ck_assert_int_eq(meta_lock_cancel(tu_m, s2, 78), -ENOENT);
    ck_assert_int_eq(meta_lock_cancel(tu_m, s3, 77), -ENOENT);
    ck_assert_int_eq(meta_lock_cancel(tu_m, s2, 77), 0);
    ck_assert_int_eq(wr_finished(&b), 1);
    ck_assert_int_eq(b.status, -EINTR);
    ck_assert_int_eq(meta_lock_cancel(tu_m, s2, 77), -ENOENT);
    ck_assert_str_eq(held(), "W:0-9/1");
    /* A cancel that comes before its request: the request is refused. */
    ck_assert_int_eq(meta_lock_cancel(tu_m, s3, 500), -ENOENT);
    ck_assert_int_eq(wait_lock(META_LOCK_WRITE, 0, 9, s3, 3, 500, &c),
                     -EINTR);
    ck_assert_int_eq(wr_finished(&c), 0);
    /* ... once: the same token later waits normally. */
    ck_assert_int_eq(wait_lock(META_LOCK_WRITE, 0, 9, s3, 3, 500, &c),
                     META_LOCK_QUEUED);
    ck_assert_int_eq(meta_session_close(tu_m, s3), 0);
    ck_assert_int_eq(wr_finished(&c), 1);
    ck_assert_int_eq(c.status, -ESTALE);
}
END_TEST

START_TEST(deadlocks)
{
    struct waitrec a, b, c;
    wr_init(&a);
    wr_init(&b);
    wr_init(&c);
    /* Two owners: each holds what the other wants. */
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, 9, s1, 1), 0);
    ck_assert_int_eq(set(META_LOCK_WRITE, 10, 19, s2, 2), 0);
    ck_assert_int_eq(wait_lock(META_LOCK_WRITE, 10, 19, s1, 1, 1, &a),
                     META_LOCK_QUEUED);
    ck_assert_int_eq(wait_lock(META_LOCK_WRITE, 0, 9, s2, 2, 2, &b),
                     -EDEADLK);
    /* Non-blocking requests never deadlock. */
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, 9, s2, 2), -EAGAIN);
    /* Three owners in a ring. */
    ck_assert_int_eq(set(META_LOCK_WRITE, 20, 29, s3, 3), 0);
    ck_assert_int_eq(wait_lock(META_LOCK_WRITE, 20, 29, s2, 2, 3, &b),
                     META_LOCK_QUEUED);
    ck_assert_int_eq(wait_lock(META_LOCK_WRITE, 0, 9, s3, 3, 4, &c),
                     -EDEADLK);
    /* The chain unwinds as locks go. */
    ck_assert_int_eq(set(META_LOCK_UNLOCK, 20, 29, s3, 3), 0);
    ck_assert_int_eq(wr_finished(&b), 1);
    ck_assert_int_eq(b.status, 0);
    ck_assert_int_eq(set(META_LOCK_UNLOCK, 0, EOF_, s2, 2), 0);
    ck_assert_int_eq(wr_finished(&a), 1);
    ck_assert_int_eq(a.status, 0);
    ck_assert_str_eq(held(), "W:0-19/1");
}
END_TEST

START_TEST(dead_asker)
{
    struct waitrec b;
    wr_init(&b);
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, 9, s1, 1), 0);
    ck_assert_int_eq(wait_lock(META_LOCK_WRITE, 0, 9, s2, 2, 1, &b),
                     META_LOCK_QUEUED);
    b.alive = 0;                        /* its connection went */
    ck_assert_int_eq(meta_session_expire(tu_m, time(NULL)), 0);
    ck_assert_int_eq(wr_finished(&b), 1);
    ck_assert_int_eq(b.status, -ENOTCONN);
    /* The lock went to nobody. */
    ck_assert_int_eq(set(META_LOCK_UNLOCK, 0, 9, s1, 1), 0);
    ck_assert_str_eq(held(), "");
}
END_TEST

/* ---- restart and grace ---- */

static void reopen_grace(uint32_t grace)
{
    meta_close(tu_m);
    struct meta_opts o = { .dir = tu_dir, .default_block_size = TU_BS,
                           .lease_secs = TU_LEASE, .cache_bytes = 16u << 20,
                           .grace_secs = grace };
    tu_m = NULL;
    ck_assert_int_eq(meta_open(&o, &tu_m), 0);
    meta_test_nosync(tu_m);
}

START_TEST(restart_grace)
{
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, 9, s1, 1), 0);
    ck_assert_int_eq(set(META_LOCK_READ, 100, 109, s2, 2), 0);
    reopen_grace(2);
    ck_assert_uint_gt(meta_lock_grace_left(tu_m), 0);
    /* The locks are still there. */
    ck_assert_str_eq(held(), "W:0-9/1 R:100-109/2");
    ck_assert_int_eq(set(META_LOCK_READ, 5, 5, s3, 3), -EAGAIN);
    /* Their holders let go during the grace period (say their sessions
     * were NFS ones that ended); nobody else may take a conflicting lock
     * until they reclaim or the grace period ends. */
    ck_assert_int_eq(set(META_LOCK_UNLOCK, 0, EOF_, s1, 1), 0);
    ck_assert_int_eq(set(META_LOCK_UNLOCK, 0, EOF_, s2, 2), 0);
    struct meta_lock cf;
    ck_assert_int_eq(test(META_LOCK_READ, 5, 5, s3, 3, &cf), -EAGAIN);
    ck_assert_uint_eq(cf.owner, 1);
    ck_assert_int_eq(set(META_LOCK_READ, 5, 5, s3, 3), -EAGAIN);
    ck_assert_int_eq(set(META_LOCK_WRITE, 105, 105, s3, 3), -EAGAIN);
    /* What conflicts with nothing held before is granted. */
    ck_assert_int_eq(set(META_LOCK_READ, 100, 109, s3, 3), 0);
    ck_assert_int_eq(set(META_LOCK_WRITE, 50, 60, s3, 3), 0);
    /* The holders themselves may lock again; a reclaim is granted. */
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, 9, s1, 1), 0);
    struct meta_lock lk = L(META_LOCK_WRITE, 20, 29, s2, 2);
    ck_assert_int_eq(meta_lock_set(tu_m, f, &lk, META_LOCK_RECLAIM, NULL), 0);
    ck_assert_int_eq(set(META_LOCK_UNLOCK, 0, EOF_, s1, 1), 0);
    /* A waiter held back by grace is granted when it ends. */
    struct waitrec w;
    wr_init(&w);
    ck_assert_int_eq(wait_lock(META_LOCK_WRITE, 0, 9, s3, 3, 1, &w),
                     META_LOCK_QUEUED);
    struct timespec t = { 2, 200 * 1000 * 1000 };
    nanosleep(&t, NULL);
    ck_assert_uint_eq(meta_lock_grace_left(tu_m), 0);
    ck_assert_int_eq(wr_finished(&w), 0);
    meta_session_expire(tu_m, time(NULL));      /* the lease thread's tick */
    ck_assert_int_eq(wr_finished(&w), 1);
    ck_assert_int_eq(w.status, 0);
    ck_assert_int_eq(set(META_LOCK_READ, 5, 5, s1, 1), -EAGAIN);
    ck_assert_int_eq(set(META_LOCK_READ, 11, 11, s1, 1), 0);
}
END_TEST

START_TEST(no_grace_without_locks)
{
    reopen_grace(30);
    ck_assert_uint_eq(meta_lock_grace_left(tu_m), 0);
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, 9, s1, 1), 0);
}
END_TEST

START_TEST(close_ends_waiters)
{
    struct waitrec b;
    wr_init(&b);
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, 9, s1, 1), 0);
    ck_assert_int_eq(wait_lock(META_LOCK_WRITE, 0, 9, s2, 2, 1, &b),
                     META_LOCK_QUEUED);
    meta_close(tu_m);
    tu_m = NULL;
    ck_assert_int_eq(b.done, 1);
    ck_assert_int_eq(b.status, -ESHUTDOWN);
}
END_TEST

/* One session may have 4,096 requests waiting; the next is refused
 * (ENOLCK), other sessions' are not. */
START_TEST(waiters_per_session)
{
    enum { N = 4096 };
    struct waitrec *w = calloc(N + 2, sizeof(*w));
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(set(META_LOCK_WRITE, 0, 9, s1, 1), 0);
    for (int i = 0; i < N + 2; i++)
        wr_init(&w[i]);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(wait_lock(META_LOCK_READ, 0, 9, s2, 100 + (uint64_t)i,
                                   1 + (uint64_t)i, &w[i]),
                         META_LOCK_QUEUED);
    ck_assert_int_eq(wait_lock(META_LOCK_READ, 0, 9, s2, 99, 9999, &w[N]),
                     -ENOLCK);
    ck_assert_int_eq(wait_lock(META_LOCK_READ, 0, 9, s3, 3, 1, &w[N + 1]),
                     META_LOCK_QUEUED);
    ck_assert_int_eq(set(META_LOCK_UNLOCK, 0, 9, s1, 1), 0);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(wr_finished(&w[i]), 1);
    ck_assert_int_eq(wr_finished(&w[N]), 0);
    ck_assert_int_eq(wr_finished(&w[N + 1]), 1);
    free(w);
}
END_TEST

/* ---- threads ---- */

#define NTHREADS 4
#define ROUNDS   25

static int inside, overlaps_seen;
static pthread_mutex_t inside_mu = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    uint64_t owner = (uint64_t)(uintptr_t)arg;
    uint64_t session = owner % 2 ? s1 : s2;
    for (int i = 0; i < ROUNDS; i++) {
        struct waitrec w;
        wr_init(&w);
        int rc = wait_lock(META_LOCK_WRITE, 0, EOF_, session, owner,
                           owner * 1000 + (uint64_t)i, &w);
        if (rc == META_LOCK_QUEUED) {
            pthread_mutex_lock(&w.mu);
            while (!w.done)
                pthread_cond_wait(&w.cv, &w.mu);
            rc = w.status;
            pthread_mutex_unlock(&w.mu);
        }
        ck_assert_int_eq(rc, 0);
        pthread_mutex_lock(&inside_mu);
        if (++inside > 1)
            overlaps_seen++;
        pthread_mutex_unlock(&inside_mu);
        struct timespec t = { 0, 200 * 1000 };
        nanosleep(&t, NULL);
        pthread_mutex_lock(&inside_mu);
        inside--;
        pthread_mutex_unlock(&inside_mu);
        struct meta_lock un = L(META_LOCK_UNLOCK, 0, EOF_, session, owner);
        ck_assert_int_eq(meta_lock_set(tu_m, f, &un, 0, NULL), 0);
    }
    return NULL;
}

START_TEST(mutual_exclusion)
{
    pthread_t t[NTHREADS];
    for (uintptr_t i = 0; i < NTHREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker,
                                        (void *)(i + 1)), 0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(overlaps_seen, 0);
    ck_assert_str_eq(held(), "");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("meta_lock");
    TCase *t = tcase_create("lock");
    tcase_add_checked_fixture(t, lsetup, tu_teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, conflicts);
    tcase_add_test(t, waiters_per_session);
    tcase_add_test(t, split_merge);
    tcase_add_test(t, to_eof);
    tcase_add_test(t, flock_locks);
    tcase_add_test(t, release_and_sessions);
    tcase_add_test(t, wait_and_wake);
    tcase_add_test(t, shared_waiters);
    tcase_add_test(t, cancel);
    tcase_add_test(t, deadlocks);
    tcase_add_test(t, dead_asker);
    tcase_add_test(t, restart_grace);
    tcase_add_test(t, no_grace_without_locks);
    tcase_add_test(t, close_ends_waiters);
    tcase_add_test(t, mutual_exclusion);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
