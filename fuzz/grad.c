/* grad.c: the grad transformation and the code it generates, on generated
 * functions (fuzz/gen.c, GEN_GRAD mode): f(x, y) calling h(x, y), with
 * branches, loops (checkpointed ones too), indexing and stores, and the
 * program taking grad and value_and_grad of both and running them. */
#include "fuzz.h"
#include "gen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gen_run(data, size, GEN_GRAD);
    return 0;
}
