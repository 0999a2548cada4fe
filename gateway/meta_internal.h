/* meta_internal.h - what the meta_*.c files share: the environment handle,
 * the transaction helper, record layouts and codecs, and the small record
 * helpers (inodes, entries, blocks, opens, garbage) every operation uses.
 * Nothing outside gateway/meta_*.c (and the unit tests) includes this.
 *
 * Records are serialized field by field, big-endian, behind a format
 * version byte; integer key parts are big-endian so B-tree order is
 * numeric order.  Databases and their keys:
 *   inodes     ino                      -> inode (+ symlink target)
 *   dirents    parent, name             -> ino, type, cookie
 *   dirseq     parent, cookie           -> ino, type, name  (readdir order)
 *   xattrs     ino, name                -> value
 *   blocks     ino, index               -> version, valid length
 *   locks      ino, kind, session, owner, start -> type, end, pid
 *   sessions   session                  -> volume, client, lease expiry
 *   opens      ino, session             -> open count
 *   sessopens  session, ino             -> (nothing: the reverse index)
 *   garbage    id                       -> time, volume, ino, index, version
 *   volumes    name                     -> id, root, block size
 *   super      name                     -> format
 *   sequences  name                     -> DB_SEQUENCE counters (touched
 *              only by the sequences' own transactions: a user transaction
 *              holding a page there would block them forever) */
#ifndef FLEXFS_META_INTERNAL_H
#define FLEXFS_META_INTERNAL_H

#include <db.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "meta.h"
#include "perm.h"

#define META_FORMAT       1     /* of the environment (super "format") */
#define REC_V1            1     /* version byte of every record */
#define INODE_REC_LEN     117   /* fixed part of an inode record */
#define COOKIE_FIRST      3     /* 1 and 2 are "." and ".." for front ends */
#define TX_MAX_VOLS       4

enum meta_db {
    MDB_INODES, MDB_DIRENTS, MDB_DIRSEQ, MDB_XATTRS, MDB_BLOCKS, MDB_LOCKS,
    MDB_SESSIONS, MDB_OPENS, MDB_SESSOPENS, MDB_GARBAGE, MDB_VOLUMES,
    MDB_SUPER, MDB_SEQUENCES, MDB_COUNT
};

enum meta_seq { SEQ_INO, SEQ_SESSION, SEQ_GARBAGE, SEQ_CHANGE, SEQ_VOLUME,
                SEQ_COUNT };

/* Per-volume figures for statfs, kept in memory (counted at open). */
struct vol_count {
    uint64_t vol;
    int64_t files, bytes;
};

struct meta {
    DB_ENV *env;
    DB *db[MDB_COUNT];
    DB_SEQUENCE *seq[SEQ_COUNT];
    uint32_t lease_secs;
    uint8_t incarnation[META_INCARNATION_LEN];  /* set once at open */
    int nosync;                         /* tests only: see meta_test_nosync */
    /* Writing transactions between their commit and the end of their log
     * flush (see tx_commit). */
    atomic_int unflushed;
    int lock_fd;                        /* flock: one process per directory */

    pthread_mutex_t mu;                 /* guards the counts below */
    struct vol_count *vols;
    size_t nvols;
    int64_t garbage;

    struct lockwait *lw;                /* lock waiters, grace (own mutex) */

    pthread_mutex_t ckpt_mu;            /* guards ckpt_stop */
    pthread_cond_t ckpt_cv;
    int ckpt_stop;
    int ckpt_started;
    pthread_t ckpt_thread;
};

/* The file name of database d in the environment. */
const char *meta_db_file(enum meta_db d);

/* The superblock's key of the incarnation (meta_incarnation). */
#define META_INCARNATION_KEY "incarnation"

/* One attempt of one transaction. */
struct tx {
    struct meta *m;
    DB_TXN *txn;
    struct meta_time now;
    int dirty;                          /* wrote something */
    /* Count changes, applied to struct meta only after the commit. */
    struct vol_count dv[TX_MAX_VOLS];
    int ndv;
    int64_t dgarbage;
};

