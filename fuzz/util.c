/* util.c: the harnesses' shared helpers (fuzz.h). */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
    abort();
}

static FILE *null_stream(void)
{
    static FILE *null;
    if (!null) null = fopen("/dev/null", "w");
    fuzz_assert(null != NULL, "cannot open /dev/null");
    return null;
}

dial_vm *fuzz_vm(void)
{
    dial_vm *vm = dial_new();
    fuzz_assert(vm != NULL, "dial_new failed");
    dial_set_output(vm, null_stream());
    dial_set_step_limit(vm, FUZZ_MAX_STEPS);
    dial_set_memory_limit(vm, FUZZ_MAX_MEMORY);
    return vm;
}

void fuzz_exec(dial_vm *vm, const char *code, size_t len, unsigned flags, const char *also)
{
    int rc = dial_exec(vm, "fuzz", code, len, flags);
    fuzz_assert(rc == DIAL_OK || rc == DIAL_ERROR_SYNTAX || rc == DIAL_ERROR_RUNTIME ||
                    rc == DIAL_ERROR_LIMIT || rc == DIAL_ERROR_MEMORY,
                "unexpected status");
    const char *e = dial_error(vm);
    fuzz_assert(rc == DIAL_OK || strncmp(e, "fuzz:", 5) == 0 ||
                    (also && strncmp(e, also, strlen(also)) == 0),
                "an error without a position in the source");
}

/* Scratch files by suffix; few harnesses need more than two. */
static struct {
    const char *suffix;
    char *path;
} files[4];

static void remove_files(void)
{
    for (int i = 0; i < 4 && files[i].path; i++) {
        unlink(files[i].path);
        free(files[i].path);
    }
}

static const char *scratch_path(const char *suffix)
{
    int i = 0;
    while (i < 4 && files[i].path && strcmp(files[i].suffix, suffix) != 0) i++;
    fuzz_assert(i < 4, "too many scratch files");
    if (files[i].path) return files[i].path;
    const char *dir = getenv("TMPDIR");
    size_t n = strlen(dir && *dir ? dir : "/tmp") + strlen(suffix) + 32;
    char *path = malloc(n);
    fuzz_assert(path != NULL, "out of memory");
    snprintf(path, n, "%s/dialfuzz.XXXXXX%s", dir && *dir ? dir : "/tmp", suffix);
    int fd = mkstemps(path, (int)strlen(suffix));
    fuzz_assert(fd >= 0, "cannot create a scratch file");
    close(fd);
    if (i == 0) atexit(remove_files);
    files[i].suffix = suffix;
    files[i].path = path;
    return path;
}

const char *fuzz_file(const char *suffix, const uint8_t *data, size_t size)
{
    const char *path = scratch_path(suffix);
    FILE *f = fopen(path, "wb");
    fuzz_assert(f != NULL, "cannot write a scratch file");
    fuzz_assert((size == 0 || fwrite(data, 1, size, f) == size) && fclose(f) == 0,
                "cannot write a scratch file");
    return path;
}
