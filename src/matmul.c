/* matmul.c: the matrix product `@` (val_matmul, see array.h), with
 * NumPy's matmul semantics: operands of 3 or more dimensions are stacks of
 * matrices over their last two axes, the leading (batch) axes broadcast, and
 * a 1-d operand is a row (left) or column (right) vector whose axis is
 * dropped from the result.
 *
 * Each product of the stack is one call of product(): CBLAS (dgemm, dgemv,
 * ddot) when configure found it (HAVE_CBLAS), else a cache-blocked C
 * kernel. When the right operand is a single matrix or vector, the left
 * operand's whole stack is one tall matrix and the batch is one product. */
#include "array.h"

#include <limits.h>
#include <string.h>

#ifdef HAVE_CBLAS
#include <cblas.h>
#endif

/* -- the C kernels ---------------------------------------------------------- */

/* Rows of B taken per pass (KC) and columns of C per tile (NC): a KC x NC
 * block of B (256 KiB) stays in L2 while every row of A runs over it, and
 * the row of C being updated (2 KiB) stays in L1. */
enum { KC = 128, NC = 256 };

/* Four running sums: independent chains keep the FPU busy, and the order is
 * fixed, so results are reproducible. */
static double dot(const double *x, const double *y, int64_t n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += x[i] * y[i];
        s1 += x[i + 1] * y[i + 1];
        s2 += x[i + 2] * y[i + 2];
        s3 += x[i + 3] * y[i + 3];
    }
    for (; i < n; i++) s0 += x[i] * y[i];
    return (s0 + s1) + (s2 + s3);
}

/* o[j] += a[0] x[j] + a[1] x[ldx+j] + a[2] x[2 ldx+j] + a[3] x[3 ldx+j]:
 * four rows of B per pass over a row of C, so C is loaded and stored once
 * per four multiply-adds. Written in pairs whose loads precede their
 * stores: GCC's -O2 cost model turns each pair into SSE2 operations (it
 * leaves a plain loop of unknown length scalar). */
static void axpy4(double *o, const double *a, const double *x, int64_t ldx, int64_t n)
{
    const double a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    const double *x0 = x, *x1 = x + ldx, *x2 = x + 2 * ldx, *x3 = x + 3 * ldx;
    int64_t j = 0;
    for (; j + 2 <= n; j += 2) {
        double r0 = o[j] + a0 * x0[j] + a1 * x1[j] + a2 * x2[j] + a3 * x3[j];
        double r1 = o[j + 1] + a0 * x0[j + 1] + a1 * x1[j + 1] + a2 * x2[j + 1] + a3 * x3[j + 1];
        o[j] = r0;
        o[j + 1] = r1;
    }
    for (; j < n; j++) o[j] += a0 * x0[j] + a1 * x1[j] + a2 * x2[j] + a3 * x3[j];
}

/* o[j] += a x[j], in fours as axpy4 goes in pairs: one AVX2 operation
 * where the processor has it (a clone chosen at load time), two SSE2
 * ones elsewhere; never a fused multiply-add, so both round alike. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static void axpy(double *o, double a, const double *x, int64_t n)
{
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
        double r0 = o[j] + a * x[j], r1 = o[j + 1] + a * x[j + 1];
        double r2 = o[j + 2] + a * x[j + 2], r3 = o[j + 3] + a * x[j + 3];
        o[j] = r0;
        o[j + 1] = r1;
        o[j + 2] = r2;
        o[j + 3] = r3;
    }
    for (; j < n; j++) o[j] += a * x[j];
}

/* o[0..nc) += a[0..kc) . B[0..kc, 0..nc) for one row o of C, B's rows ldb
 * apart. */
static void row_tile(double *o, const double *a, const double *B, int64_t ldb, int64_t kc,
                     int64_t nc)
{
    int64_t p = 0;
    for (; p + 4 <= kc; p += 4) axpy4(o, a + p, B + p * ldb, ldb, nc);
    for (; p < kc; p++) axpy(o, a[p], B + p * ldb, nc);
}

/* C (m x n) = A (m x k) . B (k x n), contiguous, C apart from both: a
 * column (n == 1) is a dot per row; otherwise i-k-j order over KC x NC
 * blocks of B, streaming contiguous rows of B and C. */
