/* test_meta.c - unit tests of the metadata core's namespace: volumes,
 * lookups and name rules, create/mknod/mkdir/symlink/link/unlink/rmdir,
 * link counts, times and change counters, rename in all its forms, and
 * readdir (large directories, paging, resuming while entries change). */
#include "config.h"
#include "meta_testutil.h"

#include <fcntl.h>
#include <linux/limits.h>

static const struct meta_cred *R = &tu_rootcred;

/* ---- volumes, lookup, names ---- */

START_TEST(default_volume)
{
    struct meta_volume v, v2;
    ck_assert_int_eq(meta_volume_get(tu_m, "default", &v), 0);
    ck_assert_str_eq(v.name, "default");
    ck_assert_uint_eq(v.block_size, TU_BS);
    struct meta_attr a = tu_attr(v.root);
    ck_assert_uint_eq(a.mode, S_IFDIR | 0755);
    ck_assert_uint_eq(a.uid, 0);
    ck_assert_uint_eq(a.gid, 0);
    ck_assert_uint_eq(a.nlink, 2);
    ck_assert_uint_ne(a.gen, 0);
    ck_assert_int_eq(meta_volume_of(tu_m, v.root, &v2), 0);
    ck_assert_uint_eq(v2.id, v.id);
    ck_assert_int_eq(meta_volume_get(tu_m, "nope", &v2), -ENOENT);
    ck_assert_int_eq(meta_volume_of(tu_m, 999999, &v2), -ESTALE);

    struct meta_statfs st;
    ck_assert_int_eq(meta_statfs(tu_m, v.root, &st), 0);
    ck_assert_uint_eq(st.files, 1);
    ck_assert_uint_eq(st.namemax, 255);
    ck_assert_uint_eq(st.block_size, TU_BS);
    ck_assert_uint_gt(st.ffree, 1000000);
    ck_assert_int_eq(tu_create(R, v.root, "f", 0644, NULL), 0);
    ck_assert_int_eq(meta_statfs(tu_m, v.root, &st), 0);
    ck_assert_uint_eq(st.files, 2);
    ck_assert_int_eq(meta_statfs(tu_m, 999999, &st), -ESTALE);

    /* More volumes: own roots, distinct ids, listed in name order. */
    ck_assert_int_eq(meta_volume_create(tu_m, "alpha", 1u << 20, &v2), 0);
    ck_assert_uint_ne(v2.id, v.id);
    ck_assert_uint_ne(v2.root, v.root);
    ck_assert_int_eq(meta_volume_create(tu_m, "alpha", 1u << 20, &v2),
                     -EEXIST);
    ck_assert_int_eq(meta_volume_create(tu_m, "beta", 1000, &v2), -EINVAL);
    ck_assert_int_eq(meta_volume_create(tu_m, "a/b", 1u << 20, &v2), -EINVAL);
    struct meta_volume list[8];
    ck_assert_int_eq(meta_volume_list(tu_m, list, 8), 2);
    ck_assert_str_eq(list[0].name, "alpha");
    ck_assert_str_eq(list[1].name, "default");
    ck_assert_int_eq(meta_statfs(tu_m, list[0].root, &st), 0);
    ck_assert_uint_eq(st.files, 1);
    ck_assert_uint_eq(st.block_size, 1u << 20);
}
END_TEST

START_TEST(create_lookup)
{
    struct meta_attr a, b;
    struct meta_cred c = tu_cred(1000, 100);
    struct meta_attr d;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "d", 0777, &d), 0);
    ck_assert_int_eq(tu_create(&c, d.ino, "file", 0640, &a), 0);
    ck_assert_uint_eq(a.mode, S_IFREG | 0640);
    ck_assert_uint_eq(a.uid, 1000);
    ck_assert_uint_eq(a.gid, 100);
    ck_assert_uint_eq(a.nlink, 1);
    ck_assert_uint_eq(a.size, 0);
    ck_assert_uint_eq(a.blocks, 0);
    ck_assert_int_eq(meta_lookup(tu_m, R, d.ino, "file", 4, &b), 0);
    ck_assert_uint_eq(b.ino, a.ino);
    ck_assert_uint_eq(b.gen, a.gen);
    ck_assert_int_eq(meta_lookup(tu_m, R, d.ino, "nothing", 7, &b), -ENOENT);
    ck_assert_int_eq(meta_lookup(tu_m, R, d.ino, "", 0, &b), -ENOENT);
    ck_assert_int_eq(meta_lookup(tu_m, R, d.ino, ".", 1, &b), 0);
    ck_assert_uint_eq(b.ino, d.ino);
    ck_assert_int_eq(meta_lookup(tu_m, R, d.ino, "..", 2, &b), 0);
    ck_assert_uint_eq(b.ino, tu_root);
    ck_assert_int_eq(meta_lookup(tu_m, R, tu_root, "..", 2, &b), 0);
    ck_assert_uint_eq(b.ino, tu_root);
    ck_assert_int_eq(meta_lookup(tu_m, R, a.ino, "x", 1, &b), -ENOTDIR);
    ck_assert_int_eq(meta_lookup(tu_m, R, 987654, "x", 1, &b), -ESTALE);
    ck_assert_int_eq(meta_getattr(tu_m, R, 987654, &b), -ESTALE);
    ck_assert_int_eq(tu_create(R, a.ino, "x", 0644, NULL), -ENOTDIR);
    ck_assert_int_eq(tu_create(R, 987654, "x", 0644, NULL), -ESTALE);

    /* Non-exclusive create of an existing file opens it. */
    struct meta_mk mk = { "file", 4, S_IFREG | 0600, 0, 0, NULL };
    int created = -1;
    ck_assert_int_eq(meta_create(tu_m, R, d.ino, &mk, 0, 0, &b, &created,
                                 NULL), 0);
    ck_assert_int_eq(created, 0);
    ck_assert_uint_eq(b.ino, a.ino);
    ck_assert_uint_eq(b.mode, S_IFREG | 0640);
    ck_assert_int_eq(meta_create(tu_m, R, d.ino, &mk, META_CREATE_EXCL, 0, &b,
                                 &created, NULL), -EEXIST);
    mk.name = "d2";
    mk.namelen = 2;
    ck_assert_int_eq(tu_mkdir(R, d.ino, "d2", 0755, NULL), 0);
    ck_assert_int_eq(meta_create(tu_m, R, d.ino, &mk, 0, 0, &b, &created,
                                 NULL),
                     -EISDIR);
    mk.mode = S_IFDIR | 0755;
    mk.name = "new";
    mk.namelen = 3;
    ck_assert_int_eq(meta_create(tu_m, R, d.ino, &mk, 0, 0, &b, &created,
                                 NULL),
                     -EINVAL);
    /* The umask applies. */
    mk.mode = S_IFREG | 0666;
    mk.umask = 022;
    ck_assert_int_eq(meta_create(tu_m, R, d.ino, &mk, 0, 0, &b, &created,
                                 NULL), 0);
    ck_assert_int_eq(created, 1);
    ck_assert_uint_eq(b.mode, S_IFREG | 0644);
}
END_TEST

