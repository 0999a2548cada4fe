/* meta_fsck.c - the consistency check of flexfs-admin fsck: the namespace
 * against itself (entries naming missing inodes, link counts, inodes that
 * no entry names) and the block maps against the block store (map entries
 * whose object is missing, objects nothing names).
 *
 * The walk reads each database in short transactions (scan_db), keeping a
 * compact table of inodes in memory, so the gateway keeps serving while
 * it runs.  Whatever it finds is checked again in a transaction of its
 * own before it is reported or repaired, and an inode whose change counter
 * moved since the walk saw it is left alone: a check racing with clients
 * reports what is still wrong, not what was in flux. */
#include "config.h"
#include "meta_admin_int.h"
#include "blockkey.h"
#include "log.h"
#include "store.h"
#include "grow.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#define LOST_FOUND      "lost+found"
#define LOST_FOUND_LEN  10

struct ino_info {
    uint64_t ino, vol, change;
    uint32_t mode, nlink;
    uint32_t refs;                      /* entries naming it */
    uint32_t subdirs;                   /* directories: subdirectory entries */
};

struct dangling {
    uint64_t parent, ino, cookie;
    size_t namelen;
    char name[META_NAME_MAX + 1];
};

struct mapent {                         /* a block map entry to look at */
    uint64_t vol, ino, index, version;
    uint32_t length;
};

struct obj {
    uint64_t vol, ino, index, version;
    int seen;                           /* a map or garbage entry names it */
};

struct fsck {
    struct meta *m;
    const struct meta_fsck_opts *o;
    struct meta_fsck_result *r;
    struct meta_admin_volume *vols;
    size_t nvols;
    uint64_t deleting[64];              /* volumes being deleted: skipped */
    size_t ndeleting;

    struct ino_info *in;
    size_t nin, capin;
    struct dangling *dang;
    size_t ndang, capdang;
    struct mapent *miss, *stray;        /* missing objects, maps of no inode */
    size_t nmiss, capmiss, nstray, capstray;
    struct obj *objs;
    size_t nobj, capobj;

    uint64_t done, total;               /* progress of the current phase */
    const char *phase;
};

/* ---- small helpers ---- */

static void problem(struct fsck *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct fsck *f, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_info("fsck: %s", msg);
    if (f->o->problem)
        f->o->problem(f->o->arg, msg);
}

static void phase(struct fsck *f, const char *name, uint64_t total)
{
    f->phase = name;
    f->done = 0;
    f->total = total;
    if (f->o->progress)
        f->o->progress(f->o->arg, name, 0, total);
}

static void tick(struct fsck *f)
{
    f->done++;
    if (f->o->progress && (f->done % 256 == 0 || f->done == f->total))
        f->o->progress(f->o->arg, f->phase, f->done, f->total);
}

static int cancelled(void *arg)
{
    struct fsck *f = arg;
    return f->o->cancelled && f->o->cancelled(f->o->arg);
}

static struct ino_info *find_ino(struct fsck *f, uint64_t ino)
{
    size_t lo = 0, hi = f->nin;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->in[mid].ino == ino)
            return &f->in[mid];
        if (f->in[mid].ino < ino)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const struct meta_admin_volume *find_vol(struct fsck *f, uint64_t id)
{
    for (size_t i = 0; i < f->nvols; i++)
        if (f->vols[i].vol.id == id)
            return &f->vols[i];
    return NULL;
}

static int vol_deleting(struct fsck *f, uint64_t id)
{
    for (size_t i = 0; i < f->ndeleting; i++)
        if (f->deleting[i] == id)
            return 1;
    return 0;
}

static const char *vol_name(struct fsck *f, uint64_t id)
{
    const struct meta_admin_volume *v = find_vol(f, id);
    return v ? v->vol.name : "?";
}

/* ---- walking ---- */

static int collect_deleting(void *arg, const uint8_t *k, size_t klen,
                            const uint8_t *v, size_t vlen)
{
    struct fsck *f = arg;
    if (klen == VOLDEL_PREFIX_LEN + 8 &&
        memcmp(k, VOLDEL_PREFIX, VOLDEL_PREFIX_LEN) == 0 &&
        f->ndeleting < sizeof f->deleting / sizeof *f->deleting)
        f->deleting[f->ndeleting++] = be64_get(k + VOLDEL_PREFIX_LEN);
    return 0;
}

