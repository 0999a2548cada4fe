/* nfs_api.c - libnfs's synchronous API (NFSv4) against the gateway.
 *
 *   nfs_api PORT basic            files, directories, links, attributes,
 *                                 a 5,000-entry directory, two clients
 *   nfs_api PORT bench N          creates/s, stats/s, readdir of N files
 *   nfs_api PORT put PATH SIZE    writes SIZE bytes of a pattern to PATH
 *   nfs_api PORT check PATH SIZE  reads PATH and compares with the pattern
 *   nfs_api PORT unlink PATH      removes PATH
 *   nfs_api PORT lock PATH SECS   write-locks PATH for SECS seconds; prints
 *                                 "locked", or "refused" and exits 3
 *   nfs_api PORT pwrite PATH OFF TEXT  writes TEXT at OFF of PATH (made
 *                                 if missing), then fsync and close
 *   nfs_api PORT samename         two contexts with one name, two verifiers
 *
 * libnfs 4.0.0 cannot encode an NFSv4 WRITE much above 3.8 KiB, so every
 * write goes out in chunks of at most 2 KiB.  Each context gets its own
 * client name (libnfs's default collides within a second).  Prints "N
 * passed, N failed"; exits 1 on a failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <nfsc/libnfs.h>

/* Exported by libnfs 4.0.0; some of its headers do not declare them. */
void nfs4_set_client_name(struct nfs_context *nfs, const char *id);
void nfs4_set_verifier(struct nfs_context *nfs, const char *verifier);

#define CHUNK 2048

static int npass, nfail;
static int port;

