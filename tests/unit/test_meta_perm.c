/* test_meta_perm.c - unit tests of access checks through the metadata core
 * with non-root credentials: search and write on directories, open modes,
 * the sticky bit, setgid directories, chmod/chown/utimes rules, setuid and
 * setgid clearing, umask, and perm.c's rules for root. */
#include "config.h"
#include "meta_testutil.h"
#include "perm.h"

#include <fcntl.h>

static const struct meta_cred *R = &tu_rootcred;
static struct meta_cred A, B, C;    /* A, B share group 100; C is alone */
static uint64_t pub;                /* a 0777 directory under the root */

static void perm_setup(void)
{
    tu_setup();
    A = tu_cred(1000, 1000);
    A.ngroups = 1;
    A.groups[0] = 100;
    B = tu_cred(2000, 2000);
    B.ngroups = 1;
    B.groups[0] = 100;
    C = tu_cred(3000, 3000);
    struct meta_attr d;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "pub", 0777, &d), 0);
    pub = d.ino;
}

static int chattr(const struct meta_cred *cr, uint64_t ino, uint32_t valid,
                  uint32_t mode, uint32_t uid, uint32_t gid,
                  struct meta_attr *out)
{
    struct meta_setattr sa = { .valid = valid, .mode = mode, .uid = uid,
                               .gid = gid };
    struct meta_attr a;
    return meta_setattr(tu_m, cr, ino, &sa, out ? out : &a);
}

START_TEST(directory_access)
{
    struct meta_attr d, x, f, a;
    /* The root directory is 0755 root's: others cannot add to it. */
    ck_assert_int_eq(tu_create(&A, tu_root, "f", 0644, NULL), -EACCES);
    ck_assert_int_eq(tu_mkdir(&A, tu_root, "d", 0755, NULL), -EACCES);
    ck_assert_int_eq(meta_symlink(tu_m, &A, tu_root, "l", 1, "t", &a, NULL),
                     -EACCES);
    struct meta_mk mk = { "n", 1, S_IFIFO | 0644, 0, 0, NULL };
    ck_assert_int_eq(meta_mknod(tu_m, &A, tu_root, &mk, &a, NULL), -EACCES);

    ck_assert_int_eq(tu_mkdir(R, tu_root, "private", 0700, &d), 0);
    ck_assert_int_eq(tu_create(R, d.ino, "f", 0644, &f), 0);
    ck_assert_int_eq(meta_lookup(tu_m, &A, d.ino, "f", 1, &a), -EACCES);
    ck_assert_int_eq(meta_getattr(tu_m, &A, f.ino, &a), 0);
    int eof, n = 0;
    ck_assert_int_eq(meta_readdir(tu_m, &A, d.ino, 0, 0, NULL, &n, &eof),
                     -EACCES);
    /* Search only: lookups work, listing does not. */
    ck_assert_int_eq(tu_mkdir(R, tu_root, "xonly", 0711, &x), 0);
    ck_assert_int_eq(tu_create(R, x.ino, "f", 0644, NULL), 0);
    ck_assert_int_eq(meta_lookup(tu_m, &A, x.ino, "f", 1, &a), 0);
    ck_assert_int_eq(meta_readdir(tu_m, &A, x.ino, 0, 0, NULL, &n, &eof),
                     -EACCES);
    /* Removal and renames need write on the parents. */
    ck_assert_int_eq(meta_unlink(tu_m, &A, x.ino, "f", 1, NULL), -EACCES);
    ck_assert_int_eq(meta_rename(tu_m, &A, x.ino, "f", 1, pub, "f", 1, 0,
                                 NULL),
                     -EACCES);
    ck_assert_int_eq(tu_create(&A, pub, "mine", 0644, &f), 0);
    ck_assert_int_eq(meta_rename(tu_m, &A, pub, "mine", 4, x.ino, "m", 1, 0,
                                 NULL),
                     -EACCES);
    ck_assert_int_eq(meta_link(tu_m, &A, f.ino, x.ino, "m", 1, &a, NULL),
                               -EACCES);
    ck_assert_int_eq(meta_link(tu_m, &A, f.ino, pub, "m2", 2, &a, NULL), 0);
    ck_assert_int_eq(meta_rename(tu_m, &A, pub, "mine", 4, pub, "m3", 2, 0,
                                 NULL),
                     0);
    /* Even an existing name is reported before the write check. */
    ck_assert_int_eq(tu_mkdir(&A, tu_root, "pub", 0755, NULL), -EEXIST);
    ck_assert_int_eq(meta_rmdir(tu_m, &A, tu_root, "pub", 3, NULL), -EACCES);
    /* New inodes belong to the caller. */
    ck_assert_int_eq(tu_create(&A, pub, "owned", 0666, &a), 0);
    ck_assert_uint_eq(a.uid, 1000);
    ck_assert_uint_eq(a.gid, 1000);
    /* Devices need root; fifos do not. */
    mk = (struct meta_mk){ "chr", 3, S_IFCHR | 0600, 0, 0x101, NULL };
    ck_assert_int_eq(meta_mknod(tu_m, &A, pub, &mk, &a, NULL), -EPERM);
    mk = (struct meta_mk){ "fifo", 4, S_IFIFO | 0600, 0, 0, NULL };
    ck_assert_int_eq(meta_mknod(tu_m, &A, pub, &mk, &a, NULL), 0);
}
END_TEST

