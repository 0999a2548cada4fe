/* flexfs-admin.c - the administration tool: talks to a running gateway
 * over its admin RPC program (rpc/flexfs_admin.x) and reads a FUSE
 * client's counters file (client-stats).
 *
 * Output is for people by default and JSON with --json.  Exit status: 0
 * on success, 1 on an error (with a message on stderr), 2 on a usage
 * error; fsck follows fsck(8): 0 clean, 1 problems found and repaired,
 * 4 problems left, 8 could not run. */
#include "config.h"
#include "admin_rpc.h"
#include "client_stats.h"
#include "conf.h"
#include "flexfs_admin.h"
#include "jsonw.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* xdr_void as an xdrproc_t (libtirpc declares it without parameters). */
#define XDR_VOID ((xdrproc_t)(void (*)(void))xdr_void)

#define EXIT_USAGE 2
#define FSCK_REPAIRED 1
#define FSCK_LEFT 4
#define FSCK_FAILED 8

static struct {
    const char *host, *port, *source;
    int timeout;                        /* seconds per call; 0: per command */
    int json;
    struct admin_conn conn;
} g = { .host = "127.0.0.1", .port = "2049" };

static void usage(FILE *f)
{
    fprintf(f,
"usage: flexfs-admin [-H HOST] [-p PORT] [--json] COMMAND [ARGS]\n"
"\n"
"commands:\n"
"  status                          version, uptime, volumes, sessions,\n"
"                                  operation counters and latencies, DB figures\n"
"  volume create NAME [--block-size SIZE]\n"
"  volume list\n"
"  volume delete NAME [--force]    --force: also a volume that has files\n"
"  clients                         sessions (mounts) and their leases\n"
"  evict SESSION                   end a session now: its opens and locks go\n"
"  locks [PATH|VOLUME:PATH|INODE]  held and waiting locks\n"
"  gc                              garbage collection pass now\n"
"  fsck [--repair]                 check namespace and block maps vs. the store\n"
"  backup DIR                      hot backup of the metadata into DIR (a new\n"
"                                  or empty directory on the gateway host)\n"
"  checkpoint                      Berkeley DB checkpoint, old logs removed\n"
"  client-stats MOUNTPOINT         a local FUSE mount's counters\n"
"\n"
"options:\n"
"  -H, --host HOST      gateway address (default 127.0.0.1)\n"
"  -p, --port PORT      gateway port (default 2049)\n"
"  -j, --json           JSON output for scripts\n"
"  -s, --source ADDR    connect from this local address\n"
"  -t, --timeout SECS   per-call timeout (default 30; backup and volume\n"
"                       delete: 3600)\n"
"  -h, --help           this help\n"
"  -V, --version        print the version\n");
}

static void die_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("flexfs-admin: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n(see flexfs-admin --help)\n", stderr);
    va_end(ap);
    exit(EXIT_USAGE);
}

static void errmsg(const char *what, int status)
{
    fprintf(stderr, "flexfs-admin: %s: %s\n", what, strerror(status));
}

/* ---- formatting ---- */

static const char *fmt_bytes(uint64_t b, char *buf, size_t len)
{
    static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB",
                                        "PiB", "EiB" };
    double v = (double)b;
    unsigned u = 0;
    while (v >= 1024 && u < 6) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%" PRIu64 " B", b);
    else
        snprintf(buf, len, "%.1f %s", v, unit[u]);
    return buf;
}

static const char *fmt_ns(uint64_t ns, char *buf, size_t len)
{
    if (ns < 1000)
        snprintf(buf, len, "%" PRIu64 " ns", ns);
    else if (ns < 1000000)
        snprintf(buf, len, "%.1f us", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, len, "%.1f ms", (double)ns / 1e6);
    else
        snprintf(buf, len, "%.2f s", (double)ns / 1e9);
    return buf;
}

static const char *fmt_duration(int64_t s, char *buf, size_t len)
{
    if (s < 0)
        s = 0;
    int64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
    if (d)
        snprintf(buf, len, "%" PRId64 "d %" PRId64 "h %" PRId64 "m", d, h, m);
    else if (h)
        snprintf(buf, len, "%" PRId64 "h %" PRId64 "m %" PRId64 "s", h, m,
                 sec);
    else if (m)
        snprintf(buf, len, "%" PRId64 "m %" PRId64 "s", m, sec);
    else
        snprintf(buf, len, "%" PRId64 "s", sec);
    return buf;
}

static const char *fmt_time(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm) ||
        strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(buf, len, "%" PRId64, t);
    return buf;
}

/* ---- calls ---- */

static void connect_or_die(void)
{
    if (admin_connect(&g.conn, g.host, g.port, g.source,
                      g.timeout ? g.timeout : 10) < 0)
        exit(EXIT_FAILURE);
}

static int call(u_long proc, xdrproc_t xa, void *a, xdrproc_t xr, void *r,
                int default_timeout)
{
    return admin_call(&g.conn, proc, xa, a, xr, r,
                      g.timeout ? g.timeout : default_timeout);
}

#define CALL(proc, xa, a, xr, r) \
    call(proc, (xdrproc_t)(xa), a, (xdrproc_t)(xr), r, 30)
#define CALL_VOID(proc, xr, r) call(proc, XDR_VOID, NULL, (xdrproc_t)(xr), r, 30)

/* ---- status ---- */

