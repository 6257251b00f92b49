/* builtins.c: the builtin functions and their table (see builtins.h).
 * Semantics follow NumPy. Every builtin borrows its arguments and writes a
 * new reference to *out only when it succeeds; *out is not read. Messages
 * name the builtin. load and save are io.c's.
 *
 * The builtins, one line each. `a` is an array or a number; `shape` is
 * separate numbers or one 1-d array (no extents: a number); an axis may be
 * negative, counting from the end; `[...]` is optional.
 *
 *   print(v, ...)            the values separated by spaces, then a newline
 *   error(message)           stop with a runtime error giving the message
 *   shape(a)                 the extents as a 1-d array ([] for a number)
 *   len(a)                   the first extent (a tuple's length)
 *   size(a)                  the number of elements
 *   zeros(shape)             an array of 0s
 *   ones(shape)              an array of 1s
 *   full(shape, v)           an array of v (shape: one number or one array)
 *   arange([start,] stop[, step])  start, start + step, ... before stop
 *   linspace(start, stop, n) n evenly spaced values from start to stop
 *   eye(n[, m])              the n x m identity matrix (m = n)
 *   reshape(a, shape)        the elements in a new shape; one extent may be -1
 *   transpose(a)             the axes reversed
 *   swapaxes(a, i, j)        axes i and j interchanged (a copy)
 *   concat(a, b, ...)        joined along the first axis
 *   stack(a, b, ...)         joined along a new first axis
 *   where(cond, x, y)        x where cond is nonzero, else y, broadcast
 *   clip(a, lo, hi)          minimum(maximum(a, lo), hi), broadcast
 *   dot(a, b)                a @ b; the product when either is a number
 *   outer(a, b)              r[i, j] = a[i] * b[j] of the flattened operands
 *   sum(a[, axis])           the sum (pairwise, as NumPy's)
 *   prod(a[, axis])          the product
 *   mean(a[, axis])          the mean
 *   max(a[, axis])           the largest element; nan if any is nan
 *   min(a[, axis])           the smallest element; nan if any is nan
 *   argmax(a[, axis])        the (flat) index of the first largest element
 *   cumsum(a[, axis])        running sums, of the flattened array or along axis
 *   sum_to(a, shape)         a summed down to shape, undoing broadcasting: the
 *                            leading axes beyond shape's and those where shape
 *                            has extent 1 (PyTorch's sum_to_size)
 *   norm(a)                  the 2-norm of the flattened array (no overflow)
 *   exp(a)                   e^a, elementwise
 *   log(a)                   the natural logarithm, elementwise
 *   sin(a)                   the sine, elementwise
 *   cos(a)                   the cosine, elementwise
 *   tan(a)                   the tangent, elementwise
 *   tanh(a)                  the hyperbolic tangent, elementwise
 *   sqrt(a)                  the square root, elementwise
 *   abs(a)                   the absolute value, elementwise
 *   sign(a)                  -1, 0 or 1 (nan for nan), elementwise
 *   floor(a)                 rounded down, elementwise
 *   ceil(a)                  rounded up, elementwise
 *   maximum(a, b)            the larger, elementwise, broadcast; nan wins
 *   minimum(a, b)            the smaller, elementwise, broadcast; nan wins
 *   rand(seed, shape)        uniform in [0, 1), the same for the same seed
 *   randn(seed, shape)       standard normal, the same for the same seed
 *   load(file)               the array in a .npy or .csv file
 *   save(file, a)            a written to a .npy or .csv file */
#include "builtins.h"

#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "io.h"

/* -- helpers --------------------------------------------------------------- */

/* Shared code names itself in its messages ("array literal: ..."); say
 * which builtin called it instead. */
static int renamed(Ctx *c, const char *from, const char *name)
{
    size_t n = strlen(from);
    if (strncmp(c->msg, from, n) == 0 && c->msg[n] == ':') {
        char m[sizeof c->msg];
        memcpy(m, c->msg + n, sizeof m - n);
        ctx_err(c, "%s%.480s", name, m);
    }
    return -1;
}

static int type_err(Ctx *c, const char *name, const Value *v)
{
    return ctx_err(c, "%s: expected an array or a number, got %s", name, val_typename(v));
}

static int num_err(Ctx *c, const char *name, const char *what, double x, const char *why)
{
    Sbuf b;
    sb_init(&b);
    fmt_num(&b, x);
    ctx_err(c, "%s: %s %s %s", name, what, sb_str(&b), why);
    sb_free(&b);
    return -1;
}

