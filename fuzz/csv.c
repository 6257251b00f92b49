/* csv.c: load of .csv files (src/io.c): lines, fields, numbers; a loaded
 * array must save and load back bit for bit (fuzz/load.c). */
#include "fuzz.h"
#include "load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_load(".csv", ".copy.csv", data, size);
    return 0;
}
