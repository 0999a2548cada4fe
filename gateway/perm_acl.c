/* perm_acl.c - POSIX ACLs in the kernel's xattr format (see perm_acl.h):
 * decode and validate, encode, the access check, and the mode arithmetic
 * of chmod, of setting an ACL and of inheritance. */
#include "config.h"
#include "perm_acl.h"
#include "perm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void le16_put(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void le32_put(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

static struct acl_entry raw_entry(const uint8_t *buf, uint32_t i)
{
    const uint8_t *p = buf + ACL_HEADER_LEN + (size_t)i * ACL_ENTRY_LEN;
    return (struct acl_entry){ le16(p), le16(p + 2), le32(p + 4) };
}

/* The order rules of posix_acl_valid(), plus strictly increasing named
 * ids (what libacl writes; it also rules out duplicates). */
static int acl_valid(const struct acl *a)
{
    uint32_t state = ACL_USER_OBJ, last = 0;
    int needs_mask = 0, have_named = 0;
    for (uint32_t i = 0; i < a->n; i++) {
        const struct acl_entry *e = &a->e[i];
        if (e->perm & ~7u)
            return -EINVAL;
        switch (e->tag) {
        case ACL_USER_OBJ:
            if (state != ACL_USER_OBJ)
                return -EINVAL;
            state = ACL_USER;
            have_named = 0;
            break;
        case ACL_USER:
        case ACL_GROUP:
            if (state != e->tag || e->id == ACL_UNDEFINED_ID ||
                (have_named && e->id <= last))
                return -EINVAL;
            last = e->id;
            have_named = 1;
            needs_mask = 1;
            break;
        case ACL_GROUP_OBJ:
            if (state != ACL_USER)
                return -EINVAL;
            state = ACL_GROUP;
            have_named = 0;
            break;
        case ACL_MASK:
            if (state != ACL_GROUP)
                return -EINVAL;
            state = ACL_OTHER;
            break;
        case ACL_OTHER:
            if (state != ACL_OTHER && !(state == ACL_GROUP && !needs_mask))
                return -EINVAL;
            state = 0;
            break;
        default:
            return -EINVAL;
        }
    }
    return state == 0 ? 0 : -EINVAL;
}

int acl_decode(const void *buf, size_t len, struct acl *out)
{
    const uint8_t *p = buf;
    out->n = 0;
    out->e = NULL;
    if (len < ACL_HEADER_LEN || (len - ACL_HEADER_LEN) % ACL_ENTRY_LEN ||
        le32(p) != ACL_XATTR_VERSION)
        return -EINVAL;
    size_t n = (len - ACL_HEADER_LEN) / ACL_ENTRY_LEN;
    if (n == 0)
        return 0;
    if (n > ACL_MAX_ENTRIES)
        return -EINVAL;
    out->e = malloc(n * sizeof(*out->e));
    if (!out->e)
        return -ENOMEM;
    out->n = (uint32_t)n;
    for (uint32_t i = 0; i < out->n; i++) {
        out->e[i] = raw_entry(p, i);
        if (out->e[i].tag != ACL_USER && out->e[i].tag != ACL_GROUP)
            out->e[i].id = ACL_UNDEFINED_ID;
    }
    int rc = acl_valid(out);
    if (rc)
        acl_free(out);
    return rc;
}

size_t acl_size(const struct acl *a)
{
    return ACL_HEADER_LEN + (size_t)a->n * ACL_ENTRY_LEN;
}

void acl_encode(const struct acl *a, void *buf)
{
    uint8_t *p = buf;
    le32_put(p, ACL_XATTR_VERSION);
    for (uint32_t i = 0; i < a->n; i++) {
        uint8_t *q = p + ACL_HEADER_LEN + (size_t)i * ACL_ENTRY_LEN;
        const struct acl_entry *e = &a->e[i];
        le16_put(q, e->tag);
        le16_put(q + 2, e->perm);
        le32_put(q + 4, e->tag == ACL_USER || e->tag == ACL_GROUP
                            ? e->id : ACL_UNDEFINED_ID);
    }
}

void acl_free(struct acl *a)
{
    free(a->e);
    a->e = NULL;
    a->n = 0;
}

int acl_dup(const struct acl *a, struct acl *out)
{
    out->n = 0;
    out->e = NULL;
    if (a->n == 0)
        return 0;
    out->e = malloc(a->n * sizeof(*out->e));
    if (!out->e)
        return -ENOMEM;
    memcpy(out->e, a->e, a->n * sizeof(*out->e));
    out->n = a->n;
    return 0;
}

static struct acl_entry *acl_find(struct acl *a, uint16_t tag)
{
    for (uint32_t i = 0; i < a->n; i++)
        if (a->e[i].tag == tag)
            return &a->e[i];
    return NULL;
}

