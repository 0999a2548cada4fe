/* stats.c - writes the client's counters file (see stats.h): every
 * INTERVAL seconds, to a temporary file renamed over
 * DIR/mount-ESCAPED.stats, DIR being $FLEXFS_STATS_DIR, /run/flexfs for
 * root, else $XDG_RUNTIME_DIR/flexfs or /tmp/flexfs-UID. */
#include "config.h"
#include "stats.h"
#include "blockcache.h"
#include "client.h"
#include "diskcache.h"
#include "log.h"
#include "rpcpool.h"
#include "session.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define INTERVAL 5

/* The writer thread's state; only main and that thread touch it. */
static struct {
    pthread_t thread;
    pthread_mutex_t lock;       /* guards stop */
    pthread_cond_t cond;
    int started, stop;
    time_t started_at;
    char path[PATH_MAX + 64];
} W = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

uint64_t stats_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* systemd-escape --path: "/mnt/flexfs" -> "mnt-flexfs", "/" -> "-". */
static void escape_path(const char *path, char *out, size_t len)
{
    size_t o = 0;
    while (*path == '/')
        path++;
    if (!*path) {
        snprintf(out, len, "-");
        return;
    }
    for (const char *p = path; *p && o + 5 < len; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '/') {
            if (p[1] == '/' || p[1] == '\0')
                continue;
            out[o++] = '-';
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9') || c == ':' || c == '_' ||
                   (c == '.' && p != path)) {
            out[o++] = (char)c;
        } else {
            o += (size_t)snprintf(out + o, len - o, "\\x%02x", c);
        }
    }
    out[o] = '\0';
}

static int stats_dir(char *dir, size_t len)
{
    const char *env = getenv("FLEXFS_STATS_DIR");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (env && *env)
        snprintf(dir, len, "%s", env);
    else if (geteuid() == 0)
        snprintf(dir, len, "/run/flexfs");
    else if (xdg && *xdg)
        snprintf(dir, len, "%s/flexfs", xdg);
    else
        snprintf(dir, len, "/tmp/flexfs-%u", (unsigned)geteuid());
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int write_file(struct client *cl)
{
    struct cstats *s = cl->stats;
    struct bcache_stats bs;
    bcache_stats(cl->cache, &bs);
    char tmp[sizeof(W.path) + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", W.path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -errno;
    fprintf(f, "format=1\npid=%ld\nmountpoint=%s\nsource=%s\nsession=%llu\n"
            "started=%lld\nupdated=%lld\ninterval=%d\n",
            (long)getpid(), cl->opts.mountpoint, cl->opts.spec,
            (unsigned long long)session_id(cl->sess),
            (long long)W.started_at, (long long)time(NULL), INTERVAL);
    fprintf(f, "cache_hits=%llu\ncache_misses=%llu\ncache_bytes=%llu\n"
            "cache_limit=%llu\n",
            (unsigned long long)bs.hits, (unsigned long long)bs.misses,
            (unsigned long long)bs.bytes,
            (unsigned long long)cl->opts.cache_size);
#define KEY(name) fprintf(f, #name "=%llu\n", \
                          (unsigned long long)atomic_load(&s->name))
    KEY(bytes_read);
    KEY(bytes_written);
    KEY(store_gets);
    KEY(store_get_bytes);
    KEY(store_get_ns);
    KEY(store_puts);
    KEY(store_put_bytes);
    KEY(store_put_ns);
    KEY(store_errors);
#undef KEY
    fprintf(f, "reconnects=%llu\n",
            (unsigned long long)rpcpool_reconnects(cl->pool));
    if (cl->dcache) {
        struct dcache_stats ds;
        dcache_stats(cl->dcache, &ds);
#define DKEY(name) fprintf(f, "disk_cache_" #name "=%llu\n", \
                           (unsigned long long)ds.name)
        DKEY(hits);
        DKEY(misses);
        DKEY(writes);
        DKEY(evictions);
        DKEY(superseded);
        DKEY(damaged);
        DKEY(write_errors);
        DKEY(files);
        DKEY(bytes);
        DKEY(limit);
#undef DKEY
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        unlink(tmp);
        return -EIO;
    }
    if (rename(tmp, W.path) < 0) {
        int e = errno;
        unlink(tmp);
        return -e;
    }
    return 0;
}

static void *stats_main(void *arg)
{
    struct client *cl = arg;
    int warned = 0;
    pthread_mutex_lock(&W.lock);
    while (!W.stop) {
        pthread_mutex_unlock(&W.lock);
        int rc = write_file(cl);
        if (rc < 0 && !warned++)
            log_warn("cannot write counters to %s: %s", W.path,
                     strerror(-rc));
        pthread_mutex_lock(&W.lock);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += INTERVAL;
        while (!W.stop &&
               pthread_cond_timedwait(&W.cond, &W.lock, &ts) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&W.lock);
    return NULL;
}

int stats_start(struct client *cl)
{
    char dir[PATH_MAX], esc[PATH_MAX];
    int rc = stats_dir(dir, sizeof(dir));
    if (rc < 0) {
        log_warn("no counters file: cannot make %s: %s", dir, strerror(-rc));
        return 0;
    }
    escape_path(cl->opts.mountpoint, esc, sizeof(esc));
    if (strlen(dir) + strlen(esc) + 16 > sizeof(W.path)) {
        log_warn("no counters file: mount point name too long");
        return 0;
    }
    strcpy(W.path, dir);
    strcat(W.path, "/mount-");
    strcat(W.path, esc);
    strcat(W.path, ".stats");
    W.started_at = time(NULL);
    rc = pthread_create(&W.thread, NULL, stats_main, cl);
    if (rc)
        return -rc;
    W.started = 1;
    return 0;
}

void stats_stop(struct client *cl)
{
    if (!W.started)
        return;
    pthread_mutex_lock(&W.lock);
    W.stop = 1;
    pthread_cond_broadcast(&W.cond);
    pthread_mutex_unlock(&W.lock);
    pthread_join(W.thread, NULL);
    W.started = 0;
    unlink(W.path);
}
