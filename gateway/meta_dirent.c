/* meta_dirent.c - directory entries: the two indexes (by name for lookups,
 * by cookie for listings), name rules, and the calls lookup, unlink, rmdir
 * and readdir.  Rename has its own file (meta_rename.c). */
#include "config.h"
#include "meta_internal.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#define DIRENT_REC_LEN  21              /* ver, ino, type, cookie */
#define DIRSEQ_REC_MAX  (13 + META_NAME_MAX)
#define READDIR_BATCH   128

int name_check(const char *name, size_t len, int creating)
{
    if (len > META_NAME_MAX)
        return -ENAMETOOLONG;
    if (memchr(name, '/', len) || memchr(name, 0, len))
        return -EINVAL;
    if (creating && (len == 0 || (len == 1 && name[0] == '.') ||
                     (len == 2 && name[0] == '.' && name[1] == '.')))
        return -EINVAL;
    return 0;
}

static size_t dirent_key(uint8_t *key, uint64_t parent, const char *name,
                         size_t len)
{
    be64_put(key, parent);
    memcpy(key + 8, name, len);
    return 8 + len;
}

static void dirseq_key(uint8_t *key, uint64_t parent, uint64_t cookie)
{
    be64_put(key, parent);
    be64_put(key + 8, cookie);
}

int dirent_get(struct tx *tx, uint64_t parent, const char *name, size_t len,
               struct dirent_rec *out, uint32_t flags)
{
    uint8_t key[8 + META_NAME_MAX], val[DIRENT_REC_LEN];
    size_t vlen;
    size_t klen = dirent_key(key, parent, name, len);
    int rc = kv_get(tx, MDB_DIRENTS, key, klen, val, sizeof(val), &vlen,
                    flags);
    if (rc)
        return rc;
    struct rbuf r;
    rb_init(&r, val, vlen);
    uint8_t ver = rb_u8(&r);
    out->ino = rb_u64(&r);
    out->type = rb_u32(&r);
    out->cookie = rb_u64(&r);
    if (r.bad || ver != REC_V1) {
        log_err("meta: malformed entry in directory %llu",
                (unsigned long long)parent);
        return -EIO;
    }
    return 0;
}

/* Writes both indexes of one entry. */
static int dirent_write(struct tx *tx, uint64_t parent, const char *name,
                        size_t len, uint64_t cookie, uint64_t ino,
                        uint32_t type)
{
    uint8_t key[8 + META_NAME_MAX], val[DIRSEQ_REC_MAX];
    struct wbuf w;
    size_t klen = dirent_key(key, parent, name, len);
    wb_init(&w, val, sizeof(val));
    wb_u8(&w, REC_V1);
    wb_u64(&w, ino);
    wb_u32(&w, type);
    wb_u64(&w, cookie);
    int rc = kv_put(tx, MDB_DIRENTS, key, klen, val, w.len);
    if (rc)
        return rc;
    uint8_t skey[16];
    dirseq_key(skey, parent, cookie);
    wb_init(&w, val, sizeof(val));
    wb_u8(&w, REC_V1);
    wb_u64(&w, ino);
    wb_u32(&w, type);
    wb_bytes(&w, name, len);
    return kv_put(tx, MDB_DIRSEQ, skey, 16, val, w.len);
}

int dirent_add(struct tx *tx, struct inode *dir, const char *name,
               size_t len, uint64_t ino, uint32_t type)
{
    uint64_t cookie = dir->next_cookie++;
    return dirent_write(tx, dir->ino, name, len, cookie, ino, type);
}

int dirent_repoint(struct tx *tx, uint64_t parent, const char *name,
                   size_t len, uint64_t cookie, uint64_t ino, uint32_t type)
{
    return dirent_write(tx, parent, name, len, cookie, ino, type);
}

int dirent_del(struct tx *tx, uint64_t parent, const char *name, size_t len,
               uint64_t cookie)
{
    uint8_t key[8 + META_NAME_MAX], skey[16];
    size_t klen = dirent_key(key, parent, name, len);
    dirseq_key(skey, parent, cookie);
    int rc = kv_del(tx, MDB_DIRENTS, key, klen);
    if (rc == 0)
        rc = kv_del(tx, MDB_DIRSEQ, skey, 16);
    return rc == -ENOENT ? -EIO : rc;
}

int dir_empty(struct tx *tx, uint64_t dir)
{
    return kv_none_under(tx, MDB_DIRENTS, dir);
}

int dir_open(struct tx *tx, const struct meta_cred *cr, uint64_t ino,
             int want, struct inode *out, uint32_t flags)
{
    int rc = inode_get(tx, ino, out, flags);
    if (rc)
        return rc;
    if (!S_ISDIR(out->mode))
        return -ENOTDIR;
    if (out->nlink == 0)
        return -ENOENT;
    struct perm_node pn = inode_perm(tx, out);
    return perm_access(cr, &pn, want);
}

/* ---- lookup ---- */

