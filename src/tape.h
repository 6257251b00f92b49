/* tape.h: the AD tape and the intrinsics generated code calls.
 *
 * Differentiated code (ad.c) is ordinary dial code plus calls of
 * intrinsics whose names start with `%`, which no user can write. The
 * compiler turns `%name(args)` into an INTRIN instruction; these functions
 * run it. The tape lives in the Ctx, so each VM has its own. */
#ifndef DIAL_TAPE_H
#define DIAL_TAPE_H

#include "builtins.h"
#include "value.h"

extern const Builtin intrinsics[];
int intrinsic_find(const char *name); /* index, or -1 */

/* Release everything on the tape (after an error, or when a VM ends). */
void tape_clear(Ctx *c);

#endif
