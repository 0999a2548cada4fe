/* admin_rpc.c - flexfs-admin's RPC client (see admin_rpc.h). */
#include "config.h"
#include "admin_rpc.h"
#include "flexfs_admin.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Binds fd to the numeric address src (any port). */
static int bind_source(int fd, int family, const char *src)
{
    struct addrinfo hints = { .ai_family = family,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICHOST | AI_PASSIVE };
    struct addrinfo *ai;
    int g = getaddrinfo(src, NULL, &hints, &ai);
    if (g != 0) {
        fprintf(stderr, "flexfs-admin: source address %s: %s\n", src,
                gai_strerror(g));
        return -1;
    }
    int rc = bind(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc < 0)
        fprintf(stderr, "flexfs-admin: cannot bind to %s: %s\n", src,
                strerror(errno));
    freeaddrinfo(ai);
    return rc;
}

/* connect() with a time bound; the socket is left blocking. */
static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t len,
                           int timeout_sec)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    int rc = connect(fd, sa, len);
    if (rc < 0 && errno == EINPROGRESS) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        rc = poll(&p, 1, timeout_sec * 1000);
        if (rc == 0)
            return -ETIMEDOUT;
        if (rc < 0)
            return -errno;
        int err = 0;
        socklen_t el = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
            return -errno;
        if (err)
            return -err;
    } else if (rc < 0) {
        return -errno;
    }
    if (fcntl(fd, F_SETFL, fl) < 0)
        return -errno;
    return 0;
}

int admin_connect(struct admin_conn *c, const char *host, const char *port,
                  const char *source, int timeout_sec)
{
    memset(c, 0, sizeof *c);
    int v6 = strchr(host, ':') != NULL;
    snprintf(c->where, sizeof c->where, v6 ? "[%s]:%s" : "%s:%s", host,
             port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV };
    struct addrinfo *res;
    int g = getaddrinfo(host, port, &hints, &res);
    if (g != 0) {
        fprintf(stderr, "flexfs-admin: cannot resolve %s: %s\n", c->where,
                gai_strerror(g));
        return -1;
    }
    int err = -ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = -errno;
            continue;
        }
        if (source && bind_source(fd, ai->ai_family, source) < 0) {
            close(fd);
            freeaddrinfo(res);
            return -1;
        }
        err = connect_timeout(fd, ai->ai_addr, ai->ai_addrlen, timeout_sec);
        if (err < 0) {
            close(fd);
            continue;
        }
        struct netbuf nb = { .maxlen = ai->ai_addrlen,
                             .len = ai->ai_addrlen, .buf = ai->ai_addr };
        c->clnt = clnt_vc_create(fd, &nb, FLEXFS_ADMIN_PROG,
                                 FLEXFS_ADMIN_V1, 0, 0);
        if (!c->clnt) {
            fprintf(stderr, "flexfs-admin: %s: %s\n", c->where,
                    clnt_spcreateerror("cannot create RPC client"));
            close(fd);
            freeaddrinfo(res);
            return -1;
        }
        clnt_control(c->clnt, CLSET_FD_CLOSE, NULL);
        break;
    }
    freeaddrinfo(res);
    if (!c->clnt) {
        fprintf(stderr, "flexfs-admin: cannot reach the gateway at %s: %s\n",
                c->where, strerror(-err));
        return -1;
    }
    c->clnt->cl_auth = authsys_create_default();
    if (!c->clnt->cl_auth) {
        fprintf(stderr, "flexfs-admin: cannot make AUTH_SYS credentials\n");
        admin_disconnect(c);
        return -1;
    }
    return 0;
}

void admin_disconnect(struct admin_conn *c)
{
    if (!c->clnt)
        return;
    if (c->clnt->cl_auth)
        auth_destroy(c->clnt->cl_auth);
    clnt_destroy(c->clnt);
    c->clnt = NULL;
}

int admin_call(struct admin_conn *c, u_long proc, xdrproc_t xargs,
               void *args, xdrproc_t xres, void *res, int timeout_sec)
{
    struct timeval tv = { .tv_sec = timeout_sec };
    enum clnt_stat st = clnt_call(c->clnt, proc, xargs, args, xres, res, tv);
    if (st == RPC_SUCCESS)
        return 0;
    struct rpc_err e;
    clnt_geterr(c->clnt, &e);
    switch (st) {
    case RPC_AUTHERROR:
        fprintf(stderr,
                "flexfs-admin: the gateway at %s refused the call: admin "
                "calls need root (uid 0) on the gateway host or on a host "
                "listed in its admin_hosts\n", c->where);
        break;
    case RPC_PROGUNAVAIL:
    case RPC_PROGVERSMISMATCH:
        fprintf(stderr, "flexfs-admin: %s does not serve the flexfs admin "
                "program version %u\n", c->where, FLEXFS_ADMIN_V1);
        break;
    case RPC_PROCUNAVAIL:
        fprintf(stderr, "flexfs-admin: the gateway at %s does not know this "
                "command (older version?)\n", c->where);
        break;
    case RPC_TIMEDOUT:
        fprintf(stderr, "flexfs-admin: no answer from %s within %d s\n",
                c->where, timeout_sec);
        break;
    default:
        fprintf(stderr, "flexfs-admin: call to %s failed: %s\n", c->where,
                clnt_sperrno(st));
    }
    return -1;
}
