/* gw_client.c - the native-protocol test client (see gw_client.h). */
#include "config.h"
#include "gw_client.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <string.h>

static const struct timeval TMO = { 30, 0 };

static const char *const proc_names[] = {
    "NULL", "MOUNT", "RENEW", "UNMOUNT", "LOOKUP", "GETATTR", "SETATTR",
    "CREATE", "MKNOD", "MKDIR", "SYMLINK", "READLINK", "LINK", "UNLINK",
    "RMDIR", "RENAME", "READDIR", "READDIRPLUS", "STATFS", "GET_BLOCKS",
    "COMMIT_WRITE", "OPEN", "RELEASE",
};

enum clnt_stat gw_call(struct gw *g, uint32_t proc, xdrproc_t xa, void *a,
                       xdrproc_t xr, void *r, enum clnt_stat want)
{
    enum clnt_stat st = clnt_call(g->cl, proc, xa, a, xr, r, TMO);
    CHECK(st == want, "%s: %s (expected %s)",
          proc < sizeof(proc_names) / sizeof(*proc_names) ? proc_names[proc] : "?",
          clnt_sperrno(st), clnt_sperrno(want));
    return st;
}

#define CALL(proc, atype, a, rtype, r) \
    gw_call(g, proc, (xdrproc_t)xdr_##atype, (void *)(a), \
            (xdrproc_t)xdr_##rtype, (void *)(r), RPC_SUCCESS)

static fx_name name_of(const char *s, size_t len)
{
    fx_name n = { (u_int)len, (char *)s };
    return n;
}

void gw_connect(struct gw *g, uint16_t port, uint32_t uid, uint32_t gid)
{
    gw_connect_from(g, port, uid, gid, NULL);
}

void gw_connect_from(struct gw *g, uint16_t port, uint32_t uid, uint32_t gid,
                     const char *from)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int sock = RPC_ANYSOCK;
    fx_mount_ok ok;
    memset(g, 0, sizeof(*g));
    if (from) {
        struct sockaddr_in src = { .sin_family = AF_INET };
        CHECK(inet_pton(AF_INET, from, &src.sin_addr) == 1, "address %s", from);
        sock = socket(AF_INET, SOCK_STREAM, 0);
        CHECK(sock >= 0 &&
              bind(sock, (struct sockaddr *)&src, sizeof(src)) == 0 &&
              connect(sock, (struct sockaddr *)&sin, sizeof(sin)) == 0,
              "connect from %s", from);
    }
    g->cl = clnttcp_create(&sin, FLEXFS_PROG, FLEXFS_V1, &sock, 0, 0);
    CHECK(g->cl != NULL, "cannot connect to 127.0.0.1:%u: %s", port,
          clnt_spcreateerror("clnttcp_create"));
    auth_destroy(g->cl->cl_auth);
    g->cl->cl_auth = authunix_create("gwtest", uid, gid, 0, NULL);
    CHECK(g->cl->cl_auth != NULL, "authunix_create");
    CHECK_OK(gw_mount(g, "", &ok));
    g->session = ok.session;
    g->root = ok.root;
    g->block_size = ok.block_size;
    g->lease = ok.lease_secs;
    free(ok.store_url);
}

void gw_close(struct gw *g)
{
    if (g->session)
        gw_unmount(g, g->session);
    auth_destroy(g->cl->cl_auth);
    clnt_destroy(g->cl);
    g->cl = NULL;
}

void gw_null(struct gw *g)
{
    /* xdr_void takes no parameters in libtirpc's declaration. */
    xdrproc_t xv = (xdrproc_t)(void (*)(void))xdr_void;
    gw_call(g, FXPROC_NULL, xv, NULL, xv, NULL, RPC_SUCCESS);
}

int gw_mount(struct gw *g, const char *volume, fx_mount_ok *ok)
{
    fx_mount_args a = { (char *)volume, "gwtest-host" };
    fx_mount_res r;
    memset(&r, 0, sizeof(r));
    CALL(FXPROC_MOUNT, fx_mount_args, &a, fx_mount_res, &r);
    if (r.status == 0)
        *ok = r.fx_mount_res_u.ok;      /* the caller frees store_url */
    return r.status;
}

int gw_renew(struct gw *g, uint64_t session)
{
    fx_session_args a = { session };
    fx_status_res r = { 0 };
    CALL(FXPROC_RENEW, fx_session_args, &a, fx_status_res, &r);
    return r.status;
}

int gw_unmount(struct gw *g, uint64_t session)
{
    fx_session_args a = { session };
    fx_status_res r = { 0 };
    CALL(FXPROC_UNMOUNT, fx_session_args, &a, fx_status_res, &r);
    return r.status;
}

static int attr_result(fx_attr_res *r, fx_attr *out)
{
    if (r->status == 0 && out)
        *out = r->fx_attr_res_u.attr;
    return r->status;
}

static int entry_result(struct gw *g, fx_entry_res *r, fx_attr *out)
{
    if (r->status == 0) {
        if (out)
            *out = r->fx_entry_res_u.ok.attr;
        g->dir_after[0] = r->fx_entry_res_u.ok.parent;
    }
    return r->status;
}