/* Runs fn in a transaction, retrying it on deadlock; commits when fn
 * returns >= 0 (which is returned), aborts otherwise. */
typedef int (*tx_fn)(struct tx *tx, void *arg);
int tx_run(struct meta *m, tx_fn fn, void *arg);
/* As tx_run, but the commit does not wait for the log to reach the disk:
 * only for changes whose loss in a crash no one was promised against (a
 * later durable commit writes the log up to and past them, in order). */
int tx_run_lazy(struct meta *m, tx_fn fn, void *arg);
/* Writes the whole log to disk (lazy commits too). */
int tx_flush_log(struct meta *m);
/* A Berkeley DB return value in our terms: 0, -errno, or a deadlock code
 * that tx_run retries (DB_NOTFOUND is passed on for callers to test). */
int db_err(int rc);
/* The next value of a counter (never reused, even after a crash). */
int tx_next(struct tx *tx, enum meta_seq s, uint64_t *out);
void tx_count(struct tx *tx, uint64_t vol, int64_t files, int64_t bytes);
/* Adds a transaction's counts to struct meta (after its commit). */
void tx_apply_counts(struct tx *tx);
/* Test-only, before any other call: commits are no longer flushed to the
 * log on disk (a crash loses them). */
void meta_test_nosync(struct meta *m);

