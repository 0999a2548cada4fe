/* test_store.c - unit tests for the block-store layer: the local-directory
 * backend end to end, URL handling and redaction, and the S3 backend's
 * pure parts (URL parsing, query encoding, XML listings) without a server. */
#include "config.h"
#include "store.h"
#include "s3_cred.h"
#include "s3_url.h"
#include "s3_xml.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char root[256];
static char url[300];

static void rm_tree(const char *path)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", path);
}

static void setup(void)
{
    snprintf(root, sizeof(root), "/tmp/flexfs-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    snprintf(url, sizeof(url), "file://%s/blocks", root);
}

static void teardown(void)
{
    rm_tree(root);
}

static struct store *open_store(void)
{
    struct store *s = NULL;
    ck_assert_int_eq(store_open(url, NULL, &s), 0);
    ck_assert_ptr_nonnull(s);
    return s;
}

START_TEST(file_open_urls)
{
    struct store *s;
    char u[400];
    ck_assert_int_eq(store_open("file://relative/dir", NULL, &s), -EINVAL);
    ck_assert_int_eq(store_open("file://", NULL, &s), -EINVAL);
    ck_assert_int_eq(store_open("/abs/no/scheme", NULL, &s), -EINVAL);
    ck_assert_int_eq(store_open("ftp://host/x", NULL, &s), -EPROTONOSUPPORT);
    snprintf(u, sizeof(u), "file://%s/a/../b", root);
    ck_assert_int_eq(store_open(u, NULL, &s), -EINVAL);
    snprintf(u, sizeof(u), "file://%s/bad%%zz", root);
    ck_assert_int_eq(store_open(u, NULL, &s), -EINVAL);
    /* A file where the directory should be. */
    snprintf(u, sizeof(u), "%s/plain", root);
    FILE *f = fopen(u, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(u, sizeof(u), "file://%s/plain", root);
    ck_assert_int_eq(store_open(u, NULL, &s), -ENOTDIR);
    /* Nested directories are created; percent-escapes decoded. */
    snprintf(u, sizeof(u), "file://%s/with%%20space/deeper/", root);
    ck_assert_int_eq(store_open(u, NULL, &s), 0);
    ck_assert_int_eq(store_put(s, "k", "v", 1), 0);
    store_close(s);
    snprintf(u, sizeof(u), "%s/with space/deeper/k", root);
    struct stat st;
    ck_assert_int_eq(stat(u, &st), 0);
    ck_assert_int_eq(st.st_size, 1);
}
END_TEST

START_TEST(file_put_get)
{
    struct store *s = open_store();
    char data[10000], buf[20000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)(i * 7 + 3);
    ck_assert_int_eq(store_put(s, "1/2a/0.100000001", data, sizeof(data)), 0);

    size_t got = 99;
    ck_assert_int_eq(store_get(s, "1/2a/0.100000001", 0, buf, sizeof(buf), &got), 0);
    ck_assert_uint_eq(got, sizeof(data));
    ck_assert(memcmp(buf, data, sizeof(data)) == 0);
    /* A range in the middle. */
    ck_assert_int_eq(store_get(s, "1/2a/0.100000001", 1234, buf, 100, &got), 0);
    ck_assert_uint_eq(got, 100);
    ck_assert(memcmp(buf, data + 1234, 100) == 0);
    /* One byte, the first and the last. */
    ck_assert_int_eq(store_get(s, "1/2a/0.100000001", 0, buf, 1, &got), 0);
    ck_assert_uint_eq(got, 1);
    ck_assert_int_eq(buf[0], data[0]);
    ck_assert_int_eq(store_get(s, "1/2a/0.100000001", 9999, buf, 1, &got), 0);
    ck_assert_uint_eq(got, 1);
    ck_assert_int_eq(buf[0], data[9999]);
    /* Short at the end, nothing past it. */
    ck_assert_int_eq(store_get(s, "1/2a/0.100000001", 9990, buf, 100, &got), 0);
    ck_assert_uint_eq(got, 10);
    ck_assert(memcmp(buf, data + 9990, 10) == 0);
    ck_assert_int_eq(store_get(s, "1/2a/0.100000001", 20000, buf, 100, &got), 0);
    ck_assert_uint_eq(got, 0);
    /* Zero-length read and zero-length object. */
    ck_assert_int_eq(store_get(s, "1/2a/0.100000001", 5, buf, 0, &got), 0);
    ck_assert_uint_eq(got, 0);
    ck_assert_int_eq(store_put(s, "empty", NULL, 0), 0);
    ck_assert_int_eq(store_get(s, "empty", 0, buf, 10, &got), 0);
    ck_assert_uint_eq(got, 0);
    /* Overwrite replaces whole. */
    ck_assert_int_eq(store_put(s, "1/2a/0.100000001", "abc", 3), 0);
    ck_assert_int_eq(store_get(s, "1/2a/0.100000001", 0, buf, sizeof(buf), &got), 0);
    ck_assert_uint_eq(got, 3);
    ck_assert(memcmp(buf, "abc", 3) == 0);
    /* Missing objects, and a directory is no object. */
    ck_assert_int_eq(store_get(s, "1/2a/1.1", 0, buf, 10, &got), -ENOENT);
    ck_assert_int_eq(store_get(s, "9/9/9.9", 0, buf, 10, &got), -ENOENT);
    ck_assert_int_eq(store_get(s, "1/2a", 0, buf, 10, &got), -ENOENT);
    ck_assert_int_eq(store_get(s, "empty/below", 0, buf, 10, &got), -ENOENT);
    store_close(s);

    /* No temporary file is left next to the objects. */
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/blocks/1/2a", root);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
        else
            ck_assert(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0);
    closedir(d);
    ck_assert_int_eq(n, 1);
}
END_TEST

/* Objects of awkward sizes through page-aligned buffers (the O_DIRECT
 * path for their whole pages) on dir; every byte comes back. */
static void direct_round_trips(const char *dir)
{
    char u[400];
    snprintf(u, sizeof(u), "file://%s", dir);
    struct store *s = NULL;
    ck_assert_int_eq(store_open(u, NULL, &s), 0);
    const size_t sizes[] = { 1, 4095, 4096, 4097, 8192 + 100, 65536,
                             (4u << 20) - 512, 4u << 20 };
    const size_t max = 4u << 20;
    char *data = store_buf_alloc(max), *buf = store_buf_alloc(max + 8192);
    ck_assert_ptr_nonnull(data);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq((uintptr_t)data % 4096, 0);
    /* A whole block's buffer sits on huge-page boundaries. */
    ck_assert_uint_eq((uintptr_t)data % (2u << 20), 0);
    ck_assert_uint_eq((uintptr_t)buf % 4096, 0);
    for (size_t i = 0; i < max; i++)
        data[i] = (char)(i * 31 + (i >> 12));
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t n = sizes[k];
        char key[64];
        snprintf(key, sizeof(key), "1/d/%zu.1", n);
        ck_assert_int_eq(store_put(s, key, data, n), 0);
        /* Into a buffer larger than the object: short at its end. */
        size_t got = 0;
        memset(buf, 0x5a, max + 8192);
        ck_assert_int_eq(store_get(s, key, 0, buf, max + 8192, &got), 0);
        ck_assert_uint_eq(got, n);
        ck_assert(memcmp(buf, data, n) == 0);
        /* Exactly its size. */
        memset(buf, 0x5a, n);
        ck_assert_int_eq(store_get(s, key, 0, buf, n, &got), 0);
        ck_assert_uint_eq(got, n);
        ck_assert(memcmp(buf, data, n) == 0);
        /* From the second page, and from an odd offset. */
        if (n > 4096) {
            ck_assert_int_eq(store_get(s, key, 4096, buf, n - 4096, &got), 0);
            ck_assert_uint_eq(got, n - 4096);
            ck_assert(memcmp(buf, data + 4096, n - 4096) == 0);
            ck_assert_int_eq(store_get(s, key, 3, buf + 1, n - 3, &got), 0);
            ck_assert_uint_eq(got, n - 3);
            ck_assert(memcmp(buf + 1, data + 3, n - 3) == 0);
        }
        /* An unaligned source buffer takes the buffered path. */
        snprintf(key, sizeof(key), "1/d/%zu.2", n);
        ck_assert_int_eq(store_put(s, key, data + 1, n - 1), 0);
        ck_assert_int_eq(store_get(s, key, 0, buf, max, &got), 0);
        ck_assert_uint_eq(got, n - 1);
        ck_assert(memcmp(buf, data + 1, n - 1) == 0);
    }
    free(data);
    free(buf);
    store_close(s);
}

START_TEST(file_direct)
{
    char dir[400];
    snprintf(dir, sizeof(dir), "%s/blocks", root);
    direct_round_trips(dir);
    /* tmpfs: kernels before 6.6 refuse O_DIRECT there (the buffered
     * fallback), later ones take it; the same results either way. */
    char shm[] = "/dev/shm/flexfs-store-XXXXXX";
    if (mkdtemp(shm)) {
        direct_round_trips(shm);
        rm_tree(shm);
    }
}
END_TEST

START_TEST(file_bad_keys)
{
    struct store *s = open_store();
    char buf[4];
    size_t got;
    static const char *const bad[] = {
        "", "/abs", "a//b", "a/", "a/../b", "..", ".", "./a", "a/.",
        ".flexfs-tmp.1.2", "x/.flexfs-tmp.y",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(store_put(s, bad[i], "x", 1) == -EINVAL, "put %s", bad[i]);
        ck_assert_msg(store_get(s, bad[i], 0, buf, 1, &got) == -EINVAL, "get %s", bad[i]);
        ck_assert_msg(store_delete(s, bad[i]) == -EINVAL, "del %s", bad[i]);
    }
    ck_assert_int_eq(store_put(s, NULL, "x", 1), -EINVAL);
    const char *keys[] = {"ok", "../x"};
    ck_assert_int_eq(store_delete_many(s, keys, 2), -EINVAL);
    char longkey[2000];
    memset(longkey, 'a', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    ck_assert_int_eq(store_put(s, longkey, "x", 1), -EINVAL);
    /* Keys that merely look odd are fine. */
    ck_assert_int_eq(store_put(s, "..a/.b/c..", "x", 1), 0);
    ck_assert_int_eq(store_get(s, "..a/.b/c..", 0, buf, 4, &got), 0);
    ck_assert_uint_eq(got, 1);
    store_close(s);
}
END_TEST

START_TEST(file_delete)
{
    struct store *s = open_store();
    char path[400];
    struct stat st;
    ck_assert_int_eq(store_put(s, "v/i/0.1", "a", 1), 0);
    ck_assert_int_eq(store_put(s, "v/i/1.1", "b", 1), 0);
    ck_assert_int_eq(store_delete(s, "v/i/0.1"), 0);
    ck_assert_int_eq(store_delete(s, "v/i/0.1"), 0);      /* missing ok */
    ck_assert_int_eq(store_delete(s, "nope/nope/x"), 0);
    snprintf(path, sizeof(path), "%s/blocks/v/i", root);
    ck_assert_int_eq(stat(path, &st), 0);                   /* not empty */
    ck_assert_int_eq(store_delete(s, "v/i/1.1"), 0);
    ck_assert_int_eq(stat(path, &st), -1);                  /* pruned */
    snprintf(path, sizeof(path), "%s/blocks/v", root);
    ck_assert_int_eq(stat(path, &st), -1);
    snprintf(path, sizeof(path), "%s/blocks", root);
    ck_assert_int_eq(stat(path, &st), 0);                   /* root stays */
    /* Put again into the pruned place. */
    ck_assert_int_eq(store_put(s, "v/i/0.2", "c", 1), 0);
    const char *keys[] = {"v/i/0.2", "v/i/9.9", "w"};
    ck_assert_int_eq(store_delete_many(s, keys, 3), 0);
    size_t got;
    char b;
    ck_assert_int_eq(store_get(s, "v/i/0.2", 0, &b, 1, &got), -ENOENT);
    ck_assert_int_eq(store_delete_many(s, keys, 0), 0);
    store_close(s);
}
END_TEST

struct listed {
    int n;
    int stop_at;                /* return 1 at this count (0: never) */
    int fail_at;                /* return -EIO at this count */
    char keys[64][64];
    uint64_t sizes[64];
};

static int collect(void *arg, const char *key, uint64_t size)
{
    struct listed *l = arg;
    if (l->n < 64) {
        snprintf(l->keys[l->n], sizeof(l->keys[0]), "%s", key);
        l->sizes[l->n] = size;
    }
    l->n++;
    if (l->stop_at && l->n == l->stop_at)
        return 1;
    if (l->fail_at && l->n == l->fail_at)
        return -EIO;
    return 0;
}

START_TEST(file_list)
{
    struct store *s = open_store();
    static const char *const keys[] = {
        "1/2/0.1", "1/2/1.1", "1/2/10.1", "1/2a/0.1", "1/20/3.4", "1.x",
        "1/3/0.1", "2/1/0.1", "1/2/a/deep",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        ck_assert_int_eq(store_put(s, keys[i], keys[i], strlen(keys[i])), 0);

    struct listed l = {0};
    ck_assert_int_eq(store_list(s, "", collect, &l), 0);
    ck_assert_int_eq(l.n, 9);
    /* Byte order of the full keys, as S3 lists. */
    for (int i = 1; i < l.n; i++)
        ck_assert_msg(strcmp(l.keys[i - 1], l.keys[i]) < 0, "%s !< %s",
                      l.keys[i - 1], l.keys[i]);
    ck_assert_str_eq(l.keys[0], "1.x");
    ck_assert_uint_eq(l.sizes[0], 3);

    memset(&l, 0, sizeof(l));
    ck_assert_int_eq(store_list(s, "1/2/", collect, &l), 0);
    ck_assert_int_eq(l.n, 4);
    ck_assert_str_eq(l.keys[0], "1/2/0.1");
    ck_assert_str_eq(l.keys[1], "1/2/1.1");
    ck_assert_str_eq(l.keys[2], "1/2/10.1");
    ck_assert_str_eq(l.keys[3], "1/2/a/deep");
    ck_assert_uint_eq(l.sizes[3], strlen("1/2/a/deep"));

    /* A prefix that ends inside a name. */
    memset(&l, 0, sizeof(l));
    ck_assert_int_eq(store_list(s, "1/2", collect, &l), 0);
    ck_assert_int_eq(l.n, 6);
    memset(&l, 0, sizeof(l));
    ck_assert_int_eq(store_list(s, "1/2/1", collect, &l), 0);
    ck_assert_int_eq(l.n, 2);
    memset(&l, 0, sizeof(l));
    ck_assert_int_eq(store_list(s, "1/2/0.1", collect, &l), 0);
    ck_assert_int_eq(l.n, 1);
    memset(&l, 0, sizeof(l));
    ck_assert_int_eq(store_list(s, "7/", collect, &l), 0);
    ck_assert_int_eq(l.n, 0);
    memset(&l, 0, sizeof(l));
    ck_assert_int_eq(store_list(s, "1.x/", collect, &l), 0);
    ck_assert_int_eq(l.n, 0);

    /* The callback stops the walk, or fails it. */
    memset(&l, 0, sizeof(l));
    l.stop_at = 2;
    ck_assert_int_eq(store_list(s, "", collect, &l), 0);
    ck_assert_int_eq(l.n, 2);
    memset(&l, 0, sizeof(l));
    l.fail_at = 3;
    ck_assert_int_eq(store_list(s, "", collect, &l), -EIO);
    ck_assert_int_eq(l.n, 3);

    ck_assert_int_eq(store_list(s, "/1", collect, &l), -EINVAL);
    ck_assert_int_eq(store_list(s, "../", collect, &l), -EINVAL);
    ck_assert_int_eq(store_list(s, "1//", collect, &l), -EINVAL);

    /* A stray temporary file is never listed. */
    char path[400];
    snprintf(path, sizeof(path), "%s/blocks/1/2/.flexfs-tmp.1.1", root);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    memset(&l, 0, sizeof(l));
    ck_assert_int_eq(store_list(s, "1/2/", collect, &l), 0);
    ck_assert_int_eq(l.n, 4);
    store_close(s);
}
END_TEST

START_TEST(file_statfs)
{
    struct store *s = open_store();
    uint64_t total = 0, avail = 0;
    ck_assert_int_eq(store_statfs(s, &total, &avail), 0);
    ck_assert_uint_gt(total, 0);
    ck_assert_uint_le(avail, total);
    store_close(s);
}
END_TEST

START_TEST(file_stat)
{
    struct store *s = open_store();
    struct store_objstat st;
    time_t before = time(NULL);
    ck_assert_int_eq(store_put(s, "1/2/3.4", "hello", 5), 0);
    ck_assert_int_eq(store_stat(s, "1/2/3.4", &st), 0);
    ck_assert_uint_eq(st.size, 5);
    ck_assert_int_ge(st.mtime, (int64_t)before - 1);
    ck_assert_int_le(st.mtime, (int64_t)time(NULL) + 1);
    ck_assert_int_eq(store_stat(s, "1/2/3.5", &st), -ENOENT);
    ck_assert_int_eq(store_stat(s, "1/2", &st), -ENOENT);  /* a directory */
    ck_assert_int_eq(store_stat(s, "1/2/3.4/x", &st), -ENOENT);
    ck_assert_int_eq(store_stat(s, "../x", &st), -EINVAL);
    store_close(s);
}
END_TEST

/* Many threads put and delete in the same few directories, so deletes
 * prune directories that puts are creating into. */
struct worker {
    struct store *s;
    int id;
    int errors;
};

#define ROUNDS 300

static void *hammer(void *arg)
{
    struct worker *w = arg;
    char key[64], buf[64], want[64];
    for (int i = 0; i < ROUNDS; i++) {
        snprintf(key, sizeof(key), "v/%d/%d.%x", i % 3, i, w->id);
        int n = snprintf(want, sizeof(want), "data %d %d", w->id, i);
        if (store_put(w->s, key, want, (size_t)n) != 0) {
            w->errors++;
            continue;
        }
        size_t got = 0;
        if (store_get(w->s, key, 0, buf, sizeof(buf), &got) != 0 ||
            got != (size_t)n || memcmp(buf, want, got) != 0)
            w->errors++;
        if (i % 2 == 0 && store_delete(w->s, key) != 0)
            w->errors++;
        /* Always emptied again: directories come and go under the puts. */
        snprintf(key, sizeof(key), "r/%d/%d/%x", i % 2, i % 3, w->id);
        if (store_put(w->s, key, want, (size_t)n) != 0 ||
            store_delete(w->s, key) != 0)
            w->errors++;
    }
    return NULL;
}

static int count_only(void *arg, const char *key, uint64_t size)
{
    (*(int *)arg)++;
    return 0;
}

START_TEST(file_concurrent)
{
    struct store *s = open_store();
    enum { N = 8 };
    pthread_t t[N];
    struct worker w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (struct worker){.s = s, .id = i};
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(w[i].errors, 0);
    }
    int n = 0;
    ck_assert_int_eq(store_list(s, "v/", count_only, &n), 0);
    ck_assert_int_eq(n, N * ROUNDS / 2);
    n = 0;
    ck_assert_int_eq(store_list(s, "r/", count_only, &n), 0);
    ck_assert_int_eq(n, 0);
    store_close(s);
}
END_TEST

START_TEST(redact)
{
    char buf[256];
    store_url_redact("file:///var/lib/flexfs/blocks", buf, sizeof(buf));
    ck_assert_str_eq(buf, "file:///var/lib/flexfs/blocks");
    store_url_redact("s3://AKID:SECRET@bucket/pre?region=eu-west-1", buf, sizeof(buf));
    ck_assert_str_eq(buf, "s3://bucket/pre?region=eu-west-1");
    store_url_redact("s3://bucket/p?endpoint=http://u:pw@127.0.0.1:9000&secret_key=XYZ"
                     "&region=us-east-1&X-Amz-Signature=abc&session_token=t&style=path",
                     buf, sizeof(buf));
    ck_assert_str_eq(buf, "s3://bucket/p?region=us-east-1&style=path");
    store_url_redact("s3://b?endpoint=http%3A%2F%2Fu%3Apw%40h&region=r", buf, sizeof(buf));
    ck_assert_str_eq(buf, "s3://b?region=r");
    store_url_redact("s3://b/p?endpoint=http://127.0.0.1:9000&max_keys=7", buf, sizeof(buf));
    ck_assert_str_eq(buf, "s3://b/p?endpoint=http://127.0.0.1:9000&max_keys=7");
    ck_assert_ptr_null(strstr(buf, "XYZ"));
    store_url_redact("s3://bucket?secret=1", buf, sizeof(buf));
    ck_assert_str_eq(buf, "s3://bucket");
    /* Truncation keeps a terminated string. */
    store_url_redact("file:///a/very/long/path", buf, 8);
    ck_assert_str_eq(buf, "file://");
    store_url_redact(NULL, buf, sizeof(buf));
    ck_assert_str_eq(buf, "");
}
END_TEST


/* --- S3, the parts that need no server -------------------------------- */

START_TEST(s3_urls)
{
    struct s3_loc l;
    ck_assert_int_eq(s3_loc_parse("s3://bkt/some/prefix/?endpoint=http://127.0.0.1:9000"
                                  "&region=eu-west-3&style=path", &l), 0);
    ck_assert_str_eq(l.bucket, "bkt");
    ck_assert_str_eq(l.prefix, "some/prefix/");
    ck_assert_str_eq(l.endpoint, "http://127.0.0.1:9000");
    ck_assert_str_eq(l.region, "eu-west-3");
    ck_assert_int_eq(l.virtual_style, 0);
    ck_assert_uint_eq(l.max_keys, 1000);
    char *u = s3_loc_url(&l, "1/2a/0.1", NULL);
    ck_assert_str_eq(u, "http://127.0.0.1:9000/bkt/some/prefix/1/2a/0.1");
    free(u);
    u = s3_loc_url(&l, NULL, "delete=");
    ck_assert_str_eq(u, "http://127.0.0.1:9000/bkt/?delete=");
    free(u);
    /* Keys are encoded, '/' kept. */
    u = s3_loc_url(&l, "a b/c+d~e", NULL);
    ck_assert_str_eq(u, "http://127.0.0.1:9000/bkt/some/prefix/a%20b/c%2Bd~e");
    free(u);
    s3_loc_free(&l);

    /* AWS defaults: region us-east-1, virtual-host style. */
    ck_assert_int_eq(s3_loc_parse("s3://my-bucket", &l), 0);
    ck_assert_str_eq(l.prefix, "");
    ck_assert_str_eq(l.region, "us-east-1");
    ck_assert_str_eq(l.endpoint, "https://s3.us-east-1.amazonaws.com");
    ck_assert_int_eq(l.virtual_style, 1);
    u = s3_loc_url(&l, "k", NULL);
    ck_assert_str_eq(u, "https://my-bucket.s3.us-east-1.amazonaws.com/k");
    free(u);
    s3_loc_free(&l);
    /* Dotted names stay path-style (the TLS wildcard would not match). */
    ck_assert_int_eq(s3_loc_parse("s3://a.b/p?region=ap-south-1", &l), 0);
    ck_assert_int_eq(l.virtual_style, 0);
    u = s3_loc_url(&l, "k", NULL);
    ck_assert_str_eq(u, "https://s3.ap-south-1.amazonaws.com/a.b/p/k");
    free(u);
    s3_loc_free(&l);
    /* Virtual style on a custom endpoint with a port. */
    ck_assert_int_eq(s3_loc_parse("s3://b/x%20y?style=virtual&endpoint=https%3A%2F%2Fs3.example:8443/"
                                  "&max_keys=7", &l), 0);
    ck_assert_str_eq(l.prefix, "x y/");
    ck_assert_uint_eq(l.max_keys, 7);
    u = s3_loc_url(&l, "k", NULL);
    ck_assert_str_eq(u, "https://b.s3.example:8443/x%20y/k");
    free(u);
    s3_loc_free(&l);

    static const char *const bad[] = {
        "s3://", "s3:///prefix", "s3://AKID:SECRET@bkt/p", "s3://bkt?secret_key=x",
        "s3://bkt?access_key=x", "s3://bkt?style=sideways", "s3://bkt?endpoint=ftp://h",
        "s3://bkt?endpoint=http://u:p@h", "s3://bkt?endpoint=", "s3://bkt?region=",
        "s3://bkt?region=a/b", "s3://bkt?max_keys=0", "s3://bkt?max_keys=1001",
        "s3://bkt/a/../b", "s3://bkt/a//b", "s3://b%zzt", "s3://bk t", "s3://bkt/p%00",
        "file:///x", "s3://bkt#frag",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(s3_loc_parse(bad[i], &l) == -EINVAL, "accepted %s", bad[i]);
}
END_TEST

START_TEST(s3_queries)
{
    struct s3_param p[] = {
        {"prefix", "blocks/1/a b+c"}, {"list-type", "2"},
        {"continuation-token", "1/abc+def=="}, {"max-keys", "1000"},
    };
    char *q = s3_query_build(p, 4);
    ck_assert_str_eq(q, "continuation-token=1%2Fabc%2Bdef%3D%3D&list-type=2&"
                        "max-keys=1000&prefix=blocks%2F1%2Fa%20b%2Bc");
    free(q);
    struct s3_param d = {"delete", NULL};
    q = s3_query_build(&d, 1);
    ck_assert_str_eq(q, "delete=");
    free(q);
    q = s3_query_build(NULL, 0);
    ck_assert_str_eq(q, "");
    free(q);
    /* Same names sort by value; non-ASCII is encoded byte by byte. */
    struct s3_param m[] = {{"a", "z"}, {"a", "\xc3\xa9"}, {"A", "~_.-"}};
    q = s3_query_build(m, 3);
    ck_assert_str_eq(q, "A=~_.-&a=%C3%A9&a=z");
    free(q);
}
END_TEST

struct keys_seen {
    int n;
    char key[8][64];
    uint64_t size[8];
    int stop_at;
};

static int xml_key(void *arg, const char *key, uint64_t size)
{
    struct keys_seen *k = arg;
    if (k->n < 8) {
        snprintf(k->key[k->n], sizeof(k->key[0]), "%s", key);
        k->size[k->n] = size;
    }
    k->n++;
    return k->stop_at && k->n == k->stop_at ? 7 : 0;
}

START_TEST(s3_xml_listing)
{
    const char *doc =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Name>b</Name><Prefix>p/</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>"
        "<IsTruncated>true</IsTruncated>"
        "<Contents><Key>p/1/2/0.1</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>"
        "<ETag>&quot;abc&quot;</ETag><Size>4194304</Size><StorageClass>STANDARD</StorageClass></Contents>\n"
        "<Contents>\n  <Key>p/a&amp;b&lt;c&gt;&apos;&quot;&#233;&#x263A;</Key>\n  <Size>0</Size>\n</Contents>"
        "<Contents><Key>p/last</Key><Size>18446744073709551615</Size></Contents>"
        "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
        "</ListBucketResult>";
    struct keys_seen k = {0};
    int truncated = -1;
    char *next = NULL;
    ck_assert_int_eq(s3_xml_list(doc, strlen(doc), xml_key, &k, &truncated, &next), 0);
    ck_assert_int_eq(k.n, 3);
    ck_assert_str_eq(k.key[0], "p/1/2/0.1");
    ck_assert_uint_eq(k.size[0], 4194304);
    ck_assert_str_eq(k.key[1], "p/a&b<c>'\"\xc3\xa9\xe2\x98\xba");
    ck_assert_uint_eq(k.size[1], 0);
    ck_assert_uint_eq(k.size[2], UINT64_MAX);
    ck_assert_int_eq(truncated, 1);
    ck_assert_str_eq(next, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
    free(next);

    /* The callback stops the walk. */
    memset(&k, 0, sizeof(k));
    k.stop_at = 1;
    ck_assert_int_eq(s3_xml_list(doc, strlen(doc), xml_key, &k, &truncated, &next), 7);
    ck_assert_int_eq(k.n, 1);
    ck_assert_ptr_null(next);

    /* The last page, and an empty one. */
    const char *last = "<ListBucketResult><IsTruncated>false</IsTruncated>"
                       "<Contents><Key>x</Key><Size>1</Size></Contents></ListBucketResult>";
    memset(&k, 0, sizeof(k));
    ck_assert_int_eq(s3_xml_list(last, strlen(last), xml_key, &k, &truncated, &next), 0);
    ck_assert_int_eq(truncated, 0);
    ck_assert_ptr_null(next);
    ck_assert_int_eq(k.n, 1);
    const char *none = "<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"
                       "</ListBucketResult>";
    memset(&k, 0, sizeof(k));
    ck_assert_int_eq(s3_xml_list(none, strlen(none), xml_key, &k, &truncated, &next), 0);
    ck_assert_int_eq(k.n, 0);

    /* Malformed: not a listing, truncated without a token, bad size or
     * entity, a key without a size, text cut off. */
    static const char *const bad[] = {
        "<Error><Code>AccessDenied</Code></Error>",
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
        "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>k</Key><Size>12x</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>k&bogus;</Key><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>k&#0;</Key><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key></Key><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>k</Key><Size>1</Size>",
        "<ListBucketResult><Contents><Key>k<b/></Key><Size>1</Size></Contents></ListBucketResult>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&k, 0, sizeof(k));
        int rc = s3_xml_list(bad[i], strlen(bad[i]), xml_key, &k, &truncated, &next);
        /* A document cut inside <Contents> simply has no complete object. */
        if (i == 8)
            ck_assert_msg(rc == 0 && k.n == 0, "cut document: %d %d", rc, k.n);
        else
            ck_assert_msg(rc == -EINVAL, "accepted bad listing %zu (%d)", i, rc);
        ck_assert_ptr_null(next);
    }
}
END_TEST

START_TEST(s3_xml_errors)
{
    const char *err = "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code>"
                      "<Message>Please reduce &amp; retry</Message></Error>";
    char *c = NULL;
    ck_assert_int_eq(s3_xml_text(err, strlen(err), "Code", &c), 1);
    ck_assert_str_eq(c, "SlowDown");
    free(c);
    ck_assert_int_eq(s3_xml_text(err, strlen(err), "Message", &c), 1);
    ck_assert_str_eq(c, "Please reduce & retry");
    free(c);
    ck_assert_int_eq(s3_xml_text(err, strlen(err), "Resource", &c), 0);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(s3_xml_text("<Code/>", 7, "Code", &c), 1);
    ck_assert_str_eq(c, "");
    free(c);

    const char *ok = "<DeleteResult><Deleted><Key>a</Key></Deleted></DeleteResult>";
    char code[32];
    ck_assert_int_eq(s3_xml_delete_errors(ok, strlen(ok), code, sizeof(code)), 0);
    ck_assert_str_eq(code, "");
    const char *two = "<DeleteResult><Error><Key>a</Key><Code>AccessDenied</Code>"
                      "<Message>no</Message></Error><Deleted><Key>b</Key></Deleted>"
                      "<Error><Key>c</Key><Code>InternalError</Code></Error></DeleteResult>";
    ck_assert_int_eq(s3_xml_delete_errors(two, strlen(two), code, sizeof(code)), 2);
    ck_assert_str_eq(code, "AccessDenied");

    struct s3_buf b = {0};
    s3_xml_escape(&b, "a&b<c>\"d'e");
    ck_assert_str_eq(b.p, "a&amp;b&lt;c&gt;&quot;d&apos;e");
    s3_buf_free(&b);
}
END_TEST

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(s3_credentials)
{
    char path[400];
    struct s3_cred c;
    snprintf(path, sizeof(path), "%s/credentials", root);
    write_file(path, "[other]\naws_access_key_id = NO\naws_secret_access_key = NO\n"
                     "[default]\naws_access_key_id = AKIDFILE\n"
                     "aws_secret_access_key = sec/ret+key\naws_session_token = tok\n");
    unsetenv("AWS_PROFILE");
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    unsetenv("AWS_SESSION_TOKEN");
    /* A named file wins over the environment. */
    ck_assert_int_eq(s3_cred_load(path, &c), 0);
    ck_assert_str_eq(c.key_id, "AKIDFILE");
    ck_assert_str_eq(c.secret, "sec/ret+key");
    ck_assert_str_eq(c.token, "tok");
    s3_cred_free(&c);
    ck_assert_ptr_null(c.secret);
    setenv("AWS_PROFILE", "other", 1);
    ck_assert_int_eq(s3_cred_load(path, &c), 0);
    ck_assert_str_eq(c.key_id, "NO");
    s3_cred_free(&c);
    unsetenv("AWS_PROFILE");
    /* Then the environment. */
    ck_assert_int_eq(s3_cred_load(NULL, &c), 0);
    ck_assert_str_eq(c.key_id, "AKIDENV");
    ck_assert_str_eq(c.secret, "envsecret");
    ck_assert_ptr_null(c.token);
    s3_cred_free(&c);
    unsetenv("AWS_SECRET_ACCESS_KEY");
    ck_assert_int_eq(s3_cred_load(NULL, &c), -EINVAL);
    unsetenv("AWS_ACCESS_KEY_ID");
    /* Then the shared file; nothing at all is -ENOKEY. */
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    ck_assert_int_eq(s3_cred_load(NULL, &c), 0);
    ck_assert_str_eq(c.key_id, "AKIDFILE");
    s3_cred_free(&c);
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    setenv("HOME", root, 1);
    ck_assert_int_eq(s3_cred_load(NULL, &c), -ENOKEY);
    /* Incomplete or missing files. */
    write_file(path, "[default]\naws_access_key_id = ONLY\n");
    ck_assert_int_eq(s3_cred_load(path, &c), -EINVAL);
    snprintf(path, sizeof(path), "%s/nope", root);
    ck_assert_int_eq(s3_cred_load(path, &c), -ENOENT);

    /* The store refuses to open without credentials, before any I/O. */
    struct store *s;
    ck_assert_int_eq(store_open("s3://bkt?endpoint=http://127.0.0.1:1", NULL, &s), -EACCES);
    struct store_opts o = {.credentials_file = path};
    ck_assert_int_eq(store_open("s3://bkt?endpoint=http://127.0.0.1:1", &o, &s), -EACCES);
    ck_assert_int_eq(store_open("s3://bkt?bogus=1", NULL, &s), -EINVAL);
}
END_TEST

/* With nothing listening, calls fail with EIO after their retries, in
 * bounded time; a key that is missing... cannot be told from that. */
START_TEST(s3_unreachable)
{
    setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    struct store *s;
    struct store_opts o = {.max_retries = 2};
    ck_assert_int_eq(store_open("s3://bkt/p?endpoint=http://127.0.0.1:1", &o, &s), 0);
    char buf[8];
    size_t got = 5;
    ck_assert_int_eq(store_get(s, "k", 0, buf, sizeof(buf), &got), -EIO);
    ck_assert_uint_eq(got, 0);
    ck_assert_int_eq(store_put(s, "k", "x", 1), -EIO);
    ck_assert_int_eq(store_delete(s, "k"), -EIO);
    ck_assert_int_eq(store_put(s, "../k", "x", 1), -EINVAL);
    uint64_t t, a;
    ck_assert_int_eq(store_statfs(s, &t, &a), -ENOSYS);
    store_close(s);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("file");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, file_open_urls);
    tcase_add_test(tc, file_put_get);
    tcase_add_test(tc, file_direct);
    tcase_add_test(tc, file_bad_keys);
    tcase_add_test(tc, file_delete);
    tcase_add_test(tc, file_list);
    tcase_add_test(tc, file_statfs);
    tcase_add_test(tc, file_stat);
    tcase_add_test(tc, file_concurrent);
    suite_add_tcase(s, tc);
    tc = tcase_create("url");
    tcase_add_test(tc, redact);
    suite_add_tcase(s, tc);
    tc = tcase_create("s3");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, s3_urls);
    tcase_add_test(tc, s3_queries);
    tcase_add_test(tc, s3_xml_listing);
    tcase_add_test(tc, s3_xml_errors);
    tcase_add_test(tc, s3_credentials);
    tcase_add_test(tc, s3_unreachable);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(store_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
