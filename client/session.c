/* session.c - the mount's session and its lease (see session.h).
 *
 * The session id and version counter are read by every writer, so they
 * sit under one mutex; recovery is serialized by a second one so that
 * many threads hitting ESTALE at once mount only once. */
#include "config.h"
#include "session.h"
#include "rpcpool.h"
#include "log.h"
#include "flexfs_prot.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct session {
    struct rpcpool *pool;
    char volume[FX_NAME_MAX + 1];
    char client_name[FX_NAME_MAX + 1];
    struct session_volume vol;
    pthread_mutex_t lock;       /* guards id, counter, stopping */
    pthread_cond_t cond;        /* wakes the renewal thread to stop */
    uint64_t id;
    uint32_t counter;
    int stopping, started;
    pthread_t renewer;
    pthread_mutex_t recover_lock;
    session_reopen_fn reopen;
    void *reopen_arg;
    atomic_int new_timeline;    /* a MOUNT again found another incarnation */
};

int session_create(struct rpcpool *pool, const char *volume,
                   struct session **out)
{
    struct session *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->pool = pool;
    strncpy(s->volume, volume, FX_NAME_MAX);
    if (gethostname(s->client_name, FX_NAME_MAX) < 0)
        strcpy(s->client_name, "unknown");
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->recover_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    *out = s;
    return 0;
}

void session_destroy(struct session *s)
{
    if (!s)
        return;
    free(s->vol.store_url);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->recover_lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

/* One MOUNT call; fills *id and, the first time, the volume facts. */
static int do_mount(struct session *s, uint64_t *id)
{
    fx_mount_args a = { .volume = s->volume, .client_name = s->client_name };
    fx_mount_res r;
    memset(&r, 0, sizeof(r));
    int rc = rpcpool_call(s->pool, NULL, FXPROC_MOUNT,
                          (xdrproc_t)xdr_fx_mount_args, &a,
                          (xdrproc_t)xdr_fx_mount_res, &r, NULL);
    if (rc < 0)
        return rc;
    if (r.status != 0) {
        rc = -r.status;
    } else {
        fx_mount_ok *ok = &r.fx_mount_res_u.ok;
        if (!s->vol.store_url) {
            s->vol.root = ok->root;
            s->vol.volume_id = ok->volume_id;
            s->vol.block_size = ok->block_size;
            s->vol.lease_secs = ok->lease_secs;
            s->vol.read_only = (ok->flags & FX_MOUNT_RDONLY) != 0;
            memcpy(s->vol.incarnation, ok->incarnation,
                   sizeof s->vol.incarnation);
            s->vol.store_url = strdup(ok->store_url ? ok->store_url : "");
            if (!s->vol.store_url)
                rc = -ENOMEM;
        } else if (ok->root != s->vol.root ||
                   ok->block_size != s->vol.block_size ||
                   ok->volume_id != s->vol.volume_id) {
            log_err("volume %s changed under the mount", s->volume);
            rc = -EIO;
        } else if (memcmp(ok->incarnation, s->vol.incarnation,
                          sizeof s->vol.incarnation) != 0 &&
                   !atomic_exchange(&s->new_timeline, 1)) {
            log_warn("the gateway's metadata is another incarnation (a "
                     "restored backup?): blocks kept on disk are no longer "
                     "used");
        }
        if (rc == 0 && ok->block_size == 0) {
            log_err("gateway sent block size 0");
            rc = -EPROTO;
        }
        *id = ok->session;
    }
    xdr_free((xdrproc_t)xdr_fx_mount_res, (char *)&r);
    return rc;
}

int session_mount(struct session *s)
{
    uint64_t id;
    int rc = do_mount(s, &id);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&s->lock);
    s->id = id;
    s->counter = 0;
    pthread_mutex_unlock(&s->lock);
    log_info("mounted volume %s: session %llu, block size %u, store %s",
             s->volume, (unsigned long long)id, s->vol.block_size,
             s->vol.store_url);
    return 0;
}

int session_new_timeline(struct session *s)
{
    return atomic_load(&s->new_timeline);
}

const struct session_volume *session_volume(const struct session *s)
{
    return &s->vol;
}

