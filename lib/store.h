/* store.h - the block-store interface: flat keys to immutable objects.
 *
 * Backends (a local directory, S3) sit behind store_ops; callers use the
 * store_* functions.  Keys are relative ("VOL/INO/INDEX.VERSION", see
 * blockkey.h); the backend adds its own root or prefix.  All functions
 * return 0 or a negative errno; a store that cannot be reached gives
 * -EIO after its retries.  Every function is safe to call from many
 * threads at once. */
#ifndef FLEXFS_STORE_H
#define FLEXFS_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

struct store_opts {
    unsigned threads;           /* parallel transfers (0: backend default) */
    const char *credentials_file;  /* S3: AWS-style credentials file      */
    unsigned max_retries;       /* 0: backend default                     */
};

/* Called for each key under a prefix, in byte order of the keys; return
 * nonzero to stop.  store_list returns 0 after a positive stop and passes
 * a negative value (an errno) through. */
typedef int (*store_list_cb)(void *arg, const char *key, uint64_t size);

/* What store_stat tells about one object. */
struct store_objstat {
    uint64_t size;
    int64_t mtime;              /* seconds since the epoch; -1: unknown */
};

struct store_ops {
    const char *scheme;                 /* "file", "s3" */
    int (*open)(const char *url, const struct store_opts *opts,
                struct store **out);
    int (*put)(struct store *s, const char *key, const void *data,
               size_t len);
    /* Reads up to len bytes at off; *got is what the object had (short
     * at its end).  -ENOENT when there is no such object. */
    int (*get)(struct store *s, const char *key, uint64_t off, void *buf,
               size_t len, size_t *got);
    /* Deleting a missing object succeeds. */
    int (*del)(struct store *s, const char *key);
    /* Optional: many at once (S3 bulk delete); else del in a loop. */
    int (*del_many)(struct store *s, const char *const *keys, size_t n);
    int (*list)(struct store *s, const char *prefix, store_list_cb cb,
                void *arg);
    /* Optional: capacity in bytes; -ENOSYS when the store has no limit. */
    int (*statfs)(struct store *s, uint64_t *total, uint64_t *avail);
    void (*close)(struct store *s);
    /* Optional: an object's size and when it was written (-ENOENT when
     * there is none); lets fsck judge the age of unreferenced objects. */
    int (*stat)(struct store *s, const char *key, struct store_objstat *st);
};

/* Every backend's handle starts with this. */
struct store {
    const struct store_ops *ops;
};

int store_open(const char *url, const struct store_opts *opts,
               struct store **out);
void store_close(struct store *s);
int store_put(struct store *s, const char *key, const void *data, size_t len);
int store_get(struct store *s, const char *key, uint64_t off, void *buf,
              size_t len, size_t *got);
int store_delete(struct store *s, const char *key);
int store_delete_many(struct store *s, const char *const *keys, size_t n);
int store_list(struct store *s, const char *prefix, store_list_cb cb,
               void *arg);
int store_statfs(struct store *s, uint64_t *total, uint64_t *avail);
/* -ENOSYS when the backend cannot say. */
int store_stat(struct store *s, const char *key, struct store_objstat *st);

/* Memory for block data, freed with free(): page-aligned, so that the
 * local-directory store can move it with O_DIRECT, and in transparent
 * huge pages when len is a multiple of 2 MiB.  NULL when out of memory. */
void *store_buf_alloc(size_t len);

/* Copies url into buf with any secret (user info, signature-like query
 * values) removed, for logs and for the MOUNT reply. */
void store_url_redact(const char *url, char *buf, size_t len);

#endif