/* An integer argument (a count or an axis), within [lo, hi]. */
static int int_arg(Ctx *c, const char *name, const char *what, const Value *v, double lo,
                   double hi, int64_t *out)
{
    if (v->t != T_NUM)
        return ctx_err(c, "%s: %s must be a number, got %s", name, what, val_typename(v));
    double x = v->u.n;
    if (x != floor(x) || isnan(x)) return num_err(c, name, what, x, "is not an integer");
    if (x < lo) return num_err(c, name, what, x, lo == 0 ? "is negative" : "is too small");
    if (x > hi) return num_err(c, name, what, x, "is too large");
    *out = (int64_t)x;
    return 0;
}

/* A shape given as separate numbers or as one 1-d array. reshape allows
 * one extent of -1, to be inferred. */
static int shape_args(Ctx *c, const char *name, const Value *args, int n, int unknown,
                      int *nd, int64_t *shape)
{
    const double *d = NULL;
    int64_t count = n;
    if (n == 1 && args[0].t == T_ARR) {
        const Arr *a = args[0].u.a;
        if (a->nd != 1) {
            Sbuf b;
            sb_init(&b);
            fmt_shape(&b, a->nd, a->shape);
            ctx_err(c, "%s: a shape must be a 1-d array, got shape %s", name, sb_str(&b));
            sb_free(&b);
            return -1;
        }
        d = a->d;
        count = a->n;
    }
    if (count > DIAL_MAXDIM)
        return ctx_err(c, "%s: too many dimensions (%lld, max %d)", name, (long long)count,
                       DIAL_MAXDIM);
    for (int k = 0; k < count; k++) {
        Value v = d ? val_num(d[k]) : args[k];
        if (v.t == T_NUM && v.u.n == -1 && unknown) {
            shape[k] = -1;
            continue;
        }
        if (int_arg(c, name, "dimension", &v, 0, (double)ARR_MAXN, &shape[k])) return -1;
    }
    *nd = (int)count;
    return 0;
}

/* An axis of an array of nd dimensions; a negative one counts from the
 * end. The message is NumPy's. */
static int axis_arg(Ctx *c, const char *name, const Value *v, int nd, int *axis)
{
    int64_t ax;
    if (int_arg(c, name, "axis", v, -(double)ARR_MAXN, (double)ARR_MAXN, &ax)) return -1;
    if (ax < -nd || ax >= nd)
        return ctx_err(c, "axis %lld is out of bounds for array of dimension %d", (long long)ax,
                       nd);
    *axis = (int)(ax < 0 ? ax + nd : ax);
    return 0;
}

/* The array seen as outer x len x inner around axis ax: returns len. */
static int64_t axis_split(const int64_t *shape, int nd, int ax, int64_t *outer, int64_t *inner)
{
    *outer = *inner = 1;
    for (int k = 0; k < nd; k++) {
        if (k < ax) *outer *= shape[k];
        if (k > ax) *inner *= shape[k];
    }
    return shape[ax];
}

/* A new array (or a number for 0 dimensions) filled with v. Allocation
 * failures keep array.c's message (too large, memory limit): they are not
 * about the arguments. */
static int filled(Ctx *c, int nd, const int64_t *shape, double v, Value *out)
{
    if (nd == 0) {
        *out = val_num(v);
        return 0;
    }
    Arr *a = arr_full(c, nd, shape, v);
    if (!a) return -1;
    *out = val_arr(a);
    return 0;
}

/* A new 1-d array of n elements for the caller to fill. */
static Arr *vector(Ctx *c, int64_t n) { return arr_new(c, 1, &n); }

/* -- printing and shapes --------------------------------------------------- */

/* error(message): stop with a runtime error, as Lua's error does. */
static int bi_error(Ctx *c, const Value *args, int n, Value *out)
{
    (void)n, (void)out;
    Sbuf s;
    sb_init(&s);
    fmt_value(&s, &args[0]);
    ctx_err(c, "%s", sb_str(&s));
    sb_free(&s);
    return -1;
}

static int bi_print(Ctx *c, const Value *args, int n, Value *out)
{
    Sbuf b;
    sb_init(&b);
    for (int i = 0; i < n; i++) {
        if (i) sb_putc(&b, ' ');
        fmt_value(&b, &args[i]);
    }
    sb_putc(&b, '\n');
    if (c->out) fwrite(sb_str(&b), 1, b.len, c->out);
    sb_free(&b);
    *out = val_nil();
    return 0;
}

static int bi_shape(Ctx *c, const Value *args, int n, Value *out)
{
    (void)n;
    if (args[0].t != T_NUM && args[0].t != T_ARR) return type_err(c, "shape", &args[0]);
    const Arr *a = args[0].t == T_ARR ? args[0].u.a : NULL;
    Arr *r = vector(c, a ? a->nd : 0);
    if (!r) return -1;
    for (int k = 0; k < r->n; k++) r->d[k] = (double)a->shape[k];
    *out = val_arr(r);
    return 0;
}