static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (ok) {
        npass++;
    } else {
        nfail++;
        fprintf(stderr, "FAIL: ");
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    va_end(ap);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A mounted context on the default volume with its own client name (and
 * verifier, 8 bytes, unless NULL). */
static struct nfs_context *mount_as(const char *name, const char *verifier)
{
    struct nfs_context *nfs = nfs_init_context();
    if (!nfs)
        return NULL;
    nfs4_set_client_name(nfs, name);
    if (verifier)
        nfs4_set_verifier(nfs, verifier);
    char url[128];
    snprintf(url, sizeof(url), "nfs://127.0.0.1/default?version=4&nfsport=%d",
             port);
    struct nfs_url *u = nfs_parse_url_dir(nfs, url);
    if (!u) {
        fprintf(stderr, "url: %s\n", nfs_get_error(nfs));
        nfs_destroy_context(nfs);
        return NULL;
    }
    int rc = nfs_mount(nfs, u->server, u->path);
    nfs_destroy_url(u);
    if (rc < 0) {
        fprintf(stderr, "mount: %s\n", nfs_get_error(nfs));
        nfs_destroy_context(nfs);
        return NULL;
    }
    return nfs;
}

static unsigned char pattern(uint64_t i)
{
    return (unsigned char)((i * 131 + (i >> 12) * 7 + 3) & 0xff);
}

static int write_chunks(struct nfs_context *nfs, struct nfsfh *fh,
                        uint64_t off, const char *buf, uint64_t len)
{
    while (len) {
        uint64_t n = len < CHUNK ? len : CHUNK;
        int w = nfs_pwrite(nfs, fh, off, n, buf);
        if (w <= 0)
            return w < 0 ? w : -EIO;
        off += (uint64_t)w;
        buf += w;
        len -= (uint64_t)w;
    }
    return 0;
}

static int read_all(struct nfs_context *nfs, struct nfsfh *fh, uint64_t off,
                    char *buf, uint64_t len)
{
    uint64_t got = 0;
    while (got < len) {
        uint64_t n = len - got < 65536 ? len - got : 65536;
        int r = nfs_pread(nfs, fh, off + got, n, buf + got);
        if (r < 0)
            return r;
        if (r == 0)
            break;
        got += (uint64_t)r;
    }
    return (int)got;
}

/* ---- basic ---- */

static void test_files(struct nfs_context *nfs)
{
    struct nfsfh *fh;
    struct nfs_stat_64 st;
    nfs_unlink(nfs, "/api-file");
    int rc = nfs_creat(nfs, "/api-file", 0640, &fh);
    check(rc == 0, "creat: %s", nfs_get_error(nfs));
    if (rc)
        return;
    /* Writes at offsets, out of order, with a hole. */
    size_t size = 300000;
    char *want = calloc(1, size), *got = malloc(size);
    for (size_t i = 0; i < 100000; i++)
        want[i] = (char)pattern(i);
    for (size_t i = 200000; i < size; i++)
        want[i] = (char)pattern(i);
    check(write_chunks(nfs, fh, 200000, want + 200000, 100000) == 0,
          "write at 200000");
    check(write_chunks(nfs, fh, 0, want, 100000) == 0, "write at 0");
    check(nfs_fsync(nfs, fh) == 0, "fsync: %s", nfs_get_error(nfs));
    check(nfs_fstat64(nfs, fh, &st) == 0 && st.nfs_size == size,
          "size %llu", (unsigned long long)st.nfs_size);
    check(read_all(nfs, fh, 0, got, size) == (int)size &&
              memcmp(got, want, size) == 0, "read back what was written");
    /* Overwrite inside, read a range. */
    memset(want + 50000, 'Z', 3000);
    check(write_chunks(nfs, fh, 50000, want + 50000, 3000) == 0,
          "overwrite in the middle");
    check(read_all(nfs, fh, 49000, got, 5000) == 5000 &&
              memcmp(got, want + 49000, 5000) == 0, "read the overwrite");
    check(nfs_ftruncate(nfs, fh, 120000) == 0, "ftruncate down: %s",
          nfs_get_error(nfs));
    check(nfs_fstat64(nfs, fh, &st) == 0 && st.nfs_size == 120000,
          "size after truncate %llu", (unsigned long long)st.nfs_size);
    check(read_all(nfs, fh, 100000, got, 20000) == 20000, "read to EOF");
    int zeros = 1;
    for (int i = 0; i < 20000; i++)
        zeros &= got[i] == 0;
    check(zeros, "the truncated hole reads as zeros");
    check(nfs_ftruncate(nfs, fh, 130000) == 0, "ftruncate up");
    check(read_all(nfs, fh, 0, got, 130000) == 130000 &&
              memcmp(got, want, 100000) == 0, "data before the hole kept");
    check(nfs_close(nfs, fh) == 0, "close");
    free(want);
    free(got);

    /* chmod, stat */
    check(nfs_chmod(nfs, "/api-file", 0604) == 0, "chmod");
    check(nfs_stat64(nfs, "/api-file", &st) == 0 &&
              (st.nfs_mode & 07777) == 0604 && S_ISREG(st.nfs_mode),
          "mode 0604 (%llo)", (unsigned long long)st.nfs_mode);
    check(st.nfs_nlink == 1, "one link");

    /* link, rename, unlink */
    nfs_unlink(nfs, "/api-link");
    check(nfs_link(nfs, "/api-file", "/api-link") == 0, "link: %s",
          nfs_get_error(nfs));
    check(nfs_stat64(nfs, "/api-file", &st) == 0 && st.nfs_nlink == 2,
          "two links");
    check(nfs_rename(nfs, "/api-link", "/api-renamed") == 0, "rename: %s",
          nfs_get_error(nfs));
    check(nfs_stat64(nfs, "/api-link", &st) < 0, "old name gone");
    check(nfs_stat64(nfs, "/api-renamed", &st) == 0 && st.nfs_size == 130000,
          "new name has the data");
    check(nfs_unlink(nfs, "/api-renamed") == 0, "unlink");
    check(nfs_unlink(nfs, "/api-file") == 0, "unlink the last link");
    check(nfs_stat64(nfs, "/api-file", &st) < 0, "gone");
    check(nfs_unlink(nfs, "/api-file") < 0, "unlink again fails");

    /* directories */
    nfs_rmdir(nfs, "/api-dir/sub");
    nfs_rmdir(nfs, "/api-dir");
    check(nfs_mkdir(nfs, "/api-dir") == 0, "mkdir: %s", nfs_get_error(nfs));
    check(nfs_mkdir(nfs, "/api-dir") < 0, "mkdir again fails");
    check(nfs_mkdir(nfs, "/api-dir/sub") == 0, "mkdir sub");
    check(nfs_stat64(nfs, "/api-dir", &st) == 0 && S_ISDIR(st.nfs_mode) &&
              st.nfs_nlink == 3, "directory nlink 3 (%llu)",
          (unsigned long long)st.nfs_nlink);
    check(nfs_rmdir(nfs, "/api-dir") < 0, "rmdir of a non-empty dir fails");
    check(nfs_rmdir(nfs, "/api-dir/sub") == 0, "rmdir sub");
    check(nfs_rmdir(nfs, "/api-dir") == 0, "rmdir");
    char longname[300] = "/";
    memset(longname + 1, 'n', 270);
    check(nfs_creat(nfs, longname, 0644, &fh) < 0, "a 270-byte name fails");

    /* symlinks */
    nfs_unlink(nfs, "/api-sym");
    check(nfs_symlink(nfs, "some/where", "/api-sym") == 0, "symlink: %s",
          nfs_get_error(nfs));
    char buf[64] = "";
    check(nfs_readlink(nfs, "/api-sym", buf, sizeof(buf)) == 0 &&
              strcmp(buf, "some/where") == 0, "readlink \"%s\"", buf);
    check(nfs_unlink(nfs, "/api-sym") == 0, "unlink the symlink");

    struct statvfs sv;
    check(nfs_statvfs(nfs, "/", &sv) == 0 && sv.f_files > 0,
          "statvfs: %s", nfs_get_error(nfs));
}

/* Creates n files in dir; returns creates per second. */
static double create_many(struct nfs_context *nfs, const char *dir, int n)
{
    char path[256];
    double t0 = now();
    for (int i = 0; i < n; i++) {
        struct nfsfh *fh;
        snprintf(path, sizeof(path), "%s/f%05d", dir, i);
        if (nfs_creat(nfs, path, 0644, &fh) < 0) {
            check(0, "creat %s: %s", path, nfs_get_error(nfs));
            return 0;
        }
        nfs_close(nfs, fh);
    }
    return n / (now() - t0);
}

static double stat_many(struct nfs_context *nfs, const char *dir, int n)
{
    char path[256];
    struct nfs_stat_64 st;
    double t0 = now();
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/f%05d", dir, i);
        if (nfs_stat64(nfs, path, &st) < 0) {
            check(0, "stat %s: %s", path, nfs_get_error(nfs));
            return 0;
        }
    }
    return n / (now() - t0);
}