/* Create attributes go in with the new file, all or nothing. */
START_TEST(create_with_attrs)
{
    const struct meta_cred *R = &tu_rootcred;
    struct meta_cred u = tu_cred(1000, 1000);
    struct meta_attr d, b;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "open", 0777, &d), 0);
    struct meta_setattr sa = { .valid = META_SET_UID | META_SET_GID,
                               .uid = 77, .gid = 88 };
    sa.mtime.how = META_TIME_CLIENT;
    sa.mtime.time.sec = 123456789;
    sa.mtime.time.nsec = 5;
    struct meta_mk mk = { "owned", 5, S_IFREG | 0640, 0, 0, &sa };
    int created = -1;
    ck_assert_int_eq(meta_create(tu_m, R, d.ino, &mk, META_CREATE_EXCL, 0,
                                 &b, &created, NULL), 0);
    ck_assert_int_eq(created, 1);
    ck_assert_uint_eq(b.uid, 77);
    ck_assert_uint_eq(b.gid, 88);
    ck_assert_int_eq(b.mtime.sec, 123456789);
    ck_assert_uint_eq(b.mtime.nsec, 5);
    ck_assert_uint_eq(b.mode, S_IFREG | 0640);
    struct meta_attr c;
    ck_assert_int_eq(meta_lookup(tu_m, R, d.ino, "owned", 5, &c), 0);
    ck_assert_uint_eq(c.uid, 77);
    ck_assert_int_eq(c.mtime.sec, 123456789);
    /* A user may not give the file away: nothing is created. */
    mk.name = "given";
    ck_assert_int_eq(meta_create(tu_m, &u, d.ino, &mk, META_CREATE_EXCL, 0,
                                 &b, &created, NULL), -EPERM);
    ck_assert_int_eq(meta_lookup(tu_m, R, d.ino, "given", 5, &c), -ENOENT);
    /* Its own times it may set. */
    sa.valid = 0;
    ck_assert_int_eq(meta_create(tu_m, &u, d.ino, &mk, META_CREATE_EXCL, 0,
                                 &b, &created, NULL), 0);
    ck_assert_uint_eq(b.uid, 1000);
    ck_assert_int_eq(b.mtime.sec, 123456789);
}
END_TEST

START_TEST(name_rules)
{
    char name[300];
    memset(name, 'n', sizeof(name));
    struct meta_attr a;
    struct meta_mk mk = { name, 255, S_IFREG | 0644, 0, 0, NULL };
    int created;
    ck_assert_int_eq(meta_create(tu_m, R, tu_root, &mk, 0, 0, &a, &created,
                                 NULL),
                     0);
    ck_assert_int_eq(meta_lookup(tu_m, R, tu_root, name, 255, &a), 0);
    mk.namelen = 256;
    ck_assert_int_eq(meta_create(tu_m, R, tu_root, &mk, 0, 0, &a, &created,
                                 NULL),
                     -ENAMETOOLONG);
    ck_assert_int_eq(meta_mkdir(tu_m, R, tu_root, &mk, &a, NULL),
                                -ENAMETOOLONG);
    ck_assert_int_eq(meta_mknod(tu_m, R, tu_root, &mk, &a, NULL),
                                -ENAMETOOLONG);
    ck_assert_int_eq(meta_lookup(tu_m, R, tu_root, name, 256, &a),
                     -ENAMETOOLONG);
    ck_assert_int_eq(meta_unlink(tu_m, R, tu_root, name, 256, NULL),
                     -ENAMETOOLONG);
    ck_assert_int_eq(meta_symlink(tu_m, R, tu_root, name, 256, "t", &a, NULL),
                     -ENAMETOOLONG);

    static const struct { const char *n; size_t len; } bad[] = {
        { "a/b", 3 }, { "a\0b", 3 }, { "/", 1 }, { "", 0 }, { ".", 1 },
        { "..", 2 },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mk.name = bad[i].n;
        mk.namelen = bad[i].len;
        ck_assert_int_eq(meta_create(tu_m, R, tu_root, &mk, 0, 0, &a,
                                     &created, NULL), -EINVAL);
        ck_assert_int_eq(meta_mkdir(tu_m, R, tu_root, &mk, &a, NULL), -EINVAL);
        ck_assert_int_eq(meta_symlink(tu_m, R, tu_root, bad[i].n, bad[i].len,
                                      "t", &a, NULL), -EINVAL);
        ck_assert_int_eq(meta_rename(tu_m, R, tu_root, name, 255, tu_root,
                                     bad[i].n, bad[i].len, 0, NULL), -EINVAL);
    }
    ck_assert_int_eq(meta_lookup(tu_m, R, tu_root, "a/b", 3, &a), -EINVAL);
    ck_assert_int_eq(meta_lookup(tu_m, R, tu_root, "a\0b", 3, &a), -EINVAL);
    ck_assert_int_eq(meta_unlink(tu_m, R, tu_root, "a/b", 3, NULL), -EINVAL);
    ck_assert_int_eq(meta_rmdir(tu_m, R, tu_root, "..", 2, NULL), -EINVAL);
    /* Nothing of the refused names was made. */
    struct meta_statfs st;
    ck_assert_int_eq(meta_statfs(tu_m, tu_root, &st), 0);
    ck_assert_uint_eq(st.files, 2);
}
END_TEST

/* ---- link counts, removal ---- */