static int bi_len(Ctx *c, const Value *args, int n, Value *out)
{
    (void)n;
    switch (args[0].t) {
    case T_ARR: *out = val_num((double)args[0].u.a->shape[0]); return 0;
    case T_TUPLE: *out = val_num(args[0].u.tu->n); return 0;
    case T_NUM: return ctx_err(c, "len() of a number");
    }
    return type_err(c, "len", &args[0]);
}

static int bi_size(Ctx *c, const Value *args, int n, Value *out)
{
    (void)n;
    if (args[0].t == T_NUM) *out = val_num(1);
    else if (args[0].t == T_ARR) *out = val_num((double)args[0].u.a->n);
    else return type_err(c, "size", &args[0]);
    return 0;
}

/* -- constructors -------------------------------------------------------------- */

static int bi_zeros(Ctx *c, const Value *args, int n, Value *out)
{
    int nd;
    int64_t shape[DIAL_MAXDIM];
    if (shape_args(c, "zeros", args, n, 0, &nd, shape)) return -1;
    return filled(c, nd, shape, 0, out);
}

static int bi_ones(Ctx *c, const Value *args, int n, Value *out)
{
    int nd;
    int64_t shape[DIAL_MAXDIM];
    if (shape_args(c, "ones", args, n, 0, &nd, shape)) return -1;
    return filled(c, nd, shape, 1, out);
}

static int bi_full(Ctx *c, const Value *args, int n, Value *out)
{
    (void)n;
    int nd;
    int64_t shape[DIAL_MAXDIM];
    if (args[1].t != T_NUM)
        return ctx_err(c, "full: fill value must be a number, got %s", val_typename(&args[1]));
    if (args[0].t != T_NUM && args[0].t != T_ARR)
        return ctx_err(c, "full: shape must be a number or an array, got %s",
                       val_typename(&args[0]));
    if (shape_args(c, "full", args, 1, 0, &nd, shape)) return -1;
    return filled(c, nd, shape, args[1].u.n, out);
}

static int num_args(Ctx *c, const char *name, const Value *args, int n)
{
    for (int i = 0; i < n; i++)
        if (args[i].t != T_NUM)
            return ctx_err(c, "%s: argument %d must be a number, got %s", name, i + 1,
                           val_typename(&args[i]));
    return 0;
}

/* NumPy's length rule, ceil((stop - start) / step), and its fill: the
 * values are start + i * delta with delta = (start + step) - start. */
static int bi_arange(Ctx *c, const Value *args, int n, Value *out)
{
    if (num_args(c, "arange", args, n)) return -1;
    double a = n > 1 ? args[0].u.n : 0, b = args[n > 1].u.n, s = n > 2 ? args[2].u.n : 1;
    if (s == 0) return ctx_err(c, "arange: step cannot be zero");
    if (!isfinite(a) || !isfinite(b) || !isfinite(s))
        return ctx_err(c, "arange: arguments must be finite");
    double len = ceil((b - a) / s);
    if (len > (double)ARR_MAXN) return num_err(c, "arange", "length", len, "is too large");
    Arr *r = vector(c, len > 0 ? (int64_t)len : 0);
    if (!r) return -1;
    double delta = (a + s) - a;
    for (int64_t i = 0; i < r->n; i++) r->d[i] = i ? a + (double)i * delta : a;
    *out = val_arr(r);
    return 0;
}

/* NumPy's linspace: start + i * step with step = (stop - start) / (n - 1),
 * (start + (i / (n - 1)) * delta when the step underflows to 0), and the
 * last sample exactly stop. */
static int bi_linspace(Ctx *c, const Value *args, int n, Value *out)
{
    if (num_args(c, "linspace", args, 2)) return -1;
    int64_t num;
    if (int_arg(c, "linspace", "number of samples", &args[2], 0, (double)ARR_MAXN, &num))
        return -1;
    double a = args[0].u.n, b = args[1].u.n, delta = b - a;
    (void)n;
    Arr *r = vector(c, num);
    if (!r) return -1;
    double div = (double)(num - 1), step = delta / div;
    for (int64_t i = 0; i < num; i++)
        r->d[i] = a + (num == 1 ? 0 : step == 0 ? ((double)i / div) * delta : (double)i * step);
    if (num > 1) r->d[num - 1] = b;
    *out = val_arr(r);
    return 0;
}

