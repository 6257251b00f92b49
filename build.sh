#!/bin/sh
# Quick start: install the build dependencies (Debian/Ubuntu, through sudo
# unless run as root; only what is missing), bootstrap, configure, build, and
# run an example.  Arguments go to configure, e.g. ./build.sh --enable-sanitizers
set -e
cd "$(dirname "$0")"

deps="build-essential autoconf automake libtool pkg-config re2c bison libreadline-dev libopenblas-dev"
# For make check only: clang with libFuzzer, so t/fuzz.test also runs the
# libFuzzer build of the fuzz harnesses (fuzz/README.md); without them it
# runs the harnesses through a plain driver.
deps="$deps clang libclang-rt-dev"
if command -v dpkg-query >/dev/null 2>&1; then
    missing=
    for p in $deps; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' ||
            missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "build.sh: installing$missing"
        sudo=
        [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get update
        $sudo env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y --no-install-recommends $missing
    fi
else
    echo "build.sh: not a Debian system; make sure these (or their equivalents) are installed: $deps"
fi

./autogen.sh
./configure "$@"
make -j"$(nproc 2>/dev/null || echo 2)"
./dial examples/hello.dial
