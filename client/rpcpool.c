/* rpcpool.c - a pool of libtirpc TCP clients to the gateway (see
 * rpcpool.h).
 *
 * Connections are made lazily and dropped on any transport error; the
 * pool lock guards only the free list.  A borrowed connection is used by
 * one thread at a time, so no lock is held during a call. */
#define _GNU_SOURCE                     /* POLLRDHUP */
#include "config.h"
#include "rpcpool.h"
#include "log.h"
#include "flexfs_prot.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 5000
#define CALL_TIMEOUT_SECS  60
#define WAIT_TIMEOUT_SECS  (7 * 24 * 3600)  /* rpcpool_call_wait: no limit */

struct conn {
    CLIENT *cl;
    AUTH *auth;
    struct rpc_cred cred;       /* what auth was built from */
    struct conn *next;
};

struct rpcpool {
    char host[256];
    char port[8];
    char machine[256];          /* AUTH_SYS machine name */
    pthread_mutex_t lock;       /* guards free, nconns, retry_secs */
    pthread_cond_t cond;
    struct conn *free;
    unsigned nconns, max;
    unsigned retry_secs;
    uint64_t reconnects;
};

int rpcpool_create(const char *host, uint16_t port, unsigned size,
                   struct rpcpool **out)
{
    struct rpcpool *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    snprintf(p->host, sizeof(p->host), "%s", host);
    snprintf(p->port, sizeof(p->port), "%u", port);
    if (gethostname(p->machine, sizeof(p->machine) - 1) < 0)
        strcpy(p->machine, "localhost");
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->max = size ? size : 8;
    *out = p;
    return 0;
}

static void conn_drop(struct conn *c)
{
    if (c->cl) {
        c->cl->cl_auth = NULL;
        clnt_destroy(c->cl);
        c->cl = NULL;
    }
    if (c->auth) {
        auth_destroy(c->auth);
        c->auth = NULL;
    }
}

void rpcpool_destroy(struct rpcpool *p)
{
    if (!p)
        return;
    while (p->free) {
        struct conn *c = p->free;
        p->free = c->next;
        conn_drop(c);
        free(c);
    }
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p);
}

uint64_t rpcpool_reconnects(struct rpcpool *p)
{
    pthread_mutex_lock(&p->lock);
    uint64_t n = p->reconnects;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void rpcpool_set_retry(struct rpcpool *p, unsigned secs)
{
    pthread_mutex_lock(&p->lock);
    p->retry_secs = secs;
    pthread_mutex_unlock(&p->lock);
}

static struct conn *conn_get(struct rpcpool *p)
{
    struct conn *c = NULL;
    pthread_mutex_lock(&p->lock);
    while (!p->free && p->nconns >= p->max)
        pthread_cond_wait(&p->cond, &p->lock);
    if (p->free) {
        c = p->free;
        p->free = c->next;
    } else {
        c = calloc(1, sizeof(*c));
        if (c)
            p->nconns++;
    }
    pthread_mutex_unlock(&p->lock);
    return c;
}

static void conn_put(struct rpcpool *p, struct conn *c)
{
    pthread_mutex_lock(&p->lock);
    c->next = p->free;
    p->free = c;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

/* A connect that gives up after CONNECT_TIMEOUT_MS. */
static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t len)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    int rc = connect(fd, sa, len);
    if (rc < 0 && errno != EINPROGRESS)
        return -errno;
    if (rc < 0) {
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        rc = poll(&pfd, 1, CONNECT_TIMEOUT_MS);
        if (rc == 0)
            return -ETIMEDOUT;
        if (rc < 0)
            return -errno;
        int err = 0;
        socklen_t elen = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
            return -errno;
        if (err)
            return -err;
    }
    if (fcntl(fd, F_SETFL, fl) < 0)
        return -errno;
    return 0;
}

static int conn_open(struct rpcpool *p, struct conn *c)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(p->host, p->port, &hints, &ai);
    if (gai != 0) {
        log_debug("cannot resolve %s: %s", p->host, gai_strerror(gai));
        return gai == EAI_NONAME ? -EHOSTUNREACH : -EIO;
    }
    int rc = -ECONNREFUSED;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
                        a->ai_protocol);
        if (fd < 0) {
            rc = -errno;
            continue;
        }
        /* From a port below 1024 when we may, as NFS clients do: a
         * gateway's "secure" exports take only those.  All taken: any. */
        if (geteuid() == 0 && bindresvport_sa(fd, NULL) < 0)
            log_debug("no reserved port free: %s", strerror(errno));
        rc = connect_timeout(fd, a->ai_addr, a->ai_addrlen);
        if (rc < 0) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct netbuf nb = { .maxlen = a->ai_addrlen, .len = a->ai_addrlen,
                             .buf = a->ai_addr };
        c->cl = clnt_vc_create(fd, &nb, FLEXFS_PROG, FLEXFS_V1, 0, 0);
        if (!c->cl) {
            log_debug("clnt_vc_create: %s", clnt_spcreateerror(p->host));
            close(fd);
            rc = -EIO;
            continue;
        }
        clnt_control(c->cl, CLSET_FD_CLOSE, NULL);
        rc = 0;
        break;
    }
    freeaddrinfo(ai);
    return rc;
}

/* Whether the gateway closed c while it sat in the pool (it closes idle
 * connections, and a restarted gateway has none of the old ones).  No
 * reply is due on an idle connection, so anything readable means its
 * end: it is dropped before a call goes out, and a call is never resent
 * for it, so "resent" keeps meaning a call the gateway may have seen. */