/* The n x m identity (m = n by default). */
static int bi_eye(Ctx *c, const Value *args, int n, Value *out)
{
    int64_t shape[2];
    for (int i = 0; i < 2; i++)
        if (int_arg(c, "eye", "dimension", &args[i < n ? i : 0], 0, (double)ARR_MAXN, &shape[i]))
            return -1;
    Arr *r = arr_full(c, 2, shape, 0);
    if (!r) return -1;
    for (int64_t i = 0; i < shape[0] && i < shape[1]; i++) r->d[i * shape[1] + i] = 1;
    *out = val_arr(r);
    return 0;
}

static int bi_reshape(Ctx *c, const Value *args, int n, Value *out)
{
    if (args[0].t != T_NUM && args[0].t != T_ARR) return type_err(c, "reshape", &args[0]);
    int nd;
    int64_t shape[DIAL_MAXDIM], size = args[0].t == T_ARR ? args[0].u.a->n : 1;
    if (shape_args(c, "reshape", args + 1, n - 1, 1, &nd, shape)) return -1;
    /* the product of the given extents, saturated at size + 1 (any value
     * past the size fails alike) so it cannot overflow */
    int64_t known = 1, unknown = -1;
    for (int k = 0; k < nd; k++) {
        if (shape[k] == -1) {
            if (unknown >= 0) return ctx_err(c, "reshape: can only specify one unknown dimension");
            unknown = k;
        } else if (shape[k] && known > (size + 1) / shape[k]) {
            known = size + 1;
        } else {
            known *= shape[k];
        }
    }
    if (unknown >= 0 && known && size % known == 0) shape[unknown] = size / known;
    else if (unknown >= 0 || known != size) {
        Sbuf b;
        sb_init(&b);
        fmt_shape(&b, nd, shape);
        ctx_err(c, "cannot reshape array of size %lld into shape %s", (long long)size,
                sb_str(&b));
        sb_free(&b);
        return -1;
    }
    if (args[0].t == T_NUM || nd == 0)
        return filled(c, nd, shape,
                      args[0].t == T_NUM ? args[0].u.n : args[0].u.a->d[0], out);
    Arr *r = arr_view(c, args[0].u.a, args[0].u.a->d, nd, shape);
    if (!r) return -1;
    *out = val_arr(r);
    return 0;
}

/* -- reductions ---------------------------------------------------------------- */

enum { RED_SUM, RED_PROD, RED_MEAN, RED_MAX, RED_MIN, RED_ARGMAX };

static const char *const red_name[] = {"sum", "prod", "mean", "max", "min", "argmax"};

/* The first largest of n >= 1 elements at stride s; a nan counts as the
 * largest, as in NumPy. */
static int64_t argmax_run(const double *a, int64_t n, int64_t s)
{
    int64_t best = 0;
    for (int64_t k = 1; k < n && !isnan(a[best * s]); k++)
        if (a[k * s] > a[best * s] || isnan(a[k * s])) best = k;
    return best;
}

/* Reduce a contiguous run of n >= 1 elements. As NumPy's add.reduce, a
 * sum starts from the identity 0 (so it is never -0) and adds the run
 * summed pairwise (arr_sum); products go in order. */
static double reduce_run(int kind, const double *a, int64_t n)
{
    double r = a[0];
    switch (kind) {
    case RED_SUM: return 0.0 + arr_sum(a, n);
    case RED_MEAN: return (0.0 + arr_sum(a, n)) / (double)n;
    case RED_ARGMAX: return (double)argmax_run(a, n, 1);
    case RED_PROD:
        for (int64_t i = 1; i < n; i++) r *= a[i];
        return r;
    }
    int op = kind == RED_MAX ? BIN_MAXIMUM : BIN_MINIMUM;
    for (int64_t i = 1; i < n; i++) r = num_binop(op, r, a[i]);
    return r;
}

/* r[j] = r[j] (op) a[j] for j < n: one row into the accumulator row. */
static void reduce_row(int kind, double *r, const double *a, int64_t n)
{
    switch (kind) {
    case RED_SUM:
    case RED_MEAN:
        for (int64_t j = 0; j < n; j++) r[j] += a[j];
        break;
    case RED_PROD:
        for (int64_t j = 0; j < n; j++) r[j] *= a[j];
        break;
    case RED_MAX:
        for (int64_t j = 0; j < n; j++) r[j] = num_binop(BIN_MAXIMUM, r[j], a[j]);
        break;
    case RED_MIN:
        for (int64_t j = 0; j < n; j++) r[j] = num_binop(BIN_MINIMUM, r[j], a[j]);
        break;
    }
}

/* Reduce the middle axis of an outer x len x inner block into outer x
 * inner results (len >= 1 for max, min and argmax). The last axis (inner
 * 1) reduces contiguous runs; otherwise rows are combined in order into the
 * first or into the identity, which is NumPy's order too. */
