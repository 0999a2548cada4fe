/* test_meta_xattr.c - unit tests of extended attributes and access(2) in
 * the metadata core: round trips, XATTR_CREATE/XATTR_REPLACE, the name
 * and size limits with Linux's errors, size probes and short buffers,
 * the namespaces (user, trusted, security) with their permission and
 * file-type rules, the sticky bit, ctime, and cleanup with the inode. */
#include "config.h"
#include "meta_testutil.h"
#include "perm.h"

#include <fcntl.h>

static const struct meta_cred *R = &tu_rootcred;
static struct meta_cred A, B;           /* A owns the files; B is another */
static uint64_t pub, f, d;              /* a 0777 dir, A's file, A's dir */

static void xsetup(void)
{
    tu_setup();
    A = tu_cred(1000, 1000);
    B = tu_cred(2000, 2000);
    struct meta_attr a;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "pub", 0777, &a), 0);
    pub = a.ino;
    ck_assert_int_eq(tu_create(&A, pub, "f", 0644, &a), 0);
    f = a.ino;
    ck_assert_int_eq(tu_mkdir(&A, pub, "d", 0755, &a), 0);
    d = a.ino;
}

static int xset(const struct meta_cred *cr, uint64_t ino, const char *name,
                const char *val, uint32_t flags)
{
    return meta_setxattr(tu_m, cr, ino, name, strlen(name), val,
                         val ? strlen(val) : 0, flags, NULL);
}

static int xget(const struct meta_cred *cr, uint64_t ino, const char *name,
                char *buf, size_t cap)
{
    return meta_getxattr(tu_m, cr, ino, name, strlen(name), buf, cap);
}

static int xdel(const struct meta_cred *cr, uint64_t ino, const char *name)
{
    return meta_removexattr(tu_m, cr, ino, name, strlen(name), NULL);
}

START_TEST(round_trip)
{
    char buf[256];
    ck_assert_int_eq(xset(&A, f, "user.color", "blue", 0), 0);
    ck_assert_int_eq(xset(&A, d, "user.color", "green", 0), 0);
    ck_assert_int_eq(xget(&A, f, "user.color", buf, sizeof(buf)), 4);
    ck_assert_mem_eq(buf, "blue", 4);
    ck_assert_int_eq(xget(&B, d, "user.color", buf, sizeof(buf)), 5);
    ck_assert_mem_eq(buf, "green", 5);
    /* Overwrite, empty value, binary value with NULs. */
    ck_assert_int_eq(xset(&A, f, "user.color", "red", 0), 0);
    ck_assert_int_eq(xget(&A, f, "user.color", buf, sizeof(buf)), 3);
    ck_assert_int_eq(xset(&A, f, "user.empty", "", 0), 0);
    ck_assert_int_eq(xget(&A, f, "user.empty", buf, sizeof(buf)), 0);
    ck_assert_int_eq(meta_setxattr(tu_m, &A, f, "user.bin", 8, "a\0b\0", 4,
                                   0, NULL), 0);
    ck_assert_int_eq(xget(&A, f, "user.bin", buf, sizeof(buf)), 4);
    ck_assert_mem_eq(buf, "a\0b\0", 4);
    /* Size probe and short buffer. */
    ck_assert_int_eq(xget(&A, f, "user.color", NULL, 0), 3);
    ck_assert_int_eq(xget(&A, f, "user.color", buf, 2), -ERANGE);
    ck_assert_int_eq(xget(&A, f, "user.nope", buf, sizeof(buf)), -ENODATA);
    /* Remove. */
    ck_assert_int_eq(xdel(&A, f, "user.color"), 0);
    ck_assert_int_eq(xget(&A, f, "user.color", buf, sizeof(buf)), -ENODATA);
    ck_assert_int_eq(xdel(&A, f, "user.color"), -ENODATA);
    /* Unknown inode. */
    ck_assert_int_eq(xget(&A, 999999, "user.x", buf, sizeof(buf)), -ESTALE);
    ck_assert_int_eq(xset(&A, 999999, "user.x", "1", 0), -ESTALE);
}
END_TEST

