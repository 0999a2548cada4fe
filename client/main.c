/* main.c - mount.flexfs: parses the command line, opens the session with
 * the gateway and the block store, mounts with FUSE and serves requests
 * until unmounted; then flushes dirty data and ends the session.
 *
 * Everything that can fail for a reason the user should hear about (the
 * mount point, the gateway, the volume, the store, the FUSE mount) is
 * done before the process detaches, so errors reach the terminal and the
 * exit status.  Threads start only after detaching (fork keeps just the
 * calling thread). */
#define FUSE_USE_VERSION 312
#include "config.h"
#include "client.h"
#include "diskcache.h"
#include "credcache.h"
#include "blockcache.h"
#include "fs.h"
#include "inode.h"
#include "log.h"
#include "rpcpool.h"
#include "session.h"
#include "stats.h"
#include "store.h"
#include "tpool.h"
#include "writeback.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* mount(8)'s exit codes for helpers. */
#define EX_USAGE_MOUNT 1
#define EX_FAIL_MOUNT  32

#define MOUNT_RETRY_SECS 3      /* mounting, unmounting: fail fast */
#define FLUSHERS         4
#define MAX_FUSE_THREADS 256    /* see serve() */

/* Undoes the octal escapes of /proc/self/mountinfo ("\040" for ' '). */
static void unescape(char *s)
{
    char *d = s;
    while (*s) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
            s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
            *d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 4;
        } else {
            *d++ = *s++;
        }
    }
    *d = '\0';
}

/* Is the last mount on path (the one on top) a FUSE file system?  Mounting
 * over another mount is allowed, stacking FUSE mounts is not. */
static int fuse_mounted_at(const char *path)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    if (!f)
        return 0;
    char line[4096 + PATH_MAX];
    int fuse = 0;
    while (fgets(line, sizeof(line), f)) {
        char *save = NULL, *field[5];
        int n = 0;
        for (char *t = strtok_r(line, " ", &save); t && n < 5;
             t = strtok_r(NULL, " ", &save))
            field[n++] = t;
        if (n < 5)
            continue;
        unescape(field[4]);
        if (strcmp(field[4], path) != 0)
            continue;
        char *rest = strtok_r(NULL, "\n", &save);
        char *dash = rest ? strstr(rest, "- ") : NULL;
        if (rest && strncmp(rest, "- ", 2) == 0)
            dash = rest;
        fuse = dash && strncmp(dash + 2, "fuse", 4) == 0;
    }
    fclose(f);
    return fuse;
}

static int check_mountpoint(struct client_opts *o)
{
    char real[PATH_MAX];
    struct stat st;
    if (!realpath(o->mountpoint, real) || stat(real, &st) < 0) {
        int e = errno;
        if (e == ENOTCONN)
            fprintf(stderr, "mount.flexfs: %s is a dead mount; unmount it "
                    "first (fusermount3 -u)\n", o->mountpoint);
        else
            fprintf(stderr, "mount.flexfs: mount point %s: %s\n",
                    o->mountpoint, strerror(e));
        return -e;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "mount.flexfs: mount point %s is not a directory\n",
                o->mountpoint);
        return -ENOTDIR;
    }
    if (fuse_mounted_at(real)) {
        fprintf(stderr, "mount.flexfs: mount point %s is busy: a FUSE file "
                "system is mounted there already\n", o->mountpoint);
        return -EBUSY;
    }
    /* libfuse keeps the path for unmounting after we chdir("/"). */
    strcpy(o->mountpoint, real);
    return 0;
}

static void mount_error(const struct client_opts *o, int rc)
{
    switch (-rc) {
    case ENOENT:
        fprintf(stderr, "mount.flexfs: %s: no such volume '%s'\n", o->host,
                o->volume);
        break;
    case EACCES:
    case EPERM:
        fprintf(stderr, "mount.flexfs: %s refused to mount volume '%s': "
                "%s\n", o->host, o->volume, strerror(-rc));
        break;
    case ECONNREFUSED:
    case ETIMEDOUT:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EIO:
        fprintf(stderr, "mount.flexfs: cannot reach the gateway at %s port "
                "%u: %s\n", o->host, o->port, strerror(-rc));
        break;
    case EPROTO:
    case EOPNOTSUPP:
        fprintf(stderr, "mount.flexfs: the gateway at %s port %u does not "
                "speak this client's protocol (mount.flexfs and "
                "flexfs-gatewayd must come from the same release)\n",
                o->host, o->port);
        break;
    default:
        fprintf(stderr, "mount.flexfs: mounting %s failed: %s\n", o->spec,
                strerror(-rc));
    }
}

