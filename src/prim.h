/* prim.h: the primitive operations of dial, by the name the rule file uses.
 * One list serves the parser (operators), the compiler (opcodes), the
 * kernels (array.c) and, later, lib/derivatives.rules, so a primitive's
 * name is spelt in exactly one place. */
#ifndef DIAL_PRIM_H
#define DIAL_PRIM_H

/* elementwise binary operations, with NumPy broadcasting */
#define PRIM_BINARY(X) \
    X(ADD, add) X(SUB, sub) X(MUL, mul) X(DIV, div) X(MOD, mod) X(POW, pow) \
    X(EQ, eq) X(NE, ne) X(LT, lt) X(LE, le) X(GT, gt) X(GE, ge)            \
    X(MAXIMUM, maximum) X(MINIMUM, minimum)

/* elementwise unary operations */
#define PRIM_UNARY(X) \
    X(NEG, neg) X(NOT, not) X(EXP, exp) X(LOG, log) X(SIN, sin) X(COS, cos) \
    X(TAN, tan) X(TANH, tanh) X(SQRT, sqrt) X(ABS, abs) X(SIGN, sign)       \
    X(FLOOR, floor) X(CEIL, ceil)

enum {
#define X(c, n) BIN_##c,
    PRIM_BINARY(X)
#undef X
    BIN__N
};

enum {
#define X(c, n) UN_##c,
    PRIM_UNARY(X)
#undef X
    UN__N
};

extern const char *const prim_binname[BIN__N]; /* "add", "sub", ... */
extern const char *const prim_unname[UN__N];   /* "neg", "not", "exp", ... */
/* the operator's symbol ("+", "=="), NULL for primitives written as calls */
extern const char *const prim_binsym[BIN__N];

#endif
