/* nfs4_fh.c - NFSv4 file handles: (volume id, inode, generation), or the
 * pseudo-root whose children are the volumes.
 *
 * A handle holds only numbers the core keeps forever (inode numbers are
 * never reused, generations never change), so handles stay valid across
 * gateway restarts (fh_expire_type FH4_PERSISTENT).  Wire form, 28 bytes:
 *   magic 0xF4, format 1, kind, 0, volume (8, BE), inode (8), generation (8).
 * Anything else is NFS4ERR_BADHANDLE; a well-formed handle whose inode is
 * gone is NFS4ERR_STALE (decided by the caller, which asks the core). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nfs4_int.h"

#define FH_MAGIC  0xF4
#define FH_FORMAT 1

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

void nfs4_fh_root(struct nfs4_fh *out)
{
    memset(out, 0, sizeof(*out));
    out->kind = NFS4_FH_ROOT;
}

int nfs4_fh_pack(const struct nfs4_fh *fh, nfs_fh4 *out)
{
    unsigned char *p = malloc(NFS4_FH_BYTES);
    if (!p)
        return -ENOMEM;
    p[0] = FH_MAGIC;
    p[1] = FH_FORMAT;
    p[2] = fh->kind;
    p[3] = 0;
    put64(p + 4, fh->vol);
    put64(p + 12, fh->ino);
    put64(p + 20, fh->gen);
    out->nfs_fh4_val = (char *)p;
    out->nfs_fh4_len = NFS4_FH_BYTES;
    return 0;
}

nfsstat4 nfs4_fh_unpack(const char *buf, u_int len, struct nfs4_fh *out)
{
    const unsigned char *p = (const unsigned char *)buf;
    if (len != NFS4_FH_BYTES || p[0] != FH_MAGIC || p[1] != FH_FORMAT ||
        p[3] != 0)
        return NFS4ERR_BADHANDLE;
    out->kind = p[2];
    out->vol = get64(p + 4);
    out->ino = get64(p + 12);
    out->gen = get64(p + 20);
    switch (out->kind) {
    case NFS4_FH_ROOT:
        if (out->vol || out->ino || out->gen)
            return NFS4ERR_BADHANDLE;
        return NFS4_OK;
    case NFS4_FH_INODE:
        return out->ino ? NFS4_OK : NFS4ERR_BADHANDLE;
    default:
        return NFS4ERR_BADHANDLE;
    }
}

int nfs4_fh_equal(const struct nfs4_fh *a, const struct nfs4_fh *b)
{
    return a->kind == b->kind && a->vol == b->vol && a->ino == b->ino &&
           a->gen == b->gen;
}
