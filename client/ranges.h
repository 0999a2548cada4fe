/* ranges.h - a set of byte ranges [s, e) within one block, kept sorted
 * and merged: which bytes of a dirty block this client wrote. */
#ifndef FLEXFS_CLIENT_RANGES_H
#define FLEXFS_CLIENT_RANGES_H

#include <stddef.h>
#include <stdint.h>

struct range {
    uint32_t s, e;
};

struct ranges {
    uint32_t n;
    size_t cap;
    struct range *v;
};

/* Adds [s, e); 0 or -ENOMEM. */
int ranges_add(struct ranges *r, uint32_t s, uint32_t e);
/* Forgets every byte at or past end. */
void ranges_trim(struct ranges *r, uint32_t end);
/* End of the last range (0 if empty). */
uint32_t ranges_end(const struct ranges *r);
/* Does the set cover [0, len)? */
int ranges_cover(const struct ranges *r, uint32_t len);
void ranges_free(struct ranges *r);

#endif