static void c_product(double *C, const double *A, const double *B, int64_t m, int64_t k,
                      int64_t n)
{
    if (n == 1) {
        for (int64_t i = 0; i < m; i++) C[i] = dot(A + i * k, B, k);
        return;
    }
    memset(C, 0, (size_t)(m * n) * sizeof *C);
    for (int64_t p0 = 0; p0 < k; p0 += KC) {
        int64_t kc = k - p0 < KC ? k - p0 : KC;
        for (int64_t j0 = 0; j0 < n; j0 += NC) {
            int64_t nc = n - j0 < NC ? n - j0 : NC;
            for (int64_t i = 0; i < m; i++)
                row_tile(C + i * n + j0, A + i * k + p0, B + p0 * n + j0, n, kc, nc);
        }
    }
}

/* -- CBLAS ---------------------------------------------------------------- */

#ifdef HAVE_CBLAS
/* The same product through CBLAS; every extent is in 1..INT_MAX (CBLAS
 * takes int sizes and leading dimensions of at least 1). A vector result
 * is zeroed first: some OpenBLAS releases scale y by beta = 0 in dgemv
 * and so keep a NaN left in uninitialised memory. */
static void blas_product(double *C, const double *A, const double *B, int m, int k, int n)
{
    if (m == 1 && n == 1) {
        C[0] = cblas_ddot(k, A, 1, B, 1);
    } else if (n == 1) {
        memset(C, 0, (size_t)m * sizeof *C);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, m, k, 1.0, A, k, B, 1, 0.0, C, 1);
    } else if (m == 1) {
        memset(C, 0, (size_t)n * sizeof *C);
        cblas_dgemv(CblasRowMajor, CblasTrans, k, n, 1.0, B, n, A, 1, 0.0, C, 1);
    } else {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0, A, k, B, n, 0.0,
                    C, n);
    }
}
#endif

/* C = A . B for one matrix of the stack. Empty extents and extents beyond
 * CBLAS's int go to the C kernel, which handles every size. */
static void product(double *C, const double *A, const double *B, int64_t m, int64_t k,
                    int64_t n)
{
#ifdef HAVE_CBLAS
    if (m > 0 && k > 0 && n > 0 && m <= INT_MAX && k <= INT_MAX && n <= INT_MAX) {
        blas_product(C, A, B, (int)m, (int)k, (int)n);
        return;
    }
#endif
    c_product(C, A, B, m, k, n);
}

/* -- shapes ----------------------------------------------------------------- */

/* How a @ b runs: count products of (m x k) . (k x n) over the broadcast
 * batch axes, the operands stepping st[0] and st[1] elements along each
 * (0 where broadcast), and the result's shape. */
typedef struct Plan {
    int64_t m, k, n;
    int nb;
    int64_t batch[DIAL_MAXDIM];
    int64_t st[2][DIAL_MAXDIM];
    int64_t count;
    int nd;
    int64_t shape[DIAL_MAXDIM];
} Plan;

/* "matmul: shapes (2, 3) and (4,) <what>" */
static int shapes_err(Ctx *c, const Arr *x, const Arr *y, const char *what)
{
    Sbuf sx, sy;
    sb_init(&sx);
    sb_init(&sy);
    fmt_shape(&sx, x->nd, x->shape);
    fmt_shape(&sy, y->nd, y->shape);
    ctx_err(c, "matmul: shapes %s and %s %s", sb_str(&sx), sb_str(&sy), what);
    sb_free(&sx);
    sb_free(&sy);
    return -1;
}

/* The batch axes of a are those before its last two; its extent along
 * axis t of nb broadcast batch axes (aligned at the right, 1 if it lacks
 * the axis). */
static int64_t batch_extent(const Arr *a, int t, int nb)
{
    int j = t - (nb - (a->nd > 2 ? a->nd - 2 : 0));
    return j >= 0 ? a->shape[j] : 1;
}

/* a's strides along the batch axes: size elements per matrix, 0 along
 * the axes it is broadcast over. */
static void batch_strides(const Arr *a, int64_t size, const Plan *p, int64_t *st)
{
    for (int t = p->nb - 1; t >= 0; t--) {
        int64_t e = batch_extent(a, t, p->nb);
        st[t] = e == 1 ? 0 : size;
        size *= e;
    }
}

