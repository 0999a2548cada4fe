/* native.h - the native metadata program (FLEXFS_PROG version 1, see
 * rpc/flexfs_prot.x): one small handler per procedure that turns the XDR
 * arguments into a call of the metadata core and its result into the XDR
 * reply.  Core errors (negative errno) become the positive errno in the
 * reply's status; a block-map conflict becomes FX_CONFLICT with the
 * blocks as they now are.
 *
 * READDIR and READDIRPLUS list the entries only (no "." or ".."), as many
 * as fit max_bytes of encoded reply, counted with the RPC reply header;
 * EINVAL when not even the next entry would fit. */
#ifndef FLEXFS_NATIVE_H
#define FLEXFS_NATIVE_H

#include "gateway.h"
#include "rpcsvc.h"

/* The XDR size of a READDIR reply before its entries, and of each entry
 * (name padded to 4 bytes) without and with attributes. */
#define NATIVE_DIR_BASE        36u
#define NATIVE_DIRENT_BASE     28u
#define NATIVE_ATTR_SIZE       104u

/* The program, ready for rpc_server_add; gw must outlive the server. */
void native_program(struct gateway *gw, struct rpc_program *out);

#endif