uint64_t session_id(struct session *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t id = s->id;
    pthread_mutex_unlock(&s->lock);
    return id;
}

/* 2^32 versions per session is 16 PiB of 4 MiB blocks; a session that
 * used them all would still never reuse one, because the counter is only
 * ever combined with a fresh session id after a wrap (we mount again). */
uint64_t session_next_version(struct session *s)
{
    for (;;) {
        pthread_mutex_lock(&s->lock);
        uint64_t id = s->id;
        if (s->counter < UINT32_MAX) {
            uint64_t v = (id << 32) | ++s->counter;
            pthread_mutex_unlock(&s->lock);
            return v;
        }
        pthread_mutex_unlock(&s->lock);
        session_recover(s, id);
    }
}

void session_set_reopen(struct session *s, session_reopen_fn fn, void *arg)
{
    s->reopen = fn;
    s->reopen_arg = arg;
}

int session_recover(struct session *s, uint64_t stale)
{
    pthread_mutex_lock(&s->recover_lock);
    int rc = 0;
    if (session_id(s) == stale) {
        uint64_t id;
        log_warn("session %llu is gone at the gateway; mounting again",
                 (unsigned long long)stale);
        rc = do_mount(s, &id);
        if (rc == 0) {
            pthread_mutex_lock(&s->lock);
            s->id = id;
            s->counter = 0;
            pthread_mutex_unlock(&s->lock);
            log_notice("new session %llu", (unsigned long long)id);
            if (s->reopen)
                s->reopen(s->reopen_arg, id);
        } else {
            log_err("mounting again failed: %s", strerror(-rc));
        }
    }
    pthread_mutex_unlock(&s->recover_lock);
    return rc;
}

static int renew(struct session *s)
{
    uint64_t id = session_id(s);
    fx_session_args a = { .session = id };
    fx_status_res r = { 0 };
    int rc = rpcpool_call(s->pool, NULL, FXPROC_RENEW,
                          (xdrproc_t)xdr_fx_session_args, &a,
                          (xdrproc_t)xdr_fx_status_res, &r, NULL);
    if (rc < 0)
        return rc;
    if (r.status == ESTALE)
        return session_recover(s, id);
    return -r.status;
}

int session_stale(struct session *s, uint64_t id)
{
    if (session_id(s) != id)
        return 1;               /* already replaced */
    fx_session_args a = { .session = id };
    fx_status_res r = { 0 };
    int rc = rpcpool_call(s->pool, NULL, FXPROC_RENEW,
                          (xdrproc_t)xdr_fx_session_args, &a,
                          (xdrproc_t)xdr_fx_status_res, &r, NULL);
    if (rc < 0 || r.status != ESTALE)
        return 0;
    return session_recover(s, id) == 0;
}

static void *renew_main(void *arg)
{
    struct session *s = arg;
    unsigned period = s->vol.lease_secs / 3;
    if (period < 1)
        period = 1;
    if (period > 10)
        period = 10;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += period;
        while (!s->stopping &&
               pthread_cond_timedwait(&s->cond, &s->lock, &ts) != ETIMEDOUT)
            ;
        if (s->stopping)
            break;
        pthread_mutex_unlock(&s->lock);
        int rc = renew(s);
        if (rc < 0)
            log_warn("lease renewal failed: %s", strerror(-rc));
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int session_start(struct session *s)
{
    int rc = pthread_create(&s->renewer, NULL, renew_main, s);
    if (rc)
        return -rc;
    s->started = 1;
    return 0;
}

void session_unmount(struct session *s)
{
    if (s->started) {
        pthread_mutex_lock(&s->lock);
        s->stopping = 1;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->renewer, NULL);
        s->started = 0;
    }
    fx_session_args a = { .session = session_id(s) };
    fx_status_res r = { 0 };
    int rc = rpcpool_call(s->pool, NULL, FXPROC_UNMOUNT,
                          (xdrproc_t)xdr_fx_session_args, &a,
                          (xdrproc_t)xdr_fx_status_res, &r, NULL);
    if (rc == 0 && r.status != 0)
        rc = -r.status;
    if (rc < 0)
        log_warn("UNMOUNT: %s", strerror(-rc));
}
