/* gc.h - the garbage collector: block versions that a commit superseded
 * or an unlink freed wait in the garbage table for a grace period (so
 * readers holding an older block map keep working, decision 3), then a
 * thread deletes them from the block store in batches and forgets them.
 * The table is in Berkeley DB, so pending work survives restarts; a
 * store that is down is retried later. */
#ifndef FLEXFS_GC_H
#define FLEXFS_GC_H

#include <stdint.h>

#include "meta.h"
#include "store.h"

struct gc;

typedef void (*gc_progress_fn)(void *parg, uint64_t done, uint64_t total);

int gc_start(struct meta *m, struct store *s, uint32_t grace_secs,
             struct gc **out);
/* One pass now, beside the thread's own (they take turns): deletes all
 * garbage past its grace.  *deleted gets how many versions went; progress
 * (may be NULL) is called after each batch.  Shaped as admin.h's
 * admin_gc_fn, with the struct gc as its argument. */
int gc_run(void *gc, gc_progress_fn progress, void *parg, uint64_t *deleted);
/* Stops and joins the thread (before meta_close). */
void gc_stop(struct gc *g);

#endif
