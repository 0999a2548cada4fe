/* gw_protocol.c - drives a running flexfs-gatewayd through the native
 * protocol with libtirpc clients (several threads at once), for the
 * gw_*.sh integration tests:
 *
 *   gw_protocol test PORT            every procedure, attributes, errors
 *   gw_protocol build-tree PORT NAME a tree under /NAME, for durability
 *   gw_protocol verify-tree PORT NAME [N]  ... and its check (of the
 *                                    first N directories only: what a
 *                                    build killed midway had acknowledged)
 *   gw_protocol ping PORT            NULL, MOUNT, GETATTR, UNMOUNT
 *   gw_protocol lease PORT           an idle session's lease runs out
 *   gw_protocol gc PORT STORE-URL    garbage blocks leave the store
 *   gw_protocol bench PORT [THREADS] [SECONDS]  GETATTR/s and CREATE/s
 *
 * Exit status 0 on success; a failed check prints its line and exits 1. */
#include "config.h"
#include "gw_client.h"

#include "blockkey.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

static uint16_t port;

static int time_cmp(const fx_time *a, const fx_time *b)
{
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    return a->nsec < b->nsec ? -1 : a->nsec > b->nsec;
}

#define CHECK_TIME_ADVANCED(after, before) \
    CHECK(time_cmp(&(after), &(before)) > 0, "%s (%lld.%09u) not after %s (%lld.%09u)", \
          #after, (long long)(after).sec, (after).nsec, #before, \
          (long long)(before).sec, (before).nsec)

static void pause_tick(void)
{
    /* Times have nanoseconds, but a coarse clock may tick slower. */
    usleep(20 * 1000);
}

/* LOOKUP arguments with no limit on the name, to send what the protocol
 * refuses to decode. */
struct biglookup {
    fx_ino parent;
    u_int len;
    char *val;
};

static bool_t xdr_biglookup(XDR *x, struct biglookup *b)
{
    return xdr_u_quad_t(x, &b->parent) && xdr_bytes(x, &b->val, &b->len, ~0u);
}

static uint64_t mkdir_ok(struct gw *g, uint64_t parent, const char *name)
{
    fx_attr a;
    CHECK_OK(gw_mkdir(g, parent, name, 0755, &a));
    return a.ino;
}

static uint64_t create_ok(struct gw *g, uint64_t parent, const char *name)
{
    fx_attr a;
    CHECK_OK(gw_create(g, parent, name, 0644, 1, 0, &a, NULL));
    return a.ino;
}

/* ---- sessions ---- */

static void test_sessions(void)
{
    struct gw g;
    fx_mount_ok ok;
    fx_attr a;

    gw_connect(&g, port, 0, 0);
    gw_null(&g);
    CHECK(g.lease > 0, "lease %u", g.lease);
    CHECK_EQ(g.block_size, 4u << 20);
    CHECK_OK(gw_mount(&g, "/", &ok));
    CHECK_EQ(ok.root, g.root);
    CHECK(ok.session != g.session, "sessions are new");
    CHECK(strncmp(ok.store_url, "file://", 7) == 0, "store url %s", ok.store_url);
    free(ok.store_url);
    CHECK_OK(gw_renew(&g, ok.session));
    CHECK_OK(gw_unmount(&g, ok.session));
    CHECK_EQ(gw_renew(&g, ok.session), ESTALE);
    CHECK_EQ(gw_renew(&g, 0x7777777777ull), ESTALE);
    CHECK(gw_mount(&g, "no-such-volume", &ok) != 0, "unknown volume mounted");

    CHECK_OK(gw_getattr(&g, g.root, &a));
    CHECK_EQ(a.ino, g.root);
    CHECK_EQ(a.mode & S_IFMT, S_IFDIR);
    CHECK(a.nlink >= 2, "root nlink %u", a.nlink);
    CHECK_EQ(gw_getattr(&g, 0xdead0000beefull, &a), ESTALE);
    gw_close(&g);
}

/* A session is its host's, and "open for writing" is what open() said:
 * another host cannot act for a session (renew, end it, truncate through
 * its opens), and a read-only open lets nobody truncate without write
 * permission. */
static void test_session_trust(void)
{
    struct gw root, user, other;
    fx_attr a;
    gw_connect(&root, port, 0, 0);
    char name[64];
    snprintf(name, sizeof(name), "trust-%d", (int)getpid());
    uint64_t f = create_ok(&root, root.root, name);     /* 0644, root's */
    CHECK_OK(gw_open(&root, f, O_RDWR, &a));

    gw_connect(&user, port, 4242, 4242);
    CHECK_OK(gw_open(&user, f, O_RDONLY, &a));
    fx_setattr_args sa;
    memset(&sa, 0, sizeof(sa));
    sa.ino = f;
    sa.valid = FX_SET_SIZE | FX_SET_BY_HANDLE;
    sa.size = 0;
    sa.session = user.session;
    CHECK_EQ(gw_setattr(&user, &sa, &a), EACCES);       /* a read-only open */
    sa.valid = FX_SET_SIZE;
    CHECK_EQ(gw_setattr(&user, &sa, &a), EACCES);
    CHECK_OK(gw_release(&user, f));

    gw_connect_from(&other, port, 4242, 4242, "127.0.0.2");
    sa.valid = FX_SET_SIZE | FX_SET_BY_HANDLE;
    sa.session = root.session;                          /* not its host's */
    CHECK_EQ(gw_setattr(&other, &sa, &a), ESTALE);
    CHECK_EQ(gw_renew(&other, root.session), ESTALE);
    CHECK_EQ(gw_unmount(&other, root.session), ESTALE);
    CHECK_OK(gw_renew(&root, root.session));            /* untouched */
    CHECK_OK(gw_renew(&other, other.session));          /* its own works */

    sa.session = root.session;                          /* the owner may */
    CHECK_OK(gw_setattr(&root, &sa, &a));
    CHECK_OK(gw_release(&root, f));
    CHECK_OK(gw_unlink(&root, root.root, name));
    gw_close(&other);
    gw_close(&user);
    gw_close(&root);
}

/* ---- names, attributes and errors ---- */