static int walk_inode(void *arg, const uint8_t *k, size_t klen,
                      const uint8_t *v, size_t vlen)
{
    struct fsck *f = arg;
    struct inode in;
    if (klen != 8 || inode_decode(v, vlen, be64_get(k), &in))
        return -EIO;
    tick(f);
    if (vol_deleting(f, in.vol))
        return 0;
    struct ino_info *in_room = grow_room(f->in, f->nin, &f->capin,
                                         sizeof *f->in, 256);
    if (!in_room)
        return -ENOMEM;
    f->in = in_room;
    f->in[f->nin++] = (struct ino_info){ .ino = in.ino, .vol = in.vol,
                                         .change = in.change,
                                         .mode = in.mode,
                                         .nlink = in.nlink };
    f->r->inodes++;
    return 0;
}

static int walk_entry(void *arg, const uint8_t *k, size_t klen,
                      const uint8_t *v, size_t vlen)
{
    struct fsck *f = arg;
    struct dirent_rec d;
    if (klen < 8 || klen > 8 + META_NAME_MAX || dirent_rec_decode(v, vlen, &d))
        return -EIO;
    tick(f);
    f->r->entries++;
    uint64_t parent = be64_get(k);
    struct ino_info *p = find_ino(f, parent);
    struct ino_info *t = find_ino(f, d.ino);
    if (t && p) {
        t->refs++;
        if (S_ISDIR(t->mode))
            p->subdirs++;
        return 0;
    }
    if (p && vol_deleting(f, p->vol))
        return 0;
    struct dangling *dang = grow_room(f->dang, f->ndang, &f->capdang,
                                      sizeof *f->dang, 256);
    if (!dang)
        return -ENOMEM;
    f->dang = dang;
    struct dangling *g = &f->dang[f->ndang++];
    g->parent = parent;
    g->ino = d.ino;
    g->cookie = d.cookie;
    g->namelen = klen - 8;
    memcpy(g->name, k + 8, g->namelen);
    g->name[g->namelen] = '\0';
    return 0;
}

static int obj_cmp(const void *x, const void *y)
{
    const struct obj *a = x, *b = y;
    if (a->vol != b->vol)
        return a->vol < b->vol ? -1 : 1;
    if (a->ino != b->ino)
        return a->ino < b->ino ? -1 : 1;
    if (a->index != b->index)
        return a->index < b->index ? -1 : 1;
    if (a->version != b->version)
        return a->version < b->version ? -1 : 1;
    return 0;
}

static struct obj *find_obj(struct fsck *f, uint64_t vol, uint64_t ino,
                            uint64_t index, uint64_t version)
{
    struct obj key = { vol, ino, index, version, 0 };
    return bsearch(&key, f->objs, f->nobj, sizeof *f->objs, obj_cmp);
}

static int list_object(void *arg, const char *key, uint64_t size)
{
    struct fsck *f = arg;
    struct blockkey bk;
    tick(f);
    f->r->objects++;
    if (blockkey_parse(key, &bk) != 0) {
        f->r->foreign_objects++;
        return 0;
    }
    struct obj *objs = grow_room(f->objs, f->nobj, &f->capobj,
                                 sizeof *f->objs, 256);
    if (!objs)
        return -ENOMEM;
    f->objs = objs;
    f->objs[f->nobj++] = (struct obj){ bk.volume, bk.ino, bk.index,
                                       bk.version, 0 };
    return 0;
}

