/* test_meta_blocks.c - unit tests of the metadata core's data side: block
 * maps and commit_write (conflicts, atomicity, validation), truncation,
 * the garbage table, sessions and leases, opens and the lifetime of
 * unlinked-but-open files, durability across a crash (a child process
 * that exits without closing) and restarts, and concurrent writers. */
#include "config.h"
#include "meta_testutil.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static const struct meta_cred *R = &tu_rootcred;

static int commit(uint64_t ino, const struct meta_commit_block *b, uint32_t n,
                  uint64_t end, struct meta_attr *out)
{
    struct meta_settime mt = { META_TIME_SERVER, { 0, 0 } };
    struct meta_block conf[8];
    uint32_t nconf;
    struct meta_attr a;
    return meta_commit_write(tu_m, R, ino, 0, b, n, end, &mt, out ? out : &a,
                             conf, 8, &nconf);
}

static uint32_t blocks_of(uint64_t ino, struct meta_block *out, uint32_t max)
{
    uint32_t n = 0;
    struct meta_attr a;
    ck_assert_int_eq(meta_get_blocks(tu_m, R, ino, 0, UINT32_MAX, out, max,
                                     &n, &a), 0);
    return n;
}

static int64_t now_sec(void)
{
    return (int64_t)time(NULL);
}

/* ---- block maps ---- */

