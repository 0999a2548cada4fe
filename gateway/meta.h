/* meta.h - the metadata core: the namespace, attributes, block maps, open
 * files and client sessions of every volume, kept in one transactional
 * Berkeley DB environment (decision 2 of DESIGN.md).
 *
 * Every front end (the native protocol, NFSv4, the admin program) calls
 * these functions; none touches Berkeley DB itself.  Each call is one
 * transaction, committed durably before it returns; deadlocks are retried
 * inside.  Calls are thread-safe.  They return 0 (or a length) on success
 * and a negative errno on failure.  The core checks access for the
 * credentials it is given (mode bits and ACLs). */
#ifndef FLEXFS_META_H
#define FLEXFS_META_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define META_NAME_MAX   255
#define META_PATH_MAX   4096
#define META_NGROUPS    16
#define META_ROOT_UID   0

struct meta;

/* Who is asking (AUTH_SYS). */
struct meta_cred {
    uint32_t uid, gid;
    uint32_t ngroups;
    uint32_t groups[META_NGROUPS];
};

struct meta_time {
    int64_t sec;
    uint32_t nsec;
};

struct meta_attr {
    uint64_t ino, gen;
    uint32_t mode, nlink, uid, gid;
    uint64_t rdev, size, blocks;        /* blocks: 512-byte units */
    struct meta_time atime, mtime, ctime;
    uint64_t change;
    uint32_t flags;                     /* META_ATTR_* */
    uint64_t vol;                       /* the volume's id */
};

/* The inode had no extended attribute (ACLs included) when its change
 * counter was `change`: set, on request, by lookup, getattr and
 * readdirplus (the *_x calls, META_READDIR_XATTRS), so a client can
 * answer the ACL and capability queries of ls -l, stat and every write
 * without asking.  One B-tree probe each: the front ends that do not use
 * it do not ask. */
#define META_ATTR_NO_XATTRS 1u

enum meta_time_how { META_TIME_DONT = 0, META_TIME_SERVER = 1,
                     META_TIME_CLIENT = 2 };

struct meta_settime {
    enum meta_time_how how;
    struct meta_time time;
};

#define META_SET_MODE  1u
#define META_SET_UID   2u
#define META_SET_GID   4u
#define META_SET_SIZE  8u
#define META_SET_GROW  16u              /* with SIZE: only if it grows */

struct meta_setattr {
    uint32_t valid;                     /* META_SET_* bits */
    uint32_t mode, uid, gid;
    uint64_t size;
    struct meta_settime atime, mtime;
    /* Truncation through a handle this session has open (ftruncate):
     * open() checked write access, as POSIX wants.  0: a path. */
    uint64_t open_session;
};

struct meta_volume {
    uint64_t id;
    char name[META_NAME_MAX + 1];
    uint64_t root;
    uint32_t block_size;
};

struct meta_opts {
    const char *dir;                    /* the environment's home */
    uint32_t default_block_size;        /* for the volume made on first start */
    uint32_t lease_secs;                /* session lease */
    uint64_t cache_bytes;               /* Berkeley DB cache; 0: default */
    uint32_t grace_secs;                /* lock grace after a restart;
                                           0: the lease time */
};

/* Opens (creating and recovering as needed) the environment in opts->dir.
 * An empty directory gets the volume "default" with an empty root
 * directory, mode 0755, owned by root. */
int meta_open(const struct meta_opts *opts, struct meta **out);
void meta_close(struct meta *m);

/* ---- volumes and sessions ---- */
int meta_volume_get(struct meta *m, const char *name, struct meta_volume *out);
/* Volume of an inode (every inode belongs to exactly one). */
int meta_volume_of(struct meta *m, uint64_t ino, struct meta_volume *out);
/* A new volume with an empty root directory (mode 0755, owned by root);
 * block_size a power of two from 4 KiB to 64 MiB.  -EEXIST if taken. */
int meta_volume_create(struct meta *m, const char *name, uint32_t block_size,
                       struct meta_volume *out);
/* Up to max volumes in name order; returns how many. */
int meta_volume_list(struct meta *m, struct meta_volume *out, uint32_t max);

