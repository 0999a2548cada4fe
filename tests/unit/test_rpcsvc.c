/* test_rpcsvc.c - unit tests for the gateway's RPC server (gateway/rpcsvc*):
 * a tiny test program served on 127.0.0.1, called through libtirpc
 * clients and through a raw socket for what libtirpc cannot send
 * (pipelining, fragments, broken records, wrong RPC versions). */
#include "config.h"
#include "rpcsvc.h"
#include "rpcsvc_int.h"          /* RPC_MAX_CONNS_PEER */

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <rpc/pmap_clnt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define TPROG       0x3ffffe01u
#define TPROC_NULL   0
#define TPROC_ECHO   1
#define TPROC_CRED   2
#define TPROC_DEFER  3
#define TPROC_SLOW   4
#define TPROC_HOLE   5      /* no handler: PROC_UNAVAIL */
#define TPROC_BIG    6
#define TPROC_DROP   7      /* deferred, then dropped: no reply */
#define MAX_RECORD   (1u << 20)

struct credres {
    u_int uid, gid, ngroups, g0;
    int flavor;
    char *machine;
};

struct bigres {
    u_int len;
    char *val;
};

/* xdr_wrapstring stops at 9000 bytes; the big tests need more. */
static bool_t xdr_str(XDR *x, char **s)
{
    return xdr_string(x, s, ~0u);
}

static bool_t xdr_credres(XDR *x, struct credres *r)
{
    return xdr_u_int(x, &r->uid) && xdr_u_int(x, &r->gid) &&
           xdr_u_int(x, &r->ngroups) && xdr_u_int(x, &r->g0) &&
           xdr_int(x, &r->flavor) && xdr_string(x, &r->machine, 256);
}

static bool_t xdr_bigres(XDR *x, struct bigres *r)
{
    return xdr_bytes(x, &r->val, &r->len, ~0u);
}

/* ---- the test program ---- */

static atomic_int deferred_dead;        /* deferred calls whose peer left */
static atomic_int slow_running;

static enum rpc_verdict h_null(struct rpc_req *req, void *a, void *r)
{
    return RPC_REPLY;
}

static enum rpc_verdict h_echo(struct rpc_req *req, void *a, void *r)
{
    *(char **)r = strdup(*(char **)a);
    return *(char **)r ? RPC_REPLY : RPC_SYSTEM_ERR;
}

static enum rpc_verdict h_cred(struct rpc_req *req, void *a, void *r)
{
    struct credres *c = r;
    c->uid = req->cred.uid;
    c->gid = req->cred.gid;
    c->ngroups = req->cred.ngroups;
    c->g0 = req->cred.ngroups ? req->cred.groups[0] : 0;
    c->flavor = req->auth_flavor;
    c->machine = strdup(req->machine);
    return RPC_REPLY;
}

struct later {
    struct rpc_deferred *d;
    u_int ms;
    int drop;
};

static void *later_main(void *arg)
{
    struct later *l = arg;
    usleep(l->ms * 1000u);
    if (!rpc_deferred_alive(l->d))
        atomic_fetch_add(&deferred_dead, 1);
    if (l->drop) {
        rpc_deferred_drop(l->d);
    } else {
        u_int v = l->ms + 1;
        rpc_deferred_reply(l->d, (xdrproc_t)xdr_u_int, &v);
    }
    free(l);
    return NULL;
}

static enum rpc_verdict defer_common(struct rpc_req *req, u_int ms, int drop)
{
    struct later *l = malloc(sizeof(*l));
    pthread_t t;
    if (!l)
        return RPC_SYSTEM_ERR;
    l->d = rpc_defer(req);
    l->ms = ms;
    l->drop = drop;
    if (!l->d || pthread_create(&t, NULL, later_main, l) != 0)
        abort();
    pthread_detach(t);
    return RPC_DEFER;
}

static enum rpc_verdict h_defer(struct rpc_req *req, void *a, void *r)
{
    return defer_common(req, *(u_int *)a, 0);
}

static enum rpc_verdict h_drop(struct rpc_req *req, void *a, void *r)
{
    return defer_common(req, *(u_int *)a, 1);
}

static enum rpc_verdict h_slow(struct rpc_req *req, void *a, void *r)
{
    atomic_fetch_add(&slow_running, 1);
    usleep(*(u_int *)a * 1000u);
    *(u_int *)r = *(u_int *)a + 1;
    return RPC_REPLY;
}

static enum rpc_verdict h_big(struct rpc_req *req, void *a, void *r)
{
    struct bigres *b = r;
    b->len = *(u_int *)a;
    b->val = malloc(b->len ? b->len : 1);
    for (u_int i = 0; i < b->len; i++)
        b->val[i] = (char)(i * 7);
    return RPC_REPLY;
}