static void status_json(const fa_status_ok *s)
{
    struct jsonw w;
    jw_init(&w, stdout);
    jw_obj(&w, NULL);
    jw_str(&w, "version", s->release);
    jw_i64(&w, "start_time", s->start_time);
    jw_i64(&w, "uptime_seconds", s->now - s->start_time);
    jw_str(&w, "listen", s->listen);
    jw_str(&w, "meta_dir", s->meta_dir);
    jw_str(&w, "store", s->store_url);
    jw_u64(&w, "volumes", s->volumes);
    jw_u64(&w, "sessions", s->sessions);
    jw_u64(&w, "locks", s->locks);
    jw_u64(&w, "garbage_blocks", s->garbage);
    jw_u64(&w, "store_errors", s->store_errors);
    jw_obj(&w, "db");
    uint64_t acc = s->db_cache_hits + s->db_cache_misses;
    jw_u64(&w, "cache_hits", s->db_cache_hits);
    jw_u64(&w, "cache_misses", s->db_cache_misses);
    if (acc)
        jw_dbl(&w, "cache_hit_rate", (double)s->db_cache_hits / (double)acc);
    else
        jw_null(&w, "cache_hit_rate");
    jw_u64(&w, "cache_bytes", s->db_cache_bytes);
    jw_u64(&w, "log_bytes", s->db_log_bytes);
    jw_u64(&w, "log_files", s->db_log_files);
    jw_end(&w);
    jw_arr(&w, "operations");
    for (u_int i = 0; i < s->ops.ops_len; i++) {
        const fa_op_stat *o = &s->ops.ops_val[i];
        jw_obj(&w, NULL);
        jw_str(&w, "program", o->prog);
        jw_str(&w, "op", o->name);
        jw_u64(&w, "count", o->count);
        jw_u64(&w, "errors", o->errors);
        jw_u64(&w, "total_ns", o->total_ns);
        jw_u64(&w, "avg_ns", o->count ? o->total_ns / o->count : 0);
        jw_u64(&w, "p50_ns", o->p50_ns);
        jw_u64(&w, "p99_ns", o->p99_ns);
        jw_u64(&w, "max_ns", o->max_ns);
        jw_end(&w);
    }
    jw_end(&w);
    jw_end(&w);
}

static void status_text(const fa_status_ok *s)
{
    char a[64], b[64], c[64], d[64];
    printf("gateway      %s (flexfs %s), up %s\n", s->listen, s->release,
           fmt_duration(s->now - s->start_time, a, sizeof a));
    printf("started      %s\n", fmt_time(s->start_time, a, sizeof a));
    printf("metadata     %s\n", s->meta_dir);
    printf("store        %s\n", s->store_url);
    printf("volumes      %u\n", s->volumes);
    printf("sessions     %u\n", s->sessions);
    printf("locks        %" PRIu64 "\n", s->locks);
    printf("garbage      %" PRIu64 " block versions waiting\n", s->garbage);
    printf("store errors %" PRIu64 "\n", s->store_errors);
    uint64_t acc = s->db_cache_hits + s->db_cache_misses;
    if (acc)
        printf("db cache     %.1f%% hits (%" PRIu64 " hits, %" PRIu64
               " misses), %s\n", 100.0 * (double)s->db_cache_hits /
               (double)acc, s->db_cache_hits, s->db_cache_misses,
               fmt_bytes(s->db_cache_bytes, a, sizeof a));
    else
        printf("db cache     no accesses yet, %s\n",
               fmt_bytes(s->db_cache_bytes, a, sizeof a));
    printf("db log       %u files, %s\n", s->db_log_files,
           fmt_bytes(s->db_log_bytes, a, sizeof a));
    if (!s->ops.ops_len) {
        printf("\nno operations served yet\n");
        return;
    }
    printf("\n%-8s %-20s %10s %8s %10s %10s %10s %10s\n", "PROGRAM",
           "OPERATION", "CALLS", "ERRORS", "AVG", "P50", "P99", "MAX");
    for (u_int i = 0; i < s->ops.ops_len; i++) {
        const fa_op_stat *o = &s->ops.ops_val[i];
        printf("%-8s %-20s %10" PRIu64 " %8" PRIu64 " %10s %10s %10s %10s\n",
               o->prog, o->name, o->count, o->errors,
               fmt_ns(o->count ? o->total_ns / o->count : 0, a, sizeof a),
               fmt_ns(o->p50_ns, b, sizeof b), fmt_ns(o->p99_ns, c, sizeof c),
               fmt_ns(o->max_ns, d, sizeof d));
    }
}

static int cmd_status(int argc, char **argv)
{
    if (argc != 1)
        die_usage("status takes no arguments");
    fa_gwstatus_res r;
    memset(&r, 0, sizeof r);
    if (CALL_VOID(FAPROC_STATUS, xdr_fa_gwstatus_res, &r) < 0)
        return EXIT_FAILURE;
    int rc = EXIT_SUCCESS;
    if (r.status) {
        errmsg("status", r.status);
        rc = EXIT_FAILURE;
    } else if (g.json) {
        status_json(&r.fa_gwstatus_res_u.ok);
    } else {
        status_text(&r.fa_gwstatus_res_u.ok);
    }
    xdr_free((xdrproc_t)xdr_fa_gwstatus_res, (char *)&r);
    return rc;
}

/* ---- volumes ---- */

static void volume_json(struct jsonw *w, const fa_volume *v)
{
    jw_obj(w, NULL);
    jw_u64(w, "id", v->id);
    jw_str(w, "name", v->name);
    jw_u64(w, "root", v->root);
    jw_u64(w, "block_size", v->block_size);
    jw_u64(w, "inodes", v->inodes);
    jw_u64(w, "bytes", v->bytes);
    jw_end(w);
}

