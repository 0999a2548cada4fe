/* meta_session.c - client sessions (mounts) with their leases, and the
 * files they hold open.  An inode whose last link went while a session had
 * it open lives on until the last release or the end of the last session
 * holding it (inode_settle decides, from every path). */
#include "config.h"
#include "meta_internal.h"
#include "log.h"
#include "grow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#define SESSION_REC_MAX  (1 + 8 + 4 + 8 + 8 + 2 * (2 + META_NAME_MAX))
#define OPEN_REC_LEN     6              /* ver, count, writable */
#define OPEN_REC_LEN_OLD 5              /* ver, count: taken as writable */

/* ---- records ---- */

static int session_encode(const struct session_rec *s, uint8_t *buf,
                          size_t cap, size_t *len)
{
    size_t nl = strlen(s->client_name), al = strlen(s->client_addr);
    struct wbuf w;
    wb_init(&w, buf, cap);
    wb_u8(&w, REC_V1);
    wb_u64(&w, s->vol);
    wb_u32(&w, s->uid);
    wb_u64(&w, (uint64_t)s->mount_time);
    wb_u64(&w, (uint64_t)s->expiry);
    wb_u16(&w, (uint16_t)nl);
    wb_bytes(&w, s->client_name, nl);
    wb_u16(&w, (uint16_t)al);
    wb_bytes(&w, s->client_addr, al);
    *len = w.len;
    return w.overflow ? -ENAMETOOLONG : 0;
}

static int rb_string(struct rbuf *r, char *out)
{
    uint16_t n = rb_u16(r);
    const uint8_t *p = rb_bytes(r, n);
    if (!p || n > META_NAME_MAX)
        return -1;
    memcpy(out, p, n);
    out[n] = 0;
    return 0;
}

int session_decode(const void *buf, size_t len, uint64_t id,
                   struct session_rec *out)
{
    struct rbuf r;
    rb_init(&r, buf, len);
    uint8_t ver = rb_u8(&r);
    out->id = id;
    out->vol = rb_u64(&r);
    out->uid = rb_u32(&r);
    out->mount_time = (int64_t)rb_u64(&r);
    out->expiry = (int64_t)rb_u64(&r);
    if (rb_string(&r, out->client_name) || rb_string(&r, out->client_addr) ||
        r.bad || ver != REC_V1) {
        log_err("meta: malformed session record %llu",
                (unsigned long long)id);
        return -EIO;
    }
    return 0;
}

static int session_get(struct tx *tx, uint64_t id, struct session_rec *out,
                       uint32_t flags)
{
    uint8_t key[8], val[SESSION_REC_MAX];
    size_t len;
    be64_put(key, id);
    int rc = kv_get(tx, MDB_SESSIONS, key, 8, val, sizeof(val), &len, flags);
    if (rc)
        return rc == -ENOENT ? -ESTALE : rc;
    return session_decode(val, len, id, out);
}

static int session_put(struct tx *tx, const struct session_rec *s)
{
    uint8_t key[8], val[SESSION_REC_MAX];
    size_t len;
    be64_put(key, s->id);
    int rc = session_encode(s, val, sizeof(val), &len);
    return rc ? rc : kv_put(tx, MDB_SESSIONS, key, 8, val, len);
}

int session_check(struct tx *tx, uint64_t session)
{
    struct session_rec s;
    int rc = session_get(tx, session, &s, 0);
    if (rc)
        return rc;
    return s.expiry < tx->now.sec ? -ESTALE : 0;
}

/* ---- opens: (ino, session) -> count, and (session, ino) to find them ---- */

static void open_keys(uint8_t *ok, uint8_t *sk, uint64_t ino, uint64_t ses)
{
    be64_put(ok, ino);
    be64_put(ok + 8, ses);
    be64_put(sk, ses);
    be64_put(sk + 8, ino);
}

/* The opens of one (ino, session): how many, and whether one of them,
 * since the first, was for writing (which open(2) checked). */
static int open_count(struct tx *tx, const uint8_t *ok, uint32_t *count,
                      int *writable, uint32_t flags)
{
    uint8_t val[OPEN_REC_LEN];
    size_t len;
    int rc = kv_get(tx, MDB_OPENS, ok, 16, val, sizeof(val), &len, flags);
    if (rc)
        return rc;
    struct rbuf r;
    rb_init(&r, val, len);
    uint8_t ver = rb_u8(&r);
    *count = rb_u32(&r);
    *writable = len == OPEN_REC_LEN_OLD ? 1 : rb_u8(&r);
    if (r.bad || ver != REC_V1) {
        log_err("meta: malformed open record");
        return -EIO;
    }
    return 0;
}