static const struct rpc_proc tprocs[] = {
    [TPROC_NULL]  = { "null", RPC_XDR_VOID, 0, RPC_XDR_VOID, 0, h_null },
    [TPROC_ECHO]  = { "echo", (xdrproc_t)xdr_str, sizeof(char *),
                      (xdrproc_t)xdr_str, sizeof(char *), h_echo },
    [TPROC_CRED]  = { "cred", RPC_XDR_VOID, 0, (xdrproc_t)xdr_credres,
                      sizeof(struct credres), h_cred },
    [TPROC_DEFER] = { "defer", (xdrproc_t)xdr_u_int, sizeof(u_int),
                      (xdrproc_t)xdr_u_int, sizeof(u_int), h_defer },
    [TPROC_SLOW]  = { "slow", (xdrproc_t)xdr_u_int, sizeof(u_int),
                      (xdrproc_t)xdr_u_int, sizeof(u_int), h_slow },
    [TPROC_HOLE]  = { "hole", NULL, 0, NULL, 0, NULL },
    [TPROC_BIG]   = { "big", (xdrproc_t)xdr_u_int, sizeof(u_int),
                      (xdrproc_t)xdr_bigres, sizeof(struct bigres), h_big },
    [TPROC_DROP]  = { "drop", (xdrproc_t)xdr_u_int, sizeof(u_int),
                      (xdrproc_t)xdr_u_int, sizeof(u_int), h_drop },
};

static int admit_v3(const struct rpc_req *req)
{
    return req->cred.uid == 4242;       /* refused */
}

static struct rpc_server *srv;
static uint16_t port;

static struct rpc_server *start_server_idle(unsigned workers, unsigned idle,
                                           uint16_t *p)
{
    struct rpc_server_opts o = { .host = "127.0.0.1", .port = 0,
                                 .workers = workers, .max_record = MAX_RECORD,
                                 .idle_secs = idle };
    struct rpc_program v2 = { TPROG, 2, tprocs, 8, NULL, NULL };
    struct rpc_program v3 = { TPROG, 3, tprocs, 8, NULL, admit_v3 };
    struct rpc_server *s;
    ck_assert_int_eq(rpc_server_create(&o, &s), 0);
    ck_assert_int_eq(rpc_server_add(s, &v2), 0);
    ck_assert_int_eq(rpc_server_add(s, &v3), 0);
    ck_assert_int_eq(rpc_server_add(s, &v3), -EEXIST);
    ck_assert_int_eq(rpc_server_start(s), 0);
    *p = rpc_server_port(s);
    ck_assert_uint_ne(*p, 0);
    return s;
}

static struct rpc_server *start_server(unsigned workers, uint16_t *p)
{
    return start_server_idle(workers, 0, p);
}

static void setup(void)
{
    log_open("test_rpcsvc", 1, NULL);
    log_set_level(LOG_WARNING);
    atomic_store(&deferred_dead, 0);
    atomic_store(&slow_running, 0);
    srv = start_server(4, &port);
}

static void teardown(void)
{
    rpc_server_destroy(srv);
    srv = NULL;
}

/* ---- libtirpc clients ---- */

static const struct timeval TMO = { 20, 0 };

static CLIENT *client(uint32_t prog, uint32_t vers)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int sock = RPC_ANYSOCK;
    CLIENT *cl = clnttcp_create(&sin, prog, vers, &sock, 0, 0);
    ck_assert_ptr_nonnull(cl);
    return cl;
}

/* clnt_destroy leaves the AUTH to its owner. */
static void client_done(CLIENT *cl)
{
    auth_destroy(cl->cl_auth);
    clnt_destroy(cl);
}

static void client_auth(CLIENT *cl, const char *host, uid_t uid, gid_t gid,
                        int n, gid_t *groups)
{
    auth_destroy(cl->cl_auth);
    cl->cl_auth = authunix_create((char *)host, uid, gid, n, groups);
    ck_assert_ptr_nonnull(cl->cl_auth);
}

static enum clnt_stat echo(CLIENT *cl, const char *in, char **out)
{
    *out = NULL;
    return clnt_call(cl, TPROC_ECHO, (xdrproc_t)xdr_str, (char *)&in,
                     (xdrproc_t)xdr_str, (char *)out, TMO);
}

START_TEST(null_and_echo)
{
    CLIENT *cl = client(TPROG, 2);
    char *out;
    ck_assert_int_eq(clnt_call(cl, TPROC_NULL, RPC_XDR_VOID, NULL,
                               RPC_XDR_VOID, NULL, TMO), RPC_SUCCESS);
    ck_assert_int_eq(echo(cl, "hello", &out), RPC_SUCCESS);
    ck_assert_str_eq(out, "hello");
    xdr_free((xdrproc_t)xdr_str, (char *)&out);
    client_done(cl);
}
END_TEST

struct hammer {
    int id, calls, failures;
};

static void *hammer_main(void *arg)
{
    struct hammer *h = arg;
    CLIENT *cl = client(TPROG, 2);
    for (int i = 0; i < h->calls; i++) {
        char in[64], *out;
        snprintf(in, sizeof(in), "thread %d call %d", h->id, i);
        if (echo(cl, in, &out) != RPC_SUCCESS || strcmp(in, out) != 0)
            h->failures++;
        xdr_free((xdrproc_t)xdr_str, (char *)&out);
    }
    client_done(cl);
    return NULL;
}

START_TEST(many_threads)
{
    enum { N = 8 };
    pthread_t t[N];
    struct hammer h[N];
    for (int i = 0; i < N; i++) {
        h[i] = (struct hammer){ i, 1000, 0 };
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(h[i].failures, 0);
    }
}
END_TEST