START_TEST(dirs_and_nlink)
{
    struct meta_attr a, b, f;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "a", 0755, &a), 0);
    ck_assert_uint_eq(a.nlink, 2);
    ck_assert_uint_eq(a.mode, S_IFDIR | 0755);
    ck_assert_uint_eq(tu_attr(tu_root).nlink, 3);
    ck_assert_int_eq(tu_mkdir(R, a.ino, "b", 0700, &b), 0);
    ck_assert_int_eq(tu_mkdir(R, a.ino, "c", 0700, NULL), 0);
    ck_assert_int_eq(tu_create(R, a.ino, "f", 0644, &f), 0);
    ck_assert_uint_eq(tu_attr(a.ino).nlink, 4);
    ck_assert_int_eq(tu_mkdir(R, a.ino, "b", 0700, NULL), -EEXIST);
    ck_assert_int_eq(tu_mkdir(R, a.ino, "f", 0700, NULL), -EEXIST);
    ck_assert_int_eq(tu_create(R, a.ino, "b", 0644, NULL), -EEXIST);

    ck_assert_int_eq(meta_rmdir(tu_m, R, tu_root, "a", 1, NULL), -ENOTEMPTY);
    ck_assert_int_eq(meta_rmdir(tu_m, R, a.ino, "f", 1, NULL), -ENOTDIR);
    ck_assert_int_eq(meta_unlink(tu_m, R, a.ino, "b", 1, NULL), -EISDIR);
    ck_assert_int_eq(meta_rmdir(tu_m, R, a.ino, "zz", 2, NULL), -ENOENT);
    ck_assert_int_eq(meta_unlink(tu_m, R, a.ino, "zz", 2, NULL), -ENOENT);
    ck_assert_int_eq(meta_unlink(tu_m, R, f.ino, "zz", 2, NULL), -ENOTDIR);
    ck_assert_int_eq(meta_rmdir(tu_m, R, a.ino, "b", 1, NULL), 0);
    ck_assert_int_eq(meta_getattr(tu_m, R, b.ino, &b), -ESTALE);
    ck_assert_uint_eq(tu_attr(a.ino).nlink, 3);
    ck_assert_int_eq(meta_rmdir(tu_m, R, a.ino, "c", 1, NULL), 0);
    ck_assert_int_eq(meta_unlink(tu_m, R, a.ino, "f", 1, NULL), 0);
    ck_assert_int_eq(meta_getattr(tu_m, R, f.ino, &f), -ESTALE);
    ck_assert_uint_eq(tu_attr(a.ino).nlink, 2);
    ck_assert_int_eq(meta_rmdir(tu_m, R, tu_root, "a", 1, NULL), 0);
    ck_assert_uint_eq(tu_attr(tu_root).nlink, 2);
    /* Making anything in a removed directory fails. */
    ck_assert_int_eq(tu_create(R, a.ino, "x", 0644, NULL), -ESTALE);
}
END_TEST

START_TEST(hard_links)
{
    struct meta_attr f, d, l;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "d", 0755, &d), 0);
    ck_assert_int_eq(tu_create(R, tu_root, "f", 0644, &f), 0);
    ck_assert_int_eq(meta_link(tu_m, R, f.ino, d.ino, "g", 1, &l, NULL), 0);
    ck_assert_uint_eq(l.ino, f.ino);
    ck_assert_uint_eq(l.nlink, 2);
    ck_assert_uint_eq(tu_ino(d.ino, "g"), f.ino);
    ck_assert_int_eq(meta_link(tu_m, R, f.ino, d.ino, "g", 1, &l, NULL),
                               -EEXIST);
    ck_assert_int_eq(meta_link(tu_m, R, d.ino, tu_root, "dd", 2, &l, NULL),
                               -EPERM);
    ck_assert_int_eq(meta_link(tu_m, R, f.ino, f.ino, "x", 1, &l, NULL),
                               -ENOTDIR);
    ck_assert_int_eq(meta_link(tu_m, R, 424242, d.ino, "x", 1, &l, NULL),
                               -ESTALE);
    ck_assert_int_eq(meta_link(tu_m, R, f.ino, d.ino, "a/b", 3, &l, NULL),
                               -EINVAL);
    ck_assert_uint_eq(tu_attr(f.ino).nlink, 2);
    ck_assert_int_eq(tu_unlink(tu_root, "f"), 0);
    ck_assert_uint_eq(tu_attr(f.ino).nlink, 1);
    ck_assert_int_eq(tu_unlink(d.ino, "g"), 0);
    ck_assert_int_eq(meta_getattr(tu_m, R, f.ino, &l), -ESTALE);

    struct meta_volume other;
    ck_assert_int_eq(meta_volume_create(tu_m, "other", TU_BS, &other), 0);
    ck_assert_int_eq(tu_create(R, tu_root, "h", 0644, &f), 0);
    ck_assert_int_eq(meta_link(tu_m, R, f.ino, other.root, "h", 1, &l, NULL),
                     -EXDEV);
}
END_TEST