static int open_count_put(struct tx *tx, const uint8_t *ok, uint32_t count,
                          int writable)
{
    uint8_t val[OPEN_REC_LEN];
    val[0] = REC_V1;
    be32_put(val + 1, count);
    val[5] = writable != 0;
    return kv_put(tx, MDB_OPENS, ok, 16, val, sizeof(val));
}

int opens_add(struct tx *tx, uint64_t ino, uint64_t session, int writable)
{
    uint8_t ok[16], sk[16];
    uint32_t count = 0;
    int was_writable = 0;
    open_keys(ok, sk, ino, session);
    int rc = open_count(tx, ok, &count, &was_writable, DB_RMW);
    if (rc == -ENOENT) {
        uint8_t ver = REC_V1;
        if ((rc = kv_put(tx, MDB_SESSOPENS, sk, 16, &ver, 1)))
            return rc;
    } else if (rc) {
        return rc;
    }
    return open_count_put(tx, ok, count + 1, writable || was_writable);
}

/* Drops one open (or all of them) of ino by session; settles an inode
 * that has no link left. */
static int opens_drop(struct tx *tx, uint64_t ino, uint64_t session, int all)
{
    uint8_t ok[16], sk[16];
    uint32_t count;
    int writable;
    open_keys(ok, sk, ino, session);
    int rc = open_count(tx, ok, &count, &writable, DB_RMW);
    if (rc)
        return rc;
    if (!all && count > 1)
        return open_count_put(tx, ok, count - 1, writable);
    if ((rc = kv_del(tx, MDB_OPENS, ok, 16)) ||
        ((rc = kv_del(tx, MDB_SESSOPENS, sk, 16)) && rc != -ENOENT))
        return rc;
    struct inode in;
    rc = inode_get(tx, ino, &in, DB_RMW);
    if (rc == -ESTALE)
        return 0;
    if (rc)
        return rc;
    return in.nlink == 0 ? inode_settle(tx, &in) : 0;
}

int opens_any(struct tx *tx, uint64_t ino)
{
    int rc = kv_none_under(tx, MDB_OPENS, ino);
    return rc < 0 ? rc : !rc;
}

int opens_writable(struct tx *tx, uint64_t ino, uint64_t session)
{
    uint8_t ok[16], sk[16];
    uint32_t count;
    int writable;
    open_keys(ok, sk, ino, session);
    int rc = open_count(tx, ok, &count, &writable, 0);
    return rc == 0 ? writable : rc == -ENOENT ? 0 : rc;
}

/* A growing list of ids (inodes, sessions). */
struct id_list {
    uint64_t *v;
    size_t n, cap;
};

static int id_push(struct id_list *l, uint64_t id)
{
    uint64_t *p = grow_room(l->v, l->n, &l->cap, sizeof(*p), 16);
    if (!p)
        return -ENOMEM;
    l->v = p;
    l->v[l->n++] = id;
    return 0;
}

/* Notes the inode of one sessopens record (key: session, inode). */
static int collect_ino(void *arg, const struct kv_rec *r)
{
    return r->klen == 16 ? id_push(arg, be64_get(r->key + 8)) : 0;
}

/* Ends a session inside tx: its record, its locks (their inodes noted in
 * kick, for waking waiters after the commit) and every open it held. */
static int session_end(struct tx *tx, uint64_t id, struct lock_kick *kick)
{
    uint8_t key[8];
    be64_put(key, id);
    int rc = kv_del(tx, MDB_SESSIONS, key, 8);
    if (rc)
        return rc == -ENOENT ? -ESTALE : rc;
    kick->n = 0;                        /* this attempt's, not a retried one's */
    if ((rc = locks_drop_session(tx, id, kick)))
        return rc;
    /* Collect the inodes first: dropping an open edits sessopens. */
    struct id_list l = { 0 };
    rc = kv_walk(tx, MDB_SESSOPENS, key, 8, NULL, 0, NULL, 0, 0,
                 collect_ino, &l);
    for (size_t i = 0; i < l.n && !rc; i++) {
        rc = opens_drop(tx, l.v[i], id, 1);
        if (rc == -ENOENT)
            rc = 0;
    }
    free(l.v);
    return rc;
}

/* ---- sessions ---- */

struct session_args {
    const char *volume, *name, *addr;
    const struct meta_cred *cr;
    uint64_t id;
    int64_t now;
    struct meta_volume *vol;
    struct id_list expired;
    struct lock_kick kick;
};

static int do_session_open(struct tx *tx, void *arg)
{
    struct session_args *a = arg;
    struct session_rec s = { 0 };
    size_t nl = a->name ? strlen(a->name) : 0;
    size_t al = a->addr ? strlen(a->addr) : 0;
    if (nl > META_NAME_MAX || al > META_NAME_MAX)
        return -ENAMETOOLONG;
    int rc = volume_get(tx, a->volume, a->vol);
    if (rc)
        return rc;
    if ((rc = tx_next(tx, SEQ_SESSION, &s.id)))
        return rc;
    s.vol = a->vol->id;
    s.uid = a->cr ? a->cr->uid : 0;
    s.mount_time = tx->now.sec;
    s.expiry = tx->now.sec + (int64_t)tx->m->lease_secs;
    if (nl)
        memcpy(s.client_name, a->name, nl);
    if (al)
        memcpy(s.client_addr, a->addr, al);
    a->id = s.id;
    return session_put(tx, &s);
}

