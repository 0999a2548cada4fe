/* rpcsvc_msg.c - serving one call: the call header and credentials, the
 * program/version/procedure lookup, the handler, the reply; and deferred
 * replies (see rpcsvc.h).
 *
 * Every malformed call that still has a readable XID gets the RPC error
 * RFC 5531 names for it; a call whose header cannot be read at all gets
 * its connection closed, since nothing can be answered. */
#include "config.h"
#include "rpcsvc_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define NOBODY 65534u

struct rpc_deferred {
    struct rpc_conn *conn;              /* holds a reference */
    uint32_t xid;
};

static void peer_str(const struct rpc_conn *c, char *buf, size_t len)
{
    char port[8];
    if (getnameinfo((const struct sockaddr *)&c->peer, c->peerlen, buf,
                    (socklen_t)len, port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        snprintf(buf, len, "?");
}

/* ---- replies ---- */

/* Encodes r after 4 bytes left for the record mark and sends it.  Most
 * replies fit the stack buffer; larger ones are sized exactly. */
static int send_msg(struct rpc_conn *c, struct rpc_msg *r)
{
    uint8_t small[8192];
    uint8_t *buf = small;
    size_t cap = sizeof(small);
    int rc = -EPROTO;

    for (int attempt = 0; attempt < 2; attempt++) {
        XDR x;
        xdrmem_create(&x, (char *)buf + 4, (u_int)(cap - 4), XDR_ENCODE);
        bool_t ok = xdr_replymsg(&x, r);
        size_t len = XDR_GETPOS(&x) + 4;
        xdr_destroy(&x);
        if (ok) {
            conn_send(c, buf, len);
            rc = 0;
            break;
        }
        if (attempt)
            break;
        unsigned long need = xdr_sizeof((xdrproc_t)xdr_replymsg, r);
        if (need == 0 || need > (1ul << 30))
            break;
        buf = malloc(need + 4);
        if (!buf)
            break;
        cap = need + 4;
    }
    if (buf != small)
        free(buf);
    return rc;
}

static void reply_accepted(struct rpc_conn *c, uint32_t xid,
                           enum accept_stat st, uint32_t low, uint32_t high)
{
    struct rpc_msg r;
    memset(&r, 0, sizeof(r));
    r.rm_xid = xid;
    r.rm_direction = REPLY;
    r.rm_reply.rp_stat = MSG_ACCEPTED;
    r.acpted_rply.ar_verf.oa_flavor = AUTH_NONE;
    r.acpted_rply.ar_stat = st;
    if (st == PROG_MISMATCH) {
        r.acpted_rply.ar_vers.low = low;
        r.acpted_rply.ar_vers.high = high;
    }
    send_msg(c, &r);
}

static void reply_success(struct rpc_conn *c, uint32_t xid, xdrproc_t proc,
                          void *res)
{
    struct rpc_msg r;
    memset(&r, 0, sizeof(r));
    r.rm_xid = xid;
    r.rm_direction = REPLY;
    r.rm_reply.rp_stat = MSG_ACCEPTED;
    r.acpted_rply.ar_verf.oa_flavor = AUTH_NONE;
    r.acpted_rply.ar_stat = SUCCESS;
    r.acpted_rply.ar_results.where = res;
    r.acpted_rply.ar_results.proc = proc;
    if (send_msg(c, &r) < 0) {
        /* Results that do not encode are a server bug: say so. */
        log_err("rpc: cannot encode the reply to xid %#x", xid);
        reply_accepted(c, xid, SYSTEM_ERR, 0, 0);
    }
}

static void reply_denied(struct rpc_conn *c, uint32_t xid,
                         enum reject_stat rj, enum auth_stat why)
{
    struct rpc_msg r;
    memset(&r, 0, sizeof(r));
    r.rm_xid = xid;
    r.rm_direction = REPLY;
    r.rm_reply.rp_stat = MSG_DENIED;
    r.rjcted_rply.rj_stat = rj;
    if (rj == RPC_MISMATCH) {
        r.rjcted_rply.rj_vers.low = RPC_MSG_VERSION;
        r.rjcted_rply.rj_vers.high = RPC_MSG_VERSION;
    } else {
        r.rjcted_rply.rj_why = why;
    }
    send_msg(c, &r);
}

static void bad_header(struct rpc_conn *c, const char *why)
{
    char peer[NI_MAXHOST];
    peer_str(c, peer, sizeof(peer));
    log_info("rpc: %s from %s; closing the connection", why, peer);
    conn_shutdown(c);
}

/* ---- the call ---- */

static void cred_nobody(struct rpc_req *req)
{
    req->cred.uid = NOBODY;
    req->cred.gid = NOBODY;
    req->cred.ngroups = 0;
}

static enum auth_stat decode_cred(const struct opaque_auth *oa,
                                  struct rpc_req *req)
{
    req->auth_flavor = (int)oa->oa_flavor;
    cred_nobody(req);
    if (oa->oa_flavor == AUTH_NONE)
        return AUTH_OK;
    /* Other flavors (AUTH_DH, RPCSEC_GSS) are not offered: the answer
     * Linux's nfsd gives for them. */
    if (oa->oa_flavor != AUTH_SYS)
        return AUTH_BADCRED;

    struct authunix_parms aup;
    XDR x;
    memset(&aup, 0, sizeof(aup));
    xdrmem_create(&x, oa->oa_base, oa->oa_length, XDR_DECODE);
    bool_t ok = xdr_authunix_parms(&x, &aup);
    xdr_destroy(&x);
    if (ok && aup.aup_len <= META_NGROUPS) {
        req->cred.uid = aup.aup_uid;
        req->cred.gid = aup.aup_gid;
        req->cred.ngroups = aup.aup_len;
        for (u_int i = 0; i < aup.aup_len; i++)
            req->cred.groups[i] = aup.aup_gids[i];
        snprintf(req->machine, sizeof(req->machine), "%s",
                 aup.aup_machname ? aup.aup_machname : "");
    } else {
        cred_nobody(req);
        ok = FALSE;
    }
    xdr_free((xdrproc_t)xdr_authunix_parms, (char *)&aup);
    return ok ? AUTH_OK : AUTH_BADCRED;
}

/* The program for prog/vers, or NULL; for a known program with other
 * versions, low and high get their range. */
static const struct rpc_program *find_program(struct rpc_server *s,
                                              uint32_t prog, uint32_t vers,
                                              uint32_t *low, uint32_t *high)
{
    *low = UINT32_MAX;
    *high = 0;
    for (unsigned i = 0; i < s->nprogs; i++) {
        const struct rpc_program *p = &s->progs[i];
        if (p->prog != prog)
            continue;
        if (p->vers == vers)
            return p;
        if (p->vers < *low)
            *low = p->vers;
        if (p->vers > *high)
            *high = p->vers;
    }
    return NULL;
}

static void call_proc(struct rpc_conn *c, XDR *x, struct rpc_req *req,
                      const struct rpc_proc *pr)
{
    void *args = calloc(1, pr->args_size ? pr->args_size : 1);
    void *res = calloc(1, pr->res_size ? pr->res_size : 1);
    if (!args || !res) {
        reply_accepted(c, req->xid, SYSTEM_ERR, 0, 0);
        goto out;
    }
    if (!pr->xdr_args(x, args)) {
        xdr_free(pr->xdr_args, args);
        log_debug("rpc: garbage arguments for %s", pr->name);
        reply_accepted(c, req->xid, GARBAGE_ARGS, 0, 0);
        goto out;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    req->proc_info = pr->info;
    enum rpc_verdict v = pr->handler(req, args, res);
    xdr_free(pr->xdr_args, args);
    switch (v) {
    case RPC_REPLY:
        reply_success(c, req->xid, pr->xdr_res, res);
        break;
    case RPC_DEFER:
    case RPC_NO_REPLY:
        break;
    case RPC_GARBAGE:
        reply_accepted(c, req->xid, GARBAGE_ARGS, 0, 0);
        break;
    case RPC_AUTH_TOOWEAK:
        reply_denied(c, req->xid, AUTH_ERROR, AUTH_TOOWEAK);
        break;
    case RPC_SYSTEM_ERR:
    default:
        reply_accepted(c, req->xid, SYSTEM_ERR, 0, 0);
        break;
    }
    if (c->srv->opts.op_done) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        uint64_t ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u +
                      (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
        int ok = (v == RPC_REPLY || v == RPC_DEFER) &&
                 (pr->res_size < sizeof(int) || *(const int *)res == 0);
        c->srv->opts.op_done(req, pr->name, ns, ok);
    }
    xdr_free(pr->xdr_res, res);
out:
    free(args);
    free(res);
}

/* The fixed words before the credential body, read by hand: xdr_callmsg
 * refuses a wrong RPC version or an oversized credential without telling
 * which, and both deserve a reply rather than a closed connection. */
static int peek_header(const struct rpc_call *call, uint32_t w[8])
{
    size_t n = call->len / 4 < 8 ? call->len / 4 : 8;
    memset(w, 0, 8 * sizeof(*w));
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        memcpy(&v, call->buf + 4 * i, 4);
        w[i] = ntohl(v);
    }
    return (int)n;
}

void rpcsvc_serve(struct rpc_server *s, struct rpc_call *call)
{
    struct rpc_conn *c = call->conn;
    uint32_t w[8], low, high;

    /* A call is served even if its connection has gone meanwhile (its
     * reply is then dropped): the client may have sent it and left. */
    int nw = peek_header(call, w);
    if (nw < 3 || w[1] != CALL) {
        bad_header(c, "not an RPC call");
        return;
    }
    if (w[2] != RPC_MSG_VERSION) {
        reply_denied(c, w[0], RPC_MISMATCH, AUTH_OK);
        return;
    }
    if (nw == 8 && w[7] > MAX_AUTH_BYTES) {
        reply_denied(c, w[0], AUTH_ERROR, AUTH_BADCRED);
        return;
    }

    struct rpc_msg msg;
    char credbuf[MAX_AUTH_BYTES], verfbuf[MAX_AUTH_BYTES];
    XDR x;
    memset(&msg, 0, sizeof(msg));
    msg.rm_call.cb_cred.oa_base = credbuf;
    msg.rm_call.cb_verf.oa_base = verfbuf;
    xdrmem_create(&x, (char *)call->buf, call->len, XDR_DECODE);
    if (!xdr_callmsg(&x, &msg)) {
        xdr_destroy(&x);
        bad_header(c, "undecodable call header");
        return;
    }

    struct rpc_req req;
    memset(&req, 0, sizeof(req));
    req.xid = (uint32_t)msg.rm_xid;
    req.prog = (uint32_t)msg.rm_call.cb_prog;
    req.vers = (uint32_t)msg.rm_call.cb_vers;
    req.proc = (uint32_t)msg.rm_call.cb_proc;
    req.peer = c->peer;
    req.peerlen = c->peerlen;
    req.conn = c;

    enum auth_stat why = decode_cred(&msg.rm_call.cb_cred, &req);
    const struct rpc_program *p;
    if (why != AUTH_OK) {
        reply_denied(c, req.xid, AUTH_ERROR, why);
    } else if (!(p = find_program(s, req.prog, req.vers, &low, &high))) {
        if (high)
            reply_accepted(c, req.xid, PROG_MISMATCH, low, high);
        else
            reply_accepted(c, req.xid, PROG_UNAVAIL, 0, 0);
    } else if (req.proc >= p->nprocs || !p->procs[req.proc].handler) {
        reply_accepted(c, req.xid, PROC_UNAVAIL, 0, 0);
    } else {
        req.ctx = p->ctx;
        if (p->admit && p->admit(&req)) {
            char peer[NI_MAXHOST];
            peer_str(c, peer, sizeof(peer));
            log_notice("rpc: refused %s from %s (uid %u)",
                       p->procs[req.proc].name, peer, req.cred.uid);
            reply_denied(c, req.xid, AUTH_ERROR, AUTH_TOOWEAK);
        } else {
            call_proc(c, &x, &req, &p->procs[req.proc]);
        }
    }
    xdr_destroy(&x);
}

/* ---- deferred replies ---- */

struct rpc_deferred *rpc_defer(struct rpc_req *req)
{
    struct rpc_deferred *d = malloc(sizeof(*d));
    if (!d)
        return NULL;
    d->conn = req->conn;
    d->xid = req->xid;
    /* Not counted as pending: a peer that sends its end of stream while
     * a call waits (a blocking lock, say) is taken as gone, so that
     * rpc_deferred_alive() can tell the waiter. */
    conn_get(d->conn);
    return d;
}

static void deferred_release(struct rpc_deferred *d)
{
    conn_put(d->conn);
    free(d);
}

void rpc_deferred_reply(struct rpc_deferred *d, xdrproc_t xdr_res, void *res)
{
    if (!atomic_load(&d->conn->closed))
        reply_success(d->conn, d->xid, xdr_res, res);
    deferred_release(d);
}

void rpc_deferred_drop(struct rpc_deferred *d)
{
    deferred_release(d);
}

int rpc_deferred_alive(const struct rpc_deferred *d)
{
    return !atomic_load(&d->conn->closed);
}
