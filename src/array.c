/* array.c: the array core (see array.h). It owns the Arr objects and their
 * memory (owners carry their elements inline, views point into an owner),
 * broadcasting, the elementwise kernels, array literals, indexing
 * and indexed stores with copy on write.
 *
 * Every strided walk goes through one Loop: the axes of an iteration with
 * a stride vector (in elements) per operand, extent-1 axes dropped and
 * neighbours merged where every operand steps through them as one, so
 * same-shape and scalar cases become a single flat inner loop and
 * broadcast operands are never materialised. */
#include "array.h"

#include <string.h>

/* -- messages ---------------------------------------------------------- */

/* Shapes and numbers as message text (a 16-d shape of 19-digit extents
 * fits). */
typedef struct Text {
    char s[400];
} Text;

static const char *shape_text(Text *t, int nd, const int64_t *shape)
{
    Sbuf b;
    sb_init(&b);
    fmt_shape(&b, nd, shape);
    snprintf(t->s, sizeof t->s, "%s", sb_str(&b));
    sb_free(&b);
    return t->s;
}

static const char *num_text(Text *t, double x)
{
    Sbuf b;
    sb_init(&b);
    fmt_num(&b, x);
    snprintf(t->s, sizeof t->s, "%s", sb_str(&b));
    sb_free(&b);
    return t->s;
}

/* -- allocation ---------------------------------------------------------- */

int64_t arr_checkshape(Ctx *c, int nd, const int64_t *shape)
{
    if (nd > DIAL_MAXDIM)
        return ctx_err(c, "too many dimensions (%d, max %d)", nd, DIAL_MAXDIM);
    int64_t n = 1;
    int huge = 0;
    for (int k = 0; k < nd; k++) {
        if (shape[k] < 0) return ctx_err(c, "negative dimension %lld", (long long)shape[k]);
        /* each extent is bounded too, so a zero-size array cannot carry
         * extents that overflow later arithmetic */
        if (shape[k] > ARR_MAXN || (n && shape[k] > ARR_MAXN / n)) huge = 1;
        else n *= shape[k];
    }
    if (huge) {
        Text t;
        return ctx_err(c, "array too large: shape %s", shape_text(&t, nd, shape));
    }
    return n;
}

int arr_sameshape(const Arr *a, int nd, const int64_t *shape)
{
    return a->nd == nd && memcmp(a->shape, shape, (size_t)nd * sizeof *shape) == 0;
}

Arr *arr_new(Ctx *c, int nd, const int64_t *shape)
{
    int64_t n = arr_checkshape(c, nd, shape);
    if (n < 0) return NULL;
    Arr *a = ctx_alloc(c, sizeof *a + (size_t)n * sizeof(double));
    if (!a) return NULL;
    a->rc = 1;
    a->nd = nd;
    a->n = n;
    a->base = NULL;
    a->d = (double *)(a + 1);
    memcpy(a->shape, shape, (size_t)nd * sizeof *shape);
    return a;
}

static void fill(double *o, double v, int64_t n)
{
    for (int64_t i = 0; i < n; i++) o[i] = v;
}

Arr *arr_full(Ctx *c, int nd, const int64_t *shape, double v)
{
    Arr *a = arr_new(c, nd, shape);
    if (a) fill(a->d, v, a->n);
    return a;
}

Arr *arr_copy(Ctx *c, const Arr *a)
{
    Arr *r = arr_new(c, a->nd, a->shape);
    if (r) memcpy(r->d, a->d, (size_t)a->n * sizeof(double));
    return r;
}

/* Views always refer to the owner of the data, never to another view, so
 * arr_writable needs to look one level up only. */
static Arr *owner_of(const Arr *a) { return a->base ? a->base : (Arr *)a; }

Arr *arr_view(Ctx *c, Arr *base, double *d, int nd, const int64_t *shape)
{
    int64_t n = arr_checkshape(c, nd, shape);
    if (n < 0) return NULL;
    Arr *v = ctx_alloc(c, sizeof *v);
    if (!v) return NULL;
    v->rc = 1;
    v->nd = nd;
    v->n = n;
    v->base = owner_of(base);
    v->base->rc++;
    v->d = d;
    memcpy(v->shape, shape, (size_t)nd * sizeof *shape);
    return v;
}