int gw_lookup_n(struct gw *g, uint64_t parent, const char *name, size_t len,
                fx_attr *out)
{
    fx_lookup_args a = { parent, name_of(name, len) };
    fx_attr_res r;
    memset(&r, 0, sizeof(r));
    CALL(FXPROC_LOOKUP, fx_lookup_args, &a, fx_attr_res, &r);
    return attr_result(&r, out);
}

int gw_lookup(struct gw *g, uint64_t parent, const char *name, fx_attr *out)
{
    return gw_lookup_n(g, parent, name, strlen(name), out);
}

int gw_getattr(struct gw *g, uint64_t ino, fx_attr *out)
{
    fx_getattr_args a = { ino };
    fx_attr_res r;
    memset(&r, 0, sizeof(r));
    CALL(FXPROC_GETATTR, fx_getattr_args, &a, fx_attr_res, &r);
    return attr_result(&r, out);
}

int gw_setattr(struct gw *g, const fx_setattr_args *a, fx_attr *out)
{
    fx_attr_res r;
    memset(&r, 0, sizeof(r));
    CALL(FXPROC_SETATTR, fx_setattr_args, a, fx_attr_res, &r);
    return attr_result(&r, out);
}

int gw_setxattr(struct gw *g, uint64_t ino, const char *name,
                const void *val, size_t len, fx_attr *out)
{
    fx_setxattr_args a = { ino, name_of(name, strlen(name)),
                           { (u_int)len, (char *)val }, 0 };
    fx_attr_res r;
    memset(&r, 0, sizeof(r));
    CALL(FXPROC_SETXATTR, fx_setxattr_args, &a, fx_attr_res, &r);
    return attr_result(&r, out);
}

int gw_removexattr(struct gw *g, uint64_t ino, const char *name,
                   fx_attr *out)
{
    fx_xattr_args a = { ino, name_of(name, strlen(name)) };
    fx_attr_res r;
    memset(&r, 0, sizeof(r));
    CALL(FXPROC_REMOVEXATTR, fx_xattr_args, &a, fx_attr_res, &r);
    return attr_result(&r, out);
}

int gw_create(struct gw *g, uint64_t parent, const char *name, uint32_t mode,
              int excl, uint64_t session, fx_attr *out, int *created)
{
    fx_create_args a;
    fx_create_res r;
    memset(&a, 0, sizeof(a));
    memset(&r, 0, sizeof(r));
    a.parent = parent;
    a.name = name_of(name, strlen(name));
    a.mode = mode;
    a.umask = 022;
    a.exclusive = excl;
    a.session = session;
    CALL(FXPROC_CREATE, fx_create_args, &a, fx_create_res, &r);
    if (r.status == 0) {
        if (out)
            *out = r.fx_create_res_u.ok.attr;
        if (created)
            *created = r.fx_create_res_u.ok.created;
        g->dir_after[0] = r.fx_create_res_u.ok.parent;
    }
    return r.status;
}

static int mk_common(struct gw *g, uint32_t proc, uint64_t parent,
                     const char *name, size_t len, uint32_t mode,
                     uint64_t rdev, fx_attr *out)
{
    fx_create_args a;
    fx_entry_res r;
    memset(&a, 0, sizeof(a));
    memset(&r, 0, sizeof(r));
    a.parent = parent;
    a.name = name_of(name, len);
    a.mode = mode;
    a.umask = 022;
    a.rdev = rdev;
    CALL(proc, fx_create_args, &a, fx_entry_res, &r);
    return entry_result(g, &r, out);
}

int gw_mknod(struct gw *g, uint64_t parent, const char *name, uint32_t mode,
             uint64_t rdev, fx_attr *out)
{
    return mk_common(g, FXPROC_MKNOD, parent, name, strlen(name), mode, rdev,
                     out);
}

int gw_mkdir_n(struct gw *g, uint64_t parent, const char *name, size_t len,
               uint32_t mode, fx_attr *out)
{
    return mk_common(g, FXPROC_MKDIR, parent, name, len, mode, 0, out);
}

int gw_mkdir(struct gw *g, uint64_t parent, const char *name, uint32_t mode,
             fx_attr *out)
{
    return gw_mkdir_n(g, parent, name, strlen(name), mode, out);
}

int gw_symlink(struct gw *g, uint64_t parent, const char *name,
               const char *target, fx_attr *out)
{
    return gw_symlink_n(g, parent, name, target, strlen(target), out);
}

int gw_symlink_n(struct gw *g, uint64_t parent, const char *name,
                 const char *target, size_t tlen, fx_attr *out)
{
    fx_symlink_args a = { parent, name_of(name, strlen(name)),
                          { (u_int)tlen, (char *)target } };
    fx_entry_res r;
    memset(&r, 0, sizeof(r));
    CALL(FXPROC_SYMLINK, fx_symlink_args, &a, fx_entry_res, &r);
    return entry_result(g, &r, out);
}

