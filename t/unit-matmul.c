/* unit-matmul.c: TAP test of `@` (val_matmul, src/matmul.c) against a
 * naive reference written from NumPy's definition of matmul: every rank
 * combination, batch broadcasting, odd and empty sizes, errors, results
 * that alias operands, and memory accounting. It runs on whichever kernel
 * the build has (CBLAS or the C fallback): products of small integers are
 * exact in any summation order and compared exactly; others are compared
 * within the error bound of an arbitrary summation order. Exits 1 if any
 * test fails. */
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "array.h"

#include "tap.h"

static const char *shape_str(char *buf, size_t len, int nd, const int64_t *shape)
{
    Sbuf b;
    sb_init(&b);
    fmt_shape(&b, nd, shape);
    snprintf(buf, len, "%s", sb_str(&b));
    sb_free(&b);
    return buf;
}

/* -- operands --------------------------------------------------------------- */

enum { INTS, REALS };

/* An array of the given shape: small integers (every product sum exact)
 * or irregular reals, varied by seed. */
static Value mk(Ctx *c, int nd, const int64_t *shape, int kind, int seed)
{
    Arr *a = arr_new(c, nd, shape);
    for (int64_t i = 0; i < a->n; i++)
        a->d[i] = kind == INTS ? (double)((i * 7 + seed * 3) % 11 - 5) : sin(0.37 * (double)i + seed);
    return val_arr(a);
}

/* -- the reference ------------------------------------------------------------ */

/* NumPy's matmul, element by element: a 1-d left operand is (1, k), a 1-d
 * right one (k, 1), batch axes broadcast from the right. want gets the
 * result, bound the error bound of any summation order (k+2 roundings of
 * sum |x y|, plus underflow slack). Returns the element count. */
static int64_t reference(const Arr *x, const Arr *y, double *want, double *bound)
{
    int64_t m = x->nd >= 2 ? x->shape[x->nd - 2] : 1, k = x->shape[x->nd - 1];
    int64_t n = y->nd >= 2 ? y->shape[y->nd - 1] : 1;
    int xb = x->nd > 2 ? x->nd - 2 : 0, yb = y->nd > 2 ? y->nd - 2 : 0;
    int nb = xb > yb ? xb : yb;
    int64_t batch[DIAL_MAXDIM], xe[DIAL_MAXDIM], ye[DIAL_MAXDIM], count = 1;
    for (int t = 0; t < nb; t++) {
        xe[t] = t - (nb - xb) >= 0 ? x->shape[t - (nb - xb)] : 1;
        ye[t] = t - (nb - yb) >= 0 ? y->shape[t - (nb - yb)] : 1;
        batch[t] = xe[t] == 1 ? ye[t] : xe[t];
        count *= batch[t];
    }
    int64_t r = 0;
    for (int64_t bi = 0; bi < count; bi++) {
        /* the batch index of bi, and each operand's matrix number */
        int64_t rest = bi, xm = 0, ym = 0, xs = 1, ys = 1;
        for (int t = nb - 1; t >= 0; t--) {
            int64_t it = rest % batch[t];
            rest /= batch[t];
            xm += (xe[t] == 1 ? 0 : it) * xs;
            ym += (ye[t] == 1 ? 0 : it) * ys;
            xs *= xe[t];
            ys *= ye[t];
        }
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++, r++) {
                long double s = 0, a = 0;
                for (int64_t p = 0; p < k; p++) {
                    double u = x->d[(xm * m + i) * k + p], v = y->d[(ym * k + p) * n + j];
                    s += (long double)u * v;
                    a += fabsl((long double)u * v);
                }
                want[r] = (double)s;
                bound[r] = (double)((k + 2) * 2.3e-16L * a) + 1e-300;
            }
    }
    return r;
}

/* x @ y has shape `shape` (nd 0: a number) and matches the reference:
 * exactly for INTS, within the bound for REALS. */
