/* admin_native.c - a small native-protocol client for the admin tests
 * (tests/integration/admin_*.sh), on tests/integration/gw_client.c:
 *
 *   admin_native PORT hold NAME [lock]  mount, create and open NAME in
 *                                     the root (and write-lock all of it),
 *                                     print "session=S ino=I", then renew
 *                                     the lease every second until killed;
 *                                     exit 3 when the session is gone
 *   admin_native PORT lockwait NAME   a blocking write lock on all of NAME
 *                                     (SETLK with wait); print "granted"
 *                                     when it is; exit 4 if the gateway
 *                                     has no SETLK
 *   admin_native PORT write NAME SIZE create NAME holding SIZE bytes:
 *                                     blocks uploaded to the store the
 *                                     gateway names, then committed
 *   admin_native PORT phantom NAME    create NAME whose block 0 names a
 *                                     version never uploaded; print
 *                                     "ino=I key=K"
 *   admin_native PORT build N [DIR]   mkdir DIR (default d), N files in
 *                                     it, a symlink, a hard link
 *   admin_native PORT rm NAME         unlink NAME from the root
 *   admin_native PORT tree            print every path with type, size,
 *                                     nlink, mode and a digest of the
 *                                     block map, sorted (backup checks)
 *   admin_native PORT stale           print "session=S" of a fresh mount
 *                                     and exit without unmounting
 *
 * Everything as root on 127.0.0.1, in the volume $FX_VOLUME (default:
 * "default"); exit 0 on success, 1 on a failure. */
#include "config.h"
#include "blockkey.h"
#include "gw_client.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct gw g;
static fx_mount_ok info;                /* volume id and store URL */

static void connect_root(uint16_t port)
{
    gw_connect(&g, port, 0, 0);
    const char *vol = getenv("FX_VOLUME");
    /* A second MOUNT, for what gw_connect does not keep (and the volume
     * asked for): it becomes the session used from here on. */
    int st = gw_mount(&g, vol ? vol : "", &info);
    CHECK(st == 0, "mount of volume %s: %s", vol ? vol : "default",
          strerror(st));
    CHECK_OK(gw_unmount(&g, g.session));
    g.session = info.session;
    g.root = info.root;
    g.block_size = info.block_size;
}

static uint64_t make_file(const char *name)
{
    fx_attr a;
    int created;
    CHECK_OK(gw_create(&g, g.root, name, 0644, 1, 0, &a, &created));
    return a.ino;
}

/* SETLK of a write lock on all of ino; PROC_UNAVAIL gives -1. */
static int setlk(uint64_t ino, int wait)
{
    fx_setlk_args a;
    memset(&a, 0, sizeof a);
    a.ino = ino;
    a.lock.type = FX_LOCK_WRITE;
    a.lock.kind = FX_LOCK_POSIX;
    a.lock.start = 0;
    a.lock.end = FX_LOCK_EOF;
    a.lock.session = g.session;
    a.lock.owner = (uint64_t)getpid();
    a.lock.pid = (uint32_t)getpid();
    a.wait = wait;
    a.token = 1;
    fx_status_res r = { 0 };
    struct timeval tmo = { 60, 0 };
    enum clnt_stat st = clnt_call(g.cl, FXPROC_SETLK,
                                  (xdrproc_t)xdr_fx_setlk_args, (char *)&a,
                                  (xdrproc_t)xdr_fx_status_res, (char *)&r,
                                  tmo);
    if (st == RPC_PROCUNAVAIL)
        return -1;
    CHECK(st == RPC_SUCCESS, "SETLK: %s", clnt_sperrno(st));
    return r.status;
}

static int cmd_hold(const char *name, int lock)
{
    fx_attr a;
    int created;
    CHECK_OK(gw_create(&g, g.root, name, 0644, 0, g.session, &a, &created));
    if (lock) {
        int st = setlk(a.ino, 0);
        if (st < 0) {
            fprintf(stderr, "admin_native: the gateway has no SETLK\n");
            return 4;
        }
        CHECK_OK(st);
    }
    printf("session=%" PRIu64 " ino=%" PRIu64 "\n", g.session, a.ino);
    fflush(stdout);
    for (;;) {
        sleep(1);
        int st = gw_renew(&g, g.session);
        if (st != 0) {
            fprintf(stderr, "admin_native: session %" PRIu64 " gone: %s\n",
                    g.session, strerror(st));
            g.session = 0;              /* nothing to unmount */
            return 3;
        }
    }
}

static int cmd_lockwait(const char *name)
{
    fx_attr a;
    CHECK_OK(gw_lookup(&g, g.root, name, &a));
    printf("waiting\n");
    int st = setlk(a.ino, 1);
    if (st < 0)
        return 4;
    CHECK_OK(st);
    printf("granted\n");
    return 0;
}

static int cmd_write(const char *name, uint64_t size)
{
    struct store *s;
    CHECK_OK(-store_open(info.store_url, NULL, &s));
    uint64_t ino = make_file(name);
    uint32_t bs = g.block_size;
    char *buf = malloc(bs);
    CHECK(buf != NULL, "out of memory");
    uint64_t nblocks = (size + bs - 1) / bs;
    fx_commit_block *cb = calloc(nblocks ? nblocks : 1, sizeof *cb);
    CHECK(cb != NULL, "out of memory");
    for (uint64_t i = 0; i < nblocks; i++) {
        uint32_t len = size - i * bs < bs ? (uint32_t)(size - i * bs) : bs;
        for (uint32_t k = 0; k < len; k++)
            buf[k] = (char)(i * 31 + k);
        struct blockkey key = { info.volume_id, ino, i,
                                (g.session << 32) | (i + 1) };
        char kbuf[BLOCKKEY_MAX];
        CHECK(blockkey_format(kbuf, sizeof kbuf, &key) > 0, "key");
        CHECK_OK(-store_put(s, kbuf, buf, len));
        cb[i] = (fx_commit_block){ i, key.version, 0, len, 0 };
    }
    fx_commit_res r;
    CHECK_OK(gw_commit(&g, ino, cb, (u_int)nblocks, size, FX_TIME_SERVER, &r));
    xdr_free((xdrproc_t)xdr_fx_commit_res, (char *)&r);
    printf("ino=%" PRIu64 " blocks=%" PRIu64 "\n", ino, nblocks);
    free(cb);
    free(buf);
    store_close(s);
    return 0;
}