START_TEST(times_and_change)
{
    struct meta_attr d0, d1, f, f2;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "d", 0755, &d0), 0);
    usleep(2000);
    ck_assert_int_eq(tu_create(R, d0.ino, "f", 0644, &f), 0);
    d1 = tu_attr(d0.ino);
    ck_assert(d1.mtime.sec > d0.mtime.sec ||
              (d1.mtime.sec == d0.mtime.sec && d1.mtime.nsec > d0.mtime.nsec));
    ck_assert_int_eq(d1.ctime.sec, d1.mtime.sec);
    ck_assert_uint_eq(d1.ctime.nsec, d1.mtime.nsec);
    ck_assert_uint_gt(d1.change, d0.change);
    ck_assert_uint_gt(f.change, d0.change);

    /* An attribute change moves ctime and change, not mtime. */
    usleep(2000);
    struct meta_setattr sa = { .valid = META_SET_MODE, .mode = 0600 };
    ck_assert_int_eq(meta_setattr(tu_m, R, f.ino, &sa, &f2), 0);
    ck_assert_uint_eq(f2.mode, S_IFREG | 0600);
    ck_assert_uint_gt(f2.change, f.change);
    ck_assert_int_eq(f2.mtime.sec, f.mtime.sec);
    ck_assert_uint_eq(f2.mtime.nsec, f.mtime.nsec);
    ck_assert(f2.ctime.sec > f.ctime.sec ||
              (f2.ctime.sec == f.ctime.sec && f2.ctime.nsec > f.ctime.nsec));

    /* Explicit times; atime is kept as set (never moved by reads). */
    sa = (struct meta_setattr){ 0 };
    sa.atime = (struct meta_settime){ META_TIME_CLIENT, { 1000, 5 } };
    sa.mtime = (struct meta_settime){ META_TIME_CLIENT, { 2000, 7 } };
    ck_assert_int_eq(meta_setattr(tu_m, R, f.ino, &sa, &f2), 0);
    ck_assert_int_eq(f2.atime.sec, 1000);
    ck_assert_uint_eq(f2.atime.nsec, 5);
    ck_assert_int_eq(f2.mtime.sec, 2000);
    ck_assert_uint_eq(f2.mtime.nsec, 7);
    sa.mtime.time.nsec = 1000000000u;
    ck_assert_int_eq(meta_setattr(tu_m, R, f.ino, &sa, &f2), -EINVAL);
    sa = (struct meta_setattr){ 0 };
    sa.mtime.how = META_TIME_SERVER;
    ck_assert_int_eq(meta_setattr(tu_m, R, f.ino, &sa, &f2), 0);
    ck_assert_int_gt(f2.mtime.sec, 2000);
    ck_assert_int_eq(f2.atime.sec, 1000);
    /* Nothing to set: nothing changes. */
    struct meta_attr f3;
    sa = (struct meta_setattr){ 0 };
    ck_assert_int_eq(meta_setattr(tu_m, R, f.ino, &sa, &f3), 0);
    ck_assert_uint_eq(f3.change, f2.change);
    ck_assert_int_eq(meta_setattr(tu_m, R, 99999, &sa, &f3), -ESTALE);

    /* Removal moves the parent's times and change too. */
    d0 = tu_attr(d0.ino);
    ck_assert_int_eq(tu_unlink(d0.ino, "f"), 0);
    d1 = tu_attr(d0.ino);
    ck_assert_uint_gt(d1.change, d0.change);
}
END_TEST

START_TEST(mknod_types)
{
    struct meta_attr a;
    struct meta_mk mk = { "fifo", 4, S_IFIFO | 0644, 0, 0, NULL };
    ck_assert_int_eq(meta_mknod(tu_m, R, tu_root, &mk, &a, NULL), 0);
    ck_assert_uint_eq(a.mode, S_IFIFO | 0644);
    mk = (struct meta_mk){ "sock", 4, S_IFSOCK | 0600, 0, 0, NULL };
    ck_assert_int_eq(meta_mknod(tu_m, R, tu_root, &mk, &a, NULL), 0);
    ck_assert_uint_eq(a.mode, S_IFSOCK | 0600);
    mk = (struct meta_mk){ "chr", 3, S_IFCHR | 0600, 0, 0x0103, NULL };
    ck_assert_int_eq(meta_mknod(tu_m, R, tu_root, &mk, &a, NULL), 0);
    ck_assert_uint_eq(a.mode, S_IFCHR | 0600);
    ck_assert_uint_eq(a.rdev, 0x0103);
    mk = (struct meta_mk){ "blk", 3, S_IFBLK | 0600, 0, 0x0801, NULL };
    ck_assert_int_eq(meta_mknod(tu_m, R, tu_root, &mk, &a, NULL), 0);
    ck_assert_uint_eq(a.rdev, 0x0801);
    mk = (struct meta_mk){ "reg", 3, 0644, 0, 0, NULL };
    ck_assert_int_eq(meta_mknod(tu_m, R, tu_root, &mk, &a, NULL), 0);
    ck_assert_uint_eq(a.mode, S_IFREG | 0644);
    ck_assert_uint_eq(a.rdev, 0);
    mk = (struct meta_mk){ "dir", 3, S_IFDIR | 0755, 0, 0, NULL };
    ck_assert_int_eq(meta_mknod(tu_m, R, tu_root, &mk, &a, NULL), -EINVAL);
    mk = (struct meta_mk){ "fifo", 4, S_IFIFO | 0644, 0, 0, NULL };
    ck_assert_int_eq(meta_mknod(tu_m, R, tu_root, &mk, &a, NULL), -EEXIST);
    ck_assert_uint_eq(tu_attr(tu_root).nlink, 2);
}
END_TEST

START_TEST(symlinks)
{
    struct meta_attr a;
    char buf[META_PATH_MAX + 1];
    ck_assert_int_eq(meta_symlink(tu_m, R, tu_root, "l", 1, "../some/where",
                                  &a, NULL), 0);
    ck_assert_uint_eq(a.mode, S_IFLNK | 0777);
    ck_assert_uint_eq(a.size, 13);
    ck_assert_int_eq(meta_readlink(tu_m, R, a.ino, buf, sizeof(buf)), 13);
    ck_assert_str_eq(buf, "../some/where");
    ck_assert_int_eq(meta_readlink(tu_m, R, a.ino, buf, 5), -ERANGE);
    /* The target survives attribute changes of the link. */
    struct meta_setattr sa = { .valid = META_SET_UID, .uid = 7 };
    ck_assert_int_eq(meta_setattr(tu_m, R, a.ino, &sa, &a), 0);
    ck_assert_int_eq(meta_readlink(tu_m, R, a.ino, buf, sizeof(buf)), 13);
    ck_assert_str_eq(buf, "../some/where");

    ck_assert_int_eq(meta_symlink(tu_m, R, tu_root, "e", 1, "", &a, NULL),
                                  -ENOENT);
    char big[META_PATH_MAX + 2];
    memset(big, 'x', sizeof(big));
    big[META_PATH_MAX] = 0;
    ck_assert_int_eq(meta_symlink(tu_m, R, tu_root, "big", 3, big, &a, NULL),
                                  0);
    ck_assert_int_eq(meta_readlink(tu_m, R, a.ino, buf, sizeof(buf)),
                     META_PATH_MAX);
    ck_assert_int_eq(memcmp(buf, big, META_PATH_MAX), 0);
    big[META_PATH_MAX] = 'x';
    big[META_PATH_MAX + 1] = 0;
    ck_assert_int_eq(meta_symlink(tu_m, R, tu_root, "big2", 4, big, &a, NULL),
                     -ENAMETOOLONG);
    ck_assert_int_eq(meta_symlink(tu_m, R, tu_root, "l", 1, "t", &a, NULL),
                     -EEXIST);
    struct meta_attr f;
    ck_assert_int_eq(tu_create(R, tu_root, "f", 0644, &f), 0);
    ck_assert_int_eq(meta_readlink(tu_m, R, f.ino, buf, sizeof(buf)),
                     -EINVAL);
    ck_assert_int_eq(meta_readlink(tu_m, R, 98765, buf, sizeof(buf)),
                     -ESTALE);
    ck_assert_int_eq(tu_unlink(tu_root, "l"), 0);
}
END_TEST

