/* diskcache.c - block versions on a local disk (see diskcache.h).
 *
 * A copy is DIR/<incarnation>-<volume>/<ino's low byte>/<ino>-<index>-<ver>
 * (hex): a header (magic, length, chunk size), a CRC-32 per 64 KiB chunk
 * of the data, and the data, so that a part of a block can be read and
 * checked without reading the rest (random reads).  It is
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

#define DC_MAGIC 0x32445846u            /* "FXD2" little-endian */
#define DC_HDR 16
#define DC_CHUNK_SHIFT 16
#define DC_CHUNK (1u << DC_CHUNK_SHIFT)
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

/* By block, not version: the versions of one block share a chain, so
 * that a new one finds the ones it supersedes. */
static unsigned bucket_of(const struct bkey *k)
{
    uint64_t h = k->ino * 0x9e3779b97f4a7c15ull ^
                 k->index * 0xc2b2ae3d27d4eb4full;
    return (unsigned)(h >> 48) % DC_BUCKETS;
}

static int key_eq(const struct bkey *a, const struct bkey *b)
{
    return a->ino == b->ino && a->index == b->index && a->ver == b->ver;
}

static uint32_t chunks_of(uint32_t len)
{
    return (uint32_t)(((uint64_t)len + DC_CHUNK - 1) >> DC_CHUNK_SHIFT);
}

/* Where the data starts: after the header and the CRCs. */
static uint64_t data_at(uint32_t len)
{
    return DC_HDR + 4ull * chunks_of(len);
}

static uint64_t file_bytes(uint32_t len)
{
    return data_at(len) + len;
}

