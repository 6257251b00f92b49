/* prim.c: names of the primitives (see prim.h). */
#include "prim.h"

const char *const prim_binname[BIN__N] = {
#define X(c, n) #n,
    PRIM_BINARY(X)
#undef X
};

const char *const prim_unname[UN__N] = {
#define X(c, n) #n,
    PRIM_UNARY(X)
#undef X
};

const char *const prim_binsym[BIN__N] = {
    [BIN_ADD] = "+", [BIN_SUB] = "-", [BIN_MUL] = "*", [BIN_DIV] = "/",
    [BIN_MOD] = "%", [BIN_POW] = "^", [BIN_EQ] = "==", [BIN_NE] = "!=",
    [BIN_LT] = "<", [BIN_LE] = "<=", [BIN_GT] = ">", [BIN_GE] = ">=",
};
