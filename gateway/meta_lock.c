/* meta_lock.c - advisory locks in the locks database: POSIX byte ranges
 * (split, merged, upgraded and downgraded per owner, as Linux's
 * posix_lock_inode does) and flock whole-file locks, each owned by
 * (session, owner).  Every request is one transaction that first takes
 * the inode's record for writing, so requests on one inode run one at a
 * time.  Waiting requests, deadlock detection and the grace period are
 * meta_lockwait.c's.
 *
 * Records: locks (ino, kind, session, owner, start) -> type, end, pid. */
#include "config.h"
#include "meta_internal.h"
#include "log.h"
#include "grow.h"

#include <errno.h>
#include <stdlib.h>

#define LOCK_KEY_LEN        33
#define LOCK_REC_LEN        14
#define LOCK_MAX_PER_INODE  16384

/* ---- records ---- */

static void lock_key(uint8_t *k, uint64_t ino, const struct meta_lock *l)
{
    be64_put(k, ino);
    k[8] = (uint8_t)l->kind;
    be64_put(k + 9, l->session);
    be64_put(k + 17, l->owner);
    be64_put(k + 25, l->start);
}

static void lock_val(uint8_t *v, const struct meta_lock *l)
{
    v[0] = REC_V1;
    v[1] = (uint8_t)l->type;
    be64_put(v + 2, l->end);
    be32_put(v + 10, l->pid);
}

static int lock_decode(const uint8_t *k, size_t klen, const uint8_t *v,
                       size_t vlen, uint64_t *ino, struct meta_lock *out)
{
    if (klen != LOCK_KEY_LEN || vlen != LOCK_REC_LEN || v[0] != REC_V1 ||
        k[8] > META_LOCK_FLOCK || v[1] < META_LOCK_READ ||
        v[1] > META_LOCK_WRITE) {
        log_err("meta: malformed lock record");
        return -EIO;
    }
    *ino = be64_get(k);
    out->kind = k[8];
    out->session = be64_get(k + 9);
    out->owner = be64_get(k + 17);
    out->start = be64_get(k + 25);
    out->type = v[1];
    out->end = be64_get(v + 2);
    out->pid = be32_get(v + 10);
    return 0;
}

static int lock_put(struct tx *tx, uint64_t ino, const struct meta_lock *l)
{
    uint8_t k[LOCK_KEY_LEN], v[LOCK_REC_LEN];
    lock_key(k, ino, l);
    lock_val(v, l);
    return kv_put(tx, MDB_LOCKS, k, sizeof(k), v, sizeof(v));
}

static int lock_del(struct tx *tx, uint64_t ino, const struct meta_lock *l)
{
    uint8_t k[LOCK_KEY_LEN];
    lock_key(k, ino, l);
    int rc = kv_del(tx, MDB_LOCKS, k, sizeof(k));
    return rc == -ENOENT ? -EIO : rc;
}

/* Called per lock record; may delete it through c.  Nonzero stops the
 * scan (negative: an error). */
typedef int (*lock_fn)(void *arg, DBC *c, uint64_t ino,
                       const struct meta_lock *l);

struct scan_args {
    lock_fn fn;
    void *arg;
};

static int scan_one(void *arg, const struct kv_rec *r)
{
    struct scan_args *sa = arg;
    uint64_t ino;
    struct meta_lock l;
    int rc = lock_decode(r->key, r->klen, r->val, r->vlen, &ino, &l);
    return rc ? rc : sa->fn(sa->arg, r->cursor, ino, &l);
}

/* Visits the locks on ino (0: every lock) in key order. */
static int locks_scan(struct tx *tx, uint64_t ino, uint32_t rmw, lock_fn fn,
                      void *arg)
{
    uint8_t prefix[8], vbuf[LOCK_REC_LEN + 16];
    be64_put(prefix, ino);
    struct scan_args sa = { fn, arg };
    return kv_walk(tx, MDB_LOCKS, prefix, ino ? 8 : 0, NULL, 0, vbuf,
                   sizeof(vbuf), rmw, scan_one, &sa);
}

/* ---- sets of locks ---- */

struct lock_set {
    struct meta_lock *l;
    size_t n, cap;
};

static int set_push(struct lock_set *s, const struct meta_lock *l)
{
    struct meta_lock *p = grow_room(s->l, s->n, &s->cap, sizeof(*p), 8);
    if (!p)
        return -ENOMEM;
    s->l = p;
    s->l[s->n++] = *l;
    return 0;
}