int gw_readlink(struct gw *g, uint64_t ino, char *target)
{
    fx_getattr_args a = { ino };
    fx_readlink_res r;
    memset(&r, 0, sizeof(r));
    CALL(FXPROC_READLINK, fx_getattr_args, &a, fx_readlink_res, &r);
    if (r.status == 0)
        snprintf(target, FX_PATH_MAX + 1, "%s", r.fx_readlink_res_u.target);
    int st = r.status;
    xdr_free((xdrproc_t)xdr_fx_readlink_res, (char *)&r);
    return st;
}

int gw_link(struct gw *g, uint64_t ino, uint64_t newparent, const char *name,
            fx_attr *out)
{
    fx_link_args a = { ino, newparent, name_of(name, strlen(name)) };
    fx_entry_res r;
    memset(&r, 0, sizeof(r));
    CALL(FXPROC_LINK, fx_link_args, &a, fx_entry_res, &r);
    return entry_result(g, &r, out);
}

int gw_unlink(struct gw *g, uint64_t parent, const char *name)
{
    fx_unlink_args a = { parent, name_of(name, strlen(name)) };
    fx_remove_res r;
    memset(&r, 0, sizeof(r));
    CALL(FXPROC_UNLINK, fx_unlink_args, &a, fx_remove_res, &r);
    if (r.status == 0)
        g->dir_after[0] = r.fx_remove_res_u.parent;
    return r.status;
}

int gw_rmdir(struct gw *g, uint64_t parent, const char *name)
{
    fx_unlink_args a = { parent, name_of(name, strlen(name)) };
    fx_remove_res r;
    memset(&r, 0, sizeof(r));
    CALL(FXPROC_RMDIR, fx_unlink_args, &a, fx_remove_res, &r);
    if (r.status == 0)
        g->dir_after[0] = r.fx_remove_res_u.parent;
    return r.status;
}

int gw_rename(struct gw *g, uint64_t parent, const char *name,
              uint64_t newparent, const char *newname, uint32_t flags)
{
    fx_rename_args a = { parent, name_of(name, strlen(name)), newparent,
                         name_of(newname, strlen(newname)), flags };
    fx_rename_res r;
    memset(&r, 0, sizeof(r));
    CALL(FXPROC_RENAME, fx_rename_args, &a, fx_rename_res, &r);
    if (r.status == 0) {
        g->dir_after[0] = r.fx_rename_res_u.ok.from_parent;
        g->dir_after[1] = r.fx_rename_res_u.ok.to_parent;
    }
    return r.status;
}

int gw_open(struct gw *g, uint64_t ino, uint32_t flags, fx_attr *out)
{
    fx_open_args a = { ino, g->session, flags };
    fx_attr_res r;
    memset(&r, 0, sizeof(r));
    CALL(FXPROC_OPEN, fx_open_args, &a, fx_attr_res, &r);
    return attr_result(&r, out);
}

int gw_release(struct gw *g, uint64_t ino)
{
    fx_release_args a = { ino, g->session };
    fx_status_res r = { 0 };
    CALL(FXPROC_RELEASE, fx_release_args, &a, fx_status_res, &r);
    return r.status;
}

int gw_readdir(struct gw *g, uint64_t dir, uint64_t cookie, uint32_t max,
               int plus, fx_readdir_res *res)
{
    fx_readdir_args a = { dir, cookie, max };
    memset(res, 0, sizeof(*res));
    CALL(plus ? FXPROC_READDIRPLUS : FXPROC_READDIR, fx_readdir_args, &a,
         fx_readdir_res, res);
    return res->status;
}

int gw_statfs(struct gw *g, uint64_t ino, fx_statfs_ok *out)
{
    fx_statfs_args a = { ino };
    fx_statfs_res r;
    memset(&r, 0, sizeof(r));
    CALL(FXPROC_STATFS, fx_statfs_args, &a, fx_statfs_res, &r);
    if (r.status == 0)
        *out = r.fx_statfs_res_u.ok;
    return r.status;
}

int gw_get_blocks(struct gw *g, uint64_t ino, uint64_t first, uint32_t count,
                  fx_get_blocks_res *res)
{
    fx_get_blocks_args a = { ino, first, count };
    memset(res, 0, sizeof(*res));
    CALL(FXPROC_GET_BLOCKS, fx_get_blocks_args, &a, fx_get_blocks_res, res);
    return res->status;
}

int gw_commit(struct gw *g, uint64_t ino, const fx_commit_block *b, u_int n,
              uint64_t write_end, fx_time_how how, fx_commit_res *res)
{
    fx_commit_args a;
    memset(&a, 0, sizeof(a));
    memset(res, 0, sizeof(*res));
    a.ino = ino;
    a.session = g->session;
    a.blocks.blocks_len = n;
    a.blocks.blocks_val = (fx_commit_block *)b;
    a.write_end = write_end;
    a.mtime.how = how;
    CALL(FXPROC_COMMIT_WRITE, fx_commit_args, &a, fx_commit_res, res);
    return res->status;
}