static int plan(Ctx *c, const Arr *x, const Arr *y, Plan *p)
{
    p->m = x->nd >= 2 ? x->shape[x->nd - 2] : 1;
    p->k = x->shape[x->nd - 1];
    p->n = y->nd >= 2 ? y->shape[y->nd - 1] : 1;
    if (y->shape[y->nd >= 2 ? y->nd - 2 : 0] != p->k)
        return shapes_err(c, x, y, "are not aligned");
    p->nb = (x->nd > y->nd ? x->nd : y->nd) - 2;
    if (p->nb < 0) p->nb = 0;
    for (int t = 0; t < p->nb; t++) {
        int64_t ex = batch_extent(x, t, p->nb), ey = batch_extent(y, t, p->nb);
        if (ex != 1 && ey != 1 && ex != ey)
            return shapes_err(c, x, y, "could not be broadcast together over their batch axes");
        p->batch[t] = ex == 1 ? ey : ex;
    }
    p->nd = p->nb;
    memcpy(p->shape, p->batch, (size_t)p->nb * sizeof *p->shape);
    if (x->nd >= 2) p->shape[p->nd++] = p->m;
    if (y->nd >= 2) p->shape[p->nd++] = p->n;
    /* Broadcasting can make a result too large to count (or allocate). An
     * empty one needs no product, even over ~2^40 batches; a non-empty one
     * that passes the check bounds every count and stride below. */
    int64_t size = arr_checkshape(c, p->nd, p->shape);
    if (size < 0) return -1;
    p->count = 0;
    if (size == 0) return 0;
    p->count = 1;
    for (int t = 0; t < p->nb; t++) p->count *= p->batch[t];
    batch_strides(x, p->m * p->k, p, p->st[0]);
    batch_strides(y, p->k * p->n, p, p->st[1]);
    /* b one matrix or vector: a's stack, contiguous, is one tall matrix */
    if (y->nd <= 2) {
        p->m *= p->count;
        p->count = 1;
        p->nb = 0;
    }
    return 0;
}

/* Every product of the plan into C, the batch axes walked as an odometer. */
static void run(const Plan *p, double *C, const double *A, const double *B)
{
    int64_t idx[DIAL_MAXDIM] = {0}, off[2] = {0, 0};
    for (int64_t i = 0; i < p->count; i++) {
        product(C + i * p->m * p->n, A + off[0], B + off[1], p->m, p->k, p->n);
        for (int t = p->nb - 1; t >= 0; t--) {
            off[0] += p->st[0][t];
            off[1] += p->st[1][t];
            if (++idx[t] < p->batch[t]) break;
            off[0] -= p->st[0][t] * p->batch[t];
            off[1] -= p->st[1][t] * p->batch[t];
            idx[t] = 0;
        }
    }
}

/* -- val_matmul -------------------------------------------------------------- */

static const Arr *owner_of(const Arr *a) { return a->base ? a->base : a; }

/* The array in *dst if the result may be written into it: writable, of the
 * result's shape, and sharing no data with an operand (the products read
 * the operands after writing part of the result). */
static Arr *reusable(const Value *dst, const Plan *p, const Arr *x, const Arr *y)
{
    if (dst->t != T_ARR) return NULL;
    Arr *r = dst->u.a;
    if (!arr_writable(r) || !arr_sameshape(r, p->nd, p->shape)) return NULL;
    if (owner_of(r) == owner_of(x) || owner_of(r) == owner_of(y)) return NULL;
    return r;
}

int val_matmul(Ctx *c, Value *dst, const Value *a, const Value *b)
{
    if ((a->t != T_NUM && a->t != T_ARR) || (b->t != T_NUM && b->t != T_ARR))
        return ctx_err(c, "unsupported operand types for @: %s and %s", val_typename(a),
                       val_typename(b));
    if (a->t == T_NUM || b->t == T_NUM)
        return ctx_err(c, "matmul: a number is not an array; use * to multiply by a number");
    const Arr *x = a->u.a, *y = b->u.a;
    Plan p;
    if (plan(c, x, y, &p)) return -1;
    if (p.nd == 0) { /* vector . vector */
        double r;
        product(&r, x->d, y->d, 1, p.k, 1);
        val_decref(c, dst);
        *dst = val_num(r);
        return 0;
    }
    Arr *r = reusable(dst, &p, x, y);
    Arr *fresh = r ? NULL : (r = arr_new(c, p.nd, p.shape));
    if (!r) return -1;
    run(&p, r->d, x->d, y->d);
    if (fresh) {
        val_decref(c, dst);
        *dst = val_arr(fresh);
    }
    return 0;
}

/* -- outer products ----------------------------------------------------------- */

/* The data and length of an operand of outer, flattened. */
static int flat(const Value *v, const double **d, int64_t *n)
{
    if (v->t == T_NUM) {
        *d = &v->u.n;
        *n = 1;
        return 0;
    }
    if (v->t != T_ARR) return -1;
    *d = v->u.a->d;
    *n = v->u.a->n;
    return 0;
}

