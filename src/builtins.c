/* builtins.c: the builtin functions and their table (see builtins.h).
 * Semantics follow NumPy. Every builtin borrows its arguments and writes a
 * new reference to *out only when it succeeds; *out is not read. Messages
 * name the builtin. */
#include "builtins.h"

#include <string.h>

#include "array.h"

/* -- helpers --------------------------------------------------------------- */

/* Prefix the pending message with the builtin's name. */
static int fail(Ctx *c, const char *name)
{
    char m[sizeof c->msg];
    memcpy(m, c->msg, sizeof m);
    return ctx_err(c, "%s: %.480s", name, m);
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

/* A new array (or a number for 0 dimensions) filled with v. */
static int filled(Ctx *c, const char *name, int nd, const int64_t *shape, double v, Value *out)
{
    if (nd == 0) {
        *out = val_num(v);
        return 0;
    }
    Arr *a = arr_full(c, nd, shape, v);
    if (!a) return fail(c, name);
    *out = val_arr(a);
    return 0;
}

/* A new 1-d array of n elements for the caller to fill. */
static Arr *vector(Ctx *c, const char *name, int64_t n)
{
    Arr *a = arr_new(c, 1, &n);
    if (!a) fail(c, name);
    return a;
}

/* -- printing and shapes --------------------------------------------------- */

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
    Arr *r = vector(c, "shape", a ? a->nd : 0);
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
    return filled(c, "zeros", nd, shape, 0, out);
}

static int bi_ones(Ctx *c, const Value *args, int n, Value *out)
{
    int nd;
    int64_t shape[DIAL_MAXDIM];
    if (shape_args(c, "ones", args, n, 0, &nd, shape)) return -1;
    return filled(c, "ones", nd, shape, 1, out);
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
    return filled(c, "full", nd, shape, args[1].u.n, out);
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
    Arr *r = vector(c, "arange", len > 0 ? (int64_t)len : 0);
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
    Arr *r = vector(c, "linspace", num);
    if (!r) return -1;
    double div = (double)(num - 1), step = delta / div;
    for (int64_t i = 0; i < num; i++)
        r->d[i] = a + (num == 1 ? 0 : step == 0 ? ((double)i / div) * delta : (double)i * step);
    if (num > 1) r->d[num - 1] = b;
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
        return filled(c, "reshape", nd, shape,
                      args[0].t == T_NUM ? args[0].u.n : args[0].u.a->d[0], out);
    Arr *r = arr_view(c, args[0].u.a, args[0].u.a->d, nd, shape);
    if (!r) return fail(c, "reshape");
    *out = val_arr(r);
    return 0;
}

/* -- reductions ---------------------------------------------------------------- */

/* NumPy's pairwise summation: blocks of up to 128 summed with 8 running
 * sums, halves combined recursively, so rounding error grows with log n
 * rather than n. Recursion depth is log2(ARR_MAXN / 128) at most. */
static double pairwise_sum(const double *a, int64_t n)
{
    if (n < 8) {
        double s = 0;
        for (int64_t i = 0; i < n; i++) s += a[i];
        return s;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; j++) r[j] = a[j];
        int64_t i;
        for (i = 8; i < n - n % 8; i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) s += a[i];
        return s;
    }
    int64_t h = n / 2;
    h -= h % 8;
    return pairwise_sum(a, h) + pairwise_sum(a + h, n - h);
}

enum { RED_SUM, RED_MAX, RED_MIN };

/* Reduce a contiguous run of n >= 1 elements. As NumPy's add.reduce, a
 * sum starts from the identity 0 (so it is never -0) and adds the run
 * summed pairwise. */
static double reduce_run(int kind, const double *a, int64_t n)
{
    if (kind == RED_SUM) return 0.0 + pairwise_sum(a, n);
    int op = kind == RED_MAX ? BIN_MAXIMUM : BIN_MINIMUM;
    double r = a[0];
    for (int64_t i = 1; i < n; i++) r = num_binop(op, r, a[i]);
    return r;
}

