/* test_admin.c - unit tests of the admin parts that need no gateway: the
 * admin_hosts list, the exports table, the metrics table and its Prometheus text and HTTP
 * listener, the job runner, the client counters file and the JSON
 * writer. */
#include "config.h"
#include "admin_acl.h"
#include "admin_jobs.h"
#include "client_stats.h"
#include "exports.h"
#include "jsonw.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- admin_hosts ---- */

static struct sockaddr_storage v4(const char *a)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s = (struct sockaddr_in *)&ss;
    s->sin_family = AF_INET;
    ck_assert_int_eq(inet_pton(AF_INET, a, &s->sin_addr), 1);
    return ss;
}

static struct sockaddr_storage v6(const char *a)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
    s->sin6_family = AF_INET6;
    ck_assert_int_eq(inet_pton(AF_INET6, a, &s->sin6_addr), 1);
    return ss;
}

static int allows(const struct admin_acl *acl, struct sockaddr_storage ss)
{
    return admin_acl_allows(acl, (struct sockaddr *)&ss, sizeof ss);
}

START_TEST(acl_rules)
{
    struct admin_acl acl;
    ck_assert_int_eq(admin_acl_parse(NULL, &acl), 0);
    ck_assert_uint_eq(acl.n, 0);
    /* The gateway host itself, and only through 127.0.0.1 and ::1. */
    ck_assert(allows(&acl, v4("127.0.0.1")));
    ck_assert(allows(&acl, v6("::1")));
    ck_assert(allows(&acl, v6("::ffff:127.0.0.1")));
    ck_assert(!allows(&acl, v4("127.0.0.2")));
    ck_assert(!allows(&acl, v4("10.1.2.3")));
    ck_assert(!allows(&acl, v6("fe80::1")));

    ck_assert_int_eq(admin_acl_parse(" 10.0.0.5, 192.168.1.0/24,fd00::/8 ,"
                                     "127.0.0.2", &acl), 0);
    ck_assert_uint_eq(acl.n, 4);
    ck_assert(allows(&acl, v4("10.0.0.5")));
    ck_assert(!allows(&acl, v4("10.0.0.6")));
    ck_assert(allows(&acl, v4("192.168.1.77")));
    ck_assert(!allows(&acl, v4("192.168.2.1")));
    ck_assert(allows(&acl, v6("fd12::1")));
    ck_assert(!allows(&acl, v6("fe80::1")));
    ck_assert(allows(&acl, v6("::ffff:10.0.0.5")));
    ck_assert(allows(&acl, v4("127.0.0.2")));

    ck_assert_int_eq(admin_acl_parse("10.0.0.0/7", &acl), 0);
    ck_assert(allows(&acl, v4("11.255.0.1")));
    ck_assert(!allows(&acl, v4("12.0.0.1")));
    ck_assert_int_eq(admin_acl_parse("0.0.0.0/0", &acl), 0);
    ck_assert(allows(&acl, v4("8.8.8.8")));

    ck_assert_int_eq(admin_acl_parse("host.example", &acl), -EINVAL);
    ck_assert_int_eq(admin_acl_parse("10.0.0.1/33", &acl), -EINVAL);
    ck_assert_int_eq(admin_acl_parse("::1/129", &acl), -EINVAL);
    ck_assert_int_eq(admin_acl_parse("10.0.0.1/", &acl), -EINVAL);
    ck_assert_int_eq(admin_acl_parse("10.0.0.1/-1", &acl), -EINVAL);

    char buf[64];
    struct sockaddr_storage ss = v6("::ffff:10.0.0.5");
    net_peer_format((struct sockaddr *)&ss, buf, sizeof buf);
    ck_assert_str_eq(buf, "10.0.0.5");
}
END_TEST

/* ---- exports ---- */

static struct export_rule rule_for(struct exports *ex, const char *vol,
                                   struct sockaddr_storage ss)
{
    struct export_rule r;
    exports_rule(ex, vol, (struct sockaddr *)&ss, sizeof ss, &r);
    return r;
}

