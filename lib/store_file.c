/* store_file.c - the local-directory block store, file:///ABSOLUTE/DIR.
 *
 * A key "a/b/c" is the file DIR/a/b/c.  A put writes a temporary file in
 * the same directory, fsyncs it, renames it over the key and fsyncs the
 * directory, so a reader never sees a partial object and an acknowledged
 * put survives a crash.  A delete removes the file and then any parent
 * directories it left empty; a put that finds its directory gone under it
 * (a delete's rmdir racing with it) creates it again and retries.
 *
 * Whole pages of a block move with O_DIRECT when the caller's buffer is
 * page-aligned (store_buf_alloc): blocks are written once and read into
 * the client's own cache, so passing them through the page cache only
 * cost a second copy and the memory to hold it (a 4-job sequential write
 * spent half its CPU there).  A file system that refuses O_DIRECT (tmpfs
 * before Linux 6.6) is remembered and gets buffered I/O.  The handle
 * holds only constants and that one flag, so every call is thread-safe. */
#define _GNU_SOURCE                     /* O_DIRECT */
#include "config.h"
#include "store_impl.h"
#include "log.h"
#include "grow.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

struct file_store {
    struct store base;
    char *root;                 /* absolute, no trailing '/' except "/" */
    size_t rootlen;
    atomic_int no_direct;       /* O_DIRECT was refused here */
};

#define DIO_ALIGN 4096u

/* Whether a transfer at off of buf may use O_DIRECT for its whole
 * pages. */
static int direct_ok(struct file_store *fs, const void *buf, uint64_t off,
                     size_t len)
{
    return len >= DIO_ALIGN && (uintptr_t)buf % DIO_ALIGN == 0 &&
           off % DIO_ALIGN == 0 && !atomic_load(&fs->no_direct);
}

static void direct_refused(struct file_store *fs)
{
    if (!atomic_exchange(&fs->no_direct, 1))
        log_info("file store %s: no O_DIRECT here; buffered I/O",
                 fs->root);
}

/* Clears O_DIRECT on fd, for the tail of a block that is not a whole
 * page. */
static int drop_direct(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_DIRECT) < 0)
        return -errno;
    return 0;
}

/* Temporary names must differ between threads and processes sharing the
 * directory: pid plus a process-wide counter. */
static atomic_ulong tmp_counter;

static struct file_store *fs_of(struct store *s)
{
    return (struct file_store *)s;
}

/* root + "/" + key into buf; -ENAMETOOLONG if it does not fit. */
static int full_path(const struct file_store *fs, const char *key, char *buf,
                     size_t len)
{
    int n = snprintf(buf, len, "%s/%s", fs->rootlen == 1 ? "" : fs->root,
                     key);
    return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

/* mkdir -p of path[0..end) below the root, fsyncing each parent that got
 * a new entry so the chain is durable before the object is. */
static int make_dirs(const struct file_store *fs, char *path, size_t end)
{
    char save = path[end];
    path[end] = '\0';
    int rc = 0;
    for (char *p = path + fs->rootlen + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0755) == 0) {
            char *slash = strrchr(path, '/');
            *slash = '\0';
            rc = fsync_dir(slash == path ? "/" : path);
            *slash = '/';
        } else if (errno != EEXIST) {
            rc = -errno;
        }
        *p = c;
        if (rc < 0 || c == '\0')
            break;
    }
    path[end] = save;
    return rc;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes the whole pages of data with O_DIRECT and the rest buffered; a
 * file system that turns O_DIRECT down at the first write gets it all
 * buffered. */
static int write_direct(struct file_store *fs, int fd, const void *data,
                        size_t len)
{
    size_t whole = len & ~(size_t)(DIO_ALIGN - 1);
    int rc = write_all(fd, data, whole);
    if (rc == -EINVAL) {
        direct_refused(fs);
        if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
            return -errno;
        rc = drop_direct(fd);
        return rc < 0 ? rc : write_all(fd, data, len);
    }
    if (rc < 0 || whole == len)
        return rc;
    rc = drop_direct(fd);
    return rc < 0 ? rc : write_all(fd, (const char *)data + whole,
                                   len - whole);
}

/* Creates a fresh temporary file beside path; on ENOENT (directory not
 * there, or removed by a concurrent delete) makes the directories and
 * tries again. */
