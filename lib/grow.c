/* grow.c - room in growing arrays (see grow.h). */
#include "config.h"
#include "grow.h"

#include <stdint.h>
#include <stdlib.h>

void *grow_room(void *arr, size_t n, size_t *cap, size_t elem, size_t first)
{
    if (n < *cap)
        return arr;
    size_t room = *cap ? *cap * 2 : first;
    if (room <= n)
        room = n + 1;
    if (elem && room > SIZE_MAX / elem)
        return NULL;
    void *p = realloc(arr, room * elem);
    if (p)
        *cap = room;
    return p;
}
