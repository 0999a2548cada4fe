#!/bin/bash
# nfs_fuse_s3.sh - tests/integration/nfs_fuse.sh again, with the
# blocks in S3: the FUSE client and the gateway's NFSv4 data path both
# read and write the blocks in s3rver (behind the SigV4-verifying proxy;
# see FX_STORE in tests/lib/common.sh).
: "${FLEXFS_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
export FLEXFS_SRCDIR FX_STORE=s3 FX_TEST_NAME=nfs_fuse_s3
exec bash "$FLEXFS_SRCDIR/tests/integration/nfs_fuse.sh"