static int walk_block(void *arg, const uint8_t *k, size_t klen,
                      const uint8_t *v, size_t vlen)
{
    struct fsck *f = arg;
    struct mapent e;
    if (klen != 16 || block_rec_decode(v, vlen, &e.version, &e.length))
        return -EIO;
    tick(f);
    f->r->blocks++;
    e.ino = be64_get(k);
    e.index = be64_get(k + 8);
    struct ino_info *t = find_ino(f, e.ino);
    if (!t) {
        /* No inode: a block map left behind.  Its volume is unknown unless
         * the store has the object. */
        e.vol = 0;
        for (size_t i = 0; i < f->nobj; i++)
            if (f->objs[i].ino == e.ino && f->objs[i].index == e.index &&
                f->objs[i].version == e.version) {
                e.vol = f->objs[i].vol;
                f->objs[i].seen = 1;
                break;
            }
        struct mapent *stray = grow_room(f->stray, f->nstray, &f->capstray,
                                         sizeof e, 256);
        if (!stray)
            return -ENOMEM;
        f->stray = stray;
        f->stray[f->nstray++] = e;
        return 0;
    }
    e.vol = t->vol;
    if (!f->o->store)
        return 0;
    struct obj *o = find_obj(f, e.vol, e.ino, e.index, e.version);
    if (o) {
        o->seen = 1;
        return 0;
    }
    struct mapent *miss = grow_room(f->miss, f->nmiss, &f->capmiss, sizeof e,
                                    256);
    if (!miss)
        return -ENOMEM;
    f->miss = miss;
    f->miss[f->nmiss++] = e;
    return 0;
}

static int walk_garbage(void *arg, const uint8_t *k, size_t klen,
                        const uint8_t *v, size_t vlen)
{
    struct fsck *f = arg;
    struct meta_garbage g;
    int64_t when;
    if (garbage_rec_decode(v, vlen, &when, &g))
        return -EIO;
    tick(f);
    struct obj *o = find_obj(f, g.volume, g.ino, g.index, g.version);
    if (o)
        o->seen = 1;
    return 0;
}

/* ---- namespace checks and repairs ---- */

enum link_verdict { LINK_OK, LINK_WRONG, LINK_ORPHAN, LINK_UNLINKED };

static int is_root(struct fsck *f, const struct ino_info *t)
{
    const struct meta_admin_volume *v = find_vol(f, t->vol);
    return v && v->vol.root == t->ino;
}

/* What the walk says about an inode; *want gets the right nlink. */
static enum link_verdict judge(struct fsck *f, const struct ino_info *t,
                               uint32_t *want)
{
    if (S_ISDIR(t->mode)) {
        *want = 2 + t->subdirs;
        if (t->refs == 0 && !is_root(f, t))
            return LINK_ORPHAN;
        return t->nlink == *want ? LINK_OK : LINK_WRONG;
    }
    *want = t->refs;
    if (t->refs == 0)
        return t->nlink == 0 ? LINK_UNLINKED : LINK_ORPHAN;
    return t->nlink == *want ? LINK_OK : LINK_WRONG;
}

struct fix_args {
    struct fsck *f;
    const struct ino_info *t;
    uint32_t want;
    int repair;
    const struct dangling *d;
    const struct mapent *e;
    int verdict;                        /* out: 1 confirmed, 0 not */
};

/* Re-reads the inode; 1 if the walk's view of it still holds. */
static int still_same(struct tx *tx, const struct ino_info *t,
                      struct inode *in)
{
    int rc = inode_get(tx, t->ino, in, DB_RMW);
    if (rc == -ESTALE)
        return 0;
    if (rc)
        return rc;
    return in->change == t->change;
}

static int do_fix_nlink(struct tx *tx, void *arg)
{
    struct fix_args *a = arg;
    struct inode in;
    a->verdict = 0;
    int rc = still_same(tx, a->t, &in);
    if (rc <= 0)
        return rc;
    a->verdict = 1;
    if (!a->repair)
        return 0;
    in.nlink = a->want;
    if ((rc = inode_changed(tx, &in, CH_CTIME)))
        return rc;
    return inode_put(tx, &in);
}