static int build_fuse_args(const struct client_opts *o, struct fuse_args *fa)
{
    char mo[1024];
    /* noatime: reads do not update access times (that would make every
     * read a metadata commit), and the kernel should say so. */
    int n = snprintf(mo, sizeof(mo),
                     "fsname=%s,subtype=flexfs,noatime%s%s%s%s",
                     o->spec, o->allow_other ? ",allow_other" : "",
                     o->ro ? ",ro" : "", o->fuse_flags[0] ? "," : "",
                     o->fuse_flags);
    if (n < 0 || (size_t)n >= sizeof(mo))
        return -E2BIG;
    if (fuse_opt_add_arg(fa, "mount.flexfs") < 0 ||
        fuse_opt_add_arg(fa, "-o") < 0 || fuse_opt_add_arg(fa, mo) < 0)
        return -ENOMEM;
    if (o->debug && fuse_opt_add_arg(fa, "-d") < 0)
        return -ENOMEM;
    return 0;
}

/* Starts the threads and serves until unmounted or signalled. */
static int serve(struct client *cl)
{
    int rc = tpool_create(cl->opts.transfer_threads, &cl->xfer);
    if (rc == 0)
        rc = wb_create(cl, cl->opts.writeback_size, FLUSHERS, &cl->wb);
    if (rc == 0) {
        session_set_reopen(cl->sess, fs_reopen_all, cl);
        rc = session_start(cl->sess);
    }
    if (rc == 0)
        rc = stats_start(cl);
    if (rc < 0) {
        log_err("cannot start threads: %s", strerror(-rc));
        return rc;
    }
    struct fuse_loop_config *cfg = fuse_loop_cfg_create();
    if (!cfg)
        return -ENOMEM;
    fuse_loop_cfg_set_idle_threads(cfg, 16);
    /* A blocked F_SETLKW or flock keeps its thread: leave room for many,
     * or the unlock that would wake them could find no thread. */
    fuse_loop_cfg_set_max_threads(cfg, MAX_FUSE_THREADS);
    rc = fuse_session_loop_mt(cl->se, cfg);
    fuse_loop_cfg_destroy(cfg);
    return rc;
}

