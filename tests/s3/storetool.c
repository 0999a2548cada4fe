/* storetool.c - drives any block store (file:// or s3://) through store.h
 * for the tests and for measuring:
 *
 *   storetool [-c CREDFILE] [-t THREADS] [-r RETRIES] [-v] URL COMMAND ...
 *     put KEY FILE|-          upload a file (or stdin)
 *     get KEY [OFF LEN]       print an object (or a range) to stdout
 *     del KEY                 delete one object
 *     delmany KEY...          bulk delete ("-" reads keys from stdin)
 *     list [PREFIX]           print "KEY<tab>SIZE" lines
 *     stat KEY                print "SIZE<tab>MTIME" (epoch seconds, -1 unknown)
 *     fill PREFIX COUNT SIZE  put COUNT objects PREFIX<n> of SIZE bytes
 *     ranges KEY SIZE         put a patterned object, check many ranged reads
 *     bench COUNT SIZE        parallel put, get (verified), delete; MiB/s
 *
 * Exit status: 0 ok, 2 ENOENT, 3 EACCES, 4 EIO, 5 data mismatch, 1 other. */
#include "config.h"
#include "store.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int exit_for(int rc)
{
    switch (rc) {
    case 0: return 0;
    case -ENOENT: return 2;
    case -EACCES: return 3;
    case -EIO: return 4;
    default: return 1;
    }
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "storetool: %s: %s\n", what, strerror(-rc));
    return exit_for(rc);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Byte i of the test pattern of object seed. */
static unsigned char pattern(uint64_t seed, uint64_t i)
{
    uint64_t x = (seed + 1) * 0x9E3779B97F4A7C15ull + i * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return (unsigned char)(x ^ (x >> 17));
}

static void fill_pattern(unsigned char *buf, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = pattern(seed, i);
}

static int read_all(FILE *f, char **out, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    if (!b)
        return -ENOMEM;
    size_t r;
    while ((r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                return -ENOMEM;
            }
            b = nb;
        }
    }
    *out = b;
    *len = n;
    return 0;
}

static int cmd_put(struct store *s, char **av, int ac)
{
    if (ac != 2)
        return fail("put needs KEY FILE", -EINVAL);
    FILE *f = strcmp(av[1], "-") == 0 ? stdin : fopen(av[1], "rb");
    if (!f)
        return fail(av[1], -errno);
    char *data;
    size_t len;
    int rc = read_all(f, &data, &len);
    if (f != stdin)
        fclose(f);
    if (rc == 0) {
        rc = store_put(s, av[0], data, len);
        free(data);
    }
    return rc ? fail("put", rc) : 0;
}

static int cmd_stat(struct store *s, char **av, int ac)
{
    if (ac != 1)
        return fail("stat needs KEY", -EINVAL);
    struct store_objstat st;
    int rc = store_stat(s, av[0], &st);
    if (rc < 0)
        return fail("stat", rc);
    printf("%" PRIu64 "\t%" PRId64 "\n", st.size, st.mtime);
    return 0;
}

static int cmd_get(struct store *s, char **av, int ac)
{
    if (ac != 1 && ac != 3)
        return fail("get needs KEY [OFF LEN]", -EINVAL);
    uint64_t off = ac == 3 ? strtoull(av[1], NULL, 10) : 0;
    size_t len = ac == 3 ? strtoull(av[2], NULL, 10) : 64u << 20;
    char *buf = malloc(len ? len : 1);
    if (!buf)
        return fail("get", -ENOMEM);
    size_t got = 0;
    int rc = store_get(s, av[0], off, buf, len, &got);
    if (rc == 0 && fwrite(buf, 1, got, stdout) != got)
        rc = -EIO;
    free(buf);
    return rc ? fail("get", rc) : 0;
}

static int cmd_delmany(struct store *s, char **av, int ac)
{
    char **keys = av, *text = NULL;
    size_t n = (size_t)ac;
    if (ac == 1 && strcmp(av[0], "-") == 0) {
        size_t len;
        int rc = read_all(stdin, &text, &len);
        if (rc)
            return fail("delmany", rc);
        keys = calloc(len / 2 + 2, sizeof(*keys));
        n = 0;
        text[len] = '\0';
        for (char *save, *k = strtok_r(text, "\n", &save); k;
             k = strtok_r(NULL, "\n", &save))
            keys[n++] = k;
    }
    int rc = store_delete_many(s, (const char *const *)keys, n);
    if (text) {
        free(keys);
        free(text);
    }
    return rc ? fail("delmany", rc) : 0;
}

