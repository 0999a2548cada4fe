/* mdbench.c - an mdtest-like metadata benchmark: create, stat, readdir and
 * unlink of many empty files, in one directory or spread over many, from
 * several threads.  The target is a directory of any mounted file system,
 * or an NFSv4 URL driven through libnfs, so the flexfs gateway and another
 * NFS server are measured by the same client.
 *
 *   mdbench [-t THREADS] [-n FILES] [-d DIRS] [-p PHASES] [-j] TARGET
 *   TARGET: /some/dir  or  nfs://127.0.0.1/export/dir?version=4&nfsport=N
 *   PHASES: a comma list of create,stat,readdir,unlink (default: all, in
 *   that order), so a caller can create, look with other tools, and
 *   unlink later.  TARGET is made if it is missing.
 *
 * Prints one line per phase ("create 20000 files 1.23 s 16260 ops/s"), or
 * a JSON object with -j.  Directory counts leave out "." and "..", as
 * NFSv4 READDIR does. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nfsc/libnfs.h>

struct bench {
    const char *target;         /* directory path, or the path inside NFS */
    int nfs;
    char nfs_url[1024];
    unsigned threads, files, dirs;
};

struct worker {
    struct bench *b;
    unsigned id;
    struct nfs_context *nfs;
    long long done;
    int err;
};

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void dir_path(const struct bench *b, unsigned d, char *buf, size_t n)
{
    if (b->dirs <= 1)
        snprintf(buf, n, "%s", b->target);
    else
        snprintf(buf, n, "%s/d%u", b->target, d);
}

static void file_path(const struct bench *b, unsigned i, char *buf, size_t n)
{
    char dir[1024];
    dir_path(b, i % (b->dirs ? b->dirs : 1), dir, sizeof(dir));
    snprintf(buf, n, "%s/f%u", dir, i);
}

/* ---- the operations, on a path or through libnfs ---- */

static int op_mkdir(struct worker *w, const char *path)
{
    if (w->nfs) {
        int rc = nfs_mkdir(w->nfs, path);
        return rc == -EEXIST ? 0 : rc;
    }
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -errno;
}

static int op_create(struct worker *w, const char *path)
{
    if (w->nfs) {
        struct nfsfh *fh;
        int rc = nfs_creat(w->nfs, path, 0644, &fh);
        if (rc == 0)
            rc = nfs_close(w->nfs, fh);
        return rc;
    }
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd < 0)
        return -errno;
    return close(fd) == 0 ? 0 : -errno;
}

static int op_stat(struct worker *w, const char *path)
{
    if (w->nfs) {
        struct nfs_stat_64 st;
        return nfs_stat64(w->nfs, path, &st);
    }
    struct stat st;
    return stat(path, &st) == 0 ? 0 : -errno;
}

static int op_unlink(struct worker *w, const char *path)
{
    if (w->nfs)
        return nfs_unlink(w->nfs, path);
    return unlink(path) == 0 ? 0 : -errno;
}

static int op_rmdir(struct worker *w, const char *path)
{
    if (w->nfs)
        return nfs_rmdir(w->nfs, path);
    return rmdir(path) == 0 ? 0 : -errno;
}