int main(int argc, char **argv)
{
    struct client cl;
    static struct cstats counters;
    memset(&cl, 0, sizeof(cl));
    cl.stats = &counters;
    int rc = opts_parse(argc, argv, &cl.opts);
    if (rc == 1) {
        opts_usage("mount.flexfs");
        return 0;
    }
    if (rc < 0)
        return EX_USAGE_MOUNT;
    struct client_opts *o = &cl.opts;
    /* Block-sized buffers come and go all the time: keep them in the heap
     * instead of fresh (page-faulting, zeroed) mappings each time.  32 MiB
     * is the most glibc accepts (half its 64 MiB heap): it refused the
     * 64 MiB this once asked for, and every 4 MiB buffer was a new mapping
     * (perf: a third of the mount's CPU zeroing pages on an S3 write). */
    if (!mallopt(M_MMAP_THRESHOLD, 32 << 20) ||
        !mallopt(M_TRIM_THRESHOLD, 256 << 20))
        fprintf(stderr, "mount.flexfs: mallopt refused; block buffers "
                "will be mapped afresh each time\n");
    log_open("mount.flexfs", 1, NULL);
    if (o->debug)
        log_set_level(LOG_DEBUG);

    if (check_mountpoint(o) < 0)
        return EX_FAIL_MOUNT;
    if (rpcpool_create(o->host, o->port, o->transfer_threads + 24,
                       &cl.pool) < 0 ||
        itable_create(&cl.inodes) < 0 ||
        credcache_create(&cl.creds) < 0 ||
        bcache_create(o->cache_size, &cl.cache) < 0 ||
        session_create(cl.pool, o->volume, &cl.sess) < 0) {
        fprintf(stderr, "mount.flexfs: out of memory\n");
        return EX_FAIL_MOUNT;
    }
    rpcpool_set_retry(cl.pool, MOUNT_RETRY_SECS);
    rc = session_mount(cl.sess);
    if (rc < 0) {
        mount_error(o, rc);
        return EX_FAIL_MOUNT;
    }
    rpcpool_set_retry(cl.pool, o->gateway_timeout); /* rides out restarts */
    const struct session_volume *vol = session_volume(cl.sess);
    if (vol->read_only && !o->ro) {
        /* The gateway would refuse every change with EROFS; the kernel
         * says so sooner, and nothing is written to the store for it. */
        fprintf(stderr, "mount.flexfs: %s is exported read-only to this "
                "host: mounting read-only\n", o->spec);
        o->ro = 1;
    }

    int status = EX_FAIL_MOUNT;
    /* The gateway names the store (without secrets); the credentials are
     * this host's own: the file named by -o credentials, else the AWS_*
     * variables or ~/.aws/credentials.  Opening before detaching is safe:
     * it reads the credentials and sets up handles, but starts no thread
     * and makes no connection (the first transfer does). */
    struct store_opts so = {
        .threads = o->transfer_threads,
        .credentials_file = o->credentials[0] ? o->credentials : NULL,
    };
    rc = store_open(vol->store_url, &so, &cl.store);
    if (rc < 0) {
        char red[1024];
        store_url_redact(vol->store_url, red, sizeof(red));
        fprintf(stderr, "mount.flexfs: cannot open the block store %s: %s\n",
                red, strerror(-rc));
        goto out_session;
    }
    if (o->cache_dir[0]) {
        rc = dcache_open(o->cache_dir, vol->incarnation, vol->volume_id,
                         o->cache_disk_size, &cl.dcache);
        if (rc < 0)
            fprintf(stderr, "mount.flexfs: warning: no disk cache: %s: "
                    "%s\n", o->cache_dir, rc == -EBUSY ?
                    "another mount of this volume uses it" : strerror(-rc));
    }
    /* The kernel never forgets the root. */
    struct fnode *root = fnode_get(cl.inodes, vol->root);
    if (!root)
        goto out_session;
    fnode_lookup_inc(cl.inodes, root);
    fnode_put(cl.inodes, root);

    struct fuse_args fa = FUSE_ARGS_INIT(0, NULL);
    if (build_fuse_args(o, &fa) < 0) {
        fprintf(stderr, "mount.flexfs: options too long\n");
        goto out_session;
    }
    cl.se = fuse_session_new(&fa, &fs_ops, sizeof(fs_ops), &cl);
    fuse_opt_free_args(&fa);
    if (!cl.se) {
        fprintf(stderr, "mount.flexfs: cannot set up the FUSE session\n");
        goto out_session;
    }
    if (fuse_set_signal_handlers(cl.se) < 0) {
        fprintf(stderr, "mount.flexfs: cannot set signal handlers\n");
        goto out_fuse;
    }
    if (fuse_session_mount(cl.se, o->mountpoint) < 0) {
        fprintf(stderr, "mount.flexfs: cannot mount on %s\n", o->mountpoint);
        goto out_signals;
    }
    if (!o->foreground) {
        if (fuse_daemonize(0) < 0) {
            fprintf(stderr, "mount.flexfs: cannot detach\n");
            fuse_session_unmount(cl.se);
            goto out_signals;
        }
        log_open("mount.flexfs", 0, NULL);
    }
    log_notice("%s mounted on %s", o->spec, o->mountpoint);

    rc = serve(&cl);
    status = rc < 0 ? 1 : 0;
    fuse_session_unmount(cl.se);
out_signals:
    fuse_remove_signal_handlers(cl.se);
out_fuse:
    /* Runs our destroy op, which flushes dirty data. */
    fuse_session_destroy(cl.se);
    if (status != EX_FAIL_MOUNT)
        log_notice("%s unmounted from %s", o->spec, o->mountpoint);
out_session:
    stats_stop(&cl);
    wb_destroy(cl.wb);
    /* The data is flushed by now; UNMOUNT only spares the gateway the
     * wait for our lease to run out, which is no reason to outlive the
     * mount by a minute when the gateway is down. */
    rpcpool_set_retry(cl.pool, MOUNT_RETRY_SECS);
    session_unmount(cl.sess);
    tpool_destroy(cl.xfer);
    store_close(cl.store);
    dcache_close(cl.dcache);
    session_destroy(cl.sess);
    bcache_destroy(cl.cache);
    itable_destroy(cl.inodes);
    credcache_destroy(cl.creds);
    rpcpool_destroy(cl.pool);
    return status;
}
