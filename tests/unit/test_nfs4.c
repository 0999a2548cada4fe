/* test_nfs4.c - unit tests of the NFSv4 front end's pieces that need no
 * running gateway: file handles, component names, the errno table, the
 * fattr4 encoder and the decoder of attributes to set, VERIFY's compare,
 * owners, and the mapping of mode bits to NFSv4 ACEs. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nfs4_int.h"

static struct nfs4_server srv;
static struct nfs4_cctx cctx;

static void setup(void)
{
    memset(&srv, 0, sizeof(srv));
    srv.lease_secs = 30;
    memset(&cctx, 0, sizeof(cctx));
    cctx.srv = &srv;
}

/* ---- handles ---- */

START_TEST(fh_round_trip)
{
    struct nfs4_fh in = { NFS4_FH_INODE, 7, 0x123456789aull, 42 }, out;
    nfs_fh4 w;
    ck_assert_int_eq(nfs4_fh_pack(&in, &w), 0);
    ck_assert_uint_eq(w.nfs_fh4_len, NFS4_FH_BYTES);
    ck_assert_int_eq(nfs4_fh_unpack(w.nfs_fh4_val, w.nfs_fh4_len, &out),
                     NFS4_OK);
    ck_assert(nfs4_fh_equal(&in, &out));
    struct nfs4_fh root;
    nfs4_fh_root(&root);
    free(w.nfs_fh4_val);
    ck_assert_int_eq(nfs4_fh_pack(&root, &w), 0);
    ck_assert_int_eq(nfs4_fh_unpack(w.nfs_fh4_val, w.nfs_fh4_len, &out),
                     NFS4_OK);
    ck_assert_int_eq(out.kind, NFS4_FH_ROOT);
    free(w.nfs_fh4_val);
}
END_TEST

START_TEST(fh_bad)
{
    struct nfs4_fh in = { NFS4_FH_INODE, 1, 2, 3 }, out;
    nfs_fh4 w;
    ck_assert_int_eq(nfs4_fh_pack(&in, &w), 0);
    ck_assert_int_eq(nfs4_fh_unpack(w.nfs_fh4_val, 27, &out),
                     NFS4ERR_BADHANDLE);
    ck_assert_int_eq(nfs4_fh_unpack(w.nfs_fh4_val, 0, &out),
                     NFS4ERR_BADHANDLE);
    w.nfs_fh4_val[0] ^= 1;              /* magic */
    ck_assert_int_eq(nfs4_fh_unpack(w.nfs_fh4_val, 28, &out),
                     NFS4ERR_BADHANDLE);
    w.nfs_fh4_val[0] ^= 1;
    w.nfs_fh4_val[2] = 9;               /* kind */
    ck_assert_int_eq(nfs4_fh_unpack(w.nfs_fh4_val, 28, &out),
                     NFS4ERR_BADHANDLE);
    w.nfs_fh4_val[2] = NFS4_FH_INODE;
    memset(w.nfs_fh4_val + 12, 0, 8);   /* inode 0 */
    ck_assert_int_eq(nfs4_fh_unpack(w.nfs_fh4_val, 28, &out),
                     NFS4ERR_BADHANDLE);
    free(w.nfs_fh4_val);
}
END_TEST

/* ---- names and errors ---- */

static nfsstat4 name(const char *s, size_t n)
{
    component4 c = { (u_int)n, (char *)s };
    return nfs4_check_name(&c);
}

START_TEST(names)
{
    char big[300];
    memset(big, 'a', sizeof(big));
    ck_assert_int_eq(name("file", 4), NFS4_OK);
    ck_assert_int_eq(name("", 0), NFS4ERR_INVAL);
    ck_assert_int_eq(name(".", 1), NFS4ERR_BADNAME);
    ck_assert_int_eq(name("..", 2), NFS4ERR_BADNAME);
    ck_assert_int_eq(name("a/b", 3), NFS4ERR_BADCHAR);
    ck_assert_int_eq(name("a\0b", 3), NFS4ERR_BADCHAR);
    ck_assert_int_eq(name(big, 255), NFS4_OK);
    ck_assert_int_eq(name(big, 256), NFS4ERR_NAMETOOLONG);
}
END_TEST