int acl_equiv_mode(const struct acl *a, uint32_t *mode)
{
    uint32_t bits = 0;
    int not_equiv = 0;
    for (uint32_t i = 0; i < a->n; i++) {
        const struct acl_entry *e = &a->e[i];
        switch (e->tag) {
        case ACL_USER_OBJ:
            bits |= (uint32_t)(e->perm & 7) << 6;
            break;
        case ACL_GROUP_OBJ:
            bits |= (uint32_t)(e->perm & 7) << 3;
            break;
        case ACL_OTHER:
            bits |= e->perm & 7u;
            break;
        case ACL_MASK:
            /* The mask, not the owning group, is the group class. */
            bits = (bits & ~(uint32_t)S_IRWXG) | (uint32_t)(e->perm & 7) << 3;
            not_equiv = 1;
            break;
        default:
            not_equiv = 1;
            break;
        }
    }
    *mode = (*mode & ~(uint32_t)0777) | bits;
    return not_equiv;
}

void acl_apply_mode(struct acl *a, uint32_t mode)
{
    struct acl_entry *mask = acl_find(a, ACL_MASK);
    struct acl_entry *grp = mask ? mask : acl_find(a, ACL_GROUP_OBJ);
    struct acl_entry *u = acl_find(a, ACL_USER_OBJ);
    struct acl_entry *o = acl_find(a, ACL_OTHER);
    if (u)
        u->perm = (uint16_t)((mode >> 6) & 7);
    if (grp)
        grp->perm = (uint16_t)((mode >> 3) & 7);
    if (o)
        o->perm = (uint16_t)(mode & 7);
}

/* posix_acl_create_masq(): each class of the ACL and of the mode limit
 * each other. */
int acl_create_masq(struct acl *a, uint32_t *mode)
{
    uint32_t m = *mode;
    struct acl_entry *group_obj = NULL, *mask = NULL;
    int not_equiv = 0;
    for (uint32_t i = 0; i < a->n; i++) {
        struct acl_entry *e = &a->e[i];
        switch (e->tag) {
        case ACL_USER_OBJ:
            e->perm &= (uint16_t)((m >> 6) & 7);
            m &= ((uint32_t)e->perm << 6) | ~(uint32_t)S_IRWXU;
            break;
        case ACL_GROUP_OBJ:
            group_obj = e;
            break;
        case ACL_OTHER:
            e->perm &= (uint16_t)(m & 7);
            m &= e->perm | ~(uint32_t)S_IRWXO;
            break;
        case ACL_MASK:
            mask = e;
            not_equiv = 1;
            break;
        default:
            not_equiv = 1;
            break;
        }
    }
    struct acl_entry *g = mask ? mask : group_obj;
    if (g) {
        g->perm &= (uint16_t)((m >> 3) & 7);
        m &= ((uint32_t)g->perm << 3) | ~(uint32_t)S_IRWXG;
    }
    *mode = m;
    return not_equiv;
}

/* posix_acl_permission(), on the stored bytes: the first entry that
 * names the caller decides, named entries and the owning group under the
 * mask.  The owner and other entries and the mask come from the mode. */
int acl_permission(const struct meta_cred *cr, uint32_t uid, uint32_t gid,
                   uint32_t mode, const void *buf, size_t len, int want)
{
    const uint8_t *p = buf;
    if (len < ACL_HEADER_LEN || (len - ACL_HEADER_LEN) % ACL_ENTRY_LEN ||
        le32(p) != ACL_XATTR_VERSION)
        return -EAGAIN;
    uint32_t n = (uint32_t)((len - ACL_HEADER_LEN) / ACL_ENTRY_LEN);
    int has_mask = 0;
    for (uint32_t i = 0; i < n; i++)
        if (raw_entry(p, i).tag == ACL_MASK)
            has_mask = 1;
    if (n == 0)
        return -EAGAIN;
    uint32_t maskperm = has_mask ? (mode >> 3) & 7 : 7;
    int found = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct acl_entry e = raw_entry(p, i);
        uint32_t perm = e.perm;
        switch (e.tag) {
        case ACL_USER_OBJ:
            if (cr->uid == uid)
                return (((mode >> 6) & 7) & (uint32_t)want) ==
                       (uint32_t)want ? 0 : -EACCES;
            break;
        case ACL_USER:
            if (cr->uid == e.id)
                return (perm & maskperm & (uint32_t)want) == (uint32_t)want
                       ? 0 : -EACCES;
            break;
        case ACL_GROUP_OBJ:
            if (!has_mask)
                perm = (mode >> 3) & 7;
            /* fall through */
        case ACL_GROUP:
            if (perm_in_group(cr, e.tag == ACL_GROUP ? e.id : gid)) {
                found = 1;
                if ((perm & (uint32_t)want) == (uint32_t)want)
                    return (perm & maskperm & (uint32_t)want) ==
                           (uint32_t)want ? 0 : -EACCES;
            }
            break;
        case ACL_MASK:
            break;
        case ACL_OTHER:
            if (found)
                return -EACCES;
            return ((mode & 7) & (uint32_t)want) == (uint32_t)want
                   ? 0 : -EACCES;
        default:
            return -EAGAIN;
        }
    }
    return -EAGAIN;
}