/* The volume's lost+found directory, made (mode 0700, root's) if need be. */
static int lost_found(struct tx *tx, uint64_t vol, struct inode *lf)
{
    struct meta_volume v;
    int rc = volume_by_id(tx, vol, &v);
    if (rc)
        return rc == -ENOENT ? -ESTALE : rc;
    struct dirent_rec d;
    rc = dirent_get(tx, v.root, LOST_FOUND, LOST_FOUND_LEN, &d, DB_RMW);
    if (rc == 0) {
        if ((rc = inode_get(tx, d.ino, lf, DB_RMW)))
            return rc;
        return S_ISDIR(lf->mode) ? 0 : -ENOTDIR;
    }
    if (rc != -ENOENT)
        return rc;
    struct inode root;
    if ((rc = inode_get(tx, v.root, &root, DB_RMW)) ||
        (rc = inode_new(tx, vol, S_IFDIR | 0700, 0, 0, lf)))
        return rc;
    lf->parent = root.ino;
    root.nlink++;
    if ((rc = dirent_add(tx, &root, LOST_FOUND, LOST_FOUND_LEN, lf->ino,
                         S_IFDIR)) ||
        (rc = inode_changed(tx, &root, CH_CTIME | CH_MTIME)) ||
        (rc = inode_put(tx, &root)))
        return rc;
    return inode_put_new(tx, lf, NULL, 0);
}

static int do_fix_orphan(struct tx *tx, void *arg)
{
    struct fix_args *a = arg;
    struct inode in;
    a->verdict = 0;
    int rc = still_same(tx, a->t, &in);
    if (rc <= 0)
        return rc;
    /* An unlinked file is fine while a session has it open. */
    if (!S_ISDIR(in.mode) && in.nlink == 0) {
        if ((rc = opens_any(tx, in.ino)) != 0)
            return rc < 0 ? rc : 0;
    }
    a->verdict = 1;
    if (!a->repair)
        return 0;
    if (!S_ISDIR(in.mode) && in.nlink == 0)
        return inode_settle(tx, &in);   /* what its last close would do */
    struct inode lf;
    if ((rc = lost_found(tx, in.vol, &lf)))
        return rc;
    char name[32];
    int len = snprintf(name, sizeof name, "#%" PRIu64, in.ino);
    struct dirent_rec d;
    rc = dirent_get(tx, lf.ino, name, (size_t)len, &d, DB_RMW);
    if (rc == 0)
        return -EEXIST;
    if (rc != -ENOENT)
        return rc;
    if ((rc = dirent_add(tx, &lf, name, (size_t)len, in.ino,
                         in.mode & S_IFMT)))
        return rc;
    if (S_ISDIR(in.mode)) {
        in.parent = lf.ino;
        lf.nlink++;
    } else {
        in.nlink = 1;
    }
    if ((rc = inode_changed(tx, &lf, CH_CTIME | CH_MTIME)) ||
        (rc = inode_put(tx, &lf)) ||
        (rc = inode_changed(tx, &in, CH_CTIME)))
        return rc;
    return inode_put(tx, &in);
}

static int do_fix_dangling(struct tx *tx, void *arg)
{
    struct fix_args *a = arg;
    const struct dangling *g = a->d;
    struct dirent_rec d;
    a->verdict = 0;
    int rc = dirent_get(tx, g->parent, g->name, g->namelen, &d, DB_RMW);
    if (rc == -ENOENT)
        return 0;
    if (rc || d.ino != g->ino || d.cookie != g->cookie)
        return rc;
    struct inode in, dir;
    rc = inode_get(tx, g->ino, &in, 0);
    int dir_there = inode_get(tx, g->parent, &dir, DB_RMW);
    if (dir_there != 0 && dir_there != -ESTALE)
        return dir_there;
    if (rc == 0 && dir_there == 0)
        return 0;                       /* both ends exist now */
    if (rc != -ESTALE && rc != 0)
        return rc;
    a->verdict = 1;
    if (!a->repair)
        return 0;
    if ((rc = dirent_del(tx, g->parent, g->name, g->namelen, g->cookie)))
        return rc;
    if (dir_there == 0) {
        if ((rc = inode_changed(tx, &dir, CH_CTIME | CH_MTIME)))
            return rc;
        return inode_put(tx, &dir);
    }
    return 0;
}