static int open_tmp(const struct file_store *fs, char *path, size_t dirend,
                    char *tmp, size_t tmplen, int flags)
{
    for (int tries = 0; ; tries++) {
        unsigned long n = atomic_fetch_add(&tmp_counter, 1);
        path[dirend] = '\0';
        int w = snprintf(tmp, tmplen, "%s/%s%ld.%lu", path, STORE_TMP_MARK,
                         (long)getpid(), n);
        path[dirend] = '/';
        if (w < 0 || (size_t)w >= tmplen)
            return -ENAMETOOLONG;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | flags,
                      0644);
        if (fd >= 0)
            return fd;
        if ((errno != ENOENT && errno != ENOTDIR) || tries >= 20) {
            int e = errno;
            if (e == EINVAL && (flags & O_DIRECT))
                unlink(tmp);    /* O_DIRECT refused after the create */
            return -e;
        }
        /* ENOENT again: a delete pruned a directory we just made. */
        int rc = make_dirs(fs, path, dirend);
        if (rc < 0 && rc != -ENOENT)
            return rc;
    }
}

static int file_put(struct store *s, const char *key, const void *data,
                    size_t len)
{
    struct file_store *fs = fs_of(s);
    char path[PATH_MAX], tmp[PATH_MAX];
    int rc = full_path(fs, key, path, sizeof(path));
    if (rc < 0)
        return rc;
    size_t dirend = (size_t)(strrchr(path, '/') - path);
    int direct = direct_ok(fs, data, 0, len);
    int fd = open_tmp(fs, path, dirend, tmp, sizeof(tmp),
                      direct ? O_DIRECT : 0);
    if (fd == -EINVAL && direct) {
        direct_refused(fs);
        direct = 0;
        fd = open_tmp(fs, path, dirend, tmp, sizeof(tmp), 0);
    }
    if (fd < 0)
        return fd;
    rc = direct ? write_direct(fs, fd, data, len) : write_all(fd, data, len);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0) {
        unlink(tmp);
        log_warn("file store: put %s: %s", key, strerror(-rc));
        return rc;
    }
    path[dirend] = '\0';
    rc = fsync_dir(dirend == 0 ? "/" : path);
    if (rc < 0)
        log_warn("file store: fsync of directory for %s: %s", key,
                 strerror(-rc));
    return rc;
}

/* Reads len bytes at off into buf, fewer at the end of the file. */
static int read_all(int fd, void *buf, uint64_t off, size_t len,
                    size_t *got)
{
    size_t done = 0;
    int rc = 0;
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done,
                          (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    *got = done;
    return rc;
}

static int file_get(struct store *s, const char *key, uint64_t off,
                    void *buf, size_t len, size_t *got)
{
    struct file_store *fs = fs_of(s);
    char path[PATH_MAX];
    int rc = full_path(fs, key, path, sizeof(path));
    if (rc < 0)
        return rc;
    if (off > (uint64_t)INT64_MAX)
        return -EINVAL;
    int direct = direct_ok(fs, buf, off, len);
    int fd = open(path, O_RDONLY | O_CLOEXEC | (direct ? O_DIRECT : 0));
    if (fd < 0 && errno == EINVAL && direct) {
        direct_refused(fs);
        direct = 0;
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0)
        return (errno == ENOTDIR || errno == EISDIR) ? -ENOENT : -errno;
    struct stat st;
    if (fstat(fd, &st) < 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode))
        rc = S_ISDIR(st.st_mode) ? -ENOENT : -EIO;
    if (rc < 0) {
        close(fd);
        return rc;
    }
    size_t done = 0;
    int eof = 0;
    if (direct) {
        /* Whole pages straight into buf; what is left (the tail of a
         * block that is not a whole page, or all of it if O_DIRECT is
         * refused) buffered. */
        size_t whole = len & ~(size_t)(DIO_ALIGN - 1);
        rc = read_all(fd, buf, off, whole, &done);
        if (rc == -EINVAL && done == 0)
            direct_refused(fs);
        else if (rc == 0 && done < whole)
            eof = 1;
        if ((rc == 0 || rc == -EINVAL) && !eof && done < len)
            rc = drop_direct(fd);
    }
    if (rc == 0 && !eof && done < len) {
        size_t n = 0;
        rc = read_all(fd, (char *)buf + done, off + done, len - done, &n);
        done += n;
    }
    close(fd);
    *got = done;
    return rc;
}

/* Removes the now-empty directories between the key and the root; stops
 * at the first that is not empty (or is being filled again). */
