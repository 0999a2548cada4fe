/* metrics.h - the gateway's operation counters and latency histograms,
 * and an optional HTTP listener that serves them (with a few gauges) in
 * the Prometheus text format 0.0.4 at /metrics.
 *
 * Counters are process-wide (one gateway per process): any thread may
 * record an operation at any time, before or after the listener runs. */
#ifndef FLEXFS_METRICS_H
#define FLEXFS_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Upper bounds of the latency histogram buckets, nanoseconds (the last,
 * +Inf, is implicit). */
#define METRICS_NBUCKETS 18
extern const uint64_t metrics_bucket_ns[METRICS_NBUCKETS];

/* Records one finished operation: prog/proc say which (the NFSv4 front
 * end may pass proc = METRICS_NFS4_OP | opnum for the operations inside a
 * COMPOUND), name is a static string ("LOOKUP"), ok is 0 for an error
 * reply.  Lock-free once the (prog, proc) slot exists. */
#define METRICS_NFS4_OP 0x10000u
void metrics_op_done(uint32_t prog, uint32_t proc, const char *name,
                     uint64_t ns, int ok);

/* A failed block-store call (put, get, delete, list) seen by the gateway. */
void metrics_store_error(void);
uint64_t metrics_store_errors(void);

/* Seconds since the epoch when metrics_init ran (the gateway's start). */
void metrics_init(void);
int64_t metrics_start_time(void);

/* A copy of one operation's figures. */
struct metrics_op {
    const char *prog;                   /* "flexfs", "nfs4", "admin", ... */
    const char *name;
    uint32_t prog_num, proc;
    uint64_t count, errors, sum_ns, max_ns;
    uint64_t buckets[METRICS_NBUCKETS + 1];     /* not cumulative; last: +Inf */
};

/* Copies up to max operations that were called at least once into out;
 * returns how many exist (may exceed max). */
size_t metrics_snapshot(struct metrics_op *out, size_t max);
/* The latency below which a fraction q (0..1) of the calls finished,
 * estimated from the histogram (bucket upper bound). */
uint64_t metrics_quantile_ns(const struct metrics_op *op, double q);

/* Gauges read when /metrics is served. */
struct metrics_gauges {
    uint64_t volumes, sessions, locks, garbage;
    uint64_t db_cache_hits, db_cache_misses, db_log_bytes;
    int have_db;                        /* the db_* fields are filled */
};
typedef void (*metrics_gauge_fn)(void *arg, struct metrics_gauges *g);

/* Writes the whole exposition (text format 0.0.4) into a malloc'd,
 * NUL-terminated buffer; gauges may be NULL. */
int metrics_render(metrics_gauge_fn gauges, void *arg, char **out,
                   size_t *len);

/* The HTTP listener: one thread, one request per connection (HTTP/1.0 or
 * 1.1 with Connection: close), GET or HEAD /metrics, 404 elsewhere. */
struct metrics_http;
/* addr "HOST:PORT" (conf_parse_hostport); port 0 picks one. */
int metrics_http_start(const char *addr, metrics_gauge_fn gauges, void *arg,
                       struct metrics_http **out);
uint16_t metrics_http_port(const struct metrics_http *h);
void metrics_http_stop(struct metrics_http *h);

#endif
