#!/bin/sh
# setup.sh - installs the S3-compatible test server (the npm package s3rver,
# pinned) for the S3 tests, into a directory of its own:
#   $FLEXFS_S3_DIR, else /var/cache/flexfs-test/s3rver when writable, else
#   $HOME/.cache/flexfs-test/s3rver.
# Idempotent: returns at once when the pinned version is already there.
# Prints the directory on success; exits non-zero when npm cannot install.
set -eu
S3RVER_VERSION=3.7.1

dir=${FLEXFS_S3_DIR:-}
if [ -z "$dir" ]; then
  if mkdir -p /var/cache/flexfs-test 2>/dev/null && [ -w /var/cache/flexfs-test ]; then
    dir=/var/cache/flexfs-test/s3rver
  else
    dir=${HOME:-/tmp}/.cache/flexfs-test/s3rver
  fi
fi

installed() {
  [ -f "$dir/node_modules/s3rver/package.json" ] &&
    grep -q "\"version\": \"$S3RVER_VERSION\"" "$dir/node_modules/s3rver/package.json"
}

if installed; then
  echo "$dir"
  exit 0
fi
command -v node >/dev/null 2>&1 || { echo "setup.sh: node is missing (Debian package nodejs)" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "setup.sh: npm is missing (Debian package npm)" >&2; exit 1; }
mkdir -p "$dir"
# A private package.json keeps npm from walking up into another project.
[ -f "$dir/package.json" ] ||
  printf '{ "name": "flexfs-s3-test", "private": true }\n' > "$dir/package.json"
# Serialize concurrent setups (parallel make check) on one lock.
(
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  installed || (cd "$dir" && npm install --no-audit --no-fund --no-save \
      --loglevel=error "s3rver@$S3RVER_VERSION" >&2)
) 9>"$dir/.lock"
installed || { echo "setup.sh: s3rver $S3RVER_VERSION did not install in $dir" >&2; exit 1; }
echo "$dir"
