/* main.c: the `dial` program: run a file, a -e string or standard input,
 * list bytecode, or start the interactive session (repl.c). It uses only
 * the public API (dial.h). Exit status: 0 success, 1 script error,
 * 2 usage error. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dial.h"
#include "repl.h"

static dial_vm *running; /* the VM the SIGINT handler interrupts */

static void on_sigint(int sig)
{
    (void)sig;
    if (running) dial_interrupt(running);
}

static void usage(FILE *f)
{
    fputs("usage: dial [options] [FILE [ARGS...]]\n"
          "Run a dial program, or start an interactive session (a REPL) when no\n"
          "FILE is given and standard input is a terminal.\n"
          "\n"
          "  FILE          run the program in FILE; ARGS become the tuple `args`\n"
          "  -             read the program from standard input\n"
          "  -e CODE       run CODE\n"
          "  --disasm      list the bytecode instead of running\n"
          "  --ad-source   print the code grad generates (dial-like source) instead\n"
          "                of running\n"
          "  --ad-stats    print the AD statistics (JSON) on stderr at the end\n"
          "  --ad-memory SIZE\n"
          "                the AD memory budget: a loop written `checkpoint` without\n"
          "                a count keeps as many snapshots as fit (default 256M)\n"
          "  --max-memory SIZE\n"
          "                stop with an error when arrays would take more than SIZE\n"
          "  --max-steps N stop with an error after N loop iterations and calls\n"
          "                (SIZE: bytes, or with a suffix K, M or G: 64M)\n"
          "  --schedule N S [--online]\n"
          "                print the checkpointing schedule of a loop of N steps\n"
          "                (0..1000000) with S snapshot slots (S >= 1, counting the\n"
          "                initial state's): actions, picture, totals; --online: a\n"
          "                while loop that turns out to run N steps\n"
          "  --help        show this help\n"
          "  --version     show the version\n"
          "\n"
          "In the session, :help lists the commands (:load FILE, :disasm NAME,\n"
          ":stats, :quit); Ctrl-C interrupts, Ctrl-D leaves. History is kept in\n"
          "$DIAL_HISTORY, else ~/.dial_history (DIAL_HISTORY= for none).\n",
          f);
}

/* A whole decimal number in [lo, hi] from `a`, or -1 with a message. */
static int parse_count(const char *a, const char *what, long long lo, long long hi, long long *v)
{
    char *end;
    long long x = strtoll(a, &end, 10);
    if (*a < '0' || *a > '9' || *end || x < lo || x > hi) {
        fprintf(stderr, "dial: --schedule: %s must be a whole number from %lld to %lld, not '%s'\n",
                what, lo, hi, a);
        return -1;
    }
    *v = x;
    return 0;
}

/* SIZE of --ad-memory and --max-memory: bytes, or K, M, G (powers of 2). */
static int parse_size(const char *opt, const char *a, unsigned long long *v)
{
    char *end;
    unsigned long long x = strtoull(a, &end, 10);
    int shift = *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20 : *end == 'G' || *end == 'g' ? 30 : 0;
    if (shift) end++;
    if (*a < '0' || *a > '9' || *end || x > (~0ULL >> shift)) {
        fprintf(stderr, "dial: %s needs a size such as 4096, 512K, 64M or 2G, not '%s'\n", opt, a);
        return -1;
    }
    *v = x << shift;
    return 0;
}

/* dial --schedule N S [--online]: argv[i] is "--schedule". */
static int schedule(int argc, char **argv, int i)
{
    long long n, s;
    int online = 0;
    if (argc - i < 3) {
        fputs("dial: --schedule needs N (steps) and S (snapshot slots)\n", stderr);
        return 2;
    }
    if (parse_count(argv[i + 1], "N", 0, 1000000, &n) < 0 ||
        parse_count(argv[i + 2], "S", 1, LLONG_MAX, &s) < 0)
        return 2;
    for (i += 3; i < argc; i++) {
        if (strcmp(argv[i], "--online") != 0) {
            fprintf(stderr, "dial: --schedule: unexpected '%s'\n", argv[i]);
            return 2;
        }
        online = 1;
    }
    int rc = dial_schedule(stdout, n, s, online);
    if (rc == DIAL_OK) return 0;
    fputs("dial: --schedule: out of memory\n", stderr);
    return 1;
}