struct name_args {
    const struct meta_cred *cr;
    uint64_t parent;
    const char *name;
    size_t len;
    struct meta_attr *out;
    int want_xattrs;                    /* look for META_ATTR_NO_XATTRS */
    struct meta_dirchange *dc;          /* unlink, rmdir */
};

static int do_lookup(struct tx *tx, void *arg)
{
    struct name_args *a = arg;
    struct inode dir, in;
    int rc = name_check(a->name, a->len, 0);
    if (rc)
        return rc;
    if ((rc = dir_open(tx, a->cr, a->parent, PERM_EXEC, &dir, 0)))
        return rc;
    uint64_t ino;
    if (a->len == 0)
        return -ENOENT;
    if (a->len == 1 && a->name[0] == '.') {
        ino = dir.ino;
    } else if (a->len == 2 && a->name[0] == '.' && a->name[1] == '.') {
        ino = dir.parent ? dir.parent : dir.ino;
    } else {
        struct dirent_rec d;
        if ((rc = dirent_get(tx, a->parent, a->name, a->len, &d, 0)))
            return rc;
        ino = d.ino;
    }
    rc = inode_get(tx, ino, &in, 0);
    if (rc)
        return rc == -ESTALE ? -EIO : rc;
    inode_attr(&in, a->out);
    return a->want_xattrs ? xattr_note_none(tx, a->out) : 0;
}

int meta_lookup(struct meta *m, const struct meta_cred *cr, uint64_t parent,
                const char *name, size_t namelen, struct meta_attr *out)
{
    struct name_args a = { .cr = cr, .parent = parent, .name = name,
                           .len = namelen, .out = out };
    return tx_run(m, do_lookup, &a);
}

int meta_lookup_x(struct meta *m, const struct meta_cred *cr, uint64_t parent,
                  const char *name, size_t namelen, struct meta_attr *out)
{
    struct name_args a = { .cr = cr, .parent = parent, .name = name,
                           .len = namelen, .out = out, .want_xattrs = 1 };
    return tx_run(m, do_lookup, &a);
}

/* ---- unlink, rmdir ---- */

/* What remove_entry may remove. */
enum remove_kind { REMOVE_FILE, REMOVE_DIR, REMOVE_ANY };

static int remove_entry(struct tx *tx, struct name_args *a,
                        enum remove_kind kind)
{
    struct inode dir, victim;
    struct dirent_rec d;
    int rc = name_check(a->name, a->len, 1);
    if (rc)
        return rc;
    if ((rc = dir_open(tx, a->cr, a->parent, PERM_EXEC, &dir, DB_RMW)) ||
        (rc = dirent_get(tx, a->parent, a->name, a->len, &d, DB_RMW)))
        return rc;
    if ((rc = inode_get(tx, d.ino, &victim, DB_RMW)))
        return rc == -ESTALE ? -EIO : rc;
    struct perm_node pd = inode_perm(tx, &dir);
    struct perm_node pv = inode_perm(tx, &victim);
    if ((rc = perm_may_delete(a->cr, &pd, &pv)))
        return rc;
    uint64_t before = dir.change;
    int isdir = S_ISDIR(victim.mode);
    if (kind == REMOVE_DIR && !isdir)
        return -ENOTDIR;
    if (kind == REMOVE_FILE && isdir)
        return -EISDIR;
    if (isdir) {
        if ((rc = dir_empty(tx, victim.ino)) < 0)
            return rc;
        if (rc == 0)
            return -ENOTEMPTY;
        victim.nlink = 0;
        dir.nlink--;
    } else {
        victim.nlink--;
    }
    if ((rc = dirent_del(tx, a->parent, a->name, a->len, d.cookie)) ||
        (rc = inode_changed(tx, &victim, CH_CTIME)) ||
        (rc = inode_settle(tx, &victim)) ||
        (rc = inode_changed(tx, &dir, CH_CTIME | CH_MTIME)) ||
        (rc = inode_put(tx, &dir)))
        return rc;
    dirchange_fill(a->dc, before, &dir);
    return 0;
}

static int do_unlink(struct tx *tx, void *arg)
{
    return remove_entry(tx, arg, REMOVE_FILE);
}

static int do_rmdir(struct tx *tx, void *arg)
{
    return remove_entry(tx, arg, REMOVE_DIR);
}

static int do_remove(struct tx *tx, void *arg)
{
    return remove_entry(tx, arg, REMOVE_ANY);
}

static int remove_run(struct meta *m, const struct meta_cred *cr,
                      uint64_t parent, const char *name, size_t namelen,
                      struct meta_dirchange *dc,
                      int (*fn)(struct tx *, void *))
{
    struct name_args a = { .cr = cr, .parent = parent, .name = name,
                           .len = namelen, .dc = dc };
    return tx_run(m, fn, &a);
}

int meta_unlink(struct meta *m, const struct meta_cred *cr, uint64_t parent,
                const char *name, size_t namelen,
                struct meta_dirchange *dc)
{
    return remove_run(m, cr, parent, name, namelen, dc, do_unlink);
}