/* ---- rename ---- */

START_TEST(rename_moves)
{
    struct meta_attr a, b, f, x;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "a", 0755, &a), 0);
    ck_assert_int_eq(tu_mkdir(R, tu_root, "b", 0755, &b), 0);
    ck_assert_int_eq(tu_create(R, a.ino, "f", 0644, &f), 0);
    ck_assert_int_eq(tu_rename(a.ino, "f", a.ino, "g", 0), 0);
    ck_assert_uint_eq(tu_ino(a.ino, "g"), f.ino);
    ck_assert_uint_eq(tu_ino(a.ino, "f"), 0);
    ck_assert_int_eq(tu_rename(a.ino, "g", b.ino, "h", 0), 0);
    ck_assert_uint_eq(tu_ino(b.ino, "h"), f.ino);
    ck_assert_uint_eq(tu_ino(a.ino, "g"), 0);
    ck_assert_int_eq(tu_rename(a.ino, "g", b.ino, "h", 0), -ENOENT);
    ck_assert_int_eq(tu_rename(a.ino, "x", f.ino, "h", 0), -ENOTDIR);
    ck_assert_int_eq(tu_rename(4242, "x", a.ino, "h", 0), -ESTALE);

    /* A directory moving across parents: link counts and "..". */
    ck_assert_int_eq(tu_mkdir(R, a.ino, "sub", 0755, &x), 0);
    ck_assert_uint_eq(tu_attr(a.ino).nlink, 3);
    ck_assert_int_eq(tu_rename(a.ino, "sub", b.ino, "sub2", 0), 0);
    ck_assert_uint_eq(tu_attr(a.ino).nlink, 2);
    ck_assert_uint_eq(tu_attr(b.ino).nlink, 3);
    ck_assert_uint_eq(tu_ino(x.ino, ".."), b.ino);
    ck_assert_uint_eq(tu_attr(x.ino).nlink, 2);

    /* Rename to itself, and between two links of one inode: no-ops. */
    ck_assert_int_eq(tu_rename(b.ino, "h", b.ino, "h", 0), 0);
    ck_assert_uint_eq(tu_ino(b.ino, "h"), f.ino);
    ck_assert_int_eq(meta_link(tu_m, R, f.ino, a.ino, "link", 4, &x, NULL), 0);
    ck_assert_int_eq(tu_rename(b.ino, "h", a.ino, "link", 0), 0);
    ck_assert_uint_eq(tu_ino(b.ino, "h"), f.ino);
    ck_assert_uint_eq(tu_ino(a.ino, "link"), f.ino);
    ck_assert_uint_eq(tu_attr(f.ino).nlink, 2);

    ck_assert_int_eq(tu_rename(b.ino, "h", a.ino, "n", 3), -EINVAL);
    ck_assert_int_eq(tu_rename(b.ino, "h", a.ino, "n", 4), -EINVAL);

    struct meta_volume other;
    ck_assert_int_eq(meta_volume_create(tu_m, "other", TU_BS, &other), 0);
    ck_assert_int_eq(tu_rename(b.ino, "h", other.root, "h", 0), -EXDEV);
}
END_TEST

START_TEST(rename_replace)
{
    struct meta_attr d, f1, f2, e1, e2, full, t;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "d", 0755, &d), 0);
    ck_assert_int_eq(tu_create(R, d.ino, "f1", 0644, &f1), 0);
    ck_assert_int_eq(tu_create(R, d.ino, "f2", 0644, &f2), 0);
    ck_assert_int_eq(tu_mkdir(R, d.ino, "e1", 0755, &e1), 0);
    ck_assert_int_eq(tu_mkdir(R, tu_root, "e2", 0755, &e2), 0);
    ck_assert_int_eq(tu_mkdir(R, tu_root, "full", 0755, &full), 0);
    ck_assert_int_eq(tu_create(R, full.ino, "x", 0644, NULL), 0);

    /* File onto file: the old target goes. */
    ck_assert_int_eq(tu_rename(d.ino, "f1", d.ino, "f2", 0), 0);
    ck_assert_uint_eq(tu_ino(d.ino, "f2"), f1.ino);
    ck_assert_uint_eq(tu_ino(d.ino, "f1"), 0);
    ck_assert_int_eq(meta_getattr(tu_m, R, f2.ino, &t), -ESTALE);
    ck_assert_uint_eq(tu_attr(f1.ino).nlink, 1);

    /* Type mismatches and a non-empty target. */
    ck_assert_int_eq(tu_rename(d.ino, "e1", d.ino, "f2", 0), -ENOTDIR);
    ck_assert_int_eq(tu_rename(d.ino, "f2", d.ino, "e1", 0), -EISDIR);
    ck_assert_int_eq(tu_rename(d.ino, "e1", tu_root, "full", 0), -ENOTEMPTY);
    ck_assert_uint_eq(tu_ino(d.ino, "e1"), e1.ino);

    /* Directory onto an empty directory in another parent. */
    uint32_t root_nlink = tu_attr(tu_root).nlink;
    ck_assert_int_eq(tu_rename(d.ino, "e1", tu_root, "e2", 0), 0);
    ck_assert_uint_eq(tu_ino(tu_root, "e2"), e1.ino);
    ck_assert_int_eq(meta_getattr(tu_m, R, e2.ino, &t), -ESTALE);
    ck_assert_uint_eq(tu_attr(tu_root).nlink, root_nlink);
    ck_assert_uint_eq(tu_attr(d.ino).nlink, 2);
    ck_assert_uint_eq(tu_ino(e1.ino, ".."), tu_root);

    /* NOREPLACE. */
    ck_assert_int_eq(tu_create(R, d.ino, "n1", 0644, NULL), 0);
    ck_assert_int_eq(tu_rename(d.ino, "n1", d.ino, "f2",
                               META_RENAME_NOREPLACE), -EEXIST);
    ck_assert_int_eq(tu_rename(d.ino, "n1", d.ino, "n2",
                               META_RENAME_NOREPLACE), 0);
}
END_TEST