static int check_links(struct fsck *f)
{
    phase(f, "links", f->nin);
    for (size_t i = 0; i < f->nin; i++) {
        if (cancelled(f))
            return -ECANCELED;
        struct ino_info *t = &f->in[i];
        uint32_t want;
        enum link_verdict v = judge(f, t, &want);
        tick(f);
        if (v == LINK_OK)
            continue;
        /* LINK_UNLINKED (nlink 0, no entry) is fine only while it is open:
         * do_fix_orphan looks. */
        struct fix_args a = { .f = f, .t = t, .want = want,
                              .repair = f->o->repair };
        int rc = tx_run(f->m, v == LINK_WRONG ? do_fix_nlink : do_fix_orphan,
                        &a);
        if (rc == -ESTALE && v != LINK_WRONG) {
            problem(f, "inode %" PRIu64 " belongs to missing volume %" PRIu64,
                    t->ino, t->vol);
            f->r->orphan_inodes++;
            continue;
        }
        if (rc < 0)
            return rc;
        if (!a.verdict)
            continue;
        if (v == LINK_WRONG) {
            f->r->wrong_nlink++;
            problem(f, "wrong link count: inode %" PRIu64 " (volume %s) has "
                    "nlink %u, its entries say %u%s", t->ino,
                    vol_name(f, t->vol), t->nlink, want,
                    f->o->repair ? ": fixed" : "");
        } else {
            f->r->orphan_inodes++;
            problem(f, "orphan inode: %" PRIu64 " (volume %s, %s, nlink %u) "
                    "has no entry%s", t->ino, vol_name(f, t->vol),
                    S_ISDIR(t->mode) ? "directory" : "file", t->nlink,
                    !f->o->repair ? ""
                    : !S_ISDIR(t->mode) && t->nlink == 0
                    ? ": removed (it was unlinked and closed)"
                    : ": moved to /" LOST_FOUND);
        }
        if (f->o->repair)
            f->r->repaired++;
    }
    return 0;
}

static int check_dangling(struct fsck *f)
{
    phase(f, "dangling", f->ndang);
    for (size_t i = 0; i < f->ndang; i++) {
        const struct dangling *g = &f->dang[i];
        struct fix_args a = { .f = f, .d = g, .repair = f->o->repair };
        int rc = tx_run(f->m, do_fix_dangling, &a);
        tick(f);
        if (rc < 0)
            return rc;
        if (!a.verdict)
            continue;
        f->r->dangling_entries++;
        if (f->o->repair)
            f->r->repaired++;
        int parent_ok = find_ino(f, g->parent) != NULL;
        problem(f, "dangling entry: \"%s\" in directory %" PRIu64 " names "
                "%s inode %" PRIu64 "%s", g->name, g->parent,
                parent_ok ? "missing" : "(a missing directory)", g->ino,
                f->o->repair ? ": removed" : "");
    }
    return 0;
}

/* ---- block checks and repairs ---- */

static int format_key(const struct mapent *e, char *key, size_t len)
{
    struct blockkey k = { e->vol, e->ino, e->index, e->version };
    return blockkey_format(key, len, &k);
}

/* The map entry still names this version: drop it (and its bytes). */
static int do_fix_missing(struct tx *tx, void *arg)
{
    struct fix_args *a = arg;
    const struct mapent *e = a->e;
    uint8_t key[16], val[64];
    size_t len;
    uint64_t version;
    uint32_t length;
    a->verdict = 0;
    be64_put(key, e->ino);
    be64_put(key + 8, e->index);
    int rc = kv_get(tx, MDB_BLOCKS, key, 16, val, sizeof val, &len, DB_RMW);
    if (rc == -ENOENT)
        return 0;
    if (rc || (rc = block_rec_decode(val, len, &version, &length)))
        return rc;
    if (version != e->version)
        return 0;
    a->verdict = 1;
    if (!a->repair)
        return 0;
    if ((rc = kv_del(tx, MDB_BLOCKS, key, 16)))
        return rc;
    struct inode in;
    rc = inode_get(tx, e->ino, &in, DB_RMW);
    if (rc == -ESTALE) {
        /* A map without an inode: its object, if any, goes to garbage. */
        return e->vol ? garbage_add(tx, e->vol, e->ino, e->index, e->version)
                      : 0;
    }
    if (rc)
        return rc;
    in.bytes -= length < in.bytes ? length : in.bytes;
    tx_count(tx, in.vol, 0, -(int64_t)length);
    if ((rc = inode_changed(tx, &in, CH_CTIME)))
        return rc;
    return inode_put(tx, &in);
}

