# t/lib.sh: shell functions shared by the TAP test scripts (POSIX sh).
#
# Source it from a test script with
#     . "$(dirname "$0")/lib.sh"
# It sets:
#   tdir    absolute path of the t/ directory holding the tests (read-only
#           under `make distcheck`: never write there)
#   DIAL    absolute path of the dial program
#   tmp     a fresh scratch directory, removed on exit
# and provides the TAP helpers below.

# --- where things are -------------------------------------------------------

# The directory holding t/: $srcdir when the harness gives one (automake sets
# it to the directory of the Makefile.am that lists the tests, which is either
# the top directory or t/ itself), else the parent of this script's directory.
_lib_here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${srcdir:-}" ] && [ -d "$srcdir/t/lang" ]; then
    tdir=$(cd "$srcdir/t" && pwd)
elif [ -n "${srcdir:-}" ] && [ -d "$srcdir/lang" ]; then
    tdir=$(cd "$srcdir" && pwd)
else
    tdir=$_lib_here
fi

# The dial program: $DIAL, else ./dial (the build directory when make check
# runs there), else ../dial next to t/. Made absolute, because tests cd.
_abs() {
    case $1 in
    /*) printf '%s\n' "$1" ;;
    *)  printf '%s/%s\n' "$(cd "$(dirname "$1")" && pwd)" "$(basename "$1")" ;;
    esac
}
if [ -n "${DIAL:-}" ]; then
    DIAL=$(_abs "$DIAL")
elif [ -x ./dial ]; then
    DIAL=$(_abs ./dial)
elif [ -x "$_lib_here/../dial" ]; then
    DIAL=$(_abs "$_lib_here/../dial")
elif [ -x "$tdir/../dial" ]; then
    DIAL=$(_abs "$tdir/../dial")
else
    DIAL=dial
fi
export DIAL

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dialtest.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' 0
trap 'exit 130' 1 2 13 15

# Under `make check-valgrind`, DIAL_VALGRIND is the command that runs a
# program under memcheck: every run of dial goes through it (DIAL becomes a
# wrapper, so scripts that run "$DIAL" themselves are covered too), and
# host programs are run as `$vg PROGRAM`.  Memcheck is some 30 times slower:
# $slow scales the time limits.
vg=${DIAL_VALGRIND:-}
slow=1
if [ -n "$vg" ]; then
    slow=30
    printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$vg" "$DIAL" >"$tmp/vg-dial" &&
        chmod +x "$tmp/vg-dial" || exit 99
    DIAL=$tmp/vg-dial
    DIAL_TEST_TIMEOUT=${DIAL_TEST_TIMEOUT:-900}
    PTY_DRIVE_TIMEOUT=${PTY_DRIVE_TIMEOUT:-60}
    export PTY_DRIVE_TIMEOUT
fi

# Seconds one run of dial may take before it is killed (timeout(1) if there).
: "${DIAL_TEST_TIMEOUT:=30}"
if command -v timeout >/dev/null 2>&1; then
    _timeout="timeout $DIAL_TEST_TIMEOUT"
else
    _timeout=
fi

# --- TAP ------------------------------------------------------------------

tap_n=0
tap_failed=0

# plan N: print the plan line.
plan() { echo "1..$1"; }

ok() {
    tap_n=$((tap_n + 1))
    echo "ok $tap_n - $*"
}

not_ok() {
    tap_n=$((tap_n + 1))
    tap_failed=$((tap_failed + 1))
    echo "not ok $tap_n - $*"
}

skip() {
    tap_n=$((tap_n + 1))
    echo "ok $tap_n - $1 # SKIP ${2:-}"
}

# diag: print its arguments (or stdin with no arguments) as TAP comments.
diag() {
    if [ $# -gt 0 ]; then
        printf '%s\n' "$*" | sed 's/^/# /'
    else
        sed 's/^/# /'
    fi
}

# show_diff EXPECTED_FILE ACTUAL_FILE: a short unified diff as comments.
show_diff() {
    if command -v diff >/dev/null 2>&1; then
        diff -u "$1" "$2" | sed -n '3,42p' | diag
    else
        echo "expected:" | diag; head -n 20 "$1" | diag
        echo "got:" | diag; head -n 20 "$2" | diag
    fi
}

# show_file LABEL FILE: up to 20 lines of FILE as comments, if non-empty.
show_file() {
    if [ -s "$2" ]; then
        diag "$1:"
        head -n 20 "$2" | cut -c1-200 | diag
    fi
}

# number_lines NAME FILE: FILE's TAP lines without numbers ("ok - what",
# "not ok - what") numbered as "ok N - NAME: what"; its other lines as
# comments.
number_lines() {
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in
        "ok - "*)
            tap_n=$((tap_n + 1))
            echo "ok $tap_n - $1: ${line#ok - }" ;;
        "not ok - "*)
            tap_n=$((tap_n + 1))
            echo "not ok $tap_n - $1: ${line#not ok - }" ;;
        *)
            printf '# %s\n' "$line" ;;
        esac
    done <"$2"
}

# --- running dial -----------------------------------------------------------

# run_dial DIR ARGS...: cd into DIR and run dial with ARGS, standard input
# from /dev/null (unless the caller redirects), stdout to $tmp/out, stderr
# to $tmp/err; the exit status in $status.
run_dial() {
    _dir=$1; shift
    status=0
    (cd "$_dir" && exec $_timeout "$DIAL" "$@") </dev/null >"$tmp/out" 2>"$tmp/err" || status=$?
}

# run_dial_in DIR ARGS... <input: like run_dial but keeps the caller's stdin.
run_dial_in() {
    _dir=$1; shift
    status=0
    (cd "$_dir" && exec $_timeout "$DIAL" "$@") >"$tmp/out" 2>"$tmp/err" || status=$?
}

# crashed: true if $status says dial was killed by a signal or timed out.
crashed() {
    [ "$status" -ge 124 ]
}

# status_word: a description of $status for diagnostics.
status_word() {
    case $status in
    124) echo "124 (timed out after ${DIAL_TEST_TIMEOUT}s)" ;;
    13[0-9]|1[4-9][0-9]|2[0-5][0-9]) echo "$status (signal $((status - 128)))" ;;
    *) echo "$status" ;;
    esac
}

# Finish: exit 0 (the TAP driver reads the ok/not ok lines).
done_testing() {
    exit 0
}
