/* tape.c: the AD tape and the intrinsics of differentiated code.
 *
 * Cached values are references: pushing a value the forward sweep is about
 * to overwrite costs no copy, and copy on write keeps it immutable. Shapes
 * needed to sum adjoints back over broadcasts go to a byte stack, written
 * so they read back in reverse: a record is its shapes (dims, then the
 * dimension count) followed by one flags byte saying which operands
 * differed from the result's shape. */
#include "tape.h"

#include <stdlib.h>
#include <string.h>

#include "array.h"

static size_t cost(const Value *v)
{
    return sizeof(Value) + (v->t == T_ARR ? (size_t)v->u.a->n * sizeof(double) : 0);
}

static void account(Tape *t)
{
    size_t now = t->bytes + t->nb;
    if (now > t->bytes_peak) t->bytes_peak = now;
}

void tape_clear(Ctx *c)
{
    Tape *t = &c->tape;
    while (t->n) val_decref(c, &t->v[--t->n]);
    c->bytes -= t->cap * sizeof *t->v + t->bcap;
    free(t->v);
    free(t->b);
    t->v = NULL;
    t->b = NULL;
    t->cap = t->bcap = t->nb = 0;
    t->bytes = 0;
    t->snapshots = t->snapshot_bytes = 0;   /* the records held them */
}

TapeMark tape_mark(const Ctx *c) { return (TapeMark){c->tape.n, c->tape.nb}; }

void tape_cut(Ctx *c, TapeMark m)
{
    Tape *t = &c->tape;
    while (t->n > m.n) {
        Value v = t->v[--t->n];
        t->bytes -= cost(&v);
        val_decref(c, &v);
    }
    if (t->nb > m.nb) t->nb = m.nb;
}

int tape_push(Ctx *c, const Value *v)
{
    Tape *t = &c->tape;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        if (ctx_charge(c, (cap - t->cap) * sizeof *t->v)) return -1;
        Value *nv = realloc(t->v, cap * sizeof *nv);
        if (!nv) {
            c->bytes -= (cap - t->cap) * sizeof *t->v;
            return ctx_err(c, "out of memory growing the AD tape");
        }
        t->v = nv;
        t->cap = cap;
    }
    val_incref(v);
    t->v[t->n++] = *v;
    t->bytes += cost(v);
    t->pushes++;
    account(t);
    return 0;
}

int tape_pop(Ctx *c, Value *out)
{
    Tape *t = &c->tape;
    if (!t->n) return ctx_err(c, "internal error: the AD tape is empty");
    *out = t->v[--t->n];
    t->bytes -= cost(out);
    return 0;
}

static int bytes_put(Ctx *c, const void *p, size_t n)
{
    Tape *t = &c->tape;
    if (t->nb + n > t->bcap) {
        size_t cap = t->bcap ? t->bcap * 2 : 4096;
        while (cap < t->nb + n) cap *= 2;
        if (ctx_charge(c, cap - t->bcap)) return -1;
        unsigned char *b = realloc(t->b, cap);
        if (!b) {
            c->bytes -= cap - t->bcap;
            return ctx_err(c, "out of memory growing the AD tape");
        }
        t->b = b;
        t->bcap = cap;
    }
    memcpy(t->b + t->nb, p, n);
    t->nb += n;
    account(t);
    return 0;
}

static int bytes_take(Ctx *c, void *p, size_t n)
{
    Tape *t = &c->tape;
    if (t->nb < n) return ctx_err(c, "internal error: the AD shape tape is empty");
    t->nb -= n;
    memcpy(p, t->b + t->nb, n);
    return 0;
}

static int nd_of(const Value *v) { return v->t == T_ARR ? v->u.a->nd : 0; }

static int same_shape(const Value *a, const Value *b)
{
    int nd = nd_of(a);
    if (nd != nd_of(b)) return 0;
    return nd == 0 || arr_sameshape(a->u.a, nd, b->u.a->shape);
}

static int shape_put(Ctx *c, const Value *v)
{
    unsigned char nd = (unsigned char)nd_of(v);
    if (nd && bytes_put(c, v->u.a->shape, nd * sizeof(int64_t))) return -1;
    return bytes_put(c, &nd, 1);
}

