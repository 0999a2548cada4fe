/* metrics.c - operation counters, latency histograms and the Prometheus
 * text exposition of them (see metrics.h).
 *
 * The table of operations is a fixed open-addressing hash keyed by
 * (program, procedure).  Recording is lock-free: a slot, once published
 * (state READY, with release ordering), never moves or changes its key,
 * so readers find it with acquire loads and bump relaxed atomics.  Only
 * claiming a new slot takes table_lock.  The HTTP listener is in
 * metrics_http.c. */
#include "config.h"
#include "metrics.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NATIVE_PROG 0x2046580au
#define ADMIN_PROG  0x2046580bu
#define NFS_PROG    100003u

#define TABLE_SLOTS 1024                /* power of two; ops are < 200 */

const uint64_t metrics_bucket_ns[METRICS_NBUCKETS] = {
    50000ull, 100000ull, 250000ull, 500000ull,
    1000000ull, 2500000ull, 5000000ull, 10000000ull,
    25000000ull, 50000000ull, 100000000ull, 250000000ull,
    500000000ull, 1000000000ull, 2500000000ull, 5000000000ull,
    10000000000ull, 30000000000ull,
};

enum { SLOT_EMPTY = 0, SLOT_READY = 2 };

struct slot {
    atomic_int state;
    uint32_t prog, proc;                /* set before state goes READY */
    const char *name;
    char prog_name[16];
    atomic_uint_fast64_t count, errors, sum_ns, max_ns;
    atomic_uint_fast64_t buckets[METRICS_NBUCKETS + 1];
};

/* The process-wide table: slots are claimed under table_lock and then
 * only ever updated atomically. */
static struct slot table[TABLE_SLOTS];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint_fast64_t store_errors;
static atomic_llong start_time;

void metrics_init(void)
{
    atomic_store(&start_time, (long long)time(NULL));
}

int64_t metrics_start_time(void)
{
    long long t = atomic_load(&start_time);
    return t ? t : (int64_t)time(NULL);
}

void metrics_store_error(void)
{
    atomic_fetch_add_explicit(&store_errors, 1, memory_order_relaxed);
}

uint64_t metrics_store_errors(void)
{
    return atomic_load_explicit(&store_errors, memory_order_relaxed);
}

static unsigned slot_hash(uint32_t prog, uint32_t proc)
{
    uint64_t k = ((uint64_t)prog << 32) | proc;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (unsigned)k & (TABLE_SLOTS - 1);
}

static void prog_label(uint32_t prog, char *buf, size_t len)
{
    switch (prog) {
    case NATIVE_PROG: snprintf(buf, len, "flexfs"); break;
    case ADMIN_PROG:  snprintf(buf, len, "admin"); break;
    case NFS_PROG:    snprintf(buf, len, "nfs4"); break;
    default:          snprintf(buf, len, "0x%x", prog); break;
    }
}

/* The slot of (prog, proc), claimed if new; NULL when the table is full
 * (then the call simply goes uncounted). */
static struct slot *slot_get(uint32_t prog, uint32_t proc, const char *name)
{
    unsigned h = slot_hash(prog, proc);
    for (unsigned i = 0; i < TABLE_SLOTS; i++) {
        struct slot *s = &table[(h + i) & (TABLE_SLOTS - 1)];
        int st = atomic_load_explicit(&s->state, memory_order_acquire);
        if (st == SLOT_READY) {
            if (s->prog == prog && s->proc == proc)
                return s;
            continue;
        }
        /* Empty: claim it, unless another thread claimed it meanwhile. */
        pthread_mutex_lock(&table_lock);
        if (atomic_load_explicit(&s->state, memory_order_relaxed)
            == SLOT_EMPTY) {
            s->prog = prog;
            s->proc = proc;
            s->name = name ? name : "?";
            prog_label(prog, s->prog_name, sizeof s->prog_name);
            atomic_store_explicit(&s->state, SLOT_READY,
                                  memory_order_release);
            pthread_mutex_unlock(&table_lock);
            return s;
        }
        pthread_mutex_unlock(&table_lock);
        if (s->prog == prog && s->proc == proc)
            return s;
    }
    return NULL;
}

