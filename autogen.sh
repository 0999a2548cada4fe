#!/bin/sh
# Regenerates the autotools files (configure, Makefile.in) from a git checkout.
set -e
cd "$(dirname "$0")"
autoreconf --install --force