static void test_create_and_attrs(struct gw *g, uint64_t top)
{
    fx_attr d0, d1, f, f2, dir;
    int created = -1;
    time_t now = time(NULL);

    CHECK_OK(gw_getattr(g, top, &d0));
    pause_tick();
    CHECK_OK(gw_mkdir(g, top, "sub", 0777, &dir));
    CHECK_EQ(dir.mode, S_IFDIR | 0755);         /* umask 022 applied */
    CHECK_EQ(dir.nlink, 2);
    CHECK_EQ(dir.uid, 0);
    CHECK_EQ(dir.gid, 0);
    CHECK(dir.ctime.sec >= now - 5 && dir.ctime.sec <= now + 5, "ctime %lld",
          (long long)dir.ctime.sec);
    CHECK_OK(gw_getattr(g, top, &d1));
    CHECK_EQ(d1.nlink, d0.nlink + 1);
    CHECK_TIME_ADVANCED(d1.mtime, d0.mtime);
    CHECK_TIME_ADVANCED(d1.ctime, d0.ctime);
    CHECK(d1.change != d0.change, "parent change counter did not move");
    CHECK_EQ(gw_mkdir(g, top, "sub", 0755, NULL), EEXIST);

    CHECK_OK(gw_create(g, dir.ino, "file", 0666, 0, 0, &f, &created));
    CHECK_EQ(created, 1);
    CHECK_EQ(f.mode, S_IFREG | 0644);
    CHECK_EQ(f.nlink, 1);
    CHECK_EQ(f.size, 0);
    CHECK_EQ(f.blocks, 0);
    CHECK(f.ino != dir.ino && f.ino != top, "fresh inode");
    CHECK_OK(gw_create(g, dir.ino, "file", 0666, 0, 0, &f2, &created));
    CHECK_EQ(created, 0);
    CHECK_EQ(f2.ino, f.ino);
    CHECK_EQ(gw_create(g, dir.ino, "file", 0666, 1, 0, NULL, NULL), EEXIST);
    CHECK_OK(gw_lookup(g, dir.ino, "file", &f2));
    CHECK_EQ(f2.ino, f.ino);
    CHECK_EQ(f2.gen, f.gen);
    CHECK_EQ(gw_lookup(g, dir.ino, "nothing", NULL), ENOENT);
    CHECK_EQ(gw_lookup(g, f.ino, "x", NULL), ENOTDIR);
    CHECK_EQ(gw_mkdir(g, 0xdead0000beefull, "x", 0755, NULL), ESTALE);

    /* Names: 255 bytes pass, 256 do not; '/' and NUL are refused. */
    char name[300];
    memset(name, 'n', sizeof(name));
    name[255] = '\0';
    CHECK_OK(gw_create(g, dir.ino, name, 0644, 1, 0, NULL, NULL));
    CHECK_OK(gw_lookup(g, dir.ino, name, NULL));
    name[255] = 'n';
    name[256] = '\0';
    CHECK_EQ(gw_create(g, dir.ino, name, 0644, 1, 0, NULL, NULL), ENAMETOOLONG);
    CHECK_EQ(gw_mkdir(g, dir.ino, name, 0755, NULL), ENAMETOOLONG);
    CHECK_EQ(gw_lookup(g, dir.ino, name, NULL), ENAMETOOLONG);
    CHECK_EQ(gw_create(g, dir.ino, "a/b", 0644, 1, 0, NULL, NULL), EINVAL);
    CHECK_EQ(gw_mkdir_n(g, dir.ino, "a\0b", 3, 0755, NULL), EINVAL);
    CHECK(gw_create(g, dir.ino, "", 0644, 1, 0, NULL, NULL) != 0, "empty name");

    /* A name longer than the protocol's wire limit does not decode. */
    {
        static char big[5000];
        memset(big, 'b', sizeof(big));
        struct biglookup la = { dir.ino, sizeof(big), big };
        fx_attr_res r;
        memset(&r, 0, sizeof(r));
        gw_call(g, FXPROC_LOOKUP, (xdrproc_t)xdr_biglookup, &la,
                (xdrproc_t)xdr_fx_attr_res, &r, RPC_CANTDECODEARGS);
    }

    /* A create as another user in a directory it may not write. */
    struct gw u;
    gw_connect(&u, port, 1000, 1000);
    CHECK_EQ(gw_create(&u, dir.ino, "mine", 0644, 1, 0, NULL, NULL), EACCES);
    fx_setattr_args sa;
    memset(&sa, 0, sizeof(sa));
    sa.ino = dir.ino;
    sa.valid = FX_SET_UID | FX_SET_GID;
    sa.uid = sa.gid = 1000;
    CHECK_OK(gw_setattr(g, &sa, NULL));
    CHECK_OK(gw_create(&u, dir.ino, "mine", 0640, 1, 0, &f2, NULL));
    CHECK_EQ(f2.uid, 1000);
    CHECK_EQ(f2.gid, 1000);
    CHECK_EQ(f2.mode, S_IFREG | 0640);
    gw_close(&u);
}

/* The readdirplus entry of name in dir (a small directory: one page). */
static void plus_entry(struct gw *g, uint64_t dir, const char *name,
                       fx_attr *out)
{
    fx_readdir_res r;
    CHECK_OK(gw_readdir(g, dir, 0, 65536, 1, &r));
    fx_readdir_ok *ok = &r.fx_readdir_res_u.ok;
    int found = 0;
    for (u_int k = 0; k < ok->entries.entries_len; k++) {
        const fx_dirent *e = &ok->entries.entries_val[k];
        if (e->name.fx_name_len == strlen(name) &&
            memcmp(e->name.fx_name_val, name, strlen(name)) == 0 && e->attr) {
            *out = *e->attr;
            found = 1;
        }
    }
    xdr_free((xdrproc_t)xdr_fx_readdir_res, (char *)&r);
    CHECK(found, "no readdirplus entry %s", name);
}

/* FX_ATTR_NO_XATTRS: said by LOOKUP, GETATTR and READDIRPLUS exactly while
 * the inode has no xattr (a neighbour's xattrs do not count), never by
 * the calls that do not look. */
static void test_no_xattrs_flag(struct gw *g, uint64_t top)
{
    fx_attr d, a, b, c;
    CHECK_OK(gw_mkdir(g, top, "xflag", 0755, &d));
    CHECK_OK(gw_create(g, d.ino, "a", 0644, 1, 0, &a, NULL));
    CHECK_OK(gw_create(g, d.ino, "b", 0644, 1, 0, &b, NULL));
    CHECK_OK(gw_getattr(g, a.ino, &c));
    CHECK_EQ(c.flags, FX_ATTR_NO_XATTRS);
    CHECK_OK(gw_setxattr(g, b.ino, "user.k", "v", 1, &c));
    CHECK(c.change != b.change, "setxattr moved the counter");
    CHECK_EQ(c.flags, 0);
    CHECK_OK(gw_getattr(g, b.ino, &c));
    CHECK_EQ(c.flags, 0);
    CHECK_OK(gw_lookup(g, d.ino, "b", &c));
    CHECK_EQ(c.flags, 0);
    plus_entry(g, d.ino, "b", &c);
    CHECK_EQ(c.flags, 0);
    /* a sorts before b and b's xattr keys follow a's: still none for a. */
    CHECK_OK(gw_lookup(g, d.ino, "a", &c));
    CHECK_EQ(c.flags, FX_ATTR_NO_XATTRS);
    plus_entry(g, d.ino, "a", &c);
    CHECK_EQ(c.flags, FX_ATTR_NO_XATTRS);
    CHECK_OK(gw_removexattr(g, b.ino, "user.k", &c));
    CHECK_OK(gw_getattr(g, b.ino, &c));
    CHECK_EQ(c.flags, FX_ATTR_NO_XATTRS);
    plus_entry(g, d.ino, "b", &c);
    CHECK_EQ(c.flags, FX_ATTR_NO_XATTRS);
    /* An ACL is an xattr too. */
    static const unsigned char acl[] = {
        2, 0, 0, 0,                             /* version */
        1, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,     /* user::rw- */
        2, 0, 4, 0, 0xe8, 3, 0, 0,              /* user:1000:r-- */
        4, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,     /* group::r-- */
        0x10, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,  /* mask::r-- */
        0x20, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,  /* other::r-- */
    };
    CHECK_OK(gw_setxattr(g, a.ino, "system.posix_acl_access", acl,
                         sizeof(acl), NULL));
    CHECK_OK(gw_lookup(g, d.ino, "a", &c));
    CHECK_EQ(c.flags, 0);
}

/* The directory attributes the last name-changing call answered with
 * (g->dir_after[which]) are those GETATTR gives now. */
static void check_dir_after(struct gw *g, int which, uint64_t dir)
{
    fx_attr now;
    const fx_attr *got = &g->dir_after[which];
    CHECK_OK(gw_getattr(g, dir, &now));
    CHECK_EQ(got->ino, dir);
    CHECK_EQ(got->change, now.change);
    CHECK_EQ(got->nlink, now.nlink);
    CHECK_EQ(got->mode, now.mode);
    CHECK_EQ(time_cmp(&got->mtime, &now.mtime), 0);
    CHECK_EQ(time_cmp(&got->ctime, &now.ctime), 0);
}

