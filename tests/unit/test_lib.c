/* test_lib.c - unit tests for lib/: configuration parsing, block keys and
 * growing arrays. */
#include "config.h"
#include "blockkey.h"
#include "conf.h"
#include "grow.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(sizes)
{
    uint64_t v;
    ck_assert_int_eq(conf_parse_size("4M", &v), 0);
    ck_assert_uint_eq(v, 4u << 20);
    ck_assert_int_eq(conf_parse_size("64KiB", &v), 0);
    ck_assert_uint_eq(v, 64u << 10);
    ck_assert_int_eq(conf_parse_size("123", &v), 0);
    ck_assert_uint_eq(v, 123);
    ck_assert_int_eq(conf_parse_size("1G", &v), 0);
    ck_assert_uint_eq(v, 1ull << 30);
    ck_assert_int_eq(conf_parse_size("", &v), -EINVAL);
    ck_assert_int_eq(conf_parse_size("-1", &v), -EINVAL);
    ck_assert_int_eq(conf_parse_size("4X", &v), -EINVAL);
    ck_assert_int_eq(conf_parse_size("99999999999999999999", &v), -EINVAL);
}
END_TEST

START_TEST(seconds_and_bools)
{
    uint32_t s;
    int b;
    ck_assert_int_eq(conf_parse_seconds("30", &s), 0);
    ck_assert_uint_eq(s, 30);
    ck_assert_int_eq(conf_parse_seconds("2m", &s), 0);
    ck_assert_uint_eq(s, 120);
    ck_assert_int_eq(conf_parse_seconds("x", &s), -EINVAL);
    ck_assert_int_eq(conf_parse_bool("yes", &b), 0);
    ck_assert_int_eq(b, 1);
    ck_assert_int_eq(conf_parse_bool("Off", &b), 0);
    ck_assert_int_eq(b, 0);
    ck_assert_int_eq(conf_parse_bool("maybe", &b), -EINVAL);
}
END_TEST

START_TEST(hostports)
{
    char host[64];
    uint16_t port;
    ck_assert_int_eq(conf_parse_hostport("127.0.0.1:2049", host, sizeof(host), &port), 0);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_uint_eq(port, 2049);
    ck_assert_int_eq(conf_parse_hostport("[::1]:0", host, sizeof(host), &port), 0);
    ck_assert_str_eq(host, "::1");
    ck_assert_uint_eq(port, 0);
    ck_assert_int_eq(conf_parse_hostport("5000", host, sizeof(host), &port), 0);
    ck_assert_str_eq(host, "");
    ck_assert_uint_eq(port, 5000);
    ck_assert_int_eq(conf_parse_hostport("h:99999", host, sizeof(host), &port), -EINVAL);
    ck_assert_int_eq(conf_parse_hostport("h:", host, sizeof(host), &port), -EINVAL);
}
END_TEST

struct seen { int n; char last[256]; };

static int collect(void *arg, const char *section, const char *key,
                   const char *value, int lineno)
{
    struct seen *s = arg;
    s->n++;
    snprintf(s->last, sizeof(s->last), "%s|%s|%s|%d", section, key, value, lineno);
    return 0;
}

START_TEST(ini_files)
{
    char path[] = "/tmp/flexfs-conf-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *text = "# comment\n; other\n\nlisten = 1.2.3.4:5\n[gateway]\n"
                       "  meta-dir=\"/var/x\"  \n";
    ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    struct seen s = {0};
    ck_assert_int_eq(conf_parse_file(path, collect, &s), 0);
    ck_assert_int_eq(s.n, 2);
    ck_assert_str_eq(s.last, "gateway|meta_dir|/var/x|6");

    FILE *f = fopen(path, "a");
    fputs("no equals sign here\n", f);
    fclose(f);
    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(conf_parse_file(path, collect, &s), -EINVAL);
    unlink(path);
    ck_assert_int_eq(conf_parse_file(path, collect, &s), -ENOENT);
}
END_TEST

START_TEST(block_keys)
{
    struct blockkey k = {.volume = 1, .ino = 0x2a, .index = 3,
                         .version = 0x100000007ull}, back;
    char buf[BLOCKKEY_MAX];
    ck_assert_int_gt(blockkey_format(buf, sizeof(buf), &k), 0);
    ck_assert_str_eq(buf, "1/2a/3.100000007");
    ck_assert_int_eq(blockkey_parse(buf, &back), 0);
    ck_assert(memcmp(&k, &back, sizeof(k)) == 0);
    ck_assert_int_eq(blockkey_parse("1/2a/3", &back), -EINVAL);
    ck_assert_int_eq(blockkey_parse("1/2a/3.x", &back), -EINVAL);
    ck_assert_int_eq(blockkey_parse("1/-2/3.4", &back), -EINVAL);
    ck_assert_int_eq(blockkey_parse("", &back), -EINVAL);
    ck_assert_int_eq(blockkey_format(buf, 4, &k), -ENAMETOOLONG);
    ck_assert_int_gt(blockkey_inode_prefix(buf, sizeof(buf), 1, 0x2a), 0);
    ck_assert_str_eq(buf, "1/2a/");
}
END_TEST

START_TEST(grow_arrays)
{
    size_t cap = 0, n;
    uint64_t *a = NULL;
    for (n = 0; n < 1000; n++) {
        uint64_t *p = grow_room(a, n, &cap, sizeof(*p), 4);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_gt(cap, n);
        a = p;
        a[n] = n * 3;
    }
    ck_assert_uint_eq(cap, 1024);        /* 4 doubled eight times */
    for (n = 0; n < 1000; n++)
        ck_assert_uint_eq(a[n], n * 3);
    /* Room left: the same array, untouched. */
    ck_assert_ptr_eq(grow_room(a, 1000, &cap, sizeof(*a), 4), a);
    ck_assert_uint_eq(cap, 1024);
    /* A size that cannot be had: NULL, and the array and cap as they
     * were. */
    size_t big = cap;
    ck_assert_ptr_null(grow_room(a, big, &big, SIZE_MAX / 1024, 4));
    ck_assert_uint_eq(big, 1024);
    ck_assert_uint_eq(a[999], 2997);
    free(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lib");
    TCase *tc = tcase_create("lib");
    tcase_add_test(tc, sizes);
    tcase_add_test(tc, seconds_and_bools);
    tcase_add_test(tc, hostports);
    tcase_add_test(tc, ini_files);
    tcase_add_test(tc, block_keys);
    tcase_add_test(tc, grow_arrays);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