START_TEST(commit_and_get)
{
    struct meta_attr f, a;
    ck_assert_int_eq(tu_create(R, tu_root, "f", 0644, &f), 0);
    struct meta_commit_block b[] = {
        { 0, 11, 0, TU_BS, 0 }, { 2, 12, 0, 100, 0 },
    };
    ck_assert_int_eq(commit(f.ino, b, 2, 2 * (uint64_t)TU_BS + 100, &a), 0);
    ck_assert_uint_eq(a.size, 2 * (uint64_t)TU_BS + 100);
    ck_assert_uint_eq(a.blocks, (TU_BS + 100 + 511) / 512);
    ck_assert_uint_gt(a.change, f.change);

    struct meta_block got[8];
    uint32_t n = 0;
    ck_assert_int_eq(blocks_of(f.ino, got, 8), 2);
    ck_assert_uint_eq(got[0].index, 0);
    ck_assert_uint_eq(got[0].version, 11);
    ck_assert_uint_eq(got[0].length, TU_BS);
    ck_assert_uint_eq(got[1].index, 2);
    ck_assert_uint_eq(got[1].version, 12);
    ck_assert_uint_eq(got[1].length, 100);
    /* Ranges and the max. */
    ck_assert_int_eq(meta_get_blocks(tu_m, R, f.ino, 1, 1, got, 8, &n, &a), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(meta_get_blocks(tu_m, R, f.ino, 1, 5, got, 8, &n, &a), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(got[0].index, 2);
    ck_assert_int_eq(meta_get_blocks(tu_m, R, f.ino, 0, 5, got, 1, &n, &a), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(got[0].index, 0);
    ck_assert_uint_eq(a.size, 2 * (uint64_t)TU_BS + 100);

    /* A commit never shrinks the file. */
    struct meta_commit_block b2 = { 0, 13, 11, 10, 0 };
    ck_assert_int_eq(commit(f.ino, &b2, 1, 10, &a), 0);
    ck_assert_uint_eq(a.size, 2 * (uint64_t)TU_BS + 100);
    ck_assert_uint_eq(a.blocks, (10 + 100 + 511) / 512);

    struct meta_statfs st;
    ck_assert_int_eq(meta_statfs(tu_m, tu_root, &st), 0);
    ck_assert_uint_eq(st.bytes_used, 110);
}
END_TEST

START_TEST(commit_conflict_atomic)
{
    struct meta_attr f, a, before;
    ck_assert_int_eq(tu_create(R, tu_root, "f", 0644, &f), 0);
    struct meta_commit_block b1 = { 0, 100, 0, 50, 0 };
    ck_assert_int_eq(commit(f.ino, &b1, 1, 50, &before), 0);
    uint64_t garbage0 = meta_garbage_count(tu_m);

    /* Block 0 moved on (base 0 is stale); block 1 is fine: neither goes. */
    struct meta_commit_block b[] = {
        { 1, 201, 0, 10, 0 }, { 0, 200, 0, 4096, 0 },
    };
    struct meta_block conf[4];
    uint32_t nconf = 99;
    struct meta_settime mt = { META_TIME_SERVER, { 0, 0 } };
    ck_assert_int_eq(meta_commit_write(tu_m, R, f.ino, 0, b, 2,
                                       TU_BS + 10, &mt, &a, conf, 4, &nconf),
                     -EAGAIN);
    ck_assert_uint_eq(nconf, 1);
    ck_assert_uint_eq(conf[0].index, 0);
    ck_assert_uint_eq(conf[0].version, 100);
    ck_assert_uint_eq(conf[0].length, 50);
    a = tu_attr(f.ino);
    ck_assert_uint_eq(a.size, 50);
    ck_assert_uint_eq(a.change, before.change);
    struct meta_block got[4];
    ck_assert_uint_eq(blocks_of(f.ino, got, 4), 1);
    ck_assert_uint_eq(got[0].version, 100);
    ck_assert_uint_eq(meta_garbage_count(tu_m), garbage0);

    /* A hole that filled in since: the conflict reports it. */
    struct meta_commit_block h = { 3, 300, 0, 10, 0 };
    ck_assert_int_eq(commit(f.ino, &h, 1, 3 * (uint64_t)TU_BS + 10, NULL), 0);
    struct meta_commit_block h2 = { 3, 301, 0, 10, 0 };
    ck_assert_int_eq(meta_commit_write(tu_m, R, f.ino, 0, &h2, 1,
                                       3 * (uint64_t)TU_BS + 10, &mt, &a,
                                       conf, 4, &nconf), -EAGAIN);
    ck_assert_uint_eq(nconf, 1);
    ck_assert_uint_eq(conf[0].version, 300);
    /* And a block that became a hole (truncated away) conflicts too. */
    struct meta_setattr sa = { .valid = META_SET_SIZE, .size = 0 };
    ck_assert_int_eq(meta_setattr(tu_m, R, f.ino, &sa, &a), 0);
    struct meta_commit_block h3 = { 3, 302, 300, 10, 0 };
    ck_assert_int_eq(meta_commit_write(tu_m, R, f.ino, 0, &h3, 1,
                                       3 * (uint64_t)TU_BS + 10, &mt, &a,
                                       conf, 4, &nconf), -EAGAIN);
    ck_assert_uint_eq(conf[0].version, 0);
    ck_assert_uint_eq(conf[0].length, 0);
    /* The re-merged commit with the right bases goes through. */
    b[0].base_version = 0;
    b[1].base_version = 0;
    ck_assert_int_eq(commit(f.ino, b, 2, TU_BS + 10, &a), 0);
    ck_assert_uint_eq(a.size, TU_BS + 10);
}
END_TEST

/* A truncate cuts a block's valid length without a new version.  A
 * writer that merged the longer base before the cut must not commit it
 * back after the file grew again: the cut bytes would reappear where
 * POSIX wants zeros. */
START_TEST(commit_truncated_base)
{
    struct meta_attr f, a;
    ck_assert_int_eq(tu_create(R, tu_root, "f", 0644, &f), 0);
    struct meta_commit_block b1 = { 0, 100, 0, 3000, 0 };
    ck_assert_int_eq(commit(f.ino, &b1, 1, 3000, NULL), 0);
    struct meta_setattr down = { .valid = META_SET_SIZE, .size = 1000 };
    struct meta_setattr up = { .valid = META_SET_SIZE, .size = 3000 };
    ck_assert_int_eq(meta_setattr(tu_m, R, f.ino, &down, &a), 0);
    ck_assert_int_eq(meta_setattr(tu_m, R, f.ino, &up, &a), 0);

    /* Merged 3000 bytes of version 100, which now holds 1000. */
    struct meta_commit_block late = { 0, 101, 100, 3000, 3000 };
    struct meta_block conf[4];
    uint32_t nconf = 0;
    struct meta_settime mt = { META_TIME_SERVER, { 0, 0 } };
    ck_assert_int_eq(meta_commit_write(tu_m, R, f.ino, 0, &late, 1, 2000,
                                       &mt, &a, conf, 4, &nconf), -EAGAIN);
    ck_assert_uint_eq(nconf, 1);
    ck_assert_uint_eq(conf[0].version, 100);
    ck_assert_uint_eq(conf[0].length, 1000);
    struct meta_block got[2];
    ck_assert_uint_eq(blocks_of(f.ino, got, 2), 1);
    ck_assert_uint_eq(got[0].version, 100);
    ck_assert_uint_eq(got[0].length, 1000);

    /* Merged again from what is there: it goes through. */
    late.base_length = 1000;
    ck_assert_int_eq(meta_commit_write(tu_m, R, f.ino, 0, &late, 1, 2000,
                                       &mt, &a, conf, 4, &nconf), 0);
    ck_assert_uint_eq(a.size, 3000);
    /* So does a writer that merged less than the base holds. */
    struct meta_commit_block less = { 0, 102, 101, 3000, 500 };
    ck_assert_int_eq(commit(f.ino, &less, 1, 3000, NULL), 0);
}
END_TEST

START_TEST(commit_validation)
{
    struct meta_attr f, d, a;
    ck_assert_int_eq(tu_create(R, tu_root, "f", 0644, &f), 0);
    ck_assert_int_eq(tu_mkdir(R, tu_root, "d", 0755, &d), 0);
    struct meta_commit_block ok = { 0, 5, 0, 10, 0 };
    struct meta_commit_block zero = { 0, 0, 0, 10, 0 };
    struct meta_commit_block same = { 0, 7, 7, 10, 0 };
    struct meta_commit_block big = { 0, 5, 0, TU_BS + 1, 0 };
    struct meta_commit_block empty = { 0, 5, 0, 0, 0 };
    struct meta_commit_block past = { 5, 5, 0, 10, 0 };
    struct meta_commit_block dup[] = { { 0, 5, 0, 10, 0 }, { 0, 6, 0, 10, 0 } };
    ck_assert_int_eq(commit(f.ino, &zero, 1, 10, NULL), -EINVAL);
    ck_assert_int_eq(commit(f.ino, &same, 1, 10, NULL), -EINVAL);
    ck_assert_int_eq(commit(f.ino, &big, 1, TU_BS + 1, NULL), -EINVAL);
    ck_assert_int_eq(commit(f.ino, &empty, 1, 10, NULL), -EINVAL);
    ck_assert_int_eq(commit(f.ino, &past, 1, 10, NULL), -EINVAL);
    ck_assert_int_eq(commit(f.ino, dup, 2, 10, NULL), -EINVAL);
    ck_assert_int_eq(commit(d.ino, &ok, 1, 10, NULL), -EISDIR);
    ck_assert_int_eq(commit(424242, &ok, 1, 10, NULL), -ESTALE);
    struct meta_mk mk = { "fifo", 4, S_IFIFO | 0644, 0, 0, NULL };
    ck_assert_int_eq(meta_mknod(tu_m, R, tu_root, &mk, &a, NULL), 0);
    ck_assert_int_eq(commit(a.ino, &ok, 1, 10, NULL), -EINVAL);
    struct meta_block got[2];
    uint32_t n;
    ck_assert_int_eq(meta_get_blocks(tu_m, R, d.ino, 0, 1, got, 2, &n, &a),
                     -EISDIR);
    ck_assert_int_eq(meta_get_blocks(tu_m, R, 424242, 0, 1, got, 2, &n, &a),
                     -ESTALE);
    ck_assert_uint_eq(tu_attr(f.ino).size, 0);
    ck_assert_int_eq(commit(f.ino, &ok, 1, 10, NULL), 0);
}
END_TEST

/* Version 0 with length 0 makes a block a hole (a punched range): its
 * version goes to the garbage, its bytes leave the count, the size stays;
 * a hole over a hole or past the end changes nothing; the base check
 * holds as for data. */
START_TEST(commit_holes)
{
    struct meta_attr f, a;
    ck_assert_int_eq(tu_create(R, tu_root, "f", 0644, &f), 0);
    struct meta_commit_block b[] = { { 0, 11, 0, TU_BS, 0 },
                                     { 1, 12, 0, 100, 0 } };
    ck_assert_int_eq(commit(f.ino, b, 2, (uint64_t)TU_BS + 100, NULL), 0);
    uint64_t garbage = meta_garbage_count(tu_m);

    struct meta_commit_block bad = { 0, 0, 11, 10, 0 };
    ck_assert_int_eq(commit(f.ino, &bad, 1, 0, NULL), -EINVAL);
    struct meta_commit_block stale = { 0, 0, 10, 0, 0 };
    ck_assert_int_eq(commit(f.ino, &stale, 1, 0, NULL), -EAGAIN);
    struct meta_commit_block hole[] = { { 0, 0, 11, 0, 0 },
                                        { 7, 0, 0, 0, 0 } };
    ck_assert_int_eq(commit(f.ino, hole, 2, 0, &a), 0);
    ck_assert_uint_eq(a.size, (uint64_t)TU_BS + 100);
    ck_assert_uint_eq(a.blocks, 1);
    ck_assert_uint_eq(meta_garbage_count(tu_m), garbage + 1);
    struct meta_block got[4];
    ck_assert_int_eq(blocks_of(f.ino, got, 4), 1);
    ck_assert_uint_eq(got[0].index, 1);

    struct meta_commit_block again = { 0, 0, 0, 0, 0 };
    ck_assert_int_eq(commit(f.ino, &again, 1, 0, &a), 0);
    ck_assert_uint_eq(meta_garbage_count(tu_m), garbage + 1);
    ck_assert_int_eq(blocks_of(f.ino, got, 4), 1);
    ck_assert_uint_eq(a.size, (uint64_t)TU_BS + 100);
}
END_TEST

/* ---- garbage and truncation ---- */

START_TEST(garbage_table)
{
    struct meta_attr f;
    struct meta_volume v;
    ck_assert_int_eq(meta_volume_get(tu_m, "default", &v), 0);
    ck_assert_int_eq(tu_create(R, tu_root, "f", 0644, &f), 0);
    struct meta_commit_block b1 = { 4, 41, 0, 10, 0 };
    ck_assert_int_eq(commit(f.ino, &b1, 1, 4 * (uint64_t)TU_BS + 10, NULL), 0);
    ck_assert_uint_eq(meta_garbage_count(tu_m), 0);
    struct meta_commit_block b2 = { 4, 42, 41, 20, 0 };
    ck_assert_int_eq(commit(f.ino, &b2, 1, 4 * (uint64_t)TU_BS + 20, NULL), 0);
    ck_assert_uint_eq(meta_garbage_count(tu_m), 1);

    struct meta_garbage g[4];
    ck_assert_int_eq(meta_garbage_list(tu_m, now_sec() - 60, g, 4), 0);
    ck_assert_int_eq(meta_garbage_list(tu_m, now_sec() + 1, g, 4), 1);
    ck_assert_uint_eq(g[0].volume, v.id);
    ck_assert_uint_eq(g[0].ino, f.ino);
    ck_assert_uint_eq(g[0].index, 4);
    ck_assert_uint_eq(g[0].version, 41);
    ck_assert_int_eq(meta_garbage_done(tu_m, &g[0].id, 1), 0);
    ck_assert_uint_eq(meta_garbage_count(tu_m), 0);
    ck_assert_int_eq(meta_garbage_list(tu_m, now_sec() + 1, g, 4), 0);
    /* Forgetting twice is harmless. */
    ck_assert_int_eq(meta_garbage_done(tu_m, &g[0].id, 1), 0);

    /* Unlinking a file sends all its blocks. */
    ck_assert_int_eq(tu_unlink(tu_root, "f"), 0);
    ck_assert_int_eq(meta_garbage_list(tu_m, now_sec() + 1, g, 4), 1);
    ck_assert_uint_eq(g[0].version, 42);
    /* max bounds the list. */
    struct meta_attr f2;
    ck_assert_int_eq(tu_create(R, tu_root, "f2", 0644, &f2), 0);
    struct meta_commit_block bs[] = { { 0, 1, 0, 1, 0 }, { 1, 2, 0, 1, 0 },
                                      { 2, 3, 0, 1, 0 } };
    ck_assert_int_eq(commit(f2.ino, bs, 3, 2 * (uint64_t)TU_BS + 1, NULL), 0);
    ck_assert_int_eq(tu_unlink(tu_root, "f2"), 0);
    ck_assert_uint_eq(meta_garbage_count(tu_m), 4);
    ck_assert_int_eq(meta_garbage_list(tu_m, now_sec() + 1, g, 2), 2);
}
END_TEST

START_TEST(truncation)
{
    struct meta_attr f, a;
    ck_assert_int_eq(tu_create(R, tu_root, "f", 0644, &f), 0);
    struct meta_commit_block b[] = {
        { 0, 1, 0, TU_BS, 0 }, { 1, 2, 0, TU_BS, 0 }, { 2, 3, 0, TU_BS, 0 },
    };
    ck_assert_int_eq(commit(f.ino, b, 3, 3 * (uint64_t)TU_BS, &a), 0);
    ck_assert_uint_eq(a.blocks, 3 * (uint64_t)TU_BS / 512);
    struct meta_attr before = a;
    usleep(2000);

    struct meta_setattr sa = { .valid = META_SET_SIZE,
                               .size = TU_BS + TU_BS / 2 };
    ck_assert_int_eq(meta_setattr(tu_m, R, f.ino, &sa, &a), 0);
    ck_assert_uint_eq(a.size, TU_BS + TU_BS / 2);
    ck_assert_uint_eq(a.blocks, (TU_BS + TU_BS / 2) / 512);
    ck_assert(a.mtime.sec > before.mtime.sec ||
              a.mtime.nsec != before.mtime.nsec);
    ck_assert_uint_gt(a.change, before.change);
    struct meta_block got[4];
    ck_assert_uint_eq(blocks_of(f.ino, got, 4), 2);
    ck_assert_uint_eq(got[1].index, 1);
    ck_assert_uint_eq(got[1].version, 2);
    ck_assert_uint_eq(got[1].length, TU_BS / 2);
    ck_assert_uint_eq(meta_garbage_count(tu_m), 1);

    /* Growing only sets the size. */
    sa.size = 10 * (uint64_t)TU_BS;
    ck_assert_int_eq(meta_setattr(tu_m, R, f.ino, &sa, &a), 0);
    ck_assert_uint_eq(a.size, 10 * (uint64_t)TU_BS);
    ck_assert_uint_eq(blocks_of(f.ino, got, 4), 2);
    ck_assert_uint_eq(got[1].length, TU_BS / 2);
    /* Exactly at a block boundary: the block before stays whole. */
    sa.size = TU_BS;
    ck_assert_int_eq(meta_setattr(tu_m, R, f.ino, &sa, &a), 0);
    ck_assert_uint_eq(blocks_of(f.ino, got, 4), 1);
    ck_assert_uint_eq(got[0].length, TU_BS);
    sa.size = 0;
    ck_assert_int_eq(meta_setattr(tu_m, R, f.ino, &sa, &a), 0);
    ck_assert_uint_eq(blocks_of(f.ino, got, 4), 0);
    ck_assert_uint_eq(a.blocks, 0);
    ck_assert_uint_eq(meta_garbage_count(tu_m), 3);
    struct meta_statfs st;
    ck_assert_int_eq(meta_statfs(tu_m, tu_root, &st), 0);
    ck_assert_uint_eq(st.bytes_used, 0);

    struct meta_attr d;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "d", 0755, &d), 0);
    ck_assert_int_eq(meta_setattr(tu_m, R, d.ino, &sa, &a), -EISDIR);
    sa.size = (uint64_t)INT64_MAX + 1;
    ck_assert_int_eq(meta_setattr(tu_m, R, f.ino, &sa, &a), -EFBIG);
}
END_TEST

START_TEST(open_and_create_trunc)
{
    struct meta_attr f, a, d, l;
    uint64_t s;
    ck_assert_int_eq(meta_session_open(tu_m, "default", "host", "127.0.0.1",
                                       R, &s, NULL), 0);
    ck_assert_int_eq(tu_create(R, tu_root, "f", 0644, &f), 0);
    struct meta_commit_block b = { 0, 9, 0, 100, 0 };
    ck_assert_int_eq(commit(f.ino, &b, 1, 100, NULL), 0);
    ck_assert_int_eq(meta_open_file(tu_m, R, f.ino, s, O_RDONLY, &a), 0);
    ck_assert_uint_eq(a.size, 100);
    ck_assert_int_eq(meta_open_file(tu_m, R, f.ino, s, O_WRONLY | O_TRUNC,
                                    &a), 0);
    ck_assert_uint_eq(a.size, 0);
    ck_assert_uint_eq(meta_garbage_count(tu_m), 1);
    ck_assert_int_eq(commit(f.ino, &b, 1, 100, NULL), 0);

    /* CREATE with TRUNC on an existing file. */
    struct meta_mk mk = { "f", 1, S_IFREG | 0644, 0, 0, NULL };
    int created = -1;
    ck_assert_int_eq(meta_create(tu_m, R, tu_root, &mk, META_CREATE_TRUNC, s,
                                 &a, &created, NULL), 0);
    ck_assert_int_eq(created, 0);
    ck_assert_uint_eq(a.ino, f.ino);
    ck_assert_uint_eq(a.size, 0);
    ck_assert_uint_eq(meta_garbage_count(tu_m), 2);

    ck_assert_int_eq(tu_mkdir(R, tu_root, "d", 0755, &d), 0);
    ck_assert_int_eq(meta_open_file(tu_m, R, d.ino, s, O_RDONLY, &a), 0);
    ck_assert_int_eq(meta_release(tu_m, d.ino, s), 0);
    ck_assert_int_eq(meta_open_file(tu_m, R, d.ino, s, O_RDWR, &a), -EISDIR);
    ck_assert_int_eq(meta_symlink(tu_m, R, tu_root, "l", 1, "f", &l, NULL), 0);
    ck_assert_int_eq(meta_open_file(tu_m, R, l.ino, s, O_RDONLY, &a), -ELOOP);
    ck_assert_int_eq(meta_open_file(tu_m, R, 555555, s, O_RDONLY, &a),
                     -ESTALE);
    ck_assert_int_eq(meta_open_file(tu_m, R, f.ino, 555555, O_RDONLY, &a),
                     -ESTALE);
    ck_assert_int_eq(meta_open_file(tu_m, R, f.ino, s, O_ACCMODE, &a),
                     -EINVAL);
    ck_assert_int_eq(meta_create(tu_m, R, tu_root, &mk, 0, 555555, &a,
                                 &created, NULL), -ESTALE);
    /* Releases: one per open; more are harmless. */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(meta_release(tu_m, f.ino, s), 0);
    ck_assert_int_eq(meta_release(tu_m, f.ino, s), 0);
    ck_assert_int_eq(meta_release(tu_m, 555555, s), -ESTALE);
}
END_TEST

/* ---- unlinked but open ---- */

START_TEST(unlinked_open_release)
{
    struct meta_attr f, a;
    uint64_t s;
    ck_assert_int_eq(meta_session_open(tu_m, "default", "h", "a", R, &s,
                                       NULL), 0);
    struct meta_mk mk = { "f", 1, S_IFREG | 0644, 0, 0, NULL };
    int created;
    ck_assert_int_eq(meta_create(tu_m, R, tu_root, &mk, 0, s, &f, &created,
                                 NULL),
                     0);
    ck_assert_int_eq(meta_open_file(tu_m, R, f.ino, s, O_RDONLY, &a), 0);
    struct meta_commit_block b = { 0, 3, 0, 10, 0 };
    ck_assert_int_eq(commit(f.ino, &b, 1, 10, NULL), 0);
    ck_assert_int_eq(tu_unlink(tu_root, "f"), 0);
    a = tu_attr(f.ino);
    ck_assert_uint_eq(a.nlink, 0);
    ck_assert_uint_eq(a.size, 10);
    ck_assert_uint_eq(meta_garbage_count(tu_m), 0);
    /* Still writable through the open. */
    struct meta_commit_block b2 = { 0, 4, 3, 20, 0 };
    ck_assert_int_eq(meta_commit_write(tu_m, R, f.ino, s, &b2, 1, 20, NULL,
                                       &a, NULL, 0, NULL), 0);
    ck_assert_int_eq(meta_link(tu_m, R, f.ino, tu_root, "again", 5, &a, NULL),
                     -ENOENT);
    ck_assert_int_eq(meta_release(tu_m, f.ino, s), 0);
    ck_assert_uint_eq(tu_attr(f.ino).nlink, 0);
    ck_assert_int_eq(meta_release(tu_m, f.ino, s), 0);
    ck_assert_int_eq(meta_getattr(tu_m, R, f.ino, &a), -ESTALE);
    struct meta_garbage g[4];
    ck_assert_int_eq(meta_garbage_list(tu_m, now_sec() + 1, g, 4), 2);
    ck_assert_uint_eq(g[0].version, 3);
    ck_assert_uint_eq(g[1].version, 4);
    struct meta_statfs st;
    ck_assert_int_eq(meta_statfs(tu_m, tu_root, &st), 0);
    ck_assert_uint_eq(st.files, 1);
    ck_assert_uint_eq(st.bytes_used, 0);
}
END_TEST

START_TEST(unlinked_open_sessions_end)
{
    struct meta_attr f, g, a;
    uint64_t s1, s2;
    ck_assert_int_eq(meta_session_open(tu_m, "default", "h1", "a", R, &s1,
                                       NULL), 0);
    ck_assert_int_eq(meta_session_open(tu_m, "default", "h2", "b", R, &s2,
                                       NULL), 0);
    ck_assert_uint_gt(s2, s1);
    ck_assert_int_eq(tu_create(R, tu_root, "f", 0644, &f), 0);
    ck_assert_int_eq(tu_create(R, tu_root, "g", 0644, &g), 0);
    struct meta_commit_block b = { 0, 3, 0, 10, 0 };
    ck_assert_int_eq(commit(f.ino, &b, 1, 10, NULL), 0);
    ck_assert_int_eq(meta_open_file(tu_m, R, f.ino, s1, O_RDWR, &a), 0);
    ck_assert_int_eq(meta_open_file(tu_m, R, f.ino, s1, O_RDWR, &a), 0);
    ck_assert_int_eq(meta_open_file(tu_m, R, f.ino, s2, O_RDONLY, &a), 0);
    ck_assert_int_eq(meta_open_file(tu_m, R, g.ino, s2, O_RDONLY, &a), 0);

    /* Renamed over while open: the target lives on too. */
    ck_assert_int_eq(tu_rename(tu_root, "f", tu_root, "g", 0), 0);
    ck_assert_uint_eq(tu_attr(g.ino).nlink, 0);
    ck_assert_int_eq(tu_unlink(tu_root, "g"), 0);
    ck_assert_uint_eq(tu_attr(f.ino).nlink, 0);

    ck_assert_int_eq(meta_session_close(tu_m, s1), 0);
    ck_assert_int_eq(meta_session_close(tu_m, s1), -ESTALE);
    ck_assert_uint_eq(tu_attr(f.ino).nlink, 0);
    ck_assert_uint_eq(meta_garbage_count(tu_m), 0);

    /* s2's lease runs out: both inodes go, f's block to garbage. */
    ck_assert_int_eq(meta_session_expire(tu_m, now_sec()), 0);
    ck_assert_int_eq(meta_session_expire(tu_m, now_sec() + TU_LEASE + 2), 1);
    ck_assert_int_eq(meta_getattr(tu_m, R, f.ino, &a), -ESTALE);
    ck_assert_int_eq(meta_getattr(tu_m, R, g.ino, &a), -ESTALE);
    ck_assert_uint_eq(meta_garbage_count(tu_m), 1);
    ck_assert_int_eq(meta_session_renew(tu_m, s2), -ESTALE);
    ck_assert_int_eq(meta_release(tu_m, f.ino, s2), -ESTALE);
}
END_TEST

/* ---- sessions ---- */

START_TEST(sessions)
{
    uint64_t s1, s2;
    struct meta_volume v;
    struct meta_cred c = tu_cred(1000, 1000);
    ck_assert_int_eq(meta_session_open(tu_m, "nope", "h", "a", &c, &s1, &v),
                     -ENOENT);
    ck_assert_int_eq(meta_session_open(tu_m, "default", "h", "a", &c, &s1,
                                       &v), 0);
    ck_assert_uint_ge(s1, 1);
    ck_assert_uint_eq(v.root, tu_root);
    ck_assert_uint_eq(v.block_size, TU_BS);
    ck_assert_str_eq(v.name, "default");
    ck_assert_uint_eq(meta_lease_secs(tu_m), TU_LEASE);
    ck_assert_int_eq(meta_session_renew(tu_m, s1), 0);
    ck_assert_int_eq(meta_session_renew(tu_m, s1 + 1000), -ESTALE);
    ck_assert_int_eq(meta_session_close(tu_m, s1), 0);
    ck_assert_int_eq(meta_session_renew(tu_m, s1), -ESTALE);
    ck_assert_int_eq(meta_session_open(tu_m, "default", NULL, NULL, &c, &s2,
                                       &v), 0);
    ck_assert_uint_gt(s2, s1);
    char longname[300];
    memset(longname, 'h', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    ck_assert_int_eq(meta_session_open(tu_m, "default", longname, "a", &c,
                                       &s1, &v), -ENAMETOOLONG);

    /* A restart: ids keep growing, leases run from the restart. */
    meta_close(tu_m);
    tu_m = tu_reopen(1);
    ck_assert_int_eq(meta_session_renew(tu_m, s2), 0);
    ck_assert_int_eq(meta_session_expire(tu_m, now_sec() + TU_LEASE - 2), 0);
    uint64_t s3;
    ck_assert_int_eq(meta_session_open(tu_m, "default", "h", "a", &c, &s3,
                                       &v), 0);
    ck_assert_uint_gt(s3, s2);
    ck_assert_int_eq(meta_session_expire(tu_m, now_sec() + TU_LEASE + 2), 2);
}
END_TEST

START_TEST(lease_runs_out)
{
    /* A real lease of one second; a renew after it is refused. */
    meta_close(tu_m);
    struct meta_opts o = { .dir = tu_dir, .lease_secs = 1 };
    ck_assert_int_eq(meta_open(&o, &tu_m), 0);
    meta_test_nosync(tu_m);
    uint64_t s;
    struct meta_attr f, a;
    ck_assert_int_eq(meta_session_open(tu_m, "default", "h", "a", R, &s,
                                       NULL), 0);
    ck_assert_int_eq(tu_create(R, tu_root, "f", 0644, &f), 0);
    usleep(2100 * 1000);
    ck_assert_int_eq(meta_session_renew(tu_m, s), -ESTALE);
    ck_assert_int_eq(meta_open_file(tu_m, R, f.ino, s, O_RDONLY, &a),
                     -ESTALE);
    ck_assert_int_eq(meta_session_expire(tu_m, now_sec()), 1);
    ck_assert_int_eq(meta_session_close(tu_m, s), -ESTALE);
}
END_TEST

/* ---- durability ---- */

struct crash_report {
    uint64_t dir, file, link, max_ino;
    int rc;
};

/* The child builds a tree and a block map with durable commits, reports
 * what it made and exits without closing anything, like a kill -9. */
static void crash_child(int fd)
{
    struct crash_report r = { 0 };
    struct meta_opts o = { .dir = tu_dir, .default_block_size = TU_BS };
    struct meta *m;
    r.rc = meta_open(&o, &m);
    if (r.rc == 0) {
        tu_m = m;
        struct meta_attr d, f, l;
        uint64_t s;
        struct meta_commit_block b[] = { { 0, 77, 0, TU_BS, 0 }, { 1, 78, 0, 5, 0 } };
        struct meta_volume v;
        r.rc = meta_volume_get(m, "default", &v);
        if (!r.rc)
            r.rc = tu_mkdir(R, v.root, "dir", 0750, &d);
        if (!r.rc)
            r.rc = tu_create(R, d.ino, "file", 0640, &f);
        if (!r.rc)
            r.rc = commit(f.ino, b, 2, TU_BS + 5, NULL);
        if (!r.rc)
            r.rc = meta_symlink(m, R, d.ino, "link", 4, "file", &l, NULL);
        if (!r.rc)
            r.rc = meta_session_open(m, "default", "h", "a", R, &s, NULL);
        if (!r.rc)
            r.rc = meta_open_file(m, R, f.ino, s, O_RDONLY, &f);
        r.dir = d.ino;
        r.file = f.ino;
        r.link = l.ino;
        r.max_ino = l.ino;
    }
    if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
        _exit(2);
    _exit(0);
}

START_TEST(crash_recovery)
{
    meta_close(tu_m);
    tu_m = NULL;
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        crash_child(p[1]);
    }
    close(p[1]);
    struct crash_report r;
    ck_assert_int_eq(read(p[0], &r, sizeof(r)), (ssize_t)sizeof(r));
    close(p[0]);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_int_eq(r.rc, 0);

    /* Reopen with recovery (durable): everything is there. */
    tu_m = tu_reopen(0);
    struct meta_attr a;
    ck_assert_uint_eq(tu_ino(tu_root, "dir"), r.dir);
    ck_assert_uint_eq(tu_ino(r.dir, "file"), r.file);
    a = tu_attr(r.dir);
    ck_assert_uint_eq(a.mode, S_IFDIR | 0750);
    ck_assert_uint_eq(tu_attr(tu_root).nlink, 3);
    a = tu_attr(r.file);
    ck_assert_uint_eq(a.size, TU_BS + 5);
    struct meta_block got[4];
    ck_assert_uint_eq(blocks_of(r.file, got, 4), 2);
    ck_assert_uint_eq(got[0].version, 77);
    ck_assert_uint_eq(got[1].length, 5);
    char buf[64];
    ck_assert_int_eq(meta_readlink(tu_m, R, r.link, buf, sizeof(buf)), 4);
    ck_assert_str_eq(buf, "file");
    struct meta_statfs sf;
    ck_assert_int_eq(meta_statfs(tu_m, tu_root, &sf), 0);
    ck_assert_uint_eq(sf.files, 4);
    ck_assert_uint_eq(sf.bytes_used, TU_BS + 5);
    /* The session came back and holds its open: an unlink keeps it. */
    ck_assert_int_eq(meta_unlink(tu_m, R, r.dir, "file", 4, NULL), 0);
    ck_assert_uint_eq(tu_attr(r.file).nlink, 0);
    ck_assert_int_eq(meta_session_expire(tu_m, now_sec() + 3600), 1);
    ck_assert_int_eq(meta_getattr(tu_m, R, r.file, &a), -ESTALE);
    ck_assert_uint_eq(meta_garbage_count(tu_m), 2);
    /* New inode numbers are past every old one. */
    ck_assert_int_eq(tu_create(R, tu_root, "new", 0644, &a), 0);
    ck_assert_uint_gt(a.ino, r.max_ino);

    /* And after a clean close and reopen, too. */
    uint64_t last = a.ino;
    meta_close(tu_m);
    tu_m = tu_reopen(0);
    ck_assert_uint_eq(tu_ino(tu_root, "new"), last);
    ck_assert_int_eq(tu_create(R, tu_root, "newer", 0644, &a), 0);
    ck_assert_uint_gt(a.ino, last);
    ck_assert_uint_eq(meta_garbage_count(tu_m), 2);
}
END_TEST

/* A child creating files from several threads reports each create once it
 * returned; it is killed (SIGKILL) mid-stream.  Every reported create must
 * survive recovery. */
struct ack_worker {
    struct meta *m;
    uint64_t dir;
    int id, fd;
};

static void *ack_main(void *arg)
{
    struct ack_worker *w = arg;
    for (uint32_t i = 0;; i++) {
        char name[32];
        struct meta_attr a;
        uint32_t tag = (uint32_t)w->id << 24 | i;
        struct meta_mk mk = { name, 0, S_IFREG | 0644, 0, 0, NULL };
        int created;
        mk.namelen = (size_t)snprintf(name, sizeof(name), "k%08x", tag);
        if (meta_create(w->m, R, w->dir, &mk, META_CREATE_EXCL, 0, &a,
                        &created, NULL) != 0 ||
            write(w->fd, &tag, sizeof(tag)) != (ssize_t)sizeof(tag))
            _exit(3);
    }
    return NULL;
}

START_TEST(kill9_midstream)
{
    enum { T = 4, ACKS = 400 };
    meta_close(tu_m);
    tu_m = NULL;
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        struct meta_opts o = { .dir = tu_dir };
        struct meta *m;
        struct meta_volume v;
        if (meta_open(&o, &m) || meta_volume_get(m, "default", &v))
            _exit(2);
        struct ack_worker w[T];
        pthread_t th[T];
        for (int i = 0; i < T; i++) {
            w[i] = (struct ack_worker){ m, v.root, i, p[1] };
            pthread_create(&th[i], NULL, ack_main, &w[i]);
        }
        pause();
        _exit(0);
    }
    close(p[1]);
    uint32_t *acks = malloc(100000 * sizeof(*acks));
    size_t n = 0;
    while (n < 100000) {
        ssize_t r = read(p[0], &acks[n], sizeof(acks[n]));
        if (r != (ssize_t)sizeof(acks[n]))
            break;
        if (++n == ACKS)
            kill(pid, SIGKILL);
    }
    close(p[0]);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    ck_assert_uint_ge(n, ACKS);

    tu_m = tu_reopen(0);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "k%08x", acks[i]);
        ck_assert_msg(tu_ino(tu_root, name) != 0, "lost %s", name);
    }
    free(acks);
}
END_TEST

