/* lease.h - the lease reaper: a thread that ends, every second, the
 * client sessions whose lease ran out (their opens and locks go with
 * them, decision 7 of DESIGN.md). */
#ifndef FLEXFS_LEASE_H
#define FLEXFS_LEASE_H

#include "meta.h"

struct lease;

int lease_start(struct meta *m, struct lease **out);
/* Stops and joins the thread (before meta_close). */
void lease_stop(struct lease *l);

#endif