static int status(dial_vm *vm, int rc)
{
    if (rc == DIAL_OK) return 0;
    fputs(dial_error(vm), stderr);
    fflush(stderr);
    return 1;
}

int main(int argc, char **argv)
{
    const char *code = NULL, *file = NULL;
    unsigned flags = 0;
    int stats = 0;
    unsigned long long budget = 0, maxmem = 0, maxsteps = 0;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("dial %s\n", DIAL_VERSION);
            return 0;
        } else if (strcmp(a, "--disasm") == 0) {
            flags |= DIAL_DISASM;
        } else if (strcmp(a, "--ad-source") == 0) {
            flags |= DIAL_AD_SOURCE;
        } else if (strcmp(a, "--ad-stats") == 0) {
            stats = 1;
        } else if (strcmp(a, "--ad-memory") == 0 || strcmp(a, "--max-memory") == 0 ||
                   strcmp(a, "--max-steps") == 0) {
            unsigned long long *v = a[2] == 'a' ? &budget : a[6] == 'm' ? &maxmem : &maxsteps;
            if (++i == argc) {
                fprintf(stderr, "dial: %s needs an argument\n", a);
                return 2;
            }
            if (v == &maxsteps ? parse_size(a, argv[i], v) || strpbrk(argv[i], "KkMmGg")
                               : parse_size(a, argv[i], v)) {
                if (v == &maxsteps) fprintf(stderr, "dial: --max-steps needs a whole number\n");
                return 2;
            }
            if (!*v) {
                fprintf(stderr, "dial: %s must be at least 1\n", a);
                return 2;
            }
        } else if (strcmp(a, "--schedule") == 0) {
            return schedule(argc, argv, i);
        } else if (strcmp(a, "-e") == 0) {
            if (++i == argc) {
                fputs("dial: -e needs an argument\n", stderr);
                return 2;
            }
            code = argv[i];
            i++;
            break;
        } else if (strcmp(a, "--") == 0) {
            i++;
            if (i < argc) file = argv[i++];
            break;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "dial: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else {
            file = argv[i++];
            break;
        }
    }
    dial_vm *vm = dial_new();
    if (!vm) {
        fputs("dial: out of memory\n", stderr);
        return 1;
    }
    int rc;
    if (dial_set_args(vm, argc - i, argv + i) != DIAL_OK) {
        rc = status(vm, DIAL_ERROR_MEMORY);
        dial_free(vm);
        return rc;
    }
    if (budget) dial_set_ad_budget(vm, (size_t)budget);
    if (maxmem) dial_set_memory_limit(vm, (size_t)maxmem);
    if (maxsteps) dial_set_step_limit(vm, (uint64_t)maxsteps);
    running = vm;
    signal(SIGINT, on_sigint);
    if (code)
        rc = status(vm, dial_exec(vm, "-e", code, strlen(code), flags));
    else if (file)
        rc = status(vm, dial_exec_file(vm, file, flags));
    else if (isatty(0) && !(flags & (DIAL_DISASM | DIAL_AD_SOURCE)))
        rc = repl_run(vm);
    else
        rc = status(vm, dial_exec_file(vm, "-", flags));
    running = NULL;
    if (stats) {
        int n = dial_ad_stats(vm, NULL, 0);
        char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
        if (buf) {
            dial_ad_stats(vm, buf, (size_t)n + 1);
            fprintf(stderr, "%s\n", buf);
        }
        free(buf);
    }
    dial_free(vm);
    return rc;
}
