/* driver.c: a main for the harnesses where libFuzzer is not available
 * (t/fuzz.test in every build, the sanitizer build included): feeds each
 * file named, or each file in each directory named, to the harness, then
 * deterministic mutations of it, so the harnesses run and cannot rot.
 *
 *     fuzz/drv-NAME [-m MUTATIONS] [-o LAST] FILE|DIR...
 *
 * Mutations (MUTATIONS per input, 8 by default) flip, insert, delete and
 * duplicate bytes and splice in the previous input, from a fixed seed.
 * With -o, each input is written to the file LAST before it runs, so the
 * one a crash stopped at is there to reproduce it with. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static uint64_t seed = 0x9e3779b97f4a7c15u;
static unsigned char *prev;
static size_t prevlen;
static long runs;
static const char *last;

static uint64_t next(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

static void save_last(const unsigned char *d, size_t n)
{
    FILE *f = fopen(last, "wb");
    int ok = f && fwrite(d, 1, n, f) == n;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok) perror(last);
}

static void run(const unsigned char *d, size_t n)
{
    /* a copy of exactly n bytes, so ASan sees a read past the end */
    unsigned char *copy = malloc(n ? n : 1);
    if (!copy) abort();
    memcpy(copy, d, n);
    if (last) save_last(d, n);
    LLVMFuzzerTestOneInput(copy, n);
    free(copy);
    runs++;
}

/* One mutation of d (n bytes, room for 2n + prevlen + 1) in place; the new length. */
static size_t mutate(unsigned char *d, size_t n)
{
    size_t at = n ? next() % n : 0, len = n ? next() % (n - at) + 1 : 0;
    switch (next() % 5) {
    case 0: if (n) d[at] ^= (unsigned char)(1u << next() % 8); return n;
    case 1: memmove(d + at + 1, d + at, n - at); d[at] = (unsigned char)next(); return n + 1;
    case 2: memmove(d + at, d + at + len, n - at - len); return n - len;
    case 3: memmove(d + at + len, d + at, n - at); return n + len;
    default:
        memmove(d + at + prevlen, d + at, n - at);
        if (prevlen) memcpy(d + at, prev, prevlen);
        return n + prevlen;
    }
}

static void feed(const char *path, int mutations)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    size_t n = 0, cap = 4096;
    unsigned char *d = malloc(cap), *grown;
    size_t got;
    while (d && (got = fread(d + n, 1, cap - n, f)) > 0)
        if ((n += got) == cap) {
            grown = realloc(d, cap *= 2);
            if (!grown) free(d);
            d = grown;
        }
    fclose(f);
    if (!d) abort();
    run(d, n);
    /* one or two mutations of the first 4 KiB: each at most doubles the
     * input or adds the previous input */
    size_t keep = n < 4096 ? n : 4096;
    unsigned char *m = malloc(4 * keep + 2 * prevlen + 64);
    if (!m) abort();
    for (int i = 0; i < mutations; i++) {
        memcpy(m, d, keep);
        size_t k = mutate(m, keep);
        if (next() % 2) k = mutate(m, k);
        run(m, k);
    }
    free(m);
    free(prev);
    prev = d;
    prevlen = keep;
}

static void feed_path(const char *path, int mutations)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        exit(2);
    }
    if (!S_ISDIR(st.st_mode)) {
        feed(path, mutations);
        return;
    }
    struct dirent **names;
    int n = scandir(path, &names, NULL, alphasort);
    if (n < 0) {
        perror(path);
        exit(2);
    }
    for (int i = 0; i < n; i++) {
        char file[4096];
        snprintf(file, sizeof file, "%s/%s", path, names[i]->d_name);
        if (names[i]->d_name[0] != '.' && stat(file, &st) == 0 && S_ISREG(st.st_mode))
            feed(file, mutations);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    int mutations = 8, i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "-m") == 0) mutations = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "-o") == 0) last = argv[i + 1];
        else break;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: %s [-m MUTATIONS] [-o LAST] FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (; i < argc; i++) feed_path(argv[i], mutations);
    free(prev);
    printf("%ld runs\n", runs);
    return 0;
}