static int volume_create(int argc, char **argv)
{
    const char *name = NULL;
    uint64_t bs = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--block-size") == 0 && i + 1 < argc) {
            if (conf_parse_size(argv[++i], &bs) < 0 || bs > UINT32_MAX)
                die_usage("bad block size \"%s\" (e.g. 4M, 1M, 64k)",
                          argv[i]);
        } else if (strncmp(argv[i], "--block-size=", 13) == 0) {
            if (conf_parse_size(argv[i] + 13, &bs) < 0 || bs > UINT32_MAX)
                die_usage("bad block size \"%s\"", argv[i] + 13);
        } else if (argv[i][0] == '-') {
            die_usage("volume create: unknown option %s", argv[i]);
        } else if (!name) {
            name = argv[i];
        } else {
            die_usage("volume create takes one NAME");
        }
    }
    if (!name)
        die_usage("volume create needs a NAME");
    fa_volume_create_args a = { .name = (char *)name,
                                .block_size = (u_int)bs };
    fa_volume_res r;
    memset(&r, 0, sizeof r);
    if (CALL(FAPROC_VOLUME_CREATE, xdr_fa_volume_create_args, &a,
             xdr_fa_volume_res, &r) < 0)
        return EXIT_FAILURE;
    int rc = EXIT_SUCCESS;
    char what[300];
    snprintf(what, sizeof what, "volume create %s", name);
    if (r.status == EINVAL)
        fprintf(stderr, "flexfs-admin: %s: invalid name or block size (a "
                "power of two from 4 KiB to 64 MiB)\n", what);
    if (r.status) {
        if (r.status != EINVAL)
            errmsg(what, r.status);
        rc = EXIT_FAILURE;
    } else if (g.json) {
        struct jsonw w;
        jw_init(&w, stdout);
        volume_json(&w, &r.fa_volume_res_u.volume);
    } else {
        char b[32];
        const fa_volume *v = &r.fa_volume_res_u.volume;
        printf("volume %s created (id %" PRIu64 ", block size %s)\n",
               v->name, v->id, fmt_bytes(v->block_size, b, sizeof b));
    }
    xdr_free((xdrproc_t)xdr_fa_volume_res, (char *)&r);
    return rc;
}

static int volume_list(int argc, char **argv)
{
    if (argc)
        die_usage("volume list takes no arguments");
    fa_volume_list_res r;
    memset(&r, 0, sizeof r);
    if (CALL_VOID(FAPROC_VOLUME_LIST, xdr_fa_volume_list_res, &r) < 0)
        return EXIT_FAILURE;
    if (r.status) {
        errmsg("volume list", r.status);
        return EXIT_FAILURE;
    }
    u_int n = r.fa_volume_list_res_u.volumes.volumes_len;
    fa_volume *v = r.fa_volume_list_res_u.volumes.volumes_val;
    if (g.json) {
        struct jsonw w;
        jw_init(&w, stdout);
        jw_arr(&w, NULL);
        for (u_int i = 0; i < n; i++)
            volume_json(&w, &v[i]);
        jw_end(&w);
    } else {
        printf("%-6s %-24s %10s %10s %12s\n", "ID", "NAME", "BLOCK SIZE",
               "INODES", "BYTES");
        for (u_int i = 0; i < n; i++) {
            char a[32], b[32];
            printf("%-6" PRIu64 " %-24s %10s %10" PRIu64 " %12s\n", v[i].id,
                   v[i].name, fmt_bytes(v[i].block_size, a, sizeof a),
                   v[i].inodes, fmt_bytes(v[i].bytes, b, sizeof b));
        }
    }
    xdr_free((xdrproc_t)xdr_fa_volume_list_res, (char *)&r);
    return EXIT_SUCCESS;
}

static int volume_delete(int argc, char **argv)
{
    const char *name = NULL;
    int force = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0)
            force = 1;
        else if (argv[i][0] == '-')
            die_usage("volume delete: unknown option %s", argv[i]);
        else if (!name)
            name = argv[i];
        else
            die_usage("volume delete takes one NAME");
    }
    if (!name)
        die_usage("volume delete needs a NAME");
    fa_volume_delete_args a = { .name = (char *)name, .force = force };
    fa_volume_delete_res r;
    memset(&r, 0, sizeof r);
    /* A forced delete removes every inode before it answers. */
    if (call(FAPROC_VOLUME_DELETE, (xdrproc_t)xdr_fa_volume_delete_args, &a,
             (xdrproc_t)xdr_fa_volume_delete_res, &r, 3600) < 0)
        return EXIT_FAILURE;
    if (r.status == ENOTEMPTY) {
        fprintf(stderr, "flexfs-admin: volume %s is not empty; use "
                "--force to delete it with all its files\n", name);
        return EXIT_FAILURE;
    }
    if (r.status == EBUSY) {
        fprintf(stderr, "flexfs-admin: volume %s is mounted; unmount it or "
                "evict its sessions first (see flexfs-admin clients)\n", name);
        return EXIT_FAILURE;
    }
    if (r.status) {
        char what[300];
        snprintf(what, sizeof what, "volume delete %s", name);
        errmsg(what, r.status);
        return EXIT_FAILURE;
    }
    const fa_volume_delete_ok *ok = &r.fa_volume_delete_res_u.ok;
    if (g.json) {
        struct jsonw w;
        jw_init(&w, stdout);
        jw_obj(&w, NULL);
        jw_str(&w, "deleted", name);
        jw_u64(&w, "inodes", ok->inodes);
        jw_u64(&w, "blocks_to_garbage", ok->blocks);
        jw_end(&w);
    } else {
        printf("volume %s deleted (%" PRIu64 " inodes; %" PRIu64 " block "
               "versions go to garbage collection)\n", name, ok->inodes,
               ok->blocks);
    }
    return EXIT_SUCCESS;
}

