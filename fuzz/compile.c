/* compile.c: the compiler, grad's transformation included, on raw source.
 *
 * Nothing runs: the source is compiled twice in one VM, first printing the
 * code grad generates (DIAL_AD_SOURCE), then listing the bytecode
 * (DIAL_DISASM), the second compile redefining what the first defined. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dial_vm *vm = fuzz_vm();
    fuzz_exec(vm, (const char *)data, size, DIAL_AD_SOURCE, NULL);
    fuzz_exec(vm, (const char *)data, size, DIAL_DISASM, NULL);
    dial_free(vm);
    return 0;
}
