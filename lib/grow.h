/* grow.h - room in the arrays that lists collect into: capacity doubles
 * when the array is full, so n appends cost O(n) copying in all. */
#ifndef FLEXFS_GROW_H
#define FLEXFS_GROW_H
#include <stddef.h>

/* Room for item n of an array of elem-byte items that has room for
 * *cap: returns arr itself while n < *cap, else arr reallocated to twice
 * the room (`first` items for an empty one) with *cap updated.  NULL
 * when memory ran out; arr and *cap are then unchanged and still valid. */
void *grow_room(void *arr, size_t n, size_t *cap, size_t elem, size_t first);

#endif