static void test_special_files(struct gw *g, uint64_t top)
{
    fx_attr a;
    char target[FX_PATH_MAX + 1];

    CHECK_OK(gw_mknod(g, top, "fifo", S_IFIFO | 0600, 0, &a));
    CHECK_EQ(a.mode, S_IFIFO | 0600);
    CHECK_OK(gw_mknod(g, top, "sock", S_IFSOCK | 0644, 0, &a));
    CHECK_EQ(a.mode, S_IFSOCK | 0644);
    CHECK_OK(gw_mknod(g, top, "null", S_IFCHR | 0666, makedev(1, 3), &a));
    CHECK_EQ(a.mode, S_IFCHR | 0644);
    CHECK_EQ(a.rdev, makedev(1, 3));
    CHECK_OK(gw_mknod(g, top, "sda1", S_IFBLK | 0660, makedev(8, 1), &a));
    check_dir_after(g, 0, top);
    CHECK_EQ(a.mode, S_IFBLK | 0640);
    CHECK_EQ(a.rdev, makedev(8, 1));
    CHECK_OK(gw_lookup(g, top, "sda1", &a));
    CHECK_EQ(a.rdev, makedev(8, 1));
    CHECK_EQ(gw_mknod(g, top, "fifo", S_IFIFO | 0600, 0, NULL), EEXIST);

    const char *t = "../some/where/else";
    CHECK_OK(gw_symlink(g, top, "link", t, &a));
    check_dir_after(g, 0, top);
    CHECK_EQ(a.mode & S_IFMT, S_IFLNK);
    CHECK_EQ(a.size, strlen(t));
    CHECK_OK(gw_readlink(g, a.ino, target));
    CHECK(strcmp(target, t) == 0, "readlink gave '%s'", target);
    CHECK_OK(gw_lookup(g, top, "fifo", &a));
    CHECK_EQ(gw_readlink(g, a.ino, target), EINVAL);
    CHECK_EQ(gw_symlink(g, top, "link", "x", NULL), EEXIST);
    /* A target with a NUL inside names no path: refused, not cut short. */
    CHECK_EQ(gw_symlink_n(g, top, "nul", "a\0b", 3, NULL), EINVAL);
    CHECK_EQ(gw_lookup(g, top, "nul", NULL), ENOENT);
}

static void test_link_unlink(struct gw *g, uint64_t top)
{
    fx_attr f, f2, h, d0, d1;
    uint64_t sub = mkdir_ok(g, top, "links");
    uint64_t ino = create_ok(g, sub, "orig");

    CHECK_OK(gw_getattr(g, ino, &f));
    pause_tick();
    CHECK_OK(gw_link(g, ino, sub, "hard", &h));
    check_dir_after(g, 0, sub);
    CHECK_EQ(h.ino, ino);
    CHECK_EQ(h.nlink, 2);
    CHECK_TIME_ADVANCED(h.ctime, f.ctime);
    CHECK(h.change != f.change, "link moves the change counter");
    CHECK_OK(gw_lookup(g, sub, "hard", &f2));
    CHECK_EQ(f2.ino, ino);
    CHECK_EQ(gw_link(g, ino, sub, "hard", NULL), EEXIST);
    CHECK_EQ(gw_link(g, sub, top, "dirlink", NULL), EPERM);

    CHECK_OK(gw_getattr(g, sub, &d0));
    pause_tick();
    CHECK_OK(gw_unlink(g, sub, "hard"));
    check_dir_after(g, 0, sub);
    CHECK_OK(gw_getattr(g, ino, &f2));
    CHECK_EQ(f2.nlink, 1);
    CHECK_OK(gw_getattr(g, sub, &d1));
    CHECK_TIME_ADVANCED(d1.mtime, d0.mtime);
    CHECK_EQ(gw_unlink(g, sub, "hard"), ENOENT);
    CHECK_OK(gw_unlink(g, sub, "orig"));
    CHECK_EQ(gw_getattr(g, ino, &f2), ESTALE);

    /* Directories: rmdir rules and nlink. */
    uint64_t d = mkdir_ok(g, sub, "dir");
    check_dir_after(g, 0, sub);
    create_ok(g, d, "inside");
    check_dir_after(g, 0, d);
    CHECK_EQ(gw_rmdir(g, sub, "dir"), ENOTEMPTY);
    CHECK_EQ(gw_unlink(g, sub, "dir"), EISDIR);
    CHECK_OK(gw_getattr(g, sub, &d0));
    CHECK_EQ(d0.nlink, 3);
    CHECK_EQ(gw_rmdir(g, d, "inside"), ENOTDIR);
    CHECK_OK(gw_unlink(g, d, "inside"));
    CHECK_OK(gw_rmdir(g, sub, "dir"));
    check_dir_after(g, 0, sub);
    CHECK_OK(gw_getattr(g, sub, &d1));
    CHECK_EQ(d1.nlink, 2);
    CHECK_EQ(gw_getattr(g, d, NULL), ESTALE);

    /* An unlinked file stays while this session holds it open. */
    ino = create_ok(g, sub, "open-then-unlink");
    CHECK_OK(gw_open(g, ino, 2 /* O_RDWR */, &f));
    CHECK_OK(gw_unlink(g, sub, "open-then-unlink"));
    CHECK_OK(gw_getattr(g, ino, &f));
    CHECK_EQ(f.nlink, 0);
    CHECK_OK(gw_release(g, ino));
    CHECK_EQ(gw_getattr(g, ino, NULL), ESTALE);
}

static void test_rename(struct gw *g, uint64_t top)
{
    fx_attr a, b;
    uint64_t d = mkdir_ok(g, top, "ren");
    uint64_t d2 = mkdir_ok(g, top, "ren2");
    uint64_t fa = create_ok(g, d, "a");
    uint64_t fb = create_ok(g, d, "b");

    CHECK_OK(gw_rename(g, d, "a", d, "a2", 0));
    check_dir_after(g, 0, d);
    check_dir_after(g, 1, d);
    CHECK_EQ(gw_lookup(g, d, "a", NULL), ENOENT);
    CHECK_OK(gw_lookup(g, d, "a2", &a));
    CHECK_EQ(a.ino, fa);

    CHECK_EQ(gw_rename(g, d, "a2", d, "b", FX_RENAME_NOREPLACE), EEXIST);
    CHECK_OK(gw_rename(g, d, "a2", d, "b", FX_RENAME_EXCHANGE));
    CHECK_OK(gw_lookup(g, d, "a2", &a));
    CHECK_OK(gw_lookup(g, d, "b", &b));
    CHECK_EQ(a.ino, fb);
    CHECK_EQ(b.ino, fa);
    CHECK_EQ(gw_rename(g, d, "a2", d, "zz", FX_RENAME_EXCHANGE), ENOENT);
    CHECK_EQ(gw_rename(g, d, "a2", d, "b",
                       FX_RENAME_EXCHANGE | FX_RENAME_NOREPLACE), EINVAL);
    CHECK_EQ(gw_rename(g, d, "a2", d, "b", 0x80), EINVAL);

    /* Onto an existing file: replaced atomically, the old one gone. */
    CHECK_OK(gw_rename(g, d, "a2", d, "b", 0));
    CHECK_OK(gw_lookup(g, d, "b", &b));
    CHECK_EQ(b.ino, fb);
    CHECK_EQ(gw_getattr(g, fa, NULL), ESTALE);

    /* Across directories, with the directory link counts. */
    uint64_t sd = mkdir_ok(g, d, "subdir");
    CHECK_OK(gw_rename(g, d, "subdir", d2, "moved", 0));
    check_dir_after(g, 0, d);
    check_dir_after(g, 1, d2);
    CHECK_EQ(g->dir_after[0].nlink, 2);
    CHECK_EQ(g->dir_after[1].nlink, 3);
    CHECK_OK(gw_getattr(g, d, &a));
    CHECK_EQ(a.nlink, 2);
    CHECK_OK(gw_getattr(g, d2, &a));
    CHECK_EQ(a.nlink, 3);
    CHECK_OK(gw_lookup(g, d2, "moved", &a));
    CHECK_EQ(a.ino, sd);
    /* Into its own subtree. */
    mkdir_ok(g, sd, "deeper");
    CHECK_EQ(gw_rename(g, d2, "moved", sd, "loop", 0), EINVAL);
    /* A directory onto a non-empty one, then onto an empty one. */
    uint64_t e = mkdir_ok(g, d2, "empty");
    CHECK_EQ(gw_rename(g, d2, "empty", d2, "moved", 0), ENOTEMPTY);
    CHECK_OK(gw_rename(g, sd, "deeper", d2, "empty", 0));
    CHECK_EQ(gw_getattr(g, e, NULL), ESTALE);
    CHECK_EQ(gw_rename(g, d, "b", d2, "empty", 0), EISDIR);
    CHECK_EQ(gw_rename(g, d2, "empty", d, "b", 0), ENOTDIR);
    CHECK_EQ(gw_rename(g, d, "nope", d, "x", 0), ENOENT);
}