START_TEST(exports_table)
{
    struct exports *ex;
    /* No file: everything open, nothing squashed. */
    ck_assert_int_eq(exports_open(NULL, &ex), 0);
    ck_assert(!exports_active(ex));
    struct export_rule r = rule_for(ex, "default", v4("10.9.9.9"));
    ck_assert_int_eq(r.access, EXPORT_RW);
    ck_assert_int_eq(r.squash, EXPORT_SQUASH_NONE);
    exports_close(ex);

    ck_assert_int_eq(exports_parse(
        "# comment line\n"
        "/  10.1.0.0/16(rw) 10.2.0.7(rw,no_root_squash) \\\n"
        "   fd00::/8(rw,all_squash,anonuid=1000,anongid=100) *  # tail\n"
        "\n"
        "/scratch 10.1.2.3(ro) 10.1.0.0/16(rw)\n"
        "/sec 10.9.0.0/16(rw,secure)\n", "test", &ex), 0);
    ck_assert(exports_active(ex));
    /* First matching client wins; defaults are ro and root_squash. */
    r = rule_for(ex, "default", v4("10.1.5.5"));
    ck_assert_int_eq(r.access, EXPORT_RW);
    ck_assert_int_eq(r.squash, EXPORT_SQUASH_ROOT);
    ck_assert_uint_eq(r.anonuid, EXPORT_ANON_ID);
    r = rule_for(ex, "default", v4("10.2.0.7"));
    ck_assert_int_eq(r.access, EXPORT_RW);
    ck_assert_int_eq(r.squash, EXPORT_SQUASH_NONE);
    r = rule_for(ex, "default", v6("fd00::5"));
    ck_assert_int_eq(r.squash, EXPORT_SQUASH_ALL);
    ck_assert_uint_eq(r.anonuid, 1000);
    ck_assert_uint_eq(r.anongid, 100);
    r = rule_for(ex, "default", v4("192.0.2.1"));       /* "*" */
    ck_assert_int_eq(r.access, EXPORT_RO);
    ck_assert_int_eq(r.squash, EXPORT_SQUASH_ROOT);
    r = rule_for(ex, "scratch", v4("10.1.2.3"));
    ck_assert_int_eq(r.access, EXPORT_RO);
    r = rule_for(ex, "scratch", v6("::ffff:10.1.9.9"));
    ck_assert_int_eq(r.access, EXPORT_RW);
    ck_assert_int_eq(rule_for(ex, "scratch", v4("10.3.0.1")).access,
                     EXPORT_DENIED);
    ck_assert_int_eq(rule_for(ex, "other", v4("10.1.2.3")).access,
                     EXPORT_DENIED);
    /* secure: a port below 1024 or nothing. */
    struct sockaddr_storage sp = v4("10.9.1.1");
    ((struct sockaddr_in *)&sp)->sin_port = htons(1023);
    ck_assert_int_eq(rule_for(ex, "sec", sp).access, EXPORT_RW);
    ((struct sockaddr_in *)&sp)->sin_port = htons(1024);
    ck_assert_int_eq(rule_for(ex, "sec", sp).access, EXPORT_DENIED);
    ck_assert_int_eq(rule_for(ex, "default", v4("10.1.5.5")).secure, 0);
    exports_close(ex);

    /* Squashing, as Linux's nfsd does it. */
    struct export_rule root = { EXPORT_RW, EXPORT_SQUASH_ROOT, 65534, 65533, 0 };
    struct meta_cred cr = { .uid = 0, .gid = 0, .ngroups = 2,
                            .groups = { 0, 5 } };
    export_squash_cred(&root, &cr);
    ck_assert_uint_eq(cr.uid, 65534);
    ck_assert_uint_eq(cr.gid, 65533);
    ck_assert_uint_eq(cr.ngroups, 2);
    ck_assert_uint_eq(cr.groups[0], 65533);
    ck_assert_uint_eq(cr.groups[1], 5);
    struct meta_cred user = { .uid = 1000, .gid = 100, .ngroups = 1,
                              .groups = { 100 } };
    export_squash_cred(&root, &user);
    ck_assert_uint_eq(user.uid, 1000);
    ck_assert_uint_eq(user.gid, 100);
    struct export_rule all = { EXPORT_RW, EXPORT_SQUASH_ALL, 7, 8, 0 };
    export_squash_cred(&all, &user);
    ck_assert_uint_eq(user.uid, 7);
    ck_assert_uint_eq(user.gid, 8);
    ck_assert_uint_eq(user.ngroups, 0);

    /* Bad files name their fault and give no table. */
    const char *bad[] = {
        "scratch *(rw)\n",                      /* not a path */
        "/a/b *(rw)\n",
        "/ \n",                                 /* no client */
        "/ host.example(rw)\n",
        "/ *(rw,sync_maybe)\n",
        "/ * (rw)\n",                           /* space before options */
        "/ *(rw\n",
        "/ *(anonuid=-1)\n",
        "/ *(anongid=x)\n",
        "/ 10.0.0.0/33\n",
        "/ *(rw)\n/default *(ro)\n",            /* twice */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ex = NULL;
        ck_assert_msg(exports_parse(bad[i], "test", &ex) == -EINVAL,
                      "accepted: %s", bad[i]);
        ck_assert_ptr_null(ex);
    }
}
END_TEST