/* Lists dir; returns the number of entries (not . and ..), -1 on error. */
static int count_entries(struct nfs_context *nfs, const char *dir,
                         double *secs)
{
    struct nfsdir *d;
    double t0 = now();
    if (nfs_opendir(nfs, dir, &d) < 0)
        return -1;
    int n = 0;
    struct nfsdirent *e;
    while ((e = nfs_readdir(nfs, d)))
        if (strcmp(e->name, ".") && strcmp(e->name, ".."))
            n++;
    nfs_closedir(nfs, d);
    *secs = now() - t0;
    return n;
}

static void test_bigdir(struct nfs_context *nfs, int n, int verbose)
{
    char dir[64];
    snprintf(dir, sizeof(dir), "/bigdir-%d", (int)getpid());
    check(nfs_mkdir(nfs, dir) == 0, "mkdir %s", dir);
    double cps = create_many(nfs, dir, n);
    double sps = stat_many(nfs, dir, n);
    double secs = 0;
    int got = count_entries(nfs, dir, &secs);
    check(got == n, "readdir of %d entries: %d", n, got);
    if (verbose)
        printf("figures: %d files: %.0f creates/s, %.0f stats/s, readdir "
               "%.2f s (%.0f entries/s)\n", n, cps, sps, secs,
               secs > 0 ? got / secs : 0);
    /* unlink them all again (timed too) */
    char path[256];
    double t0 = now();
    int bad = 0;
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/f%05d", dir, i);
        bad += nfs_unlink(nfs, path) < 0;
    }
    if (verbose)
        printf("figures: %.0f unlinks/s\n", n / (now() - t0));
    check(bad == 0, "unlink all (%d failed)", bad);
    check(nfs_rmdir(nfs, dir) == 0, "rmdir the big directory");
}

