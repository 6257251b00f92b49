/* npy.c: load of .npy files (src/io.c): the prefix, the header dict, every
 * element type, byte order and Fortran order; a loaded array must save
 * and load back bit for bit (fuzz/load.c). */
#include "fuzz.h"
#include "load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_load(".npy", ".copy.npy", data, size);
    return 0;
}
