/* fs.h - the FUSE low-level operations of mount.flexfs. */
#ifndef FLEXFS_CLIENT_FS_H
#define FLEXFS_CLIENT_FS_H

#include <stdint.h>

struct client;
struct fuse_lowlevel_ops;

extern const struct fuse_lowlevel_ops fs_ops;

/* Opens again, in a new session, every file open in this mount. */
void fs_reopen_all(void *client, uint64_t session);

#endif
