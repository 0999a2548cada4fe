/* nfs4_state.h - NFSv4.0 state: client IDs (SETCLIENTID and its
 * confirmation), leases, open-owners and lock-owners with their sequence
 * ids and the reply to replay, open and lock stateids, and share
 * reservations.  All of it lives in memory behind one mutex; the locks
 * themselves are the core's.  The OPEN/CLOSE/LOCK handlers (nfs4_io.c,
 * nfs4_lock.c) work on these structures with the mutex held. */
#ifndef FLEXFS_NFS4_STATE_H
#define FLEXFS_NFS4_STATE_H

#include <pthread.h>
#include <stdint.h>

#include "nfs4_int.h"

/* Who sent a SETCLIENTID (for AUTH_SYS: flavor, uid and machine name). */
struct nfs4_principal {
    int flavor;
    uint32_t uid;
    char machine[256];
};

struct nfs4_client;
struct nfs4_owner;
struct nfs4_stid;

/* A file with state: its open and lock stateids. */
struct nfs4_file {
    struct nfs4_file *hnext;
    uint64_t ino, vol;
    struct nfs4_stid *stids;            /* via fnext */
};

struct nfs4_client {
    struct nfs4_client *idnext;         /* hash by clientid */
    struct nfs4_client *namenext;       /* hash by id string */
    clientid4 clientid;
    verifier4 verf;                     /* the client's boot verifier */
    verifier4 confirm;                  /* ours, for SETCLIENTID_CONFIRM */
    char *id;
    u_int idlen;
    struct nfs4_principal princ;
    char netid[32], addr[128];          /* callback address, for CLID_INUSE */
    int confirmed;
    int64_t renewed;                    /* monotonic seconds */
    struct nfs4_owner *owners;          /* via cnext */
};

/* An open-owner or a lock-owner. */
struct nfs4_owner {
    struct nfs4_owner *cnext;           /* in its client */
    struct nfs4_owner *hnext;           /* hash by (clientid, name) */
    struct nfs4_owner *inext;           /* hash by ikey */
    uint64_t ikey;                      /* lock-owners: id; open-owners:
                                           the stateid its last CLOSE freed
                                           (a resent CLOSE names it); 0:
                                           not hashed */
    struct nfs4_client *cl;
    int is_lock;
    char *name;
    u_int namelen;
    uint64_t id;                        /* lock-owners: the core's owner id */
    int confirmed;                      /* open-owners: OPEN_CONFIRM done */
    int has_seqid;                      /* a seqid op was done */
    seqid4 seqid;                       /* the last one */
    /* The reply to the last seqid op, XDR-encoded, and the current
     * filehandle it left, for a retransmission. */
    char *reply;
    u_int replylen;
    struct nfs4_fh reply_fh;
    int reply_has_fh;
    uint64_t req_hash;                  /* of the request answered */
    int64_t idle_since;                 /* 0 while it has stateids */
    struct nfs4_stid *stids;            /* via onext */
};

/* An open or lock stateid. */
struct nfs4_stid {
    struct nfs4_stid *hnext;            /* hash by id */
    struct nfs4_stid *onext;            /* in its owner */
    struct nfs4_stid *fnext;            /* in its file */
    uint64_t id;
    seqid4 seqid;
    int is_lock;
    struct nfs4_owner *owner;
    struct nfs4_file *file;
    uint32_t access, deny;              /* open: share reservation */
    uint8_t access_seen, deny_seen;     /* open: bit 1 << v for each access
                                           and deny value v an OPEN asked
                                           (what OPEN_DOWNGRADE may ask) */
    uint32_t uid;                       /* open: whose OPEN checked access */
    struct nfs4_stid *open;             /* lock: the open it came from */
    uint64_t session;                   /* open: the core session counted */
};

struct nfs4_state {
    pthread_mutex_t mu;                 /* guards everything here */
    struct nfs4_server *srv;
    struct nfs4_client **clients_id;    /* hash buckets */
    struct nfs4_client **clients_name;
    unsigned nclients;
    int64_t full_warned;                /* rate limit of the warning */
    uint32_t next_client, next_confirm;
    uint64_t next_stid;
    struct nfs4_stid **stids;           /* hash buckets */
    struct nfs4_owner **owners;
    struct nfs4_owner **owner_ids;      /* by ikey */
    /* Clientids and stateids of clients whose state was dropped (lease
     * expiry, a reboot), so that their use answers EXPIRED rather than
     * STALE or BAD; the last few thousand, in rings. */
    uint64_t *gone_stids, *gone_clients;
    unsigned gone_stid_next, gone_client_next;
    struct nfs4_file **files;
};

int nfs4_state_create(struct nfs4_server *s);
void nfs4_state_destroy(struct nfs4_server *s);
/* Drops the state of clients whose lease ran out and owners long idle. */
void nfs4_state_reap(struct nfs4_server *s, int64_t now);

/* ---- for the handlers, with st->mu held ---- */
/* A confirmed client by id: NFS4_OK, STALE_CLIENTID or EXPIRED.  Renews
 * its lease. */
nfsstat4 nfs4_client_get(struct nfs4_state *st, clientid4 id,
                         struct nfs4_client **out);
