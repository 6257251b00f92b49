/* builtins.h: the table of builtin functions (builtins.c owns it).
 * A builtin borrows its arguments and writes its result to *out. The
 * compiler checks arity for direct calls; the VM checks it for calls
 * through values. Elementwise builtins also name their primitive, so the
 * compiler can emit the unary/binary opcode directly. */
#ifndef DIAL_BUILTINS_H
#define DIAL_BUILTINS_H

#include "value.h"

typedef int (*BuiltinFn)(Ctx *c, const Value *args, int nargs, Value *out);

typedef struct Builtin {
    const char *name;
    BuiltinFn fn;
    signed char minargs, maxargs; /* maxargs -1: any number */
    signed char unop;             /* UN_* for f(x) elementwise, else -1 */
    signed char binop;            /* BIN_* for f(x, y) elementwise, else -1 */
} Builtin;

extern const Builtin builtins[];
extern const int nbuiltins;

int builtin_find(const char *name); /* index, or -1 */

#endif
