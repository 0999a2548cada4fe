/* posix_proto.c - the native protocol's ACCESS, xattr and lock procedures
 * against a real gateway, from several libtirpc connections (each its own
 * session): xattr round trips and errors on the wire, an ACL set through
 * SETXATTR changing the mode and another uid's access, GETLK's conflict,
 * a blocking SETLK answered only when the lock goes (and not before),
 * LOCK_CANCEL of a waiting call, EDEADLK, LOCK_RELEASE, and UNMOUNT
 * dropping a session's locks and waking its waiters.
 *
 * Usage: posix_proto PORT */
#include "config.h"
#include "gw_client.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint16_t port;

#define CALL(g, proc, atype, a, rtype, r) \
    gw_call(g, proc, (xdrproc_t)xdr_##atype, (void *)(a), \
            (xdrproc_t)xdr_##rtype, (void *)(r), RPC_SUCCESS)

static fx_name nm(const char *s)
{
    fx_name n = { (u_int)strlen(s), (char *)s };
    return n;
}

static int setx(struct gw *g, uint64_t ino, fx_name name, const void *v,
                size_t len, uint32_t flags, fx_attr *out)
{
    fx_setxattr_args a = { ino, name, { (u_int)len, (char *)v }, flags };
    fx_attr_res r;
    memset(&r, 0, sizeof(r));
    CALL(g, FXPROC_SETXATTR, fx_setxattr_args, &a, fx_attr_res, &r);
    if (r.status == 0 && out)
        *out = r.fx_attr_res_u.attr;
    return r.status;
}

/* The value into buf (NUL-terminated); returns status, *len its size. */
static int getx(struct gw *g, uint64_t ino, fx_name name, char *buf,
                size_t cap, size_t *len)
{
    fx_xattr_args a = { ino, name };
    fx_getxattr_res r;
    memset(&r, 0, sizeof(r));
    CALL(g, FXPROC_GETXATTR, fx_xattr_args, &a, fx_getxattr_res, &r);
    int st = r.status;
    if (st == 0) {
        u_int n = r.fx_getxattr_res_u.value.value_len;
        CHECK(n < cap, "value of %u bytes", n);
        memcpy(buf, r.fx_getxattr_res_u.value.value_val, n);
        buf[n] = 0;
        if (len)
            *len = n;
    }
    xdr_free((xdrproc_t)xdr_fx_getxattr_res, (char *)&r);
    return st;
}

static int listx(struct gw *g, uint64_t ino, char *buf, size_t cap,
                 size_t *len)
{
    fx_getattr_args a = { ino };
    fx_listxattr_res r;
    memset(&r, 0, sizeof(r));
    CALL(g, FXPROC_LISTXATTR, fx_getattr_args, &a, fx_listxattr_res, &r);
    int st = r.status;
    if (st == 0) {
        u_int n = r.fx_listxattr_res_u.names.names_len;
        CHECK(n <= cap, "list of %u bytes", n);
        memcpy(buf, r.fx_listxattr_res_u.names.names_val, n);
        *len = n;
    }
    xdr_free((xdrproc_t)xdr_fx_listxattr_res, (char *)&r);
    return st;
}

static int rmx(struct gw *g, uint64_t ino, fx_name name)
{
    fx_xattr_args a = { ino, name };
    fx_attr_res r;
    memset(&r, 0, sizeof(r));
    CALL(g, FXPROC_REMOVEXATTR, fx_xattr_args, &a, fx_attr_res, &r);
    return r.status;
}

static int access_(struct gw *g, uint64_t ino, uint32_t mask)
{
    fx_access_args a = { ino, mask };
    fx_status_res r;
    CALL(g, FXPROC_ACCESS, fx_access_args, &a, fx_status_res, &r);
    return r.status;
}

/* ---- xattrs and ACLs ---- */

static void test_xattrs(void)
{
    struct gw g, u;
    gw_connect(&g, port, 0, 0);
    gw_connect(&u, port, 2000, 2000);
    fx_attr f, at;
    CHECK_OK(gw_create(&g, g.root, "xf", 0640, 1, 0, &f, NULL));
    char buf[70000];
    size_t len;
    CHECK_OK(setx(&g, f.ino, nm("user.k"), "v1", 2, 0, &at));
    CHECK(at.change > f.change, "change counter did not move");
    CHECK_OK(getx(&g, f.ino, nm("user.k"), buf, sizeof(buf), &len));
    CHECK(len == 2 && memcmp(buf, "v1", 2) == 0, "value %s", buf);
    CHECK_EQ(setx(&g, f.ino, nm("user.k"), "v2", 2, FX_XATTR_CREATE, NULL),
             EEXIST);
    CHECK_EQ(setx(&g, f.ino, nm("user.n"), "v2", 2, FX_XATTR_REPLACE, NULL),
             ENODATA);
    /* A 64 KiB value crosses the wire both ways. */
    static char big[FX_XATTR_SIZE_MAX];
    memset(big, 'b', sizeof(big));
    CHECK_OK(setx(&g, f.ino, nm("user.big"), big, sizeof(big), 0, NULL));
    CHECK_OK(getx(&g, f.ino, nm("user.big"), buf, sizeof(buf), &len));
    CHECK_EQ(len, sizeof(big));
    CHECK_OK(listx(&g, f.ino, buf, sizeof(buf), &len));
    CHECK(len == sizeof("user.big\0user.k") &&
          memcmp(buf, "user.big\0user.k", len) == 0, "list");
    /* Names: NUL inside, too long, no namespace. */
    fx_name withnul = { 6, "user.\0" };
    CHECK_EQ(setx(&g, f.ino, withnul, "x", 1, 0, NULL), EINVAL);
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    memcpy(longname, "user.", 5);
    longname[sizeof(longname) - 1] = 0;
    CHECK_EQ(getx(&g, f.ino, nm(longname), buf, sizeof(buf), NULL), ERANGE);
    CHECK_EQ(setx(&g, f.ino, nm("bogus"), "x", 1, 0, NULL), EOPNOTSUPP);
    /* Permissions follow the caller's credentials. */
    CHECK_EQ(getx(&u, f.ino, nm("user.k"), buf, sizeof(buf), NULL), EACCES);
    CHECK_EQ(access_(&u, f.ino, 4), EACCES);
    CHECK_OK(rmx(&g, f.ino, nm("user.k")));
    CHECK_EQ(rmx(&g, f.ino, nm("user.k")), ENODATA);
    /* An access ACL naming uid 2000: the mode's group bits become the
     * mask, and uid 2000 may read. */
    static const unsigned char acl[] = {
        2, 0, 0, 0,
        0x01, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,      /* user::rw- */
        0x02, 0, 4, 0, 0xd0, 0x07, 0, 0,            /* user:2000:r-- */
        0x04, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,      /* group::--- */
        0x10, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,      /* mask::r-- */
        0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,      /* other::--- */
    };
    CHECK_EQ(setx(&u, f.ino, nm("system.posix_acl_access"), acl,
                  sizeof(acl), 0, NULL), EPERM);
    CHECK_EQ(setx(&g, f.ino, nm("system.posix_acl_access"), acl, 7, 0, NULL),
             EINVAL);
    CHECK_OK(setx(&g, f.ino, nm("system.posix_acl_access"), acl, sizeof(acl),
                  0, &at));
    CHECK_EQ(at.mode & 07777, 0640);
    CHECK_OK(access_(&u, f.ino, 4));
    CHECK_EQ(access_(&u, f.ino, 2), EACCES);
    CHECK_OK(getx(&u, f.ino, nm("system.posix_acl_access"), buf, sizeof(buf),
                  &len));
    CHECK(len == sizeof(acl) && memcmp(buf, acl, len) == 0, "acl read back");
    gw_close(&u);
    gw_close(&g);
}

/* ---- locks ---- */

static fx_lock lk(uint32_t type, uint64_t start, uint64_t end,
                  uint64_t session, uint64_t owner)
{
    fx_lock l = { type, FX_LOCK_POSIX, start, end, session, owner,
                  (uint32_t)(1000 + owner) };
    return l;
}

static int setlk(struct gw *g, uint64_t ino, fx_lock l, int wait,
                 uint64_t token)
{
    fx_setlk_args a = { ino, l, wait, 0, token };
    fx_status_res r;
    CALL(g, FXPROC_SETLK, fx_setlk_args, &a, fx_status_res, &r);
    return r.status;
}

static int getlk(struct gw *g, uint64_t ino, fx_lock l, fx_lock *cf)
{
    fx_lock_args a = { ino, l };
    fx_getlk_res r;
    memset(&r, 0, sizeof(r));
    CALL(g, FXPROC_GETLK, fx_lock_args, &a, fx_getlk_res, &r);
    if (r.status == 0)
        *cf = r.fx_getlk_res_u.conflict;
    return r.status;
}

static int cancel(struct gw *g, uint64_t session, uint64_t token)
{
    fx_lock_cancel_args a = { session, token };
    fx_status_res r;
    CALL(g, FXPROC_LOCK_CANCEL, fx_lock_cancel_args, &a, fx_status_res, &r);
    return r.status;
}

static int release(struct gw *g, uint64_t ino, uint64_t session,
                   uint64_t owner)
{
    fx_lock_release_args a = { ino, session, owner, FX_LOCK_POSIX };
    fx_status_res r;
    CALL(g, FXPROC_LOCK_RELEASE, fx_lock_release_args, &a, fx_status_res,
         &r);
    return r.status;
}

/* A blocking SETLK on a connection of its own, in a thread. */
struct waiter {
    struct gw *g;
    uint64_t ino, token;
    fx_lock l;
    pthread_t t;
    pthread_mutex_t mu;
    int done, status;
};

static void *wait_main(void *arg)
{
    struct waiter *w = arg;
    int st = setlk(w->g, w->ino, w->l, 1, w->token);
    pthread_mutex_lock(&w->mu);
    w->done = 1;
    w->status = st;
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void wait_start(struct waiter *w, struct gw *g, uint64_t ino,
                       fx_lock l, uint64_t token)
{
    memset(w, 0, sizeof(*w));
    w->g = g;
    w->ino = ino;
    w->l = l;
    w->token = token;
    pthread_mutex_init(&w->mu, NULL);
    CHECK_OK(pthread_create(&w->t, NULL, wait_main, w));
}

static int wait_done(struct waiter *w)
{
    pthread_mutex_lock(&w->mu);
    int d = w->done;
    pthread_mutex_unlock(&w->mu);
    return d;
}

/* Joins w within secs; returns its status. */
static int wait_join(struct waiter *w, int secs)
{
    for (int i = 0; i < secs * 100 && !wait_done(w); i++)
        usleep(10000);
    CHECK(wait_done(w), "blocking SETLK not answered in %d s", secs);
    pthread_join(w->t, NULL);
    return w->status;
}

static void still_waiting(struct waiter *w)
{
    usleep(300000);
    CHECK(!wait_done(w), "blocking SETLK answered too early (status %d)",
          w->status);
}

static void test_locks(void)
{
    struct gw a, b, bw, c;
    gw_connect(&a, port, 0, 0);
    gw_connect(&b, port, 0, 0);
    bw = b;                             /* b's session, another connection */
    gw_connect(&bw, port, 0, 0);
    gw_unmount(&bw, bw.session);
    bw.session = b.session;
    gw_connect(&c, port, 0, 0);
    fx_attr f;
    CHECK_OK(gw_create(&a, a.root, "lf", 0666, 1, 0, &f, NULL));
    uint64_t ino = f.ino;

    /* Exclusive against exclusive; GETLK names the holder. */
    CHECK_OK(setlk(&a, ino, lk(FX_LOCK_WRITE, 0, 99, a.session, 1), 0, 0));
    CHECK_EQ(setlk(&b, ino, lk(FX_LOCK_WRITE, 50, 50, b.session, 2), 0, 0),
             EAGAIN);
    fx_lock cf;
    CHECK_OK(getlk(&b, ino, lk(FX_LOCK_READ, 10, FX_LOCK_EOF, b.session, 2),
                   &cf));
    CHECK_EQ(cf.type, FX_LOCK_WRITE);
    CHECK_EQ(cf.start, 0);
    CHECK_EQ(cf.end, 99);
    CHECK_EQ(cf.session, a.session);
    CHECK_EQ(cf.owner, 1);
    CHECK_EQ(cf.pid, 1001);
    CHECK_OK(getlk(&b, ino, lk(FX_LOCK_READ, 100, 200, b.session, 2), &cf));
    CHECK_EQ(cf.type, FX_LOCK_UNLOCK);

    /* A blocking request waits (the gateway holds the reply) and is
     * answered when the lock goes. */
    struct waiter w;
    wait_start(&w, &bw, ino, lk(FX_LOCK_WRITE, 0, 9, b.session, 2), 11);
    still_waiting(&w);
    CHECK_OK(setlk(&a, ino, lk(FX_LOCK_UNLOCK, 50, 99, a.session, 1), 0, 0));
    still_waiting(&w);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_OK(setlk(&a, ino, lk(FX_LOCK_UNLOCK, 0, FX_LOCK_EOF, a.session, 1),
                   0, 0));
    CHECK_OK(wait_join(&w, 5));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("posix_proto: blocked SETLK granted %.1f ms after the unlock\n",
           ms);
    CHECK_EQ(setlk(&a, ino, lk(FX_LOCK_READ, 5, 5, a.session, 1), 0, 0),
             EAGAIN);

    /* Cancel a waiting call: it ends with EINTR. */
    wait_start(&w, &c, ino, lk(FX_LOCK_READ, 0, 0, c.session, 3), 12);
    still_waiting(&w);
    CHECK_EQ(cancel(&a, c.session, 99), ENOENT);
    CHECK_OK(cancel(&a, c.session, 12));
    CHECK_EQ(wait_join(&w, 5), EINTR);

    /* Deadlock: b holds 0-9 (from above); a takes 20-29 and waits for
     * 0-9; b asking for 20-29 would close the cycle. */
    CHECK_OK(setlk(&a, ino, lk(FX_LOCK_WRITE, 20, 29, a.session, 1), 0, 0));
    struct gw aw = a;
    gw_connect(&aw, port, 0, 0);
    gw_unmount(&aw, aw.session);
    aw.session = a.session;
    wait_start(&w, &aw, ino, lk(FX_LOCK_WRITE, 0, 9, a.session, 1), 13);
    still_waiting(&w);
    CHECK_EQ(setlk(&b, ino, lk(FX_LOCK_WRITE, 20, 29, b.session, 2), 1, 14),
             EDEADLK);
    /* b's owner closes a descriptor: all its locks go, a gets 0-9. */
    CHECK_OK(release(&b, ino, b.session, 2));
    CHECK_OK(wait_join(&w, 5));

    /* An unmount drops the session's locks and wakes the waiters. */
    wait_start(&w, &bw, ino, lk(FX_LOCK_WRITE, 0, 29, b.session, 2), 15);
    still_waiting(&w);
    CHECK_OK(gw_unmount(&a, a.session));
    a.session = 0;
    CHECK_OK(wait_join(&w, 5));
    CHECK_EQ(setlk(&c, ino, lk(FX_LOCK_READ, 0, 0, c.session, 3), 0, 0),
             EAGAIN);
    /* Bad arguments. */
    CHECK_EQ(setlk(&c, ino, lk(FX_LOCK_WRITE, 9, 3, c.session, 3), 0, 0),
             EINVAL);
    CHECK_EQ(setlk(&c, 999999999, lk(FX_LOCK_WRITE, 0, 3, c.session, 3), 0,
                   0), ESTALE);
    fx_lock bad = lk(7, 0, 0, c.session, 3);
    CHECK_EQ(setlk(&c, ino, bad, 1, 16), EINVAL);

    aw.session = 0;
    bw.session = 0;
    gw_close(&aw);
    gw_close(&bw);
    gw_close(&a);
    gw_close(&b);
    gw_close(&c);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: posix_proto PORT\n");
        return 2;
    }
    port = (uint16_t)atoi(argv[1]);
    test_xattrs();
    test_locks();
    printf("posix_proto: all checks passed\n");
    return 0;
}
