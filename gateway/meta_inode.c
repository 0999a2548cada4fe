/* meta_inode.c - inode records and the calls that make or change one inode:
 * getattr, setattr, create, mknod, mkdir, symlink, readlink, link; and
 * inode_settle, where an inode that lost its last link and last open goes. */
#include "config.h"
#include "meta_internal.h"
#include "perm_acl.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>

#define LINK_MAX_COUNT  0x7fffffffu
#define SIZE_MAX_FILE   ((uint64_t)INT64_MAX)

/* ---- records ---- */

static void time_put(struct wbuf *w, const struct meta_time *t)
{
    wb_u64(w, (uint64_t)t->sec);
    wb_u32(w, t->nsec);
}

static void time_get(struct rbuf *r, struct meta_time *t)
{
    t->sec = (int64_t)rb_u64(r);
    t->nsec = rb_u32(r);
}

static void inode_encode(const struct inode *in, uint8_t *buf)
{
    struct wbuf w;
    wb_init(&w, buf, INODE_REC_LEN);
    wb_u8(&w, REC_V1);
    wb_u64(&w, in->vol);
    wb_u64(&w, in->gen);
    wb_u32(&w, in->mode);
    wb_u32(&w, in->nlink);
    wb_u32(&w, in->uid);
    wb_u32(&w, in->gid);
    wb_u64(&w, in->rdev);
    wb_u64(&w, in->size);
    wb_u64(&w, in->bytes);
    time_put(&w, &in->atime);
    time_put(&w, &in->mtime);
    time_put(&w, &in->ctime);
    wb_u64(&w, in->change);
    wb_u64(&w, in->parent);
    wb_u64(&w, in->next_cookie);
}

int inode_decode(const void *buf, size_t len, uint64_t ino, struct inode *out)
{
    struct rbuf r;
    rb_init(&r, buf, len);
    uint8_t ver = rb_u8(&r);
    out->ino = ino;
    out->vol = rb_u64(&r);
    out->gen = rb_u64(&r);
    out->mode = rb_u32(&r);
    out->nlink = rb_u32(&r);
    out->uid = rb_u32(&r);
    out->gid = rb_u32(&r);
    out->rdev = rb_u64(&r);
    out->size = rb_u64(&r);
    out->bytes = rb_u64(&r);
    time_get(&r, &out->atime);
    time_get(&r, &out->mtime);
    time_get(&r, &out->ctime);
    out->change = rb_u64(&r);
    out->parent = rb_u64(&r);
    out->next_cookie = rb_u64(&r);
    if (r.bad || ver != REC_V1) {
        log_err("meta: malformed inode record %llu", (unsigned long long)ino);
        return -EIO;
    }
    return 0;
}

int inode_get(struct tx *tx, uint64_t ino, struct inode *out, uint32_t flags)
{
    uint8_t key[8], buf[INODE_REC_LEN];
    be64_put(key, ino);
    DBT k = { .data = key, .size = 8 };
    /* The fixed part only: a symlink's target stays on disk. */
    DBT v = { .data = buf, .ulen = sizeof(buf), .dlen = INODE_REC_LEN,
              .flags = DB_DBT_USERMEM | DB_DBT_PARTIAL };
    DB *db = tx->m->db[MDB_INODES];
    int rc = db->get(db, tx->txn, &k, &v, flags);
    if (rc == DB_NOTFOUND)
        return -ESTALE;
    if ((rc = db_err(rc)))
        return rc;
    return inode_decode(buf, v.size, ino, out);
}

int inode_put(struct tx *tx, const struct inode *in)
{
    uint8_t key[8], buf[INODE_REC_LEN];
    be64_put(key, in->ino);
    inode_encode(in, buf);
    DBT k = { .data = key, .size = 8 };
    /* Rewrites the fixed part and keeps a symlink's target after it. */
    DBT v = { .data = buf, .size = INODE_REC_LEN, .dlen = INODE_REC_LEN,
              .flags = DB_DBT_PARTIAL };
    DB *db = tx->m->db[MDB_INODES];
    tx->dirty = 1;
    return db_err(db->put(db, tx->txn, &k, &v, 0));
}