static int cmd_volume(int argc, char **argv)
{
    if (argc < 2)
        die_usage("volume needs create, list or delete");
    if (strcmp(argv[1], "create") == 0)
        return volume_create(argc - 2, argv + 2);
    if (strcmp(argv[1], "list") == 0 || strcmp(argv[1], "ls") == 0)
        return volume_list(argc - 2, argv + 2);
    if (strcmp(argv[1], "delete") == 0 || strcmp(argv[1], "rm") == 0)
        return volume_delete(argc - 2, argv + 2);
    die_usage("unknown volume command \"%s\"", argv[1]);
}

/* ---- sessions ---- */

static int cmd_clients(int argc, char **argv)
{
    if (argc != 1)
        die_usage("clients takes no arguments");
    fa_session_list_res r;
    memset(&r, 0, sizeof r);
    if (CALL_VOID(FAPROC_CLIENTS, xdr_fa_session_list_res, &r) < 0)
        return EXIT_FAILURE;
    if (r.status) {
        errmsg("clients", r.status);
        return EXIT_FAILURE;
    }
    u_int n = r.fa_session_list_res_u.sessions.sessions_len;
    const fa_session *s = r.fa_session_list_res_u.sessions.sessions_val;
    int64_t now = (int64_t)time(NULL);
    if (g.json) {
        struct jsonw w;
        jw_init(&w, stdout);
        jw_arr(&w, NULL);
        for (u_int i = 0; i < n; i++) {
            jw_obj(&w, NULL);
            jw_u64(&w, "session", s[i].id);
            jw_str(&w, "volume", s[i].volume);
            jw_str(&w, "client", s[i].client_name);
            jw_str(&w, "address", s[i].client_addr);
            jw_u64(&w, "uid", s[i].uid);
            jw_i64(&w, "mount_time", s[i].mount_time);
            jw_i64(&w, "lease_expiry", s[i].lease_expiry);
            jw_i64(&w, "lease_age_seconds",
                   now - (s[i].lease_expiry - (int64_t)s[i].lease_secs));
            jw_i64(&w, "lease_left_seconds", s[i].lease_expiry - now);
            jw_u64(&w, "opens", s[i].opens);
            jw_u64(&w, "locks", s[i].locks);
            jw_end(&w);
        }
        jw_end(&w);
    } else if (n == 0) {
        printf("no sessions\n");
    } else {
        printf("%-8s %-12s %-20s %-22s %6s %-19s %9s %6s %6s\n", "SESSION",
               "VOLUME", "CLIENT", "ADDRESS", "UID", "MOUNTED", "LEASE AGE",
               "OPENS", "LOCKS");
        for (u_int i = 0; i < n; i++) {
            char t[32], age[32];
            int64_t renewed = s[i].lease_expiry - (int64_t)s[i].lease_secs;
            printf("%-8" PRIu64 " %-12s %-20s %-22s %6u %-19s %9s %6u %6u\n",
                   s[i].id, s[i].volume, s[i].client_name, s[i].client_addr,
                   s[i].uid, fmt_time(s[i].mount_time, t, sizeof t),
                   fmt_duration(now - renewed, age, sizeof age), s[i].opens,
                   s[i].locks);
        }
    }
    xdr_free((xdrproc_t)xdr_fa_session_list_res, (char *)&r);
    return EXIT_SUCCESS;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!*s || *s == '-')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int cmd_evict(int argc, char **argv)
{
    uint64_t id;
    if (argc != 2 || parse_u64(argv[1], &id) < 0)
        die_usage("evict needs one SESSION number (see flexfs-admin clients)");
    fa_evict_args a = { .session = id };
    fa_status_res r = { 0 };
    if (CALL(FAPROC_EVICT, xdr_fa_evict_args, &a, xdr_fa_status_res, &r) < 0)
        return EXIT_FAILURE;
    if (r.status == ESTALE || r.status == ENOENT) {
        fprintf(stderr, "flexfs-admin: no session %" PRIu64 "\n", id);
        return EXIT_FAILURE;
    }
    if (r.status) {
        errmsg("evict", r.status);
        return EXIT_FAILURE;
    }
    if (g.json) {
        struct jsonw w;
        jw_init(&w, stdout);
        jw_obj(&w, NULL);
        jw_u64(&w, "evicted", id);
        jw_end(&w);
    } else {
        printf("session %" PRIu64 " evicted\n", id);
    }
    return EXIT_SUCCESS;
}

/* ---- locks ---- */

static void range_str(const fa_lock *l, char *buf, size_t len)
{
    if (l->end == UINT64_MAX)
        snprintf(buf, len, "%" PRIu64 "-EOF", l->start);
    else
        snprintf(buf, len, "%" PRIu64 "-%" PRIu64, l->start, l->end);
}