static int conn_peer_closed(struct conn *c)
{
    int fd = -1;
    if (!clnt_control(c->cl, CLGET_FD, (char *)&fd) || fd < 0)
        return 0;
    struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };
    return poll(&pfd, 1, 0) > 0;
}

static int set_auth(struct rpcpool *p, struct conn *c,
                    const struct rpc_cred *cr)
{
    static const struct rpc_cred root;
    if (!cr)
        cr = &root;
    if (c->auth && memcmp(&c->cred, cr, sizeof(*cr)) == 0) {
        c->cl->cl_auth = c->auth;
        return 0;
    }
    if (c->auth)
        auth_destroy(c->auth);
    uid_t groups[RPC_CRED_NGROUPS];
    unsigned n = cr->ngroups < RPC_CRED_NGROUPS ? cr->ngroups
                                                : RPC_CRED_NGROUPS;
    for (unsigned i = 0; i < n; i++)
        groups[i] = cr->groups[i];
    c->auth = authunix_create(p->machine, cr->uid, cr->gid, (int)n, groups);
    if (!c->auth)
        return -ENOMEM;
    c->cred = *cr;
    c->cl->cl_auth = c->auth;
    return 0;
}

static double now_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Is this failure worth a new connection and another try? */
static int transport_error(enum clnt_stat st)
{
    return st == RPC_CANTSEND || st == RPC_CANTRECV || st == RPC_TIMEDOUT ||
           st == RPC_SYSTEMERROR || st == RPC_CANTCONNECT ||
           st == RPC_INTR;
}

static int stat_errno(enum clnt_stat st)
{
    switch (st) {
    case RPC_AUTHERROR:       return -EACCES;
    case RPC_CANTDECODEARGS:  return -EINVAL;
    case RPC_CANTDECODERES:   return -EPROTO;   /* another release's reply */
    case RPC_PROCUNAVAIL:
    case RPC_PROGUNAVAIL:
    case RPC_PROGVERSMISMATCH: return -EOPNOTSUPP;
    default:                  return -EIO;
    }
}

/* One call on c, retried on transport errors until the retry window
 * (from the start, or with `waiting` from the last failure of a call
 * that reached the gateway) runs out.  tmo: how long a reply may take. */
static int call_on(struct rpcpool *p, struct conn *c,
                   const struct rpc_cred *cr, uint32_t proc,
                   xdrproc_t xargs, void *args, xdrproc_t xres, void *res,
                   long tmo, int waiting, int *resent)
{
    pthread_mutex_lock(&p->lock);
    unsigned window = p->retry_secs;
    pthread_mutex_unlock(&p->lock);
    double deadline = now_secs() + window;
    unsigned backoff_ms = 50;
    int sent = 0;
    if (resent)
        *resent = 0;
    int rc;
    if (c->cl && conn_peer_closed(c)) {
        log_debug("gateway closed an idle connection; reconnecting");
        conn_drop(c);
    }
    for (;;) {
        rc = 0;
        if (!c->cl) {
            rc = conn_open(p, c);
            if (rc == 0 && sent) {
                pthread_mutex_lock(&p->lock);
                p->reconnects++;
                pthread_mutex_unlock(&p->lock);
            }
        }
        if (rc == 0)
            rc = set_auth(p, c, cr);
        if (rc == 0) {
            struct timeval tv = { .tv_sec = tmo };
            if (sent && resent)
                *resent = 1;
            sent = 1;
            enum clnt_stat st = clnt_call(c->cl, proc, xargs, args, xres,
                                          res, tv);
            if (st == RPC_SUCCESS)
                break;
            clnt_freeres(c->cl, xres, res);
            if (!transport_error(st)) {
                log_warn("gateway call %u: %s", proc, clnt_sperrno(st));
                rc = stat_errno(st);
                /* The stream may be out of step: start afresh. */
                if (st == RPC_CANTDECODERES)
                    conn_drop(c);
                break;
            }
            log_debug("gateway call %u: %s; reconnecting", proc,
                      clnt_sperrno(st));
            conn_drop(c);
            rc = -EIO;
            if (waiting)
                deadline = now_secs() + window;
        } else if (rc == -ENOMEM) {
            break;
        }
        if (now_secs() >= deadline) {
            if (rc == 0 || rc == -ENOMEM)
                rc = -EIO;
            break;
        }
        struct timespec ts = { .tv_sec = backoff_ms / 1000,
                               .tv_nsec = (backoff_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        if (backoff_ms < 1000)
            backoff_ms *= 2;
    }
    return rc;
}

int rpcpool_call(struct rpcpool *p, const struct rpc_cred *cr, uint32_t proc,
                 xdrproc_t xargs, void *args, xdrproc_t xres, void *res,
                 int *resent)
{
    struct conn *c = conn_get(p);
    if (!c)
        return -ENOMEM;
    int rc = call_on(p, c, cr, proc, xargs, args, xres, res,
                     CALL_TIMEOUT_SECS, 0, resent);
    conn_put(p, c);
    return rc;
}

int rpcpool_call_wait(struct rpcpool *p, const struct rpc_cred *cr,
                      uint32_t proc, xdrproc_t xargs, void *args,
                      xdrproc_t xres, void *res)
{
    /* A connection of its own: a pool connection held by a call that may
     * wait for hours would starve every other call of the mount. */
    struct conn c;
    memset(&c, 0, sizeof(c));
    int rc = call_on(p, &c, cr, proc, xargs, args, xres, res,
                     WAIT_TIMEOUT_SECS, 1, NULL);
    conn_drop(&c);
    return rc;
}