/* Two clients at once, each with its own name: each sees the other's
 * files, and their opens do not disturb each other. */
static void test_two_clients(void)
{
    char n1[64], n2[64];
    snprintf(n1, sizeof(n1), "nfs_api-%d-one", (int)getpid());
    snprintf(n2, sizeof(n2), "nfs_api-%d-two", (int)getpid());
    struct nfs_context *a = mount_as(n1, NULL), *b = mount_as(n2, NULL);
    check(a && b, "two contexts with their own names mount");
    if (!a || !b)
        return;
    struct nfsfh *fa, *fb;
    nfs_unlink(a, "/two-a");
    check(nfs_creat(a, "/two-a", 0644, &fa) == 0, "A creates");
    check(write_chunks(a, fa, 0, "from A", 6) == 0, "A writes");
    check(nfs_fsync(a, fa) == 0, "A syncs");
    check(nfs_open(b, "/two-a", O_RDONLY, &fb) == 0, "B opens A's file: %s",
          nfs_get_error(b));
    char buf[16] = "";
    check(nfs_pread(b, fb, 0, 6, buf) == 6 && memcmp(buf, "from A", 6) == 0,
          "B reads what A wrote");
    check(nfs_close(b, fb) == 0 && nfs_close(a, fa) == 0, "both close");
    check(nfs_unlink(b, "/two-a") == 0, "B removes it");
    nfs_destroy_context(a);
    nfs_destroy_context(b);
}

/* fcntl-style byte-range locks between two clients. */
static void test_locks(void)
{
    char n1[64], n2[64];
    snprintf(n1, sizeof(n1), "nfs_api-%d-lock1", (int)getpid());
    snprintf(n2, sizeof(n2), "nfs_api-%d-lock2", (int)getpid());
    struct nfs_context *a = mount_as(n1, NULL), *b = mount_as(n2, NULL);
    check(a && b, "two contexts for locks");
    if (!a || !b)
        return;
    struct nfsfh *fa, *fb;
    nfs_unlink(a, "/lockme");
    check(nfs_creat(a, "/lockme", 0644, &fa) == 0, "creat /lockme");
    check(nfs_open(b, "/lockme", O_RDWR, &fb) == 0, "B opens /lockme");
    struct nfs4_flock wr = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
                             .l_start = 0, .l_len = 100 };
    int rc = nfs_fcntl(a, fa, NFS4_F_SETLK, &wr);
    check(rc == 0, "A write-locks [0,100): %s", nfs_get_error(a));
    struct nfs4_flock wr2 = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
                              .l_start = 50, .l_len = 10 };
    check(nfs_fcntl(b, fb, NFS4_F_SETLK, &wr2) < 0,
          "B's overlapping write lock is refused");
    struct nfs4_flock wr3 = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
                              .l_start = 100, .l_len = 10 };
    check(nfs_fcntl(b, fb, NFS4_F_SETLK, &wr3) == 0,
          "B's lock past A's range: %s", nfs_get_error(b));
    struct nfs4_flock un = { .l_type = F_UNLCK, .l_whence = SEEK_SET,
                             .l_start = 0, .l_len = 100 };
    check(nfs_fcntl(a, fa, NFS4_F_SETLK, &un) == 0, "A unlocks");
    check(nfs_fcntl(b, fb, NFS4_F_SETLK, &wr2) == 0,
          "B gets the range after A's unlock: %s", nfs_get_error(b));
    /* To the end of the file: libnfs passes l_len to LOCKU as it is, and
     * a length of 0 is NFS4ERR_INVAL (RFC 7530 16.12), so all ones. */
    un.l_start = 0;
    un.l_len = UINT64_MAX;
    check(nfs_fcntl(b, fb, NFS4_F_SETLK, &un) == 0, "B unlocks all");
    nfs_close(a, fa);
    nfs_close(b, fb);
    nfs_unlink(a, "/lockme");
    nfs_destroy_context(a);
    nfs_destroy_context(b);
}