START_TEST(open_modes)
{
    struct meta_attr f, a;
    ck_assert_int_eq(tu_create(&A, pub, "f", 0640, &f), 0);
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_GID, 0, 0, 100, NULL), 0);
    ck_assert_int_eq(meta_open_file(tu_m, &A, f.ino, 0, O_RDWR, &a), 0);
    ck_assert_int_eq(meta_open_file(tu_m, &B, f.ino, 0, O_RDONLY, &a), 0);
    ck_assert_int_eq(meta_open_file(tu_m, &B, f.ino, 0, O_WRONLY, &a),
                     -EACCES);
    ck_assert_int_eq(meta_open_file(tu_m, &B, f.ino, 0, O_RDONLY | O_TRUNC,
                                    &a), -EACCES);
    ck_assert_int_eq(meta_open_file(tu_m, &C, f.ino, 0, O_RDONLY, &a),
                     -EACCES);
    ck_assert_int_eq(meta_open_file(tu_m, R, f.ino, 0, O_RDWR, &a), 0);
    /* The owner class decides even when it grants less than the group. */
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_MODE, 0070, 0, 0, NULL), 0);
    ck_assert_int_eq(meta_open_file(tu_m, &A, f.ino, 0, O_RDONLY, &a),
                     -EACCES);
    ck_assert_int_eq(meta_open_file(tu_m, &B, f.ino, 0, O_RDWR, &a), 0);

    /* CREATE of an existing file checks access for the open. */
    struct meta_mk mk = { "f", 1, S_IFREG | 0644, 0, 0, NULL };
    int created;
    ck_assert_int_eq(meta_create(tu_m, &C, pub, &mk, 0, 0, &a, &created, NULL),
                     -EACCES);
    ck_assert_int_eq(meta_create(tu_m, &B, pub, &mk, META_CREATE_READ, 0, &a,
                                 &created, NULL), 0);
    ck_assert_int_eq(created, 0);

    /* Block maps: read or write permission. */
    struct meta_block blk[2];
    uint32_t n;
    ck_assert_int_eq(meta_get_blocks(tu_m, &C, f.ino, 0, 1, blk, 2, &n, &a),
                     -EACCES);
    ck_assert_int_eq(chattr(R, f.ino, META_SET_MODE, 0602, 0, 0, NULL), 0);
    ck_assert_int_eq(meta_get_blocks(tu_m, &C, f.ino, 0, 1, blk, 2, &n, &a),
                     0);
    ck_assert_int_eq(meta_open_file(tu_m, &C, f.ino, 0, O_WRONLY, &a), 0);
    ck_assert_int_eq(meta_open_file(tu_m, &C, f.ino, 0, O_RDONLY, &a),
                     -EACCES);
}
END_TEST

START_TEST(root_rules)
{
    struct perm_node file = { 1, S_IFREG | 0644, 5, 5, NULL, NULL };
    struct perm_node exe = { 2, S_IFREG | 0700, 5, 5, NULL, NULL };
    struct perm_node dir = { 3, S_IFDIR | 0000, 5, 5, NULL, NULL };
    ck_assert_int_eq(perm_access(R, &file, PERM_READ | PERM_WRITE), 0);
    ck_assert_int_eq(perm_access(R, &file, PERM_EXEC), -EACCES);
    ck_assert_int_eq(perm_access(R, &exe, PERM_EXEC), 0);
    ck_assert_int_eq(perm_access(R, &dir, PERM_EXEC | PERM_WRITE), 0);
    ck_assert_int_eq(perm_access(&A, &exe, PERM_READ), -EACCES);
    struct meta_cred owner = tu_cred(5, 9);
    ck_assert_int_eq(perm_access(&owner, &exe, PERM_EXEC), 0);
    ck_assert(perm_in_group(&A, 100));
    ck_assert(perm_in_group(&A, 1000));
    ck_assert(!perm_in_group(&A, 2000));
}
END_TEST

