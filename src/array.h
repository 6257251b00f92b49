/* array.h: the array core. Allocation and refcounting of Arr, shapes and
 * broadcasting, elementwise kernels, matmul, indexing, array literals, and
 * the scalar semantics of every primitive (shared with the VM's unboxed
 * fast path so both agree bit for bit).
 *
 * Ownership and errors follow value.h: 0 / -1 returns, messages in
 * ctx->msg, `*dst` overwritten. Result arrays may reuse the array held in
 * *dst (or an operand that *dst aliases) when it is writable and has the
 * result's shape: `x = x + y` on a uniquely owned x writes into x. */
#ifndef DIAL_ARRAY_H
#define DIAL_ARRAY_H

#include <math.h>

#include "prim.h"
#include "value.h"

/* Largest element count of one array; sizes beyond it are an error before
 * any allocation is tried. */
#define ARR_MAXN ((int64_t)1 << 40)

/* -- allocation -------------------------------------------------------- */
Arr *arr_new(Ctx *c, int nd, const int64_t *shape);  /* uninitialised, rc 1 */
Arr *arr_full(Ctx *c, int nd, const int64_t *shape, double v);
Arr *arr_copy(Ctx *c, const Arr *a);                 /* owner, same shape */
/* A contiguous view of base's data starting at d, with the given shape. */
Arr *arr_view(Ctx *c, Arr *base, double *d, int nd, const int64_t *shape);
void arr_free(Ctx *c, Arr *a);                       /* called at rc 0 */
static inline void arr_decref(Ctx *c, Arr *a) { if (a && --a->rc == 0) arr_free(c, a); }
/* Writable in place: nobody else can see the elements. */
static inline int arr_writable(const Arr *a) { return a->rc == 1 && (!a->base || a->base->rc == 1); }
/* Check a shape and return its element count, or -1 with ctx->msg set
 * (negative or non-integral extents, too many dimensions, overflow). */
int64_t arr_checkshape(Ctx *c, int nd, const int64_t *shape);
int arr_sameshape(const Arr *a, int nd, const int64_t *shape);

/* -- scalar semantics (NumPy's) ---------------------------------------- */
static inline double num_mod(double a, double b)
{
    if (b == 0) return NAN;
    double r = fmod(a, b);
    if (r == 0) return copysign(0, b); /* NumPy: a zero takes the divisor's sign */
    if ((r < 0) != (b < 0)) r += b;
    return r;
}

static inline double num_binop(int op, double a, double b)
{
    switch (op) {
    case BIN_ADD: return a + b;
    case BIN_SUB: return a - b;
    case BIN_MUL: return a * b;
    case BIN_DIV: return a / b;
    case BIN_MOD: return num_mod(a, b);
    case BIN_POW: /* exact shortcuts: pow is correctly rounded, so is a * a */
        return b == 2 ? a * a : b == 1 ? a : pow(a, b);
    case BIN_EQ: return a == b;
    case BIN_NE: return a != b;
    case BIN_LT: return a < b;
    case BIN_LE: return a <= b;
    case BIN_GT: return a > b;
    case BIN_GE: return a >= b;
    case BIN_MAXIMUM: return (isnan(a) || a > b) ? a : b; /* a tie gives b, as NumPy */
    case BIN_MINIMUM: return (isnan(a) || a < b) ? a : b;
    }
    return NAN;
}

static inline double num_unop(int op, double x)
{
    switch (op) {
    case UN_NEG: return -x;
    case UN_NOT: return x == 0;
    case UN_EXP: return exp(x);
    case UN_LOG: return log(x);
    case UN_SIN: return sin(x);
    case UN_COS: return cos(x);
    case UN_TAN: return tan(x);
    case UN_TANH: return tanh(x);
    case UN_SQRT: return sqrt(x);
    case UN_ABS: return fabs(x);
    case UN_SIGN: return isnan(x) ? x : (double)((x > 0) - (x < 0));
    case UN_FLOOR: return floor(x);
    case UN_CEIL: return ceil(x);
    }
    return NAN;
}

/* -- summation ----------------------------------------------------------- */
/* NumPy's pairwise summation of n values produced block by block: leaf(ctx,
 * lo, m) returns the sum of elements [lo, lo+m), m <= 128, as
 * arr_sum_block adds them; halves combine recursively, so rounding error
 * grows with log n. A fused `sum(e)` and the sum of a built array give the
 * same double. */
double arr_pairwise(int64_t n, double (*leaf)(void *ctx, int64_t lo, int64_t m), void *ctx);
/* The sum of m <= 128 contiguous values with NumPy's eight accumulators. */
double arr_sum_block(const double *a, int64_t m);
double arr_sum(const double *a, int64_t n);

