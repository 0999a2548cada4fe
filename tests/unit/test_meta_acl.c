/* test_meta_acl.c - unit tests of POSIX ACLs in the metadata core: the
 * kernel's binary format and its validation, the access check with the
 * mask for named users and groups (on every operation: open, lookup,
 * create), the mode kept in step both ways (setting an ACL, chmod), the
 * minimal ACL that is not stored, default ACLs only on directories and
 * their inheritance with the create mode masked (and no umask), removal,
 * and setgid clearing. */
#include "config.h"
#include "meta_testutil.h"
#include "perm.h"
#include "perm_acl.h"

#include <fcntl.h>

static const struct meta_cred *R = &tu_rootcred;
static struct meta_cred A, B, C;    /* A owns; B is named; C is in group 300 */
static uint64_t pub;

static void asetup(void)
{
    tu_setup();
    A = tu_cred(1000, 1000);
    B = tu_cred(2000, 2000);
    C = tu_cred(3000, 3000);
    C.ngroups = 1;
    C.groups[0] = 300;
    struct meta_attr a;
    ck_assert_int_eq(tu_mkdir(R, tu_root, "pub", 0777, &a), 0);
    pub = a.ino;
}

#define U_OBJ(p)   { ACL_USER_OBJ, p, ACL_UNDEFINED_ID }
#define USER(i, p) { ACL_USER, p, i }
#define G_OBJ(p)   { ACL_GROUP_OBJ, p, ACL_UNDEFINED_ID }
#define GROUP(i, p) { ACL_GROUP, p, i }
#define MASK(p)    { ACL_MASK, p, ACL_UNDEFINED_ID }
#define OTHER(p)   { ACL_OTHER, p, ACL_UNDEFINED_ID }

/* The xattr form of n entries (version v), into buf; returns its size. */
static size_t acl_bin(uint8_t *buf, uint32_t v, const struct acl_entry *e,
                      size_t n)
{
    buf[0] = (uint8_t)v;
    buf[1] = (uint8_t)(v >> 8);
    buf[2] = buf[3] = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = buf + 4 + 8 * i;
        p[0] = (uint8_t)e[i].tag;
        p[1] = (uint8_t)(e[i].tag >> 8);
        p[2] = (uint8_t)e[i].perm;
        p[3] = (uint8_t)(e[i].perm >> 8);
        for (int k = 0; k < 4; k++)
            p[4 + k] = (uint8_t)(e[i].id >> (8 * k));
    }
    return 4 + 8 * n;
}

#define NE(arr) (sizeof(arr) / sizeof((arr)[0]))

static int set_acl(const struct meta_cred *cr, uint64_t ino, const char *which,
                   const struct acl_entry *e, size_t n)
{
    uint8_t buf[512];
    size_t len = acl_bin(buf, ACL_XATTR_VERSION, e, n);
    return meta_setxattr(tu_m, cr, ino, which, strlen(which), buf, len, 0,
                         NULL);
}

/* Reads an ACL back decoded; returns the number of entries (or error). */
static int get_acl(uint64_t ino, const char *which, struct acl *out)
{
    uint8_t buf[512];
    int len = meta_getxattr(tu_m, &A, ino, which, strlen(which), buf,
                            sizeof(buf));
    if (len < 0)
        return len;
    ck_assert_int_eq(acl_decode(buf, (size_t)len, out), 0);
    return (int)out->n;
}

static uint16_t perm_of(const struct acl *a, uint16_t tag, uint32_t id)
{
    for (uint32_t i = 0; i < a->n; i++)
        if (a->e[i].tag == tag &&
            (a->e[i].id == id || id == ACL_UNDEFINED_ID))
            return a->e[i].perm;
    ck_abort_msg("no entry %#x/%u", tag, id);
    return 0;
}

static int opens(const struct meta_cred *cr, uint64_t ino, uint32_t flags)
{
    struct meta_attr a;
    return meta_open_file(tu_m, cr, ino, 0, flags, &a);
}