static void reduce_axis(int kind, double *r, const double *a, int64_t outer, int64_t len,
                        int64_t inner)
{
    for (int64_t o = 0; o < outer; o++, r += inner, a += len * inner) {
        if (kind == RED_ARGMAX) {
            for (int64_t j = 0; j < inner; j++) r[j] = (double)argmax_run(a + j, len, inner);
        } else if (inner == 1 && len) {
            *r = reduce_run(kind, a, len);
        } else if (kind == RED_MAX || kind == RED_MIN) {
            memcpy(r, a, (size_t)inner * sizeof *r);
            for (int64_t k = 1; k < len; k++) reduce_row(kind, r, a + k * inner, inner);
        } else {
            for (int64_t j = 0; j < inner; j++) r[j] = kind == RED_PROD;
            for (int64_t k = 0; k < len; k++) reduce_row(kind, r, a + k * inner, inner);
            if (kind == RED_MEAN)
                for (int64_t j = 0; j < inner; j++) r[j] /= (double)len;
        }
    }
}

/* f(a) over every element, or f(a, axis) along one axis; a reduction
 * leaving no axis gives a number. */
static int reduce(Ctx *c, int kind, const Value *args, int n, Value *out)
{
    const char *name = red_name[kind];
    const Value *v = &args[0];
    if (v->t != T_NUM && v->t != T_ARR) return type_err(c, name, v);
    const Arr *a = v->t == T_ARR ? v->u.a : NULL;
    int nd = a ? a->nd : 0;
    const double *d = a ? a->d : &v->u.n;
    int ax = -1;
    int64_t outer = 1, inner = 1, len = a ? a->n : 1, shape[DIAL_MAXDIM];
    if (n == 2) {
        if (axis_arg(c, name, &args[1], nd, &ax)) return -1;
        len = axis_split(a->shape, nd, ax, &outer, &inner);
        for (int k = 0; k < nd; k++)
            if (k != ax) shape[k - (k > ax)] = a->shape[k];
    }
    if (len == 0 && kind >= RED_MAX) return ctx_err(c, "%s of an empty array", name);
    if (ax < 0 || nd == 1) {
        double r;
        reduce_axis(kind, &r, d, 1, len, 1);
        *out = val_num(r);
        return 0;
    }
    Arr *r = arr_new(c, nd - 1, shape);
    if (!r) return -1;
    if (r->n) reduce_axis(kind, r->d, d, outer, len, inner);
    *out = val_arr(r);
    return 0;
}

#define REDUCTION(name, KIND)                                               \
    static int bi_##name(Ctx *c, const Value *args, int n, Value *out)      \
    {                                                                       \
        return reduce(c, KIND, args, n, out);                               \
    }
REDUCTION(sum, RED_SUM)
REDUCTION(prod, RED_PROD)
REDUCTION(mean, RED_MEAN)
REDUCTION(max, RED_MAX)
REDUCTION(min, RED_MIN)
REDUCTION(argmax, RED_ARGMAX)

/* Running sums in order, as NumPy's add.accumulate (r[0] = a[0], so -0
 * stays -0): of the flattened array, or along an axis. A number is a
 * one-element 1-d array. */
static int bi_cumsum(Ctx *c, const Value *args, int n, Value *out)
{
    const Value *v = &args[0];
    if (v->t != T_NUM && v->t != T_ARR) return type_err(c, "cumsum", v);
    const Arr *a = v->t == T_ARR ? v->u.a : NULL;
    int64_t count = a ? a->n : 1, outer = 1, len = count, inner = 1;
    int nd = a ? a->nd : 1, ax = 0;
    const int64_t *shape = a ? a->shape : &count;
    const double *d = a ? a->d : &v->u.n;
    if (n == 2) {
        if (axis_arg(c, "cumsum", &args[1], nd, &ax)) return -1;
        len = axis_split(shape, nd, ax, &outer, &inner);
    }
    Arr *r = n == 2 ? arr_new(c, nd, shape) : vector(c, count);
    if (!r) return -1;
    for (int64_t o = 0; o < outer && len; o++) {
        const double *x = d + o * len * inner;
        double *y = r->d + o * len * inner;
        memcpy(y, x, (size_t)inner * sizeof *y);
        for (int64_t k = inner; k < len * inner; k++) y[k] = y[k - inner] + x[k];
    }
    *out = val_arr(r);
    return 0;
}

/* The adjoint of broadcasting: a summed down to shape (array.c). */
static int bi_sum_to(Ctx *c, const Value *args, int n, Value *out)
{
    if (args[0].t != T_NUM && args[0].t != T_ARR) return type_err(c, "sum_to", &args[0]);
    int nd;
    int64_t shape[DIAL_MAXDIM];
    if (shape_args(c, "sum_to", args + 1, n - 1, 0, &nd, shape)) return -1;
    Value r = val_nil();
    if (val_sum_to(c, &r, &args[0], nd, shape)) return -1;
    *out = r;
    return 0;
}