static int cmd_phantom(const char *name)
{
    uint64_t ino = make_file(name);
    struct blockkey key = { info.volume_id, ino, 0,
                            (g.session << 32) | 0xbad };
    fx_commit_block cb = { 0, key.version, 0, 100, 0 };
    fx_commit_res r;
    CHECK_OK(gw_commit(&g, ino, &cb, 1, 100, FX_TIME_SERVER, &r));
    xdr_free((xdrproc_t)xdr_fx_commit_res, (char *)&r);
    char kbuf[BLOCKKEY_MAX];
    CHECK(blockkey_format(kbuf, sizeof kbuf, &key) > 0, "key");
    printf("ino=%" PRIu64 " key=%s\n", ino, kbuf);
    return 0;
}

static int cmd_build(int n, const char *dir)
{
    fx_attr d, a;
    CHECK_OK(gw_mkdir(&g, g.root, dir, 0755, &d));
    for (int i = 0; i < n; i++) {
        char name[32];
        int created;
        snprintf(name, sizeof name, "f%d", i);
        CHECK_OK(gw_create(&g, d.ino, name, 0644, 1, 0, &a, &created));
    }
    CHECK_OK(gw_symlink(&g, d.ino, "link", "f0", &a));
    CHECK_OK(gw_lookup(&g, d.ino, "f0", &a));
    char hard[300];
    snprintf(hard, sizeof hard, "hard-%s", dir);
    CHECK_OK(gw_link(&g, a.ino, g.root, hard, &a));
    return 0;
}

/* One line per entry below dir, depth first. */
static void walk(uint64_t dir, const char *path)
{
    uint64_t cookie = 0;
    for (;;) {
        fx_readdir_res r;
        CHECK_OK(gw_readdir(&g, dir, cookie, 65536, 1, &r));
        fx_readdir_ok *ok = &r.fx_readdir_res_u.ok;
        for (u_int i = 0; i < ok->entries.entries_len; i++) {
            fx_dirent *e = &ok->entries.entries_val[i];
            cookie = e->cookie;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%.*s", path, (int)e->name.fx_name_len,
                     e->name.fx_name_val);
            fx_attr *at = e->attr;
            CHECK(at != NULL, "READDIRPLUS without attributes");
            uint64_t digest = 0;
            if (S_ISREG(at->mode)) {
                fx_get_blocks_res br;
                CHECK_OK(gw_get_blocks(&g, at->ino, 0, 4096, &br));
                fx_block *b = br.fx_get_blocks_res_u.ok.blocks.blocks_val;
                for (u_int k = 0;
                     k < br.fx_get_blocks_res_u.ok.blocks.blocks_len; k++)
                    digest = digest * 1000003 ^ b[k].index ^ b[k].ver ^
                             b[k].length;
                xdr_free((xdrproc_t)xdr_fx_get_blocks_res, (char *)&br);
            }
            printf("%s type=%o size=%" PRIu64 " nlink=%u mode=%o map=%"
                   PRIx64 "\n", sub, at->mode & S_IFMT, at->size, at->nlink,
                   at->mode & 07777, digest);
            if (S_ISDIR(at->mode))
                walk(at->ino, sub);
        }
        int eof = ok->eof;
        xdr_free((xdrproc_t)xdr_fx_readdir_res, (char *)&r);
        if (eof)
            break;
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: admin_native PORT COMMAND [ARGS]\n");
        return 2;
    }
    uint16_t port = (uint16_t)atoi(argv[1]);
    const char *cmd = argv[2];
    setvbuf(stdout, NULL, _IOLBF, 0);
    connect_root(port);
    int rc = 0;
    if (strcmp(cmd, "hold") == 0 && (argc == 4 || argc == 5))
        rc = cmd_hold(argv[3], argc == 5 && strcmp(argv[4], "lock") == 0);
    else if (strcmp(cmd, "lockwait") == 0 && argc == 4)
        rc = cmd_lockwait(argv[3]);
    else if (strcmp(cmd, "write") == 0 && argc == 5)
        rc = cmd_write(argv[3], strtoull(argv[4], NULL, 0));
    else if (strcmp(cmd, "phantom") == 0 && argc == 4)
        rc = cmd_phantom(argv[3]);
    else if (strcmp(cmd, "build") == 0 && (argc == 4 || argc == 5))
        rc = cmd_build(atoi(argv[3]), argc == 5 ? argv[4] : "d");
    else if (strcmp(cmd, "rm") == 0 && argc == 4)
        CHECK_OK(gw_unlink(&g, g.root, argv[3]));
    else if (strcmp(cmd, "tree") == 0 && argc == 3)
        walk(g.root, "");
    else if (strcmp(cmd, "stale") == 0 && argc == 3) {
        printf("session=%" PRIu64 "\n", g.session);
        return 0;                       /* no UNMOUNT: the lease runs out */
    } else {
        fprintf(stderr, "admin_native: bad command\n");
        return 2;
    }
    free(info.store_url);
    gw_close(&g);
    return rc;
}