/* A mount: a new session id (never reused) with a lease. */
int meta_session_open(struct meta *m, const char *volume,
                      const char *client_name, const char *client_addr,
                      const struct meta_cred *cred, uint64_t *session,
                      struct meta_volume *vol);
/* -ESTALE if the session is unknown or expired. */
int meta_session_renew(struct meta *m, uint64_t session);
/* 0 if session was opened from addr (the client's numeric address as
 * MOUNT saw it), else -ESTALE: a session is its host's alone. */
int meta_session_from(struct meta *m, uint64_t session, const char *addr);
/* Ends a session: drops its opens (and so unlinked files it held). */
int meta_session_close(struct meta *m, uint64_t session);
/* Ends every session whose lease ran out before now (seconds, realtime).
 * Returns the number ended. */
int meta_session_expire(struct meta *m, int64_t now);
uint32_t meta_lease_secs(const struct meta *m);
/* Random bytes naming this metadata's timeline.  Block keys repeat only
 * across timelines (a new metadata directory on an old store, a restored
 * backup), so a client may keep blocks on disk under this name and trust
 * them forever.  Made at first start and again on a backup's first start
 * (meta_admin_backup marks the copy; the sessions in it are ended). */
#define META_INCARNATION_LEN 16
void meta_incarnation(const struct meta *m, uint8_t out[META_INCARNATION_LEN]);

/* ---- names and attributes ---- */
int meta_lookup(struct meta *m, const struct meta_cred *cr, uint64_t parent,
                const char *name, size_t namelen, struct meta_attr *out);
int meta_getattr(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                 struct meta_attr *out);
/* The same, with META_ATTR_NO_XATTRS looked for. */
int meta_lookup_x(struct meta *m, const struct meta_cred *cr, uint64_t parent,
                  const char *name, size_t namelen, struct meta_attr *out);
int meta_getattr_x(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                   struct meta_attr *out);
int meta_setattr(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                 const struct meta_setattr *sa, struct meta_attr *out);

/* What to make: mode holds S_IFMT bits (MKNOD, CREATE: S_IFREG) and the
 * permission bits; umask applies unless the parent has a default ACL. */
struct meta_mk {
    const char *name;
    size_t namelen;
    uint32_t mode, umask;
    uint64_t rdev;
    /* meta_create: attributes set on a new file in the same transaction
     * (as a SETATTR by the creator would), or NULL. */
    const struct meta_setattr *sa;
};

#define META_CREATE_EXCL   1u
#define META_CREATE_TRUNC  2u
/* How an existing file is being opened, for the access check (neither:
 * checked as for writing, the usual O_CREAT case). */
#define META_CREATE_READ   4u
#define META_CREATE_WRITE  8u

/* What the calls that add, remove or move names tell about the
 * directory they changed, read in their own transaction: its change
 * counter before the call and its attributes after it.  NFSv4 answers
 * with it as an atomic change_info; the native protocol hands the
 * attributes to the client, whose kernel asks for them next (it drops a
 * directory's cached attributes whenever an entry changes).  Every dc
 * argument may be NULL. */
struct meta_dirchange {
    uint64_t before;
    struct meta_attr after;
};

/* Creates a regular file or opens an existing one (unless EXCL), and
 * counts it open for session (0: do not count).  *created tells which. */
int meta_create(struct meta *m, const struct meta_cred *cr, uint64_t parent,
                const struct meta_mk *mk, uint32_t flags, uint64_t session,
                struct meta_attr *out, int *created,
                struct meta_dirchange *dc);
int meta_mknod(struct meta *m, const struct meta_cred *cr, uint64_t parent,
               const struct meta_mk *mk, struct meta_attr *out,
               struct meta_dirchange *dc);
int meta_mkdir(struct meta *m, const struct meta_cred *cr, uint64_t parent,
               const struct meta_mk *mk, struct meta_attr *out,
               struct meta_dirchange *dc);
int meta_symlink(struct meta *m, const struct meta_cred *cr, uint64_t parent,
                 const char *name, size_t namelen, const char *target,
                 struct meta_attr *out, struct meta_dirchange *dc);