/* The squares of a block of d scaled by 2^-e, summed as arr_sum does. */
typedef struct Scaled {
    const double *d;
    int e;
} Scaled;

static double scaled_squares(void *ctx, int64_t lo, int64_t m)
{
    const Scaled *s = ctx;
    double sq[128];
    for (int64_t i = 0; i < m; i++) {
        double x = ldexp(s->d[lo + i], -s->e);
        sq[i] = x * x;
    }
    return arr_sum_block(sq, m);
}

/* The 2-norm of the flattened array, without overflow or underflow: with
 * 2^e the power of two just above max |a|, it is 2^e sqrt(sum((a 2^-e)^2)),
 * the sum pairwise as sum's. Scaling by a power of two is exact, so where
 * sqrt(sum(a * a)) neither overflows nor underflows the two agree bit for
 * bit. A nan gives nan, else an inf gives inf (as NumPy's norm). */
static int bi_norm(Ctx *c, const Value *args, int n, Value *out)
{
    (void)n;
    const Value *v = &args[0];
    if (v->t != T_NUM && v->t != T_ARR) return type_err(c, "norm", v);
    const double *d = v->t == T_ARR ? v->u.a->d : &v->u.n;
    int64_t count = v->t == T_ARR ? v->u.a->n : 1;
    double big = 0;
    for (int64_t i = 0; i < count; i++) {
        double x = fabs(d[i]);
        if (isnan(x)) {
            *out = val_num(x);
            return 0;
        }
        if (x > big) big = x;
    }
    if (big == 0 || isinf(big)) {
        *out = val_num(big);
        return 0;
    }
    Scaled s = {d, 0};
    frexp(big, &s.e);
    *out = val_num(ldexp(sqrt(arr_pairwise(count, scaled_squares, &s)), s.e));
    return 0;
}

/* -- rearranging and combining ---------------------------------------------- */

/* Axes reversed; a 1-d array or a number is its own transpose. */
static int bi_transpose(Ctx *c, const Value *args, int n, Value *out)
{
    (void)n;
    if (args[0].t != T_NUM && args[0].t != T_ARR) return type_err(c, "transpose", &args[0]);
    if (args[0].t == T_NUM || args[0].u.a->nd == 1) {
        val_incref(&args[0]);
        *out = args[0];
        return 0;
    }
    Arr *r = arr_transpose(c, args[0].u.a);
    if (!r) return -1;
    *out = val_arr(r);
    return 0;
}

/* NumPy's swapaxes, as a copy; a number has no axes. */
static int bi_swapaxes(Ctx *c, const Value *args, int n, Value *out)
{
    (void)n;
    if (args[0].t != T_NUM && args[0].t != T_ARR) return type_err(c, "swapaxes", &args[0]);
    int nd = args[0].t == T_ARR ? args[0].u.a->nd : 0, i, j, perm[DIAL_MAXDIM];
    if (axis_arg(c, "swapaxes", &args[1], nd, &i) || axis_arg(c, "swapaxes", &args[2], nd, &j))
        return -1;
    for (int k = 0; k < nd; k++) perm[k] = k == i ? j : k == j ? i : k;
    Arr *r = arr_permute(c, args[0].u.a, perm);
    if (!r) return -1;
    *out = val_arr(r);
    return 0;
}

/* Arrays joined along their first axis; the other axes must agree. */
static int bi_concat(Ctx *c, const Value *args, int n, Value *out)
{
    int64_t shape[DIAL_MAXDIM];
    for (int i = 0; i < n; i++) {
        if (args[i].t != T_ARR)
            return ctx_err(c, "concat: item %d is a %s, expected an array of 1 or more dimensions",
                           i + 1, val_typename(&args[i]));
        const Arr *a = args[i].u.a, *f = args[0].u.a;
        if (a->nd != f->nd || memcmp(a->shape + 1, f->shape + 1,
                                     (size_t)(a->nd - 1) * sizeof *a->shape)) {
            Sbuf b1, b2;
            sb_init(&b1);
            sb_init(&b2);
            fmt_shape(&b1, a->nd, a->shape);
            fmt_shape(&b2, f->nd, f->shape);
            ctx_err(c, "concat: item %d has shape %s, which does not match %s beyond the first axis",
                    i + 1, sb_str(&b1), sb_str(&b2));
            sb_free(&b1);
            sb_free(&b2);
            return -1;
        }
        shape[0] = i ? shape[0] + a->shape[0] : a->shape[0];
    }
    const Arr *f = args[0].u.a;
    memcpy(shape + 1, f->shape + 1, (size_t)(f->nd - 1) * sizeof *shape);
    Arr *r = arr_new(c, f->nd, shape);
    if (!r) return -1;
    double *d = r->d;
    for (int i = 0; i < n; i++) {
        memcpy(d, args[i].u.a->d, (size_t)args[i].u.a->n * sizeof *d);
        d += args[i].u.a->n;
    }
    *out = val_arr(r);
    return 0;
}