START_TEST(create_replace)
{
    char buf[16];
    ck_assert_int_eq(xset(&A, f, "user.k", "1", META_XATTR_REPLACE),
                     -ENODATA);
    ck_assert_int_eq(xset(&A, f, "user.k", "1", META_XATTR_CREATE), 0);
    ck_assert_int_eq(xset(&A, f, "user.k", "2", META_XATTR_CREATE), -EEXIST);
    ck_assert_int_eq(xset(&A, f, "user.k", "3", META_XATTR_REPLACE), 0);
    ck_assert_int_eq(xget(&A, f, "user.k", buf, sizeof(buf)), 1);
    ck_assert_int_eq(buf[0], '3');
    ck_assert_int_eq(xset(&A, f, "user.k", "4", 4), -EINVAL);
}
END_TEST

START_TEST(limits)
{
    char name[300], buf[8];
    memcpy(name, "user.", 5);
    memset(name + 5, 'n', sizeof(name) - 5);
    /* 255 bytes are fine, 256 are not (ERANGE, as Linux). */
    ck_assert_int_eq(meta_setxattr(tu_m, &A, f, name, 255, "v", 1, 0, NULL),
                     0);
    ck_assert_int_eq(meta_getxattr(tu_m, &A, f, name, 255, buf, sizeof(buf)),
                     1);
    ck_assert_int_eq(meta_setxattr(tu_m, &A, f, name, 256, "v", 1, 0, NULL),
                     -ERANGE);
    ck_assert_int_eq(meta_getxattr(tu_m, &A, f, name, 256, buf, sizeof(buf)),
                     -ERANGE);
    ck_assert_int_eq(meta_setxattr(tu_m, &A, f, "", 0, "v", 1, 0, NULL),
                     -ERANGE);
    ck_assert_int_eq(meta_setxattr(tu_m, &A, f, "user.a\0b", 8, "v", 1, 0,
                                   NULL), -EINVAL);
    ck_assert_int_eq(xset(&A, f, "user.", "v", 0), -EINVAL);
    ck_assert_int_eq(xset(&A, f, "nonamespace", "v", 0), -EOPNOTSUPP);
    ck_assert_int_eq(xset(&A, f, "system.other", "v", 0), -EOPNOTSUPP);
    ck_assert_int_eq(xget(&A, f, "other.x", buf, sizeof(buf)), -EOPNOTSUPP);
    /* Values: 64 KiB fine, one more byte E2BIG. */
    char *big = malloc(META_XATTR_SIZE_MAX + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', META_XATTR_SIZE_MAX + 1);
    ck_assert_int_eq(meta_setxattr(tu_m, &A, f, "user.big", 8, big,
                                   META_XATTR_SIZE_MAX, 0, NULL), 0);
    ck_assert_int_eq(meta_getxattr(tu_m, &A, f, "user.big", 8, NULL, 0),
                     META_XATTR_SIZE_MAX);
    ck_assert_int_eq(meta_getxattr(tu_m, &A, f, "user.big", 8, big,
                                   META_XATTR_SIZE_MAX), META_XATTR_SIZE_MAX);
    ck_assert_int_eq(meta_setxattr(tu_m, &A, f, "user.big2", 9, big,
                                   META_XATTR_SIZE_MAX + 1, 0, NULL), -E2BIG);
    free(big);
}
END_TEST

START_TEST(listing)
{
    char buf[256];
    ck_assert_int_eq(meta_listxattr(tu_m, &A, f, buf, sizeof(buf)), 0);
    ck_assert_int_eq(xset(&A, f, "user.b", "1", 0), 0);
    ck_assert_int_eq(xset(&A, f, "user.a", "1", 0), 0);
    ck_assert_int_eq(xset(R, f, "trusted.t", "1", 0), 0);
    ck_assert_int_eq(xset(R, f, "security.s", "1", 0), 0);
    static const char all[] = "security.s\0trusted.t\0user.a\0user.b";
    static const char seen[] = "security.s\0user.a\0user.b";
    ck_assert_int_eq(meta_listxattr(tu_m, R, f, NULL, 0), sizeof(all));
    ck_assert_int_eq(meta_listxattr(tu_m, R, f, buf, sizeof(buf)),
                     sizeof(all));
    ck_assert_mem_eq(buf, all, sizeof(all));
    /* trusted.* is hidden from everyone but root. */
    ck_assert_int_eq(meta_listxattr(tu_m, &A, f, buf, sizeof(buf)),
                     sizeof(seen));
    ck_assert_mem_eq(buf, seen, sizeof(seen));
    ck_assert_int_eq(meta_listxattr(tu_m, &B, f, buf, 5), -ERANGE);
    ck_assert_int_eq(meta_listxattr(tu_m, &B, 999999, buf, 5), -ESTALE);
}
END_TEST

START_TEST(list_too_big)
{
    /* 300 names of 255 bytes exceed the 64 KiB a listxattr may return. */
    char name[256];
    memcpy(name, "user.", 5);
    memset(name + 5, 'z', 250);
    for (int i = 0; i < 300; i++) {
        char num[16];
        snprintf(num, sizeof(num), "%05d", i);
        memcpy(name + 5, num, 5);
        ck_assert_int_eq(meta_setxattr(tu_m, &A, f, name, 255, "", 0, 0,
                                       NULL), 0);
    }
    ck_assert_int_eq(meta_listxattr(tu_m, &A, f, NULL, 0), -E2BIG);
}
END_TEST

START_TEST(namespaces)
{
    char buf[16];
    struct meta_attr a;
    /* trusted.*: root only; others get EPERM to set, ENODATA to read. */
    ck_assert_int_eq(xset(&A, f, "trusted.x", "1", 0), -EPERM);
    ck_assert_int_eq(xset(R, f, "trusted.x", "1", 0), 0);
    ck_assert_int_eq(xget(&A, f, "trusted.x", buf, sizeof(buf)), -ENODATA);
    ck_assert_int_eq(xget(R, f, "trusted.x", buf, sizeof(buf)), 1);
    ck_assert_int_eq(xdel(&A, f, "trusted.x"), -EPERM);
    /* security.*: anyone reads, only root writes. */
    ck_assert_int_eq(xset(&A, f, "security.x", "1", 0), -EPERM);
    ck_assert_int_eq(xset(R, f, "security.x", "1", 0), 0);
    ck_assert_int_eq(xget(&B, f, "security.x", buf, sizeof(buf)), 1);
    /* user.*: regular files and directories only. */
    ck_assert_int_eq(meta_symlink(tu_m, &A, pub, "l", 1, "f", &a, NULL), 0);
    ck_assert_int_eq(xset(&A, a.ino, "user.x", "1", 0), -EPERM);
    ck_assert_int_eq(xget(&A, a.ino, "user.x", buf, sizeof(buf)), -ENODATA);
    ck_assert_int_eq(xset(R, a.ino, "trusted.x", "1", 0), 0);
    ck_assert_int_eq(xset(R, a.ino, "security.x", "1", 0), 0);
    struct meta_mk mk = { "fifo", 4, S_IFIFO | 0666, 0, 0, NULL };
    ck_assert_int_eq(meta_mknod(tu_m, &A, pub, &mk, &a, NULL), 0);
    ck_assert_int_eq(xset(&A, a.ino, "user.x", "1", 0), -EPERM);
    ck_assert_int_eq(xset(R, a.ino, "user.x", "1", 0), -EPERM);
}
END_TEST

START_TEST(permissions)
{
    char buf[16];
    struct meta_attr a;
    /* f is 0644 A's: B reads, cannot write; a 0600 file B cannot read. */
    ck_assert_int_eq(xset(&A, f, "user.x", "1", 0), 0);
    ck_assert_int_eq(xget(&B, f, "user.x", buf, sizeof(buf)), 1);
    ck_assert_int_eq(xset(&B, f, "user.x", "2", 0), -EACCES);
    ck_assert_int_eq(xdel(&B, f, "user.x"), -EACCES);
    ck_assert_int_eq(tu_create(&A, pub, "priv", 0600, &a), 0);
    ck_assert_int_eq(xset(&A, a.ino, "user.x", "1", 0), 0);
    ck_assert_int_eq(xget(&B, a.ino, "user.x", buf, sizeof(buf)), -EACCES);
    /* A file others may write: they may set its user xattrs. */
    ck_assert_int_eq(tu_create(&A, pub, "shared", 0666, &a), 0);
    ck_assert_int_eq(xset(&B, a.ino, "user.y", "1", 0), 0);
    /* A sticky directory: only its owner (or root) changes them, even
     * when others may write to it. */
    ck_assert_int_eq(tu_mkdir(&A, pub, "sticky", 01777, &a), 0);
    ck_assert_int_eq(xset(&B, a.ino, "user.x", "1", 0), -EPERM);
    ck_assert_int_eq(xset(&A, a.ino, "user.x", "1", 0), 0);
    ck_assert_int_eq(xset(R, a.ino, "user.x", "2", 0), 0);
    ck_assert_int_eq(xget(&B, a.ino, "user.x", buf, sizeof(buf)), 1);
}
END_TEST

START_TEST(ctime_moves)
{
    struct meta_attr before = tu_attr(f), after;
    ck_assert_int_eq(meta_setxattr(tu_m, &A, f, "user.t", 6, "1", 1, 0,
                                   &after), 0);
    ck_assert_uint_gt(after.change, before.change);
    ck_assert(after.ctime.sec > before.ctime.sec ||
              (after.ctime.sec == before.ctime.sec &&
               after.ctime.nsec >= before.ctime.nsec));
    struct meta_attr now = tu_attr(f);
    ck_assert_uint_eq(now.change, after.change);
    ck_assert_int_eq(meta_removexattr(tu_m, &A, f, "user.t", 6, &after), 0);
    ck_assert_uint_gt(after.change, now.change);
    /* Reading changes nothing. */
    char buf[4];
    now = tu_attr(f);
    ck_assert_int_eq(xget(&A, f, "user.none", buf, sizeof(buf)), -ENODATA);
    ck_assert_uint_eq(tu_attr(f).change, now.change);
}
END_TEST

/* The xattrs of a deleted inode go with it. */
static int count_xattrs(struct tx *tx, void *arg)
{
    uint64_t *out = arg;
    DBC *c;
    int rc = kv_cursor(tx, MDB_XATTRS, &c);
    if (rc)
        return rc;
    DBT k = { 0 }, v = { 0 };
    *out = 0;
    while (c->get(c, &k, &v, DB_NEXT) == 0)
        (*out)++;
    c->close(c);
    return 0;
}

START_TEST(deleted_with_inode)
{
    uint64_t n0, n1;
    ck_assert_int_eq(tx_run(tu_m, count_xattrs, &n0), 0);
    struct meta_attr a;
    ck_assert_int_eq(tu_create(&A, pub, "gone", 0644, &a), 0);
    ck_assert_int_eq(xset(&A, a.ino, "user.a", "1", 0), 0);
    ck_assert_int_eq(xset(R, a.ino, "trusted.b", "1", 0), 0);
    ck_assert_int_eq(tx_run(tu_m, count_xattrs, &n1), 0);
    ck_assert_uint_eq(n1, n0 + 2);
    ck_assert_int_eq(tu_unlink(pub, "gone"), 0);
    ck_assert_int_eq(tx_run(tu_m, count_xattrs, &n1), 0);
    ck_assert_uint_eq(n1, n0);
}
END_TEST

START_TEST(access_calls)
{
    struct meta_attr a;
    ck_assert_int_eq(meta_access(tu_m, &B, f, 0), 0);
    ck_assert_int_eq(meta_access(tu_m, &B, f, PERM_READ), 0);
    ck_assert_int_eq(meta_access(tu_m, &B, f, PERM_WRITE), -EACCES);
    ck_assert_int_eq(meta_access(tu_m, &A, f, PERM_READ | PERM_WRITE), 0);
    ck_assert_int_eq(meta_access(tu_m, &A, f, PERM_EXEC), -EACCES);
    /* Root: anything but executing a file nobody may execute. */
    ck_assert_int_eq(meta_access(tu_m, R, f, PERM_WRITE), 0);
    ck_assert_int_eq(meta_access(tu_m, R, f, PERM_EXEC), -EACCES);
    ck_assert_int_eq(tu_create(&A, pub, "x", 0100, &a), 0);
    ck_assert_int_eq(meta_access(tu_m, R, a.ino, PERM_EXEC), 0);
    ck_assert_int_eq(meta_access(tu_m, R, d, PERM_EXEC), 0);
    ck_assert_int_eq(meta_access(tu_m, &B, 999999, 0), -ESTALE);
    ck_assert_int_eq(meta_access(tu_m, &B, f, 8), -EINVAL);
}
END_TEST

/* A write, truncation or chown takes file capabilities away, as Linux's
 * killpriv does; so does a write by root. */
START_TEST(caps_killed)
{
    struct meta_attr a;
    char buf[16];
    ck_assert_int_eq(tu_create(R, pub, "cap", 0755, &a), 0);
    uint64_t ino = a.ino;
    ck_assert_int_eq(xset(R, ino, "security.capability", "capv", 0), 0);
    ck_assert_int_eq(xset(R, ino, "security.other", "keep", 0), 0);
    struct meta_setattr tr = { .valid = META_SET_SIZE, .size = 10 };
    ck_assert_int_eq(meta_setattr(tu_m, R, ino, &tr, &a), 0);
    ck_assert_int_eq(xget(R, ino, "security.capability", buf, sizeof(buf)),
                     -ENODATA);
    ck_assert_int_eq(xget(R, ino, "security.other", buf, sizeof(buf)), 4);
    ck_assert_int_eq(xset(R, ino, "security.capability", "capv", 0), 0);
    struct meta_setattr ch = { .valid = META_SET_UID, .uid = 1000 };
    ck_assert_int_eq(meta_setattr(tu_m, R, ino, &ch, &a), 0);
    ck_assert_int_eq(xget(R, ino, "security.capability", buf, sizeof(buf)),
                     -ENODATA);
    ck_assert_int_eq(xset(R, ino, "security.capability", "capv", 0), 0);
    struct meta_commit_block cb = { 0, 77, 0, 5, 0 };
    struct meta_block conf;
    uint32_t nconf;
    ck_assert_int_eq(meta_commit_write(tu_m, R, ino, 0, &cb, 1, 5, NULL, &a,
                                       &conf, 1, &nconf), 0);
    ck_assert_int_eq(xget(R, ino, "security.capability", buf, sizeof(buf)),
                     -ENODATA);
}
END_TEST

/* The kernel clears setuid/setgid before a write as the writer: a chmod
 * from a non-owner that only drops those bits is allowed to a writer. */
START_TEST(writer_clears_suid)
{
    struct meta_attr a;
    ck_assert_int_eq(tu_create(&A, pub, "s", 06766, &a), 0);
    ck_assert_uint_eq(a.mode & 07777, 06766);
    struct meta_setattr sa = { .valid = META_SET_MODE, .mode = 02766 };
    struct meta_cred C = tu_cred(3000, 3000);
    ck_assert_int_eq(meta_setattr(tu_m, &B, a.ino, &sa, &a), 0);
    ck_assert_uint_eq(a.mode & 07777, 02766);
    sa.mode = 0766;
    ck_assert_int_eq(meta_setattr(tu_m, &B, a.ino, &sa, &a), 0);
    ck_assert_uint_eq(a.mode & 07777, 0766);
    /* Nothing else: not adding bits, not other bits, not a no-op. */
    sa.mode = 0777;
    ck_assert_int_eq(meta_setattr(tu_m, &B, a.ino, &sa, &a), -EPERM);
    sa.mode = 0766;
    ck_assert_int_eq(meta_setattr(tu_m, &B, a.ino, &sa, &a), -EPERM);
    struct meta_setattr own = { .valid = META_SET_MODE, .mode = 06764 };
    ck_assert_int_eq(meta_setattr(tu_m, &A, a.ino, &own, &a), 0);
    sa.mode = 0764;
    ck_assert_int_eq(meta_setattr(tu_m, &C, a.ino, &sa, &a), -EPERM);
    sa.mode = 02764;
    ck_assert_int_eq(meta_setattr(tu_m, &B, a.ino, &sa, &a), -EPERM);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("meta_xattr");
    TCase *t = tcase_create("xattr");
    tcase_add_checked_fixture(t, xsetup, tu_teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, round_trip);
    tcase_add_test(t, create_replace);
    tcase_add_test(t, limits);
    tcase_add_test(t, listing);
    tcase_add_test(t, list_too_big);
    tcase_add_test(t, namespaces);
    tcase_add_test(t, permissions);
    tcase_add_test(t, ctime_moves);
    tcase_add_test(t, deleted_with_inode);
    tcase_add_test(t, access_calls);
    tcase_add_test(t, caps_killed);
    tcase_add_test(t, writer_clears_suid);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
