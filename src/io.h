/* io.h: arrays in files, for the builtins load and save (io.c owns them).
 * The file name's extension, in any case, picks the format: .npy (NumPy's
 * binary format) or .csv (numbers separated by commas, a row per line).
 * Errors follow value.h: 0 / -1, the message in ctx->msg, starting with
 * "load: " or "save: " and naming the file. */
#ifndef DIAL_IO_H
#define DIAL_IO_H

#include "value.h"

/* The array in the file at path; a 0-d .npy file gives a number. */
int io_load(Ctx *c, const char *path, Value *out);

/* Write v, a number or an array, to the file at path, replacing it. A
 * .csv file takes a 1-d or 2-d array only. */
int io_save(Ctx *c, const char *path, const Value *v);

#endif