/* Lists a directory; returns the number of entries or a negative errno. */
static long op_list(struct worker *w, const char *path)
{
    long n = 0;
    if (w->nfs) {
        struct nfsdir *d;
        int rc = nfs_opendir(w->nfs, path, &d);
        if (rc)
            return rc;
        while (nfs_readdir(w->nfs, d))
            n++;
        nfs_closedir(w->nfs, d);
        return n;
    }
    DIR *d = opendir(path);
    if (!d)
        return -errno;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* ---- phases ---- */

enum phase { PH_CREATE, PH_STAT, PH_READDIR, PH_UNLINK };
static const char *const phase_names[] = {"create", "stat", "readdir", "unlink"};

struct phase_arg {
    struct worker *w;
    enum phase phase;
};

static void *run_phase(void *arg)
{
    struct phase_arg *pa = arg;
    struct worker *w = pa->w;
    struct bench *b = w->b;
    char path[2048];

    if (pa->phase == PH_READDIR) {
        for (unsigned d = w->id; d < (b->dirs ? b->dirs : 1); d += b->threads) {
            dir_path(b, d, path, sizeof(path));
            long n = op_list(w, path);
            if (n < 0) {
                w->err = (int)n;
                return NULL;
            }
            w->done += n;
        }
        return NULL;
    }
    for (unsigned i = w->id; i < b->files; i += b->threads) {
        file_path(b, i, path, sizeof(path));
        int rc = pa->phase == PH_CREATE ? op_create(w, path)
               : pa->phase == PH_STAT   ? op_stat(w, path)
                                        : op_unlink(w, path);
        if (rc) {
            fprintf(stderr, "mdbench: %s %s: %s\n", phase_names[pa->phase],
                    path, strerror(-rc));
            w->err = rc;
            return NULL;
        }
        w->done++;
    }
    return NULL;
}

static int nfs_connect(struct bench *b, struct worker *w)
{
    w->nfs = nfs_init_context();
    if (!w->nfs)
        return -ENOMEM;
    char name[128];
    snprintf(name, sizeof(name), "mdbench-%d-%u-%ld", (int)getpid(), w->id,
             (long)time(NULL));
    nfs4_set_client_name(w->nfs, name);
    struct nfs_url *url = nfs_parse_url_dir(w->nfs, b->nfs_url);
    if (!url) {
        fprintf(stderr, "mdbench: bad URL: %s\n", nfs_get_error(w->nfs));
        return -EINVAL;
    }
    int rc = nfs_mount(w->nfs, url->server, "/");
    if (rc) {
        fprintf(stderr, "mdbench: mount %s: %s\n", url->server,
                nfs_get_error(w->nfs));
    } else if (!b->target) {
        b->target = strdup(url->path);
    }
    nfs_destroy_url(url);
    return rc;
}

static double time_phase(struct bench *b, struct worker *ws, enum phase ph,
                         long long *ops)
{
    pthread_t tids[256];
    struct phase_arg args[256];
    double t0 = now_sec();
    for (unsigned i = 0; i < b->threads; i++) {
        ws[i].done = 0;
        args[i] = (struct phase_arg){&ws[i], ph};
        if (pthread_create(&tids[i], NULL, run_phase, &args[i]) != 0) {
            perror("pthread_create");
            exit(1);
        }
    }
    *ops = 0;
    for (unsigned i = 0; i < b->threads; i++) {
        pthread_join(tids[i], NULL);
        if (ws[i].err)
            exit(1);
        *ops += ws[i].done;
    }
    return now_sec() - t0;
}

static void usage(void)
{
    fprintf(stderr, "usage: mdbench [-t THREADS] [-n FILES] [-d DIRS] "
                    "[-p create,stat,readdir,unlink] [-j] "
                    "DIR|nfs://HOST/PATH?version=4&nfsport=N\n");
    exit(2);
}

/* Parses the -p list into a bit mask of phases; 0 on a bad name. */
static unsigned parse_phases(const char *list)
{
    unsigned mask = 0;
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        return 0;
    for (char *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int ph = PH_CREATE; ph <= PH_UNLINK; ph++)
            if (strcmp(tok, phase_names[ph]) == 0) {
                mask |= 1u << ph;
                found = 1;
            }
        if (!found) {
            free(copy);
            return 0;
        }
    }
    free(copy);
    return mask;
}

int main(int argc, char **argv)
{
    struct bench b = {.threads = 1, .files = 20000, .dirs = 1};
    int json = 0, opt;
    unsigned phases = (1u << (PH_UNLINK + 1)) - 1;
    while ((opt = getopt(argc, argv, "t:n:d:p:j")) != -1) {
        switch (opt) {
        case 't': b.threads = (unsigned)atoi(optarg); break;
        case 'n': b.files = (unsigned)atoi(optarg); break;
        case 'd': b.dirs = (unsigned)atoi(optarg); break;
        case 'p': phases = parse_phases(optarg); break;
        case 'j': json = 1; break;
        default: usage();
        }
    }
    if (optind != argc - 1 || b.threads < 1 || b.threads > 256 ||
        b.dirs < 1 || phases == 0)
        usage();
    if (strncmp(argv[optind], "nfs://", 6) == 0) {
        b.nfs = 1;
        snprintf(b.nfs_url, sizeof(b.nfs_url), "%s", argv[optind]);
    } else {
        b.target = argv[optind];
    }

    struct worker *ws = calloc(b.threads, sizeof(*ws));
    if (!ws)
        return 1;
    for (unsigned i = 0; i < b.threads; i++) {
        ws[i] = (struct worker){.b = &b, .id = i};
        if (b.nfs && nfs_connect(&b, &ws[i]) != 0)
            return 1;
    }
    char path[2048];
    if (op_mkdir(&ws[0], b.target) != 0) {
        fprintf(stderr, "mdbench: cannot make %s\n", b.target);
        return 1;
    }
    if (b.dirs > 1) {
        for (unsigned d = 0; d < b.dirs; d++) {
            dir_path(&b, d, path, sizeof(path));
            if (op_mkdir(&ws[0], path) != 0) {
                fprintf(stderr, "mdbench: mkdir %s failed\n", path);
                return 1;
            }
        }
    }

    if (json)
        printf("{\"threads\": %u, \"files\": %u, \"dirs\": %u", b.threads,
               b.files, b.dirs);
    for (int ph = PH_CREATE; ph <= PH_UNLINK; ph++) {
        if (!(phases & (1u << ph)))
            continue;
        long long ops;
        double secs = time_phase(&b, ws, (enum phase)ph, &ops);
        double rate = secs > 0 ? (double)ops / secs : 0;
        if (json)
            printf(", \"%s\": %.1f", phase_names[ph], rate);
        else
            printf("%-8s %lld entries %.3f s %.0f ops/s\n", phase_names[ph],
                   ops, secs, rate);
    }
    if (json)
        printf("}\n");
    if (b.dirs > 1 && (phases & (1u << PH_UNLINK)))
        for (unsigned d = 0; d < b.dirs; d++) {
            dir_path(&b, d, path, sizeof(path));
            op_rmdir(&ws[0], path);
        }
    for (unsigned i = 0; i < b.threads; i++)
        if (ws[i].nfs)
            nfs_destroy_context(ws[i].nfs);
    free(ws);
    return 0;
}