struct nfs4_owner *nfs4_owner_find(struct nfs4_state *st, int is_lock,
                                   clientid4 clientid, const char *name,
                                   u_int namelen);
struct nfs4_owner *nfs4_owner_new(struct nfs4_state *st,
                                  struct nfs4_client *cl, int is_lock,
                                  const char *name, u_int namelen);
/* The open-owner whose last CLOSE freed stateid sid, or NULL. */
struct nfs4_owner *nfs4_owner_closed(struct nfs4_state *st,
                                     const stateid4 *sid);
/* Records that ow's last CLOSE freed the stateid with id. */
void nfs4_owner_set_closed(struct nfs4_state *st, struct nfs4_owner *ow,
                           uint64_t id);
/* The core's owner id of a lock-owner: stable across restarts. */
uint64_t nfs4_lock_owner_id(const struct nfs4_client *cl, const char *name,
                            u_int len);
/* The lock-owner whose core owner id is id, or NULL. */
struct nfs4_owner *nfs4_owner_by_lockid(struct nfs4_state *st, uint64_t id);
/* Forgets an owner and its stateids (releasing their opens). */
void nfs4_owner_free(struct nfs4_state *st, struct nfs4_owner *ow);

enum nfs4_seq { NFS4_SEQ_NEW, NFS4_SEQ_REPLAY, NFS4_SEQ_BAD };
/* How a seqid-bearing request of ow (the operation c->arg) stands.  The
 * last seqid again is a retransmission only if the request is the same;
 * a different request with it is served as new: libnfs 4.0.0 reuses the
 * seqid of a request that failed. */
enum nfs4_seq nfs4_seq_check(const struct nfs4_owner *ow, seqid4 seqid,
                             const struct nfs4_cctx *c);
/* Whether an op's status advances the owner's seqid (RFC 7530 9.1.7). */
int nfs4_seq_advances(nfsstat4 st);
/* Records the outcome of a seqid op: seqid, reply and current fh. */
void nfs4_seq_record(struct nfs4_owner *ow, seqid4 seqid,
                     const nfs_resop4 *r, const struct nfs4_cctx *c);
/* Answers a retransmission from the owner's cached reply (and restores
 * the current fh it left). */
nfsstat4 nfs4_seq_replay(struct nfs4_owner *ow, nfs_resop4 *r,
                         struct nfs4_cctx *c);

struct nfs4_file *nfs4_file_get(struct nfs4_state *st, uint64_t ino,
                                uint64_t vol, int create);
/* Frees f if no stateid is left on it. */
void nfs4_file_put(struct nfs4_state *st, struct nfs4_file *f);
/* A new stateid of ow on f. */
struct nfs4_stid *nfs4_stid_new(struct nfs4_state *st, struct nfs4_owner *ow,
                                struct nfs4_file *f, int is_lock);
/* Unlinks and frees a stateid (an open's core open is released). */
void nfs4_stid_free(struct nfs4_state *st, struct nfs4_stid *sd);
void nfs4_stid_wire(const struct nfs4_state *st, const struct nfs4_stid *sd,
                    stateid4 *out);

/* Special stateids (RFC 7530 9.1.4.3). */
int nfs4_stateid_anon(const stateid4 *sid);     /* all zeros */
int nfs4_stateid_bypass(const stateid4 *sid);   /* all ones */
/* Finds the stateid a client sent: NFS4_OK, BAD_STATEID, STALE_STATEID,
 * OLD_STATEID, EXPIRED.  Renews the client's lease. */
nfsstat4 nfs4_stid_find(struct nfs4_state *st, const stateid4 *sid,
                        struct nfs4_stid **out);
/* The stateid a client sent, its seqid not yet looked at: NFS4_OK,
 * BAD_STATEID or STALE_STATEID (for seqid ops, which look at the owner's
 * seqid first so a retransmission is recognized). */
nfsstat4 nfs4_stid_lookup(struct nfs4_state *st, const stateid4 *sid,
                          struct nfs4_stid **out);
/* The stateid's seqid against the current one: OK, OLD or BAD_STATEID. */
nfsstat4 nfs4_stid_seqid(const struct nfs4_stid *sd, const stateid4 *sid);
/* Checks a stateid for I/O on ino needing access (OPEN4_SHARE_ACCESS_*)
 * by uid: special stateids are checked against deny reservations
 * (LOCKED), open and lock stateids against their open (BAD_STATEID,
 * OPENMODE).  *check_perm is set when no OPEN checked that access for
 * this caller: special stateids; an open without that access (libnfs
 * 4.0.0 writes through OPENs that asked for read only; clients read
 * through write-only opens); an open made by another uid.  Takes and
 * drops st->mu itself. */
nfsstat4 nfs4_stid_check_io(struct nfs4_state *st, const stateid4 *sid,
                            uint64_t ino, uint32_t access, uint32_t uid,
                            int *check_perm);

/* nfs4_lock.c: drops the core locks a lock stateid holds (st->mu held). */
void nfs4_lock_stid_release(struct nfs4_server *s, struct nfs4_stid *sd);

#endif
