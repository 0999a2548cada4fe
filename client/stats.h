/* stats.h - the client's counters, written every few seconds to a small
 * text file that `flexfs-admin client-stats MOUNTPOINT` reads (the format
 * is in tools/client_stats.h and flexfs-admin(8)). */
#ifndef FLEXFS_CLIENT_STATS_H
#define FLEXFS_CLIENT_STATS_H

#include <stdatomic.h>
#include <stdint.h>

struct client;

/* Updated lock-free from any thread. */
struct cstats {
    atomic_uint_fast64_t bytes_read, bytes_written;
    atomic_uint_fast64_t store_gets, store_get_bytes, store_get_ns;
    atomic_uint_fast64_t store_puts, store_put_bytes, store_put_ns;
    atomic_uint_fast64_t store_errors;
};

uint64_t stats_now_ns(void);
/* Starts the writer thread (a failure to write the file is logged once,
 * never fatal). */
int stats_start(struct client *cl);
/* Stops it and removes the file. */
void stats_stop(struct client *cl);

#endif