START_TEST(errors_seen_by_clients)
{
    struct rpc_err err;
    char *out;
    CLIENT *cl = client(TPROG + 1, 2);
    ck_assert_int_eq(echo(cl, "x", &out), RPC_PROGUNAVAIL);
    client_done(cl);

    cl = client(TPROG, 7);
    ck_assert_int_eq(echo(cl, "x", &out), RPC_PROGVERSMISMATCH);
    clnt_geterr(cl, &err);
    ck_assert_uint_eq(err.re_vers.low, 2);
    ck_assert_uint_eq(err.re_vers.high, 3);
    client_done(cl);

    cl = client(TPROG, 2);
    ck_assert_int_eq(clnt_call(cl, TPROC_HOLE, RPC_XDR_VOID, NULL,
                               RPC_XDR_VOID, NULL, TMO), RPC_PROCUNAVAIL);
    ck_assert_int_eq(clnt_call(cl, 99, RPC_XDR_VOID, NULL,
                               RPC_XDR_VOID, NULL, TMO), RPC_PROCUNAVAIL);
    /* ECHO wants a string: no argument at all does not decode. */
    ck_assert_int_eq(clnt_call(cl, TPROC_ECHO, RPC_XDR_VOID, NULL,
                               (xdrproc_t)xdr_str, (char *)&out, TMO),
                     RPC_CANTDECODEARGS);
    /* The connection still serves after each error. */
    ck_assert_int_eq(echo(cl, "still", &out), RPC_SUCCESS);
    ck_assert_str_eq(out, "still");
    xdr_free((xdrproc_t)xdr_str, (char *)&out);
    client_done(cl);

    /* admit() refusal. */
    cl = client(TPROG, 3);
    client_auth(cl, "box", 4242, 100, 0, NULL);
    ck_assert_int_eq(echo(cl, "x", &out), RPC_AUTHERROR);
    clnt_geterr(cl, &err);
    ck_assert_int_eq(err.re_why, AUTH_TOOWEAK);
    client_auth(cl, "box", 1000, 100, 0, NULL);
    ck_assert_int_eq(echo(cl, "ok", &out), RPC_SUCCESS);
    xdr_free((xdrproc_t)xdr_str, (char *)&out);
    client_done(cl);
}
END_TEST

START_TEST(credentials)
{
    struct credres r;
    gid_t groups[3] = { 11, 22, 33 };
    CLIENT *cl = client(TPROG, 2);

    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(clnt_call(cl, TPROC_CRED, RPC_XDR_VOID, NULL,
                               (xdrproc_t)xdr_credres, (char *)&r, TMO),
                     RPC_SUCCESS);
    ck_assert_int_eq(r.flavor, AUTH_NONE);
    ck_assert_uint_eq(r.uid, 65534);
    ck_assert_uint_eq(r.gid, 65534);
    ck_assert_uint_eq(r.ngroups, 0);
    xdr_free((xdrproc_t)xdr_credres, (char *)&r);

    client_auth(cl, "node7", 1234, 5678, 3, groups);
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(clnt_call(cl, TPROC_CRED, RPC_XDR_VOID, NULL,
                               (xdrproc_t)xdr_credres, (char *)&r, TMO),
                     RPC_SUCCESS);
    ck_assert_int_eq(r.flavor, AUTH_SYS);
    ck_assert_uint_eq(r.uid, 1234);
    ck_assert_uint_eq(r.gid, 5678);
    ck_assert_uint_eq(r.ngroups, 3);
    ck_assert_uint_eq(r.g0, 11);
    ck_assert_str_eq(r.machine, "node7");
    xdr_free((xdrproc_t)xdr_credres, (char *)&r);
    client_done(cl);
}
END_TEST

struct defer_arg {
    u_int ms, got;
    enum clnt_stat st;
};

static void *defer_main(void *arg)
{
    struct defer_arg *d = arg;
    CLIENT *cl = client(TPROG, 2);
    d->st = clnt_call(cl, TPROC_DEFER, (xdrproc_t)xdr_u_int, (char *)&d->ms,
                      (xdrproc_t)xdr_u_int, (char *)&d->got, TMO);
    client_done(cl);
    return NULL;
}

