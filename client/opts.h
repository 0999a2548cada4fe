/* opts.h - the command line of mount.flexfs:
 *   mount.flexfs HOST:/VOLUME MOUNTPOINT [-o OPTIONS] [-f] [-n -s -v]
 * also as called by mount(8) (which adds generic options we drop). */
#ifndef FLEXFS_CLIENT_OPTS_H
#define FLEXFS_CLIENT_OPTS_H

#include <limits.h>
#include <stdint.h>

struct client_opts {
    char host[256];
    char volume[256];
    char spec[600];                 /* HOST:/VOLUME as given */
    char mountpoint[PATH_MAX];
    uint16_t port;
    int foreground, ro, allow_other, debug;
    double attr_timeout, entry_timeout;     /* seconds */
    uint64_t cache_size;            /* memory block cache, bytes */
    uint64_t readahead;             /* read-ahead window, bytes */
    uint64_t writeback_size;        /* dirty data per mount, bytes */
    unsigned transfer_threads;
    unsigned gateway_timeout;       /* seconds a call waits out an
                                       unreachable gateway */
    char credentials[PATH_MAX];     /* S3 credentials file, or "" */
    char cache_dir[PATH_MAX];       /* disk block cache, or "": none */
    uint64_t cache_disk_size;       /* its bound, bytes */
    char fuse_flags[512];           /* generic mount flags for libfuse */
};

/* Fills o from argv; on error writes a message to stderr and returns
 * -EINVAL.  Returns 1 when only help was asked for. */
int opts_parse(int argc, char **argv, struct client_opts *o);
void opts_usage(const char *prog);

#endif
