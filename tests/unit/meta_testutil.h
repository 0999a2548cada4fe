/* meta_testutil.h - helpers shared by the metadata core's unit tests: a
 * fresh environment in a temporary directory per test, credentials, and
 * short forms of the calls the tests make most. */
#ifndef FLEXFS_META_TESTUTIL_H
#define FLEXFS_META_TESTUTIL_H

#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "meta.h"
#include "meta_internal.h"

#define TU_BS (64u << 10)               /* block size of the test volume */
#define TU_LEASE 30u

static char tu_dir[256];
static struct meta *tu_m;
static uint64_t tu_root;
static const struct meta_cred tu_rootcred = { 0, 0, 0, { 0 } };

static __attribute__((unused)) struct meta_cred tu_cred(uint32_t uid,
                                                        uint32_t gid)
{
    struct meta_cred c = { uid, gid, 0, { 0 } };
    return c;
}

static int tu_rm_one(const char *p, const struct stat *st, int flag,
                     struct FTW *f)
{
    (void)st; (void)flag; (void)f;
    return remove(p);
}

static __attribute__((unused)) void tu_rmrf(const char *dir)
{
    nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Opens the environment in tu_dir; durable unless nosync. */
static __attribute__((unused)) struct meta *tu_reopen(int nosync)
{
    struct meta_opts o = { .dir = tu_dir, .default_block_size = TU_BS,
                           .lease_secs = TU_LEASE,
                           .cache_bytes = 16u << 20 };
    struct meta *m = NULL;
    int rc = meta_open(&o, &m);
    ck_assert_int_eq(rc, 0);
    if (nosync)
        meta_test_nosync(m);
    return m;
}

static __attribute__((unused)) void tu_setup(void)
{
    log_set_level(LOG_WARNING);
    snprintf(tu_dir, sizeof(tu_dir), "/tmp/flexfs-meta-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tu_dir));
    tu_m = tu_reopen(1);
    struct meta_volume v;
    ck_assert_int_eq(meta_volume_get(tu_m, "default", &v), 0);
    tu_root = v.root;
}

static __attribute__((unused)) void tu_teardown(void)
{
    if (tu_m)
        meta_close(tu_m);
    tu_m = NULL;
    tu_rmrf(tu_dir);
}

static __attribute__((unused)) int tu_create(const struct meta_cred *cr,
                                             uint64_t parent,
                                             const char *name, uint32_t mode,
                                             struct meta_attr *out)
{
    struct meta_mk mk = { name, strlen(name), S_IFREG | mode, 0, 0, NULL };
    struct meta_attr a;
    int created;
    return meta_create(tu_m, cr, parent, &mk, META_CREATE_EXCL, 0,
                       out ? out : &a, &created, NULL);
}

static __attribute__((unused)) int tu_mkdir(const struct meta_cred *cr,
                                            uint64_t parent, const char *name,
                                            uint32_t mode,
                                            struct meta_attr *out)
{
    struct meta_mk mk = { name, strlen(name), mode, 0, 0, NULL };
    struct meta_attr a;
    return meta_mkdir(tu_m, cr, parent, &mk, out ? out : &a, NULL);
}

/* Inode of parent/name as root, or 0. */
static __attribute__((unused)) uint64_t tu_ino(uint64_t parent,
                                               const char *name)
{
    struct meta_attr a;
    if (meta_lookup(tu_m, &tu_rootcred, parent, name, strlen(name), &a))
        return 0;
    return a.ino;
}

static __attribute__((unused)) struct meta_attr tu_attr(uint64_t ino)
{
    struct meta_attr a;
    ck_assert_int_eq(meta_getattr(tu_m, &tu_rootcred, ino, &a), 0);
    return a;
}

static __attribute__((unused)) int tu_unlink(uint64_t parent,
                                             const char *name)
{
    return meta_unlink(tu_m, &tu_rootcred, parent, name, strlen(name),
                       NULL);
}

static __attribute__((unused)) int tu_rename(uint64_t p1, const char *n1,
                                             uint64_t p2, const char *n2,
                                             uint32_t flags)
{
    return meta_rename(tu_m, &tu_rootcred, p1, n1, strlen(n1), p2, n2,
                       strlen(n2), flags, NULL);
}

static __attribute__((unused)) int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