START_TEST(deferred_replies)
{
    enum { N = 16 };
    pthread_t t[N];
    struct defer_arg d[N];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    /* More deferred calls than workers, all waiting at once: deferring
     * must free the worker. */
    for (int i = 0; i < N; i++) {
        d[i] = (struct defer_arg){ 300 + (u_int)i, 0, RPC_FAILED };
        ck_assert_int_eq(pthread_create(&t[i], NULL, defer_main, &d[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(d[i].st, RPC_SUCCESS);
        ck_assert_uint_eq(d[i].got, d[i].ms + 1);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    ck_assert_msg(secs < 3.0, "deferred calls were serialized (%.2f s)", secs);
}
END_TEST

START_TEST(big_reply)
{
    CLIENT *cl = client(TPROG, 2);
    u_int n = 900 * 1024;
    struct bigres r = { 0, NULL };
    ck_assert_int_eq(clnt_call(cl, TPROC_BIG, (xdrproc_t)xdr_u_int, (char *)&n,
                               (xdrproc_t)xdr_bigres, (char *)&r, TMO),
                     RPC_SUCCESS);
    ck_assert_uint_eq(r.len, n);
    for (u_int i = 0; i < n; i += 4093)
        ck_assert_int_eq(r.val[i], (char)(i * 7));
    xdr_free((xdrproc_t)xdr_bigres, (char *)&r);

    /* A call close to the record limit passes, one above it does not. */
    char *s = malloc(MAX_RECORD + 1), *out;
    memset(s, 'a', MAX_RECORD - 4096);
    s[MAX_RECORD - 4096] = '\0';
    ck_assert_int_eq(echo(cl, s, &out), RPC_SUCCESS);
    ck_assert_uint_eq(strlen(out), MAX_RECORD - 4096);
    xdr_free((xdrproc_t)xdr_str, (char *)&out);
    memset(s, 'b', MAX_RECORD);
    s[MAX_RECORD] = '\0';
    ck_assert_int_ne(echo(cl, s, &out), RPC_SUCCESS);
    free(s);
    client_done(cl);

    cl = client(TPROG, 2);
    ck_assert_int_eq(echo(cl, "after", &out), RPC_SUCCESS);
    xdr_free((xdrproc_t)xdr_str, (char *)&out);
    client_done(cl);
}
END_TEST

/* ---- a raw socket, for what libtirpc will not send ---- */

static int raw_connect(void)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    return fd;
}

static void raw_write(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        ck_assert_int_gt(n, 0);
        p += n;
        len -= (size_t)n;
    }
}

/* Encodes a call (without record mark) into buf; returns its length. */
static size_t raw_call(uint8_t *buf, size_t cap, uint32_t xid, uint32_t rpcvers,
                       uint32_t vers, uint32_t proc, xdrproc_t xargs, void *args)
{
    struct rpc_msg m;
    XDR x;
    memset(&m, 0, sizeof(m));
    m.rm_xid = xid;
    m.rm_direction = CALL;
    m.rm_call.cb_rpcvers = RPC_MSG_VERSION;
    m.rm_call.cb_prog = TPROG;
    m.rm_call.cb_vers = vers;
    m.rm_call.cb_proc = proc;
    m.rm_call.cb_cred.oa_flavor = AUTH_NONE;
    m.rm_call.cb_verf.oa_flavor = AUTH_NONE;
    xdrmem_create(&x, (char *)buf, (u_int)cap, XDR_ENCODE);
    ck_assert(xdr_callmsg(&x, &m));
    if (xargs)
        ck_assert(xargs(&x, args));
    size_t len = XDR_GETPOS(&x);
    xdr_destroy(&x);
    uint32_t v = htonl(rpcvers);         /* patch the RPC version */
    memcpy(buf + 8, &v, 4);
    return len;
}

static void raw_send_record(int fd, const uint8_t *body, size_t len)
{
    uint32_t h = htonl(0x80000000u | (uint32_t)len);
    raw_write(fd, &h, 4);
    raw_write(fd, body, len);
}

static int read_full(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        if (poll(&pf, 1, 10000) != 1)
            return -ETIMEDOUT;
        ssize_t n = recv(fd, p, len, 0);
        if (n <= 0)
            return -EPIPE;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads one record; returns its length, or -1 on end of stream. */
static ssize_t raw_read_record(int fd, uint8_t *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        uint32_t h;
        if (read_full(fd, &h, 4) < 0)
            return -1;
        h = ntohl(h);
        size_t frag = h & 0x7fffffffu;
        ck_assert_uint_le(len + frag, cap);
        if (read_full(fd, buf + len, frag) < 0)
            return -1;
        len += frag;
        if (h & 0x80000000u)
            return (ssize_t)len;
    }
}

/* Decodes a reply; for SUCCESS the results go through xres into res. */
static void raw_decode(const uint8_t *buf, size_t len, struct rpc_msg *m,
                       xdrproc_t xres, void *res)
{
    XDR x;
    memset(m, 0, sizeof(*m));
    m->acpted_rply.ar_results.where = res;
    m->acpted_rply.ar_results.proc = xres ? xres : RPC_XDR_VOID;
    xdrmem_create(&x, (char *)buf, (u_int)len, XDR_DECODE);
    ck_assert(xdr_replymsg(&x, m));
    xdr_destroy(&x);
}

static int peer_closed(int fd)
{
    uint8_t b[256];
    struct pollfd pf = { .fd = fd, .events = POLLIN };
    for (;;) {
        if (poll(&pf, 1, 5000) != 1)
            return 0;
        ssize_t n = recv(fd, b, sizeof(b), 0);
        if (n <= 0)
            return 1;
    }
}

static void still_serving(void)
{
    char *out;
    CLIENT *cl = client(TPROG, 2);
    ck_assert_int_eq(echo(cl, "alive", &out), RPC_SUCCESS);
    ck_assert_str_eq(out, "alive");
    xdr_free((xdrproc_t)xdr_str, (char *)&out);
    client_done(cl);
}

START_TEST(pipelined_out_of_order)
{
    enum { N = 200 };
    static uint8_t buf[N * 128];
    uint8_t rec[4096];
    size_t off = 0;
    int fd = raw_connect();
    /* Call 0 is slow; later echoes overtake it (a server serving one
     * connection in order would answer it first). */
    u_int ms = 600;
    off += 4;
    size_t len = raw_call(buf + off, sizeof(buf) - off, 1000, 2, 2, TPROC_SLOW,
                          (xdrproc_t)xdr_u_int, &ms);
    uint32_t h = htonl(0x80000000u | (uint32_t)len);
    memcpy(buf + off - 4, &h, 4);
    off += len;
    for (int i = 1; i < N; i++) {
        char s[32], *sp = s;
        snprintf(s, sizeof(s), "echo-%d", i);
        off += 4;
        len = raw_call(buf + off, sizeof(buf) - off, 1000 + (uint32_t)i, 2, 2,
                       TPROC_ECHO, (xdrproc_t)xdr_str, &sp);
        h = htonl(0x80000000u | (uint32_t)len);
        memcpy(buf + off - 4, &h, 4);
        off += len;
    }
    raw_write(fd, buf, off);            /* every call in one go */

    int seen[N] = { 0 }, slow_pos = -1;
    for (int i = 0; i < N; i++) {
        ssize_t n = raw_read_record(fd, rec, sizeof(rec));
        ck_assert_int_gt(n, 0);
        struct rpc_msg m;
        uint32_t xid;
        memcpy(&xid, rec, 4);
        xid = ntohl(xid);
        ck_assert_uint_ge(xid, 1000);
        ck_assert_uint_lt(xid, 1000 + N);
        int k = (int)(xid - 1000);
        ck_assert_int_eq(seen[k], 0);
        seen[k] = 1;
        if (k == 0) {
            u_int got = 0;
            raw_decode(rec, (size_t)n, &m, (xdrproc_t)xdr_u_int, &got);
            ck_assert_uint_eq(got, 601);
            slow_pos = i;
        } else {
            char *got = NULL, want[32];
            raw_decode(rec, (size_t)n, &m, (xdrproc_t)xdr_str, &got);
            snprintf(want, sizeof(want), "echo-%d", k);
            ck_assert_str_eq(got, want);
            free(got);
        }
        ck_assert_int_eq(m.rm_reply.rp_stat, MSG_ACCEPTED);
        ck_assert_int_eq(m.acpted_rply.ar_stat, SUCCESS);
    }
    ck_assert_int_gt(slow_pos, N / 2);
    close(fd);
}
END_TEST

struct streamer {
    int fd, n;
    size_t size;
};

static void *streamer_main(void *arg)
{
    struct streamer *st = arg;
    size_t cap = st->size + 256;
    uint8_t *buf = malloc(cap);
    char *s = malloc(st->size + 1);
    memset(s, 'z', st->size);
    s[st->size] = '\0';
    for (int i = 0; i < st->n; i++) {
        size_t len = raw_call(buf, cap, (uint32_t)i, 2, 2, TPROC_ECHO,
                              (xdrproc_t)xdr_str, &s);
        raw_send_record(st->fd, buf, len);
    }
    free(s);
    free(buf);
    return NULL;
}

/* Far more data in flight than the server buffers per connection: it
 * must pause reading, not run out of memory or lose calls. */
START_TEST(flow_control)
{
    struct streamer st = { raw_connect(), 1500, 32 * 1024 };
    pthread_t t;
    static uint8_t rec[64 * 1024];
    ck_assert_int_eq(pthread_create(&t, NULL, streamer_main, &st), 0);
    usleep(300 * 1000);                 /* let the server's buffers fill */
    for (int i = 0; i < st.n; i++) {
        ssize_t n = raw_read_record(st.fd, rec, sizeof(rec));
        ck_assert_int_gt(n, (ssize_t)st.size);
    }
    pthread_join(t, NULL);
    close(st.fd);
}
END_TEST

/* A client that asks for big replies and never reads them holds up only
 * itself: the workers do not wait for its socket, so another client is
 * served at once; its replies are all there when it reads at last. */
START_TEST(reader_that_stops)
{
    int fd = raw_connect();
    uint8_t body[256];
    u_int size = 1u << 20;
    const int n = 32;                   /* 32 MiB: more than the sockets hold */
    for (int i = 0; i < n; i++) {
        size_t len = raw_call(body, sizeof(body), 500 + (uint32_t)i, 2, 2,
                              TPROC_BIG, (xdrproc_t)xdr_u_int, &size);
        raw_send_record(fd, body, len);
    }
    usleep(300 * 1000);                 /* every worker had its turn */
    CLIENT *cl = client(TPROG, 2);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *out;
    ck_assert_int_eq(echo(cl, "still here", &out), RPC_SUCCESS);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_msg(secs < 2.0, "another client waited %.1f s", secs);
    ck_assert_str_eq(out, "still here");
    xdr_free((xdrproc_t)xdr_str, (char *)&out);
    client_done(cl);

    uint8_t *rec = malloc(size + 4096);
    ck_assert_ptr_nonnull(rec);
    for (int i = 0; i < n; i++)
        ck_assert_int_gt(raw_read_record(fd, rec, size + 4096), (ssize_t)size);
    free(rec);
    close(fd);
}
END_TEST

START_TEST(fragments_and_half_close)
{
    uint8_t body[256], rec[512];
    char *sp = "fragmented";
    int fd = raw_connect();
    size_t len = raw_call(body, sizeof(body), 77, 2, 2, TPROC_ECHO,
                          (xdrproc_t)xdr_str, &sp);
    /* Three fragments, the first two not last, written a byte at a time. */
    size_t cut[4] = { 0, 5, 12, len };
    for (int f = 0; f < 3; f++) {
        uint32_t flen = (uint32_t)(cut[f + 1] - cut[f]);
        uint32_t h = htonl((f == 2 ? 0x80000000u : 0) | flen);
        uint8_t hb[4];
        memcpy(hb, &h, 4);
        for (int i = 0; i < 4; i++)
            raw_write(fd, hb + i, 1);
        for (size_t i = cut[f]; i < cut[f + 1]; i++)
            raw_write(fd, body + i, 1);
    }
    /* An empty non-last fragment before a record is legal, too. */
    uint32_t z = htonl(0);
    raw_write(fd, &z, 4);
    len = raw_call(body, sizeof(body), 78, 2, 2, TPROC_ECHO,
                   (xdrproc_t)xdr_str, &sp);
    raw_send_record(fd, body, len);
    shutdown(fd, SHUT_WR);              /* half-close: replies still come */

    for (int i = 0; i < 2; i++) {
        ssize_t n = raw_read_record(fd, rec, sizeof(rec));
        ck_assert_int_gt(n, 0);
        struct rpc_msg m;
        char *got = NULL;
        raw_decode(rec, (size_t)n, &m, (xdrproc_t)xdr_str, &got);
        ck_assert(m.rm_xid == 77 || m.rm_xid == 78);
        ck_assert_str_eq(got, "fragmented");
        free(got);
    }
    ck_assert(peer_closed(fd));
    close(fd);
}
END_TEST

START_TEST(rpc_and_auth_rejections)
{
    uint8_t body[256], rec[512];
    struct rpc_msg m;
    int fd = raw_connect();

    /* RPC version 3: MSG_DENIED, RPC_MISMATCH 2..2. */
    size_t len = raw_call(body, sizeof(body), 5, 3, 2, TPROC_NULL, NULL, NULL);
    raw_send_record(fd, body, len);
    ssize_t n = raw_read_record(fd, rec, sizeof(rec));
    ck_assert_int_gt(n, 0);
    raw_decode(rec, (size_t)n, &m, NULL, NULL);
    ck_assert_uint_eq(m.rm_xid, 5);
    ck_assert_int_eq(m.rm_reply.rp_stat, MSG_DENIED);
    ck_assert_int_eq(m.rjcted_rply.rj_stat, RPC_MISMATCH);
    ck_assert_uint_eq(m.rjcted_rply.rj_vers.low, 2);
    ck_assert_uint_eq(m.rjcted_rply.rj_vers.high, 2);

    /* AUTH_SYS with a body that is not an authunix_parms. */
    len = raw_call(body, sizeof(body), 6, 2, 2, TPROC_NULL, NULL, NULL);
    uint32_t w[2] = { htonl(AUTH_SYS), htonl(4) };
    uint8_t bad[256];
    memcpy(bad, body, 24);
    memcpy(bad + 24, w, 8);
    memset(bad + 32, 0xff, 4);          /* 4 bytes: too short */
    memcpy(bad + 36, body + 32, len - 32);
    raw_send_record(fd, bad, len + 4);
    n = raw_read_record(fd, rec, sizeof(rec));
    ck_assert_int_gt(n, 0);
    raw_decode(rec, (size_t)n, &m, NULL, NULL);
    ck_assert_uint_eq(m.rm_xid, 6);
    ck_assert_int_eq(m.rm_reply.rp_stat, MSG_DENIED);
    ck_assert_int_eq(m.rjcted_rply.rj_stat, AUTH_ERROR);
    ck_assert_int_eq(m.rjcted_rply.rj_why, AUTH_BADCRED);

    /* An unsupported flavor (RPCSEC_GSS is 6). */
    len = raw_call(body, sizeof(body), 7, 2, 2, TPROC_NULL, NULL, NULL);
    uint32_t gss = htonl(6);
    memcpy(body + 24, &gss, 4);
    raw_send_record(fd, body, len);
    n = raw_read_record(fd, rec, sizeof(rec));
    raw_decode(rec, (size_t)n, &m, NULL, NULL);
    ck_assert_uint_eq(m.rm_xid, 7);
    ck_assert_int_eq(m.rjcted_rply.rj_stat, AUTH_ERROR);
    ck_assert_int_eq(m.rjcted_rply.rj_why, AUTH_BADCRED);

    /* A credential longer than RFC 5531 allows. */
    len = raw_call(body, sizeof(body), 8, 2, 2, TPROC_NULL, NULL, NULL);
    uint32_t big = htonl(1000);
    memcpy(body + 28, &big, 4);
    raw_send_record(fd, body, len);
    n = raw_read_record(fd, rec, sizeof(rec));
    raw_decode(rec, (size_t)n, &m, NULL, NULL);
    ck_assert_uint_eq(m.rm_xid, 8);
    ck_assert_int_eq(m.rjcted_rply.rj_why, AUTH_BADCRED);

    /* The same connection still serves. */
    len = raw_call(body, sizeof(body), 9, 2, 2, TPROC_NULL, NULL, NULL);
    raw_send_record(fd, body, len);
    n = raw_read_record(fd, rec, sizeof(rec));
    raw_decode(rec, (size_t)n, &m, NULL, NULL);
    ck_assert_uint_eq(m.rm_xid, 9);
    ck_assert_int_eq(m.acpted_rply.ar_stat, SUCCESS);
    close(fd);
}
END_TEST

START_TEST(garbage_closes_connection)
{
    uint8_t junk[300];
    srandom(42);
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)random();

    /* A record of random bytes (direction field not CALL). */
    int fd = raw_connect();
    junk[4] = junk[5] = junk[6] = 0;
    junk[7] = 1;                        /* a REPLY, not a CALL */
    raw_send_record(fd, junk, sizeof(junk));
    ck_assert(peer_closed(fd));
    close(fd);

    /* A header claiming a record far over the limit. */
    fd = raw_connect();
    uint32_t h = htonl(0x80000000u | 0x7fffff00u);
    raw_write(fd, &h, 4);
    ck_assert(peer_closed(fd));
    close(fd);

    /* Fragments that add up to more than the limit. */
    fd = raw_connect();
    h = htonl(MAX_RECORD / 2 + 16);
    uint8_t *half = calloc(1, MAX_RECORD / 2 + 16);
    raw_write(fd, &h, 4);
    raw_write(fd, half, MAX_RECORD / 2 + 16);
    raw_write(fd, &h, 4);
    ck_assert(peer_closed(fd));
    free(half);
    close(fd);

    /* A truncated record, then the client goes away. */
    fd = raw_connect();
    h = htonl(0x80000000u | 1000);
    raw_write(fd, &h, 4);
    raw_write(fd, junk, 100);
    close(fd);

    /* A call header cut short inside its credential. */
    uint8_t body[256];
    fd = raw_connect();
    size_t len = raw_call(body, sizeof(body), 1, 2, 2, TPROC_NULL, NULL, NULL);
    raw_send_record(fd, body, len - 10);
    ck_assert(peer_closed(fd));
    close(fd);

    still_serving();
}
END_TEST

START_TEST(deferred_after_close)
{
    uint8_t body[256], rec[256];
    u_int ms = 300;
    int fd = raw_connect();
    size_t len = raw_call(body, sizeof(body), 1, 2, 2, TPROC_DEFER,
                          (xdrproc_t)xdr_u_int, &ms);
    raw_send_record(fd, body, len);
    usleep(50 * 1000);
    close(fd);                          /* gone before the reply */
    usleep(500 * 1000);
    ck_assert_int_eq(atomic_load(&deferred_dead), 1);

    /* A dropped deferred call gets no reply; later calls do. */
    fd = raw_connect();
    ms = 10;
    len = raw_call(body, sizeof(body), 2, 2, 2, TPROC_DROP,
                   (xdrproc_t)xdr_u_int, &ms);
    raw_send_record(fd, body, len);
    usleep(100 * 1000);
    len = raw_call(body, sizeof(body), 3, 2, 2, TPROC_NULL, NULL, NULL);
    raw_send_record(fd, body, len);
    ssize_t n = raw_read_record(fd, rec, sizeof(rec));
    ck_assert_int_gt(n, 0);
    struct rpc_msg m;
    raw_decode(rec, (size_t)n, &m, NULL, NULL);
    ck_assert_uint_eq(m.rm_xid, 3);
    struct pollfd pf = { .fd = fd, .events = POLLIN };
    ck_assert_int_eq(poll(&pf, 1, 200), 0);
    close(fd);
    still_serving();
}
END_TEST

/* One call on a raw connection, answered: whether the reply came. */
static int raw_null_answered(int fd, uint32_t xid)
{
    uint8_t body[256], rec[256];
    size_t len = raw_call(body, sizeof(body), xid, 2, 2, TPROC_NULL, NULL, NULL);
    if (send(fd, (uint32_t[]){ htonl(0x80000000u | (uint32_t)len) }, 4,
             MSG_NOSIGNAL) != 4 ||
        send(fd, body, len, MSG_NOSIGNAL) != (ssize_t)len)
        return 0;
    return raw_read_record(fd, rec, sizeof(rec)) > 0;
}

/* Connections idle past idle_secs are closed; one waiting for a deferred
 * reply, or in use, is not. */
START_TEST(idle_connections)
{
    uint16_t main_port = port;
    struct rpc_server *s = start_server_idle(2, 2, &port);
    uint8_t body[256], rec[256];
    int idle = raw_connect(), busy = raw_connect(), chatty = raw_connect();
    ck_assert(raw_null_answered(idle, 1));
    u_int ms = 4500;
    size_t len = raw_call(body, sizeof(body), 2, 2, 2, TPROC_DEFER,
                          (xdrproc_t)xdr_u_int, &ms);
    raw_send_record(busy, body, len);
    for (uint32_t i = 0; i < 9; i++) {          /* 4.5 s of a call a 0.5 s */
        ck_assert_msg(raw_null_answered(chatty, 10 + i), "busy one closed");
        usleep(500 * 1000);
    }
    ck_assert_int_gt(raw_read_record(busy, rec, sizeof(rec)), 0);
    ck_assert_msg(raw_null_answered(busy, 3), "closed while a call waited");
    ck_assert_msg(peer_closed(idle), "an idle connection stayed open");
    close(idle);
    close(busy);
    close(chatty);
    rpc_server_destroy(s);
    port = main_port;
}
END_TEST

struct slow_arg {
    u_int ms, got;
    enum clnt_stat st;
};

static void *slow_main(void *arg)
{
    struct slow_arg *a = arg;
    CLIENT *cl = client(TPROG, 2);
    a->st = clnt_call(cl, TPROC_SLOW, (xdrproc_t)xdr_u_int, (char *)&a->ms,
                      (xdrproc_t)xdr_u_int, (char *)&a->got, TMO);
    client_done(cl);
    return NULL;
}

/* Stopping answers the calls under way before closing. */
START_TEST(stop_drains)
{
    struct slow_arg a = { 400, 0, RPC_FAILED };
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, slow_main, &a), 0);
    while (atomic_load(&slow_running) == 0)
        usleep(1000);
    rpc_server_stop(srv);
    pthread_join(t, NULL);
    ck_assert_int_eq(a.st, RPC_SUCCESS);
    ck_assert_uint_eq(a.got, 401);

    /* And no longer accepts. */
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ne(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    close(fd);
}
END_TEST