/* ---- codecs ---- */
static inline void be16_put(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void be32_put(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}
static inline void be64_put(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}
static inline uint16_t be16_get(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t be32_get(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | p[i];
    return v;
}
static inline uint64_t be64_get(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* A record being written: fields appended in order. */
struct wbuf {
    uint8_t *p;
    size_t len, cap;
    int overflow;
};
void wb_init(struct wbuf *w, void *buf, size_t cap);
void wb_u8(struct wbuf *w, uint8_t v);
void wb_u16(struct wbuf *w, uint16_t v);
void wb_u32(struct wbuf *w, uint32_t v);
void wb_u64(struct wbuf *w, uint64_t v);
void wb_bytes(struct wbuf *w, const void *b, size_t n);

/* A record being read: a short record sets bad instead of overrunning. */
struct rbuf {
    const uint8_t *p;
    size_t len, off;
    int bad;
};
void rb_init(struct rbuf *r, const void *buf, size_t len);
uint8_t rb_u8(struct rbuf *r);
uint16_t rb_u16(struct rbuf *r);
uint32_t rb_u32(struct rbuf *r);
uint64_t rb_u64(struct rbuf *r);
const uint8_t *rb_bytes(struct rbuf *r, size_t n);

/* ---- plain record access inside a transaction ---- */
/* 0 found (*len set), -ENOENT absent, else an error.  flags: DB_RMW when
 * the record will be written (avoids upgrade deadlocks). */
int kv_get(struct tx *tx, enum meta_db d, const void *key, size_t klen,
           void *buf, size_t cap, size_t *len, uint32_t flags);
int kv_put(struct tx *tx, enum meta_db d, const void *key, size_t klen,
           const void *val, size_t vlen);
/* 0 deleted, -ENOENT absent. */
int kv_del(struct tx *tx, enum meta_db d, const void *key, size_t klen);
int kv_cursor(struct tx *tx, enum meta_db d, DBC **out);

/* A record met by kv_walk; cursor stands on it (cursor->del deletes it). */
struct kv_rec {
    const uint8_t *key;
    size_t klen;
    const uint8_t *val;                 /* NULL when the walk reads keys only */
    size_t vlen;
    DBC *cursor;
};
/* 0 to go on, KV_STOP to end the walk with success, or a negative errno
 * (which ends it and is returned). */
typedef int (*kv_walk_fn)(void *arg, const struct kv_rec *r);
#define KV_STOP 1
#define KV_KEY_MAX 512
/* Visits in key order the records of d whose keys start with the plen
 * bytes of prefix (every record when plen is 0), from the key `from`
 * (flen bytes, starting with prefix) or from prefix itself when from is
 * NULL.  Values are read into vbuf (vcap bytes; NULL: keys only).
 * flags: DB_RMW when fn deletes or rewrites what it meets. */
int kv_walk(struct tx *tx, enum meta_db d, const void *prefix, size_t plen,
            const void *from, size_t flen, void *vbuf, size_t vcap,
            uint32_t flags, kv_walk_fn fn, void *arg);
/* 1 when no key of d starts with the 8-byte big-endian id, 0 when one
 * does, or a negative errno. */
int kv_none_under(struct tx *tx, enum meta_db d, uint64_t id);
/* Deletes every record whose key starts with prefix. */
int kv_del_prefix(struct tx *tx, enum meta_db d, const void *prefix,
                  size_t plen);

/* ---- inodes (meta_inode.c) ---- */
struct inode {
    uint64_t ino, vol, gen;
    uint32_t mode, nlink, uid, gid;
    uint64_t rdev, size, bytes;         /* bytes: valid bytes of its blocks */
    struct meta_time atime, mtime, ctime;
    uint64_t change;
    uint64_t parent;                    /* directories: for ".." and rename */
    uint64_t next_cookie;               /* directories: readdir cookies */
};

#define CH_CTIME  1u
#define CH_MTIME  2u

/* -ESTALE when there is no such inode. */
int inode_get(struct tx *tx, uint64_t ino, struct inode *out, uint32_t flags);
int inode_put(struct tx *tx, const struct inode *in);
/* Decodes the fixed part of an inode record; -EIO if malformed. */
int inode_decode(const void *buf, size_t len, uint64_t ino,
                 struct inode *out);
/* A new inode record, with the symlink target when there is one. */
int inode_put_new(struct tx *tx, const struct inode *in, const char *target,
                  size_t tlen);
/* Sets ctime (and mtime) to now and moves the change counter. */
int inode_changed(struct tx *tx, struct inode *in, unsigned what);
void inode_attr(const struct inode *in, struct meta_attr *out);
/* Fills dc (if not NULL) for a directory whose counter was `before` at
 * the start of the call and which is now *dir. */
void dirchange_fill(struct meta_dirchange *dc, uint64_t before,
                    const struct inode *dir);
/* A time to set: valid how, nanoseconds below a second. */
int settime_ok(const struct meta_settime *t);
void settime_apply(struct tx *tx, const struct meta_settime *t,
                   struct meta_time *field);
struct perm_node inode_perm(struct tx *tx, const struct inode *in);
/* Fills a fresh inode (number, generation, times) of volume vol. */
int inode_new(struct tx *tx, uint64_t vol, uint32_t mode, uint32_t uid,
              uint32_t gid, struct inode *out);
/* Called when an inode may have lost its last link or open: an inode with
 * nlink 0 that nobody has open is deleted with its xattrs and block map
 * (its blocks go to garbage); otherwise the record is written back. */
int inode_settle(struct tx *tx, struct inode *in);
/* Shrinks or grows the file to size (block map, bytes used). */
int inode_truncate(struct tx *tx, struct inode *in, uint64_t size);
/* Reads xattr name of ino (for ACL lookups): length, -ENODATA, -ERANGE. */
int xattr_get(void *txp, uint64_t ino, const char *name, void *buf,
              size_t len);

/* ---- directory entries (meta_dirent.c) ---- */
struct dirent_rec {
    uint64_t ino, cookie;
    uint32_t type;
};
/* 0, -EINVAL ('/', NUL, or "", ".", ".." when creating), -ENAMETOOLONG. */
int name_check(const char *name, size_t len, int creating);
/* 0 found, -ENOENT absent. */
int dirent_get(struct tx *tx, uint64_t parent, const char *name, size_t len,
               struct dirent_rec *out, uint32_t flags);
/* Adds an entry with the directory's next cookie (the caller writes dir). */
int dirent_add(struct tx *tx, struct inode *dir, const char *name,
               size_t len, uint64_t ino, uint32_t type);
/* Points an existing entry at another inode; its cookie stays. */
int dirent_repoint(struct tx *tx, uint64_t parent, const char *name,
                   size_t len, uint64_t cookie, uint64_t ino, uint32_t type);
int dirent_del(struct tx *tx, uint64_t parent, const char *name, size_t len,
               uint64_t cookie);
/* 1 if dir has no entries, 0 if it has some. */
int dir_empty(struct tx *tx, uint64_t dir);
/* The usual checks on a parent: exists (-ESTALE), is a directory
 * (-ENOTDIR), still linked (-ENOENT), and grants want to cr (-EACCES). */
int dir_open(struct tx *tx, const struct meta_cred *cr, uint64_t ino,
             int want, struct inode *out, uint32_t flags);

/* ---- block maps and garbage (meta_blocks.c, meta_garbage.c) ---- */
int volume_block_size(struct tx *tx, uint64_t vol, uint32_t *bs);
/* Moves every block of in with index >= first to garbage (bytes fixed). */
int blocks_drop_from(struct tx *tx, struct inode *in, uint64_t first);
int garbage_add(struct tx *tx, uint64_t vol, uint64_t ino, uint64_t index,
                uint64_t version);

/* ---- opens and sessions (meta_session.c) ---- */
struct session_rec {
    uint64_t id, vol;
    uint32_t uid;                       /* of the mounter */
    int64_t mount_time, expiry;         /* seconds, realtime */
    char client_name[META_NAME_MAX + 1];
    char client_addr[META_NAME_MAX + 1];
};
int session_decode(const void *buf, size_t len, uint64_t id,
                   struct session_rec *out);
/* 1 if any session has ino open, 0 if none. */
int opens_any(struct tx *tx, uint64_t ino);
/* writable: this open is for writing (the record remembers one did). */
int opens_add(struct tx *tx, uint64_t ino, uint64_t session, int writable);
/* 1 if session has ino open and one of those opens was for writing. */
int opens_writable(struct tx *tx, uint64_t ino, uint64_t session);
/* 0 if the session exists and is live, -ESTALE if not. */
int session_check(struct tx *tx, uint64_t session);
/* At start: every session's lease runs from now (clients reconnect). */
int sessions_refresh(struct meta *m);
/* Visits every session until fn returns other than 0, which is then the
 * result; fn may rewrite the current record (DB_CURRENT, with flags
 * DB_RMW). */
int sessions_scan(struct tx *tx, uint32_t flags,
                  int (*fn)(struct tx *, DBC *, struct session_rec *, void *),
                  void *arg);

/* ---- xattrs and ACLs (meta_xattr.c, meta_acl.c) ---- */
struct acl;
/* Counted-name access to one xattr record of ino: the value's length
 * (copied when cap allows; -ERANGE when buf is too small; cap 0 only
 * measures), -ENODATA when absent. */
int xattr_read(struct tx *tx, uint64_t ino, const char *name, size_t nlen,
               void *buf, size_t cap);
int xattr_write(struct tx *tx, uint64_t ino, const char *name, size_t nlen,
                const void *val, size_t len);
/* 0, or -ENODATA when absent. */
int xattr_delete(struct tx *tx, uint64_t ino, const char *name, size_t nlen);
/* A write, truncation or chown takes the file's capabilities away
 * (security.capability), as Linux does. */
int xattr_kill_caps(struct tx *tx, const struct inode *in);
/* Sets META_ATTR_NO_XATTRS in a when the inode has no xattr. */
int xattr_note_none(struct tx *tx, struct meta_attr *a);

/* The POSIX ACL xattrs of in (which: ACL_NAME_ACCESS/DEFAULT). */
int acl_xattr_get(struct tx *tx, const struct inode *in, const char *which,
                  void *buf, size_t cap);
/* Sets (value NULL or a bare header: removes) an ACL: the owner or root
 * only, validated; an access ACL rewrites the mode's permission bits and
 * is stored only if the mode cannot say it all.  Writes in back. */
int acl_xattr_set(struct tx *tx, const struct meta_cred *cr,
                  struct inode *in, const char *which, const void *value,
                  size_t len);
/* The default ACL of directory dir into *out: 1 if it has one, 0 if not. */
int acl_default_of(struct tx *tx, const struct inode *dir, struct acl *out);
/* A new inode inherits dacl (its parent's default ACL): in->mode is
 * limited by it, the access ACL stored when needed, and a directory gets
 * dacl as its own default.  Before in is first written. */
int acl_inherit(struct tx *tx, struct inode *in, const struct acl *dacl);
/* After a chmod: the stored access ACL (if any) follows the new mode. */
int acl_chmod(struct tx *tx, const struct inode *in);

/* ---- locks (meta_lock.c, meta_lockwait.c) ---- */
#define LOCK_MAX_BLOCKERS 16

struct lock_owner_id {
    uint64_t session, owner;
};

/* What stands in the way of a lock request. */
struct lock_conflicts {
    struct meta_lock first;             /* the first lock in the way */
    int by_grace;                       /* a pre-restart lock in grace */
    uint32_t nblockers;                 /* distinct POSIX owners in the way */
    struct lock_owner_id blockers[LOCK_MAX_BLOCKERS];
};

/* Inodes whose locks went in a transaction: their waiters are retried
 * after the commit. */
struct lock_kick {
    uint64_t *inos;
    size_t n, cap;
};
int lock_kick_add(struct lock_kick *k, uint64_t ino);

/* One attempt of a lock request in its own transaction: 0 (granted, or
 * for test_only grantable), -EAGAIN with *cf, or an error.  *released is
 * set when the change let go of something others may wait for. */
int lock_try(struct meta *m, uint64_t ino, const struct meta_lock *lk,
             uint32_t flags, int test_only, struct lock_conflicts *cf,
             int *released);
/* Drops every lock of session (in tx), noting the inodes in k. */
int locks_drop_session(struct tx *tx, uint64_t session, struct lock_kick *k);

/* The waiter registry and the grace period (meta_lockwait.c). */
int locks_open(struct meta *m, const struct meta_opts *o);
void locks_close(struct meta *m);
/* 1 if a lock held before the restart conflicts with lk while the grace
 * period lasts (*out gets it). */
int lock_grace_conflict(struct meta *m, uint64_t ino,
                        const struct meta_lock *lk, struct meta_lock *out);
/* 1 if two locks of the same kind conflict (owners, ranges, types). */
int lock_conflicts_with(const struct meta_lock *a, const struct meta_lock *b);
/* Retries the waiters of every inode in k (then frees k's array). */
void lockwait_kick(struct meta *m, struct lock_kick *k);
/* A session ended: its waiting requests end with -ESTALE. */
void lockwait_session_gone(struct meta *m, uint64_t session);
/* Once a second (from meta_session_expire): waiters whose asker is gone
 * end, and the end of the grace period retries everyone. */
void lockwait_tick(struct meta *m);
/* Visits the waiting requests for meta_lock_list. */
int lockwait_list(struct meta *m, uint64_t ino, meta_lock_visit cb,
                  void *arg);

/* ---- volumes (meta.c) ---- */
int volume_by_id(struct tx *tx, uint64_t id, struct meta_volume *out);
/* -ENOENT if there is no such volume. */
int volume_get(struct tx *tx, const char *name, struct meta_volume *out);
int volume_make(struct tx *tx, const char *name, uint32_t block_size,
                struct meta_volume *out);

#endif
