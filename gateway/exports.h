/* exports.h - which hosts may use which volume, read-only or read-write,
 * and whose credentials are squashed (DESIGN.md decision 6).  The table
 * comes from an exports file in the style of exports(5):
 *
 *     # VOLUME   CLIENT(OPTIONS) CLIENT(OPTIONS) ...
 *     /          10.1.0.0/16(rw) 10.2.0.7(rw,no_root_squash) *(ro)
 *     /scratch   *(rw,all_squash,anonuid=1000,anongid=1000)
 *
 * VOLUME is "/" (the default volume) or "/NAME".  CLIENT is "*", an
 * address or ADDR/BITS; the first client of a line that matches the peer
 * decides.  OPTIONS: ro (default) or rw, root_squash (default),
 * no_root_squash or all_squash, anonuid=N and anongid=N (default 65534),
 * secure (calls must come from a port below 1024, which only root on the
 * client can bind: AUTH_SYS then speaks for the host's root, not for any
 * of its users) or insecure (the default, unlike exports(5)).
 * A volume without a line, or a peer no client of its line matches, is
 * not exported to that peer.
 *
 * Without a file every host may use every volume read-write, with no
 * squashing.  The table can be reloaded while calls are served: a bad
 * file keeps the table in force. */
#ifndef FLEXFS_EXPORTS_H
#define FLEXFS_EXPORTS_H

#include <stdint.h>
#include <sys/socket.h>

#include "meta.h"

enum export_access { EXPORT_DENIED = 0, EXPORT_RO, EXPORT_RW };
enum export_squash { EXPORT_SQUASH_NONE = 0, EXPORT_SQUASH_ROOT,
                     EXPORT_SQUASH_ALL };

struct export_rule {
    enum export_access access;
    enum export_squash squash;
    uint32_t anonuid, anongid;
    int secure;                         /* privileged source ports only */
};

#define EXPORT_ANON_ID 65534u

struct exports;

/* Reads path (NULL: no file, everything open).  -EINVAL for a bad file,
 * with the line and the reason logged; -errno if it cannot be read. */
int exports_open(const char *path, struct exports **out);
/* Reads the file again; on any error the old table stays. */
int exports_reload(struct exports *ex);
void exports_close(struct exports *ex);
/* 1 if a file is in force (calls need their volume checked). */
int exports_active(const struct exports *ex);

/* The rule for peer on volume (the core's name: "default" for "/"). */
void exports_rule(struct exports *ex, const char *volume,
                  const struct sockaddr *peer, socklen_t len,
                  struct export_rule *out);
/* cred as the rule maps it, as Linux's nfsd does: root_squash turns uid 0
 * into anonuid and gid 0 (also among the groups) into anongid;
 * all_squash turns everyone into anonuid/anongid with no other groups. */
void export_squash_cred(const struct export_rule *r, struct meta_cred *cred);

/* For tests: parses text as the file's contents (where names it in
 * messages) into a table that cannot be reloaded. */
int exports_parse(const char *text, const char *where, struct exports **out);

#endif