int inode_put_new(struct tx *tx, const struct inode *in, const char *target,
                  size_t tlen)
{
    uint8_t key[8], buf[INODE_REC_LEN + META_PATH_MAX];
    if (tlen > META_PATH_MAX)
        return -ENAMETOOLONG;
    be64_put(key, in->ino);
    inode_encode(in, buf);
    if (tlen)
        memcpy(buf + INODE_REC_LEN, target, tlen);
    return kv_put(tx, MDB_INODES, key, 8, buf, INODE_REC_LEN + tlen);
}

int inode_changed(struct tx *tx, struct inode *in, unsigned what)
{
    in->ctime = tx->now;
    if (what & CH_MTIME)
        in->mtime = tx->now;
    return tx_next(tx, SEQ_CHANGE, &in->change);
}

void inode_attr(const struct inode *in, struct meta_attr *out)
{
    out->ino = in->ino;
    out->gen = in->gen;
    out->mode = in->mode;
    out->nlink = in->nlink;
    out->uid = in->uid;
    out->gid = in->gid;
    out->rdev = in->rdev;
    out->size = in->size;
    out->blocks = (in->bytes + 511) / 512;
    out->atime = in->atime;
    out->mtime = in->mtime;
    out->ctime = in->ctime;
    out->change = in->change;
    out->flags = 0;
    out->vol = in->vol;
}

void dirchange_fill(struct meta_dirchange *dc, uint64_t before,
                    const struct inode *dir)
{
    if (!dc)
        return;
    dc->before = before;
    inode_attr(dir, &dc->after);
}

struct perm_node inode_perm(struct tx *tx, const struct inode *in)
{
    return (struct perm_node){ .ino = in->ino, .mode = in->mode,
                               .uid = in->uid, .gid = in->gid,
                               .acl = xattr_get, .acl_arg = tx };
}

static uint64_t new_generation(uint64_t ino)
{
    uint64_t g = 0;
    if (getrandom(&g, sizeof(g), GRND_NONBLOCK) != (ssize_t)sizeof(g))
        g = ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)time(NULL);
    return g ? g : 1;
}

int inode_new(struct tx *tx, uint64_t vol, uint32_t mode, uint32_t uid,
              uint32_t gid, struct inode *out)
{
    memset(out, 0, sizeof(*out));
    int rc = tx_next(tx, SEQ_INO, &out->ino);
    if (rc)
        return rc;
    out->vol = vol;
    out->gen = new_generation(out->ino);
    out->mode = mode;
    out->nlink = S_ISDIR(mode) ? 2 : 1;
    out->uid = uid;
    out->gid = gid;
    out->atime = out->mtime = tx->now;
    out->next_cookie = COOKIE_FIRST;
    tx_count(tx, vol, 1, 0);
    return inode_changed(tx, out, CH_CTIME);
}

int xattr_get(void *txp, uint64_t ino, const char *name, void *buf,
              size_t len)
{
    struct tx *tx = txp;
    size_t nlen = strlen(name);
    uint8_t key[8 + META_NAME_MAX];
    if (nlen > META_NAME_MAX)
        return -ERANGE;
    be64_put(key, ino);
    memcpy(key + 8, name, nlen);
    DBT k = { .data = key, .size = (u_int32_t)(8 + nlen) };
    DBT v = { .data = buf, .ulen = (u_int32_t)len, .flags = DB_DBT_USERMEM };
    DB *db = tx->m->db[MDB_XATTRS];
    int rc = db->get(db, tx->txn, &k, &v, 0);
    if (rc == DB_NOTFOUND)
        return -ENODATA;
    if (rc == DB_BUFFER_SMALL)
        return -ERANGE;
    rc = db_err(rc);
    return rc ? rc : (int)v.size;
}

