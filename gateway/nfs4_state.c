/* nfs4_state.c - NFSv4.0 client IDs, leases, owners, stateids and the
 * replay of seqid operations (RFC 7530 sections 9 and 16.33-16.34).
 *
 * Client IDs: SETCLIENTID makes an unconfirmed record; the client proves
 * it got the answer with SETCLIENTID_CONFIRM.  A second SETCLIENTID with
 * the same id string is, by the RFC:
 *  - from another principal while the first one's lease runs:
 *    NFS4ERR_CLID_INUSE (with the first one's callback address);
 *  - from the same principal with the same verifier: a callback update,
 *    keeping the clientid;
 *  - from the same principal with another verifier: the client rebooted;
 *    at confirmation the old clientid and all its state are dropped.
 * For AUTH_SYS the principal is (flavor, uid, machine name).  So two
 * libnfs contexts of one process opened in the same second, which share
 * the name "Libnfs pid:PID TIME" but not the verifier, look like one
 * client rebooting: the later one wins and the earlier one loses its open
 * and lock state (its next stateful request gets NFS4ERR_BAD_STATEID or
 * STALE_CLIENTID; lookups and attributes go on working).  That is what
 * the RFC prescribes; such clients must set distinct names
 * (nfs4_set_client_name), as our tests do (tests/integration/nfs_api.c
 * "samename" checks exactly this case).
 *
 * A client whose lease ran out loses its state; one that holds no state
 * is kept (an hour at most), so a client that does not renew while idle
 * goes on working.
 *
 * A clientid is (boot id << 32 | counter) and a stateid's "other" is
 * (boot id, 64-bit id), so those of an earlier gateway instance are
 * recognized: STALE_CLIENTID / STALE_STATEID.  Everything here is guarded
 * by st->mu; the core calls made while holding it (releasing opens and
 * locks of dropped state) are short transactions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "nfs4_state.h"

#define NBUCKETS 4096
/* Client records (confirmed or not) the server keeps at most: past that,
 * SETCLIENTID answers NFS4ERR_RESOURCE until leases run out.  A mount
 * uses one. */
#define MAX_CLIENTS 65536
/* Stateids and clientids of expired clients remembered for EXPIRED. */
#define GONE_STIDS   16384
#define GONE_CLIENTS 1024