void arr_free(Ctx *c, Arr *a)
{
    if (a->base) {
        arr_decref(c, a->base);
        ctx_free(c, a, sizeof *a);
    } else {
        ctx_free(c, a, sizeof *a + (size_t)a->n * sizeof(double));
    }
}

/* Hand a finished result to *dst, releasing what it held (which may be an
 * operand the result was computed from, hence only at the end). */
static void put(Ctx *c, Value *dst, Value v)
{
    val_decref(c, dst);
    *dst = v;
}

/* The array in *dst if a result of this shape may be written into it. */
static Arr *reusable(const Value *dst, int nd, const int64_t *shape)
{
    if (dst->t == T_ARR && arr_writable(dst->u.a) && arr_sameshape(dst->u.a, nd, shape))
        return dst->u.a;
    return NULL;
}

/* -- operands and broadcasting ------------------------------------------ */

/* A number or an array seen as an n-d block of doubles (numbers are 0-d).
 * d may point at num, so an Opnd is never copied. */
typedef struct Opnd {
    int nd;
    const int64_t *shape;
    const double *d;
    double num;
} Opnd;

static int opnd(const Value *v, Opnd *o)
{
    /* not NULL, so memcmp and memcpy of its 0 extents stay defined */
    static const int64_t noshape[1] = {1};
    if (v->t == T_NUM) {
        o->nd = 0;
        o->shape = noshape;
        o->num = v->u.n;
        o->d = &o->num;
        return 0;
    }
    if (v->t == T_ARR) {
        o->nd = v->u.a->nd;
        o->shape = v->u.a->shape;
        o->d = v->u.a->d;
        return 0;
    }
    return -1;
}

/* Extent of o along axis k of an nd-axis iteration, aligned at the right;
 * axes o lacks have extent 1. */
static int64_t extent(const Opnd *o, int k, int nd)
{
    int j = k - (nd - o->nd);
    return j >= 0 ? o->shape[j] : 1;
}

/* o's strides when broadcast to shape (which it must fit): 0 along the axes
 * it is stretched over. */
static void bcast_strides(const Opnd *o, int nd, const int64_t *shape, int64_t *st)
{
    int64_t s = 1;
    for (int k = nd - 1; k >= 0; k--) {
        int64_t e = extent(o, k, nd);
        st[k] = e == shape[k] ? s : 0;
        s *= e;
    }
}

static void contig_strides(int nd, const int64_t *shape, int64_t *st)
{
    int64_t s = 1;
    for (int k = nd - 1; k >= 0; k--) {
        st[k] = s;
        s *= shape[k];
    }
}

/* The shape n operands broadcast to. */
static int broadcast_shape(Ctx *c, const Opnd *const *o, int n, int *nd, int64_t *shape)
{
    int r = 0;
    for (int i = 0; i < n; i++)
        if (o[i]->nd > r) r = o[i]->nd;
    for (int k = 0; k < r; k++) {
        shape[k] = 1;
        for (int i = 0; i < n; i++) {
            int64_t e = extent(o[i], k, r);
            if (e != 1 && shape[k] != 1 && e != shape[k]) {
                Sbuf b;
                sb_init(&b);
                for (int j = 0; j < n; j++) {
                    sb_puts(&b, j ? " " : "");
                    fmt_shape(&b, o[j]->nd, o[j]->shape);
                }
                ctx_err(c, "operands could not be broadcast together with shapes %s", sb_str(&b));
                sb_free(&b);
                return -1;
            }
            if (e != 1) shape[k] = e;
        }
    }
    *nd = r;
    return 0;
}

/* -- strided iteration ---------------------------------------------------- */

#define LOOP_OPS 3

/* A walk over shape for up to LOOP_OPS operands with their own strides:
 * after loop_init, off holds each operand's offset of the current row and
 * len, in its length and strides; loop_next moves to the next row. */
typedef struct Loop {
    int nd, nops;
    int64_t shape[DIAL_MAXDIM];
    int64_t st[LOOP_OPS][DIAL_MAXDIM];
    int64_t idx[DIAL_MAXDIM];
    int64_t off[LOOP_OPS];
    int64_t in[LOOP_OPS];
    int64_t len;
} Loop;