/* A shape as the 1-d array of its extents. */
static int shape_value(Ctx *c, int nd, const int64_t *dims, Value *out)
{
    int64_t n = nd;
    Arr *a = arr_new(c, 1, &n);
    if (!a) return -1;
    for (int i = 0; i < nd; i++) a->d[i] = (double)dims[i];
    *out = val_arr(a);
    return 0;
}

/* A shape read back. */
static int shape_take(Ctx *c, Value *out)
{
    unsigned char nd = 0;
    int64_t dims[DIAL_MAXDIM];
    if (bytes_take(c, &nd, 1) || nd > DIAL_MAXDIM || bytes_take(c, dims, nd * sizeof(int64_t)))
        return -1;
    return shape_value(c, nd, dims, out);
}

/* v summed down to `shape` (an array of extents), undoing broadcasting; a
 * number (no adjoint, or no recorded shape) passes through. */
static int reduce_to(Ctx *c, const Value *v, const Value *shape, Value *out)
{
    if (v->t != T_ARR || shape->t != T_ARR) {
        val_incref(v);
        *out = *v;
        return 0;
    }
    int nd = (int)shape->u.a->n;
    int64_t dims[DIAL_MAXDIM];
    for (int i = 0; i < nd; i++) dims[i] = (int64_t)shape->u.a->d[i];
    *out = val_nil();
    return val_sum_to(c, out, v, nd, dims);
}

/* -- the intrinsics ------------------------------------------------------ */

static int in_push(Ctx *c, const Value *a, int n, Value *out)
{
    (void)n;
    *out = val_num(0);
    return tape_push(c, &a[0]);
}

/* %loopend(start, count): what the reverse of a loop needs. */
static int in_loopend(Ctx *c, const Value *a, int n, Value *out)
{
    (void)n;
    *out = val_num(0);
    if (a[1].t == T_NUM) c->tape.taped_steps += (size_t)a[1].u.n;
    return tape_push(c, &a[0]) || tape_push(c, &a[1]) ? -1 : 0;
}

int tape_site(Ctx *c, const Value *const *op, int n)
{
    unsigned char flags = 0;
    int same = 1;
    for (int i = 1; i < n; i++) same &= same_shape(op[i], op[0]);
    for (int i = 0; i < n && !same; i++) {
        flags |= (unsigned char)(1 << i);
        if (shape_put(c, op[i])) return -1;
    }
    return bytes_put(c, &flags, 1);
}

int tape_siterec(Ctx *c, const Value *const *op, int n, Value *out)
{
    int same = 1;
    for (int i = 1; i < n; i++) same &= same_shape(op[i], op[0]);
    *out = val_num(0);
    if (same) return 0;
    Tuple *t = tup_new(c, n);
    if (!t) return -1;
    Value tv = {T_TUPLE, {.tu = t}};
    for (int i = 0; i < n; i++) {
        int nd = nd_of(op[i]);
        if (shape_value(c, nd, nd ? op[i]->u.a->shape : NULL, &t->v[i])) {
            val_decref(c, &tv);
            return -1;
        }
    }
    *out = tv;
    return 0;
}

static int in_siterec(Ctx *c, const Value *a, int n, Value *out)
{
    const Value *op[3];
    for (int i = 0; i < n; i++) op[i] = &a[i];
    return tape_siterec(c, op, n, out);
}

/* %site(a1, ..., ak): the operands' shapes, when they are not all one
 * (then some broadcast). */
static int in_site(Ctx *c, const Value *a, int n, Value *out)
{
    const Value *op[3];
    *out = val_num(0);
    for (int i = 0; i < n; i++) op[i] = &a[i];
    return tape_site(c, op, n);
}

int tape_unsite(Ctx *c, int k, Value *out)
{
    unsigned char flags = 0;
    if (bytes_take(c, &flags, 1)) return -1;
    if (!flags) {
        *out = val_num(0);
        return 0;
    }
    Tuple *t = tup_new(c, k);
    if (!t) return -1;
    Value tv = {T_TUPLE, {.tu = t}};
    for (int i = k - 1; i >= 0; i--) {
        t->v[i] = val_num(0);
        if ((flags & (1 << i)) && shape_take(c, &t->v[i])) {
            val_decref(c, &tv);
            return -1;
        }
    }
    *out = tv;
    return 0;
}

