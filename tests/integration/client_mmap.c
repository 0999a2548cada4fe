/* client_mmap.c - test helper: writes a file through a shared writable
 * mapping, then reads it back with read(2) after reopening it.
 *
 *   client_mmap PATH SIZE [msync|nosync]
 *
 * The pattern of byte i is (i * 7 + i / 4096) & 0xff. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static unsigned char pat(size_t i)
{
    return (unsigned char)((i * 7 + i / 4096) & 0xff);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s PATH SIZE [msync|nosync]\n", argv[0]);
        return 2;
    }
    size_t size = strtoull(argv[2], NULL, 0);
    int do_sync = argc < 4 || strcmp(argv[3], "nosync") != 0;
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
        perror("open/ftruncate");
        return 1;
    }
    unsigned char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
                            fd, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (size_t i = 0; i < size; i++)
        m[i] = pat(i);
    if (do_sync && msync(m, size, MS_SYNC) < 0) {
        perror("msync");
        return 1;
    }
    if (munmap(m, size) < 0 || close(fd) < 0) {
        perror("munmap/close");
        return 1;
    }
    fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        perror("reopen");
        return 1;
    }
    unsigned char *buf = malloc(size);
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n <= 0) {
            fprintf(stderr, "short read at %zu\n", got);
            return 1;
        }
        got += (size_t)n;
    }
    for (size_t i = 0; i < size; i++)
        if (buf[i] != pat(i)) {
            fprintf(stderr, "byte %zu is %u, want %u\n", i, buf[i], pat(i));
            return 1;
        }
    close(fd);
    free(buf);
    return 0;
}