static int mergeable(const Loop *l, int m, const int64_t *const *st, int k, int64_t e)
{
    for (int i = 0; i < l->nops; i++)
        if (l->st[i][m] != st[i][k] * e) return 0;
    return 1;
}

static void loop_init(Loop *l, int nd, const int64_t *shape, int nops, const int64_t *const *st)
{
    l->nd = 0;
    l->nops = nops;
    for (int k = 0; k < nd; k++) {
        if (shape[k] == 1) continue;
        int m = l->nd - 1;
        if (m >= 0 && mergeable(l, m, st, k, shape[k])) {
            l->shape[m] *= shape[k];
        } else {
            m = l->nd++;
            l->shape[m] = shape[k];
        }
        for (int i = 0; i < nops; i++) l->st[i][m] = st[i][k];
    }
    /* with every extent 1 the walk is one row of one element */
    l->len = l->nd ? l->shape[l->nd - 1] : 1;
    for (int i = 0; i < nops; i++) {
        l->off[i] = 0;
        l->in[i] = l->nd ? l->st[i][l->nd - 1] : 0;
    }
    for (int k = 0; k < l->nd; k++) l->idx[k] = 0;
}

/* Advance the odometer over the outer axes; 0 when every row was seen. */
static int loop_next(Loop *l)
{
    for (int k = l->nd - 2; k >= 0; k--) {
        if (++l->idx[k] < l->shape[k]) {
            for (int i = 0; i < l->nops; i++) l->off[i] += l->st[i][k];
            return 1;
        }
        for (int i = 0; i < l->nops; i++) l->off[i] -= l->st[i][k] * (l->shape[k] - 1);
        l->idx[k] = 0;
    }
    return 0;
}

/* -- elementwise kernels -------------------------------------------------- */

/* o[i] = EXPR for i < n, in pairs whose loads precede their stores: GCC's
 * -O2 cost model turns each pair into one SSE2 operation (it leaves plain
 * loops scalar), and it stays correct when o is exactly an input, the only
 * aliasing the callers allow. Wider blocks measured slower on long,
 * memory-bound loops: GCC then stores a block's halves out of order.
 * EXPR reads the index as `i`. */
#define BLOCKED(EXPR)                                                   \
    do {                                                                \
        int64_t b_ = 0;                                                 \
        for (; b_ + 2 <= n; b_ += 2) {                                  \
            int64_t i = b_;                                             \
            double r0_ = (EXPR);                                        \
            i = b_ + 1;                                                 \
            double r1_ = (EXPR);                                        \
            o[b_] = r0_;                                                \
            o[b_ + 1] = r1_;                                            \
        }                                                               \
        for (int64_t i = b_; i < n; i++) o[i] = (EXPR);                 \
    } while (0)

/* num_binop with a constant op folds to the bare formula, so the kernels
 * share the scalar semantics exactly. */
