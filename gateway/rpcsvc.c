/* rpcsvc.c - the RPC server's life cycle, its accept thread and its
 * worker pool (see rpcsvc.h and rpcsvc_int.h).
 *
 * One thread accepts connections.  A fixed pool of workers waits in an
 * epoll set holding every connection (one-shot, nonblocking) and a
 * semaphore eventfd counting queued calls.  A worker woken by a
 * connection reads it, lets it be read again, queues all but the first
 * complete record for the others and serves that one itself: the common
 * lone call costs no hand-over between threads (each one a wake-up and a
 * context switch: perf put a third of the gateway's time there).
 * Stopping ends accepting, then lets the workers finish everything queued
 * without reading more, joins them and only then closes the connections,
 * so every call already received gets its reply. */
#define _GNU_SOURCE                     /* accept4 */
#include "config.h"
#include "rpcsvc_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* epoll data tags for the two descriptors that are not connections. */
static const char listen_tag, wake_tag;
#define LISTEN_TAG ((void *)&listen_tag)
#define WAKE_TAG   ((void *)&wake_tag)

/* ---- the work queue ---- */

void rpcsvc_enqueue(struct rpc_server *s, struct rpc_call *call)
{
    pthread_mutex_lock(&s->qlock);
    if (s->qtail)
        s->qtail->next = call;
    else
        s->qhead = call;
    s->qtail = call;
    pthread_mutex_unlock(&s->qlock);
    uint64_t one = 1;
    if (write(s->wfd, &one, sizeof(one)) < 0)
        log_warn("rpc: eventfd: %s", strerror(errno));
}

static struct rpc_call *dequeue(struct rpc_server *s)
{
    pthread_mutex_lock(&s->qlock);
    struct rpc_call *call = s->qhead;
    if (call) {
        s->qhead = call->next;
        if (!s->qhead)
            s->qtail = NULL;
        call->next = NULL;
    }
    pthread_mutex_unlock(&s->qlock);
    return call;
}

static void serve(struct rpc_server *s, struct rpc_call *call)
{
    struct rpc_conn *c = call->conn;
    rpcsvc_serve(s, call);
    conn_call_done(c, call->len);
    conn_put(c);
    free(call->buf);
    free(call);
}

/* ---- connections ---- */

/* The data tag of the work eventfd in the workers' set: the key of a
 * slot that does not exist. */
#define KEY_WAKE  UINT64_MAX
/* In the event loop's set, a connection waiting to write is its key with
 * this bit (the loop's own tags are addresses, which never have it). */
#define KEY_OUT   (1ull << 63)

uint64_t rpcsvc_conn_key(const struct rpc_conn *c)
{
    return (uint64_t)c->slot << 32 | c->gen;
}

/* Whether a and b are the same host (ports aside). */
static int same_host(const struct sockaddr_storage *a,
                     const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (a->ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr,
                      sizeof(struct in6_addr)) == 0;
    return 0;
}

/* Puts c in a free slot: -EMFILE when there is none, -EUSERS when its
 * host holds RPC_MAX_CONNS_PEER already. */
static int conn_add(struct rpc_server *s, struct rpc_conn *c)
{
    int rc = -EMFILE;
    pthread_mutex_lock(&s->clock);
    unsigned mine = 0;
    for (unsigned i = 0; i < RPC_MAX_CONNS; i++)
        mine += s->slots[i] && same_host(&s->slots[i]->peer, &c->peer);
    if (mine >= RPC_MAX_CONNS_PEER) {
        pthread_mutex_unlock(&s->clock);
        return -EUSERS;
    }
    for (unsigned i = 0; i < RPC_MAX_CONNS && rc; i++) {
        unsigned slot = (s->next_slot + i) % RPC_MAX_CONNS;
        if (s->slots[slot])
            continue;
        s->slots[slot] = c;
        c->slot = slot;
        c->gen = ++s->gens[slot];
        s->next_slot = (slot + 1) % RPC_MAX_CONNS;
        rc = 0;
    }
    pthread_mutex_unlock(&s->clock);
    return rc;
}