/* Copies the target (NUL-terminated) into buf; returns its length. */
int meta_readlink(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                  char *buf, size_t len);
int meta_link(struct meta *m, const struct meta_cred *cr, uint64_t ino,
              uint64_t newparent, const char *name, size_t namelen,
              struct meta_attr *out, struct meta_dirchange *dc);
int meta_unlink(struct meta *m, const struct meta_cred *cr, uint64_t parent,
                const char *name, size_t namelen,
                struct meta_dirchange *dc);
int meta_rmdir(struct meta *m, const struct meta_cred *cr, uint64_t parent,
               const char *name, size_t namelen, struct meta_dirchange *dc);
/* unlink or rmdir, whichever the name is when the call runs (NFSv4
 * REMOVE). */
int meta_remove(struct meta *m, const struct meta_cred *cr, uint64_t parent,
                const char *name, size_t namelen, struct meta_dirchange *dc);

#define META_RENAME_NOREPLACE 1u
#define META_RENAME_EXCHANGE  2u
/* dcs: NULL, or two: the source directory's change and the target's
 * (the same twice when they are one directory). */
int meta_rename(struct meta *m, const struct meta_cred *cr, uint64_t parent,
                const char *name, size_t namelen, uint64_t newparent,
                const char *newname, size_t newnamelen, uint32_t flags,
                struct meta_dirchange *dcs);

/* ---- open files ---- */
/* Checks access for flags (O_ACCMODE, O_TRUNC), applies O_TRUNC, counts
 * the open for session (0: do not count) and returns fresh attributes. */
int meta_open_file(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                   uint64_t session, uint32_t flags, struct meta_attr *out);
/* One close: when the last open of an unlinked inode goes, so does it. */
int meta_release(struct meta *m, uint64_t ino, uint64_t session);

/* ---- directories ---- */
/* Called per entry in cookie order; attr is NULL unless plus.  Return 0
 * to go on, 1 to stop before this entry (the reply is full). */
typedef int (*meta_dirent_cb)(void *arg, const char *name, size_t namelen,
                              uint64_t ino, uint32_t type, uint64_t cookie,
                              const struct meta_attr *attr);
/* Lists dir from after cookie (0: the start).  Cookies are stable: an
 * entry keeps its cookie while it exists, and new entries get larger
 * ones, so a listing resumes exactly.  Cookies 1 and 2 are never used
 * (front ends use them for "." and ".."). *eof is set when the callback
 * saw the last entry. */
int meta_readdir(struct meta *m, const struct meta_cred *cr, uint64_t dir,
                 uint64_t cookie, int plus, meta_dirent_cb cb, void *arg,
                 int *eof);
/* plus: nonzero for attributes; with this bit, META_ATTR_NO_XATTRS too. */
#define META_READDIR_XATTRS 2

struct meta_statfs {
    uint64_t files, ffree;              /* inodes in use / left */
    uint64_t bytes_used;                /* valid bytes of all blocks */
    uint32_t block_size, namemax;
};
int meta_statfs(struct meta *m, uint64_t ino, struct meta_statfs *out);

/* ---- block maps ---- */
struct meta_block {
    uint64_t index, version;
    uint32_t length;                    /* valid bytes */
};

/* Blocks of ino with first <= index < first + count that hold data, in
 * index order, at most max of them; *n gets how many.  Also fresh attrs
 * (and read access is checked). */
int meta_get_blocks(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                    uint64_t first, uint32_t count, struct meta_block *blocks,
                    uint32_t max, uint32_t *n, struct meta_attr *out);

struct meta_commit_block {
    uint64_t index, version, base_version;  /* base 0: was a hole */
    uint32_t length;
    uint32_t base_length;               /* bytes of the base merged in */
};

/* Applies new block versions atomically: all or none.  If any block's
 * current version is not its base_version, or is shorter than the
 * base_length merged from it (a truncate cut it since), nothing changes, the current
 * state of those blocks goes to conflicts (at most max_conflicts, *nconf
 * gets how many) and -EAGAIN is returned.  Otherwise the superseded
 * versions go to the garbage table, size grows to write_end if smaller,
 * mtime is set as asked, ctime and the change counter move, and setuid
 * and setgid bits are cleared for a non-root writer. */