#define BIN_CASE(c, name)                                               \
    case BIN_##c:                                                       \
        if (sx && sy) BLOCKED(num_binop(BIN_##c, x[i], y[i]));          \
        else if (sx) BLOCKED(num_binop(BIN_##c, x[i], yv));             \
        else if (sy) BLOCKED(num_binop(BIN_##c, xv, y[i]));             \
        else fill(o, num_binop(BIN_##c, xv, yv), n);                    \
        break;

/* o[i] = x[i*sx] op y[i*sy], strides 0 or 1. */
static void bin_kernel(int op, double *o, const double *x, int64_t sx, const double *y,
                       int64_t sy, int64_t n)
{
    if (n <= 0) return;   /* an empty operand's pointer may be past its block */
    const double xv = *x, yv = *y;
    /* x ^ 2: with the exponent a constant, num_binop folds to x * x and the
     * loop vectorises */
    if (op == BIN_POW && sx && !sy && yv == 2) {
        BLOCKED(num_binop(BIN_POW, x[i], 2.0));
        return;
    }
    switch (op) { PRIM_BINARY(BIN_CASE) }
}

#define UN_CASE(c, name) case UN_##c: BLOCKED(num_unop(UN_##c, x[i])); break;

static void un_kernel(int op, double *o, const double *x, int64_t n)
{
    switch (op) { PRIM_UNARY(UN_CASE) }
}

void arr_add_into(double *o, const double *x, int64_t n) { BLOCKED(o[i] + x[i]); }

int arr_shares(const Arr *a, const Arr *b) { return owner_of(a) == owner_of(b); }

/* dst[...] = src[...], or += when `add`, over a non-empty shape with the
 * given strides (src strides may be 0 to broadcast). The two must not
 * overlap. */
static void store_strided(double *dst, const int64_t *dst_st, const double *src,
                          const int64_t *src_st, int nd, const int64_t *shape, int add)
{
    Loop l;
    loop_init(&l, nd, shape, 2, (const int64_t *const[]){dst_st, src_st});
    int64_t s0 = l.in[0], s1 = l.in[1], n = l.len, len = n;
    do {
        double *o = dst + l.off[0];
        const double *x = src + l.off[1];
        if (add && s0 == 1 && s1 == 1)
            arr_add_into(o, x, n);
        else if (add && s0 == 1 && s1 == 0)
            BLOCKED(o[i] + *x);
        else if (add)
            for (int64_t i = 0; i < len; i++) o[i * s0] += x[i * s1];
        else if (s0 == 1 && s1 == 0)
            fill(o, *x, len);
        else if (s0 == 1 && s1 == 1)
            memcpy(o, x, (size_t)len * sizeof *o);
        else
            for (int64_t i = 0; i < len; i++) o[i * s0] = x[i * s1];
    } while (loop_next(&l));
}

static const char *const unsym[UN__N] = { [UN_NEG] = "unary -", [UN_NOT] = "not" };

int val_binary(Ctx *c, int op, Value *dst, const Value *a, const Value *b)
{
    if (a->t == T_NUM && b->t == T_NUM) {
        put(c, dst, val_num(num_binop(op, a->u.n, b->u.n)));
        return 0;
    }
    Opnd x, y;
    if (opnd(a, &x) || opnd(b, &y)) {
        if (prim_binsym[op])
            return ctx_err(c, "unsupported operand types for %s: %s and %s", prim_binsym[op],
                           val_typename(a), val_typename(b));
        return ctx_err(c, "%s: expected arrays or numbers, got %s and %s", prim_binname[op],
                       val_typename(a), val_typename(b));
    }
    int nd = 0;
    int64_t shape[DIAL_MAXDIM], sx[DIAL_MAXDIM], sy[DIAL_MAXDIM];
    if (broadcast_shape(c, (const Opnd *const[]){&x, &y}, 2, &nd, shape)) return -1;
    Arr *r = reusable(dst, nd, shape);
    Arr *fresh = r ? NULL : (r = arr_new(c, nd, shape));
    if (!r) return -1;
    if (r->n) {
        Loop l;
        bcast_strides(&x, nd, shape, sx);
        bcast_strides(&y, nd, shape, sy);
        loop_init(&l, nd, shape, 2, (const int64_t *const[]){sx, sy});
        double *o = r->d;
        do {
            bin_kernel(op, o, x.d + l.off[0], l.in[0], y.d + l.off[1], l.in[1], l.len);
            o += l.len;
        } while (loop_next(&l));
    }
    if (fresh) put(c, dst, val_arr(fresh));
    return 0;
}

int val_unary(Ctx *c, int op, Value *dst, const Value *a)
{
    if (a->t == T_NUM) {
        put(c, dst, val_num(num_unop(op, a->u.n)));
        return 0;
    }
    if (a->t != T_ARR) {
        if (unsym[op])
            return ctx_err(c, "bad operand type for %s: %s", unsym[op], val_typename(a));
        return ctx_err(c, "%s: expected an array or a number, got %s", prim_unname[op],
                       val_typename(a));
    }
    const Arr *x = a->u.a;
    Arr *r = reusable(dst, x->nd, x->shape);
    Arr *fresh = r ? NULL : (r = arr_new(c, x->nd, x->shape));
    if (!r) return -1;
    un_kernel(op, r->d, x->d, x->n);
    if (fresh) put(c, dst, val_arr(fresh));
    return 0;
}

int val_where(Ctx *c, Value *dst, const Value *cond, const Value *a, const Value *b)
{
    if (cond->t == T_NUM && a->t == T_NUM && b->t == T_NUM) {
        put(c, dst, cond->u.n != 0 ? *a : *b);
        return 0;
    }
    Opnd o[3];
    const Value *v[3] = {cond, a, b};
    for (int i = 0; i < 3; i++)
        if (opnd(v[i], &o[i]))
            return ctx_err(c, "where: expected arrays or numbers, got %s", val_typename(v[i]));
    int nd = 0;
    int64_t shape[DIAL_MAXDIM], st[3][DIAL_MAXDIM];
    if (broadcast_shape(c, (const Opnd *const[]){&o[0], &o[1], &o[2]}, 3, &nd, shape)) return -1;
    Arr *r = reusable(dst, nd, shape);
    Arr *fresh = r ? NULL : (r = arr_new(c, nd, shape));
    if (!r) return -1;
    if (r->n) {
        Loop l;
        for (int i = 0; i < 3; i++) bcast_strides(&o[i], nd, shape, st[i]);
        loop_init(&l, nd, shape, 3, (const int64_t *const[]){st[0], st[1], st[2]});
        double *out = r->d;
        do {
            const double *p = o[0].d + l.off[0], *x = o[1].d + l.off[1], *y = o[2].d + l.off[2];
            for (int64_t i = 0; i < l.len; i++)
                out[i] = p[i * l.in[0]] != 0 ? x[i * l.in[1]] : y[i * l.in[2]];
            out += l.len;
        } while (loop_next(&l));
    }
    if (fresh) put(c, dst, val_arr(fresh));
    return 0;
}

Arr *arr_permute(Ctx *c, const Arr *a, const int *perm)
{
    int64_t shape[DIAL_MAXDIM], st[DIAL_MAXDIM], src[DIAL_MAXDIM], dst[DIAL_MAXDIM];
    contig_strides(a->nd, a->shape, st);
    for (int k = 0; k < a->nd; k++) {
        shape[k] = a->shape[perm[k]];
        src[k] = st[perm[k]];
    }
    Arr *r = arr_new(c, a->nd, shape);
    if (r && r->n) {
        contig_strides(r->nd, r->shape, dst);
        store_strided(r->d, dst, a->d, src, r->nd, r->shape, 0);
    }
    return r;
}

Arr *arr_transpose(Ctx *c, const Arr *a)
{
    int perm[DIAL_MAXDIM];
    for (int k = 0; k < a->nd; k++) perm[k] = a->nd - 1 - k;
    return arr_permute(c, a, perm);
}

/* The elements of a added, in order, into an accumulator of the given
 * shape broadcast over a's (strides 0 along the axes summed). */
int val_sum_to(Ctx *c, Value *dst, const Value *v, int nd, const int64_t *shape)
{
    Opnd x, to = {nd, shape, NULL, 0};
    if (opnd(v, &x)) return ctx_err(c, "sum_to: expected an array or a number, got %s", val_typename(v));
    int fits = nd <= x.nd;
    for (int k = 0; k < nd && fits; k++)
        fits = shape[k] == 1 || shape[k] == x.shape[k + x.nd - nd];
    if (!fits) {
        Sbuf b1, b2;
        sb_init(&b1);
        sb_init(&b2);
        fmt_shape(&b1, x.nd, x.shape);
        fmt_shape(&b2, nd, shape);
        ctx_err(c, "sum_to: an array of shape %s cannot be summed to shape %s, which does not "
                   "broadcast to it", sb_str(&b1), sb_str(&b2));
        sb_free(&b1);
        sb_free(&b2);
        return -1;
    }
    if (nd == x.nd && (nd == 0 || arr_sameshape(v->u.a, nd, shape))) {
        val_incref(v);
        put(c, dst, *v);
        return 0;
    }
    double acc = 0;
    Arr *r = NULL;
    if (nd && !(r = arr_full(c, nd, shape, 0))) return -1;
    if (v->u.a->n) {
        int64_t ost[DIAL_MAXDIM], ist[DIAL_MAXDIM];
        bcast_strides(&to, x.nd, x.shape, ost);
        contig_strides(x.nd, x.shape, ist);
        store_strided(r ? r->d : &acc, ost, x.d, ist, x.nd, x.shape, 1);
    }
    put(c, dst, r ? val_arr(r) : val_num(acc));
    return 0;
}

/* -- conditions and literals --------------------------------------------- */

int val_truth(Ctx *c, const Value *v, int *truth)
{
    switch (v->t) {
    case T_NUM:
        *truth = v->u.n != 0;
        return 0;
    case T_ARR:
        if (v->u.a->n == 1) {
            *truth = v->u.a->d[0] != 0;
            return 0;
        }
        if (v->u.a->n == 0) return ctx_err(c, "the truth value of an empty array is ambiguous");
        return ctx_err(c, "the truth value of an array with more than one element is ambiguous");
    }
    return ctx_err(c, "a %s has no truth value; expected a number", val_typename(v));
}

int val_stack(Ctx *c, Value *dst, const Value *items, int n)
{
    Opnd first, it;
    int64_t shape[DIAL_MAXDIM + 1];
    for (int i = 0; i < n; i++) {
        if (opnd(&items[i], i ? &it : &first))
            return ctx_err(c, "array literal: item %d is a %s, expected a number or an array",
                           i + 1, val_typename(&items[i]));
        if (i && (it.nd != first.nd || memcmp(it.shape, first.shape,
                                              (size_t)it.nd * sizeof *it.shape))) {
            Text t1, t2;
            return ctx_err(c, "array literal: item %d has shape %s, expected %s", i + 1,
                           shape_text(&t1, it.nd, it.shape),
                           shape_text(&t2, first.nd, first.shape));
        }
    }
    int nd = 1;
    shape[0] = n;
    if (n) {
        if (first.nd + 1 > DIAL_MAXDIM)
            return ctx_err(c, "array literal: too many dimensions (%d, max %d)", first.nd + 1,
                           DIAL_MAXDIM);
        memcpy(shape + 1, first.shape, (size_t)first.nd * sizeof *shape);
        nd += first.nd;
    }
    Arr *r = arr_new(c, nd, shape);
    if (!r) return -1;
    int64_t m = r->n / (n ? n : 1);
    for (int i = 0; i < n; i++) {
        if (items[i].t == T_NUM) r->d[i] = items[i].u.n;
        else memcpy(r->d + i * m, items[i].u.a->d, (size_t)m * sizeof(double));
    }
    put(c, dst, val_arr(r));
    return 0;
}

/* -- indexing -------------------------------------------------------------- */

/* Indices far outside any array behave alike; clamping keeps the integer
 * arithmetic below clear of overflow. */
#define IDX_CLAMP ((double)((int64_t)1 << 62))

static int to_index(Ctx *c, double x, const char *what, int64_t *out)
{
    if (x != floor(x) || isnan(x)) {
        Text t;
        return ctx_err(c, "%s %s is not an integer", what, num_text(&t, x));
    }
    *out = (int64_t)(x < -IDX_CLAMP ? -IDX_CLAMP : x > IDX_CLAMP ? IDX_CLAMP : x);
    return 0;
}

/* Python's slice.indices: resolve the bounds of a slice of an axis of
 * length len into start, step and count. */
static int slice_axis(Ctx *c, const Idx *ix, int64_t len, int64_t *start, int64_t *step,
                      int64_t *count)
{
    int64_t b = 0, e = 0, s = 1;
    if (ix->has_step && to_index(c, ix->step, "slice step", &s)) return -1;
    if (s == 0) return ctx_err(c, "slice step cannot be zero");
    if (ix->has_start && to_index(c, ix->start, "slice start", &b)) return -1;
    if (ix->has_stop && to_index(c, ix->stop, "slice stop", &e)) return -1;
    /* positive steps clamp into [0, len], negative ones into [-1, len-1] */
    int64_t lo = s > 0 ? 0 : -1, hi = s > 0 ? len : len - 1;
    if (!ix->has_start) b = s > 0 ? lo : hi;
    else if (b < 0 && (b += len) < lo) b = lo;
    else if (b > hi) b = hi;
    if (!ix->has_stop) e = s > 0 ? hi : lo;
    else if (e < 0 && (e += len) < lo) e = lo;
    else if (e > hi) e = hi;
    if (s > 0) *count = e > b ? (e - b + s - 1) / s : 0;
    else *count = b > e ? (b - e - s - 1) / -s : 0;
    *start = b;
    *step = s;
    return 0;
}

/* The elements ix selects: the region's shape, its strides in elements and
 * its first element; contig when the region is one run of memory. */
typedef struct Sel {
    int nd;
    int contig;
    int64_t n;
    int64_t off;
    int64_t shape[DIAL_MAXDIM];
    int64_t st[DIAL_MAXDIM];
} Sel;

static int select_region(Ctx *c, const Arr *a, const Idx *ix, int n, Sel *s)
{
    if (n > a->nd)
        return ctx_err(c, "too many indices: array is %d-dimensional, but %d were indexed",
                       a->nd, n);
    int64_t stride[DIAL_MAXDIM];
    contig_strides(a->nd, a->shape, stride);
    /* A region is one run of memory if it is a fixed prefix (integers and
     * slices of at most one element), then at most one step-1 slice, then
     * whole axes. phase: 0 in the prefix, 1 after the slice, 2 not a run. */
    int phase = 0;
    s->nd = 0;
    s->n = 1;
    s->off = 0;
    for (int k = 0; k < a->nd; k++) {
        int64_t len = a->shape[k], start = 0, step = 1, count = len;
        if (k < n && !ix[k].slice) {
            if (to_index(c, ix[k].i, "index", &start)) return -1;
            if (start < -len || start >= len) {
                Text t;
                return ctx_err(c, "index %s is out of bounds for axis %d with size %lld",
                               num_text(&t, ix[k].i), k, (long long)len);
            }
            if (start < 0) start += len;
            count = 1;
        } else {
            if (k < n && slice_axis(c, &ix[k], len, &start, &step, &count)) return -1;
            s->shape[s->nd] = count;
            s->st[s->nd++] = step * stride[k];
        }
        int whole = count == len && (step == 1 || len <= 1);
        if (phase == 0 && count > 1) phase = step == 1 ? 1 : 2;
        else if (phase == 1 && !whole) phase = 2;
        s->off += start * stride[k];
        s->n *= count;
    }
    /* an empty region has no first element: it is never a view or read */
    s->contig = phase < 2 && s->n > 0;
    return 0;
}

static int index_tuple(Ctx *c, Value *out, const Tuple *t, const Idx *ix, int n)
{
    if (n != 1 || ix[0].slice) return ctx_err(c, "a tuple is indexed by one integer");
    int64_t i = 0;
    if (to_index(c, ix[0].i, "index", &i)) return -1;
    if (i < -t->n || i >= t->n) {
        Text tx;
        return ctx_err(c, "index %s is out of bounds for a tuple of size %d",
                       num_text(&tx, ix[0].i), t->n);
    }
    if (i < 0) i += t->n;
    val_incref(&t->v[i]);
    *out = t->v[i];
    return 0;
}

int val_index(Ctx *c, Value *out, const Value *target, const Idx *ix, int n)
{
    if (target->t == T_TUPLE) return index_tuple(c, out, target->u.tu, ix, n);
    if (target->t != T_ARR) return ctx_err(c, "cannot index a %s", val_typename(target));
    Arr *a = target->u.a;
    Sel s;
    if (select_region(c, a, ix, n, &s)) return -1;
    if (s.nd == 0) {
        *out = val_num(a->d[s.off]);
        return 0;
    }
    Arr *r;
    if (s.contig) {
        r = arr_view(c, a, a->d + s.off, s.nd, s.shape);
    } else if ((r = arr_new(c, s.nd, s.shape)) && r->n) {
        int64_t st[DIAL_MAXDIM];
        contig_strides(s.nd, s.shape, st);
        store_strided(r->d, st, a->d + s.off, s.st, s.nd, s.shape, 0);
    }
    if (!r) return -1;
    *out = val_arr(r);
    return 0;
}

/* Copy on write: the array in *target, made the only user of its data. */
static int writable(Ctx *c, Value *target)
{
    if (arr_writable(target->u.a)) return 0;
    Arr *cp = arr_copy(c, target->u.a);
    if (!cp) return -1;
    arr_decref(c, target->u.a);
    target->u.a = cp;
    return 0;
}

int val_region(Ctx *c, Value *target, const Idx *ix, int n, int nd, const int64_t *shape, double **d)
{
    Sel s;
    if (target->t != T_ARR || select_region(c, target->u.a, ix, n, &s)) return 0;
    if (!s.contig || s.nd != nd || s.n == 0) return 0;
    for (int k = 0; k < nd; k++)
        if (s.shape[k] != shape[k]) return 0;
    if (writable(c, target)) return -1;
    *d = target->u.a->d + s.off;
    return 1;
}

static int store(Ctx *c, Value *target, const Idx *ix, int n, const Value *v, int add)
{
    if (target->t == T_TUPLE) return ctx_err(c, "tuples cannot be modified");
    if (target->t == T_STR) return ctx_err(c, "strings cannot be modified");
    if (target->t != T_ARR)
        return ctx_err(c, "cannot assign to an element of a %s", val_typename(target));
    Opnd x;
    if (opnd(v, &x))
        return ctx_err(c, "cannot store a %s in an array", val_typename(v));
    Sel s;
    if (select_region(c, target->u.a, ix, n, &s)) return -1;
    /* NumPy lets the value carry extra leading axes of extent 1. */
    int fits = 1;
    for (int k = 0; k < x.nd; k++) {
        int64_t e = x.shape[k], want = k - (x.nd - s.nd) >= 0 ? s.shape[k - (x.nd - s.nd)] : 1;
        fits &= e == want || e == 1;
    }
    if (!fits) {
        Text t1, t2;
        return ctx_err(c, "could not broadcast value of shape %s into region of shape %s",
                       shape_text(&t1, x.nd, x.shape), shape_text(&t2, s.nd, s.shape));
    }
    if (s.n == 0) return 0;
    if (writable(c, target)) return -1;
    /* A value still sharing the target's data (x[::-1] = x with x unshared)
     * is read as it was before the store: copy it first. */
    Value tmp = val_nil();
    if (v->t == T_ARR && owner_of(v->u.a) == owner_of(target->u.a)) {
        Arr *cp = arr_copy(c, v->u.a);
        if (!cp) return -1;
        tmp = val_arr(cp);
        v = &tmp;
    }
    opnd(v, &x);
    int64_t st[DIAL_MAXDIM];
    bcast_strides(&x, s.nd, s.shape, st);
    store_strided(target->u.a->d + s.off, s.st, x.d, st, s.nd, s.shape, add);
    val_decref(c, &tmp);
    return 0;
}

int val_setindex(Ctx *c, Value *target, const Idx *ix, int n, const Value *v)
{
    return store(c, target, ix, n, v, 0);
}

int val_addindex(Ctx *c, Value *target, const Idx *ix, int n, const Value *v)
{
    return store(c, target, ix, n, v, 1);
}

/* -- summation ----------------------------------------------------------- */

double arr_sum_block(const double *a, int64_t m)
{
    if (m < 8) {
        double s = 0;
        for (int64_t i = 0; i < m; i++) s += a[i];
        return s;
    }
    double r[8];
    for (int j = 0; j < 8; j++) r[j] = a[j];
    int64_t i;
    for (i = 8; i < m - m % 8; i += 8)
        for (int j = 0; j < 8; j++) r[j] += a[i + j];
    double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < m; i++) s += a[i];
    return s;
}

/* Recursion depth is log2(ARR_MAXN / 128) at most. */
static double pairwise(int64_t lo, int64_t n, double (*leaf)(void *, int64_t, int64_t), void *ctx)
{
    if (n <= 128) return leaf(ctx, lo, n);
    int64_t h = n / 2;
    h -= h % 8;
    return pairwise(lo, h, leaf, ctx) + pairwise(lo + h, n - h, leaf, ctx);
}

double arr_pairwise(int64_t n, double (*leaf)(void *, int64_t, int64_t), void *ctx)
{
    return pairwise(0, n, leaf, ctx);
}

static double block_of(void *ctx, int64_t lo, int64_t m)
{
    return arr_sum_block((const double *)ctx + lo, m);
}

double arr_sum(const double *a, int64_t n)
{
    return arr_pairwise(n, block_of, (void *)a);
}

/* The kernels for fuse.c: o[i] = x[i*sx] op y[i*sy] with strides 0 or 1. */
void arr_binop_run(int op, double *o, const double *x, int64_t sx, const double *y, int64_t sy,
                   int64_t n)
{
    bin_kernel(op, o, x, sx, y, sy, n);
}

void arr_unop_run(int op, double *o, const double *x, int64_t n)
{
    un_kernel(op, o, x, n);
}
