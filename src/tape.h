/* tape.h: the AD tape and the intrinsics generated code calls.
 *
 * Differentiated code (ad.c) is ordinary dial code plus calls of
 * intrinsics whose names start with `%`, which no user can write. The
 * compiler turns the ones of every step (%push, %pop, %site, %unsite,
 * %siterec, %take, %addtake, the accumulation d = d + %reduce(...), if %nz(d)) into
 * opcodes of their own, the others into an INTRIN instruction that runs
 * the functions here. The tape lives in the Ctx, so each VM has its own. */
#ifndef DIAL_TAPE_H
#define DIAL_TAPE_H

#include "builtins.h"
#include "value.h"

extern const Builtin intrinsics[];
int intrinsic_find(const char *name); /* index, or -1 */

/* The operations the VM runs as opcodes (PUSH, POP, SITE, UNSITE, ACCR):
 * push a value, pop the last one; record the shapes of n operands when
 * they are not all one; read a record of k operands back
 * (0 when none broadcast, else a tuple of shapes or 0); sum v down to
 * operand j's shape of a record. */
int tape_push(Ctx *c, const Value *v);
int tape_pop(Ctx *c, Value *out);
int tape_site(Ctx *c, const Value *const *op, int n);
int tape_unsite(Ctx *c, int k, Value *out);
/* What tape_unsite would read back of a record of op, made at once (a
 * turn of a checkpointed loop keeps it in a local: SITEREC). */
int tape_siterec(Ctx *c, const Value *const *op, int n, Value *out);
int tape_reduce(Ctx *c, const Value *v, const Value *site, int j, Value *out);

/* The tape's height, and dropping what was pushed since (a checkpointed
 * while loop keeps only its latest step's cache). */
typedef struct TapeMark {
    size_t n, nb;
} TapeMark;
TapeMark tape_mark(const Ctx *c);
void tape_cut(Ctx *c, TapeMark m);

/* Release everything on the tape (after an error, or when a VM ends). */
void tape_clear(Ctx *c);

#endif