static int collect(void *arg, DBC *c, uint64_t ino, const struct meta_lock *l)
{
    struct lock_set *s = arg;
    if (s->n >= LOCK_MAX_PER_INODE) {
        log_err("meta: more than %d locks on inode %llu", LOCK_MAX_PER_INODE,
                (unsigned long long)ino);
        return -ENOLCK;
    }
    return set_push(s, l);
}

int lock_kick_add(struct lock_kick *k, uint64_t ino)
{
    if (k->n && k->inos[k->n - 1] == ino)
        return 0;
    uint64_t *p = grow_room(k->inos, k->n, &k->cap, sizeof(*p), 8);
    if (!p)
        return -ENOMEM;
    k->inos = p;
    k->inos[k->n++] = ino;
    return 0;
}

/* ---- the lock algebra ---- */

static int same_owner(const struct meta_lock *a, const struct meta_lock *b)
{
    return a->kind == b->kind && a->session == b->session &&
           a->owner == b->owner;
}

static int overlaps(const struct meta_lock *a, const struct meta_lock *b)
{
    return a->start <= b->end && b->start <= a->end;
}

/* Overlapping or adjacent. */
static int touches(const struct meta_lock *a, const struct meta_lock *b)
{
    return (b->end == META_LOCK_EOF || a->start <= b->end + 1) &&
           (a->end == META_LOCK_EOF || b->start <= a->end + 1);
}

int lock_conflicts_with(const struct meta_lock *a, const struct meta_lock *b)
{
    if (a->kind != b->kind || same_owner(a, b))
        return 0;
    if (a->type == META_LOCK_UNLOCK || b->type == META_LOCK_UNLOCK)
        return 0;
    if (a->type != META_LOCK_WRITE && b->type != META_LOCK_WRITE)
        return 0;
    return overlaps(a, b);
}

/* An owner's locks (own) after request r, into out.  Locks of r's type
 * that touch it merge into it; other locks lose the part it covers (a
 * lock split in two when r falls inside it).  *released: the change let
 * go of something (an unlock, or a write lock turned shared). */
static int apply(const struct lock_set *own, const struct meta_lock *req,
                 struct lock_set *out, int *released)
{
    struct meta_lock r = *req;
    char *gone = calloc(own->n ? own->n : 1, 1);
    int rc = 0;
    if (!gone)
        return -ENOMEM;
    if (r.type != META_LOCK_UNLOCK) {
        for (int changed = 1; changed;) {
            changed = 0;
            for (size_t i = 0; i < own->n; i++) {
                const struct meta_lock *l = &own->l[i];
                if (gone[i] || l->type != r.type || !touches(l, &r))
                    continue;
                if (l->start < r.start)
                    r.start = l->start;
                if (l->end > r.end)
                    r.end = l->end;
                gone[i] = 1;
                changed = 1;
            }
        }
    }
    for (size_t i = 0; i < own->n && rc == 0; i++) {
        const struct meta_lock *l = &own->l[i];
        if (gone[i])
            continue;
        if (!overlaps(l, &r)) {
            rc = set_push(out, l);
            continue;
        }
        if (r.type == META_LOCK_UNLOCK ||
            (l->type == META_LOCK_WRITE && r.type == META_LOCK_READ))
            *released = 1;
        struct meta_lock piece = *l;
        if (l->start < r.start) {
            piece.end = r.start - 1;
            rc = set_push(out, &piece);
        }
        if (rc == 0 && l->end > r.end) {
            piece = *l;
            piece.start = r.end + 1;
            rc = set_push(out, &piece);
        }
    }
    if (rc == 0 && r.type != META_LOCK_UNLOCK)
        rc = set_push(out, &r);
    free(gone);
    return rc;
}

static void add_blocker(struct lock_conflicts *cf, const struct meta_lock *l)
{
    if (l->kind != META_LOCK_POSIX)
        return;
    for (uint32_t i = 0; i < cf->nblockers; i++)
        if (cf->blockers[i].session == l->session &&
            cf->blockers[i].owner == l->owner)
            return;
    if (cf->nblockers < LOCK_MAX_BLOCKERS)
        cf->blockers[cf->nblockers++] =
            (struct lock_owner_id){ l->session, l->owner };
}

/* ---- one request ---- */

struct lock_args {
    uint64_t ino;
    struct meta_lock lk;                /* normalized */
    uint32_t flags;
    int test_only;
    struct lock_conflicts *cf;
    int released;
};

