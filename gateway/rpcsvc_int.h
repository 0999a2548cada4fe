/* rpcsvc_int.h - what the rpcsvc*.c files share: the server, connection
 * and queued-call structures.  Nothing outside the RPC server includes it.
 *
 *   rpcsvc.c       server life cycle, the event loop, the worker pool
 *   rpcsvc_conn.c  one connection: record marking in, replies out,
 *                  reference counting, flow control
 *   rpcsvc_msg.c   one call: header, credentials, dispatch, reply, and
 *                  deferred replies
 *   rpcsvc_rpcb.c  registration with rpcbind
 *
 * Threads: the accept thread takes new connections.  Workers wait in one
 * epoll set for readable connections (EPOLLONESHOT: one reader at a time
 * per connection), read one, re-arm it, serve the first call it held
 * themselves and queue the rest for the others, so a lone call is read,
 * run and answered by one thread with no hand-over.  Any thread may send
 * a deferred reply.  A connection lives while anything holds a reference:
 * the server's list (while it is open), each queued or running call, each
 * deferred call.  Its socket is closed only when the last reference goes,
 * so a late reply can never reach a reused descriptor. */
#ifndef FLEXFS_RPCSVC_INT_H
#define FLEXFS_RPCSVC_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "rpcsvc.h"

#define RPC_MAX_PROGRAMS    16
#define RPC_MAX_CONNS       4096
/* Connections one client address may hold, so that one host cannot take
 * the whole table (a mount uses a few dozen). */
#define RPC_MAX_CONNS_PEER  (RPC_MAX_CONNS / 4)
#define RPC_DEFAULT_RECORD  ((2u << 20) + (64u << 10))
#define RPC_READ_CHUNK      65536
/* Reply bytes a connection may have waiting for its client to read them
 * before it is closed (its input pauses long before, see conn_settle). */
#define RPC_MAX_OUTPUT      (64u << 20)
/* How long a stopping server lets clients take their last replies. */
#define RPC_STOP_FLUSH_MS   2000

/* Reply bytes the socket did not take at once. */
struct rpc_out {
    struct rpc_out *next;
    size_t len, off;
    uint8_t data[];
};

/* One complete record waiting for (or being served by) a worker. */
struct rpc_call {
    struct rpc_call *next;
    struct rpc_conn *conn;              /* holds a reference */
    uint8_t *buf;
    uint32_t len;
};

struct rpc_conn {
    struct rpc_server *srv;             /* for workers only, never after stop */
    int fd;
    atomic_uint refs;
    atomic_int closed;                  /* shut down: replies are dropped */
    struct sockaddr_storage peer;
    socklen_t peerlen;

    pthread_mutex_t wlock;              /* one reply on the wire at a time;
                                           guards the output queue */
    /* Replies waiting for the client to read: the event loop sends them
     * when the socket takes more, so no worker ever waits for a client. */
    struct rpc_out *out_head, *out_tail;
    atomic_size_t out_bytes;            /* read without wlock by settle */
    atomic_uint_least64_t memo;         /* rpc_conn_memo */
    atomic_int_least64_t last_active;   /* monotonic seconds of the last
                                           input or reply (idle_secs) */
    int out_armed;                      /* waiting for EPOLLOUT */
    int out_added;                      /* in the loop's epoll set */

    pthread_mutex_t lock;               /* guards the fields below */
    size_t pending_bytes;               /* records queued or being served */
    unsigned pending_calls;
    int paused;                         /* not reading: too much pending */
    int rd_eof;                         /* peer half-closed: reply, then close */
    int armed;                          /* in the epoll set, waiting for input */
    int reading;                        /* a worker is reading it */
    int gone;                           /* off the server's list */

    /* Record assembly and the records of one read: the reader only. */
    uint8_t hdr[4];
    unsigned hdrgot;
    uint32_t fragleft;
    int lastfrag;
    uint8_t *rec;
    size_t reclen, reccap;
    struct rpc_call *inbox, **inbox_tail;

