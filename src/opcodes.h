/* opcodes.h: the register bytecode.
 *
 * An instruction is 8 bytes: opcode, flags, and three 16-bit operands a b c
 * (or a and a signed 32-bit jump offset sbx, counted from the next
 * instruction). R[x] is register x of the current frame, K[x] constant x,
 * G[x] global slot x. RK(b) is K[b] when the F_BK flag is set, else R[b];
 * likewise RK(c) with F_CK. Arithmetic opcodes are generated from prim.h, one
 * per primitive, so dispatch needs no second switch. */
#ifndef DIAL_OPCODES_H
#define DIAL_OPCODES_H

#include <stdint.h>

#include "prim.h"

#define OPCODES(X) \
    X(MOVE)      /* R[a] = R[b]; R[b] is a temporary: ownership moves     */ \
    X(COPY)      /* R[a] = R[b], counted                                   */ \
    X(LOADK)     /* R[a] = K[b]                                            */ \
    X(GETG)      /* R[a] = G[b]; an unset global is an error               */ \
    X(SETG)      /* G[a] = R[b] (moved if F_MOVE)                          */ \
    X(MATMUL)    /* R[a] = RK(b) @ RK(c)                                   */ \
    X(BOOL)      /* R[a] = truth(R[b]) ? 1 : 0                             */ \
    X(JMP)       /* pc += sbx                                              */ \
    X(JT)        /* if truth(R[a]) pc += sbx                               */ \
    X(JF)        /* if not truth(R[a]) pc += sbx                           */ \
    X(JZERO)     /* if R[a] is the number 0, pc += sbx (an adjoint untouched) */ \
    X(FORPREP)   /* R[a], R[a+1] = start, stop (numbers); if start >= stop  \
                    pc += sbx, else R[a+2] = start                         */ \
    X(FORLOOP)   /* R[a] += 1; if R[a] < R[a+1] { R[a+2] = R[a]; pc += sbx } */ \
    X(CALL)      /* R[a] = R[a](R[a+1 .. a+b])                             */ \
    X(CALLB)     /* R[a] = builtin b (R[a+1 .. a+c])                       */ \
    X(INTRIN)    /* R[a] = AD intrinsic b (R[a+1 .. a+c]), see tape.h      */ \
    X(RET)       /* return R[a] (b = 1) or nothing (b = 0)                 */ \
    X(TUPLE)     /* R[a] = (R[b .. b+c))                                   */ \
    X(UNPACK)    /* R[a .. a+c) = the c elements of the tuple R[b]         */ \
    X(NEWARR)    /* R[a] = [R[b .. b+c)]                                   */ \
    X(INDEX)     /* R[a] = R[b][items in R[b+1 ..], pattern c]             */ \
    X(INDEX1)    /* R[a] = R[b][RK(c)], one integer index                  */ \
    X(SETINDEX)  /* T[items in R[b ..], pattern c] = the register after the \
                    items; T = G[a] if F_GLOBAL, else R[a]                 */ \
    X(SETINDEX1) /* T[R[b]] = RK(c); T as for SETINDEX                     */ \
    X(CLEAR)     /* R[a .. a+b) = nil, releasing what they held            */ \
    X(PUSH)      /* push R[a] on the AD tape                               */ \
    X(POP)       /* R[a] = the value popped from the AD tape               */ \
    X(SITE)      /* record the shapes of R[a], R[b] if they differ (tape.h) */ \
    X(UNSITE)    /* R[a] = the record of b operands (tape.h)               */ \
    X(SITEREC)   /* R[a] = the record SITE b c would make, at once        */ \
    X(ACCR)      /* R[a] = R[a] + RK(b) summed to operand f>>4's shape in  \
                    the record R[c]                                        */ \
    X(SINCOS)    /* R[a] = sin(R[b]), R[c] = cos(R[b])                     */ \
    X(ACC)       /* R[a] = R[a] + RK(b), an adjoint: where R[a] is still 0 \
                    it becomes RK(b) itself, an array shared, not copied   */ \
    X(ADDOUTER)  /* R[a] = R[a] + outer(R[b], R[c]), in place when it can */ \
    X(OUTERACC)  /* add outer(R[b], R[c]) to the block accumulator R[a]   */ \
    X(CKPT)      /* R[a] = the loop runner (f: 0 forward, 1 reverse, 2 the \
                    choice of a loop without `checkpoint`) over            \
                    the b arguments R[a+1 ..] (checkpoint.h)              */ \
    X(CKNEXT)    /* the reverse runner R[b]'s next action into R[c ..]    \
                    (kind, two indices, the state: checkpoint.h)          */ \
    X(TAKE)      /* R[a] = R[b]; R[b] = 0 (an adjoint taken)               */ \
    X(ADDTAKE)   /* R[a] += R[b]; R[b] = 0 (an adjoint handed on)          */ \
    X(FUSEDIDX)  /* R[a][items of pattern b] = (F_ADD: +=) kernel c, then  \
                    skip the FUSED, its fallback and the SETINDEX that     \
                    follow; if it cannot, fall through                     */ \
    X(FUSED)     /* R[a] = kernel c over its leaf registers, then skip the  \
                    kernel's fallback; if it cannot run, fall through      */ \
    X(HOST)      /* R[a] = host function b (R[0 .. c)): the whole body of a \
                    function registered by an embedding host (api.c)       */

enum {
#define X(name) OP_##name,
    OPCODES(X)
#undef X
#define X(c, n) OP_##c,
    PRIM_BINARY(X)  /* R[a] = RK(b) op RK(c) */
    PRIM_UNARY(X)   /* R[a] = op RK(b) */
#undef X
    OP__N
};

#define OP_BIN0 OP_ADD          /* first binary primitive opcode */
#define OP_UN0 OP_NEG           /* first unary primitive opcode */

/* flags */
enum {
    F_BK = 1,      /* operand b is a constant */
    F_CK = 2,      /* operand c is a constant */
    F_GLOBAL = 4,  /* SETINDEX*: the target is a global slot */
    F_MOVE = 8,    /* SETG: the source register is a temporary */
    F_ADD = 16,    /* SETINDEX*: add into the region (x[i] += v) */
    F_COPY = 32    /* INDEX*: the result is a copy, never a view */
};

typedef struct Ins {
    uint8_t op, f;
    uint16_t a;
    union {
        struct { uint16_t b, c; } bc;
        int32_t sbx;
    } u;
} Ins;

extern const char *const op_names[OP__N];

/* Index patterns (INDEX, SETINDEX): per item one byte, IX_INT for an
 * integer (one register) or IX_SLICE with the present bounds (one register
 * each, in order start, stop, step). */
enum { IX_INT = 0, IX_SLICE = 8, IX_START = 1, IX_STOP = 2, IX_STEP = 4 };

#endif