/* Along a new first axis: what an array literal does. */
static int bi_stack(Ctx *c, const Value *args, int n, Value *out)
{
    Value r = val_nil();
    if (val_stack(c, &r, args, n)) return renamed(c, "array literal", "stack");
    *out = r;
    return 0;
}

static int bi_where(Ctx *c, const Value *args, int n, Value *out)
{
    (void)n;
    Value r = val_nil();
    if (val_where(c, &r, &args[0], &args[1], &args[2])) return -1;
    *out = r;
    return 0;
}

/* minimum(maximum(a, lo), hi), as NumPy's clip: a nan anywhere gives nan,
 * and lo > hi gives hi. */
static int bi_clip(Ctx *c, const Value *args, int n, Value *out)
{
    (void)n;
    for (int i = 0; i < 3; i++)
        if (args[i].t != T_NUM && args[i].t != T_ARR)
            return ctx_err(c, "clip: expected arrays or numbers, got %s, %s and %s",
                           val_typename(&args[0]), val_typename(&args[1]),
                           val_typename(&args[2]));
    Value r = val_nil();
    if (val_binary(c, BIN_MAXIMUM, &r, &args[0], &args[1]) ||
        val_binary(c, BIN_MINIMUM, &r, &r, &args[2])) {
        val_decref(c, &r);
        char m[sizeof c->msg];
        memcpy(m, c->msg, sizeof m);
        return ctx_err(c, "clip: %.500s", m);
    }
    *out = r;
    return 0;
}

/* NumPy's dot: matmul for arrays of 1 or 2 dimensions, a product with a
 * number. */
static int bi_dot(Ctx *c, const Value *args, int n, Value *out)
{
    (void)n;
    for (int i = 0; i < 2; i++)
        if (args[i].t != T_NUM && args[i].t != T_ARR)
            return ctx_err(c, "dot: expected arrays or numbers, got %s and %s",
                           val_typename(&args[0]), val_typename(&args[1]));
    for (int i = 0; i < 2; i++)
        if (args[i].t == T_ARR && args[i].u.a->nd > 2)
            return ctx_err(c, "dot: operands of more than 2 dimensions are not supported; use @ "
                              "for stacks of matrices");
    Value r = val_nil();
    if (args[0].t == T_NUM || args[1].t == T_NUM) {
        if (val_binary(c, BIN_MUL, &r, &args[0], &args[1])) return -1;
    } else if (val_matmul(c, &r, &args[0], &args[1])) {
        return renamed(c, "matmul", "dot");
    }
    *out = r;
    return 0;
}

static int bi_outer(Ctx *c, const Value *args, int n, Value *out)
{
    (void)n;
    *out = val_nil();
    return val_outer(c, out, &args[0], &args[1], 0);
}

/* -- random numbers ------------------------------------------------------------ */

/* splitmix64 (Steele, Lea and Flood): a small, well-mixed generator. Its
 * state lives in the call, so the numbers depend on the seed alone. */
static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* uniform in [0, 1), 53 random bits */
static double uniform(uint64_t *s) { return (double)(splitmix(s) >> 11) * 0x1p-53; }

static int random_array(Ctx *c, const char *name, const Value *args, int normal, Value *out)
{
    int64_t seed;
    if (int_arg(c, name, "seed", &args[0], -0x1p63, 0x1p63 - 1024, &seed)) return -1;
    if (args[1].t != T_NUM && args[1].t != T_ARR)
        return ctx_err(c, "%s: shape must be a number or an array, got %s", name,
                       val_typename(&args[1]));
    int nd;
    int64_t shape[DIAL_MAXDIM];
    if (shape_args(c, name, &args[1], 1, 0, &nd, shape)) return -1;
    Value r = val_nil();
    if (filled(c, nd, shape, 0, &r)) return -1;
    double *d = r.t == T_ARR ? r.u.a->d : &r.u.n;
    int64_t count = r.t == T_ARR ? r.u.a->n : 1;
    uint64_t s = (uint64_t)seed;
    for (int64_t i = 0; i < count; i++) {
        if (!normal) {
            d[i] = uniform(&s);
            continue;
        }
        /* Box-Muller: two uniforms give two independent normals */
        double rad = sqrt(-2 * log(1 - uniform(&s))), ang = 6.283185307179586 * uniform(&s);
        d[i] = rad * cos(ang);
        if (++i < count) d[i] = rad * sin(ang);
    }
    *out = r;
    return 0;
}