/* What stands in the way of a->lk among all (and, in grace, the locks
 * held before the restart): 0 or -EAGAIN. */
static int find_conflicts(struct tx *tx, struct lock_args *a,
                          const struct lock_set *all)
{
    struct lock_conflicts *cf = a->cf;
    int any = 0;
    for (size_t i = 0; i < all->n; i++) {
        if (!lock_conflicts_with(&all->l[i], &a->lk))
            continue;
        if (!any)
            cf->first = all->l[i];
        any = 1;
        add_blocker(cf, &all->l[i]);
    }
    if (!any && !(a->flags & META_LOCK_RECLAIM) &&
        lock_grace_conflict(tx->m, a->ino, &a->lk, &cf->first)) {
        cf->by_grace = 1;
        any = 1;
    }
    return any ? -EAGAIN : 0;
}

static int do_lock(struct tx *tx, void *arg)
{
    struct lock_args *a = arg;
    struct lock_set all = { 0 }, own = { 0 }, out = { 0 };
    struct inode in;
    a->released = 0;
    memset(a->cf, 0, sizeof(*a->cf));
    a->cf->first.type = META_LOCK_UNLOCK;
    int rc = inode_get(tx, a->ino, &in, a->test_only ? 0 : DB_RMW);
    if (rc)
        return rc;
    if (!a->test_only && a->lk.type != META_LOCK_UNLOCK &&
        (rc = session_check(tx, a->lk.session)))
        return rc;
    if ((rc = locks_scan(tx, a->ino, 0, collect, &all)))
        goto out;
    if (a->lk.type != META_LOCK_UNLOCK &&
        (rc = find_conflicts(tx, a, &all)))
        goto out;
    if (a->test_only)
        goto out;
    for (size_t i = 0; i < all.n && rc == 0; i++)
        if (same_owner(&all.l[i], &a->lk))
            rc = set_push(&own, &all.l[i]);
    if (rc || (rc = apply(&own, &a->lk, &out, &a->released)))
        goto out;
    if (all.n - own.n + out.n > LOCK_MAX_PER_INODE) {
        rc = -ENOLCK;
        goto out;
    }
    for (size_t i = 0; i < own.n && rc == 0; i++)
        rc = lock_del(tx, a->ino, &own.l[i]);
    for (size_t i = 0; i < out.n && rc == 0; i++)
        rc = lock_put(tx, a->ino, &out.l[i]);
out:
    free(all.l);
    free(own.l);
    free(out.l);
    return rc;
}

/* A request as the table keeps it: flock locks span the whole file. */
static int lock_norm(const struct meta_lock *in, struct meta_lock *out)
{
    *out = *in;
    if (in->type > META_LOCK_WRITE || in->kind > META_LOCK_FLOCK)
        return -EINVAL;
    if (in->kind == META_LOCK_FLOCK) {
        out->start = 0;
        out->end = META_LOCK_EOF;
    } else if (in->start > in->end) {
        return -EINVAL;
    }
    return 0;
}

int lock_try(struct meta *m, uint64_t ino, const struct meta_lock *lk,
             uint32_t flags, int test_only, struct lock_conflicts *cf,
             int *released)
{
    struct lock_args a = { .ino = ino, .flags = flags,
                           .test_only = test_only, .cf = cf };
    int rc = lock_norm(lk, &a.lk);
    *released = 0;
    if (rc)
        return rc;
    if (test_only && a.lk.type == META_LOCK_UNLOCK)
        return -EINVAL;
    rc = tx_run(m, do_lock, &a);
    *released = rc == 0 && a.released;
    return rc;
}

static void conflict_out(struct meta_lock *out, int rc,
                         const struct lock_conflicts *cf)
{
    if (!out)
        return;
    if (rc == -EAGAIN) {
        *out = cf->first;
    } else {
        memset(out, 0, sizeof(*out));
        out->type = META_LOCK_UNLOCK;
    }
}

int meta_lock_test(struct meta *m, uint64_t ino, const struct meta_lock *lk,
                   struct meta_lock *conflict)
{
    struct lock_conflicts cf;
    int released;
    int rc = lock_try(m, ino, lk, 0, 1, &cf, &released);
    conflict_out(conflict, rc, &cf);
    return rc;
}

int meta_lock_set(struct meta *m, uint64_t ino, const struct meta_lock *lk,
                  uint32_t flags, struct meta_lock *conflict)
{
    struct lock_conflicts cf;
    int released;
    int rc = lock_try(m, ino, lk, flags, 0, &cf, &released);
    conflict_out(conflict, rc, &cf);
    if (released) {
        struct lock_kick k = { NULL, 0, 0 };
        if (lock_kick_add(&k, ino) == 0)
            lockwait_kick(m, &k);
    }
    return rc;
}

