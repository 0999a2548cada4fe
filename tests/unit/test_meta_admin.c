/* test_meta_admin.c - unit tests of the core's admin functions
 * (meta_admin.h) on a temporary environment: volume listing and deletion
 * (also resumed after an interruption), sessions and eviction, counts and
 * Berkeley DB figures, checkpoints, hot backups that open as environments
 * of their own, and fsck finding and repairing each kind of damage. */
#include "meta_testutil.h"
#include "meta_admin.h"
#include "meta_admin_int.h"
#include "blockkey.h"
#include "store.h"

#include <fcntl.h>
#include <sys/time.h>
#include <utime.h>

static uint64_t mkfile(uint64_t parent, const char *name, uint64_t session)
{
    struct meta_mk mk = { .name = name, .namelen = strlen(name),
                          .mode = 0644 };
    struct meta_attr a;
    int created;
    ck_assert_int_eq(meta_create(tu_m, &tu_rootcred, parent, &mk, 0, session,
                                 &a, &created, NULL), 0);
    return a.ino;
}

static uint64_t mkdir_(uint64_t parent, const char *name)
{
    struct meta_mk mk = { .name = name, .namelen = strlen(name),
                          .mode = 0755 };
    struct meta_attr a;
    ck_assert_int_eq(meta_mkdir(tu_m, &tu_rootcred, parent, &mk, &a, NULL), 0);
    return a.ino;
}

/* Commits one block of a file in a volume of block size TU_BS, or of
 * commit_bs when set. */
static uint32_t commit_bs = TU_BS;

static void commit(uint64_t ino, uint64_t index, uint64_t version,
                   uint32_t len)
{
    struct meta_commit_block b = { index, version, 0, len, 0 };
    struct meta_settime now = { META_TIME_SERVER, { 0, 0 } };
    struct meta_attr a;
    uint32_t nconf;
    ck_assert_int_eq(meta_commit_write(tu_m, &tu_rootcred, ino, 0, &b, 1,
                                       index * commit_bs + len, &now, &a, NULL, 0,
                                       &nconf), 0);
}

static uint64_t volume_inodes(const char *name)
{
    struct meta_admin_volume *v;
    size_t n;
    uint64_t r = UINT64_MAX;
    ck_assert_int_eq(meta_admin_volume_list(tu_m, &v, &n), 0);
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].vol.name, name) == 0)
            r = v[i].inodes;
    free(v);
    return r;
}

/* Records of one database whose key starts with ino (8 bytes). */
static int count_fn(void *arg, const uint8_t *k, size_t klen,
                    const uint8_t *v, size_t vlen)
{
    uint64_t *c = arg;
    if (klen >= 8 && be64_get(k) == c[0])
        c[1]++;
    return 0;
}

static uint64_t records_of(enum meta_db db, uint64_t ino)
{
    uint64_t c[2] = { ino, 0 };
    ck_assert_int_eq(scan_db(tu_m, db, 16, count_fn, c, NULL, NULL), 0);
    return c[1];
}