static int cmd_locks(int argc, char **argv)
{
    if (argc > 2)
        die_usage("locks takes at most one PATH or INODE");
    fa_locks_args a = { .ino = 0, .volume = "", .path = "" };
    char volbuf[FA_NAME_MAX + 1];
    if (argc == 2) {
        const char *t = argv[1];
        const char *colon = strchr(t, ':');
        if (parse_u64(t, &a.ino) == 0) {
            if (a.ino == 0)
                die_usage("inode numbers start at 1");
        } else if (colon && (!strchr(t, '/') || colon < strchr(t, '/'))) {
            size_t vl = (size_t)(colon - t);
            if (vl > FA_NAME_MAX)
                die_usage("volume name too long");
            memcpy(volbuf, t, vl);
            volbuf[vl] = '\0';
            a.volume = volbuf;
            a.path = (char *)(colon[1] ? colon + 1 : "/");
        } else if (t[0] == '/') {
            a.path = (char *)t;
        } else {
            die_usage("locks: give an INODE number, a PATH inside the volume "
                      "starting with '/', or VOLUME:/PATH");
        }
    }
    fa_locks_res r;
    memset(&r, 0, sizeof r);
    if (CALL(FAPROC_LOCKS, xdr_fa_locks_args, &a, xdr_fa_locks_res, &r) < 0)
        return EXIT_FAILURE;
    if (r.status) {
        char what[FA_PATH_MAX + 64];
        snprintf(what, sizeof what, "locks %s", argc == 2 ? argv[1] : "");
        errmsg(what, r.status);
        return EXIT_FAILURE;
    }
    u_int n = r.fa_locks_res_u.locks.locks_len;
    const fa_lock *l = r.fa_locks_res_u.locks.locks_val;
    if (g.json) {
        struct jsonw w;
        jw_init(&w, stdout);
        jw_arr(&w, NULL);
        for (u_int i = 0; i < n; i++) {
            jw_obj(&w, NULL);
            jw_u64(&w, "inode", l[i].ino);
            jw_str(&w, "type", l[i].type == FA_LOCK_WRITE ? "write" : "read");
            jw_str(&w, "kind", l[i].kind == FA_LOCK_FLOCK ? "flock" : "posix");
            jw_u64(&w, "start", l[i].start);
            if (l[i].end == UINT64_MAX)
                jw_null(&w, "end");
            else
                jw_u64(&w, "end", l[i].end);
            jw_u64(&w, "session", l[i].session);
            jw_u64(&w, "owner", l[i].owner);
            jw_u64(&w, "pid", l[i].pid);
            jw_str(&w, "client", l[i].client_addr);
            jw_bool(&w, "waiting", l[i].waiting);
            jw_end(&w);
        }
        jw_end(&w);
    } else if (n == 0) {
        printf("no locks\n");
    } else {
        printf("%-10s %-6s %-6s %-24s %-8s %-18s %-7s %-22s %s\n", "INODE",
               "TYPE", "KIND", "RANGE", "SESSION", "OWNER", "PID", "CLIENT",
               "STATE");
        for (u_int i = 0; i < n; i++) {
            char range[64];
            range_str(&l[i], range, sizeof range);
            printf("%-10" PRIu64 " %-6s %-6s %-24s %-8" PRIu64 " %-#18" PRIx64
                   " %-7u %-22s %s\n", l[i].ino,
                   l[i].type == FA_LOCK_WRITE ? "write" : "read",
                   l[i].kind == FA_LOCK_FLOCK ? "flock" : "posix", range,
                   l[i].session, l[i].owner, l[i].pid, l[i].client_addr,
                   l[i].waiting ? "waiting" : "held");
        }
    }
    xdr_free((xdrproc_t)xdr_fa_locks_res, (char *)&r);
    return EXIT_SUCCESS;
}

/* ---- jobs: gc and fsck ---- */

static int show_bar;                    /* stderr is a terminal */

static void draw_bar(const fa_job_ok *j)
{
    if (!show_bar)
        return;
    char line[160];
    if (j->total) {
        double f = (double)j->done / (double)j->total;
        if (f > 1)
            f = 1;
        int width = 30, fill = (int)(f * width + 0.5);
        char bar[64];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        snprintf(line, sizeof line, "%s %-12.12s [%s] %3d%% %" PRIu64 "/%"
                 PRIu64, j->kind, j->phase, bar, (int)(f * 100),
                 j->done, j->total);
    } else {
        snprintf(line, sizeof line, "%s %-12.12s %" PRIu64, j->kind,
                 j->phase, j->done);
    }
    fprintf(stderr, "\r%-78.78s", line);
    fflush(stderr);
}

static void clear_bar(void)
{
    if (show_bar)
        fprintf(stderr, "\r%78s\r", "");
}