/* The data length of a copy of size bytes; 0 when no length fits. */
static int len_of_size(uint64_t size, uint32_t *len)
{
    if (size < DC_HDR)
        return 0;
    uint64_t n = (size - DC_HDR + DC_CHUNK + 3) / (DC_CHUNK + 4);
    if (size - DC_HDR < 4 * n || size - DC_HDR - 4 * n > UINT32_MAX)
        return 0;
    *len = (uint32_t)(size - DC_HDR - 4 * n);
    return file_bytes(*len) == size;
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

/* Drops the other versions of k's block: block maps only move forward,
 * so a mount that wrote or fetched version k->ver will not want an older
 * one again, and a block rewritten in small pieces would otherwise fill
 * the cache with superseded copies. */
static void drop_superseded(struct dcache *dc, const struct bkey *k)
{
    struct dent *e = dc->buckets[bucket_of(k)];
    while (e) {
        struct dent *next = e->hnext;
        if (e->k.ino == k->ino && e->k.index == k->index &&
            e->k.ver != k->ver) {
            char path[PATH_MAX + 64];
            path_of(dc, &e->k, path, sizeof path);
            drop(dc, e);
            unlink(path);
            dc->st.superseded++;
            free(e);
        }
        e = next;
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

/* Reads the copies of subdirectory byte into *v; removes temporaries a
 * crash left and files that are no copies of inodes with that low byte
 * (so that each key is found once, where path_of looks for it). */
static int scan_sub(const char *sub, unsigned byte, struct dent ***v,
                    size_t *n, size_t *cap)
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
        uint32_t len;
        if (!parse_name(de->d_name, &k) || (k.ino & 0xff) != byte ||
            !len_of_size((uint64_t)st.st_size, &len)) {
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
        e->len = len;
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
        rc = scan_sub(sub, i, &v, &n, &cap);
    }
    if (rc == 0) {
        qsort(v, n, sizeof(*v), by_mtime);
        for (size_t i = 0; i < n; i++)
            add(dc, v[i]);
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

/* Reads and checks bytes [off, off + len) of a copy holding stored bytes
 * into buf: the chunks they touch are read whole and each is checked
 * against its CRC.  -EIO when the copy is damaged. */
static int read_copy(const char *path, uint32_t stored, uint32_t off,
                     char *buf, uint32_t len)
{
    uint32_t c0 = off >> DC_CHUNK_SHIFT;
    uint32_t c1 = (uint32_t)(((uint64_t)off + len - 1) >> DC_CHUNK_SHIFT);
    uint64_t from = (uint64_t)c0 << DC_CHUNK_SHIFT;
    uint64_t to = ((uint64_t)c1 + 1) << DC_CHUNK_SHIFT;
    if (to > stored)
        to = stored;
    uint32_t nc = c1 - c0 + 1;
    int direct = from == off && to == (uint64_t)off + len;
    char *data = direct ? buf : malloc(to - from);
    uint32_t *meta = malloc(DC_HDR + 4 * (size_t)chunks_of(stored));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = 0;
    if (!data || !meta)
        rc = -ENOMEM;
    else if (fd < 0)
        rc = -errno;
    else {
        size_t mlen = DC_HDR + 4 * (size_t)chunks_of(stored);
        ssize_t got = pread(fd, meta, mlen, 0);
        if (got < 0)
            rc = -errno;
        else if ((size_t)got != mlen || meta[0] != DC_MAGIC ||
                 meta[1] != stored || meta[2] != DC_CHUNK_SHIFT)
            rc = -EIO;
    }
    if (rc == 0) {
        ssize_t got = pread(fd, data, to - from,
                            (off_t)(data_at(stored) + from));
        if (got < 0)
            rc = -errno;
        else if ((uint64_t)got != to - from)
            rc = -EIO;
    }
    for (uint32_t i = 0; rc == 0 && i < nc; i++) {
        uint64_t at = (uint64_t)i << DC_CHUNK_SHIFT;
        uint64_t n = to - from - at < DC_CHUNK ? to - from - at : DC_CHUNK;
        if (meta[DC_HDR / 4 + c0 + i] != crc_of(data + at, (uint32_t)n))
            rc = -EIO;
    }
    if (rc == 0 && !direct)
        memcpy(buf, data + (off - from), len);
    if (rc == 0 && off == 0)
        futimens(fd, NULL);             /* its place in the order at scan */
    if (fd >= 0)
        close(fd);
    if (!direct)
        free(data);
    free(meta);
    return rc;
}

int dcache_get(struct dcache *dc, const struct bkey *k, uint32_t off,
               char *buf, uint32_t len)
{
    if (len == 0)
        return -ENOENT;
    pthread_mutex_lock(&dc->mu);
    struct dent *e = find(dc, k);
    uint32_t stored = 0;
    if (e && e->len >= (uint64_t)off + len) {
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
    int rc = read_copy(path, stored, off, buf, len);
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
    size_t mlen = DC_HDR + 4 * (size_t)chunks_of(len);
    uint32_t *meta = malloc(mlen);
    if (!meta)
        return -ENOMEM;
    meta[0] = DC_MAGIC;
    meta[1] = len;
    meta[2] = DC_CHUNK_SHIFT;
    meta[3] = 0;
    for (uint32_t i = 0; i < chunks_of(len); i++) {
        uint64_t at = (uint64_t)i << DC_CHUNK_SHIFT;
        uint32_t n = len - at < DC_CHUNK ? (uint32_t)(len - at) : DC_CHUNK;
        meta[DC_HDR / 4 + i] = crc_of(buf + at, n);
    }
    int rc = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = -errno;
    } else {
        struct iovec iov[2] = { { meta, mlen }, { (void *)buf, len } };
        ssize_t put = pwritev(fd, iov, 2, 0);
        rc = put < 0 ? -errno : (uint64_t)put != file_bytes(len) ? -ENOSPC : 0;
        if (close(fd) != 0 && rc == 0)
            rc = -errno;
        if (rc == 0 && rename(tmp, path) != 0)
            rc = -errno;
        if (rc < 0)
            unlink(tmp);
    }
    free(meta);
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
             (unsigned)(k->ino & 0xff),
             (uint64_t)atomic_fetch_add(&dc->tmp_seq, 1));
    int rc = write_copy(path, tmp, buf, len);
    if (rc < 0) {
        pthread_mutex_lock(&dc->mu);
        uint64_t n = ++dc->st.write_errors;
        pthread_mutex_unlock(&dc->mu);
        /* A disk that went bad or full would fail every copy: say so at
         * the 1st, 2nd, 4th, 8th... failure, not at each. */
        if ((n & (n - 1)) == 0)
            log_warn("disk cache: cannot keep %s: %s (%llu failures so "
                     "far)", path, strerror(-rc), (unsigned long long)n);
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
        drop_superseded(dc, k);
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
    out->limit = dc->max_bytes;
    pthread_mutex_unlock(&dc->mu);
}