static void prune_dirs(const struct file_store *fs, char *path)
{
    for (;;) {
        char *slash = strrchr(path, '/');
        if (!slash || (size_t)(slash - path) <= fs->rootlen)
            return;
        *slash = '\0';
        if (rmdir(path) < 0)
            return;
    }
}

static int file_del(struct store *s, const char *key)
{
    struct file_store *fs = fs_of(s);
    char path[PATH_MAX];
    int rc = full_path(fs, key, path, sizeof(path));
    if (rc < 0)
        return rc;
    if (unlink(path) < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        if (errno == EISDIR)
            return 0;           /* a directory is no object */
        return -errno;
    }
    prune_dirs(fs, path);
    return 0;
}

/* --- listing: a recursive walk, in the byte order of the full keys ---- */

struct walk {
    const char *prefix;
    size_t prefixlen;
    store_list_cb cb;
    void *arg;
    int stop;                   /* the callback's nonzero answer */
};

struct entry {
    char *name;                 /* a directory's name ends with '/' */
    uint64_t size;
};

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name,
                  ((const struct entry *)b)->name);
}

static void free_entries(struct entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(e[i].name);
    free(e);
}

/* Reads the directory at path (whose key prefix is path past the root)
 * into a sorted array.  Sorting directories as "name/" gives exactly the
 * order of the full keys, as S3 lists them. */
static int read_dir(const char *path, struct entry **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(path);
    if (!d)
        return (errno == ENOENT || errno == ENOTDIR) ? 0 : -errno;
    int dfd = dirfd(d);
    struct entry *e = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0 ||
            strncmp(nm, STORE_TMP_MARK, sizeof(STORE_TMP_MARK) - 1) == 0)
            continue;
        struct stat st;
        if (fstatat(dfd, nm, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue;       /* deleted while we list */
            rc = -errno;
            break;
        }
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
            continue;
        struct entry *ne = grow_room(e, n, &cap, sizeof(*e), 64);
        if (!ne) {
            rc = -ENOMEM;
            break;
        }
        e = ne;
        size_t nl = strlen(nm);
        e[n].name = malloc(nl + 2);
        if (!e[n].name) {
            rc = -ENOMEM;
            break;
        }
        memcpy(e[n].name, nm, nl + 1);
        if (S_ISDIR(st.st_mode))
            memcpy(e[n].name + nl, "/", 2);
        e[n].size = (uint64_t)st.st_size;
        n++;
        errno = 0;
    }
    if (rc == 0 && errno != 0 && de == NULL)
        rc = -errno;
    closedir(d);
    if (rc < 0) {
        free_entries(e, n);
        return rc;
    }
    if (n)
        qsort(e, n, sizeof(*e), entry_cmp);
    *out = e;
    *count = n;
    return 0;
}

/* Walks path, whose key so far is key[0..keylen) (empty or ending '/'). */
static int walk_dir(struct walk *w, char *path, size_t pathlen, char *key,
                    size_t keylen)
{
    struct entry *e;
    size_t n;
    int rc = read_dir(path, &e, &n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n && rc == 0 && !w->stop; i++) {
        size_t nl = strlen(e[i].name);
        if (pathlen + 1 + nl >= PATH_MAX || keylen + nl >= PATH_MAX) {
            rc = -ENAMETOOLONG;
            break;
        }
        memcpy(key + keylen, e[i].name, nl + 1);
        /* Skip what cannot match the prefix: compare the common part. */
        size_t cmp = keylen + nl < w->prefixlen ? keylen + nl : w->prefixlen;
        if (memcmp(key, w->prefix, cmp) != 0)
            continue;
        int isdir = e[i].name[nl - 1] == '/';
        if (!isdir) {
            if (keylen + nl >= w->prefixlen)
                w->stop = w->cb(w->arg, key, e[i].size);
            continue;
        }
        path[pathlen] = '/';
        memcpy(path + pathlen + 1, e[i].name, nl - 1);
        path[pathlen + nl] = '\0';
        rc = walk_dir(w, path, pathlen + nl, key, keylen + nl);
        path[pathlen] = '\0';
    }
    key[keylen] = '\0';
    free_entries(e, n);
    return rc;
}

