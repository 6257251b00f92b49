/* fuse.c: running fused elementwise kernels (see fuse.h). */
#include "fuse.h"

#include <stdlib.h>
#include <string.h>

#include "array.h"

void kernel_free(Kernel *k)
{
    free(k->leafreg);
    free(k->konst);
    free(k->ops);
}

/* A slot while a block runs: a pointer to the block's values, or a number
 * that stands for every element. */
typedef struct Slot {
    const double *p;
    double s;
} Slot;

typedef struct Run {
    const Kernel *k;
    const Value *R;
    Slot *slot;
    double *buf;         /* FUSE_WIDE doubles per operation */
} Run;

/* Evaluate elements [lo, lo+n) (n <= FUSE_WIDE). The last operation
 * writes to out when given, else to its own buffer; returns where the
 * result is. */
static const double *eval_block(Run *r, int64_t lo, int64_t n, double *out)
{
    const Kernel *k = r->k;
    for (int i = 0; i < k->nleaf; i++) {
        const Value *v = &r->R[k->leafreg[i]];
        r->slot[i].p = v->t == T_ARR ? v->u.a->d + lo : NULL;
        r->slot[i].s = v->t == T_NUM ? v->u.n : 0;
    }
    int first = k->nleaf + k->nconst;
    double *o = NULL;
    for (int j = 0; j < k->nops; j++) {
        const KOp *op = &k->ops[j];
        const Slot *a = &r->slot[op->a], *b = &r->slot[op->b];
        Slot *d = &r->slot[first + j];
        o = (j == k->nops - 1 && out) ? out : r->buf + (size_t)j * FUSE_WIDE;
        if (op->unary) {
            if (!a->p) {
                d->p = NULL;
                d->s = num_unop(op->op, a->s);
                continue;
            }
            arr_unop_run(op->op, o, a->p, n);
        } else {
            if (!a->p && !b->p) {
                d->p = NULL;
                d->s = num_binop(op->op, a->s, b->s);
                continue;
            }
            arr_binop_run(op->op, o, a->p ? a->p : &a->s, a->p != NULL, b->p ? b->p : &b->s,
                          b->p != NULL, n);
        }
        d->p = o;
    }
    return o;
}

static double sum_leaf(void *ctx, int64_t lo, int64_t n)
{
    Run *r = ctx;
    return arr_sum_block(eval_block(r, lo, n, NULL), n);
}

/* The shape every array leaf shares, or NULL when there is no array leaf,
 * shapes differ, or a leaf is neither a number nor an array. */
static const Arr *common_shape(const Kernel *k, const Value *R)
{
    const Arr *shape = NULL;
    for (int i = 0; i < k->nleaf; i++) {
        const Value *v = &R[k->leafreg[i]];
        if (v->t == T_NUM) continue;
        if (v->t != T_ARR) return NULL;
        if (!shape) shape = v->u.a;
        else if (!arr_sameshape(v->u.a, shape->nd, shape->shape)) return NULL;
    }
    return shape;
}

static double *scratch(Ctx *c, size_t n)
{
    if (n > c->nscratch) {
        double *s = realloc(c->scratch, n * sizeof *s);
        if (!s) return NULL;
        c->scratch = s;
        c->nscratch = n;
    }
    return c->scratch;
}

/* x * a + b (in any arrangement of * and +/-, with constant a and b): one
 * pass with no intermediate block, the commonest kernel of array code. On
 * success sets *leaf and the coefficients. */
static int affine(const Kernel *k, int *leaf, double *a, double *b, double *sb)
{
    if (k->nops != 2 || k->reduce != KR_NONE || k->ops[0].unary || k->ops[1].unary) return 0;
    const KOp *m = &k->ops[0], *s = &k->ops[1];
    int nl = k->nleaf, first = nl + k->nconst;
    int xa = m->a < nl && m->b >= nl && m->b < first, xb = m->b < nl && m->a >= nl && m->a < first;
    if (m->op != BIN_MUL || !(xa || xb)) return 0;
    *leaf = xa ? m->a : m->b;
    *a = k->konst[(xa ? m->b : m->a) - nl];
    int ra = s->a == first, rb = s->b == first;           /* the product's slot */
    int ca = s->a >= nl && s->a < first, cb = s->b >= nl && s->b < first;
    if (s->op == BIN_ADD && ((ra && cb) || (rb && ca))) {
        *b = k->konst[(ra ? s->b : s->a) - nl];
        *sb = 1;
        return 1;
    }
    if (s->op == BIN_SUB && ((ra && cb) || (rb && ca))) { /* p - b, or b - p */
        *b = k->konst[(ra ? s->b : s->a) - nl];
        *sb = ra ? -1 : 1;
        if (rb) *a = -*a;
        return 1;
    }
    return 0;
}

