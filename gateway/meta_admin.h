/* meta_admin.h - what the admin program needs from the metadata core
 * beyond meta.h: volumes, sessions and locks as lists, counts, Berkeley DB
 * statistics, checkpoints, hot backups and the consistency check (fsck).
 *
 * Same rules as meta.h: every call is thread-safe, one transaction per
 * change (the fsck walk reads in many small ones, so it never holds the
 * database for long), 0 or a negative errno. */
#ifndef FLEXFS_META_ADMIN_H
#define FLEXFS_META_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "meta.h"

struct store;

/* ---- volumes (meta_volume_create of meta.h makes them) ---- */
struct meta_admin_volume {
    struct meta_volume vol;
    uint64_t inodes;                    /* inodes in use, root included */
    uint64_t bytes;                     /* valid bytes of all blocks */
};

/* Every volume in id order; *out is malloc'd (free it). */
int meta_admin_volume_list(struct meta *m, struct meta_admin_volume **out,
                           size_t *n);

struct meta_admin_deleted {
    uint64_t inodes, blocks;            /* removed / sent to garbage */
};
/* -ENOTEMPTY if the root has entries (unless force), -EBUSY if a session
 * has it mounted.  A forced delete sends every block version of the
 * volume to the garbage table and removes all its records. */
int meta_admin_volume_delete(struct meta *m, const char *name, int force,
                             struct meta_admin_deleted *out);

/* Finishes volume deletions that a crash or an error interrupted (the
 * gateway runs it once the core is open). */
int meta_admin_resume(struct meta *m);

/* ---- sessions ---- */
struct meta_admin_session {
    uint64_t id;
    char volume[META_NAME_MAX + 1];
    char client_name[META_NAME_MAX + 1];
    char client_addr[META_NAME_MAX + 1];
    uint32_t uid;                       /* of the mounter */
    int64_t mount_time, lease_expiry;   /* seconds, realtime */
    uint32_t opens, locks;
};
/* Every session in id order; *out is malloc'd. */
int meta_admin_session_list(struct meta *m, struct meta_admin_session **out,
                            size_t *n);
/* Ends a session now, as its lease running out would: its opens (and
 * the unlinked files only it held) and its locks go.  -ESTALE if there
 * is no such session. */
int meta_admin_evict(struct meta *m, uint64_t session);

/* ---- locks ---- */
#define META_ADMIN_LOCK_READ   1u
#define META_ADMIN_LOCK_WRITE  2u
#define META_ADMIN_LOCK_POSIX  1u
#define META_ADMIN_LOCK_FLOCK  2u

struct meta_admin_lock {
    uint64_t ino, session, owner;
    uint32_t type, kind;                /* META_ADMIN_LOCK_* */
    uint64_t start, end;                /* inclusive; UINT64_MAX: to EOF */
    int waiting;
    uint32_t pid;
};
/* Locks (held and waited for) on ino, or on every inode when ino is 0;
 * *out is malloc'd. */
int meta_admin_lock_list(struct meta *m, uint64_t ino,
                         struct meta_admin_lock **out, size_t *n);

/* ---- figures ---- */
struct meta_admin_counts {
    uint64_t volumes, sessions, locks, garbage;
};
int meta_admin_counts(struct meta *m, struct meta_admin_counts *out);

struct meta_admin_dbstats {
    uint64_t cache_hits, cache_misses;  /* pages, since the env opened */
    uint64_t cache_bytes;               /* configured cache size */
    uint64_t log_bytes;                 /* disk space of all log files */
    uint32_t log_files;
};
int meta_admin_dbstats(struct meta *m, struct meta_admin_dbstats *out);

/* ---- maintenance ---- */
/* Forces a Berkeley DB checkpoint and removes log files no longer needed
 * for recovery. */
int meta_admin_checkpoint(struct meta *m);
/* A hot backup into dir (created if missing; must be empty), recovered so
 * that a gateway started with --meta-dir dir sees every transaction
 * committed before the call.  *files and *bytes: what was written. */
int meta_admin_backup(struct meta *m, const char *dir, uint32_t *files,
                      uint64_t *bytes);

/* ---- consistency check ---- */
struct meta_fsck_opts {
    struct store *store;                /* NULL: namespace checks only */
    int repair;
    uint32_t gc_grace;                  /* seconds: an unreferenced object
                                           younger than this is left */
    void *arg;
    /* Optional callbacks: progress of the current phase, each problem
     * found (one line of text), and "stop now" (nonzero: stop with
     * -ECANCELED). */
    void (*progress)(void *arg, const char *phase, uint64_t done,
                     uint64_t total);
    void (*problem)(void *arg, const char *msg);
    int (*cancelled)(void *arg);
};

struct meta_fsck_result {
    uint64_t inodes, entries, blocks, objects;      /* what was checked */
    uint64_t dangling_entries;          /* entry naming no inode */
    uint64_t wrong_nlink;               /* nlink not what the entries say */
    uint64_t orphan_inodes;             /* no entry, not open, not a root */
    uint64_t missing_blocks;            /* map entry without its object */
    uint64_t unreferenced_objects;      /* object no map or garbage names */
    uint64_t young_objects;             /* unreferenced but maybe in flight */
    uint64_t foreign_objects;           /* keys that are not block keys */
    uint64_t repaired;                  /* fixes applied (with repair) */
    uint64_t store_errors;              /* block-store calls that failed */
};

int meta_admin_fsck(struct meta *m, const struct meta_fsck_opts *o,
                    struct meta_fsck_result *out);

#endif