START_TEST(sticky_dirs)
{
    struct meta_attr t, a;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "tmp", 01777, &t), 0);
    ck_assert_uint_eq(t.mode, S_IFDIR | 01777);
    ck_assert_int_eq(tu_create(&A, t.ino, "a", 0666, NULL), 0);
    ck_assert_int_eq(tu_create(&A, t.ino, "a2", 0666, NULL), 0);
    ck_assert_int_eq(tu_create(&B, t.ino, "b", 0666, NULL), 0);
    ck_assert_int_eq(meta_unlink(tu_m, &B, t.ino, "a", 1, NULL), -EPERM);
    ck_assert_int_eq(meta_rename(tu_m, &B, t.ino, "a", 1, t.ino, "x", 1, 0,
                                 NULL),
                     -EPERM);
    /* Nor may B rename its own file over A's. */
    ck_assert_int_eq(meta_rename(tu_m, &B, t.ino, "b", 1, t.ino, "a", 1, 0,
                                 NULL),
                     -EPERM);
    ck_assert_int_eq(meta_unlink(tu_m, &A, t.ino, "a", 1, NULL), 0);
    ck_assert_int_eq(meta_unlink(tu_m, R, t.ino, "b", 1, NULL), 0);
    /* The directory's owner may. */
    struct meta_attr o;
    ck_assert_int_eq(tu_mkdir(&C, pub, "ctmp", 01777, &o), 0);
    ck_assert_int_eq(tu_create(&A, o.ino, "a", 0666, NULL), 0);
    ck_assert_int_eq(meta_unlink(tu_m, &B, o.ino, "a", 1, NULL), -EPERM);
    ck_assert_int_eq(meta_unlink(tu_m, &C, o.ino, "a", 1, NULL), 0);
    ck_assert_int_eq(meta_lookup(tu_m, &A, t.ino, "a2", 2, &a), 0);
}
END_TEST

START_TEST(setgid_dirs)
{
    struct meta_attr s, f, d, g;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "shared", 02777, &s), 0);
    ck_assert_int_eq(chattr(R, s.ino, META_SET_GID, 0, 0, 100, &s), 0);
    ck_assert_uint_eq(s.mode, S_IFDIR | 02777);
    ck_assert_int_eq(tu_create(&C, s.ino, "f", 0644, &f), 0);
    ck_assert_uint_eq(f.gid, 100);
    ck_assert_uint_eq(f.uid, 3000);
    ck_assert_uint_eq(f.mode, S_IFREG | 0644);
    ck_assert_int_eq(tu_mkdir(&C, s.ino, "d", 0755, &d), 0);
    ck_assert_uint_eq(d.gid, 100);
    ck_assert_uint_eq(d.mode, S_IFDIR | 02755);
    ck_assert_int_eq(tu_mkdir(&C, d.ino, "dd", 0700, &g), 0);
    ck_assert_uint_eq(g.gid, 100);
    ck_assert_uint_eq(g.mode, S_IFDIR | 02700);
    /* A setgid file from a caller outside the group loses the bit; a
     * member keeps it. */
    ck_assert_int_eq(tu_create(&C, s.ino, "sg", 02755, &g), 0);
    ck_assert_uint_eq(g.mode, S_IFREG | 0755);
    ck_assert_int_eq(tu_create(&A, s.ino, "sg2", 02755, &g), 0);
    ck_assert_uint_eq(g.mode, S_IFREG | 02755);
    ck_assert_uint_eq(g.gid, 100);
    /* Outside setgid directories the caller's group is used. */
    ck_assert_int_eq(tu_create(&C, pub, "plain", 02755, &g), 0);
    ck_assert_uint_eq(g.gid, 3000);
    ck_assert_uint_eq(g.mode, S_IFREG | 02755);
}
END_TEST

START_TEST(chmod_rules)
{
    struct meta_attr f, a;
    ck_assert_int_eq(tu_create(&A, pub, "f", 0644, &f), 0);
    ck_assert_int_eq(chattr(&B, f.ino, META_SET_MODE, 0777, 0, 0, NULL),
                     -EPERM);
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_MODE, 04755, 0, 0, &a), 0);
    ck_assert_uint_eq(a.mode, S_IFREG | 04755);
    ck_assert_int_eq(chattr(R, f.ino, META_SET_GID, 0, 0, 555, NULL), 0);
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_MODE, 02755, 0, 0, &a), 0);
    ck_assert_uint_eq(a.mode, S_IFREG | 0755);
    ck_assert_int_eq(chattr(R, f.ino, META_SET_MODE, 06755, 0, 0, &a), 0);
    ck_assert_uint_eq(a.mode, S_IFREG | 06755);
    /* Type bits in the request are ignored. */
    ck_assert_int_eq(chattr(R, f.ino, META_SET_MODE, S_IFDIR | 0600, 0, 0,
                            &a), 0);
    ck_assert_uint_eq(a.mode, S_IFREG | 0600);
}
END_TEST

