/* perm_acl.h - POSIX.1e access control lists as Linux keeps them in the
 * xattrs system.posix_acl_access and system.posix_acl_default: the
 * kernel's binary format (little-endian: a version-2 header, then entries
 * of tag, perm and id), its validation, the access check with the mask,
 * and the mode arithmetic of chmod, of setting an ACL and of inheritance
 * on create (fs/posix_acl.c is the reference for every rule here).
 *
 * Pure functions, like perm.h: nothing here touches Berkeley DB. */
#ifndef FLEXFS_PERM_ACL_H
#define FLEXFS_PERM_ACL_H

#include <stddef.h>
#include <stdint.h>

#include "meta.h"

#define ACL_NAME_ACCESS   "system.posix_acl_access"
#define ACL_NAME_DEFAULT  "system.posix_acl_default"

#define ACL_XATTR_VERSION 2u
#define ACL_HEADER_LEN    4u
#define ACL_ENTRY_LEN     8u
#define ACL_UNDEFINED_ID  0xffffffffu
/* What a 64 KiB xattr value holds. */
#define ACL_MAX_ENTRIES   ((65536u - ACL_HEADER_LEN) / ACL_ENTRY_LEN)

/* Entry tags, as the kernel numbers them. */
#define ACL_USER_OBJ   0x01u
#define ACL_USER       0x02u
#define ACL_GROUP_OBJ  0x04u
#define ACL_GROUP      0x08u
#define ACL_MASK       0x10u
#define ACL_OTHER      0x20u

struct acl_entry {
    uint16_t tag, perm;                 /* perm: 4 read, 2 write, 1 exec */
    uint32_t id;                        /* ACL_USER, ACL_GROUP only */
};

/* A decoded ACL; e is malloc'd (NULL when n is 0). */
struct acl {
    uint32_t n;
    struct acl_entry *e;
};

/* Decodes and validates an xattr value: version, size, tags, perms,
 * order (USER_OBJ, USER..., GROUP_OBJ, GROUP..., MASK, OTHER), named ids
 * strictly increasing (so no duplicates), the three base entries present
 * and a mask wherever named entries are.  A bare header decodes to an
 * empty ACL (n 0: "no ACL").  -EINVAL if malformed, -ENOMEM. */
int acl_decode(const void *buf, size_t len, struct acl *out);
/* Bytes acl_encode writes. */
size_t acl_size(const struct acl *a);
/* Writes the xattr form; ids of the base entries as ACL_UNDEFINED_ID. */
void acl_encode(const struct acl *a, void *buf);
void acl_free(struct acl *a);
/* A copy of a (-ENOMEM). */
int acl_dup(const struct acl *a, struct acl *out);

/* The mode's permission bits an ACL stands for, merged into *mode (type
 * and special bits kept).  Returns 0 when the ACL says no more than those
 * bits (only the three base entries: not worth storing), 1 otherwise. */
int acl_equiv_mode(const struct acl *a, uint32_t *mode);
/* chmod on an inode with an ACL: owner, other and the mask (or, without
 * a mask, the owning group) entries take the mode's bits. */
void acl_apply_mode(struct acl *a, uint32_t mode);
/* Inheritance: a parent's default ACL becomes the new inode's access ACL
 * with each class limited by the create mode, and *mode limited by the
 * ACL.  Returns 1 when the result must be stored, 0 when the mode says
 * it all. */
int acl_create_masq(struct acl *a, uint32_t *mode);

/* The access check of an inode (owner, group, mode) with the access ACL
 * in buf/len (the stored xattr; its base entries are taken from the mode,
 * which chmod keeps in step).  want: PERM_* bits.  0 or -EACCES; -EAGAIN
 * if the value cannot be read as an ACL (check the mode bits instead). */
int acl_permission(const struct meta_cred *cr, uint32_t uid, uint32_t gid,
                   uint32_t mode, const void *buf, size_t len, int want);

#endif