START_TEST(validation)
{
    struct meta_attr f;
    ck_assert_int_eq(tu_create(&A, pub, "f", 0640, &f), 0);
    const char *N = ACL_NAME_ACCESS;
    size_t nl = strlen(N);
    uint8_t buf[256];
    struct acl_entry good[] = { U_OBJ(6), USER(2000, 6), G_OBJ(4), MASK(6),
                                OTHER(0) };
    /* Wrong version, ragged size, empty value. */
    size_t len = acl_bin(buf, 1, good, NE(good));
    ck_assert_int_eq(meta_setxattr(tu_m, &A, f.ino, N, nl, buf, len, 0, NULL),
                     -EINVAL);
    len = acl_bin(buf, ACL_XATTR_VERSION, good, NE(good));
    ck_assert_int_eq(meta_setxattr(tu_m, &A, f.ino, N, nl, buf, len - 3, 0,
                                   NULL), -EINVAL);
    ck_assert_int_eq(meta_setxattr(tu_m, &A, f.ino, N, nl, buf, 2, 0, NULL),
                     -EINVAL);
    ck_assert_int_eq(meta_setxattr(tu_m, &A, f.ino, N, nl, "", 0, 0, NULL),
                     -EINVAL);
    struct acl_entry no_mask[] = { U_OBJ(6), USER(2000, 6), G_OBJ(4),
                                   OTHER(0) };
    ck_assert_int_eq(set_acl(&A, f.ino, N, no_mask, NE(no_mask)), -EINVAL);
    struct acl_entry no_other[] = { U_OBJ(6), G_OBJ(4) };
    ck_assert_int_eq(set_acl(&A, f.ino, N, no_other, NE(no_other)), -EINVAL);
    struct acl_entry no_user[] = { G_OBJ(4), OTHER(0) };
    ck_assert_int_eq(set_acl(&A, f.ino, N, no_user, NE(no_user)), -EINVAL);
    struct acl_entry dup[] = { U_OBJ(6), USER(2000, 6), USER(2000, 4),
                               G_OBJ(4), MASK(6), OTHER(0) };
    ck_assert_int_eq(set_acl(&A, f.ino, N, dup, NE(dup)), -EINVAL);
    struct acl_entry unsorted[] = { U_OBJ(6), USER(3000, 6), USER(2000, 4),
                                    G_OBJ(4), MASK(6), OTHER(0) };
    ck_assert_int_eq(set_acl(&A, f.ino, N, unsorted, NE(unsorted)), -EINVAL);
    struct acl_entry order[] = { U_OBJ(6), G_OBJ(4), USER(2000, 6), MASK(6),
                                 OTHER(0) };
    ck_assert_int_eq(set_acl(&A, f.ino, N, order, NE(order)), -EINVAL);
    struct acl_entry two_owners[] = { U_OBJ(6), U_OBJ(6), G_OBJ(4),
                                      OTHER(0) };
    ck_assert_int_eq(set_acl(&A, f.ino, N, two_owners, NE(two_owners)),
                     -EINVAL);
    struct acl_entry badperm[] = { U_OBJ(8), G_OBJ(4), OTHER(0) };
    ck_assert_int_eq(set_acl(&A, f.ino, N, badperm, NE(badperm)), -EINVAL);
    struct acl_entry badtag[] = { U_OBJ(6), { 0x40, 4, 0 }, G_OBJ(4),
                                  OTHER(0) };
    ck_assert_int_eq(set_acl(&A, f.ino, N, badtag, NE(badtag)), -EINVAL);
    /* Nothing was stored by any of them. */
    struct acl a;
    ck_assert_int_eq(get_acl(f.ino, N, &a), -ENODATA);
    ck_assert_uint_eq(tu_attr(f.ino).mode, S_IFREG | 0640);
    ck_assert_int_eq(set_acl(&A, f.ino, N, good, NE(good)), 0);
    /* Not the owner: EPERM; root may. */
    ck_assert_int_eq(set_acl(&B, f.ino, N, good, NE(good)), -EPERM);
    ck_assert_int_eq(set_acl(R, f.ino, N, good, NE(good)), 0);
    /* A symlink has no ACL. */
    struct meta_attr l;
    ck_assert_int_eq(meta_symlink(tu_m, &A, pub, "l", 1, "f", &l, NULL), 0);
    ck_assert_int_eq(set_acl(&A, l.ino, N, good, NE(good)), -EOPNOTSUPP);
}
END_TEST