START_TEST(rename_subtree)
{
    struct meta_attr a, b, c;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "a", 0755, &a), 0);
    ck_assert_int_eq(tu_mkdir(R, a.ino, "b", 0755, &b), 0);
    ck_assert_int_eq(tu_mkdir(R, b.ino, "c", 0755, &c), 0);
    ck_assert_int_eq(tu_rename(tu_root, "a", c.ino, "a", 0), -EINVAL);
    ck_assert_int_eq(tu_rename(tu_root, "a", b.ino, "a", 0), -EINVAL);
    ck_assert_int_eq(tu_rename(tu_root, "a", a.ino, "a", 0), -EINVAL);
    ck_assert_int_eq(tu_rename(a.ino, "b", c.ino, "x", 0), -EINVAL);
    /* Onto an ancestor: it is not empty. */
    ck_assert_int_eq(tu_rename(b.ino, "c", tu_root, "a", 0), -ENOTEMPTY);
    /* Moving up is fine. */
    ck_assert_int_eq(tu_rename(b.ino, "c", tu_root, "c", 0), 0);
    ck_assert_uint_eq(tu_ino(c.ino, ".."), tu_root);
    ck_assert_int_eq(tu_rename(tu_root, "c", b.ino, "c", 0), 0);
    /* Exchange that would put a directory under itself. */
    ck_assert_int_eq(tu_rename(tu_root, "a", b.ino, "c",
                               META_RENAME_EXCHANGE), -EINVAL);
    ck_assert_uint_eq(tu_ino(tu_root, "a"), a.ino);
    ck_assert_uint_eq(tu_ino(b.ino, "c"), c.ino);
}
END_TEST

START_TEST(rename_exchange)
{
    struct meta_attr p, q, f, g, dir;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "p", 0755, &p), 0);
    ck_assert_int_eq(tu_mkdir(R, tu_root, "q", 0755, &q), 0);
    ck_assert_int_eq(tu_create(R, p.ino, "f", 0644, &f), 0);
    ck_assert_int_eq(tu_create(R, p.ino, "g", 0644, &g), 0);
    ck_assert_int_eq(tu_mkdir(R, q.ino, "dir", 0755, &dir), 0);

    ck_assert_int_eq(tu_rename(p.ino, "f", p.ino, "g", META_RENAME_EXCHANGE),
                     0);
    ck_assert_uint_eq(tu_ino(p.ino, "f"), g.ino);
    ck_assert_uint_eq(tu_ino(p.ino, "g"), f.ino);
    ck_assert_int_eq(tu_rename(p.ino, "f", p.ino, "none",
                               META_RENAME_EXCHANGE), -ENOENT);
    ck_assert_int_eq(tu_rename(p.ino, "none", p.ino, "f",
                               META_RENAME_EXCHANGE), -ENOENT);
    ck_assert_int_eq(tu_rename(p.ino, "f", p.ino, "g",
                               META_RENAME_EXCHANGE |
                               META_RENAME_NOREPLACE), -EINVAL);

    /* A file and a directory across parents: nlinks and ".." follow. */
    ck_assert_uint_eq(tu_attr(p.ino).nlink, 2);
    ck_assert_uint_eq(tu_attr(q.ino).nlink, 3);
    ck_assert_int_eq(tu_rename(p.ino, "f", q.ino, "dir",
                               META_RENAME_EXCHANGE), 0);
    ck_assert_uint_eq(tu_ino(p.ino, "f"), dir.ino);
    ck_assert_uint_eq(tu_ino(q.ino, "dir"), g.ino);
    ck_assert_uint_eq(tu_attr(p.ino).nlink, 3);
    ck_assert_uint_eq(tu_attr(q.ino).nlink, 2);
    ck_assert_uint_eq(tu_ino(dir.ino, ".."), p.ino);

    /* Two directories across parents: counts stay, parents swap. */
    struct meta_attr d2;
    ck_assert_int_eq(tu_mkdir(R, q.ino, "d2", 0755, &d2), 0);
    ck_assert_int_eq(tu_rename(p.ino, "f", q.ino, "d2",
                               META_RENAME_EXCHANGE), 0);
    ck_assert_uint_eq(tu_ino(d2.ino, ".."), p.ino);
    ck_assert_uint_eq(tu_ino(dir.ino, ".."), q.ino);
    ck_assert_uint_eq(tu_attr(p.ino).nlink, 3);
    ck_assert_uint_eq(tu_attr(q.ino).nlink, 3);
    /* Both removable afterwards: the tree is consistent. */
    ck_assert_int_eq(meta_rmdir(tu_m, R, q.ino, "d2", 2, NULL), 0);
    ck_assert_int_eq(meta_rmdir(tu_m, R, p.ino, "f", 1, NULL), 0);
    ck_assert_uint_eq(tu_attr(p.ino).nlink, 2);
    ck_assert_uint_eq(tu_attr(q.ino).nlink, 2);
}
END_TEST

/* ---- what name changes tell about their directories ---- */

/* dc must say: dir's counter was `before`, and its attributes are now
 * exactly what a GETATTR gives. */
static void check_dc(const struct meta_dirchange *dc, uint64_t dir,
                     uint64_t before)
{
    struct meta_attr now = tu_attr(dir);
    ck_assert_uint_eq(dc->before, before);
    ck_assert_uint_eq(dc->after.ino, dir);
    ck_assert_uint_eq(dc->after.change, now.change);
    ck_assert_uint_eq(dc->after.nlink, now.nlink);
    ck_assert_uint_eq(dc->after.mode, now.mode);
    ck_assert_int_eq(dc->after.mtime.sec, now.mtime.sec);
    ck_assert_int_eq(dc->after.mtime.nsec, now.mtime.nsec);
    ck_assert_int_eq(dc->after.ctime.nsec, now.ctime.nsec);
}