static void check(Ctx *c, int nd1, const int64_t *s1, int nd2, const int64_t *s2, int nd,
                  const int64_t *shape, int kind)
{
    char t1[200], t2[200];
    shape_str(t1, sizeof t1, nd1, s1);
    shape_str(t2, sizeof t2, nd2, s2);
    Value x = mk(c, nd1, s1, kind, 1), y = mk(c, nd2, s2, kind, 2), r = val_nil();
    const char *what = kind == INTS ? "integers, exact" : "reals";
    if (val_matmul(c, &r, &x, &y)) {
        ok(0, "%s @ %s (%s): error %s", t1, t2, what, c->msg);
    } else if (nd == 0 ? r.t != T_NUM : r.t != T_ARR || !arr_sameshape(r.u.a, nd, shape)) {
        char t3[200];
        ok(0, "%s @ %s: shape %s expected", t1, t2, shape_str(t3, sizeof t3, nd, shape));
    } else {
        const double *got = r.t == T_NUM ? &r.u.n : r.u.a->d;
        int64_t cnt = r.t == T_NUM ? 1 : r.u.a->n;
        double want[20000], bound[20000];
        int64_t nref = reference(x.u.a, y.u.a, want, bound);
        int64_t bad = -1;
        for (int64_t i = 0; i < cnt && bad < 0; i++)
            if (kind == INTS ? got[i] != want[i] : !(fabs(got[i] - want[i]) <= bound[i])) bad = i;
        if (!ok(nref == cnt && bad < 0, "%s @ %s (%s)", t1, t2, what) && bad >= 0)
            printf("#   element %lld: got %.17g, want %.17g\n", (long long)bad, got[bad], want[bad]);
    }
    val_decref(c, &x);
    val_decref(c, &y);
    val_decref(c, &r);
}

/* -- the four 1-d and 2-d cases ------------------------------------------------ */

static void test_ranks(Ctx *c)
{
    const int64_t sizes[] = {1, 7, 65, 130};
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) {
            int64_t m = sizes[a], k = sizes[b];
            check(c, 1, &k, 1, &k, 0, NULL, INTS);
            check(c, 1, &k, 1, &k, 0, NULL, REALS);
            check(c, 2, (int64_t[]){m, k}, 1, &k, 1, &m, INTS);
            check(c, 2, (int64_t[]){m, k}, 1, &k, 1, &m, REALS);
            check(c, 1, &k, 2, (int64_t[]){k, m}, 1, &m, INTS);
            check(c, 1, &k, 2, (int64_t[]){k, m}, 1, &m, REALS);
            for (int e = 0; e < 4; e++) {
                int64_t n = sizes[e];
                check(c, 2, (int64_t[]){m, k}, 2, (int64_t[]){k, n}, 2, (int64_t[]){m, n}, REALS);
            }
            check(c, 2, (int64_t[]){m, k}, 2, (int64_t[]){k, m}, 2, (int64_t[]){m, m}, INTS);
        }
    /* past one KC x NC block of the C kernel along every axis */
    check(c, 2, (int64_t[]){3, 300}, 2, (int64_t[]){300, 520}, 2, (int64_t[]){3, 520}, INTS);
    check(c, 2, (int64_t[]){5, 300}, 2, (int64_t[]){300, 520}, 2, (int64_t[]){5, 520}, REALS);
}