static int check_missing(struct fsck *f)
{
    phase(f, "missing", f->nmiss + f->nstray);
    uint8_t byte;
    for (size_t i = 0; i < f->nmiss + f->nstray; i++) {
        if (cancelled(f))
            return -ECANCELED;
        int stray = i >= f->nmiss;
        const struct mapent *e = stray ? &f->stray[i - f->nmiss]
                                       : &f->miss[i];
        char key[BLOCKKEY_MAX];
        tick(f);
        if (!stray) {
            /* Listed before the map was read: look again. */
            size_t got;
            if (format_key(e, key, sizeof key) < 0)
                return -EIO;
            int rc = store_get(f->o->store, key, 0, &byte, 1, &got);
            if (rc == 0)
                continue;
            if (rc != -ENOENT) {
                f->r->store_errors++;
                problem(f, "cannot read %s from the block store: %s", key,
                        strerror(-rc));
                return rc;
            }
        }
        struct fix_args a = { .f = f, .e = e, .repair = f->o->repair };
        int rc = tx_run(f->m, do_fix_missing, &a);
        if (rc < 0)
            return rc;
        if (!a.verdict)
            continue;
        f->r->missing_blocks++;
        if (f->o->repair)
            f->r->repaired++;
        if (stray)
            problem(f, "block map entry of missing inode %" PRIu64
                    ": block %" PRIu64 " version %" PRIx64 "%s", e->ino,
                    e->index, e->version, f->o->repair ? ": dropped" : "");
        else
            problem(f, "missing block: inode %" PRIu64 " (volume %s) block %"
                    PRIu64 " names object %s, which the store does not "
                    "have%s", e->ino, vol_name(f, e->vol), e->index, key,
                    f->o->repair ? ": dropped from the map (reads as "
                    "zeros)" : "");
    }
    return 0;
}

/* Is the object of obj still unreferenced, and may it go?  verdict: 0
 * referenced now, 1 unreferenced and old, 2 unreferenced but young. */
struct unref_args {
    const struct obj *o;
    int verdict;
};

static int do_check_unref(struct tx *tx, void *arg)
{
    struct unref_args *a = arg;
    uint8_t key[16], val[64];
    size_t len;
    uint64_t version;
    uint32_t length;
    a->verdict = 0;
    be64_put(key, a->o->ino);
    be64_put(key + 8, a->o->index);
    int rc = kv_get(tx, MDB_BLOCKS, key, 16, val, sizeof val, &len, 0);
    if (rc == 0 && (rc = block_rec_decode(val, len, &version, &length)) == 0
        && version == a->o->version)
        return 0;                       /* committed meanwhile */
    if (rc && rc != -ENOENT)
        return rc;
    /* The writer's session (versions carry it in their upper half) may
     * still commit what it uploaded. */
    uint8_t skey[8], sval[1024];
    be64_put(skey, a->o->version >> 32);
    rc = kv_get(tx, MDB_SESSIONS, skey, 8, sval, sizeof sval, NULL, 0);
    if (rc == 0) {
        a->verdict = 2;
        return 0;
    }
    if (rc != -ENOENT)
        return rc;
    a->verdict = 1;
    return 0;
}

/* Seconds since the object was written, or -1 when the store cannot say. */
static int64_t object_age(struct fsck *f, const char *key)
{
    struct store_objstat os;
    int rc = store_stat(f->o->store, key, &os);
    if (rc != 0 || os.mtime < 0)
        return -1;
    return (int64_t)time(NULL) - os.mtime;
}

