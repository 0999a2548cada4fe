/* opts.c - parses the command line of mount.flexfs (see opts.h).
 *
 * Our own options are parsed here; the generic mount flags that FUSE
 * understands (ro, nosuid, noatime, ...) are passed on to libfuse, and the
 * ones mount(8) and fstab add for themselves (_netdev, defaults, user,
 * nofail, x-systemd.*, ...) are dropped.  Anything else is an error. */
#include "config.h"
#include "opts.h"
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void opts_usage(const char *prog)
{
    fprintf(stderr,
        "usage: %s HOST:/VOLUME MOUNTPOINT [-f] [-o OPTION[,OPTION...]]\n"
        "  HOST:/ names the volume \"default\".\n"
        "  -f                 stay in the foreground\n"
        "options:\n"
        "  port=N             gateway port (2049)\n"
        "  ro                 mount read-only\n"
        "  attr_timeout=S     attribute cache timeout in seconds (1)\n"
        "  entry_timeout=S    directory entry cache timeout in seconds (1)\n"
        "  cache_size=SIZE    memory block cache (256M)\n"
        "  readahead=SIZE     read-ahead window (32M)\n"
        "  writeback_size=SIZE  dirty data buffered per mount (256M)\n"
        "  transfer_threads=N parallel block transfers (8)\n"
        "  gateway_timeout=S  how long a call waits for an unreachable\n"
        "                     gateway before it fails with EIO (60)\n"
        "  cache_dir=DIR      keep fetched and written blocks on this local\n"
        "                     disk across mounts (default: no disk cache)\n"
        "  cache_disk_size=SIZE  bound of the disk cache (10G)\n"
        "  credentials=FILE   S3 credentials file (AWS style) for the block\n"
        "                     store; else AWS_* variables or ~/.aws/credentials\n"
        "  allow_other        let other users use the mount\n"
        "  debug              log every operation\n", prog);
}

static void set_defaults(struct client_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->port = 2049;
    o->attr_timeout = 1.0;
    o->entry_timeout = 1.0;
    o->cache_size = 256ull << 20;
    o->readahead = 32ull << 20;
    o->writeback_size = 256ull << 20;
    o->gateway_timeout = 60;
    o->transfer_threads = 8;
    o->cache_disk_size = 10ull << 30;
}

/* Splits "HOST:/VOLUME" ("[V6]:/VOLUME" too). */
static int parse_spec(const char *spec, struct client_opts *o)
{
    const char *colon;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':')
            return -EINVAL;
        size_t n = (size_t)(close - spec - 1);
        if (n == 0 || n >= sizeof(o->host))
            return -EINVAL;
        memcpy(o->host, spec + 1, n);
        o->host[n] = '\0';
        colon = close + 1;
    } else {
        colon = strchr(spec, ':');
        if (!colon)
            return -EINVAL;
        size_t n = (size_t)(colon - spec);
        if (n == 0 || n >= sizeof(o->host))
            return -EINVAL;
        memcpy(o->host, spec, n);
        o->host[n] = '\0';
    }
    const char *path = colon + 1;
    if (path[0] != '/')
        return -EINVAL;
    while (*path == '/')
        path++;
    size_t n = strlen(path);
    while (n > 0 && path[n - 1] == '/')
        n--;
    if (n == 0) {
        strcpy(o->volume, "default");
    } else {
        if (n >= sizeof(o->volume) || memchr(path, '/', n))
            return -EINVAL;
        memcpy(o->volume, path, n);
        o->volume[n] = '\0';
    }
    snprintf(o->spec, sizeof(o->spec), "%s", spec);
    return 0;
}

/* Generic flags libfuse applies to the mount itself. */
static const char *const passed_flags[] = {
    "dev", "nodev", "suid", "nosuid", "exec", "noexec", "noatime",
    "sync", "async", "dirsync", NULL,
};

/* What mount(8), fstab and systemd add for their own use, and the atime
 * flags libfuse does not take (relatime is the kernel's default). */
static const char *const dropped_flags[] = {
    "rw", "defaults", "_netdev", "auto", "noauto", "user", "users",
    "nouser", "owner", "group", "nofail", "loud", "silent", "bg", "fg",
    "atime", "diratime", "nodiratime", "relatime", "norelatime",
    "strictatime", "nostrictatime", "lazytime", "nolazytime", NULL,
};

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

static int add_fuse_flag(struct client_opts *o, const char *flag)
{
    size_t used = strlen(o->fuse_flags);
    int n = snprintf(o->fuse_flags + used, sizeof(o->fuse_flags) - used,
                     "%s%s", used ? "," : "", flag);
    if (n < 0 || (size_t)n >= sizeof(o->fuse_flags) - used)
        return -E2BIG;
    return 0;
}

static int parse_timeout(const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || d < 0 || d > 86400)
        return -EINVAL;
    *out = d;
    return 0;
}

/* A decimal number from 1 to max. */
static int parse_count(const char *v, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno || *v == '\0' || *end || n == 0 || n > max)
        return -EINVAL;
    *out = n;
    return 0;
}