START_TEST(dir_changes)
{
    struct meta_attr d, e, f, x;
    struct meta_dirchange dc, dcs[2];
    ck_assert_int_eq(tu_mkdir(R, tu_root, "d", 0755, &d), 0);
    ck_assert_int_eq(tu_mkdir(R, tu_root, "e", 0755, &e), 0);
    uint64_t was = tu_attr(d.ino).change;

    struct meta_mk mk = { "f", 1, S_IFREG | 0644, 0, 0, NULL };
    int created;
    ck_assert_int_eq(meta_create(tu_m, R, d.ino, &mk, 0, 0, &f, &created,
                                 &dc), 0);
    check_dc(&dc, d.ino, was);
    ck_assert_uint_gt(dc.after.change, was);
    /* Opening an existing file changes nothing there. */
    was = dc.after.change;
    ck_assert_int_eq(meta_create(tu_m, R, d.ino, &mk, 0, 0, &f, &created,
                                 &dc), 0);
    ck_assert_int_eq(created, 0);
    check_dc(&dc, d.ino, was);
    ck_assert_uint_eq(dc.after.change, was);

    struct meta_mk sub = { "sub", 3, S_IFDIR | 0755, 0, 0, NULL };
    ck_assert_int_eq(meta_mkdir(tu_m, R, d.ino, &sub, &x, &dc), 0);
    check_dc(&dc, d.ino, was);
    ck_assert_uint_eq(dc.after.nlink, 3);
    was = dc.after.change;
    struct meta_mk fifo = { "p", 1, S_IFIFO | 0644, 0, 0, NULL };
    ck_assert_int_eq(meta_mknod(tu_m, R, d.ino, &fifo, &x, &dc), 0);
    check_dc(&dc, d.ino, was);
    was = dc.after.change;
    ck_assert_int_eq(meta_symlink(tu_m, R, d.ino, "s", 1, "f", &x, &dc), 0);
    check_dc(&dc, d.ino, was);
    was = dc.after.change;
    ck_assert_int_eq(meta_link(tu_m, R, f.ino, d.ino, "g", 1, &x, &dc), 0);
    check_dc(&dc, d.ino, was);
    was = dc.after.change;
    ck_assert_int_eq(meta_unlink(tu_m, R, d.ino, "g", 1, &dc), 0);
    check_dc(&dc, d.ino, was);
    was = dc.after.change;
    ck_assert_int_eq(meta_rmdir(tu_m, R, d.ino, "sub", 3, &dc), 0);
    check_dc(&dc, d.ino, was);
    ck_assert_uint_eq(dc.after.nlink, 2);

    /* Rename in one directory: both are that directory. */
    was = dc.after.change;
    ck_assert_int_eq(meta_rename(tu_m, R, d.ino, "f", 1, d.ino, "f2", 2, 0,
                                 dcs), 0);
    check_dc(&dcs[0], d.ino, was);
    check_dc(&dcs[1], d.ino, was);
    /* Across directories: each its own. */
    was = dcs[0].after.change;
    uint64_t ewas = tu_attr(e.ino).change;
    ck_assert_int_eq(meta_rename(tu_m, R, d.ino, "f2", 2, e.ino, "f3", 2, 0,
                                 dcs), 0);
    check_dc(&dcs[0], d.ino, was);
    check_dc(&dcs[1], e.ino, ewas);
    ck_assert_uint_gt(dcs[1].after.change, ewas);
    /* A failed call changes nothing. */
    ck_assert_int_eq(meta_unlink(tu_m, R, d.ino, "none", 4, &dc), -ENOENT);
    ck_assert_uint_eq(tu_attr(d.ino).change, dcs[0].after.change);
}
END_TEST

/* meta_remove (NFSv4 REMOVE) takes whatever the name is, in one
 * transaction, with the rules of unlink and rmdir. */
START_TEST(remove_either)
{
    struct meta_attr d, x;
    struct meta_dirchange dc;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "d", 0755, &d), 0);
    ck_assert_int_eq(tu_create(R, d.ino, "f", 0644, NULL), 0);
    ck_assert_int_eq(tu_mkdir(R, d.ino, "full", 0755, &x), 0);
    ck_assert_int_eq(tu_create(R, x.ino, "in", 0644, NULL), 0);
    ck_assert_int_eq(tu_mkdir(R, d.ino, "empty", 0755, NULL), 0);
    ck_assert_uint_eq(tu_attr(d.ino).nlink, 4);
    uint64_t was = tu_attr(d.ino).change;
    ck_assert_int_eq(meta_remove(tu_m, R, d.ino, "f", 1, &dc), 0);
    check_dc(&dc, d.ino, was);
    ck_assert_int_eq(meta_remove(tu_m, R, d.ino, "full", 4, &dc),
                     -ENOTEMPTY);
    was = tu_attr(d.ino).change;
    ck_assert_int_eq(meta_remove(tu_m, R, d.ino, "empty", 5, &dc), 0);
    check_dc(&dc, d.ino, was);
    ck_assert_uint_eq(dc.after.nlink, 3);
    ck_assert_int_eq(meta_remove(tu_m, R, d.ino, "empty", 5, &dc), -ENOENT);
    ck_assert_int_eq(meta_remove(tu_m, R, d.ino, ".", 1, &dc), -EINVAL);
    struct meta_cred u = tu_cred(1000, 100);
    ck_assert_int_eq(meta_remove(tu_m, &u, x.ino, "in", 2, &dc), -EACCES);
}
END_TEST

/* ---- readdir ---- */

struct listing {
    uint32_t limit;                     /* entries per page */
    uint32_t n;                         /* in this page */
    uint64_t last;                      /* last cookie seen */
    char *seen;                         /* per index: times seen */
    uint32_t nseen;
    int plus_ok;
    uint64_t total;
};

/* Names are "e<index>"; counts what was seen. */
static int list_cb(void *arg, const char *name, size_t namelen, uint64_t ino,
                   uint32_t type, uint64_t cookie,
                   const struct meta_attr *attr)
{
    struct listing *l = arg;
    if (l->n == l->limit)
        return 1;
    ck_assert_uint_gt(cookie, 2);
    ck_assert_uint_gt(cookie, l->last);
    ck_assert_uint_eq(name[namelen], 0);
    l->last = cookie;
    l->n++;
    l->total++;
    if (attr) {
        if (attr->ino != ino || (attr->mode & S_IFMT) != type)
            l->plus_ok = 0;
    }
    if (name[0] == 'e') {
        unsigned idx = (unsigned)atoi(name + 1);
        if (idx < l->nseen)
            l->seen[idx]++;
    }
    return 0;
}