/* ---- owners and sessions ---- */

struct owner_args {
    uint64_t ino, session, owner;
    uint32_t kind;
    int any_kind;
    uint32_t count;
    struct lock_kick kick;
    struct lock_set found;
};

static int drop_owner(void *arg, DBC *c, uint64_t ino,
                      const struct meta_lock *l)
{
    struct owner_args *a = arg;
    if (l->session != a->session || l->owner != a->owner ||
        l->kind != a->kind)
        return 0;
    int rc = db_err(c->del(c, 0));
    return rc ? rc : lock_kick_add(&a->kick, ino);
}

static int do_release(struct tx *tx, void *arg)
{
    struct owner_args *a = arg;
    a->kick.n = 0;
    if (a->ino) {
        struct inode in;
        int rc = inode_get(tx, a->ino, &in, DB_RMW);
        if (rc)
            return rc == -ESTALE ? 0 : rc;
    }
    int rc = locks_scan(tx, a->ino, DB_RMW, drop_owner, a);
    if (rc == 0 && a->kick.n)
        tx->dirty = 1;
    return rc;
}

int meta_lock_release(struct meta *m, uint64_t ino, uint64_t session,
                      uint64_t owner, uint32_t kind)
{
    if (kind > META_LOCK_FLOCK)
        return -EINVAL;
    struct owner_args a = { .ino = ino, .session = session, .owner = owner,
                            .kind = kind };
    int rc = tx_run(m, do_release, &a);
    if (rc == 0)
        lockwait_kick(m, &a.kick);
    else
        free(a.kick.inos);
    return rc;
}

static int count_owner(void *arg, DBC *c, uint64_t ino,
                       const struct meta_lock *l)
{
    struct owner_args *a = arg;
    if (l->session == a->session && l->owner == a->owner)
        a->count++;
    return 0;
}

static int do_held(struct tx *tx, void *arg)
{
    struct owner_args *a = arg;
    a->count = 0;
    return locks_scan(tx, a->ino, 0, count_owner, a);
}

int meta_lock_held(struct meta *m, uint64_t ino, uint64_t session,
                   uint64_t owner)
{
    struct owner_args a = { .ino = ino, .session = session, .owner = owner };
    int rc = tx_run(m, do_held, &a);
    return rc ? rc : (int)a.count;
}

static int drop_session(void *arg, DBC *c, uint64_t ino,
                        const struct meta_lock *l)
{
    struct owner_args *a = arg;
    if (l->session != a->session)
        return 0;
    int rc = db_err(c->del(c, 0));
    return rc ? rc : lock_kick_add(&a->kick, ino);
}

int locks_drop_session(struct tx *tx, uint64_t session, struct lock_kick *k)
{
    struct owner_args a = { .session = session, .kick = *k };
    int rc = locks_scan(tx, 0, DB_RMW, drop_session, &a);
    *k = a.kick;
    if (k->n)
        tx->dirty = 1;
    return rc;
}

/* ---- listing ---- */

struct list_item {
    uint64_t ino;
    struct meta_lock l;
};

struct list_args {
    uint64_t ino;
    struct list_item *items;
    size_t n, cap;
};

static int list_one(void *arg, DBC *c, uint64_t ino, const struct meta_lock *l)
{
    struct list_args *a = arg;
    struct list_item *p = grow_room(a->items, a->n, &a->cap, sizeof(*p), 16);
    if (!p)
        return -ENOMEM;
    a->items = p;
    a->items[a->n++] = (struct list_item){ ino, *l };
    return 0;
}

static int do_list(struct tx *tx, void *arg)
{
    struct list_args *a = arg;
    a->n = 0;
    return locks_scan(tx, a->ino, 0, list_one, a);
}

int meta_lock_list(struct meta *m, uint64_t ino, meta_lock_visit cb,
                   void *arg)
{
    struct list_args a = { .ino = ino };
    int rc = tx_run(m, do_list, &a);
    for (size_t i = 0; rc == 0 && i < a.n; i++)
        if (cb(arg, a.items[i].ino, &a.items[i].l, 0))
            rc = 1;
    free(a.items);
    if (rc)
        return rc < 0 ? rc : 0;
    return lockwait_list(m, ino, cb, arg);
}
