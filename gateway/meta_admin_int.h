/* meta_admin_int.h - what meta_admin.c and meta_fsck.c share: walking a
 * whole database in short transactions, and decoders of the records the
 * core's own files write (their layouts are in meta_internal.h's table;
 * the decoders here mirror meta_blocks.c, meta_dirent.c and
 * meta_garbage.c, which keep theirs static). */
#ifndef FLEXFS_META_ADMIN_INT_H
#define FLEXFS_META_ADMIN_INT_H

#include "meta_internal.h"
#include "meta_admin.h"

/* Called for each record, outside any transaction (records are copied
 * out batch by batch, so a callback may run transactions of its own).
 * Return 0 to go on, a negative errno to stop. */
typedef int (*scan_fn)(void *arg, const uint8_t *key, size_t klen,
                       const uint8_t *val, size_t vlen);

/* Walks db in key order, SCAN_BATCH records per transaction; vmax > 0
 * reads only the first vmax bytes of each value.  cancelled (may be
 * NULL) is asked between batches. */
#define SCAN_BATCH 512
int scan_db(struct meta *m, enum meta_db db, size_t vmax, scan_fn fn,
            void *arg, int (*cancelled)(void *), void *carg);

/* blocks: (ino, index) -> version, length */
int block_rec_decode(const uint8_t *v, size_t len, uint64_t *version,
                     uint32_t *length);
/* dirents: (parent, name) -> ino, type, cookie */
int dirent_rec_decode(const uint8_t *v, size_t len, struct dirent_rec *out);
/* garbage: id -> time, volume, ino, index, version */
int garbage_rec_decode(const uint8_t *v, size_t len, int64_t *when,
                       struct meta_garbage *out);

/* Volumes being deleted (their records are gone; their inodes go batch by
 * batch): markers in the superblock database. */
#define VOLDEL_PREFIX     "admin.voldel."
#define VOLDEL_PREFIX_LEN 13
/* 1 if volume id is being deleted, 0 if not. */
int voldel_pending(struct tx *tx, uint64_t id);

#endif