START_TEST(many_connections)
{
    enum { N = 300 };
    int fds[N];
    uint8_t body[128], rec[128];
    for (int i = 0; i < N; i++)
        fds[i] = raw_connect();
    for (int i = 0; i < N; i++) {
        size_t len = raw_call(body, sizeof(body), (uint32_t)i, 2, 2, TPROC_NULL,
                              NULL, NULL);
        raw_send_record(fds[i], body, len);
    }
    for (int i = 0; i < N; i++) {
        struct rpc_msg m;
        ssize_t n = raw_read_record(fds[i], rec, sizeof(rec));
        ck_assert_int_gt(n, 0);
        raw_decode(rec, (size_t)n, &m, NULL, NULL);
        ck_assert_uint_eq(m.rm_xid, (uint32_t)i);
        close(fds[i]);
    }
    still_serving();
}
END_TEST

/* One host may hold a quarter of the connection table; past that its
 * new connections are closed at once, and other hosts still get in. */
START_TEST(connections_per_host)
{
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = rl.rlim_max;
    if (rl.rlim_max < 3 * RPC_MAX_CONNS_PEER ||
        setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;                         /* cannot open that many here */
    static int fds[RPC_MAX_CONNS_PEER];
    for (int i = 0; i < RPC_MAX_CONNS_PEER; i++)
        fds[i] = raw_connect();
    int extra = raw_connect();          /* accepted, then closed */
    ck_assert(peer_closed(extra));
    close(extra);

    struct sockaddr_in src = { .sin_family = AF_INET };
    struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    inet_pton(AF_INET, "127.0.0.2", &src.sin_addr);
    int other = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(other, (struct sockaddr *)&src, sizeof(src)), 0);
    ck_assert_int_eq(connect(other, (struct sockaddr *)&dst, sizeof(dst)), 0);
    uint8_t body[128], rec[128];
    size_t len = raw_call(body, sizeof(body), 9, 2, 2, TPROC_NULL, NULL, NULL);
    raw_send_record(other, body, len);
    ck_assert_int_gt(raw_read_record(other, rec, sizeof(rec)), 0);
    close(other);
    for (int i = 0; i < RPC_MAX_CONNS_PEER; i++)
        close(fds[i]);
    usleep(200 * 1000);                 /* the server sees them go */
    still_serving();
}
END_TEST