void metrics_op_done(uint32_t prog, uint32_t proc, const char *name,
                     uint64_t ns, int ok)
{
    struct slot *s = slot_get(prog, proc, name);
    if (!s)
        return;
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    if (!ok)
        atomic_fetch_add_explicit(&s->errors, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_ns, ns, memory_order_relaxed);
    uint64_t max = atomic_load_explicit(&s->max_ns, memory_order_relaxed);
    while (ns > max &&
           !atomic_compare_exchange_weak_explicit(&s->max_ns, &max, ns,
                                                  memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
    unsigned b = 0;
    while (b < METRICS_NBUCKETS && ns > metrics_bucket_ns[b])
        b++;
    atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
}

static void slot_copy(struct slot *s, struct metrics_op *o)
{
    o->prog = s->prog_name;
    o->name = s->name;
    o->prog_num = s->prog;
    o->proc = s->proc;
    o->count = atomic_load_explicit(&s->count, memory_order_relaxed);
    o->errors = atomic_load_explicit(&s->errors, memory_order_relaxed);
    o->sum_ns = atomic_load_explicit(&s->sum_ns, memory_order_relaxed);
    o->max_ns = atomic_load_explicit(&s->max_ns, memory_order_relaxed);
    for (unsigned b = 0; b <= METRICS_NBUCKETS; b++)
        o->buckets[b] = atomic_load_explicit(&s->buckets[b],
                                             memory_order_relaxed);
}

static int op_cmp(const void *a, const void *b)
{
    const struct metrics_op *x = a, *y = b;
    if (x->prog_num != y->prog_num)
        return x->prog_num < y->prog_num ? -1 : 1;
    if (x->proc != y->proc)
        return x->proc < y->proc ? -1 : 1;
    return 0;
}

size_t metrics_snapshot(struct metrics_op *out, size_t max)
{
    size_t n = 0;
    for (unsigned i = 0; i < TABLE_SLOTS; i++) {
        struct slot *s = &table[i];
        if (atomic_load_explicit(&s->state, memory_order_acquire)
            != SLOT_READY)
            continue;
        if (n < max)
            slot_copy(s, &out[n]);
        n++;
    }
    if (out && max)
        qsort(out, n < max ? n : max, sizeof *out, op_cmp);
    return n;
}

uint64_t metrics_quantile_ns(const struct metrics_op *op, double q)
{
    uint64_t total = 0;
    for (unsigned b = 0; b <= METRICS_NBUCKETS; b++)
        total += op->buckets[b];
    if (total == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)total + 0.5);
    if (want < 1)
        want = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < METRICS_NBUCKETS; b++) {
        seen += op->buckets[b];
        if (seen >= want)
            return metrics_bucket_ns[b] < op->max_ns ? metrics_bucket_ns[b]
                                                     : op->max_ns;
    }
    return op->max_ns;
}

/* ---- the text exposition ---- */

struct buf {
    char *p;
    size_t len, cap;
    int err;
};