static void test_empty(Ctx *c)
{
    int64_t z = 0;
    check(c, 1, &z, 1, &z, 0, NULL, INTS); /* the empty sum: 0 */
    check(c, 2, (int64_t[]){3, 0}, 1, &z, 1, (int64_t[]){3}, INTS);
    check(c, 1, &z, 2, (int64_t[]){0, 4}, 1, (int64_t[]){4}, INTS);
    check(c, 2, (int64_t[]){3, 0}, 2, (int64_t[]){0, 4}, 2, (int64_t[]){3, 4}, INTS);
    check(c, 2, (int64_t[]){0, 5}, 2, (int64_t[]){5, 4}, 2, (int64_t[]){0, 4}, INTS);
    check(c, 2, (int64_t[]){3, 5}, 2, (int64_t[]){5, 0}, 2, (int64_t[]){3, 0}, INTS);
    check(c, 2, (int64_t[]){0, 5}, 1, (int64_t[]){5}, 1, &z, INTS);
    check(c, 3, (int64_t[]){0, 2, 3}, 2, (int64_t[]){3, 4}, 3, (int64_t[]){0, 2, 4}, INTS);
    check(c, 3, (int64_t[]){2, 3, 0}, 3, (int64_t[]){1, 0, 4}, 3, (int64_t[]){2, 3, 4}, INTS);
    check(c, 2, (int64_t[]){2, 3}, 3, (int64_t[]){0, 3, 4}, 3, (int64_t[]){0, 2, 4}, INTS);
    /* (2^20, 1, 0, 3) @ (1, 2^20, 3, 0): 2^40 products of nothing, done at once */
    Value x = val_arr(arr_new(c, 4, (int64_t[]){1 << 20, 1, 0, 3}));
    Value y = val_arr(arr_new(c, 4, (int64_t[]){1, 1 << 20, 3, 0})), r = val_nil();
    clock_t t0 = clock();
    int rc = val_matmul(c, &r, &x, &y);
    if (!ok(rc == 0 && r.t == T_ARR && r.u.a->n == 0 && r.u.a->nd == 4 &&
                r.u.a->shape[1] == 1 << 20 && clock() - t0 < CLOCKS_PER_SEC,
            "an empty result over 2^40 batches returns at once"))
        printf("#   rc %d: %s\n", rc, c->msg);
    val_decref(c, &x);
    val_decref(c, &y);
    val_decref(c, &r);
    /* empty operands whose extents multiply past int64 */
    int64_t big = (int64_t)1 << 40;
    x = val_arr(arr_new(c, 3, (int64_t[]){0, big, big}));
    y = val_arr(arr_new(c, 3, (int64_t[]){1, big, 0}));
    rc = val_matmul(c, &r, &x, &y);
    ok(rc == 0 && r.t == T_ARR && r.u.a->n == 0 && r.u.a->shape[1] == big,
       "(0, 2^40, 2^40) @ (1, 2^40, 0) is empty");
    val_decref(c, &x);
    val_decref(c, &y);
    val_decref(c, &r);
    x = val_arr(arr_new(c, 4, (int64_t[]){big, 1, 0, 0}));
    y = val_arr(arr_new(c, 3, (int64_t[]){big, 0, 5}));
    rc = val_matmul(c, &r, &x, &y);
    if (!ok(rc == -1 && r.t == T_NIL &&
                strcmp(c->msg, "array too large: shape (1099511627776, 1099511627776, 0, 5)") == 0,
            "batches broadcast past any size: an error"))
        printf("#   rc %d: %s\n", rc, c->msg);
    val_decref(c, &x);
    val_decref(c, &y);
}

/* -- stacks of matrices ------------------------------------------------------------ */

static void test_batch(Ctx *c)
{
    for (int kind = INTS; kind <= REALS; kind++) {
        /* one operand a stack, the other one matrix or vector */
        check(c, 3, (int64_t[]){4, 7, 5}, 2, (int64_t[]){5, 3}, 3, (int64_t[]){4, 7, 3}, kind);
        check(c, 3, (int64_t[]){4, 7, 5}, 1, (int64_t[]){5}, 2, (int64_t[]){4, 7}, kind);
        check(c, 2, (int64_t[]){7, 5}, 3, (int64_t[]){4, 5, 3}, 3, (int64_t[]){4, 7, 3}, kind);
        check(c, 1, (int64_t[]){5}, 3, (int64_t[]){4, 5, 3}, 2, (int64_t[]){4, 3}, kind);
        /* two stacks, same and broadcast batch axes */
        check(c, 3, (int64_t[]){4, 7, 5}, 3, (int64_t[]){4, 5, 3}, 3, (int64_t[]){4, 7, 3}, kind);
        check(c, 3, (int64_t[]){1, 7, 5}, 3, (int64_t[]){4, 5, 3}, 3, (int64_t[]){4, 7, 3}, kind);
        check(c, 3, (int64_t[]){4, 7, 5}, 3, (int64_t[]){1, 5, 3}, 3, (int64_t[]){4, 7, 3}, kind);
        check(c, 4, (int64_t[]){2, 1, 7, 5}, 3, (int64_t[]){3, 5, 6}, 4,
              (int64_t[]){2, 3, 7, 6}, kind);
        check(c, 4, (int64_t[]){2, 1, 7, 5}, 4, (int64_t[]){1, 3, 5, 6}, 4,
              (int64_t[]){2, 3, 7, 6}, kind);
        check(c, 5, (int64_t[]){2, 1, 3, 1, 5}, 4, (int64_t[]){4, 1, 5, 65}, 5,
              (int64_t[]){2, 4, 3, 1, 65}, kind);
        /* odd sizes inside a batch */
        check(c, 3, (int64_t[]){3, 65, 130}, 3, (int64_t[]){3, 130, 7}, 3,
              (int64_t[]){3, 65, 7}, kind);
        check(c, 3, (int64_t[]){2, 1, 65}, 3, (int64_t[]){2, 65, 1}, 3, (int64_t[]){2, 1, 1},
              kind);
    }
}

