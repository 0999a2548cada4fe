#!/bin/bash
# client_data_s3.sh - tests/integration/client_data.sh again, with the
# blocks in S3: s3rver behind the SigV4-verifying proxy, the gateway
# started with --store s3://..., gateway and mounts taking their
# credentials from the environment (see FX_STORE in tests/lib/common.sh).
: "${FLEXFS_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
export FLEXFS_SRCDIR FX_STORE=s3 FX_TEST_NAME=client_data_s3
exec bash "$FLEXFS_SRCDIR/tests/integration/client_data.sh"