int meta_session_open(struct meta *m, const char *volume,
                      const char *client_name, const char *client_addr,
                      const struct meta_cred *cred, uint64_t *session,
                      struct meta_volume *vol)
{
    struct meta_volume v;
    struct session_args a = { .volume = volume, .name = client_name,
                              .addr = client_addr, .cr = cred,
                              .vol = vol ? vol : &v };
    int rc = tx_run(m, do_session_open, &a);
    if (rc == 0)
        *session = a.id;
    return rc;
}

static int do_session_renew(struct tx *tx, void *arg)
{
    struct session_args *a = arg;
    struct session_rec s;
    int rc = session_get(tx, a->id, &s, DB_RMW);
    if (rc)
        return rc;
    if (s.expiry < tx->now.sec)
        return -ESTALE;
    s.expiry = tx->now.sec + (int64_t)tx->m->lease_secs;
    return session_put(tx, &s);
}

struct session_from_args {
    uint64_t id;
    const char *addr;
};

static int do_session_from(struct tx *tx, void *arg)
{
    struct session_from_args *a = arg;
    struct session_rec s;
    int rc = session_get(tx, a->id, &s, 0);
    if (rc)
        return rc;
    return strcmp(s.client_addr, a->addr) == 0 ? 0 : -ESTALE;
}

int meta_session_from(struct meta *m, uint64_t session, const char *addr)
{
    struct session_from_args a = { session, addr };
    /* Reads what MOUNT wrote durably; promises nothing new. */
    return tx_run_lazy(m, do_session_from, &a);
}

int meta_session_renew(struct meta *m, uint64_t session)
{
    struct session_args a = { .id = session };
    return tx_run(m, do_session_renew, &a);
}

static int do_session_close(struct tx *tx, void *arg)
{
    struct session_args *a = arg;
    return session_end(tx, a->id, &a->kick);
}

/* After a session ended: its waiting lock requests end, and whoever
 * waited for its locks is retried. */
static void session_gone(struct meta *m, struct session_args *a, int ended)
{
    if (ended) {
        lockwait_session_gone(m, a->id);
        lockwait_kick(m, &a->kick);
    } else {
        free(a->kick.inos);
    }
    a->kick = (struct lock_kick){ NULL, 0, 0 };
}

int meta_session_close(struct meta *m, uint64_t session)
{
    struct session_args a = { .id = session };
    int rc = tx_run(m, do_session_close, &a);
    session_gone(m, &a, rc == 0);
    return rc;
}

struct session_walk {
    struct tx *tx;
    int (*fn)(struct tx *, DBC *, struct session_rec *, void *);
    void *arg;
    int result;                         /* fn's positive answer, if any */
};

static int session_one(void *arg, const struct kv_rec *r)
{
    struct session_walk *w = arg;
    struct session_rec s;
    if (r->klen != 8)
        return -EIO;
    int rc = session_decode(r->val, r->vlen, be64_get(r->key), &s);
    if (rc == 0 && (rc = w->fn(w->tx, r->cursor, &s, w->arg)) > 0) {
        w->result = rc;
        rc = KV_STOP;
    }
    return rc;
}

int sessions_scan(struct tx *tx, uint32_t flags,
                         int (*fn)(struct tx *, DBC *, struct session_rec *,
                                   void *),
                         void *arg)
{
    uint8_t vbuf[SESSION_REC_MAX];
    struct session_walk w = { tx, fn, arg, 0 };
    int rc = kv_walk(tx, MDB_SESSIONS, NULL, 0, NULL, 0, vbuf, sizeof(vbuf),
                     flags, session_one, &w);
    return rc ? rc : w.result;
}

static int collect_expired(struct tx *tx, DBC *c, struct session_rec *s,
                           void *arg)
{
    struct session_args *a = arg;
    return s->expiry < a->now ? id_push(&a->expired, s->id) : 0;
}

static int do_expired_list(struct tx *tx, void *arg)
{
    struct session_args *a = arg;
    a->expired.n = 0;
    return sessions_scan(tx, 0, collect_expired, a);
}

/* Ends one session if it is still expired (it may have been renewed or
 * closed since the list was made). */
static int do_expire_one(struct tx *tx, void *arg)
{
    struct session_args *a = arg;
    struct session_rec s;
    int rc = session_get(tx, a->id, &s, DB_RMW);
    if (rc == -ESTALE)
        return 0;
    if (rc)
        return rc;
    if (s.expiry >= a->now)
        return 0;
    rc = session_end(tx, a->id, &a->kick);
    return rc ? rc : 1;
}