static int print_key(void *arg, const char *key, uint64_t size)
{
    printf("%s\t%" PRIu64 "\n", key, size);
    return 0;
}

/* --- parallel work: fill and bench ----------------------------------- */

struct job {
    struct store *s;
    const char *prefix;
    unsigned count;
    size_t size;
    int op;                     /* 0 put, 1 get+verify, 2 delete */
    atomic_uint next;
    atomic_int err;
    atomic_int mismatch;
};

static void *worker(void *arg)
{
    struct job *j = arg;
    unsigned char *buf = malloc(j->size ? j->size : 1);
    unsigned char *want = malloc(j->size ? j->size : 1);
    if (!buf || !want) {
        atomic_store(&j->err, -ENOMEM);
        free(buf);
        free(want);
        return NULL;
    }
    for (;;) {
        unsigned i = atomic_fetch_add(&j->next, 1);
        if (i >= j->count || atomic_load(&j->err))
            break;
        char key[256];
        snprintf(key, sizeof(key), "%s%06u", j->prefix, i);
        int rc = 0;
        if (j->op == 0) {
            fill_pattern(buf, j->size, i);
            rc = store_put(j->s, key, buf, j->size);
        } else if (j->op == 1) {
            size_t got = 0;
            rc = store_get(j->s, key, 0, buf, j->size, &got);
            fill_pattern(want, j->size, i);
            if (rc == 0 && (got != j->size || memcmp(buf, want, got) != 0))
                atomic_store(&j->mismatch, 1);
        } else {
            rc = store_delete(j->s, key);
        }
        if (rc < 0) {
            int zero = 0;
            atomic_compare_exchange_strong(&j->err, &zero, rc);
        }
    }
    free(buf);
    free(want);
    return NULL;
}

static int run_job(struct store *s, const char *prefix, unsigned count,
                   size_t size, int op, unsigned threads, double *secs)
{
    struct job j = {.s = s, .prefix = prefix, .count = count, .size = size,
                    .op = op};
    pthread_t t[64];
    if (threads > 64)
        threads = 64;
    double t0 = now_s();
    unsigned started = 0;
    for (; started < threads; started++)
        if (pthread_create(&t[started], NULL, worker, &j) != 0)
            break;
    for (unsigned i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    *secs = now_s() - t0;
    if (started == 0)
        return -EAGAIN;
    if (atomic_load(&j.mismatch))
        return 1;
    return atomic_load(&j.err);
}

static int cmd_fill(struct store *s, char **av, int ac, unsigned threads)
{
    if (ac != 3)
        return fail("fill needs PREFIX COUNT SIZE", -EINVAL);
    double secs;
    int rc = run_job(s, av[0], (unsigned)atoi(av[1]),
                     (size_t)strtoull(av[2], NULL, 10), 0, threads, &secs);
    return rc ? fail("fill", rc) : 0;
}

static int cmd_bench(struct store *s, char **av, int ac, unsigned threads)
{
    if (ac != 2)
        return fail("bench needs COUNT SIZE", -EINVAL);
    unsigned count = (unsigned)atoi(av[0]);
    size_t size = (size_t)strtoull(av[1], NULL, 10);
    double mib = (double)count * size / 1048576.0, secs;
    static const char *const names[] = {"put", "get", "delete"};
    for (int op = 0; op < 3; op++) {
        int rc = run_job(s, "bench/", count, size, op, threads, &secs);
        if (rc == 1) {
            fprintf(stderr, "storetool: bench: data read back differs\n");
            return 5;
        }
        if (rc)
            return fail(names[op], rc);
        if (op < 2)
            printf("%s: %u x %zu bytes, %u threads: %.2f s, %.1f MiB/s\n",
                   names[op], count, size, threads, secs, mib / secs);
        else
            printf("delete: %u objects: %.2f s\n", count, secs);
    }
    return 0;
}

/* Ranged reads against a known object, compared with the pattern. */
static int cmd_ranges(struct store *s, char **av, int ac)
{
    if (ac != 2)
        return fail("ranges needs KEY SIZE", -EINVAL);
    size_t size = (size_t)strtoull(av[1], NULL, 10);
    if (size < 16)
        return fail("ranges: SIZE must be at least 16", -EINVAL);
    unsigned char *obj = malloc(size + 1), *buf = malloc(size + 64);
    if (!obj || !buf)
        return fail("ranges", -ENOMEM);
    fill_pattern(obj, size, 4242);
    int rc = store_put(s, av[0], obj, size);
    if (rc)
        return fail("ranges: put", rc);
    struct { uint64_t off; size_t len; } r[] = {
        {0, size}, {0, size + 50}, {0, 1}, {size - 1, 1}, {size - 1, 10},
        {1, 1}, {size / 2, 2}, {size / 3, size / 3}, {0, 0}, {size, 10},
        {size + 100, 5}, {size - 2, 2}, {7, size - 7},
    };
    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
        size_t got = 12345;
        memset(buf, 0xEE, size + 64);
        rc = store_get(s, av[0], r[i].off, buf, r[i].len, &got);
        size_t want = r[i].off >= size ? 0 :
                      (r[i].len < size - r[i].off ? r[i].len : size - r[i].off);
        if (rc) {
            fprintf(stderr, "storetool: ranges: get %" PRIu64 "+%zu: %s\n",
                    r[i].off, r[i].len, strerror(-rc));
            return exit_for(rc);
        }
        if (got != want ||
            (want && memcmp(buf, obj + r[i].off, want) != 0) ||
            buf[want] != 0xEE) {
            fprintf(stderr, "storetool: ranges: get %" PRIu64 "+%zu: got %zu "
                    "bytes, want %zu, or wrong data\n", r[i].off, r[i].len,
                    got, want);
            return 5;
        }
    }
    size_t got;
    rc = store_get(s, "no/such/object", 0, buf, 10, &got);
    if (rc != -ENOENT) {
        fprintf(stderr, "storetool: ranges: missing object gave %d\n", rc);
        return 5;
    }
    rc = store_get(s, "no/such/object", 0, buf, 0, &got);
    if (rc != -ENOENT) {
        fprintf(stderr, "storetool: ranges: HEAD of missing object gave %d\n", rc);
        return 5;
    }
    free(obj);
    free(buf);
    printf("ranges: ok\n");
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: storetool [-c CREDFILE] [-t THREADS] [-r RETRIES] "
            "[-v] URL put|get|del|delmany|list|stat|fill|ranges|bench ARGS...\n");
}