START_TEST(chown_rules)
{
    struct meta_attr f, a;
    ck_assert_int_eq(tu_create(&A, pub, "f", 0644, &f), 0);
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_UID, 0, 2000, 0, NULL),
                     -EPERM);
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_UID, 0, 1000, 0, NULL), 0);
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_GID, 0, 0, 100, &a), 0);
    ck_assert_uint_eq(a.gid, 100);
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_GID, 0, 0, 3000, NULL),
                     -EPERM);
    ck_assert_int_eq(chattr(&B, f.ino, META_SET_GID, 0, 0, 100, NULL),
                     -EPERM);
    ck_assert_int_eq(chattr(&B, f.ino, META_SET_GID, 0, 0, 2000, NULL),
                     -EPERM);
    ck_assert_int_eq(chattr(R, f.ino, META_SET_UID | META_SET_GID, 0, 4000,
                            4000, &a), 0);
    ck_assert_uint_eq(a.uid, 4000);
    ck_assert_uint_eq(a.gid, 4000);

    /* Setuid goes on chown; setgid too when group-executable. */
    ck_assert_int_eq(tu_create(&A, pub, "s", 0644, &f), 0);
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_MODE, 06755, 0, 0, NULL), 0);
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_GID, 0, 0, 100, &a), 0);
    ck_assert_uint_eq(a.mode, S_IFREG | 0755);
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_MODE, 06745, 0, 0, NULL), 0);
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_GID, 0, 0, 1000, &a), 0);
    ck_assert_uint_eq(a.mode, S_IFREG | 02745);
    /* Directories keep theirs. */
    struct meta_attr d;
    ck_assert_int_eq(tu_mkdir(&A, pub, "d", 02755, &d), 0);
    ck_assert_int_eq(chattr(&A, d.ino, META_SET_GID, 0, 0, 100, &a), 0);
    ck_assert_uint_eq(a.mode, S_IFDIR | 02755);
}
END_TEST

START_TEST(utimes_rules)
{
    struct meta_attr f, a;
    ck_assert_int_eq(tu_create(&A, pub, "f", 0664, &f), 0);
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_GID, 0, 0, 100, NULL), 0);
    struct meta_setattr now = { 0 }, given = { 0 };
    now.atime.how = now.mtime.how = META_TIME_SERVER;
    given.mtime = (struct meta_settime){ META_TIME_CLIENT, { 5, 0 } };
    ck_assert_int_eq(meta_setattr(tu_m, &B, f.ino, &given, &a), -EPERM);
    ck_assert_int_eq(meta_setattr(tu_m, &B, f.ino, &now, &a), 0);
    ck_assert_int_eq(meta_setattr(tu_m, &C, f.ino, &now, &a), -EACCES);
    ck_assert_int_eq(meta_setattr(tu_m, &C, f.ino, &given, &a), -EPERM);
    ck_assert_int_eq(meta_setattr(tu_m, &A, f.ino, &given, &a), 0);
    ck_assert_int_eq(a.mtime.sec, 5);
    ck_assert_int_eq(meta_setattr(tu_m, R, f.ino, &given, &a), 0);
    /* Truncation needs write permission, and drops setuid for non-root. */
    struct meta_setattr sz = { .valid = META_SET_SIZE, .size = 10 };
    ck_assert_int_eq(meta_setattr(tu_m, &C, f.ino, &sz, &a), -EACCES);
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_MODE, 04775, 0, 0, NULL), 0);
    ck_assert_int_eq(meta_setattr(tu_m, &B, f.ino, &sz, &a), 0);
    ck_assert_uint_eq(a.size, 10);
    ck_assert_uint_eq(a.mode, S_IFREG | 0775);
    /* A refused setattr changes nothing, even the parts it may do. */
    struct meta_setattr mix = { .valid = META_SET_MODE | META_SET_SIZE,
                                .mode = 0600, .size = 0 };
    ck_assert_int_eq(meta_setattr(tu_m, &C, f.ino, &mix, &a), -EPERM);
    a = tu_attr(f.ino);
    ck_assert_uint_eq(a.size, 10);
    ck_assert_uint_eq(a.mode, S_IFREG | 0775);
}
END_TEST

