/* nfs4_data.h - file data for the NFS front end: READ and WRITE through
 * the block layer the FUSE client uses (blocks in the store by blockkey,
 * new immutable versions, meta_commit_write with base versions), and the
 * buffer that holds UNSTABLE writes until COMMIT. */
#ifndef FLEXFS_NFS4_DATA_H
#define FLEXFS_NFS4_DATA_H

#include <stdint.h>

#include "nfs4_int.h"

int nfs4_data_create(struct nfs4_server *s);
/* Commits what can be committed and frees the buffer. */
void nfs4_data_destroy(struct nfs4_server *s);

/* Reads up to len bytes at off (committed data with buffered writes laid
 * over it); *got is what was read, *eof whether it reached the end. */
int nfs4_data_read(struct nfs4_server *s, const struct meta_cred *cr,
                   uint64_t vol, uint64_t ino, uint64_t off, uint32_t len,
                   char *buf, uint32_t *got, int *eof);
/* Writes len bytes at off: buffered when !stable (made durable by
 * nfs4_data_commit), else committed before it returns. */
int nfs4_data_write(struct nfs4_server *s, const struct meta_cred *cr,
                    uint64_t vol, uint64_t ino, uint64_t off,
                    const void *buf, uint32_t len, int stable);
/* Makes the buffered writes of ino durable. */
int nfs4_data_commit(struct nfs4_server *s, uint64_t ino);
/* Forgets the buffered writes of ino (its inode is gone). */
void nfs4_data_drop(struct nfs4_server *s, uint64_t ino);
/* Writes buffered for ino: how many since the last commit (0: none), the
 * end of the furthest and the time of the last. */
uint32_t nfs4_data_pending(struct nfs4_server *s, uint64_t ino,
                           uint64_t *end, struct meta_time *mtime);
/* Whether any file has writes buffered (a hint: one may come at once). */
int nfs4_data_any(struct nfs4_server *s);
/* Commits every file whose oldest buffered write is older than age
 * seconds (the reaper's job, so nothing stays unstable for long). */
void nfs4_data_commit_aged(struct nfs4_server *s, int64_t age);

#endif
