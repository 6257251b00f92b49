/* run.c: the whole VM on generated programs (fuzz/gen.c, GEN_RUN mode):
 * every builtin but load and save, user functions, loops, indexing,
 * stores, tuples and grad, under the step and memory limits. */
#include "fuzz.h"
#include "gen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gen_run(data, size, GEN_RUN);
    return 0;
}