START_TEST(named_user_and_mask)
{
    struct meta_attr f, a;
    ck_assert_int_eq(tu_create(&A, pub, "f", 0600, &f), 0);
    ck_assert_int_eq(opens(&B, f.ino, O_RDONLY), -EACCES);
    struct acl_entry e[] = { U_OBJ(6), USER(2000, 6), G_OBJ(0), MASK(6),
                             OTHER(0) };
    ck_assert_int_eq(set_acl(&A, f.ino, ACL_NAME_ACCESS, e, NE(e)), 0);
    /* The mode's group bits are the mask now. */
    ck_assert_uint_eq(tu_attr(f.ino).mode, S_IFREG | 0660);
    ck_assert_int_eq(opens(&B, f.ino, O_RDWR), 0);
    ck_assert_int_eq(opens(&C, f.ino, O_RDONLY), -EACCES);
    ck_assert_int_eq(meta_access(tu_m, &B, f.ino, PERM_READ | PERM_WRITE), 0);
    /* chmod g-w narrows the mask: B keeps read only, and getxattr (as
     * getfacl) shows the new mask. */
    struct meta_setattr sa = { .valid = META_SET_MODE, .mode = 0640 };
    ck_assert_int_eq(meta_setattr(tu_m, &A, f.ino, &sa, &a), 0);
    ck_assert_int_eq(opens(&B, f.ino, O_RDWR), -EACCES);
    ck_assert_int_eq(opens(&B, f.ino, O_RDONLY), 0);
    struct acl got;
    ck_assert_int_eq(get_acl(f.ino, ACL_NAME_ACCESS, &got), 5);
    ck_assert_uint_eq(perm_of(&got, ACL_MASK, ACL_UNDEFINED_ID), 4);
    ck_assert_uint_eq(perm_of(&got, ACL_USER, 2000), 6);
    ck_assert_uint_eq(perm_of(&got, ACL_USER_OBJ, ACL_UNDEFINED_ID), 6);
    acl_free(&got);
    /* The entries' effect reaches every operation: write via commit and
     * truncation are refused for B now. */
    struct meta_setattr tr = { .valid = META_SET_SIZE, .size = 0 };
    ck_assert_int_eq(meta_setattr(tu_m, &B, f.ino, &tr, &a), -EACCES);
    /* The owner is judged by the owner bits, never by named entries. */
    ck_assert_int_eq(opens(&A, f.ino, O_RDWR), 0);
}
END_TEST

START_TEST(named_groups)
{
    struct meta_attr f;
    ck_assert_int_eq(tu_create(&A, pub, "f", 0600, &f), 0);
    struct acl_entry e[] = { U_OBJ(6), G_OBJ(0), GROUP(300, 4), MASK(7),
                             OTHER(0) };
    ck_assert_int_eq(set_acl(&A, f.ino, ACL_NAME_ACCESS, e, NE(e)), 0);
    ck_assert_int_eq(opens(&C, f.ino, O_RDONLY), 0);
    ck_assert_int_eq(opens(&C, f.ino, O_WRONLY), -EACCES);
    /* A matching group that does not grant, and no other that does:
     * refused, even though "other" would not matter. */
    ck_assert_int_eq(opens(&B, f.ino, O_RDONLY), -EACCES);
    /* The owning group under the mask. */
    struct meta_cred G = tu_cred(4000, 1000);
    struct acl_entry e2[] = { U_OBJ(6), G_OBJ(6), GROUP(300, 4), MASK(4),
                              OTHER(4) };
    ck_assert_int_eq(set_acl(&A, f.ino, ACL_NAME_ACCESS, e2, NE(e2)), 0);
    ck_assert_int_eq(opens(&G, f.ino, O_RDONLY), 0);
    ck_assert_int_eq(opens(&G, f.ino, O_WRONLY), -EACCES);
    ck_assert_int_eq(opens(&B, f.ino, O_RDONLY), 0);    /* other: r */
}
END_TEST