/* The connection an event names, with a reference; NULL if it is gone. */
static struct rpc_conn *conn_of_key(struct rpc_server *s, uint64_t key)
{
    uint32_t slot = (uint32_t)(key >> 32), gen = (uint32_t)key;
    if (slot >= RPC_MAX_CONNS)
        return NULL;
    pthread_mutex_lock(&s->clock);
    struct rpc_conn *c = s->slots[slot];
    if (c && c->gen == gen)
        conn_get(c);
    else
        c = NULL;
    pthread_mutex_unlock(&s->clock);
    return c;
}

void rpcsvc_want_output(struct rpc_server *s, struct rpc_conn *c)
{
    struct epoll_event ev = { .events = EPOLLOUT | EPOLLONESHOT,
                              .data.u64 = rpcsvc_conn_key(c) | KEY_OUT };
    int op = c->out_added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(s->lepfd, op, c->fd, &ev) < 0) {
        log_warn("rpc: epoll_ctl: %s; closing a connection", strerror(errno));
        conn_shutdown(c);
        return;
    }
    c->out_added = 1;
}

void rpcsvc_drop_conn(struct rpc_server *s, struct rpc_conn *c)
{
    conn_shutdown(c);
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    epoll_ctl(s->lepfd, EPOLL_CTL_DEL, c->fd, NULL);   /* if it is there */
    pthread_mutex_lock(&s->clock);
    s->slots[c->slot] = NULL;
    pthread_mutex_unlock(&s->clock);
    conn_put(c);
}

/* A worker's turn with a readable connection (a reference held): read,
 * re-arm, queue all records but the first, serve that one here. */
static void conn_ready(struct rpc_server *s, struct rpc_conn *c, uint32_t ev)
{
    pthread_mutex_lock(&c->lock);
    c->armed = 0;
    c->reading = 1;
    pthread_mutex_unlock(&c->lock);
    int rc = -EPIPE;            /* a hang-up or an error: close, quietly */
    if (!(ev & (EPOLLHUP | EPOLLERR)) && (ev & EPOLLIN))
        rc = conn_input(c);
    if (rc < 0 && rc != -EPIPE && rc != -ECONNRESET) {
        if (rc == -EMSGSIZE)
            log_info("rpc: record larger than %u bytes; closing",
                     s->max_record);
        else
            log_debug("rpc: connection error: %s", strerror(-rc));
    }
    if (rc < 0)
        conn_shutdown(c);
    struct rpc_call *calls = c->inbox;
    c->inbox = NULL;
    c->inbox_tail = &c->inbox;
    pthread_mutex_lock(&c->lock);
    c->reading = 0;
    if (rc == 1)
        c->rd_eof = 1;      /* answer what it asked, then close */
    pthread_mutex_unlock(&c->lock);
    conn_settle(c);
    if (calls) {
        for (struct rpc_call *more = calls->next, *next; more; more = next) {
            next = more->next;
            more->next = NULL;
            rpcsvc_enqueue(s, more);
        }
        calls->next = NULL;
        serve(s, calls);
    }
}

