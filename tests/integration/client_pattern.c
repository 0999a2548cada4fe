/* client_pattern.c - test helper: writes the same pseudo-random pattern
 * at pseudo-random offsets into a file under test and a local reference
 * file, so the two can be compared by checksum.
 *
 *   client_pattern PATH REF SIZE COUNT SEED
 *
 * Both files end up SIZE bytes long (sparse where nothing was written).
 * The generator is seeded, so a run is repeatable. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t state;

static uint64_t next(void)
{
    /* xorshift64* */
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1dull;
}

static int pwrite_all(int fd, const char *buf, size_t len, off_t off)
{
    while (len) {
        ssize_t n = pwrite(fd, buf, len, off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s PATH REF SIZE COUNT SEED\n", argv[0]);
        return 2;
    }
    uint64_t size = strtoull(argv[3], NULL, 0);
    unsigned long count = strtoul(argv[4], NULL, 0);
    state = strtoull(argv[5], NULL, 0) | 1;
    if (size == 0) {
        fprintf(stderr, "SIZE must be > 0\n");
        return 2;
    }
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
    int ref = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ref < 0) {
        perror("open");
        return 1;
    }
    const size_t maxlen = 256 * 1024;
    char *buf = malloc(maxlen);
    if (!buf)
        return 1;
    for (unsigned long i = 0; i < count; i++) {
        uint64_t off = next() % size;
        size_t len = 1 + next() % maxlen;
        if (off + len > size)
            len = size - off;
        for (size_t j = 0; j < len; j += 8) {
            uint64_t v = next();
            memcpy(buf + j, &v, len - j < 8 ? len - j : 8);
        }
        if (pwrite_all(fd, buf, len, (off_t)off) < 0 ||
            pwrite_all(ref, buf, len, (off_t)off) < 0) {
            perror("pwrite");
            return 1;
        }
    }
    /* Make both exactly SIZE long. */
    char last = 'E';
    if (pwrite_all(fd, &last, 1, (off_t)size - 1) < 0 ||
        pwrite_all(ref, &last, 1, (off_t)size - 1) < 0) {
        perror("pwrite");
        return 1;
    }
    if (fsync(fd) < 0) {
        perror("fsync");
        return 1;
    }
    if (close(fd) < 0 || close(ref) < 0) {
        perror("close");
        return 1;
    }
    free(buf);
    return 0;
}