    uint32_t slot, gen;                 /* in srv->slots (see there) */
};

struct rpc_server {
    struct rpc_server_opts opts;
    uint32_t max_record;
    size_t max_pending;                 /* per connection, bytes */
    unsigned nworkers;

    int lfd;
    int lepfd, evfd;                    /* the accept thread's epoll, wake-up */
    int epfd, wfd;                      /* the workers' epoll; work tokens
                                         * (a semaphore eventfd: one per
                                         * queued call) */
    struct sockaddr_storage addr;       /* bound address */
    socklen_t addrlen;
    uint16_t port;

    struct rpc_program progs[RPC_MAX_PROGRAMS];
    unsigned nprogs;
    int registered;

    pthread_t loop_thread;              /* accepts */
    pthread_t *workers;
    unsigned nstarted;                  /* workers running */
    int loop_started;
    atomic_int stopping;

    /* The work queue. */
    pthread_mutex_t qlock;
    struct rpc_call *qhead, *qtail;
    atomic_int draining;                /* read nothing more; exit when empty */

    /* Open connections.  epoll events name a connection by slot and
     * generation, never by pointer: an event a worker took from the set
     * just before another dropped the connection finds the slot empty or
     * reused and is ignored, and a worker takes its reference under the
     * lock, so no connection is freed under a reader. */
    pthread_mutex_t clock;              /* guards the three below */
    struct rpc_conn *slots[RPC_MAX_CONNS];
    uint32_t gens[RPC_MAX_CONNS];
    unsigned next_slot;
    /* Accept thread only. */
    int accept_paused;
    time_t last_warn;                   /* rate limit of flood warnings */
    int64_t next_idle_scan;             /* monotonic seconds */
};

/* rpcsvc.c */
void rpcsvc_enqueue(struct rpc_server *s, struct rpc_call *call);
/* Takes c off the server's list and out of the epoll set and shuts it
 * down (c->gone was set by the caller, under c->lock). */
void rpcsvc_drop_conn(struct rpc_server *s, struct rpc_conn *c);
/* The epoll data naming c. */
uint64_t rpcsvc_conn_key(const struct rpc_conn *c);
/* Asks the event loop to call conn_flush when c's socket takes more
 * (c->wlock held). */
void rpcsvc_want_output(struct rpc_server *s, struct rpc_conn *c);

/* rpcsvc_conn.c */
/* Monotonic seconds, for idle times. */
int64_t rpcsvc_now(void);
struct rpc_conn *conn_new(struct rpc_server *s, int fd,
                          const struct sockaddr *peer, socklen_t peerlen);
void conn_get(struct rpc_conn *c);
void conn_put(struct rpc_conn *c);
/* Reads what the socket has; complete records go on c->inbox.  0: go on;
 * 1: end of input; negative errno: broken or malformed, close it. */
int conn_input(struct rpc_conn *c);
/* Stops all traffic (conn_settle then takes it off the list). */
void conn_shutdown(struct rpc_conn *c);
/* After a read or a call: closes c if it is done (shut down, or the peer
 * half-closed and has all its replies), else waits for input again
 * unless paused or being read. */
void conn_settle(struct rpc_conn *c);
/* Writes one record-marked reply (buf has 4 bytes reserved in front), or
 * queues what the socket does not take at once; never waits. */
void conn_send(struct rpc_conn *c, uint8_t *buf, size_t len);
/* The event loop's turn: sends queued replies the socket now takes. */
void conn_flush(struct rpc_conn *c);
/* A queued call of len bytes is finished. */
void conn_call_done(struct rpc_conn *c, size_t len);
/* Closes c if it has had no input since idle_before and nothing is under
 * way on it (no call queued, running or deferred, no reply waiting). */
void conn_close_if_idle(struct rpc_conn *c, int64_t idle_before);

/* rpcsvc_msg.c */
void rpcsvc_serve(struct rpc_server *s, struct rpc_call *call);

/* rpcsvc_rpcb.c */
int rpcb_reachable(void);

#endif
