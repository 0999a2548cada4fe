/* admin_acl.h - who may call the admin program: a list of addresses and
 * networks ("10.0.0.5", "192.168.1.0/24", "fd00::/8"), plus the gateway
 * host itself through 127.0.0.1 and ::1. */
#ifndef FLEXFS_ADMIN_ACL_H
#define FLEXFS_ADMIN_ACL_H

#include <stddef.h>
#include <sys/socket.h>

#include "netaddr.h"

#define ADMIN_ACL_MAX 64

struct admin_acl {
    struct net_prefix e[ADMIN_ACL_MAX];
    size_t n;
};

/* Parses "A,B/24, C" (spaces allowed, NULL or "" is empty).  -EINVAL
 * names the bad item in the log. */
int admin_acl_parse(const char *list, struct admin_acl *out);
/* 1 if peer is 127.0.0.1, ::1 (also as ::ffff:127.0.0.1) or in the list.
 * Other 127.x.y.z addresses are treated as any remote host would be. */
int admin_acl_allows(const struct admin_acl *acl,
                     const struct sockaddr *peer, socklen_t len);

#endif