START_TEST(volumes)
{
    struct meta_volume v;
    ck_assert_int_eq(meta_volume_create(tu_m, "v2", 1u << 20, &v), 0);
    uint64_t d = mkdir_(v.root, "dir");
    uint64_t f = mkfile(d, "f", 0);
    commit_bs = 1u << 20;
    commit(f, 0, 0x100000001ull, 1000);
    commit(f, 1, 0x100000002ull, 500);
    commit_bs = TU_BS;
    ck_assert_uint_eq(volume_inodes("v2"), 3);
    ck_assert_uint_eq(volume_inodes("default"), 1);

    struct meta_admin_deleted del;
    ck_assert_int_eq(meta_admin_volume_delete(tu_m, "v2", 0, &del),
                     -ENOTEMPTY);
    ck_assert_int_eq(meta_admin_volume_delete(tu_m, "nosuch", 1, &del),
                     -ENOENT);
    ck_assert_int_eq(meta_admin_volume_delete(tu_m, "a/b", 1, &del), -EINVAL);
    /* Mounted: refused until the session ends. */
    uint64_t s;
    ck_assert_int_eq(meta_session_open(tu_m, "v2", "c", "127.0.0.1",
                                       &tu_rootcred, &s, NULL), 0);
    ck_assert_int_eq(meta_admin_volume_delete(tu_m, "v2", 1, &del), -EBUSY);
    ck_assert_int_eq(meta_admin_evict(tu_m, s), 0);

    uint64_t garbage = meta_garbage_count(tu_m);
    ck_assert_int_eq(meta_admin_volume_delete(tu_m, "v2", 1, &del), 0);
    ck_assert_uint_eq(del.inodes, 3);
    ck_assert_uint_eq(del.blocks, 2);
    ck_assert_uint_eq(meta_garbage_count(tu_m), garbage + 2);
    ck_assert_int_eq(meta_volume_get(tu_m, "v2", &v), -ENOENT);
    ck_assert_uint_eq(volume_inodes("v2"), UINT64_MAX);
    ck_assert_uint_eq(records_of(MDB_INODES, f), 0);
    ck_assert_uint_eq(records_of(MDB_BLOCKS, f), 0);
    ck_assert_uint_eq(records_of(MDB_DIRENTS, d), 0);
    ck_assert_uint_eq(records_of(MDB_DIRENTS, v.root), 0);
    /* An empty volume goes without force; the name can be used again. */
    ck_assert_int_eq(meta_volume_create(tu_m, "v2", 1u << 20, &v), 0);
    ck_assert_int_eq(meta_admin_volume_delete(tu_m, "v2", 0, &del), 0);
    ck_assert_uint_eq(del.inodes, 1);
}
END_TEST

/* What a crash after the first step of a delete leaves: no volume record,
 * the marker, all the inodes. */
struct half { const char *name; uint64_t id, root; };

static int do_half_delete(struct tx *tx, void *arg)
{
    struct half *h = arg;
    int rc = kv_del(tx, MDB_VOLUMES, h->name, strlen(h->name));
    if (rc)
        return rc;
    uint8_t key[VOLDEL_PREFIX_LEN + 8], val[16];
    memcpy(key, VOLDEL_PREFIX, VOLDEL_PREFIX_LEN);
    be64_put(key + VOLDEL_PREFIX_LEN, h->id);
    be64_put(val, h->root);
    be64_put(val + 8, 0);
    return kv_put(tx, MDB_SUPER, key, sizeof key, val, sizeof val);
}

static int do_pending(struct tx *tx, void *arg)
{
    return voldel_pending(tx, *(uint64_t *)arg);
}

START_TEST(volume_delete_resumed)
{
    struct meta_volume v;
    ck_assert_int_eq(meta_volume_create(tu_m, "half", 1u << 20, &v), 0);
    uint64_t files[200];
    for (int i = 0; i < 200; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        files[i] = mkfile(v.root, name, 0);
    }
    commit_bs = 1u << 20;
    commit(files[7], 0, 0x200000001ull, 10);
    commit_bs = TU_BS;
    struct half h = { "half", v.id, v.root };
    ck_assert_int_eq(tx_run(tu_m, do_half_delete, &h), 0);
    ck_assert_int_eq(tx_run(tu_m, do_pending, &v.id), 1);
    /* A restart resumes it. */
    meta_close(tu_m);
    tu_m = tu_reopen(1);
    uint64_t garbage = meta_garbage_count(tu_m);
    ck_assert_int_eq(meta_admin_resume(tu_m), 0);
    ck_assert_int_eq(tx_run(tu_m, do_pending, &v.id), 0);
    for (int i = 0; i < 200; i += 37)
        ck_assert_uint_eq(records_of(MDB_INODES, files[i]), 0);
    ck_assert_uint_eq(records_of(MDB_INODES, v.root), 0);
    ck_assert_uint_eq(meta_garbage_count(tu_m), garbage + 1);
    /* Nothing left to do: a second run is a no-op. */
    ck_assert_int_eq(meta_admin_resume(tu_m), 0);
    ck_assert_uint_eq(volume_inodes("default"), 1);
}
END_TEST

