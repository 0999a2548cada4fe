/* client_stats.c - finding and reading the FUSE client's counters file
 * (see client_stats.h for the format). */
#include "config.h"
#include "client_stats.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cs_escape_path(const char *path, char *out, size_t len)
{
    if (path[0] != '/')
        return -EINVAL;
    size_t j = 0;
    int any = 0, pending_sep = 0;
    for (const char *p = path; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '/') {
            pending_sep = any;          /* collapse and strip slashes */
            continue;
        }
        char tmp[5];
        size_t n;
        if (pending_sep) {
            if (j + 1 >= len)
                return -ENAMETOOLONG;
            out[j++] = '-';
            pending_sep = 0;
        }
        int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == ':' || c == '_' ||
                    (c == '.' && j > 0);
        if (plain) {
            tmp[0] = (char)c;
            n = 1;
        } else {
            snprintf(tmp, sizeof tmp, "\\x%02x", c);
            n = 4;
        }
        if (j + n >= len)
            return -ENAMETOOLONG;
        memcpy(out + j, tmp, n);
        j += n;
        any = 1;
    }
    if (!any) {                         /* the root directory */
        if (len < 2)
            return -ENAMETOOLONG;
        out[j++] = '-';
    }
    out[j] = '\0';
    return 0;
}

size_t cs_dirs(char dirs[][4096], size_t max)
{
    size_t n = 0;
    const char *env = getenv("FLEXFS_STATS_DIR");
    if (env && *env && n < max)
        snprintf(dirs[n++], 4096, "%s", env);
    if (n < max)
        snprintf(dirs[n++], 4096, "/run/flexfs");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (xdg && *xdg && n < max)
        snprintf(dirs[n++], 4096, "%s/flexfs", xdg);
    if (n < max)
        snprintf(dirs[n++], 4096, "/tmp/flexfs-%u", (unsigned)getuid());
    return n;
}

int cs_parse_file(const char *path, struct client_stats *out)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", path);
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *eq = strchr(line, '=');
        if (!eq || eq == line || line[0] == '#')
            continue;
        *eq = '\0';
        if (out->n == CS_MAX_KEYS)
            break;
        struct cs_item *it = &out->items[out->n];
        size_t kl = strlen(line), vl = strlen(eq + 1);
        if (kl >= sizeof it->key || vl >= sizeof it->value)
            continue;                   /* not ours to show: skip it */
        memcpy(it->key, line, kl + 1);
        memcpy(it->value, eq + 1, vl + 1);
        out->n++;
    }
    int err = ferror(f) ? -EIO : 0;
    fclose(f);
    if (err)
        return err;
    const char *fmt = cs_get(out, "format");
    return fmt && strcmp(fmt, "1") == 0 ? 0 : -EINVAL;
}

/* Any stats file in dir whose mountpoint= is mnt (for names that another
 * escaping produced). */
static int scan_dir(const char *dir, const char *mnt, struct client_stats *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return -ENOENT;
    struct dirent *e;
    int rc = -ENOENT;
    while (rc == -ENOENT && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "mount-", 6) != 0 || len < 7 ||
            strcmp(e->d_name + len - 6, ".stats") != 0)
            continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name)
            >= (int)sizeof path)
            continue;
        if (cs_parse_file(path, out) == 0) {
            const char *m = cs_get(out, "mountpoint");
            if (m && strcmp(m, mnt) == 0)
                rc = 0;
        }
    }
    closedir(d);
    return rc;
}

int cs_load(const char *mountpoint, struct client_stats *out)
{
    char mnt[PATH_MAX], esc[PATH_MAX];
    if (!realpath(mountpoint, mnt))
        return -errno;
    int rc = cs_escape_path(mnt, esc, sizeof esc);
    if (rc < 0)
        return rc;
    char dirs[4][4096];
    size_t nd = cs_dirs(dirs, 4);
    for (size_t i = 0; i < nd; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/mount-%s.stats", dirs[i], esc);
        rc = cs_parse_file(path, out);
        if (rc == 0)
            return 0;
        if (rc != -ENOENT)
            return rc;
    }
    for (size_t i = 0; i < nd; i++)
        if (scan_dir(dirs[i], mnt, out) == 0)
            return 0;
    return -ENOENT;
}

const char *cs_get(const struct client_stats *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->items[i].key, key) == 0)
            return s->items[i].value;
    return NULL;
}

uint64_t cs_num(const struct client_stats *s, const char *key, int *found)
{
    const char *v = cs_get(s, key);
    if (found)
        *found = 0;
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || *v == '-')
        return 0;
    if (found)
        *found = 1;
    return n;
}