START_TEST(errnos)
{
    ck_assert_int_eq(nfs4_errno(-ENOENT), NFS4ERR_NOENT);
    ck_assert_int_eq(nfs4_errno(-ESTALE), NFS4ERR_STALE);
    ck_assert_int_eq(nfs4_errno(-EACCES), NFS4ERR_ACCESS);
    ck_assert_int_eq(nfs4_errno(-EPERM), NFS4ERR_PERM);
    ck_assert_int_eq(nfs4_errno(-EEXIST), NFS4ERR_EXIST);
    ck_assert_int_eq(nfs4_errno(-ENOTDIR), NFS4ERR_NOTDIR);
    ck_assert_int_eq(nfs4_errno(-EISDIR), NFS4ERR_ISDIR);
    ck_assert_int_eq(nfs4_errno(-ENOTEMPTY), NFS4ERR_NOTEMPTY);
    ck_assert_int_eq(nfs4_errno(-ENAMETOOLONG), NFS4ERR_NAMETOOLONG);
    ck_assert_int_eq(nfs4_errno(-EINVAL), NFS4ERR_INVAL);
    ck_assert_int_eq(nfs4_errno(-EIO), NFS4ERR_IO);
    ck_assert_int_eq(nfs4_errno(-ENOSPC), NFS4ERR_NOSPC);
    ck_assert_int_eq(nfs4_errno(-EROFS), NFS4ERR_ROFS);
    ck_assert_int_eq(nfs4_errno(-EXDEV), NFS4ERR_XDEV);
    ck_assert_int_eq(nfs4_errno(-EAGAIN), NFS4ERR_DELAY);
    ck_assert_int_eq(nfs4_errno(-EHOSTDOWN), NFS4ERR_SERVERFAULT);
}
END_TEST

START_TEST(owners)
{
    uint32_t id;
    ck_assert_int_eq(nfs4_owner_parse("1000", 4, 0, &id), 0);
    ck_assert_uint_eq(id, 1000);
    ck_assert_int_eq(nfs4_owner_parse("1001@example.org", 16, 1, &id), 0);
    ck_assert_uint_eq(id, 1001);
    ck_assert_int_eq(nfs4_owner_parse("root", 4, 0, &id), 0);
    ck_assert_uint_eq(id, 0);
    ck_assert_int_eq(nfs4_owner_parse("root@localdomain", 16, 1, &id), 0);
    ck_assert_uint_eq(id, 0);
    ck_assert_int_eq(nfs4_owner_parse("no-such-user-here", 17, 0, &id),
                     -EINVAL);
    ck_assert_int_eq(nfs4_owner_parse("99999999999", 11, 0, &id), -EINVAL);
    ck_assert_int_eq(nfs4_owner_parse("", 0, 0, &id), -EINVAL);
}
END_TEST

/* ---- attributes ---- */

static void bm(bitmap4 *b, uint32_t *w, uint64_t bits)
{
    w[0] = (uint32_t)bits;
    w[1] = (uint32_t)(bits >> 32);
    b->bitmap4_len = 2;
    b->bitmap4_val = w;
}

#define B(n) ((uint64_t)1 << (n))