START_TEST(readdir_large)
{
    enum { N = 10000 };
    struct meta_attr d;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "big", 0755, &d), 0);
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof(name), "e%d", i);
        if (i % 10 == 0)
            ck_assert_int_eq(tu_mkdir(R, d.ino, name, 0755, NULL), 0);
        else
            ck_assert_int_eq(tu_create(R, d.ino, name, 0644, NULL), 0);
    }
    ck_assert_uint_eq(tu_attr(d.ino).nlink, 2 + N / 10);
    static const uint32_t pages[] = { 1, 7, 100, 127, 128, 129, 1000, 5000 };
    for (int plus = 0; plus < 2; plus++) {
        struct listing l = { .seen = calloc(N, 1), .nseen = N, .plus_ok = 1 };
        uint64_t cookie = 0;
        int eof = 0, rounds = 0;
        while (!eof) {
            l.limit = pages[rounds++ % 8];
            l.n = 0;
            ck_assert_int_eq(meta_readdir(tu_m, R, d.ino, cookie, plus,
                                          list_cb, &l, &eof), 0);
            ck_assert(l.n > 0 || eof);
            cookie = l.last;
        }
        ck_assert_uint_eq(l.total, N);
        for (int i = 0; i < N; i++)
            ck_assert_int_eq(l.seen[i], 1);
        ck_assert_int_eq(l.plus_ok, 1);
        free(l.seen);
    }
}
END_TEST

START_TEST(readdir_changing)
{
    enum { N = 600, M = 300 };
    struct meta_attr d;
    char name[32];
    ck_assert_int_eq(tu_mkdir(R, tu_root, "dir", 0755, &d), 0);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "e%d", i);
        ck_assert_int_eq(tu_create(R, d.ino, name, 0644, NULL), 0);
    }
    struct listing l = { .seen = calloc(N + M, 1), .nseen = N + M };
    char *removed = calloc(N, 1);
    uint64_t cookie = 0;
    int eof = 0, page = 0, added = 0;
    while (!eof) {
        l.limit = 37;
        l.n = 0;
        ck_assert_int_eq(meta_readdir(tu_m, R, d.ino, cookie, 0, list_cb, &l,
                                      &eof), 0);
        cookie = l.last;
        page++;
        /* Between pages: remove one entry already listed (the last one, so
         * the listing resumes from a cookie that no longer exists), one
         * not yet listed, and add new ones. */
        for (int i = 0; i < N; i++) {
            if (!removed[i] && l.seen[i]) {
                int j = i;
                for (int k = i; k < N; k++)
                    if (l.seen[k] && !removed[k])
                        j = k;
                snprintf(name, sizeof(name), "e%d", j);
                ck_assert_int_eq(tu_unlink(d.ino, name), 0);
                removed[j] = 1;
                break;
            }
        }
        int victim = N - 1 - page * 3;
        if (victim > 0 && !l.seen[victim] && !removed[victim]) {
            snprintf(name, sizeof(name), "e%d", victim);
            ck_assert_int_eq(tu_unlink(d.ino, name), 0);
            removed[victim] = 2;
        }
        if (added < M && !eof) {
            snprintf(name, sizeof(name), "e%d", N + added++);
            ck_assert_int_eq(tu_create(R, d.ino, name, 0644, NULL), 0);
        }
    }
    /* Entries present all along: exactly once.  Removed before being
     * reached: never.  Added during the listing: exactly once. */
    for (int i = 0; i < N; i++) {
        if (removed[i] == 2)
            ck_assert_int_eq(l.seen[i], 0);
        else
            ck_assert_int_eq(l.seen[i], 1);
    }
    for (int i = N; i < N + added; i++)
        ck_assert_int_eq(l.seen[i], 1);
    free(l.seen);
    free(removed);
}
END_TEST

static int count_cb(void *arg, const char *name, size_t namelen, uint64_t ino,
                    uint32_t type, uint64_t cookie,
                    const struct meta_attr *attr)
{
    (*(int *)arg)++;
    return 0;
}

START_TEST(readdir_errors)
{
    struct meta_attr d, f;
    int n = 0, eof = 0;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "empty", 0755, &d), 0);
    ck_assert_int_eq(meta_readdir(tu_m, R, d.ino, 0, 0, count_cb, &n, &eof),
                     0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(eof, 1);
    ck_assert_int_eq(tu_create(R, d.ino, "f", 0644, &f), 0);
    eof = 0;
    ck_assert_int_eq(meta_readdir(tu_m, R, d.ino, UINT64_MAX, 0, count_cb, &n,
                                  &eof), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(eof, 1);
    ck_assert_int_eq(meta_readdir(tu_m, R, d.ino, 0, 1, count_cb, &n, &eof),
                     0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(meta_readdir(tu_m, R, f.ino, 0, 0, count_cb, &n, &eof),
                     -ENOTDIR);
    ck_assert_int_eq(meta_readdir(tu_m, R, 777777, 0, 0, count_cb, &n, &eof),
                     -ESTALE);
}
END_TEST

static Suite *meta_suite(void)
{
    Suite *s = suite_create("meta");
    TCase *tc = tcase_create("namespace");
    tcase_add_checked_fixture(tc, tu_setup, tu_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, default_volume);
    tcase_add_test(tc, create_lookup);
    tcase_add_test(tc, create_with_attrs);
    tcase_add_test(tc, name_rules);
    tcase_add_test(tc, dirs_and_nlink);
    tcase_add_test(tc, hard_links);
    tcase_add_test(tc, times_and_change);
    tcase_add_test(tc, mknod_types);
    tcase_add_test(tc, symlinks);
    tcase_add_test(tc, rename_moves);
    tcase_add_test(tc, rename_replace);
    tcase_add_test(tc, rename_subtree);
    tcase_add_test(tc, rename_exchange);
    tcase_add_test(tc, dir_changes);
    tcase_add_test(tc, remove_either);
    tcase_add_test(tc, readdir_large);
    tcase_add_test(tc, readdir_changing);
    tcase_add_test(tc, readdir_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(meta_suite());
}
