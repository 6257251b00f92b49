#!/bin/sh
# fuzz/build.sh: build the libFuzzer harnesses (`make fuzz` runs it).
#
#     fuzz/build.sh CC SRCDIR OUTDIR LIBRARY-SOURCES...
#
# Compiles the library sources afresh with CC (clang) and the fuzzing
# sanitizers into OUTDIR/obj, then links OUTDIR/NAME for each harness
# fuzz/NAME.c. A source is taken from the build tree when it is there
# (generated files: grammar/parser.c, grammar/lexer.c, src/rules_text.c),
# else from SRCDIR; a .y source stands for its generated .c. Matrix
# products use the C kernel (no CBLAS), so they are instrumented too.
# Objects are rebuilt only when older than their source, a header or this
# script.
set -e
cc=$1 srcdir=$2 out=$3
shift 3

harnesses="parse compile run grad npy csv rules"
shared="fuzz/util.c fuzz/gen.c fuzz/load.c"
cflags="-g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -fsanitize=address,undefined
 -fno-sanitize-recover=undefined -I$srcdir/src -I$srcdir/grammar -Igrammar -Isrc -I$srcdir/fuzz"

# where FILE: the path of FILE, from the build tree or the source tree
where() {
    if [ -f "$1" ]; then echo "$1"; else echo "$srcdir/$1"; fi
}

mkdir -p "$out/obj"
newest=$(ls -t "$0" "$srcdir"/src/*.h "$srcdir"/fuzz/*.h "$srcdir"/grammar/*.h \
    "$(where grammar/parser.h)" | head -n 1)

# compile SOURCE FLAGS...: OUTDIR/obj/SOURCE-with-slashes-as-dashes.o
compile() {
    src=$(where "$1")
    obj=$out/obj/$(echo "$1" | tr / -).o
    shift
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest" -nt "$obj" ]; then
        echo "  CC(fuzz) $src"
        # shellcheck disable=SC2086
        $cc $cflags "$@" -c -o "$obj" "$src"
    fi
    objs="$objs $obj"
}

objs=
for s in "$@"; do
    case $s in
    *.h) continue ;;
    *.y) s=${s%.y}.c ;;
    esac
    compile "$s" -fsanitize=fuzzer-no-link
done
for s in $shared; do
    compile "$s" -fsanitize=fuzzer-no-link
done
lib=$objs
for h in $harnesses; do
    objs=
    compile "fuzz/$h.c" -fsanitize=fuzzer
    # shellcheck disable=SC2086
    if [ -f "$out/$h" ] && [ -z "$(find $objs $lib -newer "$out/$h")" ]; then continue; fi
    echo "  CCLD(fuzz) $out/$h"
    # shellcheck disable=SC2086
    $cc $cflags -fsanitize=fuzzer -o "$out/$h" $objs $lib -lm
done