static int bi_rand(Ctx *c, const Value *args, int n, Value *out)
{
    (void)n;
    return random_array(c, "rand", args, 0, out);
}

static int bi_randn(Ctx *c, const Value *args, int n, Value *out)
{
    (void)n;
    return random_array(c, "randn", args, 1, out);
}

/* -- files ------------------------------------------------------------------------ */

static int path_arg(Ctx *c, const char *name, const Value *v, const char **path)
{
    if (v->t != T_STR)
        return ctx_err(c, "%s: the file name must be a string, got %s", name, val_typename(v));
    *path = v->u.s->s;
    return 0;
}

static int bi_save(Ctx *c, const Value *args, int n, Value *out)
{
    (void)n;
    const char *path = NULL;
    if (path_arg(c, "save", &args[0], &path)) return -1;
    if (args[1].t != T_NUM && args[1].t != T_ARR) return type_err(c, "save", &args[1]);
    if (io_save(c, path, &args[1])) return -1;
    *out = val_nil();
    return 0;
}

static int bi_load(Ctx *c, const Value *args, int n, Value *out)
{
    (void)n;
    const char *path = NULL;
    if (path_arg(c, "load", &args[0], &path)) return -1;
    return io_load(c, path, out);
}

/* -- elementwise ------------------------------------------------------------------ */

/* The compiler emits the primitive's opcode for direct calls; these serve
 * calls through values (g = exp; g(x)). */
#define ELEMENTWISE(U, B)                                                   \
    U(exp, UN_EXP) U(log, UN_LOG) U(sin, UN_SIN) U(cos, UN_COS)             \
    U(tan, UN_TAN) U(tanh, UN_TANH) U(sqrt, UN_SQRT) U(abs, UN_ABS)         \
    U(sign, UN_SIGN) U(floor, UN_FLOOR) U(ceil, UN_CEIL)                    \
    B(maximum, BIN_MAXIMUM) B(minimum, BIN_MINIMUM)

#define UNARY(name, OP)                                                     \
    static int bi_##name(Ctx *c, const Value *args, int n, Value *out)      \
    {                                                                       \
        (void)n;                                                            \
        Value r = val_nil();                                                \
        if (val_unary(c, OP, &r, &args[0])) return -1;                      \
        *out = r;                                                           \
        return 0;                                                           \
    }
#define BINARY(name, OP)                                                    \
    static int bi_##name(Ctx *c, const Value *args, int n, Value *out)      \
    {                                                                       \
        (void)n;                                                            \
        Value r = val_nil();                                                \
        if (val_binary(c, OP, &r, &args[0], &args[1])) return -1;           \
        *out = r;                                                           \
        return 0;                                                           \
    }
ELEMENTWISE(UNARY, BINARY)

/* -- the table ---------------------------------------------------------------------- */

#define FN(name, lo, hi) { #name, bi_##name, lo, hi, -1, -1 },
#define UN(name, OP) { #name, bi_##name, 1, 1, OP, -1 },
#define BIN(name, OP) { #name, bi_##name, 2, 2, -1, OP },

const Builtin builtins[] = {
    FN(print, 0, -1)
    FN(error, 1, 1)
    FN(shape, 1, 1)
    FN(len, 1, 1)
    FN(size, 1, 1)
    FN(zeros, 0, -1)
    FN(ones, 0, -1)
    FN(full, 2, 2)
    FN(arange, 1, 3)
    FN(linspace, 3, 3)
    FN(eye, 1, 2)
    FN(reshape, 2, -1)
    FN(transpose, 1, 1)
    FN(swapaxes, 3, 3)
    FN(concat, 1, -1)
    FN(stack, 1, -1)
    FN(where, 3, 3)
    FN(clip, 3, 3)
    FN(dot, 2, 2)
    FN(outer, 2, 2)
    FN(sum, 1, 2)
    FN(prod, 1, 2)
    FN(mean, 1, 2)
    FN(max, 1, 2)
    FN(min, 1, 2)
    FN(argmax, 1, 2)
    FN(cumsum, 1, 2)
    FN(sum_to, 2, -1)
    FN(norm, 1, 1)
    FN(rand, 2, 2)
    FN(randn, 2, 2)
    FN(load, 1, 1)
    FN(save, 2, 2)
    ELEMENTWISE(UN, BIN)
};

const int nbuiltins = (int)(sizeof builtins / sizeof builtins[0]);

int builtin_find(const char *name)
{
    for (int i = 0; i < nbuiltins; i++)
        if (strcmp(builtins[i].name, name) == 0) return i;
    return -1;
}