int tape_reduce(Ctx *c, const Value *v, const Value *site, int j, Value *out)
{
    if (site->t != T_TUPLE) {
        val_incref(v);
        *out = *v;
        return 0;
    }
    return reduce_to(c, v, &site->u.tu->v[j], out);
}

static int in_shpush(Ctx *c, const Value *a, int n, Value *out)
{
    (void)n;
    *out = val_num(0);
    return shape_put(c, &a[0]);
}

static int in_shpop(Ctx *c, const Value *a, int n, Value *out)
{
    (void)a, (void)n;
    return shape_take(c, out);
}

static int in_reduce_to(Ctx *c, const Value *a, int n, Value *out)
{
    (void)n;
    return reduce_to(c, &a[0], &a[1], out);
}

/* %mat(d, x): an adjoint ready for indexed accumulation: d itself when it
 * is an array, else zeros of x's shape. */
static int in_mat(Ctx *c, const Value *a, int n, Value *out)
{
    (void)n;
    if (a[0].t == T_ARR || a[1].t != T_ARR) {
        val_incref(&a[0]);
        *out = a[0];
        return 0;
    }
    Arr *z = arr_full(c, a[1].u.a->nd, a[1].u.a->shape, 0);
    if (!z) return -1;
    *out = val_arr(z);
    return 0;
}

/* %tuple(v, ...): a tuple of its arguments (what `return a, b` builds). */
static int in_tuple(Ctx *c, const Value *a, int n, Value *out)
{
    Tuple *t = tup_new(c, n);
    if (!t) return -1;
    for (int i = 0; i < n; i++) {
        val_incref(&a[i]);
        t->v[i] = a[i];
    }
    out->t = T_TUPLE;
    out->u.tu = t;
    return 0;
}

/* %like(g, p): a gradient in its parameter's shape: an adjoint no
 * contribution reached is the number 0, the gradient zeros of p's shape. */
static int in_like(Ctx *c, const Value *a, int n, Value *out)
{
    (void)n;
    if (a[0].t == T_NUM && a[1].t == T_ARR) {
        Arr *z = arr_full(c, a[1].u.a->nd, a[1].u.a->shape, a[0].u.n);
        if (!z) return -1;
        *out = val_arr(z);
        return 0;
    }
    val_incref(&a[0]);
    *out = a[0];
    return 0;
}

/* %scalar(y): grad needs a function returning a number. */
static int in_scalar(Ctx *c, const Value *a, int n, Value *out)
{
    (void)n;
    if (a[0].t == T_ARR) {
        Sbuf b;
        sb_init(&b);
        fmt_shape(&b, a[0].u.a->nd, a[0].u.a->shape);
        ctx_err(c, "grad: the function must return a number, but it returned an array of shape %s",
                sb_str(&b));
        sb_free(&b);
        return -1;
    }
    if (a[0].t != T_NUM)
        return ctx_err(c, "grad: the function must return a number, but it returned a %s",
                       val_typename(&a[0]));
    val_incref(&a[0]);
    *out = a[0];
    return 0;
}

/* %outer_sum(acc): what a block accumulator of outer products holds. */
static int in_outer_sum(Ctx *c, const Value *a, int n, Value *out)
{
    (void)n;
    return val_outer_sum(c, &a[0], out);
}

const Builtin intrinsics[] = {
    {"%push", in_push, 1, 1, -1, -1},
    {"%loopend", in_loopend, 2, 2, -1, -1},
    {"%site", in_site, 2, 3, -1, -1},
    {"%siterec", in_siterec, 2, 3, -1, -1},
    {"%shpush", in_shpush, 1, 1, -1, -1},
    {"%shpop", in_shpop, 0, 0, -1, -1},
    {"%reduce_to", in_reduce_to, 2, 2, -1, -1},
    {"%mat", in_mat, 2, 2, -1, -1},
    {"%like", in_like, 2, 2, -1, -1},
    {"%tuple", in_tuple, 0, -1, -1, -1},
    {"%scalar", in_scalar, 1, 1, -1, -1},
    {"%outer_sum", in_outer_sum, 1, 1, -1, -1},
    {NULL, NULL, 0, 0, -1, -1},
};

int intrinsic_find(const char *name)
{
    for (int i = 0; intrinsics[i].name; i++)
        if (strcmp(intrinsics[i].name, name) == 0) return i;
    return -1;
}