static void test_setattr(struct gw *g, uint64_t top)
{
    fx_attr a0, a;
    fx_setattr_args sa;
    uint64_t ino = create_ok(g, top, "attrs");

    CHECK_OK(gw_getattr(g, ino, &a0));
    uint64_t change = a0.change;
    fx_time ctime = a0.ctime;

#define SETATTR_OK() do { \
        pause_tick(); \
        CHECK_OK(gw_setattr(g, &sa, &a)); \
        CHECK(a.change > change, "change counter %" PRIu64 " after %" PRIu64, \
              (uint64_t)a.change, change); \
        CHECK_TIME_ADVANCED(a.ctime, ctime); \
        change = a.change; ctime = a.ctime; \
    } while (0)

    memset(&sa, 0, sizeof(sa));
    sa.ino = ino;
    sa.valid = FX_SET_MODE;
    sa.mode = 0600;
    SETATTR_OK();
    CHECK_EQ(a.mode, S_IFREG | 0600);

    sa.valid = FX_SET_UID;
    sa.uid = 1234;
    SETATTR_OK();
    CHECK_EQ(a.uid, 1234);
    CHECK_EQ(a.gid, 0);

    sa.valid = FX_SET_GID;
    sa.gid = 4321;
    SETATTR_OK();
    CHECK_EQ(a.gid, 4321);

    sa.valid = FX_SET_SIZE;
    sa.size = 123456789;
    SETATTR_OK();
    CHECK_EQ(a.size, 123456789);
    CHECK_TIME_ADVANCED(a.mtime, a0.mtime);
    sa.size = 10;
    SETATTR_OK();
    CHECK_EQ(a.size, 10);
    /* Grow-only (fallocate): a smaller size leaves the file alone, decided
     * in the transaction; a larger one grows it. */
    sa.valid = FX_SET_SIZE | FX_SET_SIZE_GROW;
    sa.size = 5;
    CHECK_OK(gw_setattr(g, &sa, &a));
    CHECK_EQ(a.size, 10);
    change = a.change;
    ctime = a.ctime;
    sa.size = 4096;
    SETATTR_OK();
    CHECK_EQ(a.size, 4096);
    sa.valid = FX_SET_SIZE;
    sa.size = 10;
    SETATTR_OK();

    sa.valid = 0;
    sa.atime.how = FX_TIME_CLIENT;
    sa.atime.time.sec = 1000000000;
    sa.atime.time.nsec = 123456789;
    SETATTR_OK();
    CHECK_EQ(a.atime.sec, 1000000000);
    CHECK_EQ(a.atime.nsec, 123456789);

    sa.atime.how = FX_TIME_DONT;
    sa.mtime.how = FX_TIME_CLIENT;
    sa.mtime.time.sec = 1500000000;
    sa.mtime.time.nsec = 42;
    SETATTR_OK();
    CHECK_EQ(a.mtime.sec, 1500000000);
    CHECK_EQ(a.mtime.nsec, 42);
    CHECK_EQ(a.atime.sec, 1000000000);      /* left alone */

    /* "Set to server time": the gateway's clock, this machine's. */
    sa.atime.how = FX_TIME_SERVER;
    sa.mtime.how = FX_TIME_SERVER;
    time_t now = time(NULL);
    SETATTR_OK();
    CHECK(a.atime.sec >= now - 2 && a.atime.sec <= now + 2, "atime %lld",
          (long long)a.atime.sec);
    CHECK(a.mtime.sec >= now - 2 && a.mtime.sec <= now + 2, "mtime %lld",
          (long long)a.mtime.sec);

    /* Bad requests. */
    sa.atime.how = FX_TIME_CLIENT;
    sa.atime.time.nsec = 1000000000;
    CHECK_EQ(gw_setattr(g, &sa, NULL), EINVAL);
    sa.atime.how = 7;
    CHECK_EQ(gw_setattr(g, &sa, NULL), EINVAL);
    sa.atime.how = FX_TIME_DONT;
    sa.mtime.how = FX_TIME_DONT;
    sa.valid = 0x100;
    CHECK_EQ(gw_setattr(g, &sa, NULL), EINVAL);
    sa.ino = 0xdead0000beefull;
    sa.valid = FX_SET_MODE;
    CHECK_EQ(gw_setattr(g, &sa, NULL), ESTALE);

    /* Only the owner (or root) changes the mode. */
    struct gw u;
    gw_connect(&u, port, 1000, 1000);
    sa.ino = ino;
    sa.valid = FX_SET_MODE;
    sa.mode = 0777;
    CHECK_EQ(gw_setattr(&u, &sa, NULL), EPERM);
    gw_close(&u);
#undef SETATTR_OK
}

static void test_statfs(struct gw *g)
{
    fx_statfs_ok s;
    CHECK_OK(gw_statfs(g, g->root, &s));
    CHECK(s.bsize > 0, "bsize");
    CHECK(s.blocks > 0 && s.bfree <= s.blocks && s.bavail <= s.blocks,
          "blocks %llu free %llu avail %llu", (unsigned long long)s.blocks,
          (unsigned long long)s.bfree, (unsigned long long)s.bavail);
    CHECK(s.files > 0 && s.ffree <= s.files, "files");
    CHECK_EQ(s.namemax, 255);
    CHECK_EQ(gw_statfs(g, 0xdead0000beefull, &s), ESTALE);
}

/* ---- block maps ---- */

static uint64_t version(struct gw *g, uint32_t n)
{
    return (g->session << 32) | n;
}