static int file_list(struct store *s, const char *prefix, store_list_cb cb,
                     void *arg)
{
    struct file_store *fs = fs_of(s);
    struct walk w = {.prefix = prefix, .prefixlen = strlen(prefix),
                     .cb = cb, .arg = arg};
    char path[PATH_MAX], key[PATH_MAX];
    /* Start at the deepest directory the prefix names completely. */
    const char *slash = strrchr(prefix, '/');
    size_t keylen = slash ? (size_t)(slash - prefix) + 1 : 0;
    int n = snprintf(path, sizeof(path), "%s/%.*s", fs->rootlen == 1 ? "" :
                     fs->root, (int)keylen, prefix);
    if (n < 0 || (size_t)n >= sizeof(path) || keylen >= sizeof(key))
        return -ENAMETOOLONG;
    if (n > 1 && path[n - 1] == '/')
        path[--n] = '\0';
    memcpy(key, prefix, keylen);
    key[keylen] = '\0';
    int rc = walk_dir(&w, path, (size_t)n, key, keylen);
    if (rc == 0 && w.stop < 0)
        rc = w.stop;
    return rc;
}

static int file_statfs(struct store *s, uint64_t *total, uint64_t *avail)
{
    struct statvfs sv;
    if (statvfs(fs_of(s)->root, &sv) < 0)
        return -errno;
    *total = (uint64_t)sv.f_blocks * sv.f_frsize;
    *avail = (uint64_t)sv.f_bavail * sv.f_frsize;
    return 0;
}

static int file_stat(struct store *s, const char *key,
                     struct store_objstat *out)
{
    char path[PATH_MAX];
    struct stat st;
    int rc = full_path(fs_of(s), key, path, sizeof(path));
    if (rc < 0)
        return rc;
    if (stat(path, &st) < 0)
        return (errno == ENOTDIR) ? -ENOENT : -errno;
    if (!S_ISREG(st.st_mode))
        return S_ISDIR(st.st_mode) ? -ENOENT : -EIO;
    out->size = (uint64_t)st.st_size;
    out->mtime = (int64_t)st.st_mtime;
    return 0;
}

static void file_close(struct store *s)
{
    struct file_store *fs = fs_of(s);
    free(fs->root);
    free(fs);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The directory of "file:///DIR" (percent-decoded), or -EINVAL. */
static int parse_url(const char *url, char *dir, size_t len)
{
    if (strncasecmp(url, "file://", 7) != 0)
        return -EINVAL;
    const char *p = url + 7;
    if (strncasecmp(p, "localhost/", 10) == 0)
        p += 9;
    if (*p != '/')
        return -EINVAL;         /* relative, or a host we cannot reach */
    size_t n = 0;
    for (; *p; p++) {
        char c = *p;
        if (c == '?' || c == '#')
            return -EINVAL;
        if (c == '%') {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            if (lo < 0)
                return -EINVAL;
            c = (char)(hi * 16 + lo);
            if (c == '\0')
                return -EINVAL;
            p += 2;
        }
        if (n + 1 >= len)
            return -ENAMETOOLONG;
        dir[n++] = c;
    }
    while (n > 1 && dir[n - 1] == '/')
        n--;
    dir[n] = '\0';
    /* ".." would make the root depend on symlinks and cwd games. */
    for (const char *q = dir; (q = strstr(q, "/..")) != NULL; q += 3)
        if (q[3] == '/' || q[3] == '\0')
            return -EINVAL;
    return 0;
}

/* mkdir -p of an absolute directory. */
static int make_root(char *dir)
{
    for (char *p = dir + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        int rc = (mkdir(dir, 0755) < 0 && errno != EEXIST) ? -errno : 0;
        *p = c;
        if (rc < 0)
            return rc;
        if (c == '\0')
            return 0;
    }
}

static int file_open(const char *url, const struct store_opts *opts,
                     struct store **out)
{
    char dir[PATH_MAX];
    int rc = parse_url(url, dir, sizeof(dir));
    if (rc < 0)
        return rc;
    if (strcmp(dir, "/") != 0) {
        rc = make_root(dir);
        if (rc < 0) {
            log_err("file store: cannot create %s: %s", dir, strerror(-rc));
            return rc;
        }
    }
    struct stat st;
    if (stat(dir, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    struct file_store *fs = calloc(1, sizeof(*fs));
    if (!fs || !(fs->root = strdup(dir))) {
        free(fs);
        return -ENOMEM;
    }
    fs->base.ops = &store_file_ops;
    fs->rootlen = strlen(dir);
    *out = &fs->base;
    return 0;
}

const struct store_ops store_file_ops = {
    .scheme = "file",
    .open = file_open,
    .put = file_put,
    .get = file_get,
    .del = file_del,
    .del_many = NULL,
    .list = file_list,
    .statfs = file_statfs,
    .close = file_close,
    .stat = file_stat,
};
