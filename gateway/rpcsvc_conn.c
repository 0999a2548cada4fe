/* rpcsvc_conn.c - one client connection of the RPC server: record marking
 * (RFC 5531 section 11) on input, record-marked replies on output,
 * reference counting, and flow control.
 *
 * Input is read by one worker at a time (the epoll registration is
 * one-shot and re-armed by conn_settle); complete records become calls.
 * When a connection has too many bytes queued it is not re-armed until the
 * workers catch up, which bounds the memory one client can pin.  Replies
 * are written by whichever thread has them, one at a time per connection,
 * without waiting: what the socket does not take goes on an output queue
 * that the event loop sends as the client reads, and while it is long the
 * connection's input pauses too.  So a client that stops reading holds
 * up only itself, never a worker. */
#include "config.h"
#include "rpcsvc_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"

#define LAST_FRAG 0x80000000u

struct rpc_conn *conn_new(struct rpc_server *s, int fd,
                          const struct sockaddr *peer, socklen_t peerlen)
{
    struct rpc_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->srv = s;
    c->fd = fd;
    atomic_init(&c->refs, 1);
    atomic_init(&c->closed, 0);
    atomic_init(&c->out_bytes, 0);
    atomic_init(&c->memo, 0);
    atomic_init(&c->last_active, rpcsvc_now());
    if (peerlen > sizeof(c->peer))
        peerlen = sizeof(c->peer);
    memcpy(&c->peer, peer, peerlen);
    c->peerlen = peerlen;
    pthread_mutex_init(&c->wlock, NULL);
    pthread_mutex_init(&c->lock, NULL);
    c->inbox_tail = &c->inbox;
    return c;
}

void conn_get(struct rpc_conn *c)
{
    atomic_fetch_add(&c->refs, 1);
}

