/* test_blockcache.c - unit tests of mount.flexfs's block cache
 * (client/blockcache.c): hits and misses, eviction within the budget,
 * and the spare buffers that evicted entries and flushed dirty blocks
 * leave for the next loads. */
#include "config.h"
#include "blockcache.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1u << 20)

static int loads;

/* Fills the block with a byte derived from its key. */
static int load_pattern(void *arg, const struct bkey *k, char *buf,
                        uint32_t len)
{
    (void)arg;
    loads++;
    memset(buf, (int)(k->index % 100) + 1, len);
    return 0;
}

static int load_fail(void *arg, const struct bkey *k, char *buf, uint32_t len)
{
    (void)arg; (void)k; (void)buf; (void)len;
    return -EIO;
}

static char *get(struct bcache *c, uint64_t index, uint32_t len)
{
    struct bkey k = { 1, index, 7 };
    struct bentry *e = NULL;
    ck_assert_int_eq(bcache_get(c, &k, len, load_pattern, NULL, &e), 0);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_ge(e->len, len);
    ck_assert_int_eq(e->data[len - 1], (int)(index % 100) + 1);
    char *data = e->data;
    bcache_release(c, e);
    return data;
}

START_TEST(hits_misses_eviction)
{
    struct bcache *c;
    ck_assert_int_eq(bcache_create(16 * MIB, &c), 0);
    loads = 0;
    get(c, 0, 4 * MIB);
    get(c, 0, 4 * MIB);
    ck_assert_int_eq(loads, 1);
    for (uint64_t i = 1; i < 8; i++)
        get(c, i, 4 * MIB);
    struct bcache_stats st;
    bcache_stats(c, &st);
    ck_assert_uint_le(st.bytes, 16 * MIB);
    ck_assert_uint_eq(st.hits, 1);
    ck_assert_uint_eq(st.misses, 8);
    /* The oldest went: asking again loads it again. */
    loads = 0;
    get(c, 0, 4 * MIB);
    ck_assert_int_eq(loads, 1);
    /* A failed load leaves nothing behind. */
    struct bkey k = { 1, 99, 7 };
    struct bentry *e = NULL;
    ck_assert_int_eq(bcache_get(c, &k, MIB, load_fail, NULL, &e), -EIO);
    ck_assert_int_eq(bcache_has(c, &k, 1), 0);
    bcache_destroy(c);
}
END_TEST

/* A working set of exactly the budget stays: random access over it loads
 * each block once (with per-entry overhead counted, one block always
 * fell out and every 64th read loaded 4 MiB again). */
START_TEST(exact_fit)
{
    struct bcache *c;
    ck_assert_int_eq(bcache_create(16 * MIB, &c), 0);
    loads = 0;
    unsigned seed = 1;
    for (int i = 0; i < 1000; i++)
        get(c, (uint64_t)(rand_r(&seed) % 4), 4 * MIB);
    ck_assert_int_eq(loads, 4);
    struct bcache_stats st;
    bcache_stats(c, &st);
    ck_assert_uint_eq(st.bytes, 16 * MIB);
    bcache_destroy(c);
}
END_TEST

/* A block read in part four times lately is to be cached whole; another
 * block taking its slot starts the count over. */
