/* admin_acl.c - the address list of the admin program (see admin_acl.h). */
#include "config.h"
#include "admin_acl.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int admin_acl_parse(const char *list, struct admin_acl *out)
{
    memset(out, 0, sizeof *out);
    if (!list)
        return 0;
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *end = p;
        while (*end && *end != ',' && *end != ' ' && *end != '\t')
            end++;
        char item[128];
        size_t n = (size_t)(end - p);
        if (n >= sizeof item || out->n == ADMIN_ACL_MAX) {
            log_err("admin_hosts: too long or too many entries at \"%.*s\"",
                    (int)(n > 60 ? 60 : n), p);
            return -EINVAL;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        if (net_prefix_parse(item, &out->e[out->n]) < 0) {
            log_err("admin_hosts: \"%s\" is not an address or ADDR/BITS",
                    item);
            return -EINVAL;
        }
        out->n++;
        p = end;
    }
    return 0;
}

int admin_acl_allows(const struct admin_acl *acl, const struct sockaddr *peer,
                     socklen_t len)
{
    if (net_peer_is_loopback(peer, len))
        return 1;
    unsigned char addr[16];
    int family = net_peer_addr(peer, len, addr);
    for (size_t i = 0; acl && i < acl->n; i++)
        if (net_prefix_match(&acl->e[i], family, addr))
            return 1;
    return 0;
}