int main(int argc, char **argv)
{
    struct store_opts opts = {0};
    unsigned threads = 4;
    int opt;
    log_open("storetool", 1, NULL);
    log_set_level(LOG_WARNING);
    while ((opt = getopt(argc, argv, "c:t:r:v")) != -1) {
        switch (opt) {
        case 'c': opts.credentials_file = optarg; break;
        case 't': threads = (unsigned)atoi(optarg); opts.threads = threads; break;
        case 'r': opts.max_retries = (unsigned)atoi(optarg); break;
        case 'v': log_set_level(LOG_DEBUG); break;
        default: usage(); return 1;
        }
    }
    if (argc - optind < 2) {
        usage();
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    const char *url = argv[optind], *cmd = argv[optind + 1];
    char **av = argv + optind + 2;
    int ac = argc - optind - 2;
    struct store *s;
    int rc = store_open(url, &opts, &s);
    if (rc < 0)
        return fail("open", rc);
    int ex;
    if (strcmp(cmd, "put") == 0)
        ex = cmd_put(s, av, ac);
    else if (strcmp(cmd, "get") == 0)
        ex = cmd_get(s, av, ac);
    else if (strcmp(cmd, "del") == 0)
        ex = ac == 1 ? ((rc = store_delete(s, av[0])) ? fail("del", rc) : 0)
                     : fail("del needs KEY", -EINVAL);
    else if (strcmp(cmd, "delmany") == 0)
        ex = cmd_delmany(s, av, ac);
    else if (strcmp(cmd, "list") == 0)
        ex = (rc = store_list(s, ac ? av[0] : "", print_key, NULL)) ?
             fail("list", rc) : 0;
    else if (strcmp(cmd, "stat") == 0)
        ex = cmd_stat(s, av, ac);
    else if (strcmp(cmd, "fill") == 0)
        ex = cmd_fill(s, av, ac, threads);
    else if (strcmp(cmd, "ranges") == 0)
        ex = cmd_ranges(s, av, ac);
    else if (strcmp(cmd, "bench") == 0)
        ex = cmd_bench(s, av, ac, threads);
    else {
        usage();
        ex = 1;
    }
    store_close(s);
    return ex;
}
