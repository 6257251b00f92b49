/* gen.h: a dial program made from fuzzer bytes (fuzz/gen.c).
 *
 * Raw bytes rarely parse, so the run and grad harnesses read the input as
 * a sequence of choices instead: every byte picks the next production of a
 * small grammar of valid dial (statements, expressions, builtin calls,
 * loops, functions), and an exhausted input picks the shortest way to
 * finish. Any input therefore gives a program that parses; most compile,
 * and runtime errors (shapes, indices) end the run early, which is fine. */
#ifndef FUZZ_GEN_H
#define FUZZ_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"

enum {
    GEN_RUN,  /* any builtin but load/save, grad inside the program */
    GEN_GRAD  /* a function f(x, y) of differentiable operations, and code
                 taking its gradient and value_and_grad */
};

/* Append to out the program the bytes describe. */
void gen_program(Sbuf *out, const uint8_t *data, size_t size, int mode);

/* Generate the program and run it in a fresh VM under the fuzz limits;
 * with the environment variable FUZZ_PRINT set, print it on stderr first. */
void gen_run(const uint8_t *data, size_t size, int mode);

#endif
