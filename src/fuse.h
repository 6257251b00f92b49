/* fuse.h: fused elementwise kernels.
 *
 * An expression made of several elementwise operations (`x * 1.0001 +
 * 0.5`, the Rosenbrock sum) would, one operation at a time, make a full
 * pass over memory per operation. The compiler turns such a tree into a
 * Kernel: its leaves (operands that are not elementwise operations) live
 * in registers, its constants in the kernel, and its operations run block
 * by block over cache-sized pieces, so the data is read once and written
 * once. `sum(e)` of such a tree reduces block by block and never builds
 * the array; it adds in NumPy's pairwise order, so the result is the same
 * double as summing the built array.
 *
 * A kernel runs when every leaf is a number or an array, and all arrays
 * have one shape; otherwise (all numbers, broadcasting between arrays,
 * wrong types) the VM runs the ordinary code the compiler placed right
 * after the FUSED instruction, which also reports any error. */
#ifndef DIAL_FUSE_H
#define DIAL_FUSE_H

#include <stdint.h>

#include "value.h"

#define FUSE_MAXOPS 48   /* larger trees are not fused */
#define FUSE_WIDE 2048   /* elements per block when building an array; sums
                            go by NumPy's pairwise leaves of 128 */

enum { KR_NONE, KR_SUM };

typedef struct KOp {
    uint8_t op;          /* BIN_* or UN_* */
    uint8_t unary;
    uint16_t a, b;       /* operand slots */
} KOp;

/* Slots: leaves first, then constants, then one per operation (op j's
 * result is slot nleaf + nconst + j). */
typedef struct Kernel {
    int nleaf;
    uint16_t *leafreg;   /* the register of each leaf */
    int nconst;
    double *konst;
    int nops;
    KOp *ops;
    int reduce;          /* KR_NONE or KR_SUM */
    int skip;            /* instructions of the fallback after FUSED */
} Kernel;

void kernel_free(Kernel *k);

/* Run k over the frame's registers R, writing the result to *dst. Returns
 * 1 when it ran, 0 when the operands do not suit it (nothing was
 * changed), -1 on error (ctx->msg). */
int fuse_run(Ctx *c, const Kernel *k, const Value *R, Value *dst);

/* Run k straight into the region target[ix] (`add`: adding to it), for
 * `x[...] = e` and `x[...] += e`: when the region is one run of memory of
 * the operands' shape and no operand shares x's memory. Returns 1 when it
 * ran, 0 when the ordinary path must run, -1 on error. */
struct Idx;
int fuse_into(Ctx *c, const Kernel *k, const Value *R, Value *target, const struct Idx *ix, int n,
              int add);

#endif