/* -- errors -------------------------------------------------------------------- */

static void err_is(Ctx *c, int nd1, const int64_t *s1, int nd2, const int64_t *s2,
                   const char *want)
{
    Value x = mk(c, nd1, s1, INTS, 0), y = mk(c, nd2, s2, INTS, 0), r = val_nil();
    int rc = val_matmul(c, &r, &x, &y);
    if (!ok(rc == -1 && r.t == T_NIL && strcmp(c->msg, want) == 0, "error '%s'", want))
        printf("#   rc %d, got: %s\n", rc, c->msg);
    val_decref(c, &x);
    val_decref(c, &y);
    val_decref(c, &r);
}

static void test_errors(Ctx *c)
{
    err_is(c, 1, (int64_t[]){2}, 1, (int64_t[]){3}, "matmul: shapes (2,) and (3,) are not aligned");
    err_is(c, 2, (int64_t[]){2, 3}, 1, (int64_t[]){4},
           "matmul: shapes (2, 3) and (4,) are not aligned");
    err_is(c, 2, (int64_t[]){2, 3}, 2, (int64_t[]){2, 3},
           "matmul: shapes (2, 3) and (2, 3) are not aligned");
    err_is(c, 1, (int64_t[]){3}, 2, (int64_t[]){2, 3},
           "matmul: shapes (3,) and (2, 3) are not aligned");
    err_is(c, 3, (int64_t[]){4, 2, 3}, 3, (int64_t[]){4, 2, 3},
           "matmul: shapes (4, 2, 3) and (4, 2, 3) are not aligned");
    err_is(c, 3, (int64_t[]){2, 2, 3}, 3, (int64_t[]){3, 3, 2},
           "matmul: shapes (2, 2, 3) and (3, 3, 2) could not be broadcast together over their batch axes");
    err_is(c, 4, (int64_t[]){2, 3, 2, 3}, 3, (int64_t[]){4, 3, 2},
           "matmul: shapes (2, 3, 2, 3) and (4, 3, 2) could not be broadcast together over their batch axes");
}

static void test_operand_types(Ctx *c)
{
    Value v = mk(c, 1, (int64_t[]){2}, INTS, 0), two = val_num(2), r = val_nil();
    Value s = {T_STR, {.s = str_new(c, "s", 1)}};
    const char *num = "matmul: a number is not an array; use * to multiply by a number";
    ok(val_matmul(c, &r, &two, &v) == -1 && strcmp(c->msg, num) == 0, "number @ array: %s", num);
    ok(val_matmul(c, &r, &v, &two) == -1 && strcmp(c->msg, num) == 0, "array @ number");
    ok(val_matmul(c, &r, &two, &two) == -1 && strcmp(c->msg, num) == 0, "number @ number");
    ok(val_matmul(c, &r, &s, &v) == -1 &&
           strcmp(c->msg, "unsupported operand types for @: string and array") == 0,
       "string @ array: %s", c->msg);
    ok(r.t == T_NIL, "a failed @ leaves dst alone");
    val_decref(c, &v);
    val_decref(c, &s);
}

/* -- results and operands sharing data ------------------------------------------- */

