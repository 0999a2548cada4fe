/* nfs4_int.h - what the nfs4*.c files share: the front end's context, the
 * per-COMPOUND context the operations work on, file handles, attribute
 * coding, the volume cache and the operation handlers of each file.
 * Nothing outside gateway/nfs4*.c (and the tests) includes this. */
#ifndef FLEXFS_NFS4_INT_H
#define FLEXFS_NFS4_INT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "nfs4_prot.h"
#include "meta.h"
#include "rpcsvc.h"
#include "store.h"

#define NFS4_MAX_OPS     128            /* ops per COMPOUND (RESOURCE past) */
#define NFS4_MAXIO       (1024 * 1024)  /* maxread / maxwrite */
#define NFS4_MAXDIR      (256 * 1024)   /* largest READDIR reply we build */
#define NFS4_REPLY_DATA  (2 * NFS4_MAXIO) /* READ data in one COMPOUND */
#define NFS4_DIR_ENTRIES 1024           /* entries per READDIR reply */
#define NFS4_ROOT_FILEID 1              /* fileid of the pseudo-root */

struct nfs4_state;
struct nfs4_wcache;

/* ---- file handles (nfs4_fh.c) ---- */
enum { NFS4_FH_ROOT = 1, NFS4_FH_INODE = 2 };

/* What a handle names: the pseudo-root, or an inode of a volume. */
struct nfs4_fh {
    uint8_t kind;
    uint64_t vol, ino, gen;
};

#define NFS4_FH_BYTES 28
void nfs4_fh_root(struct nfs4_fh *out);
/* Wire form into out (malloc'd value): 0 or -ENOMEM. */
int nfs4_fh_pack(const struct nfs4_fh *fh, nfs_fh4 *out);
/* NFS4_OK or NFS4ERR_BADHANDLE; says nothing of whether it still exists. */
nfsstat4 nfs4_fh_unpack(const char *buf, u_int len, struct nfs4_fh *out);
int nfs4_fh_equal(const struct nfs4_fh *a, const struct nfs4_fh *b);

/* ---- the front end (nfs4.c) ---- */
/* A volume as the front end uses it: its core session opens files and
 * names new block versions (upper 32 bits of a version). */
struct nfs4_vol {
    uint64_t id, root;
    uint32_t block_size;
    char name[META_NAME_MAX + 1];
    uint64_t session;                   /* 0 until first needed */
    uint32_t counter;                   /* last version counter used */
};

struct nfs4_server {
    struct meta *meta;
    struct store *store;
    uint32_t lease_secs;
    int64_t grace_end;                  /* monotonic seconds */
    uint64_t *old_sessions;             /* an earlier start's, ended with */
    size_t nold;                        /* the grace period (vol_mu) */
    uint32_t boot_id;                   /* in clientids and stateids */
    int64_t boot_sec;                   /* realtime of start */
    verifier4 write_verf;               /* WRITE/COMMIT verifier */
    struct nfs4_state *state;
    struct nfs4_wcache *wc;
    struct exports *exports;            /* NULL or no file: all open */

    pthread_mutex_t vol_mu;             /* guards vols, nvols, the counters */
    struct nfs4_vol *vols;
    size_t nvols;

    pthread_mutex_t reap_mu;            /* guards stop */
    pthread_cond_t reap_cv;
    int stop;
    int reaper_started;
    pthread_t reaper;
};

/* One COMPOUND being served. */
struct nfs4_cctx {
    struct nfs4_server *srv;
    struct rpc_req *req;
    struct meta_cred cred;              /* the caller's, squashed by the
                                           export of cur's volume */
    int read_only;                      /* cur's volume is exported ro */
    uint32_t reply_left;                /* bytes READ may still add */
    struct nfs4_fh cur, saved;
    int has_cur, has_saved;
    /* Attributes of cur as last fetched (valid while cur_attr_ok). */
    struct meta_attr cur_attr;
    int cur_attr_ok;
    const nfs_argop4 *arg;              /* the operation being run */
};