START_TEST(write_clears_setid)
{
    struct meta_attr f, a;
    ck_assert_int_eq(tu_create(&A, pub, "f", 0644, &f), 0);
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_MODE, 06777, 0, 0, NULL), 0);
    struct meta_commit_block b = { 0, 1, 0, 10, 0 };
    struct meta_settime mt = { META_TIME_SERVER, { 0, 0 } };
    ck_assert_int_eq(meta_commit_write(tu_m, R, f.ino, 0, &b, 1, 10, &mt, &a,
                                       NULL, 0, NULL), 0);
    ck_assert_uint_eq(a.mode, S_IFREG | 06777);
    b = (struct meta_commit_block){ 0, 2, 1, 10, 0 };
    ck_assert_int_eq(meta_commit_write(tu_m, &B, f.ino, 0, &b, 1, 10, &mt, &a,
                                       NULL, 0, NULL), 0);
    ck_assert_uint_eq(a.mode, S_IFREG | 0777);
    /* setgid without group-exec is a mandatory-lock mark: it stays. */
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_MODE, 06767, 0, 0, NULL), 0);
    b = (struct meta_commit_block){ 0, 3, 2, 10, 0 };
    ck_assert_int_eq(meta_commit_write(tu_m, &A, f.ino, 0, &b, 1, 10, &mt, &a,
                                       NULL, 0, NULL), 0);
    ck_assert_uint_eq(a.mode, S_IFREG | 02767);
    /* Without write permission (and no open) a commit is refused. */
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_MODE, 0644, 0, 0, NULL), 0);
    b = (struct meta_commit_block){ 0, 4, 3, 10, 0 };
    ck_assert_int_eq(meta_commit_write(tu_m, &C, f.ino, 0, &b, 1, 10, &mt, &a,
                                       NULL, 0, NULL), -EACCES);
    /* A session that opened the file while it could keeps writing. */
    uint64_t s;
    ck_assert_int_eq(meta_session_open(tu_m, "default", "h", "a", &A, &s,
                                       NULL), 0);
    ck_assert_int_eq(meta_open_file(tu_m, &A, f.ino, s, O_WRONLY, &a), 0);
    ck_assert_int_eq(chattr(&A, f.ino, META_SET_MODE, 0444, 0, 0, NULL), 0);
    ck_assert_int_eq(meta_commit_write(tu_m, &A, f.ino, s, &b, 1, 10, &mt, &a,
                                       NULL, 0, NULL), 0);
    ck_assert_int_eq(meta_release(tu_m, f.ino, s), 0);
    b = (struct meta_commit_block){ 0, 5, 4, 10, 0 };
    ck_assert_int_eq(meta_commit_write(tu_m, &A, f.ino, s, &b, 1, 10, &mt, &a,
                                       NULL, 0, NULL), -EACCES);
}
END_TEST

START_TEST(dir_moves_need_write_on_dir)
{
    struct meta_attr d, a;
    ck_assert_int_eq(tu_mkdir(R, pub, "rootdir", 0755, &d), 0);
    ck_assert_int_eq(tu_mkdir(&A, pub, "dst", 0755, &a), 0);
    /* A may rename it within pub, but not move it (its ".." changes). */
    ck_assert_int_eq(meta_rename(tu_m, &A, pub, "rootdir", 7, pub, "r2", 2,
                                 0, NULL),
                     0);
    ck_assert_int_eq(meta_rename(tu_m, &A, pub, "r2", 2, a.ino, "r", 1, 0,
                                 NULL),
                     -EACCES);
    ck_assert_int_eq(tu_mkdir(&A, pub, "own", 0755, &d), 0);
    ck_assert_int_eq(meta_rename(tu_m, &A, pub, "own", 3, a.ino, "own", 3, 0,
                                 NULL),
                     0);
}
END_TEST

static Suite *perm_suite(void)
{
    Suite *s = suite_create("meta_perm");
    TCase *tc = tcase_create("perm");
    tcase_add_checked_fixture(tc, perm_setup, tu_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, directory_access);
    tcase_add_test(tc, open_modes);
    tcase_add_test(tc, root_rules);
    tcase_add_test(tc, sticky_dirs);
    tcase_add_test(tc, setgid_dirs);
    tcase_add_test(tc, chmod_rules);
    tcase_add_test(tc, chown_rules);
    tcase_add_test(tc, utimes_rules);
    tcase_add_test(tc, write_clears_setid);
    tcase_add_test(tc, dir_moves_need_write_on_dir);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(perm_suite());
}
