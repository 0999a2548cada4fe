/* native_posix.h - the native program's procedures for access(2),
 * extended attributes (and so POSIX ACLs) and advisory locks; native.c
 * puts them in its table.  A blocking SETLK is deferred (rpc_defer) until
 * the core grants it, so neither side polls. */
#ifndef FLEXFS_NATIVE_POSIX_H
#define FLEXFS_NATIVE_POSIX_H

#include "flexfs_prot.h"
#include "rpcsvc.h"

/* native.c's conversion of attributes to the wire. */
void native_attr_out(fx_attr *o, const struct meta_attr *a);

enum rpc_verdict fx_access(struct rpc_req *req, void *a, void *r);
enum rpc_verdict fx_getxattr(struct rpc_req *req, void *a, void *r);
enum rpc_verdict fx_setxattr(struct rpc_req *req, void *a, void *r);
enum rpc_verdict fx_listxattr(struct rpc_req *req, void *a, void *r);
enum rpc_verdict fx_removexattr(struct rpc_req *req, void *a, void *r);
enum rpc_verdict fx_getlk(struct rpc_req *req, void *a, void *r);
enum rpc_verdict fx_setlk(struct rpc_req *req, void *a, void *r);
enum rpc_verdict fx_lock_cancel(struct rpc_req *req, void *a, void *r);
enum rpc_verdict fx_lock_release(struct rpc_req *req, void *a, void *r);

#endif