/* o[i] = x[i] * a + sb * b, with the rounding of the two operations (no
 * fused multiply-add), in pairs as array.c's kernels so GCC vectorises. */
static void affine_run(double *o, const double *x, double a, double b, double sb, int64_t n)
{
    int64_t i = 0;
    if (sb > 0) {
        for (; i + 2 <= n; i += 2) {
            double r0 = x[i] * a + b, r1 = x[i + 1] * a + b;
            o[i] = r0;
            o[i + 1] = r1;
        }
        for (; i < n; i++) o[i] = x[i] * a + b;
    } else {
        for (; i + 2 <= n; i += 2) {
            double r0 = x[i] * a - b, r1 = x[i + 1] * a - b;
            o[i] = r0;
            o[i + 1] = r1;
        }
        for (; i < n; i++) o[i] = x[i] * a - b;
    }
}

/* A run of k over R, its constants in place in slots. */
static int run_init(Ctx *c, Run *r, const Kernel *k, const Value *R, Slot *slots)
{
    *r = (Run){k, R, slots, scratch(c, (size_t)k->nops * FUSE_WIDE)};
    if (!r->buf) return ctx_err(c, "out of memory");
    for (int i = 0; i < k->nconst; i++) {
        slots[k->nleaf + i].p = NULL;
        slots[k->nleaf + i].s = k->konst[i];
    }
    return 0;
}

int fuse_run(Ctx *c, const Kernel *k, const Value *R, Value *dst)
{
    const Arr *shape = common_shape(k, R);
    if (!shape) return 0;
    Slot slots[2 * FUSE_MAXOPS + 2];
    Run r;
    if (run_init(c, &r, k, R, slots)) return -1;
    int64_t n = shape->n;
    if (k->reduce == KR_SUM) {
        double s = 0.0 + arr_pairwise(n, sum_leaf, &r);
        val_decref(c, dst);
        *dst = val_num(s);
        return 1;
    }
    /* Writing into the destination's own array is safe even when it is a
     * leaf: each element is read before it is written, at the same place
     * (a view of it would make it unwritable). */
    Arr *out = NULL;
    if (dst->t == T_ARR && arr_writable(dst->u.a) && arr_sameshape(dst->u.a, shape->nd, shape->shape)) {
        out = dst->u.a;
    } else if (!(out = arr_new(c, shape->nd, shape->shape))) {
        return -1;
    }
    int leaf;
    double fa, fb, sb;
    const Value *lv;
    if (affine(k, &leaf, &fa, &fb, &sb) && (lv = &R[k->leafreg[leaf]])->t == T_ARR)
        affine_run(out->d, lv->u.a->d, fa, fb, sb, n);
    else
        for (int64_t lo = 0; lo < n; lo += FUSE_WIDE)
            eval_block(&r, lo, n - lo < FUSE_WIDE ? n - lo : FUSE_WIDE, out->d + lo);
    if (!(dst->t == T_ARR && dst->u.a == out)) {
        val_decref(c, dst);
        *dst = val_arr(out);
    }
    return 1;
}

int fuse_into(Ctx *c, const Kernel *k, const Value *R, Value *target, const Idx *ix, int n, int add)
{
    const Arr *shape = common_shape(k, R);
    if (!shape || k->reduce != KR_NONE) return 0;
    for (int i = 0; i < k->nleaf; i++) {
        const Value *v = &R[k->leafreg[i]];
        if (v->t == T_ARR && arr_shares(v->u.a, target->u.a)) return 0;
    }
    double *d;
    int rc = val_region(c, target, ix, n, shape->nd, shape->shape, &d);
    if (rc <= 0) return rc;
    Slot slots[2 * FUSE_MAXOPS + 2];
    Run r;
    if (run_init(c, &r, k, R, slots)) return -1;
    for (int64_t lo = 0; lo < shape->n; lo += FUSE_WIDE) {
        int64_t m = shape->n - lo < FUSE_WIDE ? shape->n - lo : FUSE_WIDE;
        if (add) arr_add_into(d + lo, eval_block(&r, lo, m, NULL), m);
        else eval_block(&r, lo, m, d + lo);
    }
    return 1;
}