int inode_settle(struct tx *tx, struct inode *in)
{
    if (in->nlink > 0)
        return inode_put(tx, in);
    int rc = opens_any(tx, in->ino);
    if (rc < 0)
        return rc;
    if (rc == 1)                        /* kept until the last close */
        return inode_put(tx, in);
    uint8_t key[8];
    be64_put(key, in->ino);
    if ((rc = blocks_drop_from(tx, in, 0)) ||
        (rc = kv_del_prefix(tx, MDB_XATTRS, key, 8)) ||
        (rc = kv_del_prefix(tx, MDB_LOCKS, key, 8)))
        return rc;
    rc = kv_del(tx, MDB_INODES, key, 8);
    if (rc)
        return rc == -ENOENT ? -EIO : rc;
    tx_count(tx, in->vol, -1, 0);
    return 0;
}

/* ---- getattr, setattr ---- */

struct attr_args {
    const struct meta_cred *cr;
    uint64_t ino;
    const struct meta_setattr *sa;
    struct meta_attr *out;
    int want_xattrs;                    /* look for META_ATTR_NO_XATTRS */
};

static int do_getattr(struct tx *tx, void *arg)
{
    struct attr_args *a = arg;
    struct inode in;
    int rc = inode_get(tx, a->ino, &in, 0);
    if (rc == 0) {
        inode_attr(&in, a->out);
        if (a->want_xattrs)
            rc = xattr_note_none(tx, a->out);
    }
    return rc;
}

int meta_getattr(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                 struct meta_attr *out)
{
    struct attr_args a = { .cr = cr, .ino = ino, .out = out };
    return tx_run(m, do_getattr, &a);
}

int meta_getattr_x(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                   struct meta_attr *out)
{
    struct attr_args a = { .cr = cr, .ino = ino, .out = out,
                           .want_xattrs = 1 };
    return tx_run(m, do_getattr, &a);
}

int settime_ok(const struct meta_settime *t)
{
    if (t->how != META_TIME_DONT && t->how != META_TIME_SERVER &&
        t->how != META_TIME_CLIENT)
        return 0;
    return t->how != META_TIME_CLIENT || t->time.nsec < 1000000000u;
}

void settime_apply(struct tx *tx, const struct meta_settime *t,
                   struct meta_time *field)
{
    if (t->how == META_TIME_SERVER)
        *field = tx->now;
    else if (t->how == META_TIME_CLIENT)
        *field = t->time;
}

/* Every check before any change, so a refused setattr changes nothing. */
static int setattr_check(const struct meta_cred *cr, struct perm_node *pn,
                         const struct meta_setattr *sa, uint32_t *mode,
                         int by_handle)
{
    int rc;
    if (!settime_ok(&sa->atime) || !settime_ok(&sa->mtime))
        return -EINVAL;
    if (sa->valid & (META_SET_UID | META_SET_GID)) {
        rc = perm_chown(cr, pn, !!(sa->valid & META_SET_UID), sa->uid,
                        !!(sa->valid & META_SET_GID), sa->gid);
        if (rc)
            return rc;
    }
    if (sa->valid & META_SET_MODE) {
        *mode = sa->mode;
        if ((rc = perm_chmod(cr, pn, mode)))
            return rc;
    }
    if (sa->valid & META_SET_SIZE) {
        if (S_ISDIR(pn->mode))
            return -EISDIR;
        if (!S_ISREG(pn->mode))
            return -EINVAL;
        if (sa->size > SIZE_MAX_FILE)
            return -EFBIG;
        if (!by_handle && (rc = perm_access(cr, pn, PERM_WRITE)))
            return rc;
    }
    if (sa->atime.how != META_TIME_DONT || sa->mtime.how != META_TIME_DONT) {
        int explicit_time = sa->atime.how == META_TIME_CLIENT ||
                            sa->mtime.how == META_TIME_CLIENT;
        if ((rc = perm_utimes(cr, pn, explicit_time)))
            return rc;
    }
    return 0;
}

