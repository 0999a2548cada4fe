/* client_records.c - test helper for concurrent writers: each writer
 * fills its own fixed-size records, interleaved with the other writers'
 * records in the same blocks of one shared file.
 *
 *   client_records write PATH ID NWRITERS NREC RECSZ fsync|direct
 *   client_records verify PATH NWRITERS NREC RECSZ
 *
 * Record k of writer ID sits at offset (k * NWRITERS + ID) * RECSZ and is
 * filled with a pattern naming both, so verify can tell whose it is. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void fill(unsigned char *buf, size_t len, unsigned id, unsigned k)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)((id * 131 + k * 7 + i) & 0xff);
    snprintf((char *)buf, len, "writer %u record %u", id, k);
}

static int do_write(int argc, char **argv)
{
    if (argc != 8)
        return 2;
    unsigned id = (unsigned)atoi(argv[3]);
    unsigned nw = (unsigned)atoi(argv[4]);
    unsigned nrec = (unsigned)atoi(argv[5]);
    size_t recsz = strtoul(argv[6], NULL, 0);
    int direct = strcmp(argv[7], "direct") == 0;
    int fd = open(argv[2], O_WRONLY | O_CREAT | (direct ? O_DIRECT : 0),
                  0644);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    unsigned char *buf;
    if (posix_memalign((void **)&buf, 4096, recsz))
        return 1;
    for (unsigned k = 0; k < nrec; k++) {
        fill(buf, recsz, id, k);
        off_t off = (off_t)((size_t)(k * nw + id) * recsz);
        ssize_t n = pwrite(fd, buf, recsz, off);
        if (n != (ssize_t)recsz) {
            fprintf(stderr, "writer %u: pwrite record %u: %s\n", id, k,
                    n < 0 ? strerror(errno) : "short");
            return 1;
        }
        if (!direct && fsync(fd) < 0) {
            fprintf(stderr, "writer %u: fsync record %u: %s\n", id, k,
                    strerror(errno));
            return 1;
        }
    }
    if (close(fd) < 0) {
        perror("close");
        return 1;
    }
    free(buf);
    return 0;
}

static int do_verify(int argc, char **argv)
{
    if (argc != 6)
        return 2;
    unsigned nw = (unsigned)atoi(argv[3]);
    unsigned nrec = (unsigned)atoi(argv[4]);
    size_t recsz = strtoul(argv[5], NULL, 0);
    int fd = open(argv[2], O_RDONLY);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    unsigned char *want = malloc(recsz), *got = malloc(recsz);
    int bad = 0;
    for (unsigned k = 0; k < nrec; k++)
        for (unsigned id = 0; id < nw; id++) {
            off_t off = (off_t)((size_t)(k * nw + id) * recsz);
            fill(want, recsz, id, k);
            ssize_t n = pread(fd, got, recsz, off);
            if (n != (ssize_t)recsz || memcmp(want, got, recsz) != 0) {
                if (bad++ < 10)
                    fprintf(stderr, "record %u of writer %u is wrong\n", k,
                            id);
            }
        }
    close(fd);
    if (bad)
        fprintf(stderr, "%d bad records\n", bad);
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    int rc = 2;
    if (argc > 2 && strcmp(argv[1], "write") == 0)
        rc = do_write(argc, argv);
    else if (argc > 2 && strcmp(argv[1], "verify") == 0)
        rc = do_verify(argc, argv);
    if (rc == 2)
        fprintf(stderr, "usage: %s write PATH ID NWRITERS NREC RECSZ "
                "fsync|direct\n       %s verify PATH NWRITERS NREC RECSZ\n",
                argv[0], argv[0]);
    return rc;
}
