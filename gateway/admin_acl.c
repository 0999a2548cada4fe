/* admin_acl.c - the address list of the admin program (see admin_acl.h). */
#include "config.h"
#include "admin_acl.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_item(const char *item, struct admin_acl_entry *e)
{
    char buf[128];
    size_t len = strlen(item);
    if (len == 0 || len >= sizeof buf)
        return -EINVAL;
    memcpy(buf, item, len + 1);
    char *slash = strchr(buf, '/');
    long bits = -1;
    if (slash) {
        char *end;
        *slash = '\0';
        errno = 0;
        bits = strtol(slash + 1, &end, 10);
        if (errno || end == slash + 1 || *end || bits < 0)
            return -EINVAL;
    }
    memset(e, 0, sizeof *e);
    if (inet_pton(AF_INET, buf, e->addr) == 1) {
        e->family = AF_INET;
        if (bits > 32)
            return -EINVAL;
        e->bits = bits < 0 ? 32 : (unsigned)bits;
    } else if (inet_pton(AF_INET6, buf, e->addr) == 1) {
        e->family = AF_INET6;
        if (bits > 128)
            return -EINVAL;
        e->bits = bits < 0 ? 128 : (unsigned)bits;
    } else {
        return -EINVAL;
    }
    return 0;
}

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
        if (parse_item(item, &out->e[out->n]) < 0) {
            log_err("admin_hosts: \"%s\" is not an address or ADDR/BITS",
                    item);
            return -EINVAL;
        }
        out->n++;
        p = end;
    }
    return 0;
}

static int prefix_match(const unsigned char *a, const unsigned char *b,
                        unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

/* The peer as (family, bytes), with IPv4-mapped IPv6 turned into IPv4. */
static int peer_addr(const struct sockaddr *peer, socklen_t len,
                     unsigned char *addr)
{
    if (peer->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        memcpy(addr, &((const struct sockaddr_in *)peer)->sin_addr, 4);
        return AF_INET;
    }
    if (peer->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct in6_addr *a6 =
            &((const struct sockaddr_in6 *)peer)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            memcpy(addr, a6->s6_addr + 12, 4);
            return AF_INET;
        }
        memcpy(addr, a6->s6_addr, 16);
        return AF_INET6;
    }
    return AF_UNSPEC;
}

int admin_acl_allows(const struct admin_acl *acl, const struct sockaddr *peer,
                     socklen_t len)
{
    static const unsigned char v4_loopback[4] = { 127, 0, 0, 1 };
    unsigned char addr[16];
    int family = peer_addr(peer, len, addr);
    if (family == AF_INET && memcmp(addr, v4_loopback, 4) == 0)
        return 1;
    if (family == AF_INET6) {
        struct in6_addr a6;
        memcpy(&a6, addr, sizeof a6);
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return 1;
    }
    for (size_t i = 0; acl && i < acl->n; i++)
        if (acl->e[i].family == family &&
            prefix_match(addr, acl->e[i].addr, acl->e[i].bits))
            return 1;
    return 0;
}

void admin_acl_format(const struct sockaddr *peer, char *buf, size_t len)
{
    unsigned char addr[16];
    int family = peer_addr(peer, sizeof(struct sockaddr_storage), addr);
    if (family == AF_UNSPEC || !inet_ntop(family, addr, buf, (socklen_t)len))
        snprintf(buf, len, "(unknown)");
}