/* Checks sa against in (read with DB_RMW) and stores the result. */
static int setattr_apply(struct tx *tx, const struct meta_cred *cr,
                         struct inode *in, const struct meta_setattr *given)
{
    struct meta_setattr grow;
    const struct meta_setattr *sa = given;
    if ((given->valid & META_SET_GROW) && given->size <= in->size) {
        grow = *given;                  /* nothing to grow: no size change */
        grow.valid &= ~(uint32_t)(META_SET_SIZE | META_SET_GROW);
        sa = &grow;
    }
    struct perm_node pn = inode_perm(tx, in);
    uint32_t mode = in->mode;
    int by_handle = 0;
    if ((sa->valid & META_SET_SIZE) && sa->open_session) {
        by_handle = opens_writable(tx, in->ino, sa->open_session);
        if (by_handle < 0)
            return by_handle;
    }
    int rc = setattr_check(cr, &pn, sa, &mode, by_handle);
    if (rc)
        return rc;
    int times = sa->atime.how != META_TIME_DONT ||
                sa->mtime.how != META_TIME_DONT;
    if (!(sa->valid & (META_SET_MODE | META_SET_UID | META_SET_GID |
                       META_SET_SIZE)) && !times)
        return 0;

    unsigned what = CH_CTIME;
    if (sa->valid & META_SET_UID)
        in->uid = sa->uid;
    if (sa->valid & META_SET_GID)
        in->gid = sa->gid;
    if ((sa->valid & (META_SET_UID | META_SET_GID)) &&
        !(sa->valid & META_SET_MODE))
        in->mode = perm_chown_kill(in->mode);
    if ((sa->valid & (META_SET_UID | META_SET_GID | META_SET_SIZE)) &&
        (rc = xattr_kill_caps(tx, in)))
        return rc;
    if (sa->valid & META_SET_MODE) {
        in->mode = mode;
        if ((rc = acl_chmod(tx, in)))
            return rc;
    }
    if (sa->valid & META_SET_SIZE) {
        if (sa->size != in->size)
            what |= CH_MTIME;
        if ((rc = inode_truncate(tx, in, sa->size)))
            return rc;
        in->mode = perm_write_kill(cr, in->mode);
    }
    if ((rc = inode_changed(tx, in, what)))
        return rc;
    settime_apply(tx, &sa->atime, &in->atime);
    settime_apply(tx, &sa->mtime, &in->mtime);
    return inode_put(tx, in);
}

static int do_setattr(struct tx *tx, void *arg)
{
    struct attr_args *a = arg;
    struct inode in;
    int rc = inode_get(tx, a->ino, &in, DB_RMW);
    if (rc || (rc = setattr_apply(tx, a->cr, &in, a->sa)))
        return rc;
    inode_attr(&in, a->out);
    return 0;
}

int meta_setattr(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                 const struct meta_setattr *sa, struct meta_attr *out)
{
    struct attr_args a = { .cr = cr, .ino = ino, .sa = sa, .out = out };
    return tx_run(m, do_setattr, &a);
}

/* ---- making inodes ---- */

struct mk_args {
    const struct meta_cred *cr;
    uint64_t parent;
    const struct meta_mk *mk;
    const char *target;                 /* symlinks */
    size_t tlen;
    uint32_t flags;                     /* META_CREATE_* */
    uint64_t session;
    uint64_t link_ino;                  /* link: the inode to link */
    struct meta_attr *out;
    int *created;
    struct meta_dirchange *dc;
};

/* Makes a new inode of the given type and its entry in dir (already read
 * with DB_RMW and checked for search), after the write check. */
