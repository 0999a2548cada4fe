/* client_stats.h - the FUSE client's counters file, as flexfs-admin
 * client-stats reads it.
 *
 * mount.flexfs writes, every few seconds and atomically (a temporary file
 * renamed over it), the text file
 *     DIR/mount-ESCAPED.stats
 * where DIR is $FLEXFS_STATS_DIR if set, else /run/flexfs for root, else
 * $XDG_RUNTIME_DIR/flexfs (or /tmp/flexfs-UID), and ESCAPED is the
 * absolute mount point escaped as systemd-escape --path does.  Each line
 * is "key=value"; the first is "format=1".  The keys are listed in
 * flexfs-admin(8); unknown keys are shown as they are. */
#ifndef FLEXFS_CLIENT_STATS_H
#define FLEXFS_CLIENT_STATS_H

#include <stddef.h>
#include <stdint.h>

#define CS_MAX_KEYS 128

struct cs_item {
    char key[64];
    char value[1024];
};

struct client_stats {
    char path[4096];                    /* the file read */
    struct cs_item items[CS_MAX_KEYS];
    size_t n;
};

/* "/mnt/flexfs" -> "mnt-flexfs" (systemd-escape --path); "/" -> "-".
 * path must be absolute; -ENAMETOOLONG if out is too small. */
int cs_escape_path(const char *path, char *out, size_t len);
/* Directories searched, in order; returns how many (at most max). */
size_t cs_dirs(char dirs[][4096], size_t max);
/* Parses one stats file; -EINVAL if it is not format 1. */
int cs_parse_file(const char *path, struct client_stats *out);
/* Finds and parses the file of the mount at mountpoint (made absolute and
 * canonical first); -ENOENT if there is none. */
int cs_load(const char *mountpoint, struct client_stats *out);

const char *cs_get(const struct client_stats *s, const char *key);
/* The value as an unsigned number; 0 when absent or not a number
 * (*found, if given, tells which). */
uint64_t cs_num(const struct client_stats *s, const char *key, int *found);

#endif
