/* session.h - the mount's session with the gateway: MOUNT, the lease
 * renewal thread, UNMOUNT, and re-establishing the session when the
 * gateway has forgotten it (then the open files are opened again). */
#ifndef FLEXFS_CLIENT_SESSION_H
#define FLEXFS_CLIENT_SESSION_H

#include <stdint.h>

struct rpcpool;
struct session;

/* What MOUNT told us; fixed for the life of the mount. */
struct session_volume {
    uint64_t root, volume_id;
    uint32_t block_size, lease_secs;
    char *store_url;
    int read_only;                      /* exported read-only to us */
    uint8_t incarnation[16];            /* the metadata's timeline */
};

/* Called after a new session replaced a lost one, to open again the
 * files that are open in this mount. */
typedef void (*session_reopen_fn)(void *arg, uint64_t session);

int session_create(struct rpcpool *pool, const char *volume,
                   struct session **out);
void session_destroy(struct session *s);
/* The first MOUNT: negative errno from the gateway or the transport. */
int session_mount(struct session *s);
const struct session_volume *session_volume(const struct session *s);
uint64_t session_id(struct session *s);
/* 1 once a MOUNT after a lost session found the gateway's metadata in
 * another incarnation than the first MOUNT did (a restored backup): block
 * keys may then repeat with other content. */
int session_new_timeline(struct session *s);
/* A block version never used before: session id << 32 | counter. */
uint64_t session_next_version(struct session *s);

void session_set_reopen(struct session *s, session_reopen_fn fn, void *arg);
/* Starts renewing the lease in a thread. */
int session_start(struct session *s);
/* A call naming session `stale` got ESTALE: mount again unless another
 * thread already did.  0 when a live session is there. */
int session_recover(struct session *s, uint64_t stale);
/* A call naming session `id` got ESTALE, which may be about the session
 * or about an inode.  Returns 1 when the session was indeed gone and a
 * new one is in place (retry the call), else 0. */
int session_stale(struct session *s, uint64_t id);
/* Stops renewing and ends the session at the gateway. */
void session_unmount(struct session *s);

#endif
