/* credcache.c - the credentials of a FUSE request.
 *
 * FUSE tells uid, gid and the calling thread; the supplementary groups
 * come only from /proc/TID/status (fuse_req_getgroups), and reading and
 * parsing that costs about 40 us a call: negative lookups ran at 8.5k/s
 * with it and 12.5-15k/s without, and in a parallel small-file copy the
 * kernel spent a seventh of the mount's CPU rendering those files.  So
 * the groups of a (thread, uid, gid) are kept for CACHE_NS.  Changing
 * one's groups takes CAP_SETGID and nearly always comes with a change of
 * uid or gid, which is a new key; a process that changes only its groups
 * is seen with the old ones for at most that long.
 *
 * A direct-mapped table: a thread's entry is simply overwritten by
 * another that hashes to the same slot.  One mutex guards it (held for a
 * copy, never across the /proc read). */
#define FUSE_USE_VERSION 312
#include "config.h"
#include "credcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS     1024
#define CACHE_NS  1000000000LL

struct entry {
    pid_t pid;
    uid_t uid;
    gid_t gid;
    int64_t at;                 /* CLOCK_MONOTONIC ns; 0: empty */
    uint32_t ngroups;
    uint32_t groups[RPC_CRED_NGROUPS];
};

struct credcache {
    pthread_mutex_t lock;       /* guards e */
    struct entry e[SLOTS];
};

int credcache_create(struct credcache **out)
{
    struct credcache *cc = calloc(1, sizeof(*cc));
    if (!cc)
        return -ENOMEM;
    pthread_mutex_init(&cc->lock, NULL);
    *out = cc;
    return 0;
}

void credcache_destroy(struct credcache *cc)
{
    if (!cc)
        return;
    pthread_mutex_destroy(&cc->lock);
    free(cc);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static unsigned slot_of(pid_t pid)
{
    return ((uint32_t)pid * 2654435761u) % SLOTS;
}

void credcache_get(struct credcache *cc, fuse_req_t req, struct rpc_cred *cr)
{
    const struct fuse_ctx *ctx = fuse_req_ctx(req);
    memset(cr, 0, sizeof(*cr));
    cr->uid = ctx->uid;
    cr->gid = ctx->gid;
    if (!ctx->pid)
        return;                 /* the kernel's own requests */
    int64_t now = now_ns();
    struct entry *e = &cc->e[slot_of(ctx->pid)];
    pthread_mutex_lock(&cc->lock);
    int hit = e->at && now - e->at < CACHE_NS && e->pid == ctx->pid &&
              e->uid == ctx->uid && e->gid == ctx->gid;
    if (hit) {
        cr->ngroups = e->ngroups;
        memcpy(cr->groups, e->groups, sizeof(cr->groups));
    }
    pthread_mutex_unlock(&cc->lock);
    if (hit)
        return;
    gid_t groups[RPC_CRED_NGROUPS];
    int n = fuse_req_getgroups(req, RPC_CRED_NGROUPS, groups);
    if (n < 0)
        return;                 /* the caller is gone: no groups */
    if (n > RPC_CRED_NGROUPS)
        n = RPC_CRED_NGROUPS;
    for (int i = 0; i < n; i++)
        cr->groups[i] = groups[i];
    cr->ngroups = (uint32_t)n;
    pthread_mutex_lock(&cc->lock);
    e->pid = ctx->pid;
    e->uid = ctx->uid;
    e->gid = ctx->gid;
    e->at = now;
    e->ngroups = cr->ngroups;
    memcpy(e->groups, cr->groups, sizeof(e->groups));
    pthread_mutex_unlock(&cc->lock);
}
