/* load.h: the check of the .npy and .csv loaders (fuzz/load.c): load the
 * bytes as a file ending in `suffix`; a load error must name the
 * operation; a loaded array must print, and save to a file ending in
 * `copy` and load back unchanged. */
#ifndef FUZZ_LOAD_H
#define FUZZ_LOAD_H

#include <stddef.h>
#include <stdint.h>

void fuzz_load(const char *suffix, const char *copy, const uint8_t *data, size_t size);

#endif
