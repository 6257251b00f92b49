/* fuzz.h: what the harnesses share (fuzz/util.c).
 *
 * Each harness is one file defining LLVMFuzzerTestOneInput, linked either
 * with libFuzzer (make fuzz) or with fuzz/driver.c (make check). A finding
 * is a crash, a sanitizer report, a leak, a hang or an abort() from
 * fuzz_assert: dial reporting an error about the input is the expected
 * outcome for most inputs. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "dial.h"

/* Bounds on every run, so any input ends in bounded time and memory. */
#define FUZZ_MAX_STEPS 1000
#define FUZZ_MAX_MEMORY ((size_t)8 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A VM printing to /dev/null, with the limits above. */
dial_vm *fuzz_vm(void);

/* Run code in vm as the source "fuzz"; abort unless the status is one a
 * program may end with and a failure comes with a report starting with
 * "fuzz:" (or with `also`, when not NULL: another file's errors). */
void fuzz_exec(dial_vm *vm, const char *code, size_t len, unsigned flags, const char *also);

/* The path of a scratch file ending in `suffix` (one per suffix, removed
 * at exit), now holding the bytes given. */
const char *fuzz_file(const char *suffix, const uint8_t *data, size_t size);

/* abort() with a message when cond is false: a finding. */
#define fuzz_assert(cond, what) ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, what))
void fuzz_fail(const char *file, int line, const char *what) __attribute__((noreturn));

#endif
