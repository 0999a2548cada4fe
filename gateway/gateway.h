/* gateway.h - the gateway's settings and the context its front ends share
 * (the native program, and later NFSv4 and admin): the metadata core, the
 * block store and what MOUNT tells clients. */
#ifndef FLEXFS_GATEWAY_H
#define FLEXFS_GATEWAY_H

#include <stdint.h>

#include "exports.h"
#include "meta.h"
#include "store.h"

#define GW_DEFAULT_LISTEN     "0.0.0.0:2049"
#define GW_DEFAULT_META_DIR   "/var/lib/flexfs/meta"
#define GW_DEFAULT_STORE      "file:///var/lib/flexfs/blocks"
#define GW_DEFAULT_LEASE      30
#define GW_DEFAULT_GC_GRACE   60
/* Like Linux nfsd, which closes idle connections after 6 minutes. */
#define GW_DEFAULT_IDLE_TIMEOUT 360
#define GW_DEFAULT_BLOCK_SIZE (4u << 20)
#define GW_URL_MAX            4096

/* flexfs-gatewayd's settings: defaults, then the -c file, then the
 * command line. */
struct gateway_opts {
    int foreground;
    char *config;                       /* -c FILE */
    char *listen;                       /* ADDR:PORT */
    char *meta_dir;
    char *store;                        /* block-store URL */
    char *s3_credentials;               /* S3 credentials file, or NULL:
                                           the AWS_* variables */
    char *pid_file;
    char *port_file;                    /* gets the bound port */
    char *log_file;
    int log_level;                      /* LOG_* */
    unsigned workers;                   /* 0: cores x 2 */
    uint32_t lease_time;                /* seconds */
    uint32_t grace_time;                /* lock grace after a restart;
                                           0: the lease time */
    uint32_t gc_grace;                  /* seconds */
    uint32_t idle_timeout;              /* close connections idle this
                                           long; 0: never */
    uint32_t block_size;                /* of the volume made on first start */
    char *metrics;                      /* ADDR:PORT of /metrics, or NULL */
    char *admin_hosts;                  /* hosts allowed the admin program */
    char *exports;                      /* exports file, or NULL */
};

/* What every front-end handler reaches through its program's ctx.  Set
 * up before the RPC server starts and unchanged while it runs. */
struct gateway {
    struct meta *meta;
    struct store *store;
    char store_url[GW_URL_MAX];         /* redacted: safe to show clients */
    const struct gateway_opts *opts;
    struct exports *exports;            /* locks itself for reloads */
};

#endif