/* The elementwise kernels: o[i] = x[i*sx] op y[i*sy] (strides 0 or 1), and
 * o[i] = op x[i]; o may be exactly an input. */
void arr_binop_run(int op, double *o, const double *x, int64_t sx, const double *y, int64_t sy,
                   int64_t n);
void arr_unop_run(int op, double *o, const double *x, int64_t n);
/* o[i] += x[i], i < n */
void arr_add_into(double *o, const double *x, int64_t n);
/* Whether a and b are views of the same data. */
int arr_shares(const Arr *a, const Arr *b);

/* -- value-level operations used by the VM ------------------------------ */
/* Numbers and arrays mix freely; any other type is an error naming it. */
int val_binary(Ctx *c, int op, Value *dst, const Value *a, const Value *b);
int val_unary(Ctx *c, int op, Value *dst, const Value *a);
/* a @ b (matmul.c), as NumPy's matmul: 1-d.1-d is a number; 2-d.2-d a
 * matrix; a 1-d operand is a row (left) or column (right) vector whose axis
 * the result drops; operands of 3 or more dimensions are stacks of
 * matrices over their last two axes, the leading axes broadcast. Numbers
 * are an error. *dst is reused only if it shares no data with a or b. */
int val_matmul(Ctx *c, Value *dst, const Value *a, const Value *b);
/* *dst = outer(a, b) (r[i, j] = a[i] * b[j] over the flattened operands),
 * or with `add` *dst = *dst + outer(a, b), updated in place when *dst is
 * a writable matrix of the result's shape. */
int val_outer(Ctx *c, Value *dst, const Value *a, const Value *b, int add);
/* A block accumulator of outer products (the number 0 when empty): push
 * adds outer(a, b) to it, a rank-k update every k pushes; sum gives the
 * total (0 when nothing was pushed). */
int val_outer_push(Ctx *c, Value *acc, const Value *a, const Value *b);
int val_outer_sum(Ctx *c, const Value *acc, Value *out);
/* where(cond, x, y): x where cond is nonzero, else y, all three broadcast
 * together; numbers only give a number. */
int val_where(Ctx *c, Value *dst, const Value *cond, const Value *x, const Value *y);
/* A copy of a with its axes reversed: the matrix transpose for 2-d. */
Arr *arr_transpose(Ctx *c, const Arr *a);
/* A copy of a whose axis k is a's axis perm[k] (perm a permutation of
 * 0..nd-1): swapaxes, transpose. */
Arr *arr_permute(Ctx *c, const Arr *a, const int *perm);
/* *dst = v summed down to shape, undoing broadcasting (PyTorch's
 * sum_to_size): the leading axes v has beyond shape's and the axes where
 * shape has extent 1 are summed, in order. An error ("sum_to: ...") when
 * shape does not broadcast to v's shape. v itself when the shapes agree; a
 * number for shape (). */
int val_sum_to(Ctx *c, Value *dst, const Value *v, int nd, const int64_t *shape);
/* The truth of a condition: a number, or an array of exactly one element. */
int val_truth(Ctx *c, const Value *v, int *truth);
/* An array literal [items...]: all items numbers or arrays of one shape;
 * [] is shape (0,). */
int val_stack(Ctx *c, Value *dst, const Value *items, int n);

/* One item of an index expression: an integer or a slice. Missing slice
 * bounds take NumPy's defaults. */
typedef struct Idx {
    int slice;
    double i;
    double start, stop, step;
    unsigned char has_start, has_stop, has_step;
} Idx;

/* The region target[ix] for writing in place: when target is an array and
 * the region is one run of memory with the given shape, makes target
 * writable (copy on write), sets *d to the region's first element and
 * returns 1; else returns 0 (the ordinary store reports any error); -1
 * when out of memory. */
int val_region(Ctx *c, Value *target, const Idx *ix, int n, int nd, const int64_t *shape, double **d);

/* target[ix...] for arrays (views where contiguous) and tuples. */
int val_index(Ctx *c, Value *out, const Value *target, const Idx *ix, int n);
/* target[ix...] = v, copying the target first if it is shared (copy on
 * write); v broadcasts to the selected region. */
int val_setindex(Ctx *c, Value *target, const Idx *ix, int n, const Value *v);
/* target[ix...] += v in place (copy on write as above): `x[i] += v`. */
int val_addindex(Ctx *c, Value *target, const Idx *ix, int n, const Value *v);

/* -- text ---------------------------------------------------------------- */
/* The shortest text that reads back to the same double: 0.1, 3, 1e+20. */
void fmt_num(Sbuf *b, double x);
/* "(2, 3)"; "()" for a number */
void fmt_shape(Sbuf *b, int nd, const int64_t *shape);
/* Values as print shows them: nested brackets, `...` for large arrays,
 * strings as their text. */
void fmt_value(Sbuf *b, const Value *v);

#endif