START_TEST(exports_reload_file)
{
    char path[] = "/tmp/flexfs-exports-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "/ 10.0.0.1(rw)\n", 15), 15);
    close(fd);
    struct exports *ex;
    ck_assert_int_eq(exports_open(path, &ex), 0);
    ck_assert_int_eq(rule_for(ex, "default", v4("10.0.0.1")).access,
                     EXPORT_RW);
    ck_assert_int_eq(rule_for(ex, "default", v4("10.0.0.2")).access,
                     EXPORT_DENIED);
    /* A bad file keeps the table in force; a good one replaces it. */
    FILE *f = fopen(path, "w");
    fputs("/ 10.0.0.2(rw\n", f);
    fclose(f);
    ck_assert_int_eq(exports_reload(ex), -EINVAL);
    ck_assert_int_eq(rule_for(ex, "default", v4("10.0.0.1")).access,
                     EXPORT_RW);
    f = fopen(path, "w");
    fputs("/ 10.0.0.2\n", f);
    fclose(f);
    ck_assert_int_eq(exports_reload(ex), 0);
    ck_assert_int_eq(rule_for(ex, "default", v4("10.0.0.1")).access,
                     EXPORT_DENIED);
    ck_assert_int_eq(rule_for(ex, "default", v4("10.0.0.2")).access,
                     EXPORT_RO);
    exports_close(ex);
    unlink(path);
    ck_assert_int_eq(exports_open(path, &ex), -ENOENT);
}
END_TEST

/* ---- metrics ---- */

START_TEST(metrics_counts)
{
    metrics_init();
    metrics_op_done(0x2046580a, 4, "LOOKUP", 30000, 1);           /* 30 us */
    metrics_op_done(0x2046580a, 4, "LOOKUP", 3000000, 0);         /* 3 ms */
    metrics_op_done(0x2046580a, 4, "LOOKUP", 40000000000ull, 1);  /* 40 s */
    metrics_op_done(100003, METRICS_NFS4_OP | 18, "OPEN", 1000, 1);
    metrics_store_error();

    struct metrics_op ops[16];
    size_t n = metrics_snapshot(ops, 16);
    ck_assert_uint_eq(n, 2);
    const struct metrics_op *lk = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(ops[i].name, "LOOKUP") == 0)
            lk = &ops[i];
    ck_assert_ptr_nonnull(lk);
    ck_assert_str_eq(lk->prog, "flexfs");
    ck_assert_uint_eq(lk->count, 3);
    ck_assert_uint_eq(lk->errors, 1);
    ck_assert_uint_eq(lk->max_ns, 40000000000ull);
    ck_assert_uint_eq(lk->buckets[0], 1);
    ck_assert_uint_eq(lk->buckets[METRICS_NBUCKETS], 1);   /* +Inf */
    ck_assert_uint_eq(metrics_quantile_ns(lk, 0.3), 50000);
    ck_assert_uint_eq(metrics_quantile_ns(lk, 0.5), 5000000);
    ck_assert_uint_eq(metrics_quantile_ns(lk, 1.0), 40000000000ull);
    ck_assert_uint_ge(metrics_store_errors(), 1);
    ck_assert_int_gt(metrics_start_time(), 1600000000);
}
END_TEST

