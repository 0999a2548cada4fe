/* ranges.c - sorted, merged byte ranges (see ranges.h).  A binary search
 * finds the first range that could touch the new one; the ranges it
 * overlaps or abuts are folded into it. */
#include "config.h"
#include "ranges.h"
#include "grow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ranges_add(struct ranges *r, uint32_t s, uint32_t e)
{
    if (s >= e)
        return 0;
    /* First range whose end reaches s. */
    uint32_t lo = 0, hi = r->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r->v[mid].e < s)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t j = lo;
    while (j < r->n && r->v[j].s <= e) {
        if (r->v[j].s < s)
            s = r->v[j].s;
        if (r->v[j].e > e)
            e = r->v[j].e;
        j++;
    }
    if (j > lo) {
        /* Replace ranges [lo, j) by the merged one. */
        r->v[lo].s = s;
        r->v[lo].e = e;
        memmove(&r->v[lo + 1], &r->v[j], (r->n - j) * sizeof(r->v[0]));
        r->n -= j - lo - 1;
        return 0;
    }
    struct range *v = grow_room(r->v, r->n, &r->cap, sizeof(*v), 4);
    if (!v)
        return -ENOMEM;
    r->v = v;
    memmove(&r->v[lo + 1], &r->v[lo], (r->n - lo) * sizeof(r->v[0]));
    r->v[lo].s = s;
    r->v[lo].e = e;
    r->n++;
    return 0;
}

void ranges_trim(struct ranges *r, uint32_t end)
{
    while (r->n > 0 && r->v[r->n - 1].s >= end)
        r->n--;
    if (r->n > 0 && r->v[r->n - 1].e > end)
        r->v[r->n - 1].e = end;
}

uint32_t ranges_end(const struct ranges *r)
{
    return r->n ? r->v[r->n - 1].e : 0;
}

int ranges_cover(const struct ranges *r, uint32_t len)
{
    return r->n == 1 && r->v[0].s == 0 && r->v[0].e >= len;
}

void ranges_free(struct ranges *r)
{
    free(r->v);
    memset(r, 0, sizeof(*r));
}
