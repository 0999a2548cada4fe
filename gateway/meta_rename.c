/* meta_rename.c - rename, with RENAME_NOREPLACE and RENAME_EXCHANGE: one
 * transaction that moves (or swaps) entries, replaces a target atomically,
 * keeps directory link counts and ".." parents right, and refuses to move
 * a directory into its own subtree. */
#include "config.h"
#include "meta_internal.h"

#include <errno.h>
#include <sys/stat.h>

#define MAX_DEPTH  1000000              /* guards the walk up a damaged tree */

struct rename_args {
    const struct meta_cred *cr;
    uint64_t p1, p2;
    const char *n1, *n2;
    size_t l1, l2;
    uint32_t flags;
    struct meta_dirchange *dcs;         /* NULL or [source, target] */
};

/* 1 if anc is start or one of its ancestors. */
static int is_ancestor(struct tx *tx, uint64_t anc, uint64_t start)
{
    uint64_t cur = start;
    for (int depth = 0; depth < MAX_DEPTH; depth++) {
        if (cur == anc)
            return 1;
        struct inode in;
        int rc = inode_get(tx, cur, &in, 0);
        if (rc)
            return rc == -ESTALE ? -EIO : rc;
        if (in.parent == 0 || in.parent == cur)
            return 0;                   /* reached a volume root */
        cur = in.parent;
    }
    return -ELOOP;
}

/* A directory d may not move under itself: d must not be newparent or an
 * ancestor of it. */
static int check_subtree(struct tx *tx, const struct inode *d,
                         uint64_t newparent)
{
    int rc = is_ancestor(tx, d->ino, newparent);
    return rc < 0 ? rc : rc ? -EINVAL : 0;
}

/* The rules that depend on both sides, before anything changes. */
static int rename_check(struct tx *tx, struct rename_args *a,
                        struct inode *P1, struct inode *P2,
                        struct inode *S, struct inode *T, int has_t)
{
    int exchange = a->flags & META_RENAME_EXCHANGE;
    struct perm_node pp1 = inode_perm(tx, P1), pp2 = inode_perm(tx, P2);
    struct perm_node ps = inode_perm(tx, S);
    int rc;
    if ((rc = perm_may_delete(a->cr, &pp1, &ps)))
        return rc;
    if ((rc = perm_access(a->cr, &pp2, PERM_WRITE | PERM_EXEC)))
        return rc;
    if (has_t) {
        struct perm_node pt = inode_perm(tx, T);
        if ((rc = perm_may_delete(a->cr, &pp2, &pt)))
            return rc;
    }
    /* A directory changing parent rewrites its "..": write on it. */
    if (P1->ino != P2->ino) {
        if (S_ISDIR(S->mode) && (rc = perm_access(a->cr, &ps, PERM_WRITE)))
            return rc;
        if (exchange && S_ISDIR(T->mode)) {
            struct perm_node pt = inode_perm(tx, T);
            if ((rc = perm_access(a->cr, &pt, PERM_WRITE)))
                return rc;
        }
    }
    if (!exchange && has_t) {
        if (S_ISDIR(S->mode) && !S_ISDIR(T->mode))
            return -ENOTDIR;
        if (!S_ISDIR(S->mode) && S_ISDIR(T->mode))
            return -EISDIR;
        if (S_ISDIR(T->mode)) {
            if ((rc = dir_empty(tx, T->ino)) < 0)
                return rc;
            if (rc == 0)
                return -ENOTEMPTY;
        }
    }
    if (P1->ino != P2->ino) {
        if (S_ISDIR(S->mode) && (rc = check_subtree(tx, S, P2->ino)))
            return rc;
        if (exchange && S_ISDIR(T->mode) &&
            (rc = check_subtree(tx, T, P1->ino)))
            return rc;
    }
    return 0;
}

/* Moves directory d from one parent to another (link counts, ".."). */
static void move_dir(struct inode *d, struct inode *from, struct inode *to)
{
    if (!S_ISDIR(d->mode) || from->ino == to->ino)
        return;
    from->nlink--;
    to->nlink++;
    d->parent = to->ino;
}

