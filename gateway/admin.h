/* admin.h - the gateway's admin program (rpc/flexfs_admin.x): status,
 * volumes, sessions, locks, gc, fsck, backup and checkpoint for
 * flexfs-admin(8), served by the RPC server beside the native program.
 *
 * Calls other than NULL are admitted only with AUTH_SYS uid 0 from the
 * gateway host (127.0.0.1, ::1) or from an address in admin_hosts; the
 * rest get AUTH_ERROR and a warning in the log. */
#ifndef FLEXFS_ADMIN_H
#define FLEXFS_ADMIN_H

#include <stdint.h>

#include "meta.h"
#include "metrics.h"
#include "rpcsvc.h"

struct store;
struct admin;

/* The gateway's own collector pass, if it offers one to run on demand:
 * deletes the garbage past its grace, reporting progress; *deleted gets
 * how many block versions went. */
typedef void (*admin_progress_fn)(void *parg, uint64_t done, uint64_t total);
typedef int (*admin_gc_fn)(void *arg, admin_progress_fn progress,
                           void *parg, uint64_t *deleted);

/* What the admin program knows from the start (the server must have its
 * programs before it starts, which is before the core is open). */
struct admin_opts {
    const char *store_url;              /* shown redacted in status */
    const char *meta_dir;
    const char *listen;                 /* shown in status */
    const char *admin_hosts;            /* "ADDR[/BITS],..." or NULL */
    uint32_t gc_grace;                  /* seconds */
    uint32_t default_block_size;        /* for volume create without one */
};

/* Copies what it needs from opts.  -EINVAL for a malformed admin_hosts
 * (logged). */
int admin_create(const struct admin_opts *opts, struct admin **out);
/* The program to pass to rpc_server_add (lives as long as a). */
const struct rpc_program *admin_program(struct admin *a);
/* Once the core and the store are open: until then every call but NULL
 * answers EAGAIN.  gc is the gateway's own collector pass (gc_run of
 * gc.h, with its struct gc as gc_arg), or NULL to let the admin program
 * run a pass of its own. */
void admin_attach(struct admin *a, struct meta *m, struct store *s,
                  admin_gc_fn gc, void *gc_arg);
/* A metrics_gauge_fn: volumes, sessions, locks, garbage, DB figures
 * (nothing before admin_attach). */
void admin_gauges(void *admin, struct metrics_gauges *g);
/* After rpc_server_stop and before meta_close: stops running jobs and
 * waits for them, then frees a. */
void admin_destroy(struct admin *a);

#endif
