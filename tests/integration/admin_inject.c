/* admin_inject.c - damages the metadata of a stopped gateway on purpose,
 * so that the admin tests can check that fsck finds and repairs it:
 *
 *   admin_inject META_DIR dangling PATH   drop PATH's inode, keep its entry
 *   admin_inject META_DIR nlink PATH N    set PATH's link count to N
 *   admin_inject META_DIR orphan PATH     drop PATH's entry, keep its inode
 *
 * PATH is inside the volume "default", from its root.  Test-only: it
 * reaches into the core's records (meta_internal.h). */
#include "config.h"
#include "meta_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct inject {
    uint64_t parent, ino;
    const char *name;
    uint32_t nlink;
};

static int do_dangling(struct tx *tx, void *arg)
{
    struct inject *a = arg;
    uint8_t key[8];
    be64_put(key, a->ino);
    return kv_del(tx, MDB_INODES, key, 8);
}

static int do_nlink(struct tx *tx, void *arg)
{
    struct inject *a = arg;
    struct inode in;
    int rc = inode_get(tx, a->ino, &in, DB_RMW);
    if (rc)
        return rc;
    in.nlink = a->nlink;
    return inode_put(tx, &in);
}

static int do_orphan(struct tx *tx, void *arg)
{
    struct inject *a = arg;
    struct dirent_rec d;
    size_t len = strlen(a->name);
    int rc = dirent_get(tx, a->parent, a->name, len, &d, DB_RMW);
    if (rc)
        return rc;
    return dirent_del(tx, a->parent, a->name, len, d.cookie);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: admin_inject META_DIR dangling|nlink|orphan "
                "PATH [N]\n");
        return 2;
    }
    struct meta_opts o = { .dir = argv[1] };
    struct meta *m;
    int rc = meta_open(&o, &m);
    if (rc) {
        fprintf(stderr, "admin_inject: %s: %s\n", argv[1], strerror(-rc));
        return 1;
    }
    struct meta_volume v;
    struct meta_cred root = { 0 };
    struct inject a = { 0 };
    rc = meta_volume_get(m, "default", &v);
    a.ino = v.root;
    char *path = strdup(argv[3]), *save = NULL;
    for (char *c = strtok_r(path, "/", &save); c && rc == 0;
         c = strtok_r(NULL, "/", &save)) {
        struct meta_attr at;
        a.parent = a.ino;
        a.name = argv[3] + (c - path);
        rc = meta_lookup(m, &root, a.ino, c, strlen(c), &at);
        a.ino = at.ino;
    }
    if (rc == 0) {
        /* a.name points into argv: the last component. */
        a.name = strrchr(argv[3], '/') ? strrchr(argv[3], '/') + 1 : argv[3];
        if (strcmp(argv[2], "dangling") == 0)
            rc = tx_run(m, do_dangling, &a);
        else if (strcmp(argv[2], "nlink") == 0 && argc == 5) {
            a.nlink = (uint32_t)atoi(argv[4]);
            rc = tx_run(m, do_nlink, &a);
        } else if (strcmp(argv[2], "orphan") == 0)
            rc = tx_run(m, do_orphan, &a);
        else
            rc = -EINVAL;
    }
    if (rc)
        fprintf(stderr, "admin_inject: %s %s: %s\n", argv[2], argv[3],
                strerror(-rc));
    else
        printf("ino=%llu\n", (unsigned long long)a.ino);
    free(path);
    meta_close(m);
    return rc ? 1 : 0;
}
