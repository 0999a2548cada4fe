/* native_posix.c - ACCESS, the xattr procedures and the lock procedures of
 * the native program (see native_posix.h).  Handlers only convert; the
 * rules are the core's (meta_xattr.c, meta_acl.c, meta_lock.c). */
#include "config.h"
#include "native_posix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "log.h"

static struct meta *meta_of(const struct rpc_req *req)
{
    return ((struct gateway *)req->ctx)->meta;
}

#define NAME(n) ((n).fx_name_val ? (n).fx_name_val : "")

static int status_of(int rc)
{
    return rc < 0 ? -rc : 0;
}

static enum rpc_verdict status_reply(fx_status_res *res, int rc)
{
    res->status = status_of(rc);
    return RPC_REPLY;
}

static enum rpc_verdict attr_reply(fx_attr_res *res, int rc,
                                   const struct meta_attr *at)
{
    res->status = status_of(rc);
    if (rc >= 0)
        native_attr_out(&res->fx_attr_res_u.attr, at);
    return RPC_REPLY;
}

/* ---- access, xattrs ---- */

enum rpc_verdict fx_access(struct rpc_req *req, void *a, void *r)
{
    fx_access_args *args = a;
    if (args->mask > 7)
        return status_reply(r, -EINVAL);
    return status_reply(r, meta_access(meta_of(req), &req->cred, args->ino,
                                       (int)args->mask));
}

enum rpc_verdict fx_getxattr(struct rpc_req *req, void *a, void *r)
{
    fx_xattr_args *args = a;
    fx_getxattr_res *res = r;
    char *buf = malloc(FX_XATTR_SIZE_MAX);
    if (!buf)
        return RPC_SYSTEM_ERR;
    int rc = meta_getxattr(meta_of(req), &req->cred, args->ino,
                           NAME(args->name), args->name.fx_name_len, buf,
                           FX_XATTR_SIZE_MAX);
    res->status = status_of(rc);
    if (rc < 0) {
        free(buf);
        return RPC_REPLY;
    }
    res->fx_getxattr_res_u.value.value_val = buf;    /* freed with the reply */
    res->fx_getxattr_res_u.value.value_len = (u_int)rc;
    return RPC_REPLY;
}

enum rpc_verdict fx_setxattr(struct rpc_req *req, void *a, void *r)
{
    fx_setxattr_args *args = a;
    struct meta_attr at;
    int rc = meta_setxattr(meta_of(req), &req->cred, args->ino,
                           NAME(args->name), args->name.fx_name_len,
                           args->value.value_val, args->value.value_len,
                           args->flags, &at);
    return attr_reply(r, rc, &at);
}

enum rpc_verdict fx_listxattr(struct rpc_req *req, void *a, void *r)
{
    fx_getattr_args *args = a;
    fx_listxattr_res *res = r;
    char *buf = malloc(FX_XATTR_LIST_MAX);
    if (!buf)
        return RPC_SYSTEM_ERR;
    int rc = meta_listxattr(meta_of(req), &req->cred, args->ino, buf,
                            FX_XATTR_LIST_MAX);
    if (rc == -ERANGE)                  /* more than any caller may take */
        rc = -E2BIG;
    res->status = status_of(rc);
    if (rc < 0) {
        free(buf);
        return RPC_REPLY;
    }
    res->fx_listxattr_res_u.names.names_val = buf;
    res->fx_listxattr_res_u.names.names_len = (u_int)rc;
    return RPC_REPLY;
}

enum rpc_verdict fx_removexattr(struct rpc_req *req, void *a, void *r)
{
    fx_xattr_args *args = a;
    struct meta_attr at;
    int rc = meta_removexattr(meta_of(req), &req->cred, args->ino,
                              NAME(args->name), args->name.fx_name_len, &at);
    return attr_reply(r, rc, &at);
}

/* ---- locks ---- */

static void lock_in(struct meta_lock *o, const fx_lock *l)
{
    o->type = l->type;
    o->kind = l->kind;
    o->start = l->start;
    o->end = l->end;
    o->session = l->session;
    o->owner = l->owner;
    o->pid = l->pid;
}

static void lock_out(fx_lock *o, const struct meta_lock *l)
{
    o->type = l->type;
    o->kind = l->kind;
    o->start = l->start;
    o->end = l->end;
    o->session = l->session;
    o->owner = l->owner;
    o->pid = l->pid;
}

enum rpc_verdict fx_getlk(struct rpc_req *req, void *a, void *r)
{
    fx_lock_args *args = a;
    fx_getlk_res *res = r;
    struct meta_lock lk, cf;
    lock_in(&lk, &args->lock);
    int rc = meta_lock_test(meta_of(req), args->ino, &lk, &cf);
    if (rc == -EAGAIN)                  /* a conflict is an answer */
        rc = 0;
    res->status = status_of(rc);
    if (rc == 0)
        lock_out(&res->fx_getlk_res_u.conflict, &cf);
    return RPC_REPLY;
}

/* A SETLK waiting in the core: its deferred reply. */
struct setlk_wait {
    struct rpc_deferred *d;
};

static void setlk_done(void *arg, int status)
{
    struct setlk_wait *w = arg;
    fx_status_res res = { .status = status_of(status) };
    rpc_deferred_reply(w->d, (xdrproc_t)xdr_fx_status_res, &res);
    free(w);
}

static int setlk_alive(void *arg)
{
    struct setlk_wait *w = arg;
    return rpc_deferred_alive(w->d);
}

enum rpc_verdict fx_setlk(struct rpc_req *req, void *a, void *r)
{
    fx_setlk_args *args = a;
    struct meta_lock lk;
    uint32_t flags = args->reclaim ? META_LOCK_RECLAIM : 0;
    lock_in(&lk, &args->lock);
    if (!args->wait || lk.type == META_LOCK_UNLOCK)
        return status_reply(r, meta_lock_set(meta_of(req), args->ino, &lk,
                                             flags, NULL));
    /* Deferred before queuing: the grant may come from another thread
     * before meta_lock_wait returns. */
    struct setlk_wait *w = malloc(sizeof(*w));
    if (!w)
        return RPC_SYSTEM_ERR;
    w->d = rpc_defer(req);
    if (!w->d) {
        free(w);
        return RPC_SYSTEM_ERR;
    }
    struct meta_lock_waiter mw = { .token = args->token, .done = setlk_done,
                                   .alive = setlk_alive, .arg = w };
    int rc = meta_lock_wait(meta_of(req), args->ino, &lk, flags, &mw);
    if (rc == META_LOCK_QUEUED)
        return RPC_DEFER;
    rpc_deferred_drop(w->d);
    free(w);
    return status_reply(r, rc);
}

enum rpc_verdict fx_lock_cancel(struct rpc_req *req, void *a, void *r)
{
    fx_lock_cancel_args *args = a;
    return status_reply(r, meta_lock_cancel(meta_of(req), args->session,
                                            args->token));
}

enum rpc_verdict fx_lock_release(struct rpc_req *req, void *a, void *r)
{
    fx_lock_release_args *args = a;
    return status_reply(r, meta_lock_release(meta_of(req), args->ino,
                                             args->session, args->owner,
                                             args->kind));
}