static void test_alias(Ctx *c)
{
    /* m = m @ m: dst holds both operands */
    Value M = mk(c, 2, (int64_t[]){2, 2}, INTS, 0); /* [[-5, 2], [-2, 5]] */
    Arr *ma = M.u.a;
    ok(val_matmul(c, &M, &M, &M) == 0 && M.u.a != ma && M.u.a->d[0] == 21 &&
           M.u.a->d[1] == 0 && M.u.a->d[2] == 0 && M.u.a->d[3] == 21,
       "m = m @ m reads m whole and writes a new array");
    /* a writable dst of another array with the result's shape is reused,
     * whatever it held */
    Value D = val_arr(arr_full(c, 2, (int64_t[]){2, 2}, NAN));
    Arr *da = D.u.a;
    size_t nalloc = c->nalloc;
    ok(val_matmul(c, &D, &M, &M) == 0 && D.u.a == da && c->nalloc == nalloc &&
           D.u.a->d[0] == 441 && D.u.a->d[1] == 0 && D.u.a->d[3] == 441,
       "an unrelated dst is reused (NaNs it held do not leak in)");
    Value v = val_arr(arr_full(c, 1, (int64_t[]){2}, NAN)), w = mk(c, 1, (int64_t[]){2}, INTS, 4);
    Arr *va = v.u.a;
    ok(val_matmul(c, &v, &M, &w) == 0 && v.u.a == va && !isnan(v.u.a->d[0]) &&
           !isnan(v.u.a->d[1]),
       "a reused vector dst (gemv) starts clean");
    ok(val_matmul(c, &v, &w, &M) == 0 && v.u.a == va && !isnan(v.u.a->d[0]),
       "a reused vector dst (vector @ matrix) starts clean");
    /* v = v @ v with v a view, writable once nothing else holds its owner */
    Value big = mk(c, 2, (int64_t[]){4, 2}, INTS, 1), want = val_nil();
    Value T = val_arr(arr_view(c, big.u.a, big.u.a->d, 2, (int64_t[]){2, 2}));
    val_matmul(c, &want, &T, &T);
    val_decref(c, &big); /* the view is left the only holder of its data */
    Arr *top = T.u.a;
    ok(arr_writable(top) && val_matmul(c, &T, &T, &T) == 0 && T.u.a != top &&
           memcmp(T.u.a->d, want.u.a->d, 4 * sizeof(double)) == 0,
       "v = v @ v with v a writable view writes a new array");
    /* operands that are views at an offset */
    big = mk(c, 2, (int64_t[]){4, 2}, INTS, 1);
    Value tail = val_arr(arr_view(c, big.u.a, big.u.a->d + 4, 2, (int64_t[]){2, 2})), r = val_nil();
    val_matmul(c, &r, &tail, &tail);
    const double *t = tail.u.a->d;
    ok(r.u.a->d[0] == t[0] * t[0] + t[1] * t[2] && r.u.a->d[3] == t[2] * t[1] + t[3] * t[3],
       "views at an offset as operands");
    Value vals[] = {M, D, v, w, big, want, T, tail, r};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) val_decref(c, &vals[i]);
}

/* -- special values and limits ---------------------------------------------------- */

static void test_values(Ctx *c)
{
    Value A = mk(c, 2, (int64_t[]){3, 2}, INTS, 0), B = mk(c, 2, (int64_t[]){2, 3}, INTS, 1),
          r = val_nil();
    A.u.a->d[0] = NAN; /* row 0 */
    A.u.a->d[3] = INFINITY; /* row 1 */
    val_matmul(c, &r, &A, &B);
    int row0 = 1, row2 = 1;
    for (int j = 0; j < 3; j++) {
        row0 &= isnan(r.u.a->d[j]);
        row2 &= isfinite(r.u.a->d[6 + j]);
    }
    ok(row0 && row2 && !isfinite(r.u.a->d[3]), "NaN and inf stay in their rows");
    /* the result over the memory limit: an error, nothing held */
    Value x = val_arr(arr_full(c, 2, (int64_t[]){1, 1}, 1));
    Value y = val_arr(arr_full(c, 2, (int64_t[]){1, 100}, 1)), big = val_nil();
    size_t limit = c->limit;
    c->limit = c->bytes + 100;
    int rc = val_matmul(c, &big, &x, &y);
    c->limit = limit;
    ok(rc == -1 && big.t == T_NIL && strncmp(c->msg, "memory limit exceeded", 21) == 0,
       "a result over the memory limit is an error: %s", c->msg);
    Value vals[] = {A, B, r, x, y};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) val_decref(c, &vals[i]);
}

int main(void)
{
    Ctx c;
    memset(&c, 0, sizeof c);
    c.out = stdout;
#ifdef HAVE_CBLAS
    printf("# kernel: CBLAS\n");
#else
    printf("# kernel: C fallback\n");
#endif
    test_ranks(&c);
    test_empty(&c);
    test_batch(&c);
    test_errors(&c);
    test_operand_types(&c);
    test_alias(&c);
    test_values(&c);
    ok(c.bytes == 0, "every byte is released (%zu left)", c.bytes);
    ctx_release(&c);            /* the blocks kept for reuse */
    printf("1..%d\n", ntest);
    return nfail ? 1 : 0;
}