static int rename_apply(struct tx *tx, struct rename_args *a,
                        struct inode *P1, struct inode *P2, struct inode *S,
                        struct inode *T, int has_t,
                        const struct dirent_rec *d1,
                        const struct dirent_rec *d2)
{
    int rc;
    if (a->flags & META_RENAME_EXCHANGE) {
        if ((rc = dirent_repoint(tx, a->p1, a->n1, a->l1, d1->cookie, T->ino,
                                 T->mode & S_IFMT)) ||
            (rc = dirent_repoint(tx, a->p2, a->n2, a->l2, d2->cookie, S->ino,
                                 S->mode & S_IFMT)))
            return rc;
        move_dir(S, P1, P2);
        move_dir(T, P2, P1);
        if ((rc = inode_changed(tx, T, CH_CTIME)) ||
            (rc = inode_put(tx, T)))
            return rc;
    } else {
        if (has_t)
            rc = dirent_repoint(tx, a->p2, a->n2, a->l2, d2->cookie, S->ino,
                                S->mode & S_IFMT);
        else
            rc = dirent_add(tx, P2, a->n2, a->l2, S->ino, S->mode & S_IFMT);
        if (rc || (rc = dirent_del(tx, a->p1, a->n1, a->l1, d1->cookie)))
            return rc;
        move_dir(S, P1, P2);
        if (has_t) {
            if (S_ISDIR(T->mode)) {
                T->nlink = 0;
                P2->nlink--;
            } else {
                T->nlink--;
            }
            if ((rc = inode_changed(tx, T, CH_CTIME)) ||
                (rc = inode_settle(tx, T)))
                return rc;
        }
    }
    if ((rc = inode_changed(tx, S, CH_CTIME)) ||
        (rc = inode_put(tx, S)) ||
        (rc = inode_changed(tx, P1, CH_CTIME | CH_MTIME)) ||
        (rc = inode_put(tx, P1)))
        return rc;
    if (P2 != P1 && ((rc = inode_changed(tx, P2, CH_CTIME | CH_MTIME)) ||
                     (rc = inode_put(tx, P2))))
        return rc;
    return 0;
}

/* The rename between the two directories, read and searchable (P2 is P1
 * when they are one). */
static int rename_between(struct tx *tx, struct rename_args *a,
                          struct inode *P1, struct inode *P2)
{
    struct inode S, T;
    struct dirent_rec d1, d2;
    int rc;
    if ((rc = dirent_get(tx, a->p1, a->n1, a->l1, &d1, DB_RMW)))
        return rc;
    rc = dirent_get(tx, a->p2, a->n2, a->l2, &d2, DB_RMW);
    if (rc && rc != -ENOENT)
        return rc;
    int has_t = rc == 0;
    if ((a->flags & META_RENAME_EXCHANGE) && !has_t)
        return -ENOENT;
    if ((a->flags & META_RENAME_NOREPLACE) && has_t)
        return -EEXIST;

    if ((rc = inode_get(tx, d1.ino, &S, DB_RMW)))
        return rc == -ESTALE ? -EIO : rc;
    if (has_t && d2.ino == d1.ino) {
        /* Two names of one inode: nothing to do, once allowed. */
        struct perm_node pp1 = inode_perm(tx, P1), pp2 = inode_perm(tx, P2);
        if ((rc = perm_access(a->cr, &pp1, PERM_WRITE | PERM_EXEC)))
            return rc;
        return perm_access(a->cr, &pp2, PERM_WRITE | PERM_EXEC);
    }
    if (has_t && (rc = inode_get(tx, d2.ino, &T, DB_RMW)))
        return rc == -ESTALE ? -EIO : rc;
    if ((rc = rename_check(tx, a, P1, P2, &S, &T, has_t)))
        return rc;
    return rename_apply(tx, a, P1, P2, &S, &T, has_t, &d1, &d2);
}

static int do_rename(struct tx *tx, void *arg)
{
    struct rename_args *a = arg;
    uint32_t known = META_RENAME_NOREPLACE | META_RENAME_EXCHANGE;
    if ((a->flags & ~known) || (a->flags & known) == known)
        return -EINVAL;
    int rc;
    if ((rc = name_check(a->n1, a->l1, 1)) ||
        (rc = name_check(a->n2, a->l2, 1)))
        return rc;

    struct inode P1, P2buf, *P2 = &P1;
    if ((rc = dir_open(tx, a->cr, a->p1, PERM_EXEC, &P1, DB_RMW)))
        return rc;
    if (a->p2 != a->p1) {
        P2 = &P2buf;
        if ((rc = dir_open(tx, a->cr, a->p2, PERM_EXEC, P2, DB_RMW)))
            return rc;
        if (P2->vol != P1.vol)
            return -EXDEV;
    }
    uint64_t before1 = P1.change, before2 = P2->change;
    if ((rc = rename_between(tx, a, &P1, P2)))
        return rc;
    if (a->dcs) {
        dirchange_fill(&a->dcs[0], before1, &P1);
        dirchange_fill(&a->dcs[1], before2, P2);
    }
    return 0;
}

int meta_rename(struct meta *m, const struct meta_cred *cr, uint64_t parent,
                const char *name, size_t namelen, uint64_t newparent,
                const char *newname, size_t newnamelen, uint32_t flags,
                struct meta_dirchange *dcs)
{
    struct rename_args a = { .cr = cr, .p1 = parent, .n1 = name,
                             .l1 = namelen, .p2 = newparent, .n2 = newname,
                             .l2 = newnamelen, .flags = flags, .dcs = dcs };
    return tx_run(m, do_rename, &a);
}