START_TEST(encode_values)
{
    struct meta_attr a;
    memset(&a, 0, sizeof(a));
    a.ino = 77;
    a.mode = S_IFREG | 0640;
    a.nlink = 2;
    a.uid = 1000;
    a.gid = 100;
    a.size = 123456789;
    a.change = 5;
    a.mtime.sec = 1700000000;
    a.mtime.nsec = 12;
    struct nfs4_fh fh = { NFS4_FH_INODE, 3, 77, 1 };
    struct nfs4_attr_src src = { .c = &cctx, .fh = &fh, .a = &a };
    uint32_t w[2];
    bitmap4 req;
    /* Asked in any order, answered in attribute order; archive (14) is
     * not supported and is left out. */
    bm(&req, w, B(FATTR4_TYPE) | B(FATTR4_CHANGE) | B(FATTR4_SIZE) |
                    B(FATTR4_FSID) | B(FATTR4_ARCHIVE) | B(FATTR4_FILEID) |
                    B(FATTR4_MODE) | B(FATTR4_NUMLINKS) | B(FATTR4_OWNER) |
                    B(FATTR4_OWNER_GROUP) | B(FATTR4_TIME_MODIFY) |
                    B(FATTR4_LEASE_TIME));
    fattr4 out;
    memset(&out, 0, sizeof(out));
    ck_assert_int_eq(nfs4_attr_encode(&src, &req, &out), NFS4_OK);
    ck_assert(!nfs4_bitmap_isset(&out.attrmask, FATTR4_ARCHIVE));
    ck_assert(nfs4_bitmap_isset(&out.attrmask, FATTR4_OWNER));
    XDR x;
    xdrmem_create(&x, out.attr_vals.attrlist4_val,
                  out.attr_vals.attrlist4_len, XDR_DECODE);
    u_int u;
    u_quad_t q;
    ck_assert(xdr_u_int(&x, &u) && u == NF4REG);
    ck_assert(xdr_u_quad_t(&x, &q) && q == 5);                 /* change */
    ck_assert(xdr_u_quad_t(&x, &q) && q == 123456789);         /* size */
    ck_assert(xdr_u_quad_t(&x, &q) && q == 1);                 /* fsid */
    ck_assert(xdr_u_quad_t(&x, &q) && q == 3);
    ck_assert(xdr_u_int(&x, &u) && u == 30);                   /* lease */
    ck_assert(xdr_u_quad_t(&x, &q) && q == 77);                /* fileid */
    ck_assert(xdr_u_int(&x, &u) && u == 0640);                 /* mode */
    ck_assert(xdr_u_int(&x, &u) && u == 2);                    /* nlink */
    utf8string s = { 0, NULL };
    ck_assert(xdr_utf8string(&x, &s));
    ck_assert(s.utf8string_len == 4 && !memcmp(s.utf8string_val, "1000", 4));
    xdr_free((xdrproc_t)xdr_utf8string, (char *)&s);
    memset(&s, 0, sizeof(s));
    ck_assert(xdr_utf8string(&x, &s));
    ck_assert(s.utf8string_len == 3 && !memcmp(s.utf8string_val, "100", 3));
    xdr_free((xdrproc_t)xdr_utf8string, (char *)&s);
    nfstime4 t;
    ck_assert(xdr_nfstime4(&x, &t) && t.seconds == 1700000000 &&
              t.nseconds == 12);
    ck_assert_uint_eq(xdr_getpos(&x), out.attr_vals.attrlist4_len);
    xdr_destroy(&x);

    /* VERIFY of the same values matches; another size does not. */
    ck_assert_int_eq(nfs4_attr_compare(&src, &out), NFS4_OK);
    xdr_free((xdrproc_t)xdr_fattr4, (char *)&out);
    bm(&req, w, B(FATTR4_SIZE) | B(FATTR4_MODE));
    memset(&out, 0, sizeof(out));
    ck_assert_int_eq(nfs4_attr_encode(&src, &req, &out), NFS4_OK);
    ck_assert_int_eq(nfs4_attr_compare(&src, &out), NFS4_OK);
    a.size++;
    ck_assert_int_eq(nfs4_attr_compare(&src, &out), NFS4ERR_NOT_SAME);
    xdr_free((xdrproc_t)xdr_fattr4, (char *)&out);

    /* Set-only attributes cannot be read. */
    bm(&req, w, B(FATTR4_TIME_MODIFY_SET));
    memset(&out, 0, sizeof(out));
    ck_assert_int_eq(nfs4_attr_encode(&src, &req, &out), NFS4ERR_INVAL);
}
END_TEST

