/* netaddr.h - client addresses and networks ("10.0.0.5", "10.1.0.0/16",
 * "fd00::/8") as the admin host list and the exports table name them.
 * IPv4-mapped IPv6 peers (::ffff:a.b.c.d) count as their IPv4 address. */
#ifndef FLEXFS_NETADDR_H
#define FLEXFS_NETADDR_H

#include <sys/socket.h>

struct net_prefix {
    int family;                         /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    unsigned bits;
};

/* "ADDR" or "ADDR/BITS": 0, or -EINVAL (host names are not taken). */
int net_prefix_parse(const char *text, struct net_prefix *out);
/* The peer's family (AF_UNSPEC if neither) and address bytes. */
int net_peer_addr(const struct sockaddr *peer, socklen_t len,
                  unsigned char addr[16]);
/* 1 if (family, addr) from net_peer_addr lies in p. */
int net_prefix_match(const struct net_prefix *p, int family,
                     const unsigned char *addr);
/* The peer's port (0 if neither family). */
unsigned net_peer_port(const struct sockaddr *peer, socklen_t len);
/* 1 if peer is 127.0.0.1 or ::1 (the gateway host itself). */
int net_peer_is_loopback(const struct sockaddr *peer, socklen_t len);
/* Printable address of peer (no port). */
void net_peer_format(const struct sockaddr *peer, char *buf, size_t len);

#endif