int64_t nfs4_now(void);                 /* monotonic seconds */
int nfs4_in_grace(const struct nfs4_server *s);
/* The one errno -> NFS4ERR_* table. */
nfsstat4 nfs4_errno(int err);
/* Checks a component name: NFS4_OK or INVAL/BADNAME/BADCHAR/NAMETOOLONG. */
nfsstat4 nfs4_check_name(const component4 *name);

/* The volumes (at most NFS4_MAX_VOLUMES) into *out (malloc'd); returns
 * how many or -errno. */
#define NFS4_MAX_VOLUMES 1024
int nfs4_vol_list(struct nfs4_server *s, struct meta_volume **out);
/* Volume of id (cached); -errno. */
int nfs4_vol_get(struct nfs4_server *s, uint64_t id, struct nfs4_vol *out);
/* Volume of ino, -errno. */
int nfs4_vol_of_ino(struct nfs4_server *s, uint64_t ino,
                    struct nfs4_vol *out);
/* Whether the caller's host may see the volume of that name. */
int nfs4_vol_exported(struct nfs4_cctx *c, const char *name);
/* The core session of volume id (opened on first use). */
int nfs4_vol_session(struct nfs4_server *s, uint64_t id, uint64_t *session);
/* The sessions an earlier start left (until the grace period ends):
 * copies up to max ids into out, returns how many. */
size_t nfs4_old_sessions(struct nfs4_server *s, uint64_t *out, size_t max);
/* A fresh block version for a write into volume id. */
int nfs4_new_version(struct nfs4_server *s, uint64_t id, uint64_t *version);

/* Attributes of what fh names (the pseudo-root's are made up):
 * NFS4_OK, STALE, ... */
nfsstat4 nfs4_fh_attr(struct nfs4_cctx *c, const struct nfs4_fh *fh,
                      struct meta_attr *out);
/* Sets the current handle (its attributes become known). */
void nfs4_set_cur(struct nfs4_cctx *c, const struct nfs4_fh *fh,
                  const struct meta_attr *a);
/* Attributes of the current handle, fetched if not known. */
nfsstat4 nfs4_cur_attr(struct nfs4_cctx *c, struct meta_attr *out);
/* The current handle must be an inode of this type (S_IFDIR...):
 * NFS4_OK, or NOTDIR/ISDIR/INVAL/SYMLINK as the RFC wants per op. */
nfsstat4 nfs4_cur_dir(struct nfs4_cctx *c, struct meta_attr *out);
nfsstat4 nfs4_cur_file(struct nfs4_cctx *c, struct meta_attr *out);
/* Every attribute set from the core passes here before a client sees
 * it: buffered UNSTABLE writes show in size and mtime, and the change
 * attribute becomes (core change << 16) + writes buffered since, which
 * moves on each WRITE and stays monotonic when the buffer is committed. */
void nfs4_fix_attr(struct nfs4_server *s, struct meta_attr *a);
/* The change_info4 of a change the core reported (both counters read in
 * its transaction, so atomic); *after, if not NULL, gets the directory's
 * attributes as clients see them. */
void nfs4_cinfo(struct nfs4_server *s, change_info4 *ci,
                const struct meta_dirchange *dc, struct meta_attr *after);
/* The change_info4 of a directory an operation left as it was (dir: its
 * attributes from nfs4_fh_attr or nfs4_cur_dir). */
void nfs4_cinfo_same(change_info4 *ci, const struct meta_attr *dir);

/* ---- attributes (nfs4_attr.c) ---- */
/* Everything an encoder may need about one object. */
struct nfs4_attr_src {
    struct nfs4_cctx *c;
    const struct nfs4_fh *fh;
    const struct meta_attr *a;
    nfsstat4 rdattr_error;              /* READDIR: the entry's error */
};
int nfs4_bitmap_isset(const bitmap4 *b, unsigned n);
/* Encodes the attributes asked for in req that we support into out
 * (malloc'd).  NFS4_OK, INVAL (a write-only attribute asked), or an error
 * from fetching what is needed. */
nfsstat4 nfs4_attr_encode(const struct nfs4_attr_src *src, const bitmap4 *req,
                          fattr4 *out);