int meta_commit_write(struct meta *m, const struct meta_cred *cr,
                      uint64_t ino, uint64_t session,
                      const struct meta_commit_block *blocks, uint32_t n,
                      uint64_t write_end, const struct meta_settime *mtime,
                      struct meta_attr *out, struct meta_block *conflicts,
                      uint32_t max_conflicts, uint32_t *nconf);

/* ---- garbage ---- */
struct meta_garbage {
    uint64_t id;                        /* for meta_garbage_done */
    uint64_t volume, ino, index, version;
};
/* Up to max garbage blocks that became garbage before `before` (seconds,
 * realtime); returns how many. */
int meta_garbage_list(struct meta *m, int64_t before,
                      struct meta_garbage *out, uint32_t max);
/* Forgets garbage entries once their objects are deleted. */
int meta_garbage_done(struct meta *m, const uint64_t *ids, uint32_t n);
uint64_t meta_garbage_count(struct meta *m);

/* ---- access (meta_xattr.c) ---- */
/* access(2): mask of PERM_* bits as R_OK/W_OK/X_OK (0: exists), checked
 * with mode bits and the access ACL.  0, -EACCES, -ESTALE. */
int meta_access(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                int mask);

/* ---- extended attributes (meta_xattr.c, meta_acl.c) ----
 * Linux's rules (xattr(7)): user.* on regular files and directories only
 * (-EPERM to set, -ENODATA to get elsewhere), read access to read and
 * write access to change them, and on a sticky directory only its owner
 * may change them; trusted.* for root only (others: -EPERM to set,
 * -ENODATA to get, hidden from lists); security.* readable by all,
 * changed by root; system.posix_acl_access and system.posix_acl_default
 * are POSIX ACLs in the kernel's binary format (validated, -EINVAL), set
 * by the owner or root, the access ACL kept in step with the mode (a
 * minimal one is not stored, just the mode), the default ACL only on
 * directories (-EACCES elsewhere); any other name -EOPNOTSUPP.  Names
 * are counted bytes: empty or longer than 255 -ERANGE, holding a NUL
 * -EINVAL.  Values up to META_XATTR_SIZE_MAX (-E2BIG).  Every change
 * moves ctime and the change counter; out (if not NULL) gets the new
 * attributes. */
#define META_XATTR_NAME_MAX  255
#define META_XATTR_SIZE_MAX  65536
#define META_XATTR_LIST_MAX  65536
#define META_XATTR_CREATE    1u         /* as XATTR_CREATE: -EEXIST */
#define META_XATTR_REPLACE   2u         /* as XATTR_REPLACE: -ENODATA */

/* Copies the value into buf and returns its length; cap 0 only returns
 * the length; a buf too small: -ERANGE.  -ENODATA when absent. */
int meta_getxattr(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                  const char *name, size_t namelen, void *buf, size_t cap);
int meta_setxattr(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                  const char *name, size_t namelen, const void *value,
                  size_t len, uint32_t flags, struct meta_attr *out);
/* The names cr may see, each followed by a NUL, as listxattr(2): returns
 * the length; cap 0 only returns it; -ERANGE if buf is too small,
 * -E2BIG past META_XATTR_LIST_MAX. */
int meta_listxattr(struct meta *m, const struct meta_cred *cr, uint64_t ino,
                   char *buf, size_t cap);
int meta_removexattr(struct meta *m, const struct meta_cred *cr,
                     uint64_t ino, const char *name, size_t namelen,
                     struct meta_attr *out);

/* ---- advisory locks (meta_lock.c, meta_lockwait.c) ----
 * One table for every front end: a lock taken over NFS conflicts with a
 * FUSE mount's.  A lock is held by (session, owner, kind): the owner is
 * whatever the front end names it by (a process's lock owner for fcntl,
 * an open file description for flock, a hashed NFSv4 lock-owner), scoped
 * by the session.  POSIX locks and flock locks never conflict with each
 * other (as on Linux); an owner's own locks never conflict with it.
 * Locks live in Berkeley DB and survive a restart.  After a restart that
 * found locks, a grace period (meta_opts.grace_secs) grants no lock that
 * conflicts with one held before the restart unless the request is a
 * reclaim; locks that conflict with nothing are granted at once.  Ending
 * a session (close, lease expiry, eviction) drops its locks and wakes
 * whoever waited for them. */