int meta_rmdir(struct meta *m, const struct meta_cred *cr, uint64_t parent,
               const char *name, size_t namelen, struct meta_dirchange *dc)
{
    return remove_run(m, cr, parent, name, namelen, dc, do_rmdir);
}

int meta_remove(struct meta *m, const struct meta_cred *cr, uint64_t parent,
                const char *name, size_t namelen, struct meta_dirchange *dc)
{
    return remove_run(m, cr, parent, name, namelen, dc, do_remove);
}

/* ---- readdir ---- */

/* Entries are read in batches, each in its own short transaction, and
 * handed to the callback only after that transaction committed: a
 * transaction retried after a deadlock never shows an entry twice. */
struct rd_entry {
    uint64_t ino, cookie;
    uint32_t type;
    uint16_t namelen;
    int has_attr;
    char name[META_NAME_MAX + 1];
    struct meta_attr attr;
};

struct readdir_args {
    const struct meta_cred *cr;
    uint64_t dir, after;
    int plus;
    struct rd_entry *ents;
    int n;
    int end;                            /* the batch reached the last one */
};

/* Adds one entry of the walk over the directory's index to the batch. */
static int rd_add(void *arg, const struct kv_rec *rec)
{
    struct readdir_args *a = arg;
    struct rd_entry *e = &a->ents[a->n];
    size_t vlen = rec->vlen;
    struct rbuf r;
    rb_init(&r, rec->val, vlen);
    uint8_t ver = rb_u8(&r);
    e->ino = rb_u64(&r);
    e->type = rb_u32(&r);
    size_t nlen = vlen - r.off;
    const uint8_t *name = rb_bytes(&r, nlen);
    if (r.bad || ver != REC_V1 || rec->klen != 16 || nlen > META_NAME_MAX ||
        !name) {
        log_err("meta: malformed readdir index record");
        return -EIO;
    }
    e->cookie = be64_get(rec->key + 8);
    memcpy(e->name, name, nlen);
    e->name[nlen] = 0;
    e->namelen = (uint16_t)nlen;
    e->has_attr = 0;
    return ++a->n < READDIR_BATCH ? 0 : KV_STOP;
}

static int do_readdir_batch(struct tx *tx, void *arg)
{
    struct readdir_args *a = arg;
    struct inode dir;
    a->n = 0;
    a->end = 0;
    int rc = inode_get(tx, a->dir, &dir, 0);
    if (rc)
        return rc;
    if (!S_ISDIR(dir.mode))
        return -ENOTDIR;
    struct perm_node pn = inode_perm(tx, &dir);
    if ((rc = perm_access(a->cr, &pn, PERM_READ)))
        return rc;
    if (a->after == UINT64_MAX) {
        a->end = 1;
        return 0;
    }

    uint8_t from[16], vbuf[DIRSEQ_REC_MAX];
    dirseq_key(from, a->dir, a->after + 1);
    if ((rc = kv_walk(tx, MDB_DIRSEQ, from, 8, from, 16, vbuf, sizeof(vbuf),
                      0, rd_add, a)))
        return rc;
    a->end = a->n < READDIR_BATCH;
    for (int i = 0; a->plus && i < a->n; i++) {
        struct inode in;
        rc = inode_get(tx, a->ents[i].ino, &in, 0);
        if (rc == -ESTALE) {
            log_err("meta: entry %s of %llu names no inode",
                    a->ents[i].name, (unsigned long long)a->dir);
            continue;
        }
        if (rc)
            return rc;
        inode_attr(&in, &a->ents[i].attr);
        if ((a->plus & META_READDIR_XATTRS) &&
            (rc = xattr_note_none(tx, &a->ents[i].attr)))
            return rc;
        a->ents[i].has_attr = 1;
    }
    return 0;
}

int meta_readdir(struct meta *m, const struct meta_cred *cr, uint64_t dir,
                 uint64_t cookie, int plus, meta_dirent_cb cb, void *arg,
                 int *eof)
{
    struct readdir_args a = { .cr = cr, .dir = dir, .after = cookie,
                              .plus = plus };
    a.ents = malloc(READDIR_BATCH * sizeof(*a.ents));
    if (!a.ents)
        return -ENOMEM;
    *eof = 0;
    int rc;
    for (;;) {
        if ((rc = tx_run(m, do_readdir_batch, &a)))
            break;
        int stop = 0;
        for (int i = 0; i < a.n && !stop; i++) {
            struct rd_entry *e = &a.ents[i];
            if (plus && !e->has_attr)
                continue;
            int r = cb(arg, e->name, e->namelen, e->ino, e->type, e->cookie,
                       plus ? &e->attr : NULL);
            if (r < 0)
                rc = r;
            if (r != 0)
                stop = 1;
        }
        if (stop)
            break;
        if (a.end) {
            *eof = 1;
            break;
        }
        a.after = a.ents[a.n - 1].cookie;
    }
    free(a.ents);
    return rc;
}