static void *worker_main(void *arg)
{
    struct rpc_server *s = arg;
    for (;;) {
        struct rpc_call *call = dequeue(s);
        if (call) {
            serve(s, call);
            continue;
        }
        if (atomic_load(&s->draining))
            break;
        struct epoll_event ev;
        int n = epoll_wait(s->epfd, &ev, 1, -1);
        if (n < 0 && errno != EINTR) {
            log_err("rpc: epoll_wait: %s", strerror(errno));
            break;
        }
        if (n <= 0)
            continue;
        if (ev.data.u64 == KEY_WAKE) {
            uint64_t v;         /* one token: a queued call, or stopping */
            if (read(s->wfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                log_warn("rpc: eventfd: %s", strerror(errno));
            continue;
        }
        if (atomic_load(&s->draining))
            continue;           /* read nothing more */
        struct rpc_conn *c = conn_of_key(s, ev.data.u64);
        if (c) {
            conn_ready(s, c, ev.events);
            conn_put(c);
        }
    }
    return NULL;
}

/* ---- the event loop ---- */

/* Rate-limits a warning that a flood could repeat: once per 10 s. */
static int warn_due(time_t *last)
{
    time_t now = time(NULL);
    if (now - *last < 10)
        return 0;
    *last = now;
    return 1;
}

static void loop_accept(struct rpc_server *s)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            /* Out of descriptors or memory: back off for a moment
             * instead of spinning on a listener that stays readable. */
            if (warn_due(&s->last_warn))
                log_warn("rpc: accept: %s; pausing", strerror(errno));
            epoll_ctl(s->lepfd, EPOLL_CTL_DEL, s->lfd, NULL);
            s->accept_paused = 1;
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct rpc_conn *c = conn_new(s, fd, (struct sockaddr *)&ss, sl);
        if (!c) {
            close(fd);
            continue;
        }
        /* In its slot before any worker can see it. */
        c->armed = 1;
        int added = conn_add(s, c);
        if (added < 0) {
            if (warn_due(&s->last_warn))
                log_warn(added == -EUSERS
                             ? "rpc: one host holds %u connections; "
                               "refusing more from it"
                             : "rpc: %u connections open; refusing more",
                         added == -EUSERS ? RPC_MAX_CONNS_PEER
                                          : RPC_MAX_CONNS);
            conn_put(c);
            continue;
        }
        struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT,
                                  .data.u64 = rpcsvc_conn_key(c) };
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            log_warn("rpc: epoll_ctl: %s", strerror(errno));
            pthread_mutex_lock(&c->lock);
            c->gone = 1;
            pthread_mutex_unlock(&c->lock);
            rpcsvc_drop_conn(s, c);
        }
    }
}

/* How often the event loop looks for idle connections. */
static int64_t idle_scan_secs(const struct rpc_server *s)
{
    int64_t every = s->opts.idle_secs / 4;
    return every < 1 ? 1 : every > 60 ? 60 : every;
}

/* Closes the connections idle for longer than idle_secs.  References are
 * taken under the slot lock and the connections examined after it. */
static void close_idle(struct rpc_server *s)
{
    int64_t now = rpcsvc_now();
    s->next_idle_scan = now + idle_scan_secs(s);
    int64_t before = now - (int64_t)s->opts.idle_secs;
    for (unsigned base = 0; base < RPC_MAX_CONNS; base += 64) {
        struct rpc_conn *batch[64];
        unsigned n = 0;
        pthread_mutex_lock(&s->clock);
        for (unsigned i = base; i < base + 64; i++) {
            struct rpc_conn *c = s->slots[i];
            if (c && atomic_load(&c->last_active) < before) {
                conn_get(c);
                batch[n++] = c;
            }
        }
        pthread_mutex_unlock(&s->clock);
        for (unsigned i = 0; i < n; i++) {
            conn_close_if_idle(batch[i], before);
            conn_put(batch[i]);
        }
    }
}

/* The event loop's wait: until the next idle scan, or for ever. */
static int loop_timeout_ms(const struct rpc_server *s)
{
    if (s->accept_paused)
        return 100;
    if (!s->opts.idle_secs)
        return -1;
    int64_t left = s->next_idle_scan - rpcsvc_now();
    return left <= 0 ? 0 : (int)(left * 1000);
}

static void *loop_main(void *arg)
{
    struct rpc_server *s = arg;
    struct epoll_event evs[64];
    s->next_idle_scan = rpcsvc_now() + idle_scan_secs(s);
    while (!atomic_load(&s->stopping)) {
        int n = epoll_wait(s->lepfd, evs, 64, loop_timeout_ms(s));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_err("rpc: epoll_wait: %s", strerror(errno));
            break;
        }
        if (s->accept_paused && n == 0 && !atomic_load(&s->draining)) {
            struct epoll_event ev = { .events = EPOLLIN, .data.ptr = LISTEN_TAG };
            if (epoll_ctl(s->lepfd, EPOLL_CTL_ADD, s->lfd, &ev) == 0)
                s->accept_paused = 0;
        }
        if (s->opts.idle_secs && rpcsvc_now() >= s->next_idle_scan &&
            !atomic_load(&s->draining))
            close_idle(s);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 & KEY_OUT) {
                struct rpc_conn *c = conn_of_key(s, evs[i].data.u64 & ~KEY_OUT);
                if (c) {
                    conn_flush(c);
                    conn_put(c);
                }
            } else if (evs[i].data.ptr == LISTEN_TAG) {
                if (!atomic_load(&s->draining))
                    loop_accept(s);
            } else {
                uint64_t v;
                if (read(s->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                    log_warn("rpc: eventfd: %s", strerror(errno));
            }
        }
    }
    return NULL;
}

