/* diskcache.c - block versions on a local disk (see diskcache.h).
 *
 * A copy is DIR/<incarnation>-<volume>/<ino's low byte>/<ino>-<index>-<ver>
 * (hex): a header (magic, length, CRC-32 of the data) and the data.  It is
 * written to a temporary name beside it and renamed, never synced: a copy
 * that a crash left torn fails its CRC and is fetched again.  The index of what
 * is there lives in memory (built by scanning at open, oldest first by
 * mtime, which a hit refreshes), with the LRU order; one mutex guards
 * both and the byte count.  File I/O happens outside the mutex. */
#include "config.h"
#include "diskcache.h"
#include "blockcache.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#define DC_MAGIC 0x43445846u            /* "FXDC" little-endian */
#define DC_HDR 16
#define DC_BUCKETS 65536
#define DC_MIN_FREE_PCT 10              /* leave this much of the disk */

struct dent {
    struct bkey k;
    uint32_t len;                       /* data bytes in the copy */
    int64_t mtime;                      /* at the scan; for its order */
    struct dent *hnext, *prev, *next;
};

struct dcache {
    char dir[PATH_MAX];
    int lock_fd;
    atomic_uint_fast64_t tmp_seq;       /* names of temporaries */
    uint64_t max_bytes;
    pthread_mutex_t mu;                 /* guards all below */
    uint64_t used;                      /* file bytes, headers included */
    struct dent *buckets[DC_BUCKETS];
    struct dent lru;                    /* lru.next: most recent */
    uint64_t files;
    struct dcache_stats st;
};

static unsigned bucket_of(const struct bkey *k)
{
    uint64_t h = k->ino * 0x9e3779b97f4a7c15ull ^ k->index * 0xc2b2ae3d27d4eb4full ^
                 k->ver * 0x165667b19e3779f9ull;
    return (unsigned)(h >> 48) % DC_BUCKETS;
}

static int key_eq(const struct bkey *a, const struct bkey *b)
{
    return a->ino == b->ino && a->index == b->index && a->ver == b->ver;
}

static uint64_t file_bytes(uint32_t len)
{
    return (uint64_t)len + DC_HDR;
}

static void path_of(const struct dcache *dc, const struct bkey *k, char *buf,
                    size_t size)
{
    snprintf(buf, size, "%s/%02x/%" PRIx64 "-%" PRIx64 "-%" PRIx64, dc->dir,
             (unsigned)(k->ino & 0xff), k->ino, k->index, k->ver);
}

/* ---- the index (callers hold mu) ---- */

static struct dent *find(struct dcache *dc, const struct bkey *k)
{
    for (struct dent *e = dc->buckets[bucket_of(k)]; e; e = e->hnext)
        if (key_eq(&e->k, k))
            return e;
    return NULL;
}

static void lru_unlink(struct dent *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
}

static void lru_front(struct dcache *dc, struct dent *e)
{
    e->next = dc->lru.next;
    e->prev = &dc->lru;
    dc->lru.next->prev = e;
    dc->lru.next = e;
}

static void add(struct dcache *dc, struct dent *e)
{
    unsigned b = bucket_of(&e->k);
    e->hnext = dc->buckets[b];
    dc->buckets[b] = e;
    lru_front(dc, e);
    dc->used += file_bytes(e->len);
    dc->files++;
}

static void drop(struct dcache *dc, struct dent *e)
{
    struct dent **pp = &dc->buckets[bucket_of(&e->k)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(e);
    dc->used -= file_bytes(e->len);
    dc->files--;
}

/* Drops and deletes the least recently used copies until need more bytes
 * fit under the bound. */
static void evict_for(struct dcache *dc, uint64_t need)
{
    while (dc->lru.prev != &dc->lru && dc->used + need > dc->max_bytes) {
        struct dent *e = dc->lru.prev;
        char path[PATH_MAX + 64];
        path_of(dc, &e->k, path, sizeof path);
        drop(dc, e);
        if (unlink(path) != 0 && errno != ENOENT)
            log_warn("disk cache: cannot remove %s: %s", path,
                     strerror(errno));
        dc->st.evictions++;
        free(e);
    }
}

/* ---- open: the directory, its lock, the scan ---- */

static int mkdir_p(const char *dir)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int parse_name(const char *name, struct bkey *k)
{
    char end;
    return sscanf(name, "%" SCNx64 "-%" SCNx64 "-%" SCNx64 "%c", &k->ino,
                  &k->index, &k->ver, &end) == 3;
}

static int by_mtime(const void *a, const void *b)
{
    const struct dent *x = *(struct dent *const *)a;
    const struct dent *y = *(struct dent *const *)b;
    return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* Reads one subdirectory's copies into *v; removes temporaries a crash
 * left and files that are no copies. */
static int scan_sub(const char *sub, struct dent ***v, size_t *n, size_t *cap)
{
    DIR *d = opendir(sub);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) && rc == 0) {
        if (de->d_name[0] == '.' && (!de->d_name[1] ||
                                     (de->d_name[1] == '.' && !de->d_name[2])))
            continue;
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", sub, de->d_name);
        struct stat st;
        struct bkey k;
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (!parse_name(de->d_name, &k) || st.st_size < DC_HDR ||
            st.st_size - DC_HDR > UINT32_MAX) {
            unlink(path);
            continue;
        }
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 1024;
            struct dent **nv = realloc(*v, nc * sizeof(*nv));
            if (!nv) {
                rc = -ENOMEM;
                break;
            }
            *v = nv;
            *cap = nc;
        }
        struct dent *e = calloc(1, sizeof(*e));
        if (!e) {
            rc = -ENOMEM;
            break;
        }
        e->k = k;
        e->len = (uint32_t)(st.st_size - DC_HDR);
        e->mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        (*v)[(*n)++] = e;
    }
    closedir(d);
    return rc;
}