START_TEST(directory_search)
{
    struct meta_attr d, f, a;
    ck_assert_int_eq(tu_mkdir(&A, pub, "d", 0700, &d), 0);
    ck_assert_int_eq(tu_create(&A, d.ino, "f", 0644, &f), 0);
    ck_assert_int_eq(meta_lookup(tu_m, &B, d.ino, "f", 1, &a), -EACCES);
    struct acl_entry e[] = { U_OBJ(7), USER(2000, 1), G_OBJ(0), MASK(1),
                             OTHER(0) };
    ck_assert_int_eq(set_acl(&A, d.ino, ACL_NAME_ACCESS, e, NE(e)), 0);
    ck_assert_int_eq(meta_lookup(tu_m, &B, d.ino, "f", 1, &a), 0);
    ck_assert_int_eq(meta_lookup(tu_m, &C, d.ino, "f", 1, &a), -EACCES);
    /* Search but not write: B cannot create there. */
    ck_assert_int_eq(tu_create(&B, d.ino, "g", 0644, NULL), -EACCES);
    struct acl_entry w[] = { U_OBJ(7), USER(2000, 3), G_OBJ(0), MASK(3),
                             OTHER(0) };
    ck_assert_int_eq(set_acl(&A, d.ino, ACL_NAME_ACCESS, w, NE(w)), 0);
    ck_assert_int_eq(tu_create(&B, d.ino, "g", 0644, NULL), 0);
    ck_assert_int_eq(meta_unlink(tu_m, &B, d.ino, "f", 1, NULL), 0);
}
END_TEST

START_TEST(minimal_not_stored)
{
    struct meta_attr f;
    char list[256];
    ck_assert_int_eq(tu_create(&A, pub, "f", 0600, &f), 0);
    struct acl_entry e[] = { U_OBJ(7), G_OBJ(5), OTHER(1) };
    ck_assert_int_eq(set_acl(&A, f.ino, ACL_NAME_ACCESS, e, NE(e)), 0);
    ck_assert_uint_eq(tu_attr(f.ino).mode, S_IFREG | 0751);
    struct acl a;
    ck_assert_int_eq(get_acl(f.ino, ACL_NAME_ACCESS, &a), -ENODATA);
    ck_assert_int_eq(meta_listxattr(tu_m, &A, f.ino, list, sizeof(list)), 0);
    /* An extended one is listed; after removal it is gone, the mode as
     * the ACL left it. */
    struct acl_entry x[] = { U_OBJ(6), USER(2000, 4), G_OBJ(4), MASK(4),
                             OTHER(0) };
    ck_assert_int_eq(set_acl(&A, f.ino, ACL_NAME_ACCESS, x, NE(x)), 0);
    ck_assert_int_eq(meta_listxattr(tu_m, &A, f.ino, list, sizeof(list)),
                     (int)sizeof(ACL_NAME_ACCESS));
    ck_assert_str_eq(list, ACL_NAME_ACCESS);
    ck_assert_uint_eq(tu_attr(f.ino).mode, S_IFREG | 0640);
    ck_assert_int_eq(meta_removexattr(tu_m, &B, f.ino, ACL_NAME_ACCESS,
                                      strlen(ACL_NAME_ACCESS), NULL), -EPERM);
    ck_assert_int_eq(meta_removexattr(tu_m, &A, f.ino, ACL_NAME_ACCESS,
                                      strlen(ACL_NAME_ACCESS), NULL), 0);
    ck_assert_int_eq(get_acl(f.ino, ACL_NAME_ACCESS, &a), -ENODATA);
    ck_assert_uint_eq(tu_attr(f.ino).mode, S_IFREG | 0640);
    ck_assert_int_eq(opens(&B, f.ino, O_RDONLY), -EACCES);
    /* Removing what is not there is fine (setfacl -b on a plain file). */
    ck_assert_int_eq(meta_removexattr(tu_m, &A, f.ino, ACL_NAME_ACCESS,
                                      strlen(ACL_NAME_ACCESS), NULL), 0);
    /* A bare header removes too. */
    ck_assert_int_eq(set_acl(&A, f.ino, ACL_NAME_ACCESS, x, NE(x)), 0);
    ck_assert_int_eq(set_acl(&A, f.ino, ACL_NAME_ACCESS, NULL, 0), 0);
    ck_assert_int_eq(get_acl(f.ino, ACL_NAME_ACCESS, &a), -ENODATA);
}
END_TEST