/* ---- life cycle ---- */

static int listen_on(struct rpc_server *s, const char *host, uint16_t port)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res, *ai;
    char portstr[8];
    int rc = -EADDRNOTAVAIL;

    /* "Any" means IPv4 any, the default listen address's family. */
    hints.ai_family = (host && *host) ? AF_UNSPEC : AF_INET;
    snprintf(portstr, sizeof(portstr), "%u", port);
    int gai = getaddrinfo((host && *host) ? host : NULL, portstr, &hints, &res);
    if (gai) {
        log_err("rpc: cannot resolve %s: %s", host, gai_strerror(gai));
        return -EADDRNOTAVAIL;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family,
                        ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            rc = -errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
            listen(fd, 1024) < 0) {
            rc = -errno;
            close(fd);
            continue;
        }
        s->lfd = fd;
        s->addrlen = sizeof(s->addr);
        getsockname(fd, (struct sockaddr *)&s->addr, &s->addrlen);
        if (s->addr.ss_family == AF_INET6)
            s->port = ntohs(((struct sockaddr_in6 *)&s->addr)->sin6_port);
        else
            s->port = ntohs(((struct sockaddr_in *)&s->addr)->sin_port);
        rc = 0;
        break;
    }
    freeaddrinfo(res);
    if (rc < 0)
        log_err("rpc: cannot listen on %s:%u: %s",
                (host && *host) ? host : "0.0.0.0", port, strerror(-rc));
    return rc;
}

int rpc_server_create(const struct rpc_server_opts *opts,
                      struct rpc_server **out)
{
    struct rpc_server *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->opts = *opts;
    s->opts.host = NULL;                /* not kept: the caller owns it */
    s->lfd = s->epfd = s->evfd = s->lepfd = s->wfd = -1;
    s->max_record = opts->max_record ? opts->max_record : RPC_DEFAULT_RECORD;
    if (s->max_record < 1024)
        s->max_record = 1024;
    s->max_pending = (size_t)s->max_record * 4;
    if (s->max_pending < (8u << 20))
        s->max_pending = 8u << 20;
    s->nworkers = opts->workers;
    if (!s->nworkers) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        s->nworkers = n > 0 ? (unsigned)n * 2 : 4;
    }
    if (s->nworkers > 1024)
        s->nworkers = 1024;
    atomic_init(&s->stopping, 0);
    pthread_mutex_init(&s->qlock, NULL);
    pthread_mutex_init(&s->clock, NULL);
    atomic_init(&s->draining, 0);

    int rc = listen_on(s, opts->host, opts->port);
    if (rc == 0) {
        s->epfd = epoll_create1(EPOLL_CLOEXEC);
        s->lepfd = epoll_create1(EPOLL_CLOEXEC);
        s->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        s->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC | EFD_SEMAPHORE);
        s->workers = calloc(s->nworkers, sizeof(*s->workers));
        if (s->epfd < 0 || s->lepfd < 0 || s->evfd < 0 || s->wfd < 0)
            rc = -errno;
        else if (!s->workers)
            rc = -ENOMEM;
    }
    if (rc < 0) {
        rpc_server_destroy(s);
        return rc;
    }
    *out = s;
    return 0;
}

