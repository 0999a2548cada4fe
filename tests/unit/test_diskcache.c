/* test_diskcache.c - unit tests of mount.flexfs's disk block cache
 * (client/diskcache.c): copies read back whole and in parts, across a
 * reopen; a changed byte, in the data or in a CRC, is caught for the part
 * read and the copy dropped; the bound evicts the least recently used,
 * also in the order a reopen recovers; a temporary a crash left goes;
 * one user per directory; incarnations and volumes kept apart; copies
 * that cannot be written are counted and cost nothing else; a block's new
 * version drops its older ones. */
#include "config.h"
#include "blockcache.h"
#include "diskcache.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KIB 1024u
#define MIB (1u << 20)

static char dir[64];
static const uint8_t inc_a[16] = { 1 }, inc_b[16] = { 2 };

static void setup(void)
{
    strcpy(dir, "/tmp/test_diskcache.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static char *pattern(uint64_t seed, uint32_t len)
{
    char *b = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(b);
    for (uint32_t i = 0; i < len; i++)
        b[i] = (char)((i * 131 + seed * 7 + i / 4096) & 0xff);
    return b;
}

static struct dcache *open_dc(const uint8_t *inc, uint64_t vol, uint64_t max)
{
    struct dcache *dc = NULL;
    ck_assert_int_eq(dcache_open(dir, inc, vol, max, &dc), 0);
    return dc;
}

/* 1 when bytes [off, off + len) of key index read back as pattern(index). */
static int reads(struct dcache *dc, uint64_t index, uint32_t stored,
                 uint32_t off, uint32_t len)
{
    struct bkey k = { 5, index, 9 };
    char *want = pattern(index, stored);
    char *buf = malloc(len ? len : 1);
    int rc = dcache_get(dc, &k, off, buf, len);
    int ok = rc == 0 && memcmp(buf, want + off, len) == 0;
    ck_assert(rc == 0 || rc == -ENOENT);
    free(want);
    free(buf);
    return ok;
}

static void put(struct dcache *dc, uint64_t index, uint32_t len)
{
    struct bkey k = { 5, index, 9 };
    char *b = pattern(index, len);
    dcache_put(dc, &k, b, len);
    free(b);
}

/* The path of key index's copy under incarnation inc_a, volume 1. */
static void copy_path(uint64_t index, char *out, size_t len)
{
    snprintf(out, len, "%s/01000000000000000000000000000000-1/05/5-%llx-9",
             dir, (unsigned long long)index);
}

static void flip(uint64_t index, off_t at)
{
    char path[256];
    copy_path(index, path, sizeof path);
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    char c;
    ck_assert_int_eq(pread(fd, &c, 1, at), 1);
    c ^= 0x20;
    ck_assert_int_eq(pwrite(fd, &c, 1, at), 1);
    close(fd);
}

START_TEST(whole_and_parts)
{
    struct dcache *dc = open_dc(inc_a, 1, 64 * MIB);
    ck_assert(!reads(dc, 1, 4 * MIB, 0, 4 * MIB));
    put(dc, 1, 4 * MIB);
    put(dc, 2, 100 * KIB + 3);          /* a last, short chunk */
    put(dc, 3, 0);                      /* nothing to keep but the name */
    ck_assert(reads(dc, 1, 4 * MIB, 0, 4 * MIB));
    ck_assert(reads(dc, 1, 4 * MIB, 0, 1 * MIB));  /* shorter valid length */
    ck_assert(reads(dc, 1, 4 * MIB, 65535, 2));    /* across a chunk border */
    ck_assert(reads(dc, 1, 4 * MIB, 4 * MIB - 1, 1));
    ck_assert(reads(dc, 2, 100 * KIB + 3, 70 * KIB, 30 * KIB + 3));
    /* One byte past what it holds. */
    ck_assert(!reads(dc, 2, 100 * KIB + 3, 70 * KIB, 30 * KIB + 4));
    dcache_close(dc);
    dc = open_dc(inc_a, 1, 64 * MIB);   /* found again by the scan */
    ck_assert(reads(dc, 1, 4 * MIB, 123, 4567));
    ck_assert(reads(dc, 2, 100 * KIB + 3, 0, 100 * KIB + 3));
    struct dcache_stats st;
    dcache_stats(dc, &st);
    ck_assert_uint_eq(st.files, 3);
    ck_assert_uint_eq(st.hits, 2);
    dcache_close(dc);
}
END_TEST

START_TEST(damage_caught)
{
    struct dcache *dc = open_dc(inc_a, 1, 64 * MIB);
    put(dc, 1, 4 * MIB);
    put(dc, 2, 4 * MIB);
    /* Data of chunk 3 of block 1 (header 16 + 64 CRCs = 272 bytes). */
    flip(1, 272 + 3 * 65536 + 10);
    ck_assert(reads(dc, 1, 4 * MIB, 0, 65536));        /* chunk 0 is sound */
    ck_assert(!reads(dc, 1, 4 * MIB, 3 * 65536, 100)); /* chunk 3 is not */
    ck_assert(!reads(dc, 1, 4 * MIB, 0, 65536));       /* and it is gone */
    /* A CRC of block 2. */
    flip(2, 16 + 4 * 7);
    ck_assert(!reads(dc, 2, 4 * MIB, 0, 4 * MIB));
    struct dcache_stats st;
    dcache_stats(dc, &st);
    ck_assert_uint_eq(st.damaged, 2);
    ck_assert_uint_eq(st.files, 0);
    put(dc, 1, 4 * MIB);                /* fetched again, kept again */
    ck_assert(reads(dc, 1, 4 * MIB, 0, 4 * MIB));
    dcache_close(dc);
}
END_TEST

START_TEST(bound_and_order)
{
    struct dcache *dc = open_dc(inc_a, 1, 10 * MIB);
    put(dc, 1, 4 * MIB);
    put(dc, 2, 4 * MIB);
    ck_assert(reads(dc, 1, 4 * MIB, 0, 10));   /* 1 is now the recent one */
    put(dc, 3, 4 * MIB);                        /* 2 must go */
    ck_assert(reads(dc, 1, 4 * MIB, 0, 10));
    ck_assert(!reads(dc, 2, 4 * MIB, 0, 10));
    ck_assert(reads(dc, 3, 4 * MIB, 0, 10));
    struct dcache_stats st;
    dcache_stats(dc, &st);
    ck_assert_uint_le(st.bytes, 10 * MIB);
    ck_assert_uint_eq(st.evictions, 1);
    dcache_close(dc);
    /* A reopen with less room keeps the most recently used (by mtime). */
    sleep(1);
    dc = open_dc(inc_a, 1, 10 * MIB);
    ck_assert(reads(dc, 1, 4 * MIB, 0, 4 * MIB));   /* whole: refreshes mtime */
    dcache_close(dc);
    dc = open_dc(inc_a, 1, 5 * MIB);
    ck_assert(reads(dc, 1, 4 * MIB, 0, 10));
    ck_assert(!reads(dc, 3, 4 * MIB, 0, 10));
    put(dc, 4, 6 * MIB);                /* larger than the bound: not kept */
    ck_assert(!reads(dc, 4, 6 * MIB, 0, 10));
    dcache_close(dc);
}
END_TEST

START_TEST(leftovers_locks_and_names)
{
    struct dcache *dc = open_dc(inc_a, 1, 64 * MIB);
    put(dc, 1, 1 * MIB);
    struct dcache *other = NULL;
    ck_assert_int_eq(dcache_open(dir, inc_a, 1, 64 * MIB, &other), -EBUSY);
    dcache_close(dc);
    /* A crash's temporary and a foreign file go at the next open. */
    char path[256], junk[300];
    copy_path(1, path, sizeof path);
    snprintf(junk, sizeof junk, "%s.x", path);
    ck_assert_int_eq(rename(path, junk), 0);
    char *slash = strrchr(path, '/');
    strcpy(slash, "/.tmp-17");
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("torn", f);
    fclose(f);
    dc = open_dc(inc_a, 1, 64 * MIB);
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_int_eq(access(junk, F_OK), -1);
    ck_assert(!reads(dc, 1, 1 * MIB, 0, 10));
    put(dc, 1, 1 * MIB);
    dcache_close(dc);
    /* Another incarnation or volume sees none of it. */
    dc = open_dc(inc_b, 1, 64 * MIB);
    ck_assert(!reads(dc, 1, 1 * MIB, 0, 10));
    dcache_close(dc);
    dc = open_dc(inc_a, 2, 64 * MIB);
    ck_assert(!reads(dc, 1, 1 * MIB, 0, 10));
    dcache_close(dc);
    dc = open_dc(inc_a, 1, 64 * MIB);
    ck_assert(reads(dc, 1, 1 * MIB, 0, 1 * MIB));
    dcache_close(dc);
}
END_TEST

START_TEST(write_failures_counted)
{
    struct dcache *dc = open_dc(inc_a, 1, 64 * MIB);
    /* The subdirectory of inode 5 becomes a file: no copy can go there. */
    char sub[256];
    snprintf(sub, sizeof sub, "%s/01000000000000000000000000000000-1/05", dir);
    ck_assert_int_eq(rmdir(sub), 0);
    FILE *f = fopen(sub, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    put(dc, 1, 1 * MIB);
    put(dc, 2, 1 * MIB);
    ck_assert(!reads(dc, 1, 1 * MIB, 0, 10));
    struct dcache_stats st;
    dcache_stats(dc, &st);
    ck_assert_uint_eq(st.write_errors, 2);
    ck_assert_uint_eq(st.files, 0);
    ck_assert_uint_eq(st.bytes, 0);
    dcache_close(dc);
}
END_TEST

START_TEST(new_versions_supersede)
{
    struct dcache *dc = open_dc(inc_a, 1, 64 * MIB);
    char *b = pattern(1, 1 * MIB);
    char out[100];
    struct bkey v1 = { 5, 1, 9 }, v2 = { 5, 1, 10 }, other = { 5, 2, 9 };
    dcache_put(dc, &v1, b, 1 * MIB);
    dcache_put(dc, &other, b, 1 * MIB);
    dcache_put(dc, &v2, b, 1 * MIB);    /* a rewrite of block 1 */
    ck_assert_int_eq(dcache_get(dc, &v1, 0, out, sizeof out), -ENOENT);
    ck_assert_int_eq(dcache_get(dc, &v2, 0, out, sizeof out), 0);
    ck_assert_int_eq(dcache_get(dc, &other, 0, out, sizeof out), 0);
    struct dcache_stats st;
    dcache_stats(dc, &st);
    ck_assert_uint_eq(st.files, 2);
    ck_assert_uint_eq(st.superseded, 1);
    char path[256];
    copy_path(1, path, sizeof path);    /* version 9's file */
    ck_assert_int_eq(access(path, F_OK), -1);
    free(b);
    dcache_close(dc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("diskcache");
    TCase *tc = tcase_create("cache");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, whole_and_parts);
    tcase_add_test(tc, damage_caught);
    tcase_add_test(tc, bound_and_order);
    tcase_add_test(tc, leftovers_locks_and_names);
    tcase_add_test(tc, write_failures_counted);
    tcase_add_test(tc, new_versions_supersede);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