static int scan(struct dcache *dc)
{
    struct dent **v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (unsigned i = 0; i < 256 && rc == 0; i++) {
        char sub[PATH_MAX + 8];
        snprintf(sub, sizeof sub, "%s/%02x", dc->dir, i);
        rc = scan_sub(sub, &v, &n, &cap);
    }
    if (rc == 0) {
        qsort(v, n, sizeof(*v), by_mtime);
        for (size_t i = 0; i < n; i++) {
            if (find(dc, &v[i]->k)) {
                free(v[i]);
                continue;
            }
            add(dc, v[i]);
        }
        evict_for(dc, 0);
    } else {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
    }
    free(v);
    return rc;
}

int dcache_open(const char *dir, const uint8_t incarnation[16],
                uint64_t volume, uint64_t max_bytes, struct dcache **out)
{
    struct dcache *dc = calloc(1, sizeof(*dc));
    if (!dc)
        return -ENOMEM;
    char inc[33];
    for (int i = 0; i < 16; i++)
        snprintf(inc + 2 * i, 3, "%02x", incarnation[i]);
    int rc = 0;
    if (snprintf(dc->dir, sizeof dc->dir, "%s/%s-%" PRIx64, dir, inc,
                 volume) >= (int)sizeof dc->dir)
        rc = -ENAMETOOLONG;
    if (rc == 0)
        rc = mkdir_p(dc->dir);
    for (unsigned i = 0; i < 256 && rc == 0; i++) {
        char sub[PATH_MAX + 8];
        snprintf(sub, sizeof sub, "%s/%02x", dc->dir, i);
        if (mkdir(sub, 0700) != 0 && errno != EEXIST)
            rc = -errno;
    }
    dc->lock_fd = -1;
    if (rc == 0) {
        char lock[PATH_MAX + 8];
        snprintf(lock, sizeof lock, "%s/.lock", dc->dir);
        dc->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (dc->lock_fd < 0)
            rc = -errno;
        else if (flock(dc->lock_fd, LOCK_EX | LOCK_NB) != 0)
            rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
    }
    pthread_mutex_init(&dc->mu, NULL);
    dc->lru.next = dc->lru.prev = &dc->lru;
    dc->max_bytes = max_bytes;
    if (rc == 0)
        rc = scan(dc);
    if (rc < 0) {
        dcache_close(dc);
        return rc;
    }
    log_notice("disk cache %s: %" PRIu64 " copies, %" PRIu64 " of %" PRIu64
               " bytes", dc->dir, dc->files, dc->used, max_bytes);
    *out = dc;
    return 0;
}

void dcache_close(struct dcache *dc)
{
    if (!dc)
        return;
    struct dent *e = dc->lru.next;
    while (e && e != &dc->lru) {
        struct dent *next = e->next;
        free(e);
        e = next;
    }
    if (dc->lock_fd >= 0)
        close(dc->lock_fd);
    pthread_mutex_destroy(&dc->mu);
    free(dc);
}

/* ---- use ---- */

static uint32_t crc_of(const char *buf, uint32_t len)
{
    return (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), (const Bytef *)buf, len);
}

static void hdr_put(uint8_t *h, uint32_t len, uint32_t crc)
{
    const uint32_t w[4] = { DC_MAGIC, len, crc, 0 };
    memcpy(h, w, DC_HDR);
}

/* Reads and checks a copy holding stored bytes; 0 with the first len of
 * them in buf, -EIO when it is damaged. */
