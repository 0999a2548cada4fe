/* gw_client.h - a small synchronous client of the native protocol for the
 * gateway's integration tests (gw_protocol): one libtirpc connection with
 * AUTH_SYS credentials, a helper per procedure returning the reply status
 * (0 or an errno; FX_CONFLICT for COMMIT_WRITE), and CHECK macros that
 * fail the test with the source line. */
#ifndef FLEXFS_GW_CLIENT_H
#define FLEXFS_GW_CLIENT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "flexfs_prot.h"

#define CHECK(cond, ...) do { if (!(cond)) { \
        fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } } while (0)
#define CHECK_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
        CHECK(a_ == b_, "%s = %lld, expected %s = %lld", #a, a_, #b, b_); } while (0)
#define CHECK_OK(st) CHECK_EQ(st, 0)

struct gw {
    CLIENT *cl;
    uint64_t session, root;
    uint32_t block_size, lease;
    /* The directories the last successful call that added, removed or
     * moved a name answered with: [0] the (source) directory, [1] the
     * target of a RENAME. */
    fx_attr dir_after[2];
};

/* Connects as uid/gid (AUTH_SYS) and MOUNTs the default volume. */
void gw_connect(struct gw *g, uint16_t port, uint32_t uid, uint32_t gid);
/* The same from a local address other than 127.0.0.1 (127.0.0.2, say):
 * to the gateway, another host. */
void gw_connect_from(struct gw *g, uint16_t port, uint32_t uid, uint32_t gid,
                     const char *from);
void gw_close(struct gw *g);
/* The raw call; an RPC-level failure ends the test unless want says it is
 * the expected outcome.  Returns the clnt_stat. */
enum clnt_stat gw_call(struct gw *g, uint32_t proc, xdrproc_t xa, void *a,
                       xdrproc_t xr, void *r, enum clnt_stat want);

void gw_null(struct gw *g);
int gw_mount(struct gw *g, const char *volume, fx_mount_ok *ok);
int gw_renew(struct gw *g, uint64_t session);
int gw_unmount(struct gw *g, uint64_t session);
int gw_lookup(struct gw *g, uint64_t parent, const char *name, fx_attr *out);
int gw_lookup_n(struct gw *g, uint64_t parent, const char *name, size_t len,
                fx_attr *out);
int gw_getattr(struct gw *g, uint64_t ino, fx_attr *out);
int gw_setattr(struct gw *g, const fx_setattr_args *a, fx_attr *out);
int gw_setxattr(struct gw *g, uint64_t ino, const char *name,
                const void *val, size_t len, fx_attr *out);
int gw_removexattr(struct gw *g, uint64_t ino, const char *name,
                   fx_attr *out);
int gw_create(struct gw *g, uint64_t parent, const char *name, uint32_t mode,
              int excl, uint64_t session, fx_attr *out, int *created);
int gw_mknod(struct gw *g, uint64_t parent, const char *name, uint32_t mode,
             uint64_t rdev, fx_attr *out);
int gw_mkdir(struct gw *g, uint64_t parent, const char *name, uint32_t mode,
             fx_attr *out);
int gw_mkdir_n(struct gw *g, uint64_t parent, const char *name, size_t len,
               uint32_t mode, fx_attr *out);
int gw_symlink(struct gw *g, uint64_t parent, const char *name,
               const char *target, fx_attr *out);
int gw_symlink_n(struct gw *g, uint64_t parent, const char *name,
                 const char *target, size_t tlen, fx_attr *out);
/* target: a buffer of FX_PATH_MAX + 1 bytes. */
int gw_readlink(struct gw *g, uint64_t ino, char *target);
int gw_link(struct gw *g, uint64_t ino, uint64_t newparent, const char *name,
            fx_attr *out);
int gw_unlink(struct gw *g, uint64_t parent, const char *name);
int gw_rmdir(struct gw *g, uint64_t parent, const char *name);
int gw_rename(struct gw *g, uint64_t parent, const char *name,
              uint64_t newparent, const char *newname, uint32_t flags);
int gw_open(struct gw *g, uint64_t ino, uint32_t flags, fx_attr *out);
int gw_release(struct gw *g, uint64_t ino);
/* res is filled (free with xdr_free(xdr_fx_readdir_res)). */
int gw_readdir(struct gw *g, uint64_t dir, uint64_t cookie, uint32_t max,
               int plus, fx_readdir_res *res);
int gw_statfs(struct gw *g, uint64_t ino, fx_statfs_ok *out);
/* res filled; free with xdr_free(xdr_fx_get_blocks_res). */
int gw_get_blocks(struct gw *g, uint64_t ino, uint64_t first, uint32_t count,
                  fx_get_blocks_res *res);
/* res filled; free with xdr_free(xdr_fx_commit_res). */
int gw_commit(struct gw *g, uint64_t ino, const fx_commit_block *b, u_int n,
              uint64_t write_end, fx_time_how how, fx_commit_res *res);

#endif