#define META_LOCK_UNLOCK   0u
#define META_LOCK_READ     1u           /* shared */
#define META_LOCK_WRITE    2u           /* exclusive */

#define META_LOCK_POSIX    0u           /* byte ranges: fcntl(2), NFSv4 */
#define META_LOCK_FLOCK    1u           /* whole file: flock(2) */

#define META_LOCK_EOF      UINT64_MAX   /* end of a range "to the end" */
#define META_LOCK_RECLAIM  1u           /* flag: re-taking a pre-restart lock */
#define META_LOCK_QUEUED   1            /* meta_lock_wait: waiting */

struct meta_lock {
    uint32_t type;                      /* META_LOCK_READ/WRITE/UNLOCK */
    uint32_t kind;                      /* META_LOCK_POSIX/FLOCK */
    uint64_t start, end;                /* inclusive; flock: ignored */
    uint64_t session, owner;
    uint32_t pid;                       /* the holder's, for F_GETLK */
};

/* Would lk be granted?  0 if so (conflict->type set to UNLOCK), -EAGAIN
 * with the first lock in the way in *conflict otherwise.  conflict may
 * be NULL. */
int meta_lock_test(struct meta *m, uint64_t ino, const struct meta_lock *lk,
                   struct meta_lock *conflict);
/* Takes, changes or (type UNLOCK) drops lk without waiting: POSIX ranges
 * of one owner split and merge, a READ over the owner's WRITE downgrades
 * it and a WRITE over its READ upgrades it, atomically.  0; -EAGAIN with
 * *conflict; -ESTALE (no such inode or session); -EINVAL (bad type or
 * range); -ENOLCK (too many locks). */
int meta_lock_set(struct meta *m, uint64_t ino, const struct meta_lock *lk,
                  uint32_t flags, struct meta_lock *conflict);

/* A blocking request's way back.  done is called exactly once, from any
 * thread and without core locks held, unless meta_lock_wait answered
 * without queuing: 0 granted, -EINTR cancelled, -EDEADLK a deadlock
 * formed while waiting, -ESTALE the session or inode went, -ENOTCONN
 * alive() said the asker is gone, -ESHUTDOWN the core is closing. */
struct meta_lock_waiter {
    uint64_t token;                     /* with lk->session, for cancel */
    void (*done)(void *arg, int status);
    int (*alive)(void *arg);            /* NULL: always */
    void *arg;
};
/* F_SETLKW: 0 if granted at once, META_LOCK_QUEUED if it waits (w->done
 * will tell; nothing spins: waiters are retried, in arrival order, when a
 * lock on the inode goes), -EDEADLK if waiting would close a cycle of
 * owners waiting for each other, -EINTR if cancelled before it came, or
 * another error as meta_lock_set.  Unlock requests never wait. */
int meta_lock_wait(struct meta *m, uint64_t ino, const struct meta_lock *lk,
                   uint32_t flags, const struct meta_lock_waiter *w);
/* Cancels the waiting request (session, token): its done gets -EINTR.
 * 0, or -ENOENT when none waits (it was answered, or has not come yet: a
 * request that comes later is refused with -EINTR). */
int meta_lock_cancel(struct meta *m, uint64_t session, uint64_t token);
/* Drops every lock of one kind that (session, owner) holds on ino (ino 0:
 * on every inode): POSIX close semantics, flock release, NFSv4 lock-owner
 * release. */
int meta_lock_release(struct meta *m, uint64_t ino, uint64_t session,
                      uint64_t owner, uint32_t kind);
/* How many lock records (session, owner) holds on ino (any kind). */
int meta_lock_held(struct meta *m, uint64_t ino, uint64_t session,
                   uint64_t owner);
/* Visits the locks on ino (0: all), held ones first in key order, then
 * the waiting requests; return nonzero from cb to stop. */
typedef int (*meta_lock_visit)(void *arg, uint64_t ino,
                               const struct meta_lock *lk, int waiting);
int meta_lock_list(struct meta *m, uint64_t ino, meta_lock_visit cb,
                   void *arg);
/* Seconds of lock grace left after a restart (0: none). */
uint32_t meta_lock_grace_left(struct meta *m);

#endif