static int make_entry(struct tx *tx, struct mk_args *a, struct inode *dir,
                      uint32_t mode, struct inode *out)
{
    const struct meta_mk *mk = a->mk;
    struct perm_node pd = inode_perm(tx, dir);
    int rc = perm_access(a->cr, &pd, PERM_WRITE | PERM_EXEC);
    if (rc)
        return rc;
    if (S_ISDIR(mode) && dir->nlink >= LINK_MAX_COUNT)
        return -EMLINK;
    uint32_t nmode, uid, gid;
    struct acl dacl = { 0, NULL };
    if (S_ISLNK(mode)) {                /* symlinks: 0777, no umask */
        nmode = mode;
        uid = a->cr->uid;
        gid = (dir->mode & S_ISGID) ? dir->gid : a->cr->gid;
    } else {
        /* A default ACL on the parent takes the place of the umask. */
        if ((rc = acl_default_of(tx, dir, &dacl)) < 0)
            return rc;
        perm_new_inode(a->cr, &pd, mode, rc ? 0 : mk->umask, &nmode, &uid,
                       &gid);
    }
    rc = inode_new(tx, dir->vol, nmode, uid, gid, out);
    if (rc == 0)
        rc = acl_inherit(tx, out, &dacl);
    acl_free(&dacl);
    if (rc)
        return rc;
    nmode = out->mode;
    if (S_ISCHR(mode) || S_ISBLK(mode))
        out->rdev = mk->rdev;
    if (S_ISDIR(mode)) {
        out->parent = dir->ino;
        dir->nlink++;
    }
    if (S_ISLNK(mode))
        out->size = a->tlen;
    if ((rc = dirent_add(tx, dir, mk->name, mk->namelen, out->ino,
                         nmode & S_IFMT)) ||
        (rc = inode_changed(tx, dir, CH_CTIME | CH_MTIME)) ||
        (rc = inode_put(tx, dir)))
        return rc;
    return inode_put_new(tx, out, a->target, a->tlen);
}

/* The common start of every call that adds a name: the name, the parent
 * (searchable), and whether the name exists (*d filled, 1 returned). */
static int mk_begin(struct tx *tx, struct mk_args *a, struct inode *dir,
                    struct dirent_rec *d)
{
    int rc = name_check(a->mk->name, a->mk->namelen, 1);
    if (rc)
        return rc;
    if ((rc = dir_open(tx, a->cr, a->parent, PERM_EXEC, dir, DB_RMW)))
        return rc;
    rc = dirent_get(tx, a->parent, a->mk->name, a->mk->namelen, d, DB_RMW);
    if (rc == -ENOENT)
        return 0;
    return rc ? rc : 1;
}

/* MKNOD, MKDIR and SYMLINK: a new inode of `mode` under a new name.
 * Only root makes device nodes; a name that exists is reported first. */
static int make_new(struct tx *tx, struct mk_args *a, uint32_t mode)
{
    struct inode dir, in;
    struct dirent_rec d;
    int rc = mk_begin(tx, a, &dir, &d);
    if (rc)
        return rc < 0 ? rc : -EEXIST;
    if ((S_ISCHR(mode) || S_ISBLK(mode)) && !perm_is_root(a->cr))
        return -EPERM;
    uint64_t before = dir.change;
    if ((rc = make_entry(tx, a, &dir, mode, &in)))
        return rc;
    inode_attr(&in, a->out);
    dirchange_fill(a->dc, before, &dir);
    return 0;
}

static int do_mknod(struct tx *tx, void *arg)
{
    struct mk_args *a = arg;
    uint32_t type = a->mk->mode & S_IFMT;
    if (type == 0)
        type = S_IFREG;
    if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK &&
        type != S_IFCHR && type != S_IFBLK)
        return -EINVAL;
    return make_new(tx, a, type | (a->mk->mode & 07777));
}

int meta_mknod(struct meta *m, const struct meta_cred *cr, uint64_t parent,
               const struct meta_mk *mk, struct meta_attr *out,
               struct meta_dirchange *dc)
{
    struct mk_args a = { .cr = cr, .parent = parent, .mk = mk, .out = out,
                         .dc = dc };
    return tx_run(m, do_mknod, &a);
}