/* r[j] = r[j] (op) a[j] for j < n, one row into the accumulator rows. */
static void reduce_row(int kind, double *r, const double *a, int64_t n)
{
    if (kind == RED_SUM)
        for (int64_t j = 0; j < n; j++) r[j] += a[j];
    else if (kind == RED_MAX)
        for (int64_t j = 0; j < n; j++) r[j] = num_binop(BIN_MAXIMUM, r[j], a[j]);
    else
        for (int64_t j = 0; j < n; j++) r[j] = num_binop(BIN_MINIMUM, r[j], a[j]);
}

/* Along one axis, the array is outer x len x inner. Reducing the last axis
 * (inner 1) reduces contiguous runs; otherwise rows are combined in order
 * into the first (a sum into zeros), which is NumPy's order too. */
static void reduce_axis(int kind, double *r, const double *a, int64_t outer, int64_t len,
                        int64_t inner)
{
    for (int64_t o = 0; o < outer; o++, r += inner, a += len * inner) {
        if (inner == 1 && len) {
            *r = reduce_run(kind, a, len);
        } else if (kind == RED_SUM) {
            for (int64_t j = 0; j < inner; j++) r[j] = 0;
            for (int64_t k = 0; k < len; k++) reduce_row(kind, r, a + k * inner, inner);
        } else {
            memcpy(r, a, (size_t)inner * sizeof *r);
            for (int64_t k = 1; k < len; k++) reduce_row(kind, r, a + k * inner, inner);
        }
    }
}

static int reduce(Ctx *c, const char *name, int kind, const Value *args, int n, Value *out)
{
    const Value *v = &args[0];
    if (v->t != T_NUM && v->t != T_ARR) return type_err(c, name, v);
    const Arr *a = v->t == T_ARR ? v->u.a : NULL;
    int nd = a ? a->nd : 0;
    const double *d = a ? a->d : &v->u.n;
    int64_t total = a ? a->n : 1;
    if (n == 1) {
        if (total == 0 && kind != RED_SUM) return ctx_err(c, "%s of an empty array", name);
        *out = val_num(total ? reduce_run(kind, d, total) : 0);
        return 0;
    }
    int64_t ax;
    if (int_arg(c, name, "axis", &args[1], -(double)ARR_MAXN, (double)ARR_MAXN, &ax)) return -1;
    if (ax < -nd || ax >= nd)
        return ctx_err(c, "axis %lld is out of bounds for array of dimension %d",
                       (long long)ax, nd);
    if (ax < 0) ax += nd;
    int64_t outer = 1, inner = 1, len = a->shape[ax], shape[DIAL_MAXDIM];
    for (int k = 0; k < nd; k++) {
        if (k < ax) outer *= a->shape[k];
        if (k > ax) inner *= a->shape[k];
        if (k != ax) shape[k - (k > ax)] = a->shape[k];
    }
    if (len == 0 && kind != RED_SUM) return ctx_err(c, "%s of an empty array", name);
    if (nd == 1) {
        *out = val_num(len ? reduce_run(kind, d, len) : 0);
        return 0;
    }
    Arr *r = arr_new(c, nd - 1, shape);
    if (!r) return fail(c, name);
    if (r->n) reduce_axis(kind, r->d, d, outer, len, inner);
    *out = val_arr(r);
    return 0;
}

static int bi_sum(Ctx *c, const Value *args, int n, Value *out)
{
    return reduce(c, "sum", RED_SUM, args, n, out);
}

static int bi_max(Ctx *c, const Value *args, int n, Value *out)
{
    return reduce(c, "max", RED_MAX, args, n, out);
}

static int bi_min(Ctx *c, const Value *args, int n, Value *out)
{
    return reduce(c, "min", RED_MIN, args, n, out);
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
    FN(shape, 1, 1)
    FN(len, 1, 1)
    FN(size, 1, 1)
    FN(zeros, 0, -1)
    FN(ones, 0, -1)
    FN(full, 2, 2)
    FN(arange, 1, 3)
    FN(linspace, 3, 3)
    FN(reshape, 2, -1)
    FN(sum, 1, 2)
    FN(max, 1, 2)
    FN(min, 1, 2)
    ELEMENTWISE(UN, BIN)
};

const int nbuiltins = (int)(sizeof builtins / sizeof builtins[0]);

int builtin_find(const char *name)
{
    for (int i = 0; i < nbuiltins; i++)
        if (strcmp(builtins[i].name, name) == 0) return i;
    return -1;
}