int val_outer(Ctx *c, Value *dst, const Value *a, const Value *b, int add)
{
    const double *x, *y;
    int64_t shape[2];
    if (flat(a, &x, &shape[0]) || flat(b, &y, &shape[1]))
        return ctx_err(c, "outer: expected arrays or numbers, got %s and %s", val_typename(a),
                       val_typename(b));
    /* dst += outer(a, b) as a rank-1 update in place: the adjoint of W @ h
     * in a loop accumulates one per step */
    if (add && dst->t == T_ARR && arr_writable(dst->u.a) && arr_sameshape(dst->u.a, 2, shape) &&
        (a->t != T_ARR || owner_of(a->u.a) != owner_of(dst->u.a)) &&
        (b->t != T_ARR || owner_of(b->u.a) != owner_of(dst->u.a))) {
        for (int64_t i = 0; i < shape[0]; i++) axpy(dst->u.a->d + i * shape[1], x[i], y, shape[1]);
        return 0;
    }
    Arr *r = arr_new(c, 2, shape);
    if (!r) return -1;
    for (int64_t i = 0; i < shape[0]; i++)
        for (int64_t j = 0; j < shape[1]; j++) r->d[i * shape[1] + j] = x[i] * y[j];
    Value o = val_arr(r);
    if (!add) {
        val_decref(c, dst);
        *dst = o;
        return 0;
    }
    int rc = val_binary(c, BIN_ADD, dst, dst, &o);
    val_decref(c, &o);
    return rc;
}

/* The accumulator: a tuple (count, sum, X, Y) whose X and Y hold the last
 * count pushes' operands as rows (OUTER_BLOCK of them); the sum, made when
 * the first block is full, gets X' Y added per block. */
enum { OUTER_BLOCK = 64 };

static int outer_flush(Ctx *c, Tuple *t)
{
    int64_t k = (int64_t)t->v[0].u.n;
    const Arr *X = t->v[2].u.a, *Y = t->v[3].u.a;
    int64_t m = X->shape[1], n = Y->shape[1];
    if (t->v[1].t != T_ARR) {
        Arr *r = arr_full(c, 2, (int64_t[]){m, n}, 0);
        if (!r) return -1;
        t->v[1] = val_arr(r);
    }
    double *R = t->v[1].u.a->d;
#ifdef HAVE_CBLAS
    if (k && m && n)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0, X->d, (int)m,
                    Y->d, (int)n, 1.0, R, (int)n);
#else
    for (int64_t r = 0; r < k; r++)
        for (int64_t i = 0; i < m; i++) axpy(R + i * n, X->d[r * m + i], Y->d + r * n, n);
#endif
    t->v[0].u.n = 0;
    return 0;
}

int val_outer_push(Ctx *c, Value *acc, const Value *a, const Value *b)
{
    const double *x, *y;
    int64_t m, n;
    if (flat(a, &x, &m) || flat(b, &y, &n))
        return ctx_err(c, "outer: expected arrays or numbers, got %s and %s", val_typename(a),
                       val_typename(b));
    if (acc->t != T_TUPLE) {
        Tuple *t = tup_new(c, 4);
        if (!t) return -1;
        Value tv;
        tv.t = T_TUPLE;
        tv.u.tu = t;
        Arr *X = arr_new(c, 2, (int64_t[]){OUTER_BLOCK, m});
        Arr *Y = X ? arr_new(c, 2, (int64_t[]){OUTER_BLOCK, n}) : NULL;
        t->v[0] = val_num(0);
        if (X) t->v[2] = val_arr(X);
        if (Y) t->v[3] = val_arr(Y);
        if (!Y) {
            val_decref(c, &tv);
            return -1;
        }
        val_decref(c, acc);
        *acc = tv;
    }
    Tuple *t = acc->u.tu;
    if (t->v[2].u.a->shape[1] != m || t->v[3].u.a->shape[1] != n)
        return ctx_err(c, "internal error: outer products of different shapes accumulated");
    int64_t k = (int64_t)t->v[0].u.n;
    memcpy(t->v[2].u.a->d + k * m, x, (size_t)m * sizeof *x);
    memcpy(t->v[3].u.a->d + k * n, y, (size_t)n * sizeof *y);
    t->v[0].u.n = (double)(k + 1);
    return k + 1 == OUTER_BLOCK ? outer_flush(c, t) : 0;
}

int val_outer_sum(Ctx *c, const Value *acc, Value *out)
{
    if (acc->t != T_TUPLE) {
        *out = val_num(0);
        return 0;
    }
    Tuple *t = acc->u.tu;
    if (outer_flush(c, t)) return -1;
    val_incref(&t->v[1]);
    *out = t->v[1];
    return 0;
}