/* Holds a write lock on all of PATH for secs seconds (for the
 * cross-protocol test); prints "locked" once it has it. */
static int hold_lock(struct nfs_context *nfs, const char *path, int secs)
{
    struct nfsfh *fh;
    if (nfs_open(nfs, path, O_RDWR, &fh) < 0) {
        fprintf(stderr, "open %s: %s\n", path, nfs_get_error(nfs));
        return 1;
    }
    /* The whole file: libnfs sends l_len as the NFSv4 length, where 0 is
     * invalid (RFC 7530), so name a length that reaches far enough. */
    struct nfs4_flock wr = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
                             .l_len = INT64_MAX };
    int rc = nfs_fcntl(nfs, fh, NFS4_F_SETLK, &wr);
    if (rc < 0) {
        fprintf(stderr, "lock %s: %s (%d)\n", path, nfs_get_error(nfs), rc);
        /* libnfs 4.0.0 maps DENIED to no errno of its own: read it. */
        const char *err = nfs_get_error(nfs);
        printf(err && strstr(err, "NFS4ERR_DENIED") ? "refused\n"
                                                     : "failed\n");
        fflush(stdout);
        return 3;
    }
    printf("locked\n");
    fflush(stdout);
    sleep((unsigned)secs);
    nfs_close(nfs, fh);
    return 0;
}

/* Two contexts with the same client name and different verifiers (what
 * libnfs's default names "Libnfs pid:PID TIME" give two contexts opened in
 * one second): by RFC 7530 16.33 the second is the first one rebooted, so
 * the first loses its open state (its stateless calls go on working). */
static void test_samename(void)
{
    char name[64];
    snprintf(name, sizeof(name), "nfs_api-%d-same", (int)getpid());
    struct nfs_context *a = mount_as(name, "verifr-1");
    check(a != NULL, "first context mounts");
    if (!a)
        return;
    struct nfsfh *fa, *fb;
    nfs_unlink(a, "/same-a");
    check(nfs_creat(a, "/same-a", 0644, &fa) == 0, "first context creates");
    check(write_chunks(a, fa, 0, "one", 3) == 0, "first context writes");
    struct nfs_context *b = mount_as(name, "verifr-2");
    check(b != NULL, "second context with the same name mounts");
    if (!b) {
        nfs_destroy_context(a);
        return;
    }
    nfs_unlink(b, "/same-b");
    check(nfs_creat(b, "/same-b", 0644, &fb) == 0 &&
              write_chunks(b, fb, 0, "two", 3) == 0 && nfs_close(b, fb) == 0,
          "second context creates, writes and closes");
    check(write_chunks(a, fa, 3, "more", 4) < 0,
          "the first context's open state is gone");
    struct nfs_stat_64 st;
    check(nfs_stat64(a, "/same-b", &st) == 0 && st.nfs_size == 3,
          "the first context still looks things up");
    nfs_close(a, fa);
    nfs_unlink(b, "/same-a");
    nfs_unlink(b, "/same-b");
    nfs_destroy_context(a);
    nfs_destroy_context(b);
}

static int put(struct nfs_context *nfs, const char *path, uint64_t size)
{
    struct nfsfh *fh;
    nfs_unlink(nfs, path);
    if (nfs_creat(nfs, path, 0644, &fh) < 0) {
        fprintf(stderr, "creat %s: %s\n", path, nfs_get_error(nfs));
        return 1;
    }
    char buf[CHUNK];
    for (uint64_t off = 0; off < size; off += CHUNK) {
        uint64_t n = size - off < CHUNK ? size - off : CHUNK;
        for (uint64_t i = 0; i < n; i++)
            buf[i] = (char)pattern(off + i);
        if (write_chunks(nfs, fh, off, buf, n) < 0) {
            fprintf(stderr, "write %s: %s\n", path, nfs_get_error(nfs));
            return 1;
        }
    }
    int rc = nfs_fsync(nfs, fh) < 0 || nfs_close(nfs, fh) < 0;
    return rc;
}

