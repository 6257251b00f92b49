#!/bin/sh
# Bootstrap the Autotools build from a git checkout: writes configure and
# Makefile.in.  Then: ./configure && make && make check.
set -e
cd "$(dirname "$0")"
mkdir -p m4
autoreconf -fi "$@"