/* Encodes attribute values for a SETATTR by hand. */
static void sattr_fattr(fattr4 *fa, uint32_t *w, uint64_t bits, char *buf,
                        size_t cap, void (*fill)(XDR *))
{
    bm(&fa->attrmask, w, bits);
    XDR x;
    xdrmem_create(&x, buf, (u_int)cap, XDR_ENCODE);
    fill(&x);
    fa->attr_vals.attrlist4_len = xdr_getpos(&x);
    fa->attr_vals.attrlist4_val = buf;
    xdr_destroy(&x);
}

static void fill_all(XDR *x)
{
    u_quad_t size = 5;
    u_int mode = 0755;
    utf8string o = { 4, "1000" }, g = { 7, "100@dom" };
    settime4 at, mt;
    memset(&at, 0, sizeof(at));
    memset(&mt, 0, sizeof(mt));
    at.set_it = SET_TO_SERVER_TIME4;
    mt.set_it = SET_TO_CLIENT_TIME4;
    mt.settime4_u.time.seconds = 1234;
    mt.settime4_u.time.nseconds = 5;
    xdr_u_quad_t(x, &size);
    xdr_u_int(x, &mode);
    xdr_utf8string(x, &o);
    xdr_utf8string(x, &g);
    xdr_settime4(x, &at);
    xdr_settime4(x, &mt);
}

static void fill_badowner(XDR *x)
{
    utf8string o = { 12, "nosuchperson" };
    xdr_utf8string(x, &o);
}

static void fill_mode_trailing(XDR *x)
{
    u_int mode = 0700, extra = 1;
    xdr_u_int(x, &mode);
    xdr_u_int(x, &extra);
}

static void fill_bad_mode(XDR *x)
{
    u_int mode = 0100755;
    xdr_u_int(x, &mode);
}

static void fill_short(XDR *x)
{
    u_int half = 0;
    xdr_u_int(x, &half);                /* a size needs 8 bytes */
}

START_TEST(sattr)
{
    fattr4 fa;
    uint32_t w[2];
    char buf[256];
    struct nfs4_sattr s;
    sattr_fattr(&fa, w, B(FATTR4_SIZE) | B(FATTR4_MODE) | B(FATTR4_OWNER) |
                            B(FATTR4_OWNER_GROUP) | B(FATTR4_TIME_ACCESS_SET) |
                            B(FATTR4_TIME_MODIFY_SET),
                buf, sizeof(buf), fill_all);
    ck_assert_int_eq(nfs4_sattr_decode(&fa, &s), NFS4_OK);
    ck_assert_uint_eq(s.sa.valid, META_SET_SIZE | META_SET_MODE |
                                      META_SET_UID | META_SET_GID);
    ck_assert_uint_eq(s.sa.size, 5);
    ck_assert_uint_eq(s.sa.mode, 0755);
    ck_assert_uint_eq(s.sa.uid, 1000);
    ck_assert_uint_eq(s.sa.gid, 100);
    ck_assert_int_eq(s.sa.atime.how, META_TIME_SERVER);
    ck_assert_int_eq(s.sa.mtime.how, META_TIME_CLIENT);
    ck_assert_int_eq(s.sa.mtime.time.sec, 1234);
    ck_assert_uint_eq(s.sa.mtime.time.nsec, 5);
    ck_assert(nfs4_bitmap_isset(&s.set, FATTR4_OWNER_GROUP));
    nfs4_sattr_free(&s);

    sattr_fattr(&fa, w, B(FATTR4_OWNER), buf, sizeof(buf), fill_badowner);
    ck_assert_int_eq(nfs4_sattr_decode(&fa, &s), NFS4ERR_BADOWNER);
    sattr_fattr(&fa, w, B(FATTR4_MODE), buf, sizeof(buf), fill_mode_trailing);
    ck_assert_int_eq(nfs4_sattr_decode(&fa, &s), NFS4ERR_BADXDR);
    sattr_fattr(&fa, w, B(FATTR4_MODE), buf, sizeof(buf), fill_bad_mode);
    ck_assert_int_eq(nfs4_sattr_decode(&fa, &s), NFS4ERR_INVAL);
    sattr_fattr(&fa, w, B(FATTR4_SIZE), buf, sizeof(buf), fill_short);
    ck_assert_int_eq(nfs4_sattr_decode(&fa, &s), NFS4ERR_BADXDR);
    sattr_fattr(&fa, w, B(FATTR4_ARCHIVE), buf, sizeof(buf), fill_short);
    ck_assert_int_eq(nfs4_sattr_decode(&fa, &s), NFS4ERR_ATTRNOTSUPP);
    sattr_fattr(&fa, w, B(FATTR4_TYPE), buf, sizeof(buf), fill_short);
    ck_assert_int_eq(nfs4_sattr_decode(&fa, &s), NFS4ERR_INVAL);
}
END_TEST

