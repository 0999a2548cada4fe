/* netaddr.c - parsing and matching client addresses (see netaddr.h). */
#include "config.h"
#include "netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int net_prefix_parse(const char *text, struct net_prefix *out)
{
    char buf[128];
    size_t len = strlen(text);
    if (len == 0 || len >= sizeof buf)
        return -EINVAL;
    memcpy(buf, text, len + 1);
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
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->addr) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, buf, out->addr) == 1)
        out->family = AF_INET6;
    else
        return -EINVAL;
    long max = out->family == AF_INET ? 32 : 128;
    if (bits > max)
        return -EINVAL;
    out->bits = bits < 0 ? (unsigned)max : (unsigned)bits;
    return 0;
}

int net_peer_addr(const struct sockaddr *peer, socklen_t len,
                  unsigned char addr[16])
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

int net_prefix_match(const struct net_prefix *p, int family,
                     const unsigned char *addr)
{
    if (p->family != family)
        return 0;
    unsigned full = p->bits / 8, rest = p->bits % 8;
    if (memcmp(addr, p->addr, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (addr[full] & mask) == (p->addr[full] & mask);
}

unsigned net_peer_port(const struct sockaddr *peer, socklen_t len)
{
    if (peer->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
        return ntohs(((const struct sockaddr_in *)peer)->sin_port);
    if (peer->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
        return ntohs(((const struct sockaddr_in6 *)peer)->sin6_port);
    return 0;
}

int net_peer_is_loopback(const struct sockaddr *peer, socklen_t len)
{
    static const unsigned char v4_loopback[4] = { 127, 0, 0, 1 };
    unsigned char addr[16];
    int family = net_peer_addr(peer, len, addr);
    if (family == AF_INET)
        return memcmp(addr, v4_loopback, 4) == 0;
    if (family == AF_INET6) {
        struct in6_addr a6;
        memcpy(&a6, addr, sizeof a6);
        return IN6_IS_ADDR_LOOPBACK(&a6);
    }
    return 0;
}

void net_peer_format(const struct sockaddr *peer, char *buf, size_t len)
{
    unsigned char addr[16];
    int family = net_peer_addr(peer, sizeof(struct sockaddr_storage), addr);
    if (family == AF_UNSPEC || !inet_ntop(family, addr, buf, (socklen_t)len))
        snprintf(buf, len, "(unknown)");
}