static int check_unreferenced(struct fsck *f)
{
    size_t n = 0;
    for (size_t i = 0; i < f->nobj; i++)
        n += !f->objs[i].seen;
    phase(f, "unreferenced", n);
    for (size_t i = 0; i < f->nobj; i++) {
        const struct obj *o = &f->objs[i];
        if (o->seen || vol_deleting(f, o->vol))
            continue;
        if (cancelled(f))
            return -ECANCELED;
        tick(f);
        struct unref_args a = { .o = o };
        int rc = tx_run(f->m, do_check_unref, &a);
        if (rc < 0)
            return rc;
        if (a.verdict == 0)
            continue;
        char key[BLOCKKEY_MAX];
        struct mapent e = { o->vol, o->ino, o->index, o->version, 0 };
        if (format_key(&e, key, sizeof key) < 0)
            return -EIO;
        int64_t age = object_age(f, key);
        if (a.verdict == 2 || age < 0 || age < (int64_t)f->o->gc_grace) {
            f->r->young_objects++;
            continue;
        }
        f->r->unreferenced_objects++;
        if (f->o->repair) {
            rc = store_delete(f->o->store, key);
            if (rc < 0) {
                f->r->store_errors++;
                problem(f, "cannot delete unreferenced object %s: %s", key,
                        strerror(-rc));
                return rc;
            }
            f->r->repaired++;
        }
        problem(f, "unreferenced object: %s (%" PRId64 " s old, no block "
                "map or garbage entry names it)%s", key, age,
                f->o->repair ? ": deleted" : "");
    }
    return 0;
}

/* ---- the whole check ---- */

static uint64_t inode_total(struct fsck *f)
{
    uint64_t n = 0;
    for (size_t i = 0; i < f->nvols; i++)
        n += f->vols[i].inodes;
    return n;
}

static int run(struct fsck *f)
{
    int rc;
    phase(f, "volumes", 0);
    if ((rc = meta_admin_volume_list(f->m, &f->vols, &f->nvols)) ||
        (rc = scan_db(f->m, MDB_SUPER, 16, collect_deleting, f, cancelled,
                      f)))
        return rc;

    phase(f, "inodes", inode_total(f));
    if ((rc = scan_db(f->m, MDB_INODES, INODE_REC_LEN, walk_inode, f,
                      cancelled, f)))
        return rc;
    phase(f, "entries", f->nin);
    if ((rc = scan_db(f->m, MDB_DIRENTS, 0, walk_entry, f, cancelled, f)))
        return rc;

    if (f->o->store) {
        phase(f, "objects", 0);
        rc = store_list(f->o->store, "", list_object, f);
        if (rc < 0) {
            f->r->store_errors++;
            problem(f, "cannot list the block store: %s", strerror(-rc));
            return rc;
        }
        qsort(f->objs, f->nobj, sizeof *f->objs, obj_cmp);
    }
    phase(f, "blocks", 0);
    if ((rc = scan_db(f->m, MDB_BLOCKS, 0, walk_block, f, cancelled, f)))
        return rc;
    if (f->o->store) {
        phase(f, "garbage", meta_garbage_count(f->m));
        if ((rc = scan_db(f->m, MDB_GARBAGE, 0, walk_garbage, f, cancelled,
                          f)))
            return rc;
    }

    /* Repairs in this order: link counts first, so that removing a
     * dangling entry afterwards does not make them look wrong again. */
    if ((rc = check_links(f)) || (rc = check_dangling(f)) ||
        (rc = check_missing(f)))
        return rc;
    if (f->o->store && (rc = check_unreferenced(f)))
        return rc;
    return 0;
}

int meta_admin_fsck(struct meta *m, const struct meta_fsck_opts *o,
                    struct meta_fsck_result *out)
{
    struct fsck f = { .m = m, .o = o, .r = out };
    memset(out, 0, sizeof *out);
    log_notice("fsck: started%s", o->repair ? " (repairing)" : "");
    int rc = run(&f);
    if (rc == 0)
        log_notice("fsck: %" PRIu64 " inodes, %" PRIu64 " entries, %" PRIu64
                   " map entries, %" PRIu64 " objects: %" PRIu64 " dangling, "
                   "%" PRIu64 " wrong nlink, %" PRIu64 " orphans, %" PRIu64
                   " missing, %" PRIu64 " unreferenced; %" PRIu64 " repaired",
                   out->inodes, out->entries, out->blocks, out->objects,
                   out->dangling_entries, out->wrong_nlink,
                   out->orphan_inodes, out->missing_blocks,
                   out->unreferenced_objects, out->repaired);
    else
        log_warn("fsck: stopped: %s", strerror(-rc));
    free(f.vols);
    free(f.in);
    free(f.dang);
    free(f.miss);
    free(f.stray);
    free(f.objs);
    return rc;
}