/* What SETATTR, CREATE and OPEN can set. */
struct nfs4_sattr {
    struct meta_setattr sa;             /* mode, uid, gid, size, times */
    int has_acl;
    fattr4_acl acl;                     /* decoded ACEs (malloc'd) */
    bitmap4 set;                        /* the attributes given */
    uint32_t set_words[3];
};
/* Decodes fa for setting: NFS4_OK, ATTRNOTSUPP, INVAL (read-only attr),
 * BADXDR, BADOWNER.  Free with nfs4_sattr_free. */
nfsstat4 nfs4_sattr_decode(const fattr4 *fa, struct nfs4_sattr *out);
void nfs4_sattr_free(struct nfs4_sattr *s);
/* Copies the bitmap of what was set into out (malloc'd). */
int nfs4_bitmap_copy(const bitmap4 *in, bitmap4 *out);
/* VERIFY/NVERIFY: NFS4_OK if fa matches the object, NOT_SAME if not, or
 * an error (ATTRNOTSUPP, INVAL, BADXDR). */
nfsstat4 nfs4_attr_compare(const struct nfs4_attr_src *src,
                           const fattr4 *fa);
/* "uid"/"uid@domain"/name -> id.  0 or -EINVAL. */
int nfs4_owner_parse(const char *s, size_t len, int group, uint32_t *id);

/* ---- ACLs (nfs4_acl.c) ---- */
/* The NFSv4 ACL of an object, mapped from its POSIX ACL (out malloc'd). */
nfsstat4 nfs4_acl_get(struct nfs4_cctx *c, const struct nfs4_fh *fh,
                      const struct meta_attr *a, fattr4_acl *out);
/* Sets an object's POSIX ACL (and mode) from NFSv4 ACEs. */
nfsstat4 nfs4_acl_set(struct nfs4_cctx *c, const struct nfs4_fh *fh,
                      const struct meta_attr *a, const fattr4_acl *acl);

/* ---- the operations ---- */
typedef nfsstat4 (*nfs4_op_fn)(struct nfs4_cctx *c, nfs_argop4 *a,
                               nfs_resop4 *r);

/* nfs4_ops_fh.c */
nfsstat4 nfs4_op_putfh(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_putrootfh(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_getfh(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_savefh(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_restorefh(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_lookup(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_lookupp(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);

/* nfs4_ops_ns.c */
nfsstat4 nfs4_op_access(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_create(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_getattr(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_link(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_nverify(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_readdir(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_readlink(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_remove(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_rename(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_secinfo(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_setattr(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_verify(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);

/* nfs4_state.c */
nfsstat4 nfs4_op_setclientid(struct nfs4_cctx *c, nfs_argop4 *a,
                             nfs_resop4 *r);
nfsstat4 nfs4_op_setclientid_confirm(struct nfs4_cctx *c, nfs_argop4 *a,
                                     nfs_resop4 *r);
nfsstat4 nfs4_op_renew(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);

/* nfs4_io.c */
/* May the caller write the current file with this stateid?  (The stateid
 * and share checks, then the core's permission check if no OPEN made it.) */
nfsstat4 nfs4_may_write(struct nfs4_cctx *c, const stateid4 *sid);
nfsstat4 nfs4_op_open(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_open_confirm(struct nfs4_cctx *c, nfs_argop4 *a,
                              nfs_resop4 *r);
nfsstat4 nfs4_op_open_downgrade(struct nfs4_cctx *c, nfs_argop4 *a,
                                nfs_resop4 *r);
nfsstat4 nfs4_op_close(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_read(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_write(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_commit(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);

/* nfs4_lock.c */
nfsstat4 nfs4_op_lock(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_lockt(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_locku(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r);
nfsstat4 nfs4_op_release_lockowner(struct nfs4_cctx *c, nfs_argop4 *a,
                                   nfs_resop4 *r);

/* The status every result starts with (all result structs of
 * nfs_resop4 begin with an nfsstat4, so any member reads it). */
static inline nfsstat4 *nfs4_res_status(nfs_resop4 *r)
{
    return &r->nfs_resop4_u.opillegal.status;
}

#endif
