/* rpcsvc_rpcb.c - registering the server's programs with rpcbind, so
 * `rpcinfo -p` lists them (decision 4 of DESIGN.md).
 *
 * rpcbind is optional: we first check, quickly and without libtirpc, that
 * something answers on its local socket or on port 111, because libtirpc's
 * own attempts wait out long timeouts when nothing is there. */
#include "config.h"
#include "rpcsvc_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <rpc/rpcb_clnt.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

#define RPCB_CHECK_MS 300

static int try_connect(int family, const struct sockaddr *sa, socklen_t len)
{
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int ok = 0;
    if (connect(fd, sa, len) == 0) {
        ok = 1;
    } else if (errno == EINPROGRESS) {
        struct pollfd pf = { .fd = fd, .events = POLLOUT };
        int err = 0;
        socklen_t el = sizeof(err);
        if (poll(&pf, 1, RPCB_CHECK_MS) == 1 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && !err)
            ok = 1;
    }
    close(fd);
    return ok;
}

int rpcb_reachable(void)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    snprintf(un.sun_path, sizeof(un.sun_path), "%s", "/run/rpcbind.sock");
    if (try_connect(AF_UNIX, (struct sockaddr *)&un, sizeof(un)))
        return 1;
    struct sockaddr_in in = { .sin_family = AF_INET,
                              .sin_port = htons(111),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    return try_connect(AF_INET, (struct sockaddr *)&in, sizeof(in));
}

static struct netconfig *server_netconfig(const struct rpc_server *s)
{
    return getnetconfigent(s->addr.ss_family == AF_INET6 ? "tcp6" : "tcp");
}

static int port_of(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return -1;
}

/* Whether rpcbind's entry for p still names our port: a gateway started
 * on this host after us registers over our entries, and its entries are
 * not ours to take away. */
static int entry_is_ours(const struct rpc_server *s,
                         const struct rpc_program *p, struct netconfig *nc)
{
    struct sockaddr_storage got;
    memset(&got, 0, sizeof(got));
    struct netbuf nb = { .maxlen = sizeof(got), .len = 0, .buf = &got };
    if (!rpcb_getaddr(p->prog, p->vers, nc, &nb, "localhost"))
        return 0;
    return port_of(&got) == port_of(&s->addr);
}

void rpc_server_register(struct rpc_server *s)
{
    if (!rpcb_reachable()) {
        log_info("rpc: rpcbind is not running; programs not registered");
        return;
    }
    struct netconfig *nc = server_netconfig(s);
    if (!nc) {
        log_warn("rpc: no netconfig entry for TCP; not registering");
        return;
    }
    struct netbuf nb = { .maxlen = s->addrlen, .len = s->addrlen,
                         .buf = &s->addr };
    for (unsigned i = 0; i < s->nprogs; i++) {
        const struct rpc_program *p = &s->progs[i];
        /* A gateway that died without unregistering left its entry. */
        rpcb_unset(p->prog, p->vers, nc);
        if (rpcb_set(p->prog, p->vers, nc, &nb))
            log_info("rpc: registered program %u version %u with rpcbind",
                     p->prog, p->vers);
        else
            log_warn("rpc: rpcbind refused program %u version %u",
                     p->prog, p->vers);
    }
    freenetconfigent(nc);
    s->registered = 1;
}

void rpc_server_unregister(struct rpc_server *s)
{
    if (!s->registered)
        return;
    s->registered = 0;
    if (!rpcb_reachable())
        return;
    struct netconfig *nc = server_netconfig(s);
    if (!nc)
        return;
    for (unsigned i = 0; i < s->nprogs; i++)
        if (entry_is_ours(s, &s->progs[i], nc))
            rpcb_unset(s->progs[i].prog, s->progs[i].vers, nc);
    freenetconfigent(nc);
}