/* With rpcbind running (it is optional), registration makes the program
 * findable and unregistration removes it. */
START_TEST(rpcbind_registration)
{
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    rpc_server_register(srv);
    clock_gettime(CLOCK_MONOTONIC, &b);
    /* Without rpcbind this must not wait out libtirpc's timeouts. */
    ck_assert_int_lt(b.tv_sec - a.tv_sec, 3);
    sin.sin_port = htons(111);
    u_short p = pmap_getport(&sin, TPROG, 2, IPPROTO_TCP);
    if (p == 0 && rpc_createerr.cf_stat != RPC_PROGNOTREGISTERED) {
        fprintf(stderr, "rpcbind not running: registration not checked\n");
        rpc_server_unregister(srv);
        return;
    }
    ck_assert_uint_eq(p, port);
    ck_assert_uint_eq(pmap_getport(&sin, TPROG, 3, IPPROTO_TCP), port);
    rpc_server_unregister(srv);
    ck_assert_uint_eq(pmap_getport(&sin, TPROG, 2, IPPROTO_TCP), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("rpcsvc");
    TCase *tc = tcase_create("server");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, null_and_echo);
    tcase_add_test(tc, many_threads);
    tcase_add_test(tc, errors_seen_by_clients);
    tcase_add_test(tc, credentials);
    tcase_add_test(tc, deferred_replies);
    tcase_add_test(tc, big_reply);
    tcase_add_test(tc, reader_that_stops);
    tcase_add_test(tc, pipelined_out_of_order);
    tcase_add_test(tc, flow_control);
    tcase_add_test(tc, fragments_and_half_close);
    tcase_add_test(tc, rpc_and_auth_rejections);
    tcase_add_test(tc, garbage_closes_connection);
    tcase_add_test(tc, deferred_after_close);
    tcase_add_test(tc, stop_drains);
    tcase_add_test(tc, many_connections);
    tcase_add_test(tc, connections_per_host);
    tcase_add_test(tc, idle_connections);
    tcase_add_test(tc, rpcbind_registration);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