START_TEST(partial_reads)
{
    struct bcache *c;
    ck_assert_int_eq(bcache_create(16 * MIB, &c), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(bcache_partial_read(c, 5, 9), 0);
    ck_assert_int_eq(bcache_partial_read(c, 5, 9), 1);
    ck_assert_int_eq(bcache_partial_read(c, 5, 9), 0);  /* counted anew */
    /* Of 64 other blocks over 4 slots some take block 9's (fixed hash). */
    for (uint64_t i = 100; i < 164; i++)
        bcache_partial_read(c, 5, i);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(bcache_partial_read(c, 5, 9), 0);
    bcache_destroy(c);
}
END_TEST

/* An evicted entry's buffer serves the next load of a similar size, and
 * a dirty block's buffer (bcache_buf_alloc), instead of fresh memory. */
START_TEST(spares_reused)
{
    struct bcache *c;
    ck_assert_int_eq(bcache_create(32 * MIB, &c), 0);
    char *first = get(c, 0, 4 * MIB);
    for (uint64_t i = 1; i < 8; i++)
        get(c, i, 4 * MIB);
    /* Full: the next load evicts block 0 and keeps its buffer spare. */
    get(c, 8, 4 * MIB);
    uint32_t cap = 0;
    char *buf = bcache_buf_alloc(c, 4 * MIB, &cap);
    ck_assert_ptr_eq(buf, first);
    ck_assert_uint_eq(cap, 4 * MIB);
    /* Given back, it goes to the next load; the data is the new block's. */
    bcache_buf_free(c, buf, cap);
    get(c, 9, 4 * MIB);
    ck_assert_ptr_eq(get(c, 9, 4 * MIB), first);

    /* A much smaller request gets memory of its own, not a 4 MiB spare. */
    get(c, 10, 4 * MIB);
    buf = bcache_buf_alloc(c, 64 << 10, &cap);
    ck_assert_uint_eq(cap, 64 << 10);
    bcache_buf_free(c, buf, cap);
    /* Inserted buffers are counted at their size, not their valid length. */
    buf = bcache_buf_alloc(c, 4 * MIB, &cap);
    struct bkey k = { 2, 0, 1 };
    bcache_insert(c, &k, buf, cap, 100);
    struct bcache_stats st;
    bcache_stats(c, &st);
    ck_assert_uint_le(st.bytes, 32 * MIB + 4 * MIB);
    ck_assert_int_eq(bcache_has(c, &k, 100), 1);
    bcache_destroy(c);
}
END_TEST

/* Spares may fill the budget that entries leave unused (dirty blocks
 * come and go through them), and an eighth of it besides; an eighth is
 * what an idle cache keeps. */
START_TEST(spares_bounded)
{
    struct bcache *c;
    ck_assert_int_eq(bcache_create(64 * MIB, &c), 0);
    enum { N = 20 };
    char *bufs[N];
    uint32_t caps[N];
    for (int i = 0; i < N; i++)
        bufs[i] = bcache_buf_alloc(c, 4 * MIB, &caps[i]);
    for (int i = 0; i < N; i++)
        bcache_buf_free(c, bufs[i], caps[i]);
    struct bcache_stats st;
    bcache_stats(c, &st);
    ck_assert_uint_eq(st.spare_bytes, 64 * MIB);
    /* Taken just now: not idle, nothing given back. */
    bcache_trim(c, 3600);
    bcache_stats(c, &st);
    ck_assert_uint_eq(st.spare_bytes, 64 * MIB);
    /* Loads take spares: twelve blocks leave four spares. */
    for (uint64_t i = 0; i < 12; i++) {
        char *data = get(c, i, 4 * MIB);
        int kept = 0;
        for (int j = 0; j < 16; j++)
            kept |= data == bufs[j];
        ck_assert(kept);
    }
    bcache_stats(c, &st);
    ck_assert_uint_eq(st.bytes, 48 * MIB);
    ck_assert_uint_eq(st.spare_bytes, 16 * MIB);
    /* No room left: a buffer given back now is freed. */
    uint32_t cap;
    char *extra = bcache_buf_alloc(c, 4 * MIB, &cap);
    char *another = bcache_buf_alloc(c, 4 * MIB, &cap);
    bcache_stats(c, &st);
    ck_assert_uint_eq(st.spare_bytes, 8 * MIB);
    bcache_buf_free(c, extra, cap);
    bcache_buf_free(c, another, cap);
    char *fresh = bcache_buf_alloc(c, 4 * MIB, &cap);
    bcache_buf_free(c, fresh, cap);
    bcache_stats(c, &st);
    ck_assert_uint_eq(st.spare_bytes, 16 * MIB);
    /* Idle: spares over an eighth of the budget go back. */
    bcache_trim(c, 0);
    bcache_stats(c, &st);
    ck_assert_uint_eq(st.spare_bytes, 8 * MIB);
    ck_assert_uint_eq(st.bytes, 48 * MIB);
    bcache_destroy(c);

    /* Entries that do not fit the spares make them give way, down to an
     * eighth of the budget. */
    ck_assert_int_eq(bcache_create(64 * MIB, &c), 0);
    for (int i = 0; i < 16; i++)
        bufs[i] = bcache_buf_alloc(c, 4 * MIB, &caps[i]);
    for (int i = 0; i < 16; i++)
        bcache_buf_free(c, bufs[i], caps[i]);
    get(c, 10, 64 << 10);
    bcache_stats(c, &st);
    ck_assert_uint_eq(st.spare_bytes, 60 * MIB);
    for (uint64_t i = 0; i < 200; i++)
        get(c, 20 + i, 512 << 10);
    bcache_stats(c, &st);
    ck_assert_uint_eq(st.spare_bytes, 8 * MIB);
    ck_assert_uint_le(st.bytes, 64 * MIB);
    bcache_destroy(c);
}
END_TEST

static struct bentry *hold(struct bcache *c, uint64_t index, uint32_t len)
{
    struct bkey k = { 1, index, 7 };
    struct bentry *e = NULL;
    ck_assert_int_eq(bcache_get(c, &k, len, load_pattern, NULL, &e), 0);
    return e;
}

static int cached(struct bcache *c, uint64_t index, uint32_t len)
{
    struct bkey k = { 1, index, 7 };
    return bcache_has(c, &k, len);
}

/* A block whose every byte went to the page cache leaves the cache at
 * its last release, its buffer kept; a read-ahead then skips it. */
START_TEST(sent_blocks_leave)
{
    struct bcache *c;
    ck_assert_int_eq(bcache_create(32 * MIB, &c), 0);
    struct bkey k0 = { 1, 0, 7 };
    struct bentry *e = hold(c, 0, 4 * MIB);
    char *data = e->data;
    bcache_release_sent(c, e, 0, 3 * MIB);
    ck_assert_int_eq(cached(c, 0, 4 * MIB), 1);
    ck_assert_int_eq(bcache_was_sent(c, &k0), 0);
    /* The rest, while another reader holds it: it stays until then. */
    e = hold(c, 0, 4 * MIB);
    struct bentry *other = hold(c, 0, 4 * MIB);
    bcache_release_sent(c, e, 3 * MIB, 4 * MIB);
    ck_assert_int_eq(cached(c, 0, 4 * MIB), 1);
    bcache_release(c, other);
    ck_assert_int_eq(cached(c, 0, 4 * MIB), 0);
    ck_assert_int_eq(bcache_was_sent(c, &k0), 1);
    struct bcache_stats st;
    bcache_stats(c, &st);
    ck_assert_uint_eq(st.bytes, 0);
    ck_assert_uint_eq(st.spare_bytes, 4 * MIB);
    /* The next block loaded takes the buffer. */
    e = hold(c, 1, 4 * MIB);
    ck_assert_ptr_eq(e->data, data);
    bcache_release(c, e);
    /* Plain releases never drop; a short last block drops at its length. */
    e = hold(c, 2, 100);
    bcache_release(c, e);
    e = hold(c, 2, 100);
    bcache_release_sent(c, e, 0, 99);
    ck_assert_int_eq(cached(c, 2, 100), 1);
    e = hold(c, 2, 100);
    bcache_release_sent(c, e, 99, 100);
    ck_assert_int_eq(cached(c, 2, 100), 0);
    ck_assert_int_eq(cached(c, 1, 4 * MIB), 1);
    bcache_destroy(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("blockcache");
    TCase *tc = tcase_create("cache");
    tcase_add_test(tc, hits_misses_eviction);
    tcase_add_test(tc, exact_fit);
    tcase_add_test(tc, partial_reads);
    tcase_add_test(tc, spares_reused);
    tcase_add_test(tc, spares_bounded);
    tcase_add_test(tc, sent_blocks_leave);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