START_TEST(one_process_per_dir)
{
    struct meta_opts o = { .dir = tu_dir };
    struct meta *m2 = NULL;
    ck_assert_int_eq(meta_open(&o, &m2), -EBUSY);
    o.default_block_size = 12345;
    ck_assert_int_eq(meta_open(&o, &m2), -EINVAL);
}
END_TEST

/* ---- concurrency: deadlocks are retried, nothing is lost ---- */

struct worker {
    uint64_t dir;
    int id, errors;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char name[32], name2[32];
    for (int i = 0; i < 150; i++) {
        struct meta_attr f, a;
        snprintf(name, sizeof(name), "w%d-%d", w->id, i);
        snprintf(name2, sizeof(name2), "r%d-%d", w->id, i);
        struct meta_commit_block b = { 0, (uint64_t)i + 1, 0, 10, 0 };
        struct meta_settime mt = { META_TIME_SERVER, { 0, 0 } };
        uint32_t nconf;
        if (tu_create(R, w->dir, name, 0644, &f) ||
            meta_commit_write(tu_m, R, f.ino, 0, &b, 1, 10, &mt, &a, NULL, 0,
                              &nconf) ||
            meta_rename(tu_m, R, w->dir, name, strlen(name), w->dir, name2,
                        strlen(name2), 0, NULL) ||
            (i % 2 && meta_unlink(tu_m, R, w->dir, name2, strlen(name2),
                                  NULL)))
            w->errors++;
    }
    return NULL;
}