static int read_copy(const char *path, uint32_t stored, char *buf,
                     uint32_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    /* The CRC covers every stored byte: read them all even when fewer
     * are wanted (a version whose valid length shrank). */
    char *data = stored == len ? buf : malloc(stored ? stored : 1);
    uint32_t h[4];
    int rc = data ? 0 : -ENOMEM;
    struct iovec iov[2] = { { h, DC_HDR }, { data, stored } };
    if (rc == 0) {
        ssize_t got = preadv(fd, iov, 2, 0);
        if (got < 0)
            rc = -errno;
        else if ((uint64_t)got != file_bytes(stored) || h[0] != DC_MAGIC ||
                 h[1] != stored || h[2] != crc_of(data, stored))
            rc = -EIO;
    }
    if (rc == 0) {
        futimens(fd, NULL);             /* its place in the order at scan */
        if (data != buf)
            memcpy(buf, data, len);
    }
    if (data != buf)
        free(data);
    close(fd);
    return rc;
}

int dcache_get(struct dcache *dc, const struct bkey *k, char *buf,
               uint32_t len)
{
    pthread_mutex_lock(&dc->mu);
    struct dent *e = find(dc, k);
    uint32_t stored = 0;
    if (e && e->len >= len) {
        stored = e->len;
        lru_unlink(e);
        lru_front(dc, e);
    } else {
        e = NULL;
        dc->st.misses++;
    }
    pthread_mutex_unlock(&dc->mu);
    if (!e)
        return -ENOENT;
    char path[PATH_MAX + 64];
    path_of(dc, k, path, sizeof path);
    int rc = read_copy(path, stored, buf, len);
    pthread_mutex_lock(&dc->mu);
    if (rc == 0) {
        dc->st.hits++;
    } else {
        dc->st.misses++;
        if (rc == -EIO)
            dc->st.damaged++;
        e = find(dc, k);
        if (e && e->len == stored) {
            drop(dc, e);
            free(e);
            unlink(path);
        }
    }
    pthread_mutex_unlock(&dc->mu);
    if (rc == -EIO)
        log_warn("disk cache: %s is damaged; fetching it again", path);
    return rc == 0 ? 0 : -ENOENT;
}

/* Whether the disk keeps DC_MIN_FREE_PCT free after need more bytes. */
static int room_on_disk(const char *dir, uint64_t need)
{
    struct statvfs sv;
    if (statvfs(dir, &sv) != 0)
        return 0;
    uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
    uint64_t total = (uint64_t)sv.f_blocks * sv.f_frsize;
    return avail > need && avail - need >= total / 100 * DC_MIN_FREE_PCT;
}

static int write_copy(const char *path, const char *tmp, const char *buf,
                      uint32_t len)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    uint8_t h[DC_HDR];
    hdr_put(h, len, crc_of(buf, len));
    struct iovec iov[2] = { { h, DC_HDR }, { (void *)buf, len } };
    ssize_t put = pwritev(fd, iov, 2, 0);
    int rc = put < 0 ? -errno : (uint64_t)put != file_bytes(len) ? -ENOSPC : 0;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

void dcache_put(struct dcache *dc, const struct bkey *k, const char *buf,
                uint32_t len)
{
    uint64_t need = file_bytes(len);
    if (need > dc->max_bytes)
        return;
    pthread_mutex_lock(&dc->mu);
    struct dent *e = find(dc, k);
    int have = e && e->len >= len;
    if (!have)
        evict_for(dc, need);
    pthread_mutex_unlock(&dc->mu);
    if (have || !room_on_disk(dc->dir, need))
        return;
    char path[PATH_MAX + 64], tmp[PATH_MAX + 128];
    path_of(dc, k, path, sizeof path);
    /* In the copy's own directory, so that the rename stays there; a
     * scan removes what a crash left (the name is no copy's). */
    snprintf(tmp, sizeof tmp, "%s/%02x/.tmp-%" PRIx64, dc->dir,
             (unsigned)(k->ino & 0xff), (uint64_t)atomic_fetch_add(&dc->tmp_seq, 1));
    int rc = write_copy(path, tmp, buf, len);
    if (rc < 0) {
        log_warn("disk cache: cannot keep %s: %s", path, strerror(-rc));
        return;
    }
    struct dent *n = calloc(1, sizeof(*n));
    pthread_mutex_lock(&dc->mu);
    e = find(dc, k);
    if (e) {                            /* the rename replaced its file */
        drop(dc, e);
        free(e);
    }
    if (n) {
        n->k = *k;
        n->len = len;
        add(dc, n);
        dc->st.writes++;
        evict_for(dc, 0);
    } else {
        unlink(path);
    }
    pthread_mutex_unlock(&dc->mu);
}

void dcache_stats(struct dcache *dc, struct dcache_stats *out)
{
    pthread_mutex_lock(&dc->mu);
    *out = dc->st;
    out->bytes = dc->used;
    out->files = dc->files;
    out->max_bytes = dc->max_bytes;
    pthread_mutex_unlock(&dc->mu);
}