static uint32_t hash_bytes(uint64_t seed, const char *p, u_int n)
{
    uint64_t h = seed * 0x9E3779B97F4A7C15ull + 1469598103934665603ull;
    for (u_int i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return (uint32_t)(h ^ (h >> 29)) % NBUCKETS;
}

static uint32_t hash_u64(uint64_t v)
{
    v ^= v >> 33;
    v *= 0xff51afd7ed558ccdull;
    v ^= v >> 33;
    return (uint32_t)(v % NBUCKETS);
}

static void state_free_tables(struct nfs4_state *st)
{
    free(st->stids);
    free(st->owners);
    free(st->owner_ids);
    free(st->files);
    free(st->clients_id);
    free(st->clients_name);
    free(st->gone_stids);
    free(st->gone_clients);
    free(st);
}

int nfs4_state_create(struct nfs4_server *s)
{
    struct nfs4_state *st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->srv = s;
    st->stids = calloc(NBUCKETS, sizeof(*st->stids));
    st->owners = calloc(NBUCKETS, sizeof(*st->owners));
    st->owner_ids = calloc(NBUCKETS, sizeof(*st->owner_ids));
    st->files = calloc(NBUCKETS, sizeof(*st->files));
    st->clients_id = calloc(NBUCKETS, sizeof(*st->clients_id));
    st->clients_name = calloc(NBUCKETS, sizeof(*st->clients_name));
    st->gone_stids = calloc(GONE_STIDS, sizeof(*st->gone_stids));
    st->gone_clients = calloc(GONE_CLIENTS, sizeof(*st->gone_clients));
    if (!st->stids || !st->owners || !st->owner_ids || !st->files ||
        !st->clients_id || !st->clients_name || !st->gone_stids ||
        !st->gone_clients) {
        state_free_tables(st);
        return -ENOMEM;
    }
    pthread_mutex_init(&st->mu, NULL);
    st->next_stid = 1;
    s->state = st;
    return 0;
}

static void client_free(struct nfs4_state *st, struct nfs4_client *cl);

void nfs4_state_destroy(struct nfs4_server *s)
{
    struct nfs4_state *st = s->state;
    pthread_mutex_lock(&st->mu);
    for (unsigned b = 0; b < NBUCKETS; b++)
        while (st->clients_id[b])
            client_free(st, st->clients_id[b]);
    pthread_mutex_unlock(&st->mu);
    pthread_mutex_destroy(&st->mu);
    state_free_tables(st);
    s->state = NULL;
}

/* ---- files ---- */

struct nfs4_file *nfs4_file_get(struct nfs4_state *st, uint64_t ino,
                                uint64_t vol, int create)
{
    uint32_t b = hash_u64(ino);
    for (struct nfs4_file *f = st->files[b]; f; f = f->hnext)
        if (f->ino == ino)
            return f;
    if (!create)
        return NULL;
    struct nfs4_file *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->ino = ino;
    f->vol = vol;
    f->hnext = st->files[b];
    st->files[b] = f;
    return f;
}

void nfs4_file_put(struct nfs4_state *st, struct nfs4_file *f)
{
    if (f->stids)
        return;
    struct nfs4_file **pp = &st->files[hash_u64(f->ino)];
    while (*pp != f)
        pp = &(*pp)->hnext;
    *pp = f->hnext;
    free(f);
}

/* ---- stateids ---- */

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

void nfs4_stid_wire(const struct nfs4_state *st, const struct nfs4_stid *sd,
                    stateid4 *out)
{
    unsigned char *o = (unsigned char *)out->other;
    out->seqid = sd->seqid;
    put32(o, st->srv->boot_id);
    put32(o + 4, (uint32_t)(sd->id >> 32));
    put32(o + 8, (uint32_t)sd->id);
}

static int all_bytes(const stateid4 *sid, unsigned char v, uint32_t seqid)
{
    if (sid->seqid != seqid)
        return 0;
    for (int i = 0; i < NFS4_OTHER_SIZE; i++)
        if ((unsigned char)sid->other[i] != v)
            return 0;
    return 1;
}

int nfs4_stateid_anon(const stateid4 *sid)
{
    return all_bytes(sid, 0, 0);
}

int nfs4_stateid_bypass(const stateid4 *sid)
{
    return all_bytes(sid, 0xff, UINT32_MAX);
}

struct nfs4_stid *nfs4_stid_new(struct nfs4_state *st, struct nfs4_owner *ow,
                                struct nfs4_file *f, int is_lock)
{
    struct nfs4_stid *sd = calloc(1, sizeof(*sd));
    if (!sd)
        return NULL;
    /* A counter for uniqueness, random bits so that no client can guess
     * another's stateid (RFC 7530 9.1.4: the server should make them
     * hard to forge). */
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
        rnd = hash_u64(st->next_stid ^ (uint64_t)(uintptr_t)sd);
    sd->id = st->next_stid++ << 32 | rnd;
    sd->seqid = 1;
    sd->is_lock = is_lock;
    sd->owner = ow;
    sd->file = f;
    uint32_t b = hash_u64(sd->id);
    sd->hnext = st->stids[b];
    st->stids[b] = sd;
    sd->onext = ow->stids;
    ow->stids = sd;
    ow->idle_since = 0;
    sd->fnext = f->stids;
    f->stids = sd;
    return sd;
}

static void unlink_stid(struct nfs4_state *st, struct nfs4_stid *sd)
{
    struct nfs4_stid **pp = &st->stids[hash_u64(sd->id)];
    while (*pp != sd)
        pp = &(*pp)->hnext;
    *pp = sd->hnext;
    for (pp = &sd->owner->stids; *pp != sd; pp = &(*pp)->onext)
        ;
    *pp = sd->onext;
    for (pp = &sd->file->stids; *pp != sd; pp = &(*pp)->fnext)
        ;
    *pp = sd->fnext;
}

void nfs4_stid_free(struct nfs4_state *st, struct nfs4_stid *sd)
{
    struct nfs4_file *f = sd->file;
    struct nfs4_owner *ow = sd->owner;
    if (!sd->is_lock) {
        /* Lock stateids born of this open go with it. */
        struct nfs4_stid *l = f->stids;
        while (l) {
            struct nfs4_stid *next = l->fnext;
            if (l->is_lock && l->open == sd) {
                nfs4_stid_free(st, l);
                next = f->stids;        /* the list changed: rescan */
            }
            l = next;
        }
    }
    unlink_stid(st, sd);
    if (sd->is_lock) {
        nfs4_lock_stid_release(st->srv, sd);
    } else if (sd->session) {
        int rc = meta_release(st->srv->meta, f->ino, sd->session);
        if (rc < 0 && rc != -ESTALE && rc != -ENOENT)
            log_warn("nfs4: releasing inode %llu: %d",
                     (unsigned long long)f->ino, rc);
    }
    if (!ow->stids)
        ow->idle_since = nfs4_now();
    free(sd);
    nfs4_file_put(st, f);
}

/* ---- what expired clients leave behind ---- */

static int in_ring(const uint64_t *ring, unsigned n, uint64_t v)
{
    for (unsigned i = 0; i < n; i++)
        if (ring[i] == v)
            return 1;
    return 0;
}

static void ring_add(uint64_t *ring, unsigned n, unsigned *next, uint64_t v)
{
    ring[*next] = v;
    *next = (*next + 1) % n;
}

/* Drops cl and its state, remembering its stateids and, when its lease
 * ran out (not when the client rebooted: that clientid is simply not
 * known), its clientid: their later use answers EXPIRED (RFC 7530
 * 9.6.3). */
static void client_expire(struct nfs4_state *st, struct nfs4_client *cl,
                          int lease_over)
{
    if (lease_over)
        ring_add(st->gone_clients, GONE_CLIENTS, &st->gone_client_next,
                 cl->clientid);
    for (struct nfs4_owner *ow = cl->owners; ow; ow = ow->cnext)
        for (struct nfs4_stid *sd = ow->stids; sd; sd = sd->onext)
            ring_add(st->gone_stids, GONE_STIDS, &st->gone_stid_next, sd->id);
    client_free(st, cl);
}

nfsstat4 nfs4_stid_lookup(struct nfs4_state *st, const stateid4 *sid,
                          struct nfs4_stid **out)
{
    const unsigned char *o = (const unsigned char *)sid->other;
    /* A special stateid where an open or lock one is needed never came
     * from an earlier instance (RFC 7530 9.1.4.3). */
    if (all_bytes(sid, 0, sid->seqid) || all_bytes(sid, 0xff, sid->seqid))
        return NFS4ERR_BAD_STATEID;
    if (get32(o) != st->srv->boot_id)
        return NFS4ERR_STALE_STATEID;
    uint64_t id = (uint64_t)get32(o + 4) << 32 | get32(o + 8);
    struct nfs4_stid *sd = st->stids[hash_u64(id)];
    while (sd && sd->id != id)
        sd = sd->hnext;
    if (!sd)
        return in_ring(st->gone_stids, GONE_STIDS, id) ? NFS4ERR_EXPIRED
                                                       : NFS4ERR_BAD_STATEID;
    sd->owner->cl->renewed = nfs4_now();
    *out = sd;
    return NFS4_OK;
}

struct nfs4_owner *nfs4_owner_closed(struct nfs4_state *st,
                                     const stateid4 *sid)
{
    const unsigned char *o = (const unsigned char *)sid->other;
    if (get32(o) != st->srv->boot_id)
        return NULL;
    uint64_t id = (uint64_t)get32(o + 4) << 32 | get32(o + 8);
    if (id == 0)
        return NULL;                    /* 0: no CLOSE yet */
    for (struct nfs4_owner *ow = st->owner_ids[hash_u64(id)]; ow;
         ow = ow->inext)
        if (!ow->is_lock && ow->ikey == id)
            return ow;
    return NULL;
}

static void owner_unkey(struct nfs4_state *st, struct nfs4_owner *ow)
{
    if (!ow->ikey)
        return;
    struct nfs4_owner **pp = &st->owner_ids[hash_u64(ow->ikey)];
    while (*pp != ow)
        pp = &(*pp)->inext;
    *pp = ow->inext;
    ow->ikey = 0;
}

static void owner_key(struct nfs4_state *st, struct nfs4_owner *ow,
                      uint64_t key)
{
    owner_unkey(st, ow);
    if (!key)
        return;
    uint32_t b = hash_u64(key);
    ow->ikey = key;
    ow->inext = st->owner_ids[b];
    st->owner_ids[b] = ow;
}

void nfs4_owner_set_closed(struct nfs4_state *st, struct nfs4_owner *ow,
                           uint64_t id)
{
    owner_key(st, ow, id);
}

struct nfs4_owner *nfs4_owner_by_lockid(struct nfs4_state *st, uint64_t id)
{
    for (struct nfs4_owner *ow = st->owner_ids[hash_u64(id)]; ow;
         ow = ow->inext)
        if (ow->is_lock && ow->ikey == id)
            return ow;
    return NULL;
}

nfsstat4 nfs4_stid_seqid(const struct nfs4_stid *sd, const stateid4 *sid)
{
    if (sid->seqid > sd->seqid)
        return NFS4ERR_BAD_STATEID;
    if (sid->seqid < sd->seqid)
        return NFS4ERR_OLD_STATEID;
    return NFS4_OK;
}

nfsstat4 nfs4_stid_find(struct nfs4_state *st, const stateid4 *sid,
                        struct nfs4_stid **out)
{
    struct nfs4_stid *sd;
    nfsstat4 ret = nfs4_stid_lookup(st, sid, &sd);
    if (ret == NFS4_OK)
        ret = nfs4_stid_seqid(sd, sid);
    if (ret == NFS4_OK)
        *out = sd;
    return ret;
}

/* Whether another owner's open of f denies access. */
static int denied_by_others(const struct nfs4_file *f,
                            const struct nfs4_owner *ow, uint32_t access)
{
    for (const struct nfs4_stid *sd = f ? f->stids : NULL; sd; sd = sd->fnext)
        if (!sd->is_lock && sd->owner != ow && (sd->deny & access))
            return 1;
    return 0;
}

nfsstat4 nfs4_stid_check_io(struct nfs4_state *st, const stateid4 *sid,
                            uint64_t ino, uint32_t access, uint32_t uid,
                            int *check_perm)
{
    nfsstat4 ret = NFS4_OK;
    *check_perm = 0;
    pthread_mutex_lock(&st->mu);
    if (nfs4_stateid_anon(sid) || nfs4_stateid_bypass(sid)) {
        /* No open of ours: respect the deny reservations of others.  The
         * all-ones stateid may read past a deny-read (RFC 7530 9.1.4.3). */
        uint32_t deny = access;
        if (nfs4_stateid_bypass(sid))
            deny &= ~(uint32_t)OPEN4_SHARE_ACCESS_READ;
        if (denied_by_others(nfs4_file_get(st, ino, 0, 0), NULL, deny))
            ret = NFS4ERR_LOCKED;
        *check_perm = 1;
        pthread_mutex_unlock(&st->mu);
        return ret;
    }
    struct nfs4_stid *sd;
    ret = nfs4_stid_find(st, sid, &sd);
    if (ret == NFS4_OK) {
        struct nfs4_stid *open = sd->is_lock ? sd->open : sd;
        if (sd->file->ino != ino || !open->owner->confirmed) {
            ret = NFS4ERR_BAD_STATEID;
        } else if ((access & OPEN4_SHARE_ACCESS_WRITE) &&
                   !(open->access & OPEN4_SHARE_ACCESS_WRITE)) {
            /* Written through a read-only open: allowed as an anonymous
             * write would be (permission checked, others' deny-write
             * respected), for libnfs 4.0.0's sake. */
            if (denied_by_others(sd->file, open->owner, access))
                ret = NFS4ERR_OPENMODE;
            *check_perm = 1;
        }
        /* READ is allowed on any open (clients read to fill pages of
         * write-only files, as Linux's server allows too), with the
         * permission checked when the open did not. */
        if (!(open->access & access) || open->uid != uid)
            *check_perm = 1;
    }
    pthread_mutex_unlock(&st->mu);
    return ret;
}

/* ---- owners ---- */

uint64_t nfs4_lock_owner_id(const struct nfs4_client *cl, const char *name,
                            u_int len)
{
    uint64_t h = 1469598103934665603ull;
    for (u_int i = 0; i < cl->idlen; i++)
        h = (h ^ (unsigned char)cl->id[i]) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (u_int i = 0; i < len; i++)
        h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
    return h ? h : 1;
}

static uint32_t owner_hash(int is_lock, clientid4 cid, const char *name,
                           u_int len)
{
    return hash_bytes(cid * 2 + (uint64_t)is_lock, name, len);
}

struct nfs4_owner *nfs4_owner_find(struct nfs4_state *st, int is_lock,
                                   clientid4 clientid, const char *name,
                                   u_int namelen)
{
    uint32_t b = owner_hash(is_lock, clientid, name, namelen);
    for (struct nfs4_owner *ow = st->owners[b]; ow; ow = ow->hnext)
        if (ow->is_lock == is_lock && ow->cl->clientid == clientid &&
            ow->cl->confirmed && ow->namelen == namelen &&
            memcmp(ow->name, name, namelen) == 0)
            return ow;
    return NULL;
}

struct nfs4_owner *nfs4_owner_new(struct nfs4_state *st,
                                  struct nfs4_client *cl, int is_lock,
                                  const char *name, u_int namelen)
{
    struct nfs4_owner *ow = calloc(1, sizeof(*ow));
    if (!ow)
        return NULL;
    ow->name = malloc(namelen ? namelen : 1);
    if (!ow->name) {
        free(ow);
        return NULL;
    }
    memcpy(ow->name, name, namelen);
    ow->namelen = namelen;
    ow->cl = cl;
    ow->is_lock = is_lock;
    ow->confirmed = is_lock;            /* lock-owners need no confirming */
    ow->idle_since = nfs4_now();
    uint32_t b = owner_hash(is_lock, cl->clientid, name, namelen);
    ow->hnext = st->owners[b];
    st->owners[b] = ow;
    ow->cnext = cl->owners;
    cl->owners = ow;
    if (is_lock) {
        ow->id = nfs4_lock_owner_id(cl, name, namelen);
        owner_key(st, ow, ow->id);
    }
    return ow;
}

void nfs4_owner_free(struct nfs4_state *st, struct nfs4_owner *ow)
{
    while (ow->stids)
        nfs4_stid_free(st, ow->stids);
    struct nfs4_owner **pp =
        &st->owners[owner_hash(ow->is_lock, ow->cl->clientid, ow->name,
                               ow->namelen)];
    while (*pp != ow)
        pp = &(*pp)->hnext;
    *pp = ow->hnext;
    owner_unkey(st, ow);
    for (pp = &ow->cl->owners; *pp != ow; pp = &(*pp)->cnext)
        ;
    *pp = ow->cnext;
    free(ow->name);
    free(ow->reply);
    free(ow);
}

/* ---- seqids and replay ---- */

/* A hash of an operation's XDR encoding: tells a retransmission from
 * another request with the same seqid. */
static uint64_t req_hash(const nfs_argop4 *a)
{
    uint64_t h = 1469598103934665603ull;
    if (!a)
        return h;
    u_long n = xdr_sizeof((xdrproc_t)xdr_nfs_argop4, (void *)a);
    char *buf = n ? malloc(n) : NULL;
    if (!buf)
        return h;
    XDR x;
    xdrmem_create(&x, buf, (u_int)n, XDR_ENCODE);
    if (xdr_nfs_argop4(&x, (nfs_argop4 *)a))
        for (u_int i = 0; i < xdr_getpos(&x); i++)
            h = (h ^ (unsigned char)buf[i]) * 1099511628211ull;
    xdr_destroy(&x);
    free(buf);
    return h;
}

enum nfs4_seq nfs4_seq_check(const struct nfs4_owner *ow, seqid4 seqid,
                             const struct nfs4_cctx *c)
{
    if (!ow->has_seqid || seqid == ow->seqid + 1)
        return NFS4_SEQ_NEW;
    if (seqid == ow->seqid && ow->reply)
        return req_hash(c->arg) == ow->req_hash ? NFS4_SEQ_REPLAY
                                                : NFS4_SEQ_NEW;
    return NFS4_SEQ_BAD;
}

int nfs4_seq_advances(nfsstat4 st)
{
    switch (st) {
    case NFS4ERR_STALE_CLIENTID:
    case NFS4ERR_STALE_STATEID:
    case NFS4ERR_BAD_STATEID:
    case NFS4ERR_BAD_SEQID:
    case NFS4ERR_BADXDR:
    case NFS4ERR_RESOURCE:
    case NFS4ERR_NOFILEHANDLE:
    case NFS4ERR_MOVED:
        return 0;
    default:
        return 1;
    }
}

void nfs4_seq_record(struct nfs4_owner *ow, seqid4 seqid,
                     const nfs_resop4 *r, const struct nfs4_cctx *c)
{
    ow->seqid = seqid;
    ow->has_seqid = 1;
    ow->req_hash = req_hash(c->arg);
    free(ow->reply);
    ow->reply = NULL;
    ow->replylen = 0;
    u_long n = xdr_sizeof((xdrproc_t)xdr_nfs_resop4, (void *)r);
    char *buf = n ? malloc(n) : NULL;
    if (buf) {
        XDR x;
        xdrmem_create(&x, buf, (u_int)n, XDR_ENCODE);
        if (xdr_nfs_resop4(&x, (nfs_resop4 *)r)) {
            ow->reply = buf;
            ow->replylen = xdr_getpos(&x);
            buf = NULL;
        }
        xdr_destroy(&x);
        free(buf);
    }
    /* Without a cached reply a retransmission gets BAD_SEQID: still
     * correct, merely less kind. */
    ow->reply_has_fh = c->has_cur;
    if (c->has_cur)
        ow->reply_fh = c->cur;
}

nfsstat4 nfs4_seq_replay(struct nfs4_owner *ow, nfs_resop4 *r,
                         struct nfs4_cctx *c)
{
    XDR x;
    nfs_opnum4 op = r->resop;
    memset(r, 0, sizeof(*r));
    xdrmem_create(&x, ow->reply, ow->replylen, XDR_DECODE);
    bool_t ok = xdr_nfs_resop4(&x, r);
    xdr_destroy(&x);
    if (!ok || r->resop != op) {
        xdr_free((xdrproc_t)xdr_nfs_resop4, (char *)r);
        memset(r, 0, sizeof(*r));
        r->resop = op;
        return NFS4ERR_BAD_SEQID;       /* another op with this seqid */
    }
    if (ow->reply_has_fh)
        nfs4_set_cur(c, &ow->reply_fh, NULL);
    return *nfs4_res_status(r);
}

/* ---- clients ---- */

static void client_add(struct nfs4_state *st, struct nfs4_client *cl)
{
    uint32_t b = hash_u64(cl->clientid);
    cl->idnext = st->clients_id[b];
    st->clients_id[b] = cl;
    b = hash_bytes(0, cl->id, cl->idlen);
    cl->namenext = st->clients_name[b];
    st->clients_name[b] = cl;
    st->nclients++;
}

static void client_free(struct nfs4_state *st, struct nfs4_client *cl)
{
    while (cl->owners)
        nfs4_owner_free(st, cl->owners);
    struct nfs4_client **pp = &st->clients_id[hash_u64(cl->clientid)];
    while (*pp != cl)
        pp = &(*pp)->idnext;
    *pp = cl->idnext;
    pp = &st->clients_name[hash_bytes(0, cl->id, cl->idlen)];
    while (*pp != cl)
        pp = &(*pp)->namenext;
    *pp = cl->namenext;
    st->nclients--;
    free(cl->id);
    free(cl);
}

static struct nfs4_client *client_by_name(struct nfs4_state *st,
                                          const char *id, u_int len,
                                          int confirmed)
{
    for (struct nfs4_client *cl = st->clients_name[hash_bytes(0, id, len)];
         cl; cl = cl->namenext)
        if (cl->confirmed == confirmed && cl->idlen == len &&
            memcmp(cl->id, id, len) == 0)
            return cl;
    return NULL;
}

static struct nfs4_client *client_by_id(struct nfs4_state *st, clientid4 id,
                                        int confirmed)
{
    for (struct nfs4_client *cl = st->clients_id[hash_u64(id)]; cl;
         cl = cl->idnext)
        if (cl->confirmed == confirmed && cl->clientid == id)
            return cl;
    return NULL;
}

nfsstat4 nfs4_client_get(struct nfs4_state *st, clientid4 id,
                         struct nfs4_client **out)
{
    struct nfs4_client *cl = client_by_id(st, id, 1);
    if (!cl)
        return id && in_ring(st->gone_clients, GONE_CLIENTS, id)
                   ? NFS4ERR_EXPIRED : NFS4ERR_STALE_CLIENTID;
    /* A lease that ran out but whose state the reaper has not dropped yet
     * is simply renewed: nothing conflicting was granted meanwhile. */
    cl->renewed = nfs4_now();
    *out = cl;
    return NFS4_OK;
}

/* Whether cl holds opens or locks. */
static int client_has_state(const struct nfs4_client *cl)
{
    for (const struct nfs4_owner *ow = cl->owners; ow; ow = ow->cnext)
        if (ow->stids)
            return 1;
    return 0;
}

static void principal_of(const struct nfs4_cctx *c, struct nfs4_principal *p)
{
    memset(p, 0, sizeof(*p));
    p->flavor = c->req->auth_flavor;
    p->uid = c->req->cred.uid;
    if (p->flavor == AUTH_SYS)
        memcpy(p->machine, c->req->machine, sizeof(p->machine) - 1);
}

static int principal_eq(const struct nfs4_principal *a,
                        const struct nfs4_principal *b)
{
    return a->flavor == b->flavor && a->uid == b->uid &&
           strcmp(a->machine, b->machine) == 0;
}

static void new_confirm(struct nfs4_state *st, verifier4 v)
{
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
        rnd = (uint32_t)nfs4_now();
    uint32_t n = ++st->next_confirm;
    memcpy(v, &n, 4);
    memcpy(v + 4, &rnd, 4);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

nfsstat4 nfs4_op_setclientid(struct nfs4_cctx *c, nfs_argop4 *a,
                             nfs_resop4 *r)
{
    SETCLIENTID4args *args = &a->nfs_argop4_u.opsetclientid;
    SETCLIENTID4res *res = &r->nfs_resop4_u.opsetclientid;
    struct nfs4_state *st = c->srv->state;
    const char *id = args->client.id.id_val;
    u_int idlen = args->client.id.id_len;
    struct nfs4_principal pr;
    principal_of(c, &pr);

    pthread_mutex_lock(&st->mu);
    struct nfs4_client *conf = client_by_name(st, id, idlen, 1);
    if (conf && !principal_eq(&conf->princ, &pr)) {
        /* Another principal's client with the id: refused while it holds
         * state under a running lease (RFC 7530 16.33.5), as Linux does;
         * else it is taken over. */
        if (conf->renewed + (int64_t)c->srv->lease_secs > nfs4_now() &&
            client_has_state(conf)) {
            clientaddr4 *u = &res->SETCLIENTID4res_u.client_using;
            u->na_r_netid = strdup(conf->netid);
            u->na_r_addr = strdup(conf->addr);
            pthread_mutex_unlock(&st->mu);
            if (!u->na_r_netid || !u->na_r_addr) {
                free(u->na_r_netid);
                free(u->na_r_addr);
                memset(u, 0, sizeof(*u));
                return NFS4ERR_RESOURCE;
            }
            return NFS4ERR_CLID_INUSE;
        }
        client_expire(st, conf, 1);     /* its lease is over */
        conf = NULL;
    }
    struct nfs4_client *unconf = client_by_name(st, id, idlen, 0);
    if (unconf)
        client_free(st, unconf);
    if (st->nclients >= MAX_CLIENTS) {
        int64_t now = nfs4_now();
        if (now - st->full_warned >= 10) {
            st->full_warned = now;
            log_warn("nfs4: %u client records; refusing SETCLIENTID until "
                     "leases run out", st->nclients);
        }
        pthread_mutex_unlock(&st->mu);
        return NFS4ERR_RESOURCE;
    }

    struct nfs4_client *cl = calloc(1, sizeof(*cl));
    char *idcopy = malloc(idlen ? idlen : 1);
    if (!cl || !idcopy) {
        pthread_mutex_unlock(&st->mu);
        free(cl);
        free(idcopy);
        return NFS4ERR_RESOURCE;
    }
    memcpy(idcopy, id, idlen);
    cl->id = idcopy;
    cl->idlen = idlen;
    memcpy(cl->verf, args->client.verifier, sizeof(cl->verf));
    cl->princ = pr;
    copy_str(cl->netid, sizeof(cl->netid),
             args->callback.cb_location.na_r_netid);
    copy_str(cl->addr, sizeof(cl->addr), args->callback.cb_location.na_r_addr);
    if (conf && memcmp(conf->verf, cl->verf, sizeof(cl->verf)) == 0)
        cl->clientid = conf->clientid;  /* a callback update */
    else
        cl->clientid = (uint64_t)c->srv->boot_id << 32 | ++st->next_client;
    new_confirm(st, cl->confirm);
    cl->renewed = nfs4_now();
    client_add(st, cl);

    SETCLIENTID4resok *ok = &res->SETCLIENTID4res_u.resok4;
    ok->clientid = cl->clientid;
    memcpy(ok->setclientid_confirm, cl->confirm, sizeof(cl->confirm));
    pthread_mutex_unlock(&st->mu);
    return NFS4_OK;
}

nfsstat4 nfs4_op_setclientid_confirm(struct nfs4_cctx *c, nfs_argop4 *a,
                                     nfs_resop4 *r)
{
    SETCLIENTID_CONFIRM4args *args = &a->nfs_argop4_u.opsetclientid_confirm;
    struct nfs4_state *st = c->srv->state;
    struct nfs4_principal pr;
    principal_of(c, &pr);
    nfsstat4 ret = NFS4_OK;

    pthread_mutex_lock(&st->mu);
    struct nfs4_client *unconf = client_by_id(st, args->clientid, 0);
    struct nfs4_client *conf = client_by_id(st, args->clientid, 1);
    if (unconf && memcmp(unconf->confirm, args->setclientid_confirm,
                         sizeof(verifier4)) == 0) {
        if (!principal_eq(&unconf->princ, &pr)) {
            ret = NFS4ERR_CLID_INUSE;
        } else if (conf) {
            /* Callback update: the confirmed record takes the new address. */
            memcpy(conf->netid, unconf->netid, sizeof(conf->netid));
            memcpy(conf->addr, unconf->addr, sizeof(conf->addr));
            memcpy(conf->confirm, unconf->confirm, sizeof(conf->confirm));
            conf->renewed = nfs4_now();
            client_free(st, unconf);
        } else {
            /* A new client, or a rebooted one: its old self goes. */
            struct nfs4_client *old =
                client_by_name(st, unconf->id, unconf->idlen, 1);
            if (old) {
                log_info("nfs4: client id %.*s restarted; dropping the "
                         "state of clientid %llx", (int)old->idlen, old->id,
                         (unsigned long long)old->clientid);
                client_expire(st, old, 0);
            }
            unconf->confirmed = 1;
            unconf->renewed = nfs4_now();
        }
    } else if (conf && memcmp(conf->confirm, args->setclientid_confirm,
                              sizeof(verifier4)) == 0) {
        /* A retransmission of a confirmation already done. */
        ret = principal_eq(&conf->princ, &pr) ? NFS4_OK : NFS4ERR_CLID_INUSE;
        if (ret == NFS4_OK)
            conf->renewed = nfs4_now();
    } else {
        ret = NFS4ERR_STALE_CLIENTID;
    }
    pthread_mutex_unlock(&st->mu);
    return ret;
}

nfsstat4 nfs4_op_renew(struct nfs4_cctx *c, nfs_argop4 *a, nfs_resop4 *r)
{
    struct nfs4_state *st = c->srv->state;
    struct nfs4_client *cl;
    pthread_mutex_lock(&st->mu);
    nfsstat4 ret = nfs4_client_get(st, a->nfs_argop4_u.oprenew.clientid, &cl);
    pthread_mutex_unlock(&st->mu);
    return ret;
}

/* ---- the reaper ---- */

/* A client whose lease ran out but who holds no opens or locks loses
 * nothing by being kept, and a client that does not renew while idle
 * (libnfs's synchronous API never does) keeps working; such records go
 * after an hour. */
#define IDLE_CLIENT_SECS 3600


/* Drops cl if its lease ran out and it holds state (or long idle), else
 * its owners without state a lease after their last use. */
static void reap_client(struct nfs4_state *st, struct nfs4_client *cl,
                        int64_t lease, int64_t now)
{
    if (cl->renewed + lease < now &&
        (!cl->confirmed || client_has_state(cl) ||
         cl->renewed + IDLE_CLIENT_SECS < now)) {
        if (!cl->confirmed) {
            client_free(st, cl);
            return;
        }
        log_info("nfs4: lease of client %.*s expired; dropping its state",
                 (int)cl->idlen, cl->id);
        client_expire(st, cl, 1);
        return;
    }
    /* Owners without state are kept a lease long, for the replay of their
     * last seqid operation (a CLOSE, a LOCK refused); then they go, or a
     * client that keeps renewing could pile up lock-owners of refused
     * LOCKs without end. */
    struct nfs4_owner *ow = cl->owners;
    while (ow) {
        struct nfs4_owner *onext = ow->cnext;
        if (!ow->stids && ow->idle_since && ow->idle_since + lease < now)
            nfs4_owner_free(st, ow);
        ow = onext;
    }
}

void nfs4_state_reap(struct nfs4_server *s, int64_t now)
{
    struct nfs4_state *st = s->state;
    int64_t lease = s->lease_secs;
    pthread_mutex_lock(&st->mu);
    for (unsigned b = 0; b < NBUCKETS; b++) {
        struct nfs4_client *cl = st->clients_id[b];
        while (cl) {
            struct nfs4_client *next = cl->idnext;
            reap_client(st, cl, lease, now);
            cl = next;
        }
    }
    pthread_mutex_unlock(&st->mu);
}
