/* blockkey.c - names of block objects in the store (see blockkey.h). */
#include "config.h"
#include "blockkey.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int blockkey_format(char *buf, size_t len, const struct blockkey *k)
{
    int n = snprintf(buf, len, "%" PRIx64 "/%" PRIx64 "/%" PRIx64 ".%" PRIx64,
                     k->volume, k->ino, k->index, k->version);
    return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : n;
}

int blockkey_inode_prefix(char *buf, size_t len, uint64_t volume,
                          uint64_t ino)
{
    int n = snprintf(buf, len, "%" PRIx64 "/%" PRIx64 "/", volume, ino);
    return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : n;
}

/* One hex number ending at the given terminator. */
static int parse_hex(const char **p, char term, uint64_t *out)
{
    const char *s = *p;
    char *end;
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 16);
    if (errno || *end != term)
        return -EINVAL;
    *out = v;
    *p = term ? end + 1 : end;
    return 0;
}

int blockkey_parse(const char *key, struct blockkey *out)
{
    const char *p = key;
    if (parse_hex(&p, '/', &out->volume) || parse_hex(&p, '/', &out->ino) ||
        parse_hex(&p, '.', &out->index) || parse_hex(&p, '\0', &out->version))
        return -EINVAL;
    return 0;
}