void conn_put(struct rpc_conn *c)
{
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    close(c->fd);
    free(c->rec);
    for (struct rpc_out *o = c->out_head, *next; o; o = next) {
        next = o->next;
        free(o);
    }
    pthread_mutex_destroy(&c->wlock);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void conn_shutdown(struct rpc_conn *c)
{
    if (!atomic_exchange(&c->closed, 1))
        shutdown(c->fd, SHUT_RDWR);
}

void conn_settle(struct rpc_conn *c)
{
    pthread_mutex_lock(&c->lock);
    if (c->reading || c->gone) {
        pthread_mutex_unlock(&c->lock);
        return;                 /* the reader settles it when done */
    }
    size_t out = atomic_load(&c->out_bytes);
    int done = atomic_load(&c->closed) ||
               (c->rd_eof && c->pending_calls == 0 && out == 0);
    int arm = !done && !c->armed && !c->paused && !c->rd_eof &&
              out <= c->srv->max_pending;
    if (done)
        c->gone = 1;
    if (arm) {
        c->armed = 1;
        struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT,
                                  .data.u64 = rpcsvc_conn_key(c) };
        if (epoll_ctl(c->srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
            log_warn("rpc: epoll_ctl: %s; closing a connection",
                     strerror(errno));
            c->armed = 0;
            c->gone = done = 1;
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (done)
        rpcsvc_drop_conn(c->srv, c);
}

static int conn_reserve(struct rpc_conn *c, size_t need)
{
    if (need <= c->reccap)
        return 0;
    size_t cap = c->reccap ? c->reccap * 2 : 512;
    if (cap < need)
        cap = need;
    if (cap > c->srv->max_record)
        cap = c->srv->max_record;
    uint8_t *p = realloc(c->rec, cap);
    if (!p)
        return -ENOMEM;
    c->rec = p;
    c->reccap = cap;
    return 0;
}

/* A whole record arrived: it goes on the inbox of this read. */
static int conn_emit(struct rpc_conn *c)
{
    struct rpc_call *call = malloc(sizeof(*call));
    if (!call)
        return -ENOMEM;
    call->next = NULL;
    call->conn = c;
    call->buf = c->rec;
    call->len = (uint32_t)c->reclen;
    c->rec = NULL;
    c->reclen = c->reccap = 0;
    conn_get(c);

    pthread_mutex_lock(&c->lock);
    c->pending_bytes += call->len;
    c->pending_calls++;
    if (c->pending_bytes > c->srv->max_pending)
        c->paused = 1;
    pthread_mutex_unlock(&c->lock);

    *c->inbox_tail = call;
    c->inbox_tail = &call->next;
    return 0;
}

/* The current fragment is complete: emit the record if it was the last. */
static int conn_frag_end(struct rpc_conn *c)
{
    if (c->hdrgot < 4 || c->fragleft)
        return 0;
    c->hdrgot = 0;
    return c->lastfrag ? conn_emit(c) : 0;
}

static int conn_header(struct rpc_conn *c)
{
    uint32_t h;
    memcpy(&h, c->hdr, 4);
    h = ntohl(h);
    c->lastfrag = (h & LAST_FRAG) != 0;
    c->fragleft = h & ~LAST_FRAG;
    if (c->fragleft > c->srv->max_record - c->reclen)
        return -EMSGSIZE;
    return conn_frag_end(c);            /* an empty fragment */
}

static int conn_parse(struct rpc_conn *c, const uint8_t *p, size_t n)
{
    while (n > 0) {
        if (c->hdrgot < 4) {
            size_t take = 4 - c->hdrgot;
            if (take > n)
                take = n;
            memcpy(c->hdr + c->hdrgot, p, take);
            c->hdrgot += (unsigned)take;
            p += take;
            n -= take;
            if (c->hdrgot == 4) {
                int rc = conn_header(c);
                if (rc < 0)
                    return rc;
            }
            continue;
        }
        size_t take = c->fragleft < n ? c->fragleft : n;
        if (conn_reserve(c, c->reclen + take) < 0)
            return -ENOMEM;
        memcpy(c->rec + c->reclen, p, take);
        c->reclen += take;
        c->fragleft -= (uint32_t)take;
        p += take;
        n -= take;
        int rc = conn_frag_end(c);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int64_t rpcsvc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

void conn_close_if_idle(struct rpc_conn *c, int64_t idle_before)
{
    pthread_mutex_lock(&c->lock);
    /* The caller's reference and the server list's are the only ones:
     * no call holds one (queued, running or deferred). */
    int idle = !c->reading && !c->gone && c->pending_calls == 0 &&
               atomic_load(&c->refs) == 2 &&
               atomic_load(&c->out_bytes) == 0 &&
               atomic_load(&c->last_active) < idle_before;
    pthread_mutex_unlock(&c->lock);
    if (!idle)
        return;
    log_debug("rpc: closing a connection idle since %llds ago",
              (long long)(rpcsvc_now() - atomic_load(&c->last_active)));
    conn_shutdown(c);
    conn_settle(c);
}

int conn_input(struct rpc_conn *c)
{
    uint8_t buf[RPC_READ_CHUNK];
    ssize_t n;

    atomic_store(&c->last_active, rpcsvc_now());

    /* The bulk of a large fragment goes straight into the record. */
    if (c->hdrgot == 4 && c->fragleft >= sizeof(buf)) {
        size_t want = c->fragleft;
        if (want > (1u << 20))
            want = 1u << 20;
        if (conn_reserve(c, c->reclen + want) < 0)
            return -ENOMEM;
        n = recv(c->fd, c->rec + c->reclen, want, 0);
        if (n > 0) {
            c->reclen += (size_t)n;
            c->fragleft -= (uint32_t)n;
            return conn_frag_end(c);
        }
    } else {
        n = recv(c->fd, buf, sizeof(buf), 0);
        if (n > 0)
            return conn_parse(c, buf, (size_t)n);
    }
    if (n == 0)
        return 1;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    return -errno;
}

#define SEND_BROKEN ((size_t)-1)

/* Sends what the socket takes now: the bytes sent, or SEND_BROKEN. */
static size_t send_now(struct rpc_conn *c, const uint8_t *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(c->fd, buf + off, len - off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        return SEND_BROKEN;
    }
    return off;
}

/* Queues the unsent rest of a reply (c->wlock held). */
static int queue_out(struct rpc_conn *c, const uint8_t *buf, size_t len)
{
    if (atomic_load(&c->out_bytes) + len > RPC_MAX_OUTPUT)
        return -ENOBUFS;
    struct rpc_out *o = malloc(sizeof(*o) + len);
    if (!o)
        return -ENOMEM;
    o->next = NULL;
    o->len = len;
    o->off = 0;
    memcpy(o->data, buf, len);
    if (c->out_tail)
        c->out_tail->next = o;
    else
        c->out_head = o;
    c->out_tail = o;
    atomic_fetch_add(&c->out_bytes, len);
    if (!c->out_armed) {
        c->out_armed = 1;
        rpcsvc_want_output(c->srv, c);
    }
    return 0;
}

void conn_send(struct rpc_conn *c, uint8_t *buf, size_t len)
{
    /* A reply after a long call (a lock wait) starts the idle time anew. */
    atomic_store(&c->last_active, rpcsvc_now());
    uint32_t h = htonl(LAST_FRAG | (uint32_t)(len - 4));
    memcpy(buf, &h, 4);

    pthread_mutex_lock(&c->wlock);
    if (!atomic_load(&c->closed)) {
        /* Behind queued replies it must wait its turn. */
        size_t off = c->out_head ? 0 : send_now(c, buf, len);
        int rc = 0;
        if (off == SEND_BROKEN)
            rc = -EPIPE;
        else if (off < len)
            rc = queue_out(c, buf + off, len - off);
        if (rc == -ENOBUFS)
            log_warn("rpc: client does not read its replies; closing");
        if (rc < 0)
            conn_shutdown(c);   /* a reply cut short spoils the stream */
    }
    pthread_mutex_unlock(&c->wlock);
}

void conn_flush(struct rpc_conn *c)
{
    pthread_mutex_lock(&c->wlock);
    int broken = 0;
    while (c->out_head && !atomic_load(&c->closed)) {
        struct rpc_out *o = c->out_head;
        size_t n = send_now(c, o->data + o->off, o->len - o->off);
        if (n == SEND_BROKEN) {
            broken = 1;
            break;
        }
        o->off += n;
        atomic_fetch_sub(&c->out_bytes, n);
        if (o->off < o->len)
            break;              /* the socket is full again */
        c->out_head = o->next;
        if (!c->out_head)
            c->out_tail = NULL;
        free(o);
    }
    int more = c->out_head && !broken && !atomic_load(&c->closed);
    c->out_armed = more;
    if (more)
        rpcsvc_want_output(c->srv, c);
    pthread_mutex_unlock(&c->wlock);
    if (broken)
        conn_shutdown(c);
    if (!more)
        conn_settle(c);         /* read again, or close after the last */
}

uint64_t rpc_conn_memo(const struct rpc_req *req)
{
    return atomic_load(&req->conn->memo);
}

void rpc_conn_set_memo(struct rpc_req *req, uint64_t v)
{
    atomic_store(&req->conn->memo, v);
}

void conn_call_done(struct rpc_conn *c, size_t len)
{
    pthread_mutex_lock(&c->lock);
    c->pending_bytes -= len;
    c->pending_calls--;
    if (c->paused && c->pending_bytes <= c->srv->max_pending / 2)
        c->paused = 0;
    pthread_mutex_unlock(&c->lock);
    /* Reading again, or, when the peer half-closed and has every reply
     * now (or a reply failed), letting it go. */
    conn_settle(c);
}