int meta_session_expire(struct meta *m, int64_t now)
{
    struct session_args a = { .now = now };
    int rc = tx_run(m, do_expired_list, &a);
    int ended = 0;
    /* One transaction per session: a long list never holds many locks. */
    for (size_t i = 0; i < a.expired.n && rc >= 0; i++) {
        struct session_args one = { .id = a.expired.v[i], .now = now };
        rc = tx_run(m, do_expire_one, &one);
        session_gone(m, &one, rc > 0);
        if (rc > 0) {
            log_info("meta: session %llu expired",
                     (unsigned long long)a.expired.v[i]);
            ended++;
        }
    }
    free(a.expired.v);
    lockwait_tick(m);
    return rc < 0 ? rc : ended;
}

static int push_expiry(struct tx *tx, DBC *c, struct session_rec *s,
                       void *arg)
{
    s->expiry = tx->now.sec + (int64_t)tx->m->lease_secs;
    uint8_t val[SESSION_REC_MAX];
    size_t len;
    int rc = session_encode(s, val, sizeof(val), &len);
    if (rc)
        return rc;
    DBT k = { 0 };
    DBT v = { .data = val, .size = (u_int32_t)len };
    tx->dirty = 1;
    return db_err(c->put(c, &k, &v, DB_CURRENT));
}

static int do_refresh(struct tx *tx, void *arg)
{
    return sessions_scan(tx, DB_RMW, push_expiry, arg);
}

int sessions_refresh(struct meta *m)
{
    return tx_run(m, do_refresh, NULL);
}

/* ---- open, release ---- */

struct open_args {
    const struct meta_cred *cr;
    uint64_t ino, session;
    uint32_t flags;
    struct meta_attr *out;
};

static int open_want(uint32_t flags)
{
    int want;
    switch (flags & O_ACCMODE) {
    case O_RDONLY: want = PERM_READ; break;
    case O_WRONLY: want = PERM_WRITE; break;
    case O_RDWR:   want = PERM_READ | PERM_WRITE; break;
    default:       return -EINVAL;
    }
    if (flags & O_TRUNC)
        want |= PERM_WRITE;
    return want;
}

static int do_open_file(struct tx *tx, void *arg)
{
    struct open_args *a = arg;
    struct inode in;
    int want = open_want(a->flags);
    if (want < 0)
        return want;
    int rc = inode_get(tx, a->ino, &in, DB_RMW);
    if (rc)
        return rc;
    if (S_ISDIR(in.mode) && (want & PERM_WRITE))
        return -EISDIR;
    if (S_ISLNK(in.mode))
        return -ELOOP;
    struct perm_node pn = inode_perm(tx, &in);
    if ((rc = perm_access(a->cr, &pn, want)))
        return rc;
    if (a->session && (rc = session_check(tx, a->session)))
        return rc;
    if ((a->flags & O_TRUNC) && S_ISREG(in.mode)) {
        in.mode = perm_write_kill(a->cr, in.mode);
        if ((rc = xattr_kill_caps(tx, &in)) ||
            (rc = inode_truncate(tx, &in, 0)) ||
            (rc = inode_changed(tx, &in, CH_CTIME | CH_MTIME)) ||
            (rc = inode_put(tx, &in)))
            return rc;
    }
    int writes = (a->flags & O_ACCMODE) != O_RDONLY || (a->flags & O_TRUNC);
    if (a->session && (rc = opens_add(tx, a->ino, a->session, writes)))
        return rc;
    inode_attr(&in, a->out);
    return 0;
}

int meta_open_file(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                   uint64_t session, uint32_t flags, struct meta_attr *out)
{
    struct open_args a = { .cr = cr, .ino = ino, .session = session,
                           .flags = flags, .out = out };
    return tx_run(m, do_open_file, &a);
}

/* A release with no open to match (a retried call, a session already
 * ended) succeeds: there is nothing left to close. */
static int do_release(struct tx *tx, void *arg)
{
    struct open_args *a = arg;
    int rc = opens_drop(tx, a->ino, a->session, 0);
    if (rc != -ENOENT)
        return rc;
    struct inode in;
    return inode_get(tx, a->ino, &in, 0);
}

/* Lazy: if a gateway crash loses a release, the open stays counted until
 * its session ends (unmount or lease expiry), so an unlinked file's blocks
 * are kept that much longer; no data and no name is lost.  (GC flushes
 * the log before it deletes anything, see meta_garbage_list.) */
int meta_release(struct meta *m, uint64_t ino, uint64_t session)
{
    struct open_args a = { .ino = ino, .session = session };
    return tx_run_lazy(m, do_release, &a);
}