/* ---- ACLs from mode bits ---- */

static const nfsace4 *find_ace(const fattr4_acl *acl, const char *who,
                               acetype4 type)
{
    for (u_int i = 0; i < acl->fattr4_acl_len; i++) {
        const nfsace4 *e = &acl->fattr4_acl_val[i];
        if (e->type == type && e->who.utf8string_len == strlen(who) &&
            !memcmp(e->who.utf8string_val, who, strlen(who)))
            return e;
    }
    return NULL;
}

START_TEST(acl_from_mode)
{
    struct meta_attr a;
    memset(&a, 0, sizeof(a));
    a.mode = S_IFREG | 0750;
    /* The pseudo-root's handle: no core to ask, the mode speaks. */
    struct nfs4_fh fh;
    nfs4_fh_root(&fh);
    fattr4_acl acl = { 0, NULL };
    ck_assert_int_eq(nfs4_acl_get(&cctx, &fh, &a, &acl), NFS4_OK);
    const nfsace4 *o = find_ace(&acl, "OWNER@", ACE4_ACCESS_ALLOWED_ACE_TYPE);
    ck_assert(o && (o->access_mask & ACE4_READ_DATA) &&
              (o->access_mask & ACE4_WRITE_DATA) &&
              (o->access_mask & ACE4_EXECUTE));
    ck_assert(!find_ace(&acl, "OWNER@", ACE4_ACCESS_DENIED_ACE_TYPE));
    const nfsace4 *g = find_ace(&acl, "GROUP@", ACE4_ACCESS_ALLOWED_ACE_TYPE);
    ck_assert(g && (g->access_mask & ACE4_READ_DATA) &&
              !(g->access_mask & ACE4_WRITE_DATA) &&
              (g->flag & ACE4_IDENTIFIER_GROUP));
    const nfsace4 *gd = find_ace(&acl, "GROUP@", ACE4_ACCESS_DENIED_ACE_TYPE);
    ck_assert(gd && (gd->access_mask & ACE4_WRITE_DATA));
    const nfsace4 *e = find_ace(&acl, "EVERYONE@",
                                ACE4_ACCESS_ALLOWED_ACE_TYPE);
    ck_assert(e && !(e->access_mask & (ACE4_READ_DATA | ACE4_WRITE_DATA |
                                       ACE4_EXECUTE)));
    xdr_free((xdrproc_t)xdr_fattr4_acl, (char *)&acl);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nfs4");
    TCase *t = tcase_create("pieces");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_add_test(t, fh_round_trip);
    tcase_add_test(t, fh_bad);
    tcase_add_test(t, names);
    tcase_add_test(t, errnos);
    tcase_add_test(t, owners);
    tcase_add_test(t, encode_values);
    tcase_add_test(t, sattr);
    tcase_add_test(t, acl_from_mode);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