static void test_gauges(void *arg, struct metrics_gauges *g)
{
    g->volumes = 2;
    g->sessions = 3;
    g->locks = 4;
    g->garbage = 5;
}

START_TEST(metrics_text)
{
    metrics_op_done(0x2046580b, 1, "STATUS\"x", 2000000, 1);
    char *txt;
    size_t len;
    ck_assert_int_eq(metrics_render(test_gauges, NULL, &txt, &len), 0);
    ck_assert_uint_eq(strlen(txt), len);
    ck_assert_ptr_nonnull(strstr(txt, "# TYPE flexfs_rpc_duration_seconds "
                                      "histogram\n"));
    ck_assert_ptr_nonnull(strstr(txt, "flexfs_rpc_calls_total{program=\"admin"
                                      "\",op=\"STATUS\\\"x\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(txt, "le=\"0.0025\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(txt, "le=\"+Inf\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(txt, "flexfs_sessions 3\n"));
    ck_assert_ptr_nonnull(strstr(txt, "flexfs_garbage_blocks 5\n"));
    ck_assert_ptr_nonnull(strstr(txt, "flexfs_build_info{version=\""));
    /* Every line is a comment or "name{labels} value". */
    char *save, *line = strtok_r(txt, "\n", &save);
    int lines = 0;
    for (; line; line = strtok_r(NULL, "\n", &save), lines++) {
        if (line[0] == '#')
            continue;
        ck_assert_msg(strncmp(line, "flexfs_", 7) == 0, "line: %s", line);
        ck_assert_ptr_nonnull(strrchr(line, ' '));
    }
    ck_assert_int_gt(lines, 20);
    free(txt);
}
END_TEST

/* One HTTP exchange with the listener; returns the response (malloc'd). */
static char *http(uint16_t port, const char *req)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons(port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    size_t cap = 1 << 20, got = 0;
    char *buf = malloc(cap);
    ssize_t n;
    while ((n = read(fd, buf + got, cap - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(fd);
    return buf;
}

START_TEST(metrics_listener)
{
    struct metrics_http *h;
    ck_assert_int_eq(metrics_http_start("127.0.0.1:0", test_gauges, NULL, &h),
                     0);
    uint16_t port = metrics_http_port(h);
    ck_assert_uint_gt(port, 0);
    char *r = http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_msg(strncmp(r, "HTTP/1.0 200 OK\r\n", 17) == 0, "%s", r);
    ck_assert_ptr_nonnull(strstr(r, "text/plain; version=0.0.4"));
    ck_assert_ptr_nonnull(strstr(r, "\r\n\r\n# HELP flexfs_build_info"));
    free(r);
    r = http(port, "HEAD /metrics?x=1 HTTP/1.0\r\n\r\n");
    ck_assert(strncmp(r, "HTTP/1.0 200 OK\r\n", 17) == 0);
    ck_assert_ptr_null(strstr(r, "# HELP"));
    free(r);
    r = http(port, "GET / HTTP/1.0\r\n\r\n");
    ck_assert(strncmp(r, "HTTP/1.0 404 ", 13) == 0);
    free(r);
    r = http(port, "POST /metrics HTTP/1.0\r\n\r\n");
    ck_assert(strncmp(r, "HTTP/1.0 405 ", 13) == 0);
    free(r);
    r = http(port, "garbage\r\n\r\n");
    ck_assert(strncmp(r, "HTTP/1.0 400 ", 13) == 0);
    free(r);
    char *big = malloc(20000);
    memset(big, 'a', 19999);
    big[19999] = '\0';
    memcpy(big, "GET /", 5);
    r = http(port, big);
    ck_assert(strncmp(r, "HTTP/1.0 431 ", 13) == 0);
    free(r);
    free(big);
    metrics_http_stop(h);
    ck_assert_int_ne(metrics_http_start("not-an-address", NULL, NULL, &h), 0);
}
END_TEST

/* ---- jobs ---- */

static int slow_job(struct admin_job *j, void *arg)
{
    int *steps = arg;
    for (int i = 0; i < *steps; i++) {
        if (admin_job_cancelled(j))
            return -ECANCELED;
        admin_job_progress(j, "working", (uint64_t)i, (uint64_t)*steps);
        usleep(20000);
    }
    admin_job_counter(j, "things", 7);
    admin_job_counter(j, "things", 8);
    for (int i = 0; i < 1005; i++)
        admin_job_message(j, "a problem");
    return 0;
}

static int failing_job(struct admin_job *j, void *arg)
{
    return -EIO;
}

static int wait_done(struct admin_jobs *t, uint64_t id, fa_job_ok *st)
{
    for (int i = 0; i < 500; i++) {
        memset(st, 0, sizeof *st);
        ck_assert_int_eq(admin_jobs_status(t, id, st), 0);
        if (st->state != FA_JOB_RUNNING)
            return 0;
        xdr_free((xdrproc_t)xdr_fa_job_ok, (char *)st);
        usleep(10000);
    }
    return -1;
}

START_TEST(jobs)
{
    struct admin_jobs *t;
    ck_assert_int_eq(admin_jobs_create(&t), 0);
    int steps = 10;
    uint64_t id, id2;
    ck_assert_int_eq(admin_jobs_start(t, "fsck", slow_job, &steps, NULL, &id),
                     0);
    ck_assert_int_eq(admin_jobs_start(t, "fsck", slow_job, &steps, NULL,
                                      &id2), -EBUSY);
    ck_assert_int_eq(admin_jobs_start(t, "gc", failing_job, NULL, NULL, &id2),
                     0);
    ck_assert_uint_ne(id, id2);
    fa_job_ok st;
    ck_assert_int_eq(wait_done(t, id, &st), 0);
    ck_assert_int_eq(st.state, FA_JOB_DONE);
    ck_assert_str_eq(st.kind, "fsck");
    ck_assert_uint_eq(st.counters.counters_len, 1);
    ck_assert_uint_eq(st.counters.counters_val[0].value, 8);
    ck_assert_uint_eq(st.messages.messages_len, 1000);
    ck_assert(st.messages_truncated);
    xdr_free((xdrproc_t)xdr_fa_job_ok, (char *)&st);
    ck_assert_int_eq(wait_done(t, id2, &st), 0);
    ck_assert_int_eq(st.state, FA_JOB_FAILED);
    ck_assert_int_eq(st.error, EIO);
    xdr_free((xdrproc_t)xdr_fa_job_ok, (char *)&st);
    ck_assert_int_eq(admin_jobs_status(t, 9999, &st), -ENOENT);
    /* Destroy stops a running job. */
    steps = 100000;
    ck_assert_int_eq(admin_jobs_start(t, "fsck", slow_job, &steps, NULL, &id),
                     0);
    admin_jobs_destroy(t);
}
END_TEST

/* ---- client counters ---- */

START_TEST(client_stats_file)
{
    char out[256];
    ck_assert_int_eq(cs_escape_path("/mnt/flexfs", out, sizeof out), 0);
    ck_assert_str_eq(out, "mnt-flexfs");
    ck_assert_int_eq(cs_escape_path("/", out, sizeof out), 0);
    ck_assert_str_eq(out, "-");
    ck_assert_int_eq(cs_escape_path("//a//b/", out, sizeof out), 0);
    ck_assert_str_eq(out, "a-b");
    ck_assert_int_eq(cs_escape_path("/mnt/my-flex fs/.x/\xc3\xa4", out,
                                    sizeof out), 0);
    ck_assert_str_eq(out, "mnt-my\\x2dflex\\x20fs-.x-\\xc3\\xa4");
    ck_assert_int_eq(cs_escape_path("/.hidden", out, sizeof out), 0);
    ck_assert_str_eq(out, "\\x2ehidden");
    ck_assert_int_eq(cs_escape_path("relative", out, sizeof out), -EINVAL);
    ck_assert_int_eq(cs_escape_path("/abcdef", out, 4), -ENAMETOOLONG);

    char dir[] = "/tmp/flexfs-test-cs.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char mnt[300], path[600];
    snprintf(mnt, sizeof mnt, "%s/mnt", dir);
    ck_assert_int_eq(mkdir(mnt, 0755), 0);
    setenv("FLEXFS_STATS_DIR", dir, 1);
    struct client_stats *s = malloc(sizeof *s);
    ck_assert_int_eq(cs_load(mnt, s), -ENOENT);

    /* Found under the name the escaping gives... */
    ck_assert_int_eq(cs_escape_path(mnt, out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/mount-%s.stats", dir, out);
    FILE *f = fopen(path, "w");
    fprintf(f, "format=1\nmountpoint=%s\ncache_hits=12\nbytes_read=x\n"
            "no equals sign\n", mnt);
    fclose(f);
    ck_assert_int_eq(cs_load(mnt, s), 0);
    ck_assert_uint_eq(cs_num(s, "cache_hits", NULL), 12);
    int found;
    ck_assert_uint_eq(cs_num(s, "bytes_read", &found), 0);
    ck_assert_int_eq(found, 0);
    ck_assert_ptr_null(cs_get(s, "nothing"));
    unlink(path);

    /* ...or by its mountpoint line under another name. */
    snprintf(path, sizeof path, "%s/mount-other.stats", dir);
    f = fopen(path, "w");
    fprintf(f, "format=1\nmountpoint=%s\npid=1\n", mnt);
    fclose(f);
    ck_assert_int_eq(cs_load(mnt, s), 0);
    ck_assert_uint_eq(cs_num(s, "pid", NULL), 1);
    unlink(path);

    /* A file of an unknown format is refused. */
    snprintf(path, sizeof path, "%s/mount-%s.stats", dir, out);
    f = fopen(path, "w");
    fprintf(f, "format=2\nmountpoint=%s\n", mnt);
    fclose(f);
    ck_assert_int_eq(cs_load(mnt, s), -EINVAL);
    unlink(path);
    rmdir(mnt);
    rmdir(dir);
    unsetenv("FLEXFS_STATS_DIR");
    free(s);
}
END_TEST

/* ---- JSON ---- */

START_TEST(json_writer)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct jsonw w;
    jw_init(&w, f);
    jw_obj(&w, NULL);
    jw_str(&w, "s", "a\"b\\c\n\x01");
    jw_u64(&w, "u", UINT64_MAX);
    jw_i64(&w, "i", -5);
    jw_bool(&w, "b", 1);
    jw_null(&w, "n");
    jw_arr(&w, "empty");
    jw_end(&w);
    jw_arr(&w, "a");
    jw_u64(&w, NULL, 1);
    jw_obj(&w, NULL);
    jw_dbl(&w, "d", 0.5);
    jw_end(&w);
    jw_end(&w);
    jw_end(&w);
    fclose(f);
    ck_assert_str_eq(buf,
        "{\n"
        "  \"s\": \"a\\\"b\\\\c\\n\\u0001\",\n"
        "  \"u\": 18446744073709551615,\n"
        "  \"i\": -5,\n"
        "  \"b\": true,\n"
        "  \"n\": null,\n"
        "  \"empty\": [],\n"
        "  \"a\": [\n"
        "    1,\n"
        "    {\n"
        "      \"d\": 0.5\n"
        "    }\n"
        "  ]\n"
        "}\n");
    free(buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("admin");
    TCase *tc = tcase_create("all");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, acl_rules);
    tcase_add_test(tc, exports_table);
    tcase_add_test(tc, exports_reload_file);
    tcase_add_test(tc, metrics_counts);
    tcase_add_test(tc, metrics_text);
    tcase_add_test(tc, metrics_listener);
    tcase_add_test(tc, jobs);
    tcase_add_test(tc, client_stats_file);
    tcase_add_test(tc, json_writer);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    /* metrics_counts counts exactly what it recorded: no fork, so run the
     * tests in this order in one process. */
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
