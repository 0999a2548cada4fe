/* blockkey.h - names of block objects in the store.
 *
 * A block object is "<volume>/<inode>/<block index>.<version>", numbers in
 * lower-case hex without padding (the store adds its prefix), as decision
 * 3 of DESIGN.md fixes.  Versions are never reused: the upper 32 bits are
 * the writer's session id, the lower 32 bits a counter in that session. */
#ifndef FLEXFS_BLOCKKEY_H
#define FLEXFS_BLOCKKEY_H

#include <stddef.h>
#include <stdint.h>

#define BLOCKKEY_MAX 96

struct blockkey {
    uint64_t volume, ino, index, version;
};

/* Returns the length written, or -ENAMETOOLONG. */
int blockkey_format(char *buf, size_t len, const struct blockkey *k);
/* Prefix of all blocks of one inode: "<volume>/<inode>/". */
int blockkey_inode_prefix(char *buf, size_t len, uint64_t volume,
                          uint64_t ino);
/* 0, or -EINVAL if key is not a block key. */
int blockkey_parse(const char *key, struct blockkey *out);

#endif