START_TEST(setgid_cleared)
{
    struct meta_attr f;
    ck_assert_int_eq(tu_create(R, pub, "f", 02770, &f), 0);
    struct meta_setattr sa = { .valid = META_SET_UID | META_SET_GID,
                               .uid = 1000, .gid = 500 };
    struct meta_attr a;
    ck_assert_int_eq(meta_setattr(tu_m, R, f.ino, &sa, &a), 0);
    sa = (struct meta_setattr){ .valid = META_SET_MODE, .mode = 02770 };
    ck_assert_int_eq(meta_setattr(tu_m, R, f.ino, &sa, &a), 0);
    ck_assert_uint_eq(a.mode & 07777, 02770);
    /* A, the owner but not in group 500, sets an ACL: setgid goes. */
    struct acl_entry e[] = { U_OBJ(7), USER(2000, 7), G_OBJ(7), MASK(7),
                             OTHER(0) };
    ck_assert_int_eq(set_acl(&A, f.ino, ACL_NAME_ACCESS, e, NE(e)), 0);
    ck_assert_uint_eq(tu_attr(f.ino).mode & 07777, 0770);
}
END_TEST

START_TEST(default_acl)
{
    struct meta_attr d, f, a;
    ck_assert_int_eq(tu_mkdir(&A, pub, "d", 0755, &d), 0);
    ck_assert_int_eq(tu_create(&A, pub, "f", 0644, &f), 0);
    struct acl_entry e[] = { U_OBJ(7), USER(2000, 7), G_OBJ(5), MASK(7),
                             OTHER(0) };
    /* Only directories have one. */
    ck_assert_int_eq(set_acl(&A, f.ino, ACL_NAME_DEFAULT, e, NE(e)), -EACCES);
    ck_assert_int_eq(set_acl(&B, d.ino, ACL_NAME_DEFAULT, e, NE(e)), -EPERM);
    ck_assert_int_eq(set_acl(&A, d.ino, ACL_NAME_DEFAULT, e, NE(e)), 0);
    /* Setting a default ACL leaves the directory's mode alone. */
    ck_assert_uint_eq(tu_attr(d.ino).mode, S_IFDIR | 0755);
    struct acl got;
    ck_assert_int_eq(get_acl(d.ino, ACL_NAME_DEFAULT, &got), 5);
    acl_free(&got);

    /* A file made with 0666 and umask 022: no umask, each class limited
     * by the create mode: 0660, B's entry kept (effective rw). */
    struct meta_mk mk = { "new", 3, S_IFREG | 0666, 022, 0, NULL };
    int created;
    ck_assert_int_eq(meta_create(tu_m, &A, d.ino, &mk, META_CREATE_EXCL, 0,
                                 &a, &created, NULL), 0);
    ck_assert_uint_eq(a.mode, S_IFREG | 0660);
    ck_assert_int_eq(get_acl(a.ino, ACL_NAME_ACCESS, &got), 5);
    ck_assert_uint_eq(perm_of(&got, ACL_USER, 2000), 7);
    ck_assert_uint_eq(perm_of(&got, ACL_MASK, ACL_UNDEFINED_ID), 6);
    ck_assert_uint_eq(perm_of(&got, ACL_GROUP_OBJ, ACL_UNDEFINED_ID), 5);
    acl_free(&got);
    ck_assert_int_eq(get_acl(a.ino, ACL_NAME_DEFAULT, &got), -ENODATA);
    ck_assert_int_eq(opens(&B, a.ino, O_RDWR), 0);
    ck_assert_int_eq(opens(&C, a.ino, O_RDONLY), -EACCES);

    /* A directory: the default ACL as both its access and default. */
    struct meta_mk mkd = { "sub", 3, S_IFDIR | 0777, 077, 0, NULL };
    ck_assert_int_eq(meta_mkdir(tu_m, &A, d.ino, &mkd, &a, NULL), 0);
    ck_assert_uint_eq(a.mode, S_IFDIR | 0770);
    ck_assert_int_eq(get_acl(a.ino, ACL_NAME_DEFAULT, &got), 5);
    acl_free(&got);
    ck_assert_int_eq(get_acl(a.ino, ACL_NAME_ACCESS, &got), 5);
    acl_free(&got);
    /* ... so its children inherit too. */
    struct meta_mk mk2 = { "deep", 4, S_IFREG | 0640, 0, 0, NULL };
    struct meta_attr deep;
    ck_assert_int_eq(meta_create(tu_m, &A, a.ino, &mk2, META_CREATE_EXCL, 0,
                                 &deep, &created, NULL), 0);
    ck_assert_uint_eq(deep.mode, S_IFREG | 0640);
    ck_assert_int_eq(opens(&B, deep.ino, O_RDONLY), 0);
    ck_assert_int_eq(opens(&B, deep.ino, O_WRONLY), -EACCES);

    /* Special files inherit; symlinks do not. */
    struct meta_mk mkf = { "fifo", 4, S_IFIFO | 0666, 022, 0, NULL };
    ck_assert_int_eq(meta_mknod(tu_m, &A, d.ino, &mkf, &a, NULL), 0);
    ck_assert_uint_eq(a.mode, S_IFIFO | 0660);
    ck_assert_int_eq(meta_symlink(tu_m, &A, d.ino, "l", 1, "x", &a, NULL), 0);
    ck_assert_uint_eq(a.mode, S_IFLNK | 0777);

    /* A default ACL equivalent to a mode: the new file's ACL is not
     * stored, but there is still no umask. */
    struct acl_entry m3[] = { U_OBJ(7), G_OBJ(7), OTHER(5) };
    ck_assert_int_eq(set_acl(&A, d.ino, ACL_NAME_DEFAULT, m3, NE(m3)), 0);
    struct meta_mk mk3 = { "plain", 5, S_IFREG | 0666, 077, 0, NULL };
    ck_assert_int_eq(meta_create(tu_m, &A, d.ino, &mk3, META_CREATE_EXCL, 0,
                                 &a, &created, NULL), 0);
    ck_assert_uint_eq(a.mode, S_IFREG | 0664);
    ck_assert_int_eq(get_acl(a.ino, ACL_NAME_ACCESS, &got), -ENODATA);

    /* Removed: the umask is back. */
    ck_assert_int_eq(meta_removexattr(tu_m, &A, d.ino, ACL_NAME_DEFAULT,
                                      strlen(ACL_NAME_DEFAULT), NULL), 0);
    struct meta_mk mk4 = { "umasked", 7, S_IFREG | 0666, 027, 0, NULL };
    ck_assert_int_eq(meta_create(tu_m, &A, d.ino, &mk4, META_CREATE_EXCL, 0,
                                 &a, &created, NULL), 0);
    ck_assert_uint_eq(a.mode, S_IFREG | 0640);
}
END_TEST