static void test_blocks(struct gw *g, uint64_t top)
{
    fx_get_blocks_res gb;
    fx_commit_res cr;
    fx_attr a0;
    uint64_t ino = create_ok(g, top, "data");
    uint32_t bs = g->block_size;

    CHECK_OK(gw_get_blocks(g, ino, 0, 16, &gb));
    CHECK_EQ(gb.fx_get_blocks_res_u.ok.blocks.blocks_len, 0);
    a0 = gb.fx_get_blocks_res_u.ok.attr;
    xdr_free((xdrproc_t)xdr_fx_get_blocks_res, (char *)&gb);

    pause_tick();
    fx_commit_block b1[2] = { { 0, version(g, 1), 0, bs, 0 }, { 2, version(g, 2), 0, 100, 0 } };
    CHECK_OK(gw_commit(g, ino, b1, 2, 2ull * bs + 100, FX_TIME_SERVER, &cr));
    fx_attr a = cr.fx_commit_res_u.attr;
    CHECK_EQ(a.size, 2ull * bs + 100);
    CHECK(a.change > a0.change, "commit moves the change counter");
    CHECK_TIME_ADVANCED(a.mtime, a0.mtime);
    CHECK_TIME_ADVANCED(a.ctime, a0.ctime);
    CHECK(a.blocks > 0, "blocks in use");
    xdr_free((xdrproc_t)xdr_fx_commit_res, (char *)&cr);

    CHECK_OK(gw_get_blocks(g, ino, 0, 16, &gb));
    fx_get_blocks_ok *ok = &gb.fx_get_blocks_res_u.ok;
    CHECK_EQ(ok->blocks.blocks_len, 2);
    CHECK_EQ(ok->blocks.blocks_val[0].index, 0);
    CHECK_EQ(ok->blocks.blocks_val[0].ver, version(g, 1));
    CHECK_EQ(ok->blocks.blocks_val[0].length, bs);
    CHECK_EQ(ok->blocks.blocks_val[1].index, 2);
    CHECK_EQ(ok->blocks.blocks_val[1].ver, version(g, 2));
    CHECK_EQ(ok->blocks.blocks_val[1].length, 100);
    CHECK_EQ(ok->attr.size, 2ull * bs + 100);
    xdr_free((xdrproc_t)xdr_fx_get_blocks_res, (char *)&gb);
    CHECK_OK(gw_get_blocks(g, ino, 1, 1, &gb));
    CHECK_EQ(gb.fx_get_blocks_res_u.ok.blocks.blocks_len, 0);
    xdr_free((xdrproc_t)xdr_fx_get_blocks_res, (char *)&gb);

    /* A commit merged against a version that moved on: a conflict that
     * names the block as it is now, and nothing changes. */
    fx_commit_block stale[2] = { { 0, version(g, 3), 0, bs, 0 },
                                 { 2, version(g, 4), version(g, 2), 200, 0 } };
    CHECK_EQ(gw_commit(g, ino, stale, 2, 2ull * bs + 200, FX_TIME_SERVER, &cr),
             FX_CONFLICT);
    fx_commit_conflict *cc = &cr.fx_commit_res_u.conflict;
    CHECK_EQ(cc->current.current_len, 1);
    CHECK_EQ(cc->current.current_val[0].index, 0);
    CHECK_EQ(cc->current.current_val[0].ver, version(g, 1));
    CHECK_EQ(cc->current.current_val[0].length, bs);
    xdr_free((xdrproc_t)xdr_fx_commit_res, (char *)&cr);
    CHECK_OK(gw_get_blocks(g, ino, 0, 16, &gb));
    CHECK_EQ(gb.fx_get_blocks_res_u.ok.blocks.blocks_val[1].ver, version(g, 2));
    CHECK_EQ(gb.fx_get_blocks_res_u.ok.attr.size, 2ull * bs + 100);
    xdr_free((xdrproc_t)xdr_fx_get_blocks_res, (char *)&gb);

    /* Re-merged: accepted. */
    stale[0].base_ver = version(g, 1);
    CHECK_OK(gw_commit(g, ino, stale, 2, 2ull * bs + 200, FX_TIME_SERVER, &cr));
    CHECK_EQ(cr.fx_commit_res_u.attr.size, 2ull * bs + 200);
    xdr_free((xdrproc_t)xdr_fx_commit_res, (char *)&cr);
    CHECK_OK(gw_get_blocks(g, ino, 0, 16, &gb));
    CHECK_EQ(gb.fx_get_blocks_res_u.ok.blocks.blocks_val[0].ver, version(g, 3));
    CHECK_EQ(gb.fx_get_blocks_res_u.ok.blocks.blocks_val[1].ver, version(g, 4));
    CHECK_EQ(gb.fx_get_blocks_res_u.ok.blocks.blocks_val[1].length, 200);
    xdr_free((xdrproc_t)xdr_fx_get_blocks_res, (char *)&gb);

    /* A commit never shrinks the file: a rewrite of the first block with
     * a small written range leaves the size. */
    fx_commit_block again = { 0, version(g, 5), version(g, 3), bs, 0 };
    CHECK_OK(gw_commit(g, ino, &again, 1, 10, FX_TIME_SERVER, &cr));
    CHECK_EQ(cr.fx_commit_res_u.attr.size, 2ull * bs + 200);
    xdr_free((xdrproc_t)xdr_fx_commit_res, (char *)&cr);

    /* Truncation is SETATTR; it drops blocks past the end. */
    fx_setattr_args sa;
    memset(&sa, 0, sizeof(sa));
    sa.ino = ino;
    sa.valid = FX_SET_SIZE;
    sa.size = 10;
    CHECK_OK(gw_setattr(g, &sa, NULL));
    CHECK_OK(gw_get_blocks(g, ino, 0, 16, &gb));
    CHECK_EQ(gb.fx_get_blocks_res_u.ok.blocks.blocks_len, 1);
    CHECK(gb.fx_get_blocks_res_u.ok.blocks.blocks_val[0].length <= 10, "length");
    xdr_free((xdrproc_t)xdr_fx_get_blocks_res, (char *)&gb);

    /* A truncate keeps the cut block's version: a writer that merged the
     * whole of it before the cut conflicts even after the file grew back,
     * or the cut bytes would return where zeros belong. */
    sa.size = bs;
    CHECK_OK(gw_setattr(g, &sa, NULL));
    fx_commit_block late = { 0, version(g, 6), version(g, 5), bs, bs };
    CHECK_EQ(gw_commit(g, ino, &late, 1, 20, FX_TIME_SERVER, &cr),
             FX_CONFLICT);
    CHECK_EQ(cr.fx_commit_res_u.conflict.current.current_len, 1);
    CHECK_EQ(cr.fx_commit_res_u.conflict.current.current_val[0].ver,
             version(g, 5));
    CHECK(cr.fx_commit_res_u.conflict.current.current_val[0].length <= 10,
          "conflict names the cut length");
    xdr_free((xdrproc_t)xdr_fx_commit_res, (char *)&cr);
    late.base_length = 10;
    CHECK_OK(gw_commit(g, ino, &late, 1, 20, FX_TIME_SERVER, &cr));
    xdr_free((xdrproc_t)xdr_fx_commit_res, (char *)&cr);

    CHECK_EQ(gw_get_blocks(g, 0xdead0000beefull, 0, 1, &gb), ESTALE);
    CHECK_EQ(gw_commit(g, 0xdead0000beefull, b1, 1, 1, FX_TIME_SERVER, &cr),
             ESTALE);
    CHECK_EQ(gw_get_blocks(g, top, 0, 1, &gb), EISDIR);
}

/* ---- directories ---- */

#define BIG_N 10000

struct filler {
    uint64_t dir;
    int first, count;
};

static void *filler_main(void *arg)
{
    struct filler *f = arg;
    struct gw g;
    gw_connect(&g, port, 0, 0);
    for (int i = f->first; i < f->first + f->count; i++) {
        char name[64];
        snprintf(name, sizeof(name), "entry-%05d-%s", i,
                 (i % 3) ? "x" : "a-longer-name-to-vary-sizes");
        CHECK_OK(gw_create(&g, f->dir, name, 0644, 1, 0, NULL, NULL));
    }
    gw_close(&g);
    return NULL;
}