START_TEST(sessions)
{
    struct meta_admin_session *ss;
    size_t n;
    ck_assert_int_eq(meta_admin_session_list(tu_m, &ss, &n), 0);
    ck_assert_uint_eq(n, 0);
    free(ss);
    struct meta_cred c = tu_cred(1000, 100);
    uint64_t s1, s2;
    ck_assert_int_eq(meta_session_open(tu_m, "default", "node1", "10.0.0.1",
                                       &c, &s1, NULL), 0);
    ck_assert_int_eq(meta_session_open(tu_m, "default", "node2", "10.0.0.2",
                                       &tu_rootcred, &s2, NULL), 0);
    uint64_t f = mkfile(tu_root, "open", s1);
    ck_assert_int_eq(meta_open_file(tu_m, &tu_rootcred, f, s1, O_RDONLY,
                                    &(struct meta_attr){ 0 }), 0);
    mkfile(tu_root, "other", s1);
    ck_assert_int_eq(meta_admin_session_list(tu_m, &ss, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(ss[0].id, s1);
    ck_assert_str_eq(ss[0].volume, "default");
    ck_assert_str_eq(ss[0].client_name, "node1");
    ck_assert_str_eq(ss[0].client_addr, "10.0.0.1");
    ck_assert_uint_eq(ss[0].uid, 1000);
    ck_assert_uint_eq(ss[0].opens, 2);          /* two inodes */
    ck_assert_int_eq(ss[0].lease_expiry - ss[0].mount_time, TU_LEASE);
    ck_assert_uint_eq(ss[1].opens, 0);
    free(ss);

    struct meta_admin_counts cnt;
    ck_assert_int_eq(meta_admin_counts(tu_m, &cnt), 0);
    ck_assert_uint_eq(cnt.sessions, 2);
    ck_assert_uint_eq(cnt.volumes, 1);
    ck_assert_uint_eq(cnt.locks, 0);

    /* Unlinked while open: evicting the session removes it. */
    ck_assert_int_eq(meta_unlink(tu_m, &tu_rootcred, tu_root, "open", 4,
                                 NULL), 0);
    ck_assert_uint_eq(records_of(MDB_INODES, f), 1);
    ck_assert_int_eq(meta_admin_evict(tu_m, s1), 0);
    ck_assert_uint_eq(records_of(MDB_INODES, f), 0);
    ck_assert_int_eq(meta_admin_evict(tu_m, s1), -ESTALE);
    ck_assert_int_eq(meta_session_renew(tu_m, s1), -ESTALE);
    ck_assert_int_eq(meta_admin_session_list(tu_m, &ss, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(ss[0].id, s2);
    free(ss);

    struct meta_admin_lock *locks;
    ck_assert_int_eq(meta_admin_lock_list(tu_m, 0, &locks, &n), 0);
    ck_assert_uint_eq(n, 0);
    free(locks);
}
END_TEST

static int waiter_status = 1;

static void waiter_done(void *arg, int status)
{
    __atomic_store_n(&waiter_status, status, __ATOMIC_SEQ_CST);
}

START_TEST(locks)
{
    uint64_t s1, s2;
    ck_assert_int_eq(meta_session_open(tu_m, "default", "a", "10.0.0.1",
                                       &tu_rootcred, &s1, NULL), 0);
    ck_assert_int_eq(meta_session_open(tu_m, "default", "b", "10.0.0.2",
                                       &tu_rootcred, &s2, NULL), 0);
    uint64_t f = mkfile(tu_root, "f", s1);
    uint64_t g = mkfile(tu_root, "g", s2);
    struct meta_lock w = { .type = META_LOCK_WRITE, .kind = META_LOCK_POSIX,
                           .start = 100, .end = META_LOCK_EOF,
                           .session = s1, .owner = 7, .pid = 4242 };
    struct meta_lock r = { .type = META_LOCK_READ, .kind = META_LOCK_FLOCK,
                           .session = s2, .owner = 9, .pid = 99 };
    ck_assert_int_eq(meta_lock_set(tu_m, f, &w, 0, NULL), 0);
    ck_assert_int_eq(meta_lock_set(tu_m, g, &r, 0, NULL), 0);
    /* s2 waits for s1's range. */
    struct meta_lock want = w;
    want.session = s2;
    want.owner = 8;
    want.start = 0;
    struct meta_lock_waiter wt = { .token = 1, .done = waiter_done };
    ck_assert_int_eq(meta_lock_wait(tu_m, f, &want, 0, &wt),
                     META_LOCK_QUEUED);

    struct meta_admin_lock *l;
    size_t n;
    ck_assert_int_eq(meta_admin_lock_list(tu_m, 0, &l, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(l[0].ino, f);
    ck_assert_uint_eq(l[0].type, META_ADMIN_LOCK_WRITE);
    ck_assert_uint_eq(l[0].kind, META_ADMIN_LOCK_POSIX);
    ck_assert_uint_eq(l[0].start, 100);
    ck_assert_uint_eq(l[0].end, UINT64_MAX);
    ck_assert_uint_eq(l[0].pid, 4242);
    ck_assert_int_eq(l[0].waiting, 0);
    ck_assert_uint_eq(l[1].ino, g);
    ck_assert_uint_eq(l[1].kind, META_ADMIN_LOCK_FLOCK);
    ck_assert_uint_eq(l[1].type, META_ADMIN_LOCK_READ);
    ck_assert_int_eq(l[2].waiting, 1);
    ck_assert_uint_eq(l[2].session, s2);
    free(l);
    ck_assert_int_eq(meta_admin_lock_list(tu_m, g, &l, &n), 0);
    ck_assert_uint_eq(n, 1);
    free(l);
    struct meta_admin_counts c;
    ck_assert_int_eq(meta_admin_counts(tu_m, &c), 0);
    ck_assert_uint_eq(c.locks, 2);
    struct meta_admin_session *ss;
    ck_assert_int_eq(meta_admin_session_list(tu_m, &ss, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(ss[0].locks, 1);
    ck_assert_uint_eq(ss[1].locks, 1);
    free(ss);

    /* Evicting the holder frees its lock at once: the waiter gets it. */
    ck_assert_int_eq(meta_admin_evict(tu_m, s1), 0);
    for (int i = 0; i < 500 &&
         __atomic_load_n(&waiter_status, __ATOMIC_SEQ_CST) == 1; i++)
        usleep(10000);
    ck_assert_int_eq(__atomic_load_n(&waiter_status, __ATOMIC_SEQ_CST), 0);
    ck_assert_int_eq(meta_admin_lock_list(tu_m, f, &l, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(l[0].session, s2);
    free(l);
    ck_assert_int_eq(meta_admin_evict(tu_m, s2), 0);
    ck_assert_int_eq(meta_admin_counts(tu_m, &c), 0);
    ck_assert_uint_eq(c.locks, 0);
}
END_TEST

START_TEST(stats_and_checkpoint)
{
    for (int i = 0; i < 50; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        mkfile(tu_root, name, 0);
    }
    struct meta_admin_dbstats st;
    ck_assert_int_eq(meta_admin_dbstats(tu_m, &st), 0);
    ck_assert_uint_gt(st.cache_hits + st.cache_misses, 0);
    ck_assert_uint_ge(st.cache_bytes, 8u << 20);
    ck_assert_uint_ge(st.log_files, 1);
    ck_assert_uint_gt(st.log_bytes, 0);
    ck_assert_int_eq(meta_admin_checkpoint(tu_m), 0);
    ck_assert_int_eq(meta_admin_checkpoint(tu_m), 0);

    /* The log is written out when made (DB_LOG_ZERO), so a commit's sync
     * allocates nothing: no log file has holes. */
    char p[300];
    snprintf(p, sizeof p, "%s/log.0000000001", tu_dir);
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_int_ge((long long)sb.st_blocks * 512, (long long)sb.st_size);
}
END_TEST

START_TEST(backup)
{
    uint64_t d = mkdir_(tu_root, "kept");
    uint64_t f = mkfile(d, "file", 0);
    commit(f, 0, 0x300000001ull, 4096);
    char dir[300], sub[400];
    snprintf(dir, sizeof dir, "%s.bk", tu_dir);
    uint32_t files;
    uint64_t bytes;
    ck_assert_int_eq(meta_admin_backup(tu_m, "relative", &files, &bytes),
                     -EINVAL);
    ck_assert_int_eq(meta_admin_backup(tu_m, dir, &files, &bytes), 0);
    ck_assert_uint_ge(files, 10);
    ck_assert_uint_gt(bytes, 0);
    ck_assert_int_eq(meta_admin_backup(tu_m, dir, &files, &bytes),
                     -ENOTEMPTY);
    snprintf(sub, sizeof sub, "%s/no/such", dir);
    ck_assert_int_eq(meta_admin_backup(tu_m, sub, &files, &bytes), -ENOENT);
    /* A change after the backup is not in it. */
    mkfile(tu_root, "later", 0);

    struct meta_opts o = { .dir = dir, .cache_bytes = 16u << 20 };
    struct meta *b;
    ck_assert_int_eq(meta_open(&o, &b), 0);
    struct meta_attr a;
    ck_assert_int_eq(meta_lookup(b, &tu_rootcred, tu_root, "kept", 4, &a), 0);
    ck_assert_uint_eq(a.ino, d);
    ck_assert_int_eq(meta_lookup(b, &tu_rootcred, d, "file", 4, &a), 0);
    ck_assert_uint_eq(a.size, 4096);
    ck_assert_int_eq(meta_lookup(b, &tu_rootcred, tu_root, "later", 5, &a),
                     -ENOENT);
    struct meta_block blk;
    uint32_t n;
    ck_assert_int_eq(meta_get_blocks(b, &tu_rootcred, f, 0, 1, &blk, 1, &n,
                                     &a), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(blk.version, 0x300000001ull);
    /* The copy's counters carry on from where the original was. */
    uint64_t g = 0;
    struct meta_mk mk = { .name = "new", .namelen = 3, .mode = 0644 };
    int created;
    ck_assert_int_eq(meta_create(b, &tu_rootcred, tu_root, &mk, 0, 0, &a,
                                 &created, NULL), 0);
    g = a.ino;
    ck_assert_uint_gt(g, f);
    meta_close(b);
    tu_rmrf(dir);
}
END_TEST

/* ---- fsck ---- */

struct damage { uint64_t ino, parent; const char *name; uint32_t nlink; };

static int do_drop_inode(struct tx *tx, void *arg)
{
    struct damage *d = arg;
    uint8_t key[8];
    be64_put(key, d->ino);
    return kv_del(tx, MDB_INODES, key, 8);
}

static int do_set_nlink(struct tx *tx, void *arg)
{
    struct damage *d = arg;
    struct inode in;
    int rc = inode_get(tx, d->ino, &in, DB_RMW);
    if (rc)
        return rc;
    in.nlink = d->nlink;
    return inode_put(tx, &in);
}

static int do_drop_entry(struct tx *tx, void *arg)
{
    struct damage *d = arg;
    struct dirent_rec r;
    size_t len = strlen(d->name);
    int rc = dirent_get(tx, d->parent, d->name, len, &r, DB_RMW);
    return rc ? rc : dirent_del(tx, d->parent, d->name, len, r.cookie);
}

static char problems[64][1024];
static int nproblems;

static void on_problem(void *arg, const char *msg)
{
    if (nproblems < 64)
        snprintf(problems[nproblems++], sizeof problems[0], "%s", msg);
}

static struct meta_fsck_result run_fsck(struct store *s, int repair,
                                        int expect_rc)
{
    struct meta_fsck_opts o = { .store = s, .repair = repair,
                                .gc_grace = 60,
                                .problem = on_problem };
    struct meta_fsck_result r;
    nproblems = 0;
    ck_assert_int_eq(meta_admin_fsck(tu_m, &o, &r), expect_rc);
    return r;
}

START_TEST(fsck_namespace)
{
    uint64_t d = mkdir_(tu_root, "d");
    mkdir_(d, "sub");
    uint64_t a = mkfile(d, "a", 0);
    uint64_t b = mkfile(d, "b", 0);
    uint64_t c = mkfile(d, "c", 0);
    struct meta_fsck_result r = run_fsck(NULL, 0, 0);
    ck_assert_uint_eq(r.inodes, 6);
    ck_assert_uint_eq(r.entries, 5);
    ck_assert_uint_eq(r.dangling_entries + r.wrong_nlink + r.orphan_inodes,
                      0);

    struct damage da = { .ino = a }, db = { .ino = b, .nlink = 7 },
                  dc = { .parent = d, .name = "c" }, dd = { .ino = d,
                                                          .nlink = 9 };
    ck_assert_int_eq(tx_run(tu_m, do_drop_inode, &da), 0);
    ck_assert_int_eq(tx_run(tu_m, do_set_nlink, &db), 0);
    ck_assert_int_eq(tx_run(tu_m, do_drop_entry, &dc), 0);
    ck_assert_int_eq(tx_run(tu_m, do_set_nlink, &dd), 0);
    /* An unlinked file still open is not an orphan. */
    uint64_t s;
    ck_assert_int_eq(meta_session_open(tu_m, "default", "n", "a",
                                       &tu_rootcred, &s, NULL), 0);
    mkfile(tu_root, "open", s);
    ck_assert_int_eq(meta_unlink(tu_m, &tu_rootcred, tu_root, "open", 4,
                                 NULL), 0);

    r = run_fsck(NULL, 0, 0);
    ck_assert_uint_eq(r.dangling_entries, 1);
    ck_assert_uint_eq(r.wrong_nlink, 2);        /* b, and d (2 + 1 subdir) */
    ck_assert_uint_eq(r.orphan_inodes, 1);
    ck_assert_uint_eq(r.repaired, 0);
    ck_assert_int_eq(nproblems, 4);

    r = run_fsck(NULL, 1, 0);
    ck_assert_uint_eq(r.repaired, 4);
    r = run_fsck(NULL, 0, 0);
    ck_assert_uint_eq(r.dangling_entries + r.wrong_nlink + r.orphan_inodes,
                      0);
    struct meta_attr at;
    ck_assert_int_eq(meta_getattr(tu_m, &tu_rootcred, b, &at), 0);
    ck_assert_uint_eq(at.nlink, 1);
    ck_assert_int_eq(meta_getattr(tu_m, &tu_rootcred, d, &at), 0);
    ck_assert_uint_eq(at.nlink, 3);
    ck_assert_int_eq(meta_lookup(tu_m, &tu_rootcred, d, "a", 1, &at),
                     -ENOENT);
    ck_assert_int_eq(meta_lookup(tu_m, &tu_rootcred, tu_root, "lost+found",
                                 10, &at), 0);
    uint64_t lf = at.ino;
    char name[32];
    snprintf(name, sizeof name, "#%llu", (unsigned long long)c);
    ck_assert_int_eq(meta_lookup(tu_m, &tu_rootcred, lf, name, strlen(name),
                                 &at), 0);
    ck_assert_uint_eq(at.ino, c);
    ck_assert_int_eq(meta_getattr(tu_m, &tu_rootcred, tu_root, &at), 0);
    ck_assert_uint_eq(at.nlink, 4);             /* d and lost+found */
    ck_assert_int_eq(meta_admin_evict(tu_m, s), 0);
}
END_TEST

START_TEST(fsck_blocks)
{
    char sdir[300], url[320], key[BLOCKKEY_MAX], path[700];
    snprintf(sdir, sizeof sdir, "%s.blocks", tu_dir);
    ck_assert_int_eq(mkdir(sdir, 0700), 0);
    snprintf(url, sizeof url, "file://%s", sdir);
    struct store *s;
    ck_assert_int_eq(store_open(url, NULL, &s), 0);
    struct meta_volume v;
    ck_assert_int_eq(meta_volume_get(tu_m, "default", &v), 0);

    uint64_t f = mkfile(tu_root, "f", 0);
    struct blockkey k = { v.id, f, 0, 0x500000001ull };
    ck_assert_int_gt(blockkey_format(key, sizeof key, &k), 0);
    ck_assert_int_eq(store_put(s, key, "data", 4), 0);
    commit(f, 0, k.version, 4);
    commit(f, 1, 0x500000002ull, 4);            /* never uploaded */
    /* Superseded: garbage, not unreferenced. */
    struct blockkey old = { v.id, f, 2, 0x500000003ull };
    ck_assert_int_gt(blockkey_format(key, sizeof key, &old), 0);
    ck_assert_int_eq(store_put(s, key, "old!", 4), 0);
    commit(f, 2, old.version, 4);
    struct meta_commit_block nb = { 2, 0x500000004ull, old.version, 4, 0 };
    struct blockkey nk = { v.id, f, 2, nb.version };
    ck_assert_int_gt(blockkey_format(key, sizeof key, &nk), 0);
    ck_assert_int_eq(store_put(s, key, "new!", 4), 0);
    struct meta_settime now = { META_TIME_SERVER, { 0, 0 } };
    struct meta_attr a;
    uint32_t nconf;
    ck_assert_int_eq(meta_commit_write(tu_m, &tu_rootcred, f, 0, &nb, 1, 0,
                                       &now, &a, NULL, 0, &nconf), 0);
    /* Stray objects: old (session gone), young, foreign. */
    struct blockkey stray = { v.id, 999, 0, 0xdead00000001ull };
    ck_assert_int_gt(blockkey_format(key, sizeof key, &stray), 0);
    ck_assert_int_eq(store_put(s, key, "x", 1), 0);
    snprintf(path, sizeof path, "%s/%s", sdir, key);
    struct utimbuf ut = { time(NULL) - 3600, time(NULL) - 3600 };
    ck_assert_int_eq(utime(path, &ut), 0);
    struct blockkey young = { v.id, 999, 1, 0xdead00000002ull };
    ck_assert_int_gt(blockkey_format(key, sizeof key, &young), 0);
    ck_assert_int_eq(store_put(s, key, "y", 1), 0);
    ck_assert_int_eq(store_put(s, "notes/readme", "z", 1), 0);

    struct meta_fsck_result r = run_fsck(s, 0, 0);
    ck_assert_uint_eq(r.blocks, 3);
    ck_assert_uint_eq(r.objects, 6);
    ck_assert_uint_eq(r.missing_blocks, 1);
    ck_assert_uint_eq(r.unreferenced_objects, 1);
    ck_assert_uint_eq(r.young_objects, 1);
    ck_assert_uint_eq(r.foreign_objects, 1);
    ck_assert_int_eq(nproblems, 2);

    r = run_fsck(s, 1, 0);
    ck_assert_uint_eq(r.repaired, 2);
    ck_assert_int_eq(access(path, F_OK), -1);   /* stray deleted */
    r = run_fsck(s, 0, 0);
    ck_assert_uint_eq(r.missing_blocks + r.unreferenced_objects, 0);
    ck_assert_uint_eq(r.young_objects, 1);
    struct meta_block blk[4];
    uint32_t n;
    ck_assert_int_eq(meta_get_blocks(tu_m, &tu_rootcred, f, 0, 4, blk, 4, &n,
                                     &a), 0);
    ck_assert_uint_eq(n, 2);                    /* block 1 dropped */
    ck_assert_uint_eq(blk[0].index, 0);
    ck_assert_uint_eq(blk[1].index, 2);
    ck_assert_uint_eq(a.blocks, 1);             /* 8 bytes: one unit */
    store_close(s);
    tu_rmrf(sdir);
}
END_TEST

static int always(void *arg)
{
    return 1;
}

START_TEST(fsck_cancel)
{
    struct meta_fsck_opts o = { .cancelled = always };
    struct meta_fsck_result r;
    ck_assert_int_eq(meta_admin_fsck(tu_m, &o, &r), -ECANCELED);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("meta_admin");
    TCase *tc = tcase_create("all");
    tcase_add_checked_fixture(tc, tu_setup, tu_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, volumes);
    tcase_add_test(tc, volume_delete_resumed);
    tcase_add_test(tc, sessions);
    tcase_add_test(tc, locks);
    tcase_add_test(tc, stats_and_checkpoint);
    tcase_add_test(tc, backup);
    tcase_add_test(tc, fsck_namespace);
    tcase_add_test(tc, fsck_blocks);
    tcase_add_test(tc, fsck_cancel);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