static int parse_one(struct client_opts *o, char *opt)
{
    char *val = strchr(opt, '=');
    if (val)
        *val++ = '\0';
    uint64_t sz;
    unsigned long n;
    int rc = 0;
    if (strcmp(opt, "port") == 0 && val) {
        if ((rc = parse_count(val, 65535, &n)) == 0)
            o->port = (uint16_t)n;
    } else if (strcmp(opt, "ro") == 0 && !val) {
        o->ro = 1;
    } else if (strcmp(opt, "allow_other") == 0 && !val) {
        o->allow_other = 1;
    } else if (strcmp(opt, "debug") == 0 && !val) {
        o->debug = 1;
    } else if (strcmp(opt, "attr_timeout") == 0 && val) {
        rc = parse_timeout(val, &o->attr_timeout);
    } else if (strcmp(opt, "entry_timeout") == 0 && val) {
        rc = parse_timeout(val, &o->entry_timeout);
    } else if (strcmp(opt, "cache_size") == 0 && val) {
        rc = conf_parse_size(val, &sz);
        if (rc == 0)
            o->cache_size = sz;
    } else if (strcmp(opt, "readahead") == 0 && val) {
        rc = conf_parse_size(val, &sz);
        if (rc == 0)
            o->readahead = sz;
    } else if (strcmp(opt, "writeback_size") == 0 && val) {
        rc = conf_parse_size(val, &sz);
        if (rc == 0 && sz < (1u << 20))
            rc = -EINVAL;       /* must hold at least a block or so */
        if (rc == 0)
            o->writeback_size = sz;
    } else if (strcmp(opt, "transfer_threads") == 0 && val) {
        if ((rc = parse_count(val, 256, &n)) == 0)
            o->transfer_threads = (unsigned)n;
    } else if (strcmp(opt, "gateway_timeout") == 0 && val) {
        if ((rc = parse_count(val, 86400, &n)) == 0)
            o->gateway_timeout = (unsigned)n;
    } else if (strcmp(opt, "cache_dir") == 0 && val) {
        /* Absolute: the mount chdirs to / once it runs. */
        if (val[0] != '/' || strlen(val) >= sizeof(o->cache_dir) - 64)
            rc = -EINVAL;
        else
            strcpy(o->cache_dir, val);
    } else if (strcmp(opt, "cache_disk_size") == 0 && val) {
        rc = conf_parse_size(val, &sz);
        if (rc == 0 && sz < (1u << 20))
            rc = -EINVAL;
        if (rc == 0)
            o->cache_disk_size = sz;
    } else if (strcmp(opt, "credentials") == 0 && val) {
        /* A file name, never a secret: options show in ps and mtab. */
        if (*val == '\0' || strlen(val) >= sizeof(o->credentials))
            rc = -EINVAL;
        else
            strcpy(o->credentials, val);
    } else if (!val && in_list(passed_flags, opt)) {
        rc = add_fuse_flag(o, opt);
    } else if ((!val && in_list(dropped_flags, opt)) ||
               strncmp(opt, "x-", 2) == 0 || strcmp(opt, "comment") == 0) {
        rc = 0;
    } else {
        fprintf(stderr, "mount.flexfs: unknown option '%s%s%s'\n", opt,
                val ? "=" : "", val ? val : "");
        return -EINVAL;
    }
    if (rc < 0)
        fprintf(stderr, "mount.flexfs: bad value for option '%s': '%s'\n",
                opt, val ? val : "");
    return rc;
}

static int parse_optstr(struct client_opts *o, const char *s)
{
    char *copy = strdup(s);
    if (!copy)
        return -ENOMEM;
    int rc = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t && rc == 0;
         t = strtok_r(NULL, ",", &save))
        rc = parse_one(o, t);
    free(copy);
    return rc;
}

int opts_parse(int argc, char **argv, struct client_opts *o)
{
    set_defaults(o);
    const char *pos[2];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return 1;
        if (strcmp(a, "-o") == 0) {
            if (++i >= argc) {
                fprintf(stderr, "mount.flexfs: -o needs an argument\n");
                return -EINVAL;
            }
            if (parse_optstr(o, argv[i]) < 0)
                return -EINVAL;
        } else if (strncmp(a, "-o", 2) == 0) {
            if (parse_optstr(o, a + 2) < 0)
                return -EINVAL;
        } else if (strcmp(a, "-f") == 0) {
            o->foreground = 1;
        } else if (strcmp(a, "-d") == 0) {
            o->debug = 1;
        } else if (strcmp(a, "-n") == 0 || strcmp(a, "-s") == 0 ||
                   strcmp(a, "-v") == 0) {
            /* mount(8) helper flags: no mtab, sloppy, verbose */
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "mount.flexfs: unknown flag '%s'\n", a);
            return -EINVAL;
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            fprintf(stderr, "mount.flexfs: unexpected argument '%s'\n", a);
            return -EINVAL;
        }
    }
    if (npos != 2) {
        opts_usage("mount.flexfs");
        return -EINVAL;
    }
    if (parse_spec(pos[0], o) < 0) {
        fprintf(stderr, "mount.flexfs: '%s' is not HOST:/VOLUME\n", pos[0]);
        return -EINVAL;
    }
    if (strlen(pos[1]) >= sizeof(o->mountpoint)) {
        fprintf(stderr, "mount.flexfs: mount point name too long\n");
        return -EINVAL;
    }
    strcpy(o->mountpoint, pos[1]);
    return 0;
}