static int entry_index(const fx_dirent *e)
{
    int i;
    if (e->name.fx_name_len < 11 ||
        sscanf(e->name.fx_name_val, "entry-%5d", &i) != 1 || i < 0 ||
        i >= BIG_N)
        return -1;
    return i;
}

/* Lists the whole directory in pages of max bytes; every entry exactly
 * once.  With drop_at >= 0, unlinks entry drop_at after the first page:
 * it must not appear later, and nothing else may be lost. */
static void list_all(struct gw *g, uint64_t dir, uint32_t max, int plus,
                     int drop_at, int present[BIG_N])
{
    static unsigned char seen[BIG_N];
    uint64_t cookie = 0;
    int total = 0, pages = 0, eof = 0;

    memset(seen, 0, sizeof(seen));
    while (!eof) {
        fx_readdir_res r;
        CHECK_OK(gw_readdir(g, dir, cookie, max, plus, &r));
        fx_readdir_ok *ok = &r.fx_readdir_res_u.ok;
        /* The bound holds for the whole encoded reply. */
        unsigned long sz = xdr_sizeof((xdrproc_t)xdr_fx_readdir_res, &r) + 24;
        CHECK(sz <= max, "reply of %lu bytes for max %u", sz, max);
        CHECK(ok->entries.entries_len > 0 || ok->eof, "empty page, not eof");
        for (u_int k = 0; k < ok->entries.entries_len; k++) {
            const fx_dirent *e = &ok->entries.entries_val[k];
            int i = entry_index(e);
            CHECK(i >= 0, "unexpected name %.*s", (int)e->name.fx_name_len,
                  e->name.fx_name_val);
            CHECK(!seen[i], "entry %d listed twice", i);
            CHECK(present[i], "entry %d was unlinked but listed", i);
            seen[i] = 1;
            CHECK_EQ(e->type, S_IFREG);
            CHECK(e->cookie != 0 && e->cookie != 1 && e->cookie != 2,
                  "cookie %llu", (unsigned long long)e->cookie);
            if (plus) {
                CHECK(e->attr != NULL, "READDIRPLUS without attributes");
                CHECK_EQ(e->attr->ino, e->ino);
                CHECK_EQ(e->attr->mode, S_IFREG | 0644);
                CHECK_EQ(e->attr->nlink, 1);
            } else {
                CHECK(e->attr == NULL, "READDIR with attributes");
            }
            cookie = e->cookie;
            total++;
        }
        eof = ok->eof;
        xdr_free((xdrproc_t)xdr_fx_readdir_res, (char *)&r);
        if (++pages == 1 && drop_at >= 0) {
            char name[64];
            snprintf(name, sizeof(name), "entry-%05d-%s", drop_at,
                     (drop_at % 3) ? "x" : "a-longer-name-to-vary-sizes");
            CHECK_OK(gw_unlink(g, dir, name));
            present[drop_at] = 0;
        }
    }
    int want = 0;
    for (int i = 0; i < BIG_N; i++)
        want += present[i];
    CHECK_EQ(total, want);
    CHECK(pages > 10, "only %d pages: max_bytes not honoured", pages);
}