static int do_mkdir(struct tx *tx, void *arg)
{
    struct mk_args *a = arg;
    return make_new(tx, a, S_IFDIR | (a->mk->mode & 07777));
}

int meta_mkdir(struct meta *m, const struct meta_cred *cr, uint64_t parent,
               const struct meta_mk *mk, struct meta_attr *out,
               struct meta_dirchange *dc)
{
    struct mk_args a = { .cr = cr, .parent = parent, .mk = mk, .out = out,
                         .dc = dc };
    return tx_run(m, do_mkdir, &a);
}

static int do_symlink(struct tx *tx, void *arg)
{
    return make_new(tx, arg, S_IFLNK | 0777);
}

int meta_symlink(struct meta *m, const struct meta_cred *cr, uint64_t parent,
                 const char *name, size_t namelen, const char *target,
                 struct meta_attr *out, struct meta_dirchange *dc)
{
    size_t tlen = target ? strnlen(target, META_PATH_MAX + 1) : 0;
    if (tlen == 0)
        return -ENOENT;
    if (tlen > META_PATH_MAX)
        return -ENAMETOOLONG;
    struct meta_mk mk = { .name = name, .namelen = namelen,
                          .mode = S_IFLNK | 0777 };
    struct mk_args a = { .cr = cr, .parent = parent, .mk = &mk,
                         .target = target, .tlen = tlen, .out = out,
                         .dc = dc };
    return tx_run(m, do_symlink, &a);
}

/* CREATE of a name that exists: open it as O_CREAT without O_EXCL does. */
static int create_existing(struct tx *tx, struct mk_args *a,
                           const struct dirent_rec *d, struct inode *in)
{
    int rc = inode_get(tx, d->ino, in, DB_RMW);
    if (rc)
        return rc == -ESTALE ? -EIO : rc;
    if (S_ISDIR(in->mode))
        return -EISDIR;
    if (S_ISLNK(in->mode))
        return -ELOOP;
    int want = 0;
    if (a->flags & META_CREATE_READ)
        want |= PERM_READ;
    if ((a->flags & META_CREATE_WRITE) ||
        !(a->flags & (META_CREATE_READ | META_CREATE_WRITE)) ||
        (a->flags & META_CREATE_TRUNC))
        want |= PERM_WRITE;
    struct perm_node pn = inode_perm(tx, in);
    if ((rc = perm_access(a->cr, &pn, want)))
        return rc;
    if ((a->flags & META_CREATE_TRUNC) && S_ISREG(in->mode)) {
        in->mode = perm_write_kill(a->cr, in->mode);
        if ((rc = xattr_kill_caps(tx, in)) ||
            (rc = inode_truncate(tx, in, 0)) ||
            (rc = inode_changed(tx, in, CH_CTIME | CH_MTIME)) ||
            (rc = inode_put(tx, in)))
            return rc;
    }
    return 0;
}

static int do_create(struct tx *tx, void *arg)
{
    struct mk_args *a = arg;
    struct inode dir, in;
    struct dirent_rec d;
    uint32_t type = a->mk->mode & S_IFMT;
    if (type != 0 && type != S_IFREG)
        return -EINVAL;
    int exists = mk_begin(tx, a, &dir, &d), rc;
    if (exists < 0)
        return exists;
    uint64_t before = dir.change;
    if (a->session && (rc = session_check(tx, a->session)))
        return rc;
    if (exists) {
        if (a->flags & META_CREATE_EXCL)
            return -EEXIST;
        rc = create_existing(tx, a, &d, &in);
        *a->created = 0;
    } else {
        rc = make_entry(tx, a, &dir, S_IFREG | (a->mk->mode & 07777), &in);
        if (rc == 0 && a->mk->sa)
            rc = setattr_apply(tx, a->cr, &in, a->mk->sa);
        *a->created = 1;
    }
    if (rc)
        return rc;
    /* A create opens for writing, whatever mode the new file gets. */
    if (a->session && (rc = opens_add(tx, in.ino, a->session, 1)))
        return rc;
    inode_attr(&in, a->out);
    dirchange_fill(a->dc, before, &dir);
    return 0;
}