/* Polls the job until it ends; r gets its final state (free it). */
static int wait_job(uint64_t id, fa_job_status_res *r)
{
    show_bar = isatty(STDERR_FILENO);
    fa_job_args a = { .job = id };
    for (;;) {
        memset(r, 0, sizeof *r);
        if (CALL(FAPROC_JOB_STATUS, xdr_fa_job_args, &a,
                 xdr_fa_job_status_res, r) < 0) {
            clear_bar();
            return -1;
        }
        if (r->status) {
            clear_bar();
            errmsg("job status", r->status);
            return -1;
        }
        const fa_job_ok *j = &r->fa_job_status_res_u.ok;
        if (j->state != FA_JOB_RUNNING) {
            clear_bar();
            return 0;
        }
        draw_bar(j);
        xdr_free((xdrproc_t)xdr_fa_job_status_res, (char *)r);
        struct timespec ts = { 0, 200 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

static uint64_t counter(const fa_job_ok *j, const char *name)
{
    for (u_int i = 0; i < j->counters.counters_len; i++)
        if (strcmp(j->counters.counters_val[i].name, name) == 0)
            return j->counters.counters_val[i].value;
    return 0;
}

static void job_json(const fa_job_ok *j, uint64_t id)
{
    struct jsonw w;
    jw_init(&w, stdout);
    jw_obj(&w, NULL);
    jw_str(&w, "job", j->kind);
    jw_u64(&w, "id", id);
    jw_str(&w, "state", j->state == FA_JOB_DONE ? "done" : "failed");
    if (j->state == FA_JOB_FAILED)
        jw_str(&w, "error", strerror(j->error));
    for (u_int i = 0; i < j->counters.counters_len; i++)
        jw_u64(&w, j->counters.counters_val[i].name,
               j->counters.counters_val[i].value);
    jw_arr(&w, "problems");
    for (u_int i = 0; i < j->messages.messages_len; i++)
        jw_str(&w, NULL, j->messages.messages_val[i]);
    jw_end(&w);
    jw_bool(&w, "problems_truncated", j->messages_truncated);
    jw_end(&w);
}

static int start_job(u_long proc, xdrproc_t xa, void *a, const char *what,
                     uint64_t *id)
{
    fa_job_res r = { 0 };
    if (call(proc, xa, a, (xdrproc_t)xdr_fa_job_res, &r, 30) < 0)
        return -1;
    if (r.status == EBUSY) {
        fprintf(stderr, "flexfs-admin: a %s is already running on the "
                "gateway\n", what);
        return -1;
    }
    if (r.status) {
        errmsg(what, r.status);
        return -1;
    }
    *id = r.fa_job_res_u.job;
    return 0;
}

static int cmd_gc(int argc, char **argv)
{
    if (argc != 1)
        die_usage("gc takes no arguments");
    uint64_t id;
    if (start_job(FAPROC_GC_START, XDR_VOID, NULL, "gc", &id) < 0)
        return EXIT_FAILURE;
    fa_job_status_res r;
    if (wait_job(id, &r) < 0)
        return EXIT_FAILURE;
    const fa_job_ok *j = &r.fa_job_status_res_u.ok;
    int rc = j->state == FA_JOB_DONE ? EXIT_SUCCESS : EXIT_FAILURE;
    if (g.json) {
        job_json(j, id);
    } else if (j->state == FA_JOB_FAILED) {
        fprintf(stderr, "flexfs-admin: gc failed after deleting %" PRIu64
                " block versions: %s\n", counter(j, "deleted"),
                strerror(j->error));
    } else {
        printf("gc: deleted %" PRIu64 " block versions; %" PRIu64
               " still waiting (within the %" PRIu64 " s grace period)\n",
               counter(j, "deleted"), counter(j, "backlog_after"),
               counter(j, "grace_seconds"));
    }
    xdr_free((xdrproc_t)xdr_fa_job_status_res, (char *)&r);
    return rc;
}

static const char *const fsck_problems[] = {
    "dangling_entries", "wrong_nlink", "orphan_inodes", "missing_blocks",
    "unreferenced_objects",
};

static int cmd_fsck(int argc, char **argv)
{
    int repair = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repair") == 0 || strcmp(argv[i], "-r") == 0)
            repair = 1;
        else
            die_usage("fsck: unknown argument %s", argv[i]);
    }
    fa_fsck_args a = { .repair = repair };
    uint64_t id;
    if (start_job(FAPROC_FSCK_START, (xdrproc_t)xdr_fa_fsck_args, &a, "fsck",
                  &id) < 0)
        return FSCK_FAILED;
    fa_job_status_res r;
    if (wait_job(id, &r) < 0)
        return FSCK_FAILED;
    const fa_job_ok *j = &r.fa_job_status_res_u.ok;
    uint64_t problems = 0;
    for (size_t i = 0; i < sizeof fsck_problems / sizeof *fsck_problems; i++)
        problems += counter(j, fsck_problems[i]);
    uint64_t repaired = counter(j, "repaired");
    int rc = j->state != FA_JOB_DONE ? FSCK_FAILED
             : problems == 0 ? EXIT_SUCCESS
             : repair && repaired >= problems ? FSCK_REPAIRED : FSCK_LEFT;
    if (g.json) {
        job_json(j, id);
    } else {
        for (u_int i = 0; i < j->messages.messages_len; i++)
            printf("%s\n", j->messages.messages_val[i]);
        if (j->messages_truncated)
            printf("(more problems than listed)\n");
        if (j->state == FA_JOB_FAILED) {
            fprintf(stderr, "flexfs-admin: fsck failed: %s\n",
                    strerror(j->error));
        } else {
            printf("fsck: checked %" PRIu64 " inodes, %" PRIu64 " entries, %"
                   PRIu64 " block map entries, %" PRIu64 " store objects\n",
                   counter(j, "inodes"), counter(j, "entries"),
                   counter(j, "blocks"), counter(j, "objects"));
            printf("  dangling entries      %" PRIu64 "\n"
                   "  wrong link counts     %" PRIu64 "\n"
                   "  orphan inodes         %" PRIu64 "\n"
                   "  missing blocks        %" PRIu64 "\n"
                   "  unreferenced objects  %" PRIu64 "\n",
                   counter(j, "dangling_entries"), counter(j, "wrong_nlink"),
                   counter(j, "orphan_inodes"), counter(j, "missing_blocks"),
                   counter(j, "unreferenced_objects"));
            if (counter(j, "young_objects"))
                printf("  (%" PRIu64 " unreferenced objects left alone: "
                       "younger than the gc grace or their writer is still "
                       "mounted)\n", counter(j, "young_objects"));
            if (counter(j, "foreign_objects"))
                printf("  (%" PRIu64 " objects in the store that are not "
                       "flexfs blocks, left alone)\n",
                       counter(j, "foreign_objects"));
            if (problems == 0)
                printf("fsck: clean\n");
            else if (repair)
                printf("fsck: %" PRIu64 " problems, %" PRIu64 " repaired\n",
                       problems, repaired);
            else
                printf("fsck: %" PRIu64 " problems; run fsck --repair to "
                       "fix them\n", problems);
        }
    }
    xdr_free((xdrproc_t)xdr_fa_job_status_res, (char *)&r);
    return rc;
}

/* ---- backup and checkpoint ---- */

static int cmd_backup(int argc, char **argv)
{
    if (argc != 2)
        die_usage("backup needs one DIR");
    if (argv[1][0] != '/')
        die_usage("backup: DIR must be an absolute path on the gateway host");
    fa_backup_args a = { .dir = argv[1] };
    fa_backup_res r;
    memset(&r, 0, sizeof r);
    if (call(FAPROC_BACKUP, (xdrproc_t)xdr_fa_backup_args, &a,
             (xdrproc_t)xdr_fa_backup_res, &r, 3600) < 0)
        return EXIT_FAILURE;
    if (r.status == ENOTEMPTY || r.status == EEXIST) {
        fprintf(stderr, "flexfs-admin: backup: %s is not empty; give a new "
                "or empty directory\n", argv[1]);
        return EXIT_FAILURE;
    }
    if (r.status) {
        char what[FA_PATH_MAX + 16];
        snprintf(what, sizeof what, "backup to %s", argv[1]);
        errmsg(what, r.status);
        return EXIT_FAILURE;
    }
    if (g.json) {
        struct jsonw w;
        jw_init(&w, stdout);
        jw_obj(&w, NULL);
        jw_str(&w, "backup", argv[1]);
        jw_u64(&w, "files", r.fa_backup_res_u.ok.files);
        jw_u64(&w, "bytes", r.fa_backup_res_u.ok.bytes);
        jw_end(&w);
    } else {
        char b[32];
        printf("backup in %s: %u files, %s (start a gateway with "
               "--meta-dir %s to use it)\n", argv[1],
               r.fa_backup_res_u.ok.files,
               fmt_bytes(r.fa_backup_res_u.ok.bytes, b, sizeof b), argv[1]);
    }
    return EXIT_SUCCESS;
}

static int cmd_checkpoint(int argc, char **argv)
{
    if (argc != 1)
        die_usage("checkpoint takes no arguments");
    fa_status_res r = { 0 };
    if (call(FAPROC_CHECKPOINT, XDR_VOID, NULL,
             (xdrproc_t)xdr_fa_status_res, &r, 600) < 0)
        return EXIT_FAILURE;
    if (r.status) {
        errmsg("checkpoint", r.status);
        return EXIT_FAILURE;
    }
    if (g.json) {
        struct jsonw w;
        jw_init(&w, stdout);
        jw_obj(&w, NULL);
        jw_bool(&w, "checkpoint", 1);
        jw_end(&w);
    } else {
        printf("checkpoint done\n");
    }
    return EXIT_SUCCESS;
}

/* ---- client-stats ---- */

static double ratio(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : 0;
}

static int is_number(const char *v)
{
    if (!*v)
        return 0;
    for (const char *p = v; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return strlen(v) < 20;
}

static void client_stats_json(const struct client_stats *s, int64_t age,
                              int alive)
{
    struct jsonw w;
    jw_init(&w, stdout);
    jw_obj(&w, NULL);
    jw_str(&w, "file", s->path);
    for (size_t i = 0; i < s->n; i++) {
        if (is_number(s->items[i].value))
            jw_u64(&w, s->items[i].key, strtoull(s->items[i].value, NULL, 10));
        else
            jw_str(&w, s->items[i].key, s->items[i].value);
    }
    uint64_t h = cs_num(s, "cache_hits", NULL);
    uint64_t m = cs_num(s, "cache_misses", NULL);
    if (h + m)
        jw_dbl(&w, "cache_hit_rate", ratio(h, h + m));
    jw_i64(&w, "age_seconds", age);
    jw_bool(&w, "client_running", alive);
    jw_end(&w);
}

static void avg_line(const struct client_stats *s, const char *label,
                     const char *count, const char *bytes, const char *ns)
{
    int found;
    uint64_t n = cs_num(s, count, &found);
    if (!found)
        return;
    char b[32], t[32];
    printf("%-13s%" PRIu64 " (%s), avg %s\n", label, n,
           fmt_bytes(cs_num(s, bytes, NULL), b, sizeof b),
           fmt_ns(n ? cs_num(s, ns, NULL) / n : 0, t, sizeof t));
}

static const char *const shown_keys[] = {
    "format", "pid", "mountpoint", "source", "session", "updated",
    "started", "interval", "cache_hits", "cache_misses", "cache_bytes",
    "cache_limit", "bytes_read", "bytes_written", "store_gets",
    "store_get_bytes", "store_get_ns", "store_puts", "store_put_bytes",
    "store_put_ns",
};

static void client_stats_text(const struct client_stats *s, int64_t age,
                              int alive)
{
    char a[32], b[32];
    const char *src = cs_get(s, "source");
    printf("mount        %s (%s, session %s, pid %s)\n",
           cs_get(s, "mountpoint"), src ? src : "?",
           cs_get(s, "session") ? cs_get(s, "session") : "?",
           cs_get(s, "pid") ? cs_get(s, "pid") : "?");
    printf("updated      %s ago%s\n", fmt_duration(age, a, sizeof a),
           alive ? "" : " (the client is not running: stale figures)");
    uint64_t h = cs_num(s, "cache_hits", NULL);
    uint64_t m = cs_num(s, "cache_misses", NULL);
    printf("block cache  %.1f%% hits (%" PRIu64 " hits, %" PRIu64
           " misses), %s of %s\n", 100 * ratio(h, h + m), h, m,
           fmt_bytes(cs_num(s, "cache_bytes", NULL), a, sizeof a),
           fmt_bytes(cs_num(s, "cache_limit", NULL), b, sizeof b));
    printf("read         %s\n",
           fmt_bytes(cs_num(s, "bytes_read", NULL), a, sizeof a));
    printf("written      %s\n",
           fmt_bytes(cs_num(s, "bytes_written", NULL), a, sizeof a));
    avg_line(s, "store GET", "store_gets", "store_get_bytes", "store_get_ns");
    avg_line(s, "store PUT", "store_puts", "store_put_bytes", "store_put_ns");
    for (size_t i = 0; i < s->n; i++) {
        int shown = 0;
        for (size_t k = 0; k < sizeof shown_keys / sizeof *shown_keys; k++)
            if (strcmp(s->items[i].key, shown_keys[k]) == 0)
                shown = 1;
        if (!shown)
            printf("%-20s %s\n", s->items[i].key, s->items[i].value);
    }
}

static int cmd_client_stats(int argc, char **argv)
{
    if (argc != 2)
        die_usage("client-stats needs one MOUNTPOINT");
    static struct client_stats s;       /* large: keep it off the stack */
    int rc = cs_load(argv[1], &s);
    if (rc == -ENOENT) {
        fprintf(stderr, "flexfs-admin: no counters for a flexfs mount at %s "
                "(is it a flexfs mount on this host? the client writes "
                "them to /run/flexfs or $XDG_RUNTIME_DIR/flexfs)\n", argv[1]);
        return EXIT_FAILURE;
    }
    if (rc == -EINVAL) {
        fprintf(stderr, "flexfs-admin: %s: not a counters file of a format "
                "this tool knows\n", s.path);
        return EXIT_FAILURE;
    }
    if (rc < 0) {
        errmsg(argv[1], -rc);
        return EXIT_FAILURE;
    }
    int64_t age = (int64_t)time(NULL) - (int64_t)cs_num(&s, "updated", NULL);
    uint64_t pid = cs_num(&s, "pid", NULL);
    int alive = pid > 0 && pid < INT32_MAX &&
                (kill((pid_t)pid, 0) == 0 || errno == EPERM);
    if (g.json)
        client_stats_json(&s, age, alive);
    else
        client_stats_text(&s, age, alive);
    return EXIT_SUCCESS;
}

/* ---- main ---- */

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    int remote;                         /* talks to the gateway */
};

static const struct command commands[] = {
    { "status", cmd_status, 1 },
    { "volume", cmd_volume, 1 },
    { "clients", cmd_clients, 1 },
    { "evict", cmd_evict, 1 },
    { "locks", cmd_locks, 1 },
    { "gc", cmd_gc, 1 },
    { "fsck", cmd_fsck, 1 },
    { "backup", cmd_backup, 1 },
    { "checkpoint", cmd_checkpoint, 1 },
    { "client-stats", cmd_client_stats, 0 },
};

/* Removes --json/-j from the command's own arguments (scripts put it
 * anywhere). */
static int strip_json(int argc, char **argv)
{
    int j = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && (strcmp(argv[i], "--json") == 0 ||
                      strcmp(argv[i], "-j") == 0)) {
            g.json = 1;
            continue;
        }
        argv[j++] = argv[i];
    }
    argv[j] = NULL;
    return j;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "host", required_argument, NULL, 'H' },
        { "port", required_argument, NULL, 'p' },
        { "source", required_argument, NULL, 's' },
        { "timeout", required_argument, NULL, 't' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "+H:p:s:t:jhV", opts, NULL)) != -1) {
        switch (c) {
        case 'H': g.host = optarg; break;
        case 'p': {
            uint64_t p;
            if (parse_u64(optarg, &p) < 0 || p == 0 || p > 65535)
                die_usage("bad port \"%s\"", optarg);
            g.port = optarg;
            break;
        }
        case 's': g.source = optarg; break;
        case 't': {
            uint64_t t;
            if (parse_u64(optarg, &t) < 0 || t == 0 || t > 86400)
                die_usage("bad timeout \"%s\"", optarg);
            g.timeout = (int)t;
            break;
        }
        case 'j': g.json = 1; break;
        case 'h': usage(stdout); return EXIT_SUCCESS;
        case 'V': printf("flexfs-admin %s\n", PACKAGE_VERSION); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    argc = strip_json(argc - optind, argv + optind);
    argv += optind;
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (strcmp(argv[0], commands[i].name) != 0)
            continue;
        if (commands[i].remote)
            connect_or_die();
        int rc = commands[i].fn(argc, argv);
        admin_disconnect(&g.conn);
        fflush(stdout);
        if (ferror(stdout)) {
            fprintf(stderr, "flexfs-admin: cannot write the output\n");
            return EXIT_FAILURE;
        }
        return rc;
    }
    die_usage("unknown command \"%s\"", argv[0]);
}