static void test_big_directory(struct gw *g, uint64_t top)
{
    enum { THREADS = 8 };
    pthread_t t[THREADS];
    struct filler f[THREADS];
    static int present[BIG_N];
    uint64_t dir = mkdir_ok(g, top, "big");
    struct timespec a, b;

    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < THREADS; i++) {
        f[i] = (struct filler){ dir, i * (BIG_N / THREADS), BIG_N / THREADS };
        CHECK_EQ(pthread_create(&t[i], NULL, filler_main, &f[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    fprintf(stderr, "created %d entries from %d threads in %.2f s\n", BIG_N,
            THREADS, (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);

    for (int i = 0; i < BIG_N; i++)
        present[i] = 1;
    list_all(g, dir, 4096, 0, -1, present);
    list_all(g, dir, 8192, 1, -1, present);
    list_all(g, dir, 3000, 0, BIG_N - 7, present);      /* resumes exactly */

    fx_readdir_res r;
    CHECK_EQ(gw_readdir(g, dir, 0, 40, 0, &r), EINVAL);
    CHECK_EQ(gw_readdir(g, 0xdead0000beefull, 0, 4096, 0, &r), ESTALE);
    fx_attr fa;
    CHECK_OK(gw_lookup(g, dir, "entry-00001-x", &fa));
    CHECK_EQ(gw_readdir(g, fa.ino, 0, 4096, 0, &r), ENOTDIR);
    fx_attr da;
    CHECK_OK(gw_getattr(g, dir, &da));
    CHECK_EQ(da.nlink, 2);
}

/* Several clients race to create the same names: each name is created
 * exactly once. */
struct racer {
    uint64_t dir;
    int won;
};

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    struct gw g;
    gw_connect(&g, port, 0, 0);
    for (int i = 0; i < 200; i++) {
        char name[32];
        snprintf(name, sizeof(name), "race-%d", i);
        int st = gw_create(&g, r->dir, name, 0644, 1, 0, NULL, NULL);
        CHECK(st == 0 || st == EEXIST, "create race: %d", st);
        r->won += st == 0;
    }
    gw_close(&g);
    return NULL;
}

static void test_races(struct gw *g, uint64_t top)
{
    enum { THREADS = 6 };
    pthread_t t[THREADS];
    struct racer r[THREADS];
    uint64_t dir = mkdir_ok(g, top, "race");
    int won = 0;
    for (int i = 0; i < THREADS; i++) {
        r[i] = (struct racer){ dir, 0 };
        CHECK_EQ(pthread_create(&t[i], NULL, racer_main, &r[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        won += r[i].won;
    }
    CHECK_EQ(won, 200);
}

static int cmd_test(void)
{
    struct gw g;
    char top_name[64];

    test_sessions();
    test_session_trust();
    gw_connect(&g, port, 0, 0);
    snprintf(top_name, sizeof(top_name), "proto-%d", (int)getpid());
    uint64_t top = mkdir_ok(&g, g.root, top_name);
    test_create_and_attrs(&g, top);
    test_no_xattrs_flag(&g, top);
    test_special_files(&g, top);
    test_link_unlink(&g, top);
    test_rename(&g, top);
    test_setattr(&g, top);
    test_statfs(&g);
    test_blocks(&g, top);
    test_races(&g, top);
    test_big_directory(&g, top);
    gw_close(&g);
    printf("gw_protocol: all checks passed\n");
    return 0;
}

/* ---- durability: a tree built here must come back after a restart ---- */

#define TREE_DIRS  12
#define TREE_FILES 40

static void tree_name(char *buf, size_t len, int d, int f)
{
    snprintf(buf, len, "d%02d-f%03d", d, f);
}

static int cmd_build_tree(const char *name)
{
    struct gw g;
    char n[64];
    gw_connect(&g, port, 0, 0);
    uint64_t top = mkdir_ok(&g, g.root, name);
    for (int d = 0; d < TREE_DIRS; d++) {
        snprintf(n, sizeof(n), "dir%02d", d);
        uint64_t dir = mkdir_ok(&g, top, n);
        for (int f = 0; f < TREE_FILES; f++) {
            tree_name(n, sizeof(n), d, f);
            uint64_t ino = create_ok(&g, dir, n);
            fx_setattr_args sa;
            memset(&sa, 0, sizeof(sa));
            sa.ino = ino;
            sa.valid = FX_SET_SIZE | FX_SET_MODE;
            sa.size = (uint64_t)d * 1000 + (uint64_t)f;
            sa.mode = 0600 + (uint32_t)(f % 8);
            CHECK_OK(gw_setattr(&g, &sa, NULL));
        }
        /* Some churn whose outcome must persist too. */
        if (d == 0)
            CHECK_OK(gw_rename(&g, dir, "d00-f000", dir, "renamed", 0));
        tree_name(n, sizeof(n), d, 1);
        CHECK_OK(gw_unlink(&g, dir, n));
        tree_name(n, sizeof(n), d, 2);
        fx_attr a;
        CHECK_OK(gw_lookup(&g, dir, n, &a));
        CHECK_OK(gw_link(&g, a.ino, top, n, NULL));
        snprintf(n, sizeof(n), "link%02d", d);
        CHECK_OK(gw_symlink(&g, dir, n, "../target/of/link", NULL));
        snprintf(n, sizeof(n), "fifo%02d", d);
        CHECK_OK(gw_mknod(&g, dir, n, S_IFIFO | 0644, 0, NULL));
        /* Everything of this directory is acknowledged. */
        printf("acked dir %d\n", d);
        fflush(stdout);
    }
    /* A file with a block map. */
    uint64_t ino = create_ok(&g, top, "blocks");
    fx_commit_block b[3] = { { 0, version(&g, 1), 0, g.block_size, 0 },
                             { 1, version(&g, 2), 0, g.block_size, 0 },
                             { 5, version(&g, 3), 0, 77, 0 } };
    fx_commit_res cr;
    CHECK_OK(gw_commit(&g, ino, b, 3, 5ull * g.block_size + 77, FX_TIME_SERVER,
                       &cr));
    xdr_free((xdrproc_t)xdr_fx_commit_res, (char *)&cr);
    /* Remember the session for the block versions. */
    fx_setattr_args sa;
    memset(&sa, 0, sizeof(sa));
    sa.ino = ino;
    sa.valid = FX_SET_UID;
    sa.uid = (uint32_t)g.session;
    CHECK_OK(gw_setattr(&g, &sa, NULL));
    gw_close(&g);
    printf("gw_protocol: tree %s built\n", name);
    return 0;
}

/* Unless whole, checks only what a build killed midway had acknowledged:
 * its first ndirs directories. */
static int cmd_verify_tree(const char *name, int ndirs, int whole)
{
    struct gw g;
    char n[64];
    fx_attr top, dir, a;
    char target[FX_PATH_MAX + 1];

    gw_connect(&g, port, 0, 0);
    CHECK_OK(gw_lookup(&g, g.root, name, &top));
    CHECK_EQ(top.mode & S_IFMT, S_IFDIR);
    if (whole)
        CHECK_EQ(top.nlink, 2 + TREE_DIRS);
    else
        CHECK(top.nlink >= 2 + (uint32_t)ndirs, "nlink %u", top.nlink);
    for (int d = 0; d < ndirs && d < TREE_DIRS; d++) {
        snprintf(n, sizeof(n), "dir%02d", d);
        CHECK_OK(gw_lookup(&g, top.ino, n, &dir));
        CHECK_EQ(dir.nlink, 2);
        for (int f = 0; f < TREE_FILES; f++) {
            tree_name(n, sizeof(n), d, f);
            int st = gw_lookup(&g, dir.ino, n, &a);
            if (f == 1 || (d == 0 && f == 0)) {
                CHECK_EQ(st, ENOENT);
                continue;
            }
            CHECK_OK(st);
            CHECK_EQ(a.size, (uint64_t)d * 1000 + (uint64_t)f);
            CHECK_EQ(a.mode, S_IFREG | (0600 + (uint32_t)(f % 8)));
            CHECK_EQ(a.nlink, f == 2 ? 2 : 1);
        }
        if (d == 0) {
            CHECK_OK(gw_lookup(&g, dir.ino, "renamed", &a));
            CHECK_EQ(a.size, 0);
        }
        tree_name(n, sizeof(n), d, 2);
        fx_attr l;
        CHECK_OK(gw_lookup(&g, top.ino, n, &l));
        CHECK_OK(gw_lookup(&g, dir.ino, n, &a));
        CHECK_EQ(l.ino, a.ino);
        snprintf(n, sizeof(n), "link%02d", d);
        CHECK_OK(gw_lookup(&g, dir.ino, n, &a));
        CHECK_OK(gw_readlink(&g, a.ino, target));
        CHECK(strcmp(target, "../target/of/link") == 0, "target %s", target);
        snprintf(n, sizeof(n), "fifo%02d", d);
        CHECK_OK(gw_lookup(&g, dir.ino, n, &a));
        CHECK_EQ(a.mode, S_IFIFO | 0644);
    }
    if (!whole) {
        gw_close(&g);
        printf("gw_protocol: the %d acknowledged directories of %s intact\n",
               ndirs, name);
        return 0;
    }
    CHECK_OK(gw_lookup(&g, top.ino, "blocks", &a));
    CHECK_EQ(a.size, 5ull * g.block_size + 77);
    uint64_t s = a.uid;
    fx_get_blocks_res gb;
    CHECK_OK(gw_get_blocks(&g, a.ino, 0, 100, &gb));
    fx_get_blocks_ok *ok = &gb.fx_get_blocks_res_u.ok;
    CHECK_EQ(ok->blocks.blocks_len, 3);
    CHECK_EQ(ok->blocks.blocks_val[0].ver, (s << 32) | 1);
    CHECK_EQ(ok->blocks.blocks_val[1].ver, (s << 32) | 2);
    CHECK_EQ(ok->blocks.blocks_val[2].index, 5);
    CHECK_EQ(ok->blocks.blocks_val[2].length, 77);
    xdr_free((xdrproc_t)xdr_fx_get_blocks_res, (char *)&gb);
    gw_close(&g);
    printf("gw_protocol: tree %s intact\n", name);
    return 0;
}

static int cmd_ping(void)
{
    struct gw g;
    fx_attr a;
    gw_connect(&g, port, 0, 0);
    gw_null(&g);
    CHECK_OK(gw_getattr(&g, g.root, &a));
    gw_close(&g);
    return 0;
}

/* ---- the lease reaper and the garbage collector ---- */

static double now_s(void);

/* A session that stops renewing is ended by the gateway once its lease
 * runs out, and with it goes the unlinked file it held open; a session
 * that renews stays. */
static int cmd_lease(void)
{
    struct gw quiet, busy;
    fx_attr a;
    gw_connect(&quiet, port, 0, 0);
    gw_connect(&busy, port, 0, 0);
    CHECK(quiet.lease <= 5, "run the gateway with a short --lease-time");
    uint64_t top = mkdir_ok(&busy, busy.root, "lease");
    CHECK_OK(gw_create(&quiet, top, "held", 0644, 1, quiet.session, &a, NULL));
    uint64_t ino = a.ino;
    CHECK_OK(gw_unlink(&quiet, top, "held"));
    CHECK_OK(gw_getattr(&busy, ino, &a));
    CHECK_EQ(a.nlink, 0);

    double start = now_s(), gone = 0;
    while (now_s() - start < 4.0 * quiet.lease + 5) {
        CHECK_OK(gw_renew(&busy, busy.session));
        if (gw_getattr(&busy, ino, NULL) == ESTALE) {
            gone = now_s() - start;
            break;
        }
        usleep(200 * 1000);
    }
    CHECK(gone > 0, "the unlinked file outlived its session's lease");
    CHECK(gone >= quiet.lease - 0.5, "session ended after %.1f s, lease %u s",
          gone, quiet.lease);
    CHECK_EQ(gw_renew(&quiet, quiet.session), ESTALE);
    CHECK_OK(gw_renew(&busy, busy.session));
    printf("gw_protocol: a lease of %u s ran out after %.1f s\n", quiet.lease,
           gone);
    quiet.session = 0;                  /* already ended */
    gw_close(&quiet);
    gw_close(&busy);
    return 0;
}

static void put_block(struct store *st, uint64_t vol, uint64_t ino,
                      uint64_t index, uint64_t ver, char *key)
{
    struct blockkey k = { vol, ino, index, ver };
    CHECK(blockkey_format(key, BLOCKKEY_MAX, &k) > 0, "block key");
    CHECK_OK(store_put(st, key, "data", 4));
}

static int block_exists(struct store *st, const char *key)
{
    char buf[8];
    size_t got;
    int rc = store_get(st, key, 0, buf, sizeof(buf), &got);
    CHECK(rc == 0 || rc == -ENOENT, "store_get %s: %d", key, rc);
    return rc == 0;
}

/* Superseded and unlinked block versions leave the store after the grace
 * period; live ones stay. */
static int cmd_gc(const char *url)
{
    struct gw g;
    struct store *st;
    fx_mount_ok ok;
    fx_commit_res cr;
    char k_old[BLOCKKEY_MAX], k_new[BLOCKKEY_MAX], k_del[BLOCKKEY_MAX];
    char k_live[BLOCKKEY_MAX];

    CHECK_OK(store_open(url, NULL, &st));
    gw_connect(&g, port, 0, 0);
    CHECK_OK(gw_mount(&g, "", &ok));
    uint64_t vol = ok.volume_id;
    free(ok.store_url);
    gw_unmount(&g, ok.session);
    uint64_t top = mkdir_ok(&g, g.root, "gc");

    /* A block rewritten: the first version becomes garbage. */
    uint64_t f = create_ok(&g, top, "rewritten");
    put_block(st, vol, f, 0, version(&g, 1), k_old);
    fx_commit_block b = { 0, version(&g, 1), 0, 4, 0 };
    CHECK_OK(gw_commit(&g, f, &b, 1, 4, FX_TIME_SERVER, &cr));
    xdr_free((xdrproc_t)xdr_fx_commit_res, (char *)&cr);
    put_block(st, vol, f, 0, version(&g, 2), k_new);
    b = (fx_commit_block){ 0, version(&g, 2), version(&g, 1), 4, 0 };
    CHECK_OK(gw_commit(&g, f, &b, 1, 4, FX_TIME_SERVER, &cr));
    xdr_free((xdrproc_t)xdr_fx_commit_res, (char *)&cr);

    /* A file unlinked: its block becomes garbage. */
    uint64_t d = create_ok(&g, top, "deleted");
    put_block(st, vol, d, 0, version(&g, 3), k_del);
    b = (fx_commit_block){ 0, version(&g, 3), 0, 4, 0 };
    CHECK_OK(gw_commit(&g, d, &b, 1, 4, FX_TIME_SERVER, &cr));
    xdr_free((xdrproc_t)xdr_fx_commit_res, (char *)&cr);
    CHECK_OK(gw_unlink(&g, top, "deleted"));

    /* A live file: its block stays. */
    uint64_t l = create_ok(&g, top, "live");
    put_block(st, vol, l, 3, version(&g, 4), k_live);
    b = (fx_commit_block){ 3, version(&g, 4), 0, 4, 0 };
    CHECK_OK(gw_commit(&g, l, &b, 1, 3ull * g.block_size + 4, FX_TIME_SERVER,
                       &cr));
    xdr_free((xdrproc_t)xdr_fx_commit_res, (char *)&cr);

    double start = now_s();
    while ((block_exists(st, k_old) || block_exists(st, k_del)) &&
           now_s() - start < 30)
        usleep(200 * 1000);
    CHECK(!block_exists(st, k_old), "superseded version %s still there", k_old);
    CHECK(!block_exists(st, k_del), "unlinked file's block %s still there", k_del);
    CHECK(block_exists(st, k_new), "current version %s was deleted", k_new);
    CHECK(block_exists(st, k_live), "live block %s was deleted", k_live);
    printf("gw_protocol: garbage collected after %.1f s\n", now_s() - start);
    gw_close(&g);
    store_close(st);
    return 0;
}

/* ---- bench ---- */

struct bencher {
    int id, seconds, create;
    uint64_t top, calls;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void *bench_main(void *arg)
{
    struct bencher *b = arg;
    struct gw g;
    char name[64];
    gw_connect(&g, port, 0, 0);
    uint64_t dir = g.root;
    if (b->create) {
        snprintf(name, sizeof(name), "t%d", b->id);
        dir = mkdir_ok(&g, b->top, name);
    }
    double end = now_s() + b->seconds;
    while (now_s() < end) {
        for (int i = 0; i < 50; i++, b->calls++) {
            if (b->create) {
                snprintf(name, sizeof(name), "f%" PRIu64, b->calls);
                CHECK_OK(gw_create(&g, dir, name, 0644, 1, 0, NULL, NULL));
            } else {
                CHECK_OK(gw_getattr(&g, g.root, NULL));
            }
        }
    }
    gw_close(&g);
    return NULL;
}

static double bench_run(int threads, int seconds, int create, uint64_t top)
{
    pthread_t t[64];
    struct bencher b[64];
    double a = now_s();
    for (int i = 0; i < threads; i++) {
        b[i] = (struct bencher){ i, seconds, create, top, 0 };
        CHECK_EQ(pthread_create(&t[i], NULL, bench_main, &b[i]), 0);
    }
    uint64_t calls = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        calls += b[i].calls;
    }
    return (double)calls / (now_s() - a);
}

static int cmd_bench(int threads, int seconds)
{
    struct gw g;
    char name[64];
    if (threads < 1 || threads > 64)
        threads = 4;
    gw_connect(&g, port, 0, 0);
    snprintf(name, sizeof(name), "bench-%d", (int)getpid());
    uint64_t top = mkdir_ok(&g, g.root, name);
    gw_close(&g);
    double ga = bench_run(threads, seconds, 0, top);
    double cr = bench_run(threads, seconds, 1, top);
    printf("GETATTR: %.0f calls/s with %d threads over loopback\n", ga, threads);
    printf("CREATE: %.0f creates/s with %d threads over loopback\n", cr, threads);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: gw_protocol test|ping|lease PORT\n"
                    "       gw_protocol gc PORT STORE-URL\n"
                    "       gw_protocol build-tree PORT NAME\n"
                    "       gw_protocol verify-tree PORT NAME [DIRS]\n"
                    "       gw_protocol bench PORT [THREADS] [SECONDS]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    port = (uint16_t)atoi(argv[2]);
    if (!port)
        return usage();
    const char *cmd = argv[1];
    if (strcmp(cmd, "test") == 0)
        return cmd_test();
    if (strcmp(cmd, "ping") == 0)
        return cmd_ping();
    if (strcmp(cmd, "build-tree") == 0 && argc == 4)
        return cmd_build_tree(argv[3]);
    if (strcmp(cmd, "verify-tree") == 0 && (argc == 4 || argc == 5))
        return cmd_verify_tree(argv[3], argc == 5 ? atoi(argv[4]) : TREE_DIRS,
                               argc == 4);
    if (strcmp(cmd, "lease") == 0)
        return cmd_lease();
    if (strcmp(cmd, "gc") == 0 && argc == 4)
        return cmd_gc(argv[3]);
    if (strcmp(cmd, "bench") == 0)
        return cmd_bench(argc > 3 ? atoi(argv[3]) : 4,
                         argc > 4 ? atoi(argv[4]) : 2);
    return usage();
}
