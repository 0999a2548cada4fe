/* fs_int.h - what the FUSE operation files share: fs.c's helpers (the
 * mount from a request, node ids, the caller's credentials, the gateway
 * call) and the operations fs_posix.c adds to the table (extended
 * attributes and so POSIX ACLs, access(2), fcntl and flock locks).
 * Include after FUSE_USE_VERSION is defined. */
#ifndef FLEXFS_CLIENT_FS_INT_H
#define FLEXFS_CLIENT_FS_INT_H

#include <fuse_lowlevel.h>
#include <stdint.h>

#include "flexfs_prot.h"
#include "rpcpool.h"

struct client;
struct fnode;

/* ---- fs.c ---- */
struct client *fs_client(fuse_req_t req);
/* The gateway's inode number of a FUSE node id. */
uint64_t fs_gw_ino(struct client *cl, fuse_ino_t ino);
void fs_get_cred(fuse_req_t req, struct rpc_cred *cr);
/* A gateway call; transport failures come back as -EIO. */
int fs_call(struct client *cl, const struct rpc_cred *cr, uint32_t proc,
            xdrproc_t xa, void *a, xdrproc_t xr, void *r, int *resent);
/* The same for a call answered only when something happens (a blocking
 * lock): see rpcpool_call_wait. */
int fs_call_wait(struct client *cl, const struct rpc_cred *cr, uint32_t proc,
                 xdrproc_t xa, void *a, xdrproc_t xr, void *r);
/* On a read-only mount: answers EROFS and returns 1. */
int fs_refuse_read_only(fuse_req_t req);
/* A name for a call; it points into name. */
fx_name fs_name(const char *name);

/* ---- fs_posix.c ---- */
void fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                 size_t size);
void fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                 const char *value, size_t size, int flags);
void fs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void fs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);
void fs_access(fuse_req_t req, fuse_ino_t ino, int mask);
void fs_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
              struct flock *lock);
void fs_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
              struct flock *lock, int sleep);
void fs_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
              int op);
/* A descriptor of fn was closed (FLUSH): POSIX drops every fcntl lock
 * its owner holds on the file. */
void fs_locks_flush(struct client *cl, struct fnode *fn,
                    struct fuse_file_info *fi);
/* The open file is released: its flock lock goes. */
void fs_locks_release(struct client *cl, struct fnode *fn,
                      struct fuse_file_info *fi);

#endif