int meta_create(struct meta *m, const struct meta_cred *cr, uint64_t parent,
                const struct meta_mk *mk, uint32_t flags, uint64_t session,
                struct meta_attr *out, int *created,
                struct meta_dirchange *dc)
{
    int dummy;
    struct mk_args a = { .cr = cr, .parent = parent, .mk = mk,
                         .flags = flags, .session = session, .out = out,
                         .created = created ? created : &dummy, .dc = dc };
    return tx_run(m, do_create, &a);
}

/* ---- readlink, link ---- */

struct readlink_args {
    uint64_t ino;
    char *buf;
    size_t len;
};

static int do_readlink(struct tx *tx, void *arg)
{
    struct readlink_args *a = arg;
    uint8_t key[8], rec[INODE_REC_LEN + META_PATH_MAX];
    size_t len;
    struct inode in;
    be64_put(key, a->ino);
    int rc = kv_get(tx, MDB_INODES, key, 8, rec, sizeof(rec), &len, 0);
    if (rc)
        return rc == -ENOENT ? -ESTALE : rc;
    if ((rc = inode_decode(rec, len, a->ino, &in)))
        return rc;
    if (!S_ISLNK(in.mode))
        return -EINVAL;
    size_t tlen = len - INODE_REC_LEN;
    if (a->len <= tlen)
        return -ERANGE;
    memcpy(a->buf, rec + INODE_REC_LEN, tlen);
    a->buf[tlen] = 0;
    return (int)tlen;
}

int meta_readlink(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                  char *buf, size_t len)
{
    struct readlink_args a = { .ino = ino, .buf = buf, .len = len };
    return tx_run(m, do_readlink, &a);
}

static int do_link(struct tx *tx, void *arg)
{
    struct mk_args *a = arg;
    struct inode dir, in;
    struct dirent_rec d;
    int rc = inode_get(tx, a->link_ino, &in, DB_RMW);
    if (rc)
        return rc;
    if (S_ISDIR(in.mode))
        return -EPERM;
    if ((rc = mk_begin(tx, a, &dir, &d)))
        return rc < 0 ? rc : -EEXIST;
    struct perm_node pd = inode_perm(tx, &dir);
    if ((rc = perm_access(a->cr, &pd, PERM_WRITE | PERM_EXEC)))
        return rc;
    if (dir.vol != in.vol)
        return -EXDEV;
    if (in.nlink == 0)
        return -ENOENT;
    if (in.nlink >= LINK_MAX_COUNT)
        return -EMLINK;
    uint64_t before = dir.change;
    in.nlink++;
    if ((rc = dirent_add(tx, &dir, a->mk->name, a->mk->namelen, in.ino,
                         in.mode & S_IFMT)) ||
        (rc = inode_changed(tx, &dir, CH_CTIME | CH_MTIME)) ||
        (rc = inode_put(tx, &dir)) ||
        (rc = inode_changed(tx, &in, CH_CTIME)) ||
        (rc = inode_put(tx, &in)))
        return rc;
    inode_attr(&in, a->out);
    dirchange_fill(a->dc, before, &dir);
    return 0;
}

int meta_link(struct meta *m, const struct meta_cred *cr, uint64_t ino,
              uint64_t newparent, const char *name, size_t namelen,
              struct meta_attr *out, struct meta_dirchange *dc)
{
    struct meta_mk mk = { .name = name, .namelen = namelen };
    struct mk_args a = { .cr = cr, .parent = newparent, .mk = &mk,
                         .link_ino = ino, .out = out, .dc = dc };
    return tx_run(m, do_link, &a);
}