static void bprintf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void bprintf(struct buf *b, const char *fmt, ...)
{
    if (b->err)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->err = -EINVAL;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->err = -ENOMEM;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

/* A label value with \, " and newline escaped as the format asks. */
static void escape_label(const char *s, char *out, size_t len)
{
    size_t j = 0;
    for (; *s && j + 3 < len; s++) {
        if (*s == '\\' || *s == '"') {
            out[j++] = '\\';
            out[j++] = *s;
        } else if (*s == '\n') {
            out[j++] = '\\';
            out[j++] = 'n';
        } else {
            out[j++] = *s;
        }
    }
    out[j] = '\0';
}

/* Nanoseconds as decimal seconds without exponent or trailing zeros. */
static void ns_seconds(uint64_t ns, char *out, size_t len)
{
    snprintf(out, len, "%llu.%09llu", (unsigned long long)(ns / 1000000000u),
             (unsigned long long)(ns % 1000000000u));
    char *e = out + strlen(out) - 1;
    while (*e == '0')
        *e-- = '\0';
    if (*e == '.')
        *e = '\0';
}

static void family(struct buf *b, const char *name, const char *type,
                   const char *help)
{
    bprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A counter family with a sample per operation: its calls, or with
 * errors its calls answered with an error status. */
static void render_op_counter(struct buf *b, const struct metrics_op *ops,
                              size_t n, const char *metric, const char *help,
                              int errors)
{
    char prog[64], name[160];
    family(b, metric, "counter", help);
    for (size_t i = 0; i < n; i++) {
        escape_label(ops[i].prog, prog, sizeof prog);
        escape_label(ops[i].name, name, sizeof name);
        bprintf(b, "%s{program=\"%s\",op=\"%s\"} %llu\n", metric, prog, name,
                (unsigned long long)(errors ? ops[i].errors : ops[i].count));
    }
}

static void render_ops(struct buf *b, struct metrics_op *ops, size_t n)
{
    char prog[64], name[160], v[40];
    render_op_counter(b, ops, n, "flexfs_rpc_calls_total",
                      "RPC calls served, by program and operation.", 0);
    render_op_counter(b, ops, n, "flexfs_rpc_errors_total",
                      "RPC calls answered with an error status.", 1);
    family(b, "flexfs_rpc_duration_seconds", "histogram",
           "Time to serve an RPC call, from decoded call to encoded reply.");
    for (size_t i = 0; i < n; i++) {
        escape_label(ops[i].prog, prog, sizeof prog);
        escape_label(ops[i].name, name, sizeof name);
        uint64_t cum = 0;
        for (unsigned k = 0; k < METRICS_NBUCKETS; k++) {
            cum += ops[i].buckets[k];
            ns_seconds(metrics_bucket_ns[k], v, sizeof v);
            bprintf(b, "flexfs_rpc_duration_seconds_bucket{program=\"%s\","
                    "op=\"%s\",le=\"%s\"} %llu\n", prog, name, v,
                    (unsigned long long)cum);
        }
        cum += ops[i].buckets[METRICS_NBUCKETS];
        bprintf(b, "flexfs_rpc_duration_seconds_bucket{program=\"%s\","
                "op=\"%s\",le=\"+Inf\"} %llu\n", prog, name,
                (unsigned long long)cum);
        ns_seconds(ops[i].sum_ns, v, sizeof v);
        bprintf(b, "flexfs_rpc_duration_seconds_sum{program=\"%s\","
                "op=\"%s\"} %s\n", prog, name, v);
        /* The count is the buckets' sum so the histogram stays coherent
         * while other threads keep counting. */
        bprintf(b, "flexfs_rpc_duration_seconds_count{program=\"%s\","
                "op=\"%s\"} %llu\n", prog, name, (unsigned long long)cum);
    }
}

static void gauge(struct buf *b, const char *name, const char *type,
                  const char *help, uint64_t v)
{
    family(b, name, type, help);
    bprintf(b, "%s %llu\n", name, (unsigned long long)v);
}

int metrics_render(metrics_gauge_fn gauges, void *arg, char **out,
                   size_t *len)
{
    struct buf b = { .cap = 16384 };
    b.p = malloc(b.cap);
    if (!b.p)
        return -ENOMEM;
    b.p[0] = '\0';

    family(&b, "flexfs_build_info", "gauge", "Version of the gateway.");
    bprintf(&b, "flexfs_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
    gauge(&b, "flexfs_start_time_seconds", "gauge",
          "When the gateway started, seconds since the epoch.",
          (uint64_t)metrics_start_time());

    /* Slots only ever get added, so leave room for a few new ones. */
    size_t cap = metrics_snapshot(NULL, 0) + 16;
    struct metrics_op *ops = calloc(cap, sizeof *ops);
    if (!ops) {
        free(b.p);
        return -ENOMEM;
    }
    size_t n = metrics_snapshot(ops, cap);
    render_ops(&b, ops, n < cap ? n : cap);
    free(ops);

    gauge(&b, "flexfs_store_errors_total", "counter",
          "Block-store calls of the gateway that failed.",
          metrics_store_errors());
    if (gauges) {
        struct metrics_gauges g;
        memset(&g, 0, sizeof g);
        gauges(arg, &g);
        gauge(&b, "flexfs_volumes", "gauge", "Volumes.", g.volumes);
        gauge(&b, "flexfs_sessions", "gauge",
              "Client sessions (mounts) with a live lease.", g.sessions);
        gauge(&b, "flexfs_locks", "gauge",
              "Advisory locks held or waited for.", g.locks);
        gauge(&b, "flexfs_garbage_blocks", "gauge",
              "Block versions waiting for garbage collection.", g.garbage);
        if (g.have_db) {
            gauge(&b, "flexfs_db_cache_hits_total", "counter",
                  "Berkeley DB cache page hits.", g.db_cache_hits);
            gauge(&b, "flexfs_db_cache_misses_total", "counter",
                  "Berkeley DB cache page misses.", g.db_cache_misses);
            gauge(&b, "flexfs_db_log_bytes", "gauge",
                  "Bytes of Berkeley DB log files.", g.db_log_bytes);
        }
    }
    if (b.err) {
        free(b.p);
        return b.err;
    }
    *out = b.p;
    *len = b.len;
    return 0;
}