static int verify(struct nfs_context *nfs, const char *path, uint64_t size)
{
    struct nfsfh *fh;
    struct nfs_stat_64 st;
    if (nfs_open(nfs, path, O_RDONLY, &fh) < 0 || nfs_fstat64(nfs, fh, &st)) {
        fprintf(stderr, "open %s: %s\n", path, nfs_get_error(nfs));
        return 1;
    }
    if (st.nfs_size != size) {
        fprintf(stderr, "%s: size %llu, want %llu\n", path,
                (unsigned long long)st.nfs_size, (unsigned long long)size);
        return 1;
    }
    char *buf = malloc(65536);
    for (uint64_t off = 0; off < size; off += 65536) {
        uint64_t n = size - off < 65536 ? size - off : 65536;
        if (read_all(nfs, fh, off, buf, n) != (int)n) {
            fprintf(stderr, "%s: short read at %llu\n", path,
                    (unsigned long long)off);
            return 1;
        }
        for (uint64_t i = 0; i < n; i++)
            if ((unsigned char)buf[i] != pattern(off + i)) {
                fprintf(stderr, "%s: wrong byte at %llu\n", path,
                        (unsigned long long)(off + i));
                return 1;
            }
    }
    free(buf);
    nfs_close(nfs, fh);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s PORT basic|bench N|put PATH SIZE|check "
                        "PATH SIZE|unlink PATH|pwrite PATH OFF TEXT|"
                        "lock PATH SECS|samename\n", argv[0]);
        return 2;
    }
    port = atoi(argv[1]);
    const char *mode = argv[2];
    char name[64];
    snprintf(name, sizeof(name), "nfs_api-%d-main", (int)getpid());
    if (strcmp(mode, "samename") == 0) {
        test_samename();
        printf("%d passed, %d failed\n", npass, nfail);
        return nfail ? 1 : 0;
    }
    struct nfs_context *nfs = mount_as(name, NULL);
    if (!nfs)
        return 1;
    int rc = 0;
    if (strcmp(mode, "basic") == 0) {
        test_files(nfs);
        test_bigdir(nfs, 5000, 1);
        test_two_clients();
        test_locks();
        printf("%d passed, %d failed\n", npass, nfail);
        rc = nfail ? 1 : 0;
    } else if (strcmp(mode, "bench") == 0 && argc > 3) {
        test_bigdir(nfs, atoi(argv[3]), 1);
        rc = nfail ? 1 : 0;
    } else if (strcmp(mode, "put") == 0 && argc > 4) {
        rc = put(nfs, argv[3], strtoull(argv[4], NULL, 10));
    } else if (strcmp(mode, "pwrite") == 0 && argc > 5) {
        struct nfsfh *fh;
        rc = nfs_open(nfs, argv[3], O_WRONLY, &fh) < 0 &&
             nfs_creat(nfs, argv[3], 0644, &fh) < 0;
        if (!rc)
            rc = write_chunks(nfs, fh, strtoull(argv[4], NULL, 10), argv[5],
                              strlen(argv[5])) < 0 ||
                 nfs_fsync(nfs, fh) < 0 || nfs_close(nfs, fh) < 0;
        if (rc)
            fprintf(stderr, "pwrite %s: %s\n", argv[3], nfs_get_error(nfs));
    } else if (strcmp(mode, "lock") == 0 && argc > 4) {
        rc = hold_lock(nfs, argv[3], atoi(argv[4]));
    } else if (strcmp(mode, "unlink") == 0 && argc > 3) {
        rc = nfs_unlink(nfs, argv[3]) < 0;
        if (rc)
            fprintf(stderr, "unlink %s: %s\n", argv[3], nfs_get_error(nfs));
    } else if (strcmp(mode, "check") == 0 && argc > 4) {
        rc = verify(nfs, argv[3], strtoull(argv[4], NULL, 10));
    } else {
        fprintf(stderr, "bad arguments\n");
        rc = 2;
    }
    nfs_umount(nfs);
    nfs_destroy_context(nfs);
    return rc;
}