START_TEST(check_algebra)
{
    /* perm_acl on its own: chmod arithmetic and create masking. */
    struct acl_entry e[] = { U_OBJ(7), USER(5, 7), G_OBJ(7), MASK(7),
                             OTHER(7) };
    uint8_t buf[128];
    size_t len = acl_bin(buf, ACL_XATTR_VERSION, e, NE(e));
    struct acl a;
    ck_assert_int_eq(acl_decode(buf, len, &a), 0);
    uint32_t mode = S_IFREG | 04000;
    ck_assert_int_eq(acl_equiv_mode(&a, &mode), 1);
    ck_assert_uint_eq(mode, S_IFREG | 04777);
    acl_apply_mode(&a, 0751);
    ck_assert_uint_eq(a.e[0].perm, 7);
    ck_assert_uint_eq(a.e[2].perm, 7);    /* owning group: not the mask */
    ck_assert_uint_eq(a.e[3].perm, 5);
    ck_assert_uint_eq(a.e[4].perm, 1);
    mode = S_IFDIR | 0750;
    ck_assert_int_eq(acl_create_masq(&a, &mode), 1);
    ck_assert_uint_eq(mode, S_IFDIR | 0750);
    ck_assert_uint_eq(a.e[4].perm, 0);
    ck_assert_uint_eq(acl_size(&a), len);
    acl_free(&a);
    /* Root bypasses ACLs (but not the exec rule). */
    struct meta_cred r = { 0, 0, 0, { 0 } };
    struct perm_node n = { 1, S_IFREG | 0600, 1, 1, NULL, NULL };
    ck_assert_int_eq(perm_access(&r, &n, PERM_READ | PERM_WRITE), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("meta_acl");
    TCase *t = tcase_create("acl");
    tcase_add_checked_fixture(t, asetup, tu_teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, validation);
    tcase_add_test(t, named_user_and_mask);
    tcase_add_test(t, named_groups);
    tcase_add_test(t, directory_search);
    tcase_add_test(t, minimal_not_stored);
    tcase_add_test(t, setgid_cleared);
    tcase_add_test(t, default_acl);
    tcase_add_test(t, check_algebra);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