int rpc_server_add(struct rpc_server *s, const struct rpc_program *p)
{
    if (s->loop_started)
        return -EBUSY;
    for (unsigned i = 0; i < s->nprogs; i++)
        if (s->progs[i].prog == p->prog && s->progs[i].vers == p->vers)
            return -EEXIST;
    if (s->nprogs == RPC_MAX_PROGRAMS)
        return -ENOSPC;
    s->progs[s->nprogs++] = *p;
    return 0;
}

uint16_t rpc_server_port(const struct rpc_server *s)
{
    return s->port;
}

int rpc_server_start(struct rpc_server *s)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = LISTEN_TAG };
    if (epoll_ctl(s->lepfd, EPOLL_CTL_ADD, s->lfd, &ev) < 0)
        return -errno;
    ev.data.ptr = WAKE_TAG;
    if (epoll_ctl(s->lepfd, EPOLL_CTL_ADD, s->evfd, &ev) < 0)
        return -errno;
    ev.data.u64 = KEY_WAKE;
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->wfd, &ev) < 0)
        return -errno;
    int rc;
    for (s->nstarted = 0; s->nstarted < s->nworkers; s->nstarted++) {
        rc = pthread_create(&s->workers[s->nstarted], NULL, worker_main, s);
        if (rc)
            goto fail;
    }
    rc = pthread_create(&s->loop_thread, NULL, loop_main, s);
    if (rc)
        goto fail;
    s->loop_started = 1;
    log_info("rpc: listening on port %u with %u workers", s->port,
             s->nworkers);
    return 0;
fail:
    rpc_server_stop(s);
    return -rc;
}

/* Whether some connection still has replies its client has not taken. */
static int output_waiting(struct rpc_server *s)
{
    int any = 0;
    pthread_mutex_lock(&s->clock);
    for (unsigned i = 0; i < RPC_MAX_CONNS && !any; i++) {
        struct rpc_conn *c = s->slots[i];
        any = c && !atomic_load(&c->closed) && atomic_load(&c->out_bytes);
    }
    pthread_mutex_unlock(&s->clock);
    return any;
}

void rpc_server_stop(struct rpc_server *s)
{
    /* Accept no more; workers finish the queue and go (a token each wakes
     * those that wait), while the event loop still sends their replies. */
    atomic_store(&s->draining, 1);
    if (s->loop_started)
        epoll_ctl(s->lepfd, EPOLL_CTL_DEL, s->lfd, NULL);
    if (s->nstarted) {
        uint64_t n = s->nstarted;
        if (write(s->wfd, &n, sizeof(n)) < 0)
            log_warn("rpc: eventfd: %s", strerror(errno));
    }
    for (unsigned i = 0; i < s->nstarted; i++)
        pthread_join(s->workers[i], NULL);
    s->nstarted = 0;
    /* Every call received has its reply; give clients a moment to read
     * the last ones. */
    for (int ms = 0; s->loop_started && ms < RPC_STOP_FLUSH_MS &&
                     output_waiting(s); ms += 10) {
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
    atomic_store(&s->stopping, 1);
    if (s->loop_started) {
        uint64_t one = 1;
        if (write(s->evfd, &one, sizeof(one)) < 0)
            log_warn("rpc: eventfd: %s", strerror(errno));
        pthread_join(s->loop_thread, NULL);
        s->loop_started = 0;
    }
    if (s->lfd >= 0) {
        close(s->lfd);
        s->lfd = -1;
    }
    for (unsigned i = 0; i < RPC_MAX_CONNS; i++) {
        struct rpc_conn *c = s->slots[i];
        if (c) {
            c->gone = 1;
            rpcsvc_drop_conn(s, c);
        }
    }
}

void rpc_server_destroy(struct rpc_server *s)
{
    if (!s)
        return;
    rpc_server_stop(s);
    if (s->epfd >= 0)
        close(s->epfd);
    if (s->evfd >= 0)
        close(s->evfd);
    if (s->lepfd >= 0)
        close(s->lepfd);
    if (s->wfd >= 0)
        close(s->wfd);
    pthread_mutex_destroy(&s->qlock);
    pthread_mutex_destroy(&s->clock);
    free(s->workers);
    free(s);
}