START_TEST(concurrent_writers)
{
    enum { T = 4 };
    struct meta_attr d;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "d", 0755, &d), 0);
    pthread_t th[T];
    struct worker w[T];
    for (int i = 0; i < T; i++) {
        w[i] = (struct worker){ d.ino, i, 0 };
        ck_assert_int_eq(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(w[i].errors, 0);
    }
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < 150; i++) {
            char name[32];
            snprintf(name, sizeof(name), "r%d-%d", t, i);
            ck_assert_int_eq(tu_ino(d.ino, name) != 0, i % 2 == 0);
        }
    }
    struct meta_statfs st;
    ck_assert_int_eq(meta_statfs(tu_m, tu_root, &st), 0);
    ck_assert_uint_eq(st.files, 2 + T * 75);
    ck_assert_uint_eq(st.bytes_used, T * 75 * 10);
    ck_assert_uint_eq(meta_garbage_count(tu_m), T * 75);
}
END_TEST

static Suite *blocks_suite(void)
{
    Suite *s = suite_create("meta_blocks");
    TCase *tc = tcase_create("data");
    tcase_add_checked_fixture(tc, tu_setup, tu_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, commit_and_get);
    tcase_add_test(tc, commit_conflict_atomic);
    tcase_add_test(tc, commit_truncated_base);
    tcase_add_test(tc, commit_validation);
    tcase_add_test(tc, commit_holes);
    tcase_add_test(tc, garbage_table);
    tcase_add_test(tc, truncation);
    tcase_add_test(tc, open_and_create_trunc);
    tcase_add_test(tc, unlinked_open_release);
    tcase_add_test(tc, unlinked_open_sessions_end);
    tcase_add_test(tc, sessions);
    tcase_add_test(tc, lease_runs_out);
    tcase_add_test(tc, crash_recovery);
    tcase_add_test(tc, kill9_midstream);
    tcase_add_test(tc, one_process_per_dir);
    tcase_add_test(tc, concurrent_writers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(blocks_suite());
}
