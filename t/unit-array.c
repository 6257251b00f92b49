/* unit-array.c: TAP test of the array core (array.c), value text
 * (format.c) and the builtins (builtins.c), without the VM. Exits 1 if any
 * test fails. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "builtins.h"

static int ntest, nfail;

static int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ok(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%sok %d - ", cond ? "" : "not ", ++ntest);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!cond) nfail++;
    return cond;
}

/* -- helpers -------------------------------------------------------------- */

static Value mk(Ctx *c, int nd, const int64_t *shape, const double *d)
{
    Arr *a = arr_new(c, nd, shape);
    if (d) memcpy(a->d, d, (size_t)a->n * sizeof *d);
    return val_arr(a);
}

/* 0, 1, 2, ... in the given shape */
static Value iota(Ctx *c, int nd, const int64_t *shape)
{
    Value v = mk(c, nd, shape, NULL);
    for (int64_t i = 0; i < v.u.a->n; i++) v.u.a->d[i] = (double)i;
    return v;
}

static Value vec(Ctx *c, int n, const double *d)
{
    int64_t s = n;
    return mk(c, 1, &s, d);
}

static Value str(Ctx *c, const char *s) { Value v; v.t = T_STR; v.u.s = str_new(c, s, strlen(s)); return v; }

/* print's text of v on one line, to compare values: the line breaks and
 * the column padding of arrays of 2 or more dimensions are squeezed out,
 * so `[[ 1, 20],\n [30,  4]]` reads `[[1, 20], [30, 4]]`. (test_fmt_value
 * checks the layout itself with layout_is.) */
static void one_line(char *s)
{
    char *o = s;
    for (const char *p = s; *p; p++) {
        char ch = *p == '\n' ? ' ' : *p;
        if (ch == ' ' && o > s && (o[-1] == ' ' || o[-1] == '[')) continue;
        *o++ = ch;
    }
    *o = '\0';
}

static int text_is(const Value *v, const char *want, const char *what)
{
    Sbuf b;
    sb_init(&b);
    fmt_value(&b, v);
    if (b.s) one_line(b.s);
    int r = ok(strcmp(sb_str(&b), want) == 0, "%s: %s", what, want);
    if (!r) printf("#   got:  %s\n#   want: %s\n", sb_str(&b), want);
    sb_free(&b);
    return r;
}

/* print's exact text of v, after the text `before` (a tuple or print's
 * earlier arguments put the array's `[` at that column). */
static int layout_is(const char *before, const Value *v, const char *want, const char *what)
{
    Sbuf b;
    sb_init(&b);
    sb_puts(&b, before);
    fmt_value(&b, v);
    int r = ok(strcmp(sb_str(&b), want) == 0, "layout: %s", what);
    if (!r) printf("# got:\n%s\n# want:\n%s\n", sb_str(&b), want);
    sb_free(&b);
    return r;
}

static int err_is(Ctx *c, int rc, const char *want, const char *what)
{
    int r = ok(rc == -1 && strcmp(c->msg, want) == 0, "%s: error '%s'", what, want);
    if (!r) printf("#   rc %d, got: %s\n", rc, c->msg);
    return r;
}

static int call(Ctx *c, const char *name, const Value *args, int n, Value *out)
{
    int i = builtin_find(name);
    if (i < 0) return ctx_err(c, "no builtin %s", name);
    *out = val_nil();
    return builtins[i].fn(c, args, n, out);
}

/* The builtin's result is printed as want; the result is released. */
static void call_is(Ctx *c, const char *name, const Value *args, int n, const char *want,
                    const char *what)
{
    Value r;
    if (call(c, name, args, n, &r)) {
        ok(0, "%s: %s (error: %s)", what, want, c->msg);
        return;
    }
    text_is(&r, want, what);
    val_decref(c, &r);
}

static void call_err(Ctx *c, const char *name, const Value *args, int n, const char *want,
                     const char *what)
{
    Value r = val_nil();
    int rc = call(c, name, args, n, &r);
    err_is(c, rc, want, what);
    val_decref(c, &r);
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static Idx I(double i) { Idx x = {0}; x.i = i; return x; }
static Idx S(int hs, double s, int he, double e, int hp, double p)
{
    Idx x = {0};
    x.slice = 1;
    x.has_start = (unsigned char)hs, x.start = s;
    x.has_stop = (unsigned char)he, x.stop = e;
    x.has_step = (unsigned char)hp, x.step = p;
    return x;
}
static const Idx ALL = {1, 0, 0, 0, 0, 0, 0, 0};

static void index_is(Ctx *c, const Value *t, const Idx *ix, int n, const char *want,
                     const char *what)
{
    Value r = val_nil();
    if (val_index(c, &r, t, ix, n)) ok(0, "%s (error: %s)", what, c->msg);
    else text_is(&r, want, what);
    val_decref(c, &r);
}

static void index_err(Ctx *c, const Value *t, const Idx *ix, int n, const char *want,
                      const char *what)
{
    Value r = val_nil();
    err_is(c, val_index(c, &r, t, ix, n), want, what);
    val_decref(c, &r);
}

/* -- allocation, refcounts, views -------------------------------------------- */

static void test_alloc(Ctx *c)
{
    size_t before = c->bytes;
    int64_t sh[2] = {3, 4};
    Arr *a = arr_new(c, 2, sh);
    ok(a && a->rc == 1 && a->n == 12 && !a->base && a->d == (double *)(a + 1),
       "arr_new: rc 1, 12 elements inline");
    ok(c->bytes - before == sizeof(Arr) + 12 * sizeof(double), "arr_new accounts header + data");
    int64_t vs[1] = {4};
    Arr *v = arr_view(c, a, a->d + 4, 1, vs);
    ok(v && v->base == a && a->rc == 2 && v->d == a->d + 4, "arr_view refers to its base");
    ok(!arr_writable(a) && !arr_writable(v), "owner and view are shared, not writable");
    int64_t ws[1] = {2};
    Arr *w = arr_view(c, v, v->d + 1, 1, ws);
    ok(w->base == a && a->rc == 3, "a view of a view refers to the owner");
    arr_decref(c, w);
    arr_decref(c, v);
    ok(a->rc == 1 && arr_writable(a), "releasing views releases the base");
    Arr *cp = arr_copy(c, a);
    ok(cp && cp != a && cp->n == 12 && arr_sameshape(cp, 2, sh), "arr_copy: same shape, new owner");
    arr_decref(c, cp);
    Arr *f = arr_full(c, 2, sh, 2.5);
    int all = 1;
    for (int i = 0; i < 12; i++) all &= f->d[i] == 2.5;
    ok(all, "arr_full fills");
    arr_decref(c, f);
    /* a view of an owner only the view holds is writable */
    Arr *u = arr_view(c, a, a->d, 1, vs);
    arr_decref(c, a);
    ok(u->base->rc == 1 && u->rc == 1 && arr_writable(u), "a view that alone holds its base is writable");
    arr_decref(c, u);
    ok(c->bytes == before, "bytes return to where they were");
}

static void test_checkshape(Ctx *c)
{
    int64_t s1[2] = {2, -3};
    err_is(c, (int)arr_checkshape(c, 2, s1), "negative dimension -3", "checkshape negative");
    int64_t s2[17] = {0};
    for (int i = 0; i < 17; i++) s2[i] = 1;
    err_is(c, (int)arr_checkshape(c, 17, s2), "too many dimensions (17, max 16)",
           "checkshape 17 dims");
    int64_t s3[3] = {100000, 100000, 100000};
    err_is(c, (int)arr_checkshape(c, 3, s3), "array too large: shape (100000, 100000, 100000)",
           "checkshape overflow");
    int64_t s4[4] = {1 << 30, 1 << 30, 1 << 30, 1 << 30};
    err_is(c, (int)arr_checkshape(c, 4, s4),
           "array too large: shape (1073741824, 1073741824, 1073741824, 1073741824)",
           "checkshape product past int64");
    int64_t s5[2] = {0, (int64_t)1 << 50};
    ok(arr_checkshape(c, 2, s5) == -1, "checkshape: a huge extent next to 0 is rejected too");
    int64_t s6[3] = {2, 0, 5};
    ok(arr_checkshape(c, 3, s6) == 0, "checkshape: zero size");
    ok(arr_checkshape(c, 0, s6) == 1, "checkshape: no dims is one element");
    size_t before = c->bytes;
    ok(arr_new(c, 3, s3) == NULL && c->bytes == before, "arr_new of a huge shape allocates nothing");
}

static void test_memlimit(Ctx *c)
{
    size_t before = c->bytes;
    c->limit = before + 4096;
    int64_t n = 1000;
    Arr *a = arr_new(c, 1, &n);
    ok(a == NULL && strncmp(c->msg, "memory limit exceeded", 21) == 0,
       "memory limit: arr_new fails with a message");
    Value args[1] = {val_num(1000)}, out = val_nil();
    int rc = call(c, "zeros", args, 1, &out);
    ok(rc == -1 && strncmp(c->msg, "memory limit exceeded", 21) == 0,
       "memory limit: zeros fails with the allocator's message");
    Value x = vec(c, 100, NULL);
    Value y = val_nil();
    memset(x.u.a->d, 0, 100 * sizeof(double));
    c->limit = c->bytes + 100;
    rc = val_binary(c, BIN_ADD, &y, &x, &x);
    ok(rc == -1 && y.t == T_NIL, "memory limit: val_binary fails and leaves dst alone");
    c->limit = 0;
    val_decref(c, &x);
    ok(c->bytes == before, "memory limit: nothing leaked");
}

/* -- elementwise ------------------------------------------------------------- */

static const double special[] = {0, -0.0, 1, -1, 2.5, -3.75, 0.1, 1e300, -1e-300, 7,
                                 -7, 3, NAN, INFINITY, -INFINITY, 0.5, 2, 10, -2};
#define NSPECIAL ((int)(sizeof special / sizeof special[0]))

static void test_binary_ops(Ctx *c)
{
    /* every pair of special values, as same-shape arrays, array with scalar
     * and scalar with array, must equal num_binop bit for bit */
    int n = NSPECIAL * NSPECIAL;
    double *xs = malloc(sizeof(double) * (size_t)n), *ys = malloc(sizeof(double) * (size_t)n);
    for (int i = 0; i < NSPECIAL; i++)
        for (int j = 0; j < NSPECIAL; j++) {
            xs[i * NSPECIAL + j] = special[i];
            ys[i * NSPECIAL + j] = special[j];
        }
    Value x = vec(c, n, xs), y = vec(c, n, ys);
    for (int op = 0; op < BIN__N; op++) {
        Value r = val_nil();
        int good = val_binary(c, op, &r, &x, &y) == 0 && r.t == T_ARR && r.u.a->n == n;
        for (int i = 0; good && i < n; i++)
            good &= same_bits(r.u.a->d[i], num_binop(op, xs[i], ys[i]));
        ok(good, "%s: array op array equals num_binop", prim_binname[op]);
        int good2 = 1, good3 = 1, good4 = 1;
        for (int j = 0; j < NSPECIAL; j++) {
            Value s = val_num(special[j]);
            good2 &= val_binary(c, op, &r, &x, &s) == 0;
            for (int i = 0; good2 && i < n; i++)
                good2 &= same_bits(r.u.a->d[i], num_binop(op, xs[i], special[j]));
            good3 &= val_binary(c, op, &r, &s, &x) == 0;
            for (int i = 0; good3 && i < n; i++)
                good3 &= same_bits(r.u.a->d[i], num_binop(op, special[j], xs[i]));
            Value t = val_nil();
            for (int i = 0; i < NSPECIAL; i++) {
                Value u = val_num(special[i]);
                good4 &= val_binary(c, op, &t, &u, &s) == 0 && t.t == T_NUM &&
                         same_bits(t.u.n, num_binop(op, special[i], special[j]));
            }
        }
        ok(good2, "%s: array op number equals num_binop", prim_binname[op]);
        ok(good3, "%s: number op array equals num_binop", prim_binname[op]);
        ok(good4, "%s: number op number is a number equal to num_binop", prim_binname[op]);
        /* broadcast (n/19, 19) with (19,) */
        int64_t sh[2] = {NSPECIAL, NSPECIAL};
        Value x2 = mk(c, 2, sh, xs), row = vec(c, NSPECIAL, special);
        int good5 = val_binary(c, op, &r, &x2, &row) == 0 && r.u.a->nd == 2;
        for (int i = 0; good5 && i < n; i++)
            good5 &= same_bits(r.u.a->d[i], num_binop(op, xs[i], special[i % NSPECIAL]));
        ok(good5, "%s: broadcast (19, 19) op (19,) equals num_binop", prim_binname[op]);
        val_decref(c, &x2);
        val_decref(c, &row);
        val_decref(c, &r);
    }
    val_decref(c, &x);
    val_decref(c, &y);
    free(xs);
    free(ys);
}

static void test_unary_ops(Ctx *c)
{
    double xs[NSPECIAL + 4];
    for (int i = 0; i < NSPECIAL; i++) xs[i] = special[i];
    xs[NSPECIAL] = 0.7, xs[NSPECIAL + 1] = -0.3, xs[NSPECIAL + 2] = 1.5, xs[NSPECIAL + 3] = -2.5;
    int n = NSPECIAL + 4;
    Value x = vec(c, n, xs);
    for (int op = 0; op < UN__N; op++) {
        Value r = val_nil();
        int good = val_unary(c, op, &r, &x) == 0 && r.t == T_ARR && r.u.a->n == n;
        for (int i = 0; good && i < n; i++) good &= same_bits(r.u.a->d[i], num_unop(op, xs[i]));
        ok(good, "%s: array equals num_unop", prim_unname[op]);
        Value t = val_nil();
        int good2 = 1;
        for (int i = 0; i < n; i++) {
            Value s = val_num(xs[i]);
            good2 &= val_unary(c, op, &t, &s) == 0 && t.t == T_NUM &&
                     same_bits(t.u.n, num_unop(op, xs[i]));
        }
        ok(good2, "%s: number gives a number equal to num_unop", prim_unname[op]);
        val_decref(c, &r);
    }
    val_decref(c, &x);
}

static void test_broadcast(Ctx *c)
{
    int64_t s23[2] = {2, 3}, s21[2] = {2, 1}, s13[2] = {1, 3}, s3[1] = {3}, s4[1] = {4};
    Value a = iota(c, 2, s23), col = iota(c, 2, s21), row = iota(c, 2, s13), v3 = iota(c, 1, s3),
          v4 = iota(c, 1, s4), r = val_nil();
    val_binary(c, BIN_ADD, &r, &a, &v3);
    text_is(&r, "[[0, 2, 4], [3, 5, 7]]", "(2, 3) + (3,)");
    val_binary(c, BIN_ADD, &r, &col, &row);
    text_is(&r, "[[0, 1, 2], [1, 2, 3]]", "(2, 1) + (1, 3)");
    val_binary(c, BIN_SUB, &r, &row, &col);
    text_is(&r, "[[0, 1, 2], [-1, 0, 1]]", "(1, 3) - (2, 1)");
    val_binary(c, BIN_MUL, &r, &a, &col);
    text_is(&r, "[[0, 0, 0], [3, 4, 5]]", "(2, 3) * (2, 1)");
    Value ten = val_num(10);
    val_binary(c, BIN_SUB, &r, &ten, &a);
    text_is(&r, "[[10, 9, 8], [7, 6, 5]]", "number - (2, 3)");
    err_is(c, val_binary(c, BIN_ADD, &r, &a, &v4),
           "operands could not be broadcast together with shapes (2, 3) (4,)", "broadcast error");
    int64_t s03[2] = {0, 3}, s20[2] = {2, 0}, s1[1] = {1};
    Value e03 = iota(c, 2, s03), e20 = iota(c, 2, s20), one = iota(c, 1, s1);
    val_binary(c, BIN_ADD, &r, &e03, &v3);
    ok(r.t == T_ARR && r.u.a->nd == 2 && r.u.a->shape[0] == 0 && r.u.a->shape[1] == 3,
       "(0, 3) + (3,) is (0, 3)");
    val_binary(c, BIN_ADD, &r, &e20, &one);
    text_is(&r, "[[], []]", "(2, 0) + (1,) is (2, 0)");
    err_is(c, val_binary(c, BIN_ADD, &r, &e03, &v4),
           "operands could not be broadcast together with shapes (0, 3) (4,)",
           "0-size broadcast error");
    /* a 3-d broadcast that cannot be flattened: (2, 1, 3) + (4, 1) */
    int64_t s213[3] = {2, 1, 3}, s41[2] = {4, 1};
    Value p = iota(c, 3, s213), q = iota(c, 2, s41);
    val_binary(c, BIN_MUL, &r, &p, &q);
    text_is(&r,
            "[[[0, 0, 0], [0, 1, 2], [0, 2, 4], [0, 3, 6]], [[0, 0, 0], [3, 4, 5], [6, 8, 10], "
            "[9, 12, 15]]]",
            "(2, 1, 3) * (4, 1)");
    Value s = str(c, "hi"), one_n = val_num(1);
    err_is(c, val_binary(c, BIN_ADD, &r, &s, &one_n),
           "unsupported operand types for +: string and number", "string + number");
    err_is(c, val_binary(c, BIN_POW, &r, &a, &s),
           "unsupported operand types for ^: array and string", "array ^ string");
    err_is(c, val_binary(c, BIN_MAXIMUM, &r, &s, &a),
           "maximum: expected arrays or numbers, got string and array", "maximum(string, array)");
    err_is(c, val_unary(c, UN_NEG, &r, &s), "bad operand type for unary -: string", "-string");
    err_is(c, val_unary(c, UN_NOT, &r, &s), "bad operand type for not: string", "not string");
    err_is(c, val_unary(c, UN_EXP, &r, &s), "exp: expected an array or a number, got string",
           "exp(string)");
    Value vals[] = {a, col, row, v3, v4, e03, e20, one, p, q, s, r};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) val_decref(c, &vals[i]);
}

static void test_reuse(Ctx *c)
{
    int64_t s[1] = {5};
    Value x = iota(c, 1, s), y = iota(c, 1, s);
    Arr *xa = x.u.a;
    size_t before = c->bytes;
    val_binary(c, BIN_ADD, &x, &x, &y);
    ok(x.u.a == xa && c->bytes == before, "x = x + y with x unshared writes in place");
    text_is(&x, "[0, 2, 4, 6, 8]", "in-place result");
    val_binary(c, BIN_MUL, &x, &y, &x);
    ok(x.u.a == xa, "x = y * x writes in place (dst aliases b)");
    text_is(&x, "[0, 2, 8, 18, 32]", "in-place result, dst aliases b");
    val_binary(c, BIN_MUL, &x, &x, &x);
    ok(x.u.a == xa, "x = x * x in place");
    text_is(&x, "[0, 4, 64, 324, 1024]", "x * x");
    Value two = val_num(2);
    val_binary(c, BIN_DIV, &x, &two, &x);
    ok(x.u.a == xa, "x = 2 / x in place (number op array)");
    val_unary(c, UN_NEG, &x, &x);
    ok(x.u.a == xa, "x = -x in place");
    text_is(&x, "[-inf, -0.5, -0.03125, -0.006172839506172839, -0.001953125]", "-(2 / x)");

    Value keep = x; /* a second holder */
    val_incref(&keep);
    val_binary(c, BIN_ADD, &x, &x, &y);
    ok(x.u.a != xa && keep.u.a == xa, "shared x (rc 2): x = x + y allocates");
    text_is(&keep, "[-inf, -0.5, -0.03125, -0.006172839506172839, -0.001953125]",
            "the other holder is unchanged");
    val_decref(c, &keep);

    /* dst holding an unrelated unshared array of the result's shape */
    Value dst = iota(c, 1, s);
    Arr *da = dst.u.a;
    val_binary(c, BIN_SUB, &dst, &y, &y);
    ok(dst.u.a == da, "dst of the right shape is reused");
    text_is(&dst, "[0, 0, 0, 0, 0]", "reused dst result");
    int64_t s2[2] = {1, 5};
    Value wide = iota(c, 2, s2);
    val_binary(c, BIN_ADD, &dst, &wide, &y);
    ok(dst.u.a != da && dst.u.a->nd == 2, "dst of another shape is replaced");
    /* a view as dst: writable only if it alone holds the base */
    Idx all = ALL;
    Value v = val_nil();
    val_index(c, &v, &y, &all, 1);
    Arr *va = v.u.a;
    val_binary(c, BIN_ADD, &v, &v, &y);
    ok(v.u.a != va && y.u.a->d[1] == 1, "a view of a held array is not written through");
    Value vals[] = {x, y, dst, wide, v};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) val_decref(c, &vals[i]);
}

/* -- matmul, truth, literals ------------------------------------------------ */

static void test_matmul(Ctx *c)
{
    int64_t s23[2] = {2, 3}, s32[2] = {3, 2}, s3[1] = {3}, s2[1] = {2}, s4[1] = {4},
            s222[3] = {2, 2, 2};
    Value A = iota(c, 2, s23), B = iota(c, 2, s32), v3 = iota(c, 1, s3), v2 = iota(c, 1, s2),
          v4 = iota(c, 1, s4), T = iota(c, 3, s222), r = val_nil();
    ok(val_matmul(c, &r, &v3, &v3) == 0 && r.t == T_NUM && r.u.n == 5, "(3,) @ (3,) is a number");
    val_matmul(c, &r, &A, &v3);
    text_is(&r, "[5, 14]", "(2, 3) @ (3,)");
    val_matmul(c, &r, &v2, &A);
    text_is(&r, "[3, 4, 5]", "(2,) @ (2, 3)");
    val_matmul(c, &r, &A, &B);
    text_is(&r, "[[10, 13], [28, 40]]", "(2, 3) @ (3, 2)");
    val_matmul(c, &r, &B, &A);
    text_is(&r, "[[3, 4, 5], [9, 14, 19], [15, 24, 33]]", "(3, 2) @ (2, 3)");
    err_is(c, val_matmul(c, &r, &A, &v4), "matmul: shapes (2, 3) and (4,) are not aligned",
           "matmul mismatch");
    err_is(c, val_matmul(c, &r, &A, &A), "matmul: shapes (2, 3) and (2, 3) are not aligned",
           "matmul 2-d mismatch");
    err_is(c, val_matmul(c, &r, &T, &v2),
           "matmul: operands must be arrays of 1 or 2 dimensions, got shapes (2, 2, 2) and (2,)",
           "matmul of a 3-d array");
    Value n2 = val_num(2), s = str(c, "s");
    err_is(c, val_matmul(c, &r, &n2, &v2),
           "matmul: operands must be arrays of 1 or 2 dimensions, got shapes () and (2,)",
           "matmul of a number");
    err_is(c, val_matmul(c, &r, &s, &v2), "unsupported operand types for @: string and array",
           "matmul of a string");
    /* dst aliasing an operand is never written while read */
    int64_t s22[2] = {2, 2};
    Value M = iota(c, 2, s22);
    Arr *ma = M.u.a;
    val_matmul(c, &M, &M, &M);
    text_is(&M, "[[2, 3], [6, 11]]", "M = M @ M (dst aliases both)");
    ok(M.u.a != ma, "M = M @ M allocates");
    Value D = iota(c, 2, s22);
    Arr *da = D.u.a;
    val_matmul(c, &D, &M, &M);
    ok(D.u.a == da, "unrelated dst of the result shape is reused by matmul");
    text_is(&D, "[[22, 39], [78, 139]]", "reused matmul result");
    /* empty inner dimension */
    int64_t s20[2] = {2, 0}, s02[2] = {0, 2};
    Value E1 = iota(c, 2, s20), E2 = iota(c, 2, s02);
    val_matmul(c, &r, &E1, &E2);
    text_is(&r, "[[0, 0], [0, 0]]", "(2, 0) @ (0, 2) is zeros");
    /* a bigger product against a naive triple loop */
    int64_t s57[2] = {5, 7}, s79[2] = {7, 9};
    Value P = iota(c, 2, s57), Q = iota(c, 2, s79);
    for (int i = 0; i < 35; i++) P.u.a->d[i] = sin(i);
    for (int i = 0; i < 63; i++) Q.u.a->d[i] = cos(i);
    val_matmul(c, &r, &P, &Q);
    double err = 0;
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 9; j++) {
            double acc = 0;
            for (int k = 0; k < 7; k++) acc += P.u.a->d[i * 7 + k] * Q.u.a->d[k * 9 + j];
            err = fmax(err, fabs(acc - r.u.a->d[i * 9 + j]));
        }
    ok(err < 1e-13, "(5, 7) @ (7, 9) matches a naive product (err %g)", err);
    Value vals[] = {A, B, v3, v2, v4, T, r, s, M, D, E1, E2, P, Q};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) val_decref(c, &vals[i]);
}

static void test_truth(Ctx *c)
{
    int t = -1;
    Value z = val_num(0), nz = val_num(-2), nan = val_num(NAN);
    ok(val_truth(c, &z, &t) == 0 && t == 0, "truth of 0");
    ok(val_truth(c, &nz, &t) == 0 && t == 1, "truth of -2");
    ok(val_truth(c, &nan, &t) == 0 && t == 1, "truth of nan (as Python)");
    int64_t s1[2] = {1, 1}, s2[1] = {2}, s0[1] = {0};
    Value one = iota(c, 2, s1), two = iota(c, 1, s2), none = iota(c, 1, s0), s = str(c, "x");
    one.u.a->d[0] = 3;
    ok(val_truth(c, &one, &t) == 0 && t == 1, "truth of a 1-element array");
    err_is(c, val_truth(c, &two, &t),
           "the truth value of an array with more than one element is ambiguous", "truth of (2,)");
    err_is(c, val_truth(c, &none, &t), "the truth value of an empty array is ambiguous",
           "truth of (0,)");
    err_is(c, val_truth(c, &s, &t), "a string has no truth value; expected a number",
           "truth of a string");
    val_decref(c, &one);
    val_decref(c, &two);
    val_decref(c, &none);
    val_decref(c, &s);
}

static void test_stack(Ctx *c)
{
    Value r = val_nil();
    ok(val_stack(c, &r, NULL, 0) == 0, "[] builds");
    ok(r.t == T_ARR && r.u.a->nd == 1 && r.u.a->shape[0] == 0, "[] has shape (0,)");
    text_is(&r, "[]", "[] prints");
    Value nums[3] = {val_num(1), val_num(2.5), val_num(-3)};
    val_stack(c, &r, nums, 3);
    text_is(&r, "[1, 2.5, -3]", "[1, 2.5, -3]");
    int64_t s2[1] = {2}, s3[1] = {3};
    Value rows[3] = {iota(c, 1, s2), iota(c, 1, s2), iota(c, 1, s3)};
    val_stack(c, &r, rows, 2);
    text_is(&r, "[[0, 1], [0, 1]]", "[[0, 1], [0, 1]]");
    err_is(c, val_stack(c, &r, rows, 3), "array literal: item 3 has shape (3,), expected (2,)",
           "ragged literal");
    Value mixed[2] = {val_num(1), rows[0]};
    err_is(c, val_stack(c, &r, mixed, 2), "array literal: item 2 has shape (2,), expected ()",
           "number then array");
    Value s = str(c, "a");
    Value withstr[2] = {val_num(1), s};
    err_is(c, val_stack(c, &r, withstr, 2),
           "array literal: item 2 is a string, expected a number or an array", "string item");
    /* r as one of the items: [r, r] */
    Value two[2] = {r, r};
    val_stack(c, &r, two, 2);
    text_is(&r, "[[[0, 1], [0, 1]], [[0, 1], [0, 1]]]", "[r, r] into r");
    int64_t s16[16];
    for (int i = 0; i < 16; i++) s16[i] = 1;
    Value deep = iota(c, 16, s16);
    err_is(c, val_stack(c, &r, &deep, 1), "array literal: too many dimensions (17, max 16)",
           "literal of a 16-d array");
    Value vals[] = {r, rows[0], rows[1], rows[2], s, deep};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) val_decref(c, &vals[i]);
}

/* -- indexing -------------------------------------------------------------- */

static void test_index(Ctx *c)
{
    int64_t s10[1] = {10}, s34[2] = {3, 4};
    Value x = iota(c, 1, s10), m = iota(c, 2, s34), r = val_nil();
    Idx ix[3];
    ix[0] = I(3);
    index_is(c, &x, ix, 1, "3", "x[3]");
    ix[0] = I(-1);
    index_is(c, &x, ix, 1, "9", "x[-1]");
    ix[0] = I(10);
    index_err(c, &x, ix, 1, "index 10 is out of bounds for axis 0 with size 10", "x[10]");
    ix[0] = I(-11);
    index_err(c, &x, ix, 1, "index -11 is out of bounds for axis 0 with size 10", "x[-11]");
    ix[0] = I(1.5);
    index_err(c, &x, ix, 1, "index 1.5 is not an integer", "x[1.5]");
    ix[0] = I(NAN);
    index_err(c, &x, ix, 1, "index nan is not an integer", "x[nan]");
    ix[0] = I(1e300);
    index_err(c, &x, ix, 1, "index 1e+300 is out of bounds for axis 0 with size 10", "x[1e300]");
    ix[0] = S(1, 1, 0, 0, 0, 0);
    index_is(c, &x, ix, 1, "[1, 2, 3, 4, 5, 6, 7, 8, 9]", "x[1:]");
    ix[0] = S(0, 0, 1, -1, 0, 0);
    index_is(c, &x, ix, 1, "[0, 1, 2, 3, 4, 5, 6, 7, 8]", "x[:-1]");
    ix[0] = S(0, 0, 0, 0, 1, 2);
    index_is(c, &x, ix, 1, "[0, 2, 4, 6, 8]", "x[::2]");
    ix[0] = S(0, 0, 0, 0, 1, -1);
    index_is(c, &x, ix, 1, "[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]", "x[::-1]");
    ix[0] = S(1, 5, 1, 1, 1, -2);
    index_is(c, &x, ix, 1, "[5, 3]", "x[5:1:-2]");
    ix[0] = S(1, -1, 1, -100, 1, -3);
    index_is(c, &x, ix, 1, "[9, 6, 3, 0]", "x[-1:-100:-3]");
    ix[0] = S(1, 100, 0, 0, 1, -4);
    index_is(c, &x, ix, 1, "[9, 5, 1]", "x[100::-4]");
    ix[0] = S(1, -100, 1, 100, 0, 0);
    index_is(c, &x, ix, 1, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", "x[-100:100] clamps");
    ix[0] = S(1, 7, 1, 3, 0, 0);
    index_is(c, &x, ix, 1, "[]", "x[7:3] is empty");
    ix[0] = S(1, 3, 1, 7, 1, -1);
    index_is(c, &x, ix, 1, "[]", "x[3:7:-1] is empty");
    ix[0] = S(1, 20, 0, 0, 0, 0);
    index_is(c, &x, ix, 1, "[]", "x[20:] is empty");
    ix[0] = S(0, 0, 0, 0, 1, 0);
    index_err(c, &x, ix, 1, "slice step cannot be zero", "x[::0]");
    ix[0] = S(1, 0.5, 0, 0, 0, 0);
    index_err(c, &x, ix, 1, "slice start 0.5 is not an integer", "x[0.5:]");
    ix[0] = S(0, 0, 1, 2.5, 0, 0);
    index_err(c, &x, ix, 1, "slice stop 2.5 is not an integer", "x[:2.5]");
    ix[0] = S(0, 0, 0, 0, 1, 1.5);
    index_err(c, &x, ix, 1, "slice step 1.5 is not an integer", "x[::1.5]");
    ix[0] = I(0), ix[1] = I(0);
    index_err(c, &x, ix, 2, "too many indices: array is 1-dimensional, but 2 were indexed",
              "x[0, 0]");
    ix[2] = I(0);
    index_err(c, &m, ix, 3, "too many indices: array is 2-dimensional, but 3 were indexed",
              "m[0, 0, 0]");

    ix[0] = I(1), ix[1] = I(2);
    index_is(c, &m, ix, 2, "6", "m[1, 2]");
    ix[0] = I(-1);
    index_is(c, &m, ix, 1, "[8, 9, 10, 11]", "m[-1]");
    ix[0] = ALL, ix[1] = I(0);
    index_is(c, &m, ix, 2, "[0, 4, 8]", "m[:, 0]");
    ix[0] = ALL, ix[1] = S(0, 0, 0, 0, 1, -1);
    index_is(c, &m, ix, 2, "[[3, 2, 1, 0], [7, 6, 5, 4], [11, 10, 9, 8]]", "m[:, ::-1]");
    ix[0] = S(0, 0, 0, 0, 1, -2), ix[1] = S(1, 1, 1, 3, 0, 0);
    index_is(c, &m, ix, 2, "[[9, 10], [1, 2]]", "m[::-2, 1:3]");
    ix[0] = I(1), ix[1] = I(7);
    index_err(c, &m, ix, 2, "index 7 is out of bounds for axis 1 with size 4", "m[1, 7]");

    /* views: contiguous results share the data */
    struct { Idx ix[2]; int n; int view; const char *what; } cases[] = {
        {{I(1), {0}}, 1, 1, "m[1] is a view"},
        {{S(1, 1, 1, 3, 0, 0), {0}}, 1, 1, "m[1:3] is a view"},
        {{I(1), S(1, 1, 1, 3, 0, 0)}, 2, 1, "m[1, 1:3] is a view"},
        {{S(1, 0, 1, 1, 0, 0), S(1, 1, 1, 3, 0, 0)}, 2, 1, "m[0:1, 1:3] is a view"},
        {{S(1, 1, 1, 3, 0, 0), ALL}, 2, 1, "m[1:3, :] is a view"},
        {{ALL, I(0)}, 2, 0, "m[:, 0] is a copy"},
        {{S(0, 0, 0, 0, 1, 2), {0}}, 1, 0, "m[::2] is a copy"},
        {{S(1, 0, 1, 2, 0, 0), S(1, 1, 1, 3, 0, 0)}, 2, 0, "m[0:2, 1:3] is a copy"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Value v = val_nil();
        int rc = val_index(c, &v, &m, cases[i].ix, cases[i].n);
        int isview = rc == 0 && v.t == T_ARR && v.u.a->base == m.u.a;
        ok(isview == cases[i].view, "%s", cases[i].what);
        val_decref(c, &v);
    }
    /* a view of a view refers to the owner */
    Value row = val_nil(), part = val_nil();
    ix[0] = I(2);
    val_index(c, &row, &m, ix, 1);
    ix[0] = S(1, 1, 0, 0, 0, 0);
    val_index(c, &part, &row, ix, 1);
    ok(part.u.a->base == m.u.a && m.u.a->rc == 3, "m[2][1:] refers to m");
    text_is(&part, "[9, 10, 11]", "m[2][1:]");
    val_decref(c, &row);
    val_decref(c, &part);

    /* tuples, numbers, strings */
    Tuple *t = tup_new(c, 2);
    t->v[0] = val_num(7);
    t->v[1] = x;
    val_incref(&x);
    Value tv;
    tv.t = T_TUPLE;
    tv.u.tu = t;
    ix[0] = I(1);
    index_is(c, &tv, ix, 1, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]", "tuple[1]");
    ix[0] = I(-2);
    index_is(c, &tv, ix, 1, "7", "tuple[-2]");
    ix[0] = I(2);
    index_err(c, &tv, ix, 1, "index 2 is out of bounds for a tuple of size 2", "tuple[2]");
    ix[0] = S(0, 0, 0, 0, 0, 0);
    index_err(c, &tv, ix, 1, "a tuple is indexed by one integer", "tuple[:]");
    Value num = val_num(1), s = str(c, "abc");
    ix[0] = I(0);
    index_err(c, &num, ix, 1, "cannot index a number", "number[0]");
    index_err(c, &s, ix, 1, "cannot index a string", "string[0]");
    Value vals[] = {x, m, r, tv, s};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) val_decref(c, &vals[i]);
}

static void test_setindex(Ctx *c)
{
    int64_t s6[1] = {6}, s34[2] = {3, 4};
    Value x = iota(c, 1, s6), m = iota(c, 2, s34);
    Idx ix[2];
    Value v = val_num(-1);
    ix[0] = I(2);
    ok(val_setindex(c, &x, ix, 1, &v) == 0, "x[2] = -1");
    text_is(&x, "[0, 1, -1, 3, 4, 5]", "x[2] = -1");
    ix[0] = S(0, 0, 0, 0, 1, -2);
    val_setindex(c, &x, ix, 1, &v);
    text_is(&x, "[0, -1, -1, -1, 4, -1]", "x[::-2] = -1");
    double d3[3] = {7, 8, 9};
    Value v3 = vec(c, 3, d3);
    ix[0] = S(1, 4, 0, 0, 1, -2);
    val_setindex(c, &x, ix, 1, &v3);
    text_is(&x, "[9, -1, 8, -1, 7, -1]", "x[4::-2] = [7, 8, 9]");
    ix[0] = S(1, 0, 1, 2, 0, 0);
    err_is(c, val_setindex(c, &x, ix, 1, &v3),
           "could not broadcast value of shape (3,) into region of shape (2,)", "x[0:2] = (3,)");
    ix[0] = I(9);
    err_is(c, val_setindex(c, &x, ix, 1, &v),
           "index 9 is out of bounds for axis 0 with size 6", "x[9] = -1");
    ix[0] = S(1, 4, 1, 4, 0, 0);
    ok(val_setindex(c, &x, ix, 1, &v3) == -1, "storing (3,) into an empty region is an error");
    Value one = vec(c, 1, d3);
    ok(val_setindex(c, &x, ix, 1, &one) == 0, "storing (1,) into an empty region is fine");

    /* broadcasting into 2-d regions; leading extent-1 axes */
    ix[0] = ALL, ix[1] = I(1);
    val_setindex(c, &m, ix, 2, &v3);
    text_is(&m, "[[0, 7, 2, 3], [4, 8, 6, 7], [8, 9, 10, 11]]", "m[:, 1] = [7, 8, 9]");
    double d4[4] = {-1, -2, -3, -4};
    int64_t s14[2] = {1, 4};
    Value row = mk(c, 2, s14, d4);
    ix[0] = S(1, 1, 0, 0, 0, 0);
    val_setindex(c, &m, ix, 1, &row);
    text_is(&m, "[[0, 7, 2, 3], [-1, -2, -3, -4], [-1, -2, -3, -4]]", "m[1:] = (1, 4)");
    ix[0] = I(0);
    val_setindex(c, &m, ix, 1, &row);
    text_is(&m, "[[-1, -2, -3, -4], [-1, -2, -3, -4], [-1, -2, -3, -4]]",
            "m[0] = (1, 4) drops the leading 1");
    ix[0] = I(0), ix[1] = I(0);
    Value single = vec(c, 1, d3);
    val_setindex(c, &m, ix, 2, &single);
    ok(m.u.a->d[0] == 7, "m[0, 0] = [7]");
    ix[0] = ALL;
    err_is(c, val_setindex(c, &m, ix, 1, &v3),
           "could not broadcast value of shape (3,) into region of shape (3, 4)", "m[:] = (3,)");

    /* copy on write */
    Value y = x;
    val_incref(&y);
    Arr *xa = x.u.a;
    ix[0] = I(0);
    val_setindex(c, &y, ix, 1, &v);
    ok(y.u.a != xa && x.u.a == xa && xa->rc == 1, "a store into a shared array copies it");
    text_is(&x, "[9, -1, 8, -1, 7, -1]", "the other holder is unchanged");
    text_is(&y, "[-1, -1, 8, -1, 7, -1]", "the store went to the copy");
    Value w = val_nil();
    ix[0] = S(1, 1, 1, 4, 0, 0);
    val_index(c, &w, &x, ix, 1);
    ok(w.u.a->base == xa, "w = x[1:4] is a view");
    ix[0] = I(0);
    Value big = val_num(100);
    val_setindex(c, &w, ix, 1, &big);
    ok(w.u.a->base == NULL, "storing into the view copies it");
    text_is(&w, "[100, 8, -1]", "w[0] = 100");
    text_is(&x, "[9, -1, 8, -1, 7, -1]", "x is unchanged by the store into w");
    ix[0] = I(1);
    val_setindex(c, &x, ix, 1, &big);
    ok(x.u.a == xa, "a store into an unshared array writes in place");
    text_is(&w, "[100, 8, -1]", "w unchanged by a store into x");

    /* overlapping stores read the value as it was */
    Value z = iota(c, 1, s6), src = val_nil();
    ix[0] = S(0, 0, 1, -1, 0, 0);
    val_index(c, &src, &z, ix, 1); /* z[:-1], a view of z */
    ix[0] = S(1, 1, 0, 0, 0, 0);
    val_setindex(c, &z, ix, 1, &src);
    text_is(&z, "[0, 0, 1, 2, 3, 4]", "z[1:] = z[:-1]");
    val_decref(c, &src);
    ix[0] = S(0, 0, 0, 0, 1, -1);
    val_setindex(c, &z, ix, 1, &z); /* the same Value as target and source, rc 1 */
    text_is(&z, "[4, 3, 2, 1, 0, 0]", "z[::-1] = z");
    /* a view that alone holds its base, stored into itself reversed */
    Value zv = val_nil();
    Idx tail = S(1, 2, 0, 0, 0, 0);
    val_index(c, &zv, &z, &tail, 1);
    val_decref(c, &z);
    ok(arr_writable(zv.u.a), "zv = z[2:] alone holds z");
    ix[0] = S(0, 0, 0, 0, 1, -1);
    val_setindex(c, &zv, ix, 1, &zv);
    ok(zv.u.a->base != NULL, "zv[::-1] = zv writes in place");
    text_is(&zv, "[0, 0, 1, 2]", "zv[::-1] = zv");
    val_decref(c, &zv);

    /* errors of the target and the value */
    Value num = val_num(3), s = str(c, "s");
    Tuple *t = tup_new(c, 1);
    t->v[0] = val_num(1);
    Value tv;
    tv.t = T_TUPLE;
    tv.u.tu = t;
    ix[0] = I(0);
    err_is(c, val_setindex(c, &num, ix, 1, &v), "cannot assign to an element of a number",
           "number[0] = ...");
    err_is(c, val_setindex(c, &tv, ix, 1, &v), "tuples cannot be modified", "tuple[0] = ...");
    err_is(c, val_setindex(c, &s, ix, 1, &v), "strings cannot be modified", "string[0] = ...");
    err_is(c, val_setindex(c, &x, ix, 1, &s), "cannot store a string in an array",
           "x[0] = string");
    Value vals[] = {x, m, v3, one, row, single, y, w, s, tv};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) val_decref(c, &vals[i]);
}

/* -- text ------------------------------------------------------------------- */

static void num_is(double x, const char *want)
{
    Sbuf b;
    sb_init(&b);
    fmt_num(&b, x);
    int r = ok(strcmp(sb_str(&b), want) == 0, "fmt_num %s", want);
    if (!r) printf("#   got: %s\n", sb_str(&b));
    sb_free(&b);
}

static void test_fmt_num(void)
{
    num_is(0, "0");
    num_is(-0.0, "-0");
    num_is(3, "3");
    num_is(-2.5, "-2.5");
    num_is(0.1, "0.1");
    num_is(0.1 + 0.2, "0.30000000000000004");
    num_is(1.0 / 3, "0.3333333333333333");
    num_is(2.0 / 3, "0.6666666666666666");
    num_is(1000000, "1000000");
    num_is(0.0001, "0.0001");
    num_is(0.00012, "0.00012");
    num_is(1e-5, "1e-05");
    num_is(1.5e-5, "1.5e-05");
    num_is(1e15, "1000000000000000");
    num_is(1e16, "1e+16");
    num_is(123456789012345680.0, "1.2345678901234568e+17");
    num_is(9007199254740993.0, "9007199254740992");
    num_is(-2e100, "-2e+100");
    num_is(5e-324, "5e-324");
    num_is(1.7976931348623157e308, "1.7976931348623157e+308");
    num_is(2.2250738585072014e-308, "2.2250738585072014e-308");
    num_is(NAN, "nan");
    num_is(-NAN, "nan");
    num_is(INFINITY, "inf");
    num_is(-INFINITY, "-inf");
    num_is(123.456, "123.456");
    num_is(1e22, "1e+22");
    /* every text reads back: random bit patterns */
    uint64_t s = 0x9E3779B97F4A7C15u;
    int good = 1, shortest = 1, checked = 0;
    for (int i = 0; i < 20000; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        double x;
        memcpy(&x, &s, sizeof x);
        if (!isfinite(x)) continue;
        Sbuf b;
        sb_init(&b);
        fmt_num(&b, x);
        good &= strtod(sb_str(&b), NULL) == x;
        /* one significant digit fewer does not read back */
        char d[40], shorter[40];
        int sig = 0;
        for (const char *p = sb_str(&b); *p && *p != 'e'; p++)
            if (*p >= '0' && *p <= '9' && (sig || *p != '0')) d[sig++] = *p;
        while (sig > 1 && d[sig - 1] == '0') sig--;
        if (sig > 1) {
            snprintf(shorter, sizeof shorter, "%.*e", sig - 2, x);
            shortest &= strtod(shorter, NULL) != x;
            checked++;
        }
        sb_free(&b);
    }
    ok(good, "fmt_num round-trips 20000 random doubles");
    ok(shortest && checked > 10000, "fmt_num uses the fewest digits (%d checked)", checked);
}

static void test_fmt_value(Ctx *c)
{
    Sbuf b;
    sb_init(&b);
    int64_t s3[1] = {3}, s0[1] = {0};
    fmt_shape(&b, 2, (int64_t[]){2, 3});
    sb_puts(&b, " ");
    fmt_shape(&b, 1, (int64_t[]){5});
    sb_puts(&b, " ");
    fmt_shape(&b, 0, NULL);
    ok(strcmp(sb_str(&b), "(2, 3) (5,) ()") == 0, "fmt_shape (2, 3) (5,) ()");
    sb_free(&b);
    Value v = iota(c, 1, s3);
    text_is(&v, "[0, 1, 2]", "1-d");
    val_decref(c, &v);
    v = iota(c, 1, s0);
    text_is(&v, "[]", "empty");
    val_decref(c, &v);
    v = vec(c, 3, (double[]){1, 20, 3});
    layout_is("", &v, "[1, 20, 3]", "1-d arrays are not padded");
    val_decref(c, &v);
    v = iota(c, 3, (int64_t[]){2, 1, 2});
    layout_is("", &v,
              "[[[0, 1]],\n"
              "\n"
              " [[2, 3]]]",
              "3-d: a blank line between blocks");
    val_decref(c, &v);
    v = mk(c, 2, (int64_t[]){2, 3}, (double[]){1, 2, 30, 40, 5, 6});
    layout_is("", &v,
              "[[ 1,  2, 30],\n"
              " [40,  5,  6]]",
              "2-d: one row a line, right-aligned to the widest element");
    val_decref(c, &v);
    v = mk(c, 2, (int64_t[]){3, 2}, (double[]){0.5, 100, -1, NAN, INFINITY, -INFINITY});
    layout_is("", &v,
              "[[ 0.5,  100],\n"
              " [  -1,  nan],\n"
              " [ inf, -inf]]",
              "2-d: shortest number texts, padded");
    val_decref(c, &v);
    v = iota(c, 2, (int64_t[]){3, 1});
    layout_is("", &v, "[[0],\n [1],\n [2]]", "(3, 1)");
    val_decref(c, &v);
    v = iota(c, 2, (int64_t[]){1, 1});
    layout_is("", &v, "[[0]]", "(1, 1)");
    val_decref(c, &v);
    v = iota(c, 4, (int64_t[]){2, 2, 2, 2});
    layout_is("", &v,
              "[[[[ 0,  1],\n"
              "   [ 2,  3]],\n"
              "\n"
              "  [[ 4,  5],\n"
              "   [ 6,  7]]],\n"
              "\n"
              "\n"
              " [[[ 8,  9],\n"
              "   [10, 11]],\n"
              "\n"
              "  [[12, 13],\n"
              "   [14, 15]]]]",
              "4-d: two blank lines between 3-d blocks");
    val_decref(c, &v);
    v = iota(c, 2, (int64_t[]){2, 15});
    for (int i = 0; i < 30; i++) v.u.a->d[i] *= 1001;
    layout_is("m = ", &v,
              "m = [[    0,  1001,  2002,  3003,  4004,  5005,  6006,  7007,  8008,\n"
              "       9009, 10010, 11011, 12012, 13013, 14014],\n"
              "     [15015, 16016, 17017, 18018, 19019, 20020, 21021, 22022, 23023,\n"
              "      24024, 25025, 26026, 27027, 28028, 29029]]",
              "rows wrap at 75 columns, counting the text before the array");
    val_decref(c, &v);
    v = mk(c, 2, (int64_t[]){2, 6}, NULL);
    for (int i = 0; i < 12; i++) v.u.a->d[i] = 1.0 / 3;
    layout_is("", &v,
              "[[0.3333333333333333, 0.3333333333333333, 0.3333333333333333,\n"
              "  0.3333333333333333, 0.3333333333333333, 0.3333333333333333],\n"
              " [0.3333333333333333, 0.3333333333333333, 0.3333333333333333,\n"
              "  0.3333333333333333, 0.3333333333333333, 0.3333333333333333]]",
              "wide elements wrap");
    val_decref(c, &v);
    v = iota(c, 2, (int64_t[]){2, 2});
    layout_is("a\nm = ", &v, "a\nm = [[0, 1],\n     [2, 3]]", "the column counts from the last newline");
    layout_is("\xcf\x80 = ", &v, "\xcf\x80 = [[0, 1],\n     [2, 3]]", "the column counts UTF-8 characters");
    layout_is("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", &v,
              "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx[[0,\n"
              "                                                                                  1],\n"
              "                                                                                 [2,\n"
              "                                                                                  3]]",
              "past column 75 a line keeps one element");
    val_decref(c, &v);
    v = iota(c, 2, (int64_t[]){2, 0});
    text_is(&v, "[[], []]", "(2, 0)");
    val_decref(c, &v);
    v = iota(c, 1, (int64_t[]){1000});
    Sbuf t;
    sb_init(&t);
    fmt_value(&t, &v);
    ok(strstr(sb_str(&t), "...") == NULL && strstr(sb_str(&t), ", 500, 501, ") &&
           strchr(sb_str(&t), '\n') == NULL,
       "1000 elements print in full, on one line");
    sb_free(&t);
    val_decref(c, &v);
    v = iota(c, 1, (int64_t[]){1001});
    text_is(&v, "[0, 1, 2, ..., 998, 999, 1000]", "1001 elements are summarised");
    val_decref(c, &v);
    v = iota(c, 2, (int64_t[]){100, 100});
    layout_is("", &v,
              "[[   0,    1,    2, ...,   97,   98,   99],\n"
              " [ 100,  101,  102, ...,  197,  198,  199],\n"
              " [ 200,  201,  202, ...,  297,  298,  299],\n"
              " ...,\n"
              " [9700, 9701, 9702, ..., 9797, 9798, 9799],\n"
              " [9800, 9801, 9802, ..., 9897, 9898, 9899],\n"
              " [9900, 9901, 9902, ..., 9997, 9998, 9999]]",
              "(100, 100) summarised on both axes");
    val_decref(c, &v);
    v = iota(c, 2, (int64_t[]){2000, 2});
    Sbuf u;
    sb_init(&u);
    fmt_value(&u, &v);
    ok(strcmp(sb_str(&u), "[[   0,    1],\n [   2,    3],\n [   4,    5],\n ...,\n"
                          " [3994, 3995],\n [3996, 3997],\n [3998, 3999]]") == 0,
       "(2000, 2): short axes are not cut");
    sb_free(&u);
    val_decref(c, &v);
    v = iota(c, 3, (int64_t[]){11, 11, 11});
    sb_init(&u);
    fmt_value(&u, &v);
    const char *head = "[[[   0,    1,    2, ...,    8,    9,   10],\n"
                       "  [  11,   12,   13, ...,   19,   20,   21],\n";
    ok(strncmp(sb_str(&u), head, strlen(head)) == 0 &&
           strstr(sb_str(&u), "  [ 352,  353,  354, ...,  360,  361,  362]],\n"
                              "\n"
                              " ...,\n"
                              "\n"
                              " [[ 968,  969,  970, ...,  976,  977,  978],\n") != NULL,
       "(11, 11, 11): ` ...,` stands between blocks as a block does");
    sb_free(&u);
    val_decref(c, &v);
    int64_t s16[16];
    for (int i = 0; i < 16; i++) s16[i] = 1;
    v = iota(c, 16, s16);
    text_is(&v, "[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]", "16-d");
    val_decref(c, &v);

    Value s = str(c, "hello world");
    text_is(&s, "hello world", "string as its text");
    Tuple *tu = tup_new(c, 2);
    tu->v[0] = val_num(1);
    tu->v[1] = iota(c, 1, (int64_t[]){2});
    Value tv = {T_TUPLE, {.tu = tu}};
    text_is(&tv, "(1, [0, 1])", "tuple");
    Tuple *tm = tup_new(c, 2);
    tm->v[0] = val_num(1);
    tm->v[1] = iota(c, 2, (int64_t[]){2, 2});
    Value tmv = {T_TUPLE, {.tu = tm}};
    layout_is("", &tmv, "(1, [[0, 1],\n     [2, 3]])", "tuple: rows continue under the array's column");
    val_decref(c, &tmv);
    Tuple *t1 = tup_new(c, 1);
    t1->v[0] = s;
    Value t1v = {T_TUPLE, {.tu = t1}};
    text_is(&t1v, "(hello world,)", "one-element tuple");
    /* tuples nested deeper than DIAL_MAXDIM stop */
    Value deep = val_num(0);
    for (int i = 0; i < 40; i++) {
        Tuple *d = tup_new(c, 1);
        d->v[0] = deep;
        deep.t = T_TUPLE;
        deep.u.tu = d;
    }
    Sbuf db;
    sb_init(&db);
    fmt_value(&db, &deep);
    ok(strstr(sb_str(&db), "(...)") != NULL, "deeply nested tuples are cut off");
    sb_free(&db);
    val_decref(c, &deep);
    Value nil = val_nil();
    text_is(&nil, "nil", "nil");
    Value bi = {T_BUILTIN, {.bi = builtin_find("sum")}};
    text_is(&bi, "<builtin sum>", "builtin");
    Value fnv = {T_FN, {.fn = NULL}};
    text_is(&fnv, "<fn>", "function");
    val_decref(c, &tv);
    val_decref(c, &t1v);
}

/* -- builtins ----------------------------------------------------------------- */

static void test_builtins_basic(Ctx *c)
{
    ok(builtin_find("sum") >= 0 && builtin_find("nope") == -1, "builtin_find");
    int names_unique = 1;
    for (int i = 0; i < nbuiltins; i++)
        names_unique &= builtin_find(builtins[i].name) == i;
    ok(names_unique, "builtin names are unique");
    int unops = 1;
    for (int i = 0; i < nbuiltins; i++)
        if (builtins[i].unop >= 0)
            unops &= strcmp(prim_unname[builtins[i].unop], builtins[i].name) == 0 &&
                     builtins[i].minargs == 1 && builtins[i].maxargs == 1;
        else if (builtins[i].binop >= 0)
            unops &= strcmp(prim_binname[builtins[i].binop], builtins[i].name) == 0 &&
                     builtins[i].minargs == 2 && builtins[i].maxargs == 2;
    ok(unops, "elementwise builtins name their primitive");

    /* print */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    FILE *old = c->out;
    c->out = f;
    Value args[4] = {val_num(1), str(c, "two"), iota(c, 1, (int64_t[]){2}), val_num(0.5)};
    Value r;
    call(c, "print", args, 4, &r);
    call(c, "print", args, 0, &r);
    fclose(f);
    c->out = old;
    ok(buf && strcmp(buf, "1 two [0, 1] 0.5\n\n") == 0, "print separates by spaces, ends lines");
    free(buf);
    ok(r.t == T_NIL, "print returns nil");

    Value m = iota(c, 2, (int64_t[]){2, 3});
    call_is(c, "shape", &m, 1, "[2, 3]", "shape((2, 3))");
    call_is(c, "shape", &args[0], 1, "[]", "shape(1)");
    call_err(c, "shape", &args[1], 1, "shape: expected an array or a number, got string",
             "shape(string)");
    call_is(c, "len", &m, 1, "2", "len((2, 3))");
    call_err(c, "len", &args[0], 1, "len() of a number", "len(1)");
    call_err(c, "len", &args[1], 1, "len: expected an array or a number, got string",
             "len(string)");
    call_is(c, "size", &m, 1, "6", "size((2, 3))");
    call_is(c, "size", &args[0], 1, "1", "size(1)");
    call_err(c, "size", &args[1], 1, "size: expected an array or a number, got string",
             "size(string)");

    Value d[3] = {val_num(2), val_num(3), val_num(1)};
    call_is(c, "zeros", d, 2, "[[0, 0, 0], [0, 0, 0]]", "zeros(2, 3)");
    Value sh = vec(c, 2, (double[]){2, 3});
    call_is(c, "zeros", &sh, 1, "[[0, 0, 0], [0, 0, 0]]", "zeros([2, 3])");
    call_is(c, "ones", d + 1, 1, "[1, 1, 1]", "ones(3)");
    call_is(c, "zeros", d, 0, "0", "zeros() is the number 0");
    Value empty = vec(c, 0, NULL);
    call_is(c, "ones", &empty, 1, "1", "ones([]) is the number 1");
    Value zdim = val_num(0);
    call_is(c, "zeros", &zdim, 1, "[]", "zeros(0)");
    Value bad[2] = {val_num(-1), val_num(2.5)};
    call_err(c, "zeros", bad, 1, "zeros: dimension -1 is negative", "zeros(-1)");
    call_err(c, "zeros", bad + 1, 1, "zeros: dimension 2.5 is not an integer", "zeros(2.5)");
    Value nanv = val_num(NAN);
    call_err(c, "ones", &nanv, 1, "ones: dimension nan is not an integer", "ones(nan)");
    Value huge[3] = {val_num(100000), val_num(100000), val_num(100000)};
    call_err(c, "zeros", huge, 3, "array too large: shape (100000, 100000, 100000)",
             "zeros(1e5, 1e5, 1e5)");
    Value hugest = val_num(1e20);
    call_err(c, "zeros", &hugest, 1, "zeros: dimension 1e+20 is too large", "zeros(1e20)");
    Value mixed[2] = {val_num(2), sh};
    call_err(c, "zeros", mixed, 2, "zeros: dimension must be a number, got array",
             "zeros(2, [2, 3])");
    call_err(c, "zeros", &m, 1, "zeros: a shape must be a 1-d array, got shape (2, 3)",
             "zeros(2-d array)");
    Value many = vec(c, 17, NULL);
    for (int i = 0; i < 17; i++) many.u.a->d[i] = 1;
    call_err(c, "ones", &many, 1, "ones: too many dimensions (17, max 16)", "ones(17 dims)");

    Value fa[2] = {val_num(3), val_num(0.5)};
    call_is(c, "full", fa, 2, "[0.5, 0.5, 0.5]", "full(3, 0.5)");
    Value fb[2] = {sh, val_num(-1)};
    call_is(c, "full", fb, 2, "[[-1, -1, -1], [-1, -1, -1]]", "full([2, 3], -1)");
    Value fc[2] = {val_num(3), sh};
    call_err(c, "full", fc, 2, "full: fill value must be a number, got array", "full(3, array)");
    Value fd[2] = {args[1], val_num(1)};
    call_err(c, "full", fd, 2, "full: shape must be a number or an array, got string",
             "full(string, 1)");

    Value vals[] = {args[1], args[2], m, sh, empty, many};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) val_decref(c, &vals[i]);
}

static void test_builtins_ranges(Ctx *c)
{
    Value a[3] = {val_num(5)};
    call_is(c, "arange", a, 1, "[0, 1, 2, 3, 4]", "arange(5)");
    a[0] = val_num(2), a[1] = val_num(5);
    call_is(c, "arange", a, 2, "[2, 3, 4]", "arange(2, 5)");
    a[0] = val_num(0), a[1] = val_num(1), a[2] = val_num(0.25);
    call_is(c, "arange", a, 3, "[0, 0.25, 0.5, 0.75]", "arange(0, 1, 0.25)");
    a[0] = val_num(5), a[1] = val_num(0), a[2] = val_num(-2);
    call_is(c, "arange", a, 3, "[5, 3, 1]", "arange(5, 0, -2)");
    a[0] = val_num(0), a[1] = val_num(1), a[2] = val_num(0.1);
    call_is(c, "arange", a, 3, "[0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6000000000000001, "
            "0.7000000000000001, 0.8, 0.9]", "arange(0, 1, 0.1) as NumPy");
    a[0] = val_num(1), a[1] = val_num(1.5), a[2] = val_num(0.3);
    call_is(c, "arange", a, 3, "[1, 1.3]", "arange(1, 1.5, 0.3): ceil length");
    a[0] = val_num(-3);
    call_is(c, "arange", a, 1, "[]", "arange(-3) is empty");
    a[0] = val_num(0), a[1] = val_num(1), a[2] = val_num(0);
    call_err(c, "arange", a, 3, "arange: step cannot be zero", "arange step 0");
    a[1] = val_num(INFINITY), a[2] = val_num(1);
    call_err(c, "arange", a, 3, "arange: arguments must be finite", "arange to inf");
    a[1] = val_num(1e300);
    call_err(c, "arange", a, 2, "arange: length 1e+300 is too large", "arange(0, 1e300)");
    Value s = str(c, "x");
    a[1] = s;
    call_err(c, "arange", a, 2, "arange: argument 2 must be a number, got string",
             "arange(0, string)");

    Value l[3] = {val_num(0), val_num(1), val_num(5)};
    call_is(c, "linspace", l, 3, "[0, 0.25, 0.5, 0.75, 1]", "linspace(0, 1, 5)");
    l[2] = val_num(1);
    call_is(c, "linspace", l, 3, "[0]", "linspace(0, 1, 1)");
    l[2] = val_num(0);
    call_is(c, "linspace", l, 3, "[]", "linspace(0, 1, 0)");
    l[0] = val_num(0.1), l[1] = val_num(0.7), l[2] = val_num(4);
    call_is(c, "linspace", l, 3, "[0.1, 0.3, 0.5, 0.7]", "linspace(0.1, 0.7, 4)");
    l[0] = val_num(2), l[1] = val_num(2), l[2] = val_num(3);
    call_is(c, "linspace", l, 3, "[2, 2, 2]", "linspace(2, 2, 3)");
    l[2] = val_num(-1);
    call_err(c, "linspace", l, 3, "linspace: number of samples -1 is negative",
             "linspace n < 0");
    l[2] = val_num(2.5);
    call_err(c, "linspace", l, 3, "linspace: number of samples 2.5 is not an integer",
             "linspace n = 2.5");
    val_decref(c, &s);
}

static void test_reshape(Ctx *c)
{
    Value x = iota(c, 1, (int64_t[]){6});
    Value a[4] = {x, val_num(2), val_num(3)};
    call_is(c, "reshape", a, 3, "[[0, 1, 2], [3, 4, 5]]", "reshape(x, 2, 3)");
    Value sh = vec(c, 2, (double[]){3, 2});
    a[1] = sh;
    call_is(c, "reshape", a, 2, "[[0, 1], [2, 3], [4, 5]]", "reshape(x, [3, 2])");
    Value r;
    call(c, "reshape", a, 2, &r);
    ok(r.t == T_ARR && r.u.a->base == x.u.a, "reshape gives a view");
    val_decref(c, &r);
    a[1] = val_num(-1), a[2] = val_num(2);
    call_is(c, "reshape", a, 3, "[[0, 1], [2, 3], [4, 5]]", "reshape(x, -1, 2)");
    a[1] = val_num(4), a[2] = val_num(2);
    call_err(c, "reshape", a, 3, "cannot reshape array of size 6 into shape (4, 2)",
             "reshape size mismatch");
    a[1] = val_num(-1), a[2] = val_num(4);
    call_err(c, "reshape", a, 3, "cannot reshape array of size 6 into shape (-1, 4)",
             "reshape unknown does not divide");
    a[1] = val_num(-1), a[2] = val_num(-1);
    call_err(c, "reshape", a, 3, "reshape: can only specify one unknown dimension",
             "reshape two unknowns");
    a[1] = val_num(1 << 30), a[2] = val_num(1 << 30), a[3] = val_num(1 << 30);
    call_err(c, "reshape", a, 4,
             "cannot reshape array of size 6 into shape (1073741824, 1073741824, 1073741824)",
             "reshape to a huge shape");
    a[1] = val_num(-2);
    call_err(c, "reshape", a, 2, "reshape: dimension -2 is negative", "reshape(x, -2)");
    Value one = iota(c, 1, (int64_t[]){1}), e = vec(c, 0, NULL);
    one.u.a->d[0] = 4;
    Value b[2] = {one, e};
    call_is(c, "reshape", b, 2, "4", "reshape([4], []) is a number");
    Value n5[3] = {val_num(5), val_num(1), val_num(1)};
    call_is(c, "reshape", n5, 3, "[[5]]", "reshape(5, 1, 1)");
    Value z = vec(c, 0, NULL);
    Value zc[3] = {z, val_num(3), val_num(-1)};
    call_is(c, "reshape", zc, 3, "[[], [], []]", "reshape([], 3, -1) is (3, 0)");
    Value s = str(c, "x");
    Value sc[2] = {s, val_num(1)};
    call_err(c, "reshape", sc, 2, "reshape: expected an array or a number, got string",
             "reshape(string)");
    Value vals[] = {x, sh, one, e, z, s};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) val_decref(c, &vals[i]);
}

static void test_reductions(Ctx *c)
{
    Value m = iota(c, 2, (int64_t[]){2, 3});
    m.u.a->d[4] = -7;
    Value a[2] = {m, val_num(0)};
    call_is(c, "sum", a, 1, "4", "sum(m)");
    call_is(c, "sum", a, 2, "[3, -6, 7]", "sum(m, 0)");
    a[1] = val_num(1);
    call_is(c, "sum", a, 2, "[3, 1]", "sum(m, 1)");
    a[1] = val_num(-1);
    call_is(c, "sum", a, 2, "[3, 1]", "sum(m, -1)");
    call_is(c, "max", a, 1, "5", "max(m)");
    call_is(c, "min", a, 1, "-7", "min(m)");
    a[1] = val_num(0);
    call_is(c, "max", a, 2, "[3, 1, 5]", "max(m, 0)");
    call_is(c, "min", a, 2, "[0, -7, 2]", "min(m, 0)");
    a[1] = val_num(1);
    call_is(c, "max", a, 2, "[2, 5]", "max(m, 1)");
    call_is(c, "min", a, 2, "[0, -7]", "min(m, 1)");
    a[1] = val_num(2);
    call_err(c, "sum", a, 2, "axis 2 is out of bounds for array of dimension 2", "sum(m, 2)");
    a[1] = val_num(-3);
    call_err(c, "max", a, 2, "axis -3 is out of bounds for array of dimension 2", "max(m, -3)");
    a[1] = val_num(0.5);
    call_err(c, "sum", a, 2, "sum: axis 0.5 is not an integer", "sum(m, 0.5)");
    Value v = iota(c, 1, (int64_t[]){4});
    Value b[2] = {v, val_num(0)};
    call_is(c, "sum", b, 2, "6", "sum of a 1-d array along axis 0 is a number");
    Value n[2] = {val_num(-0.0), val_num(0)};
    call_is(c, "sum", n, 1, "0", "sum(-0) is 0, as NumPy (the sum starts at 0)");
    Value small = vec(c, 3, (double[]){0.1, 0.2, 0.3});
    call_is(c, "sum", &small, 1, "0.6000000000000001", "sum([0.1, 0.2, 0.3]) in NumPy's order");
    val_decref(c, &small);
    call_is(c, "max", n, 1, "-0", "max of a number");
    call_err(c, "sum", n, 2, "axis 0 is out of bounds for array of dimension 0", "sum(5, 0)");
    Value e = vec(c, 0, NULL);
    call_is(c, "sum", &e, 1, "0", "sum([]) is 0");
    call_err(c, "max", &e, 1, "max of an empty array", "max([])");
    call_err(c, "min", &e, 1, "min of an empty array", "min([])");
    Value e2 = iota(c, 2, (int64_t[]){2, 0});
    Value ea[2] = {e2, val_num(1)};
    call_is(c, "sum", ea, 2, "[0, 0]", "sum((2, 0), 1)");
    call_err(c, "max", ea, 2, "max of an empty array", "max((2, 0), 1)");
    ea[1] = val_num(0);
    call_is(c, "max", ea, 2, "[]", "max((2, 0), 0) is empty");
    Value nanv = vec(c, 3, (double[]){1, NAN, 3});
    call_is(c, "max", &nanv, 1, "nan", "max propagates nan");
    call_is(c, "min", &nanv, 1, "nan", "min propagates nan");
    Value s = str(c, "x");
    call_err(c, "sum", &s, 1, "sum: expected an array or a number, got string", "sum(string)");
    call_err(c, "max", &s, 1, "max: expected an array or a number, got string", "max(string)");
    /* pairwise summation keeps a million 0.1s accurate */
    int64_t big = 1000000;
    Value tenth = val_arr(arr_full(c, 1, &big, 0.1));
    Value sr;
    call(c, "sum", &tenth, 1, &sr);
    double naive = 0;
    for (int i = 0; i < big; i++) naive += 0.1;
    ok(fabs(sr.u.n - 100000) < 1e-9 && fabs(naive - 100000) > 1e-7,
       "pairwise sum of 1e6 x 0.1 is accurate (%.17g; sequential %.17g)", sr.u.n, naive);
    /* a 3-d reduction along the middle axis */
    Value t = iota(c, 3, (int64_t[]){2, 3, 2});
    Value ta[2] = {t, val_num(1)};
    call_is(c, "sum", ta, 2, "[[6, 9], [24, 27]]", "sum((2, 3, 2), 1)");
    call_is(c, "max", ta, 2, "[[4, 5], [10, 11]]", "max((2, 3, 2), 1)");
    Value vals[] = {m, v, e, e2, nanv, s, tenth, t};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) val_decref(c, &vals[i]);
}

static void test_builtins_elementwise(Ctx *c)
{
    Value x = vec(c, 4, (double[]){-1.5, 0, 0.25, 4});
    const char *names[] = {"exp", "log", "sin", "cos", "tan", "tanh", "sqrt", "abs", "sign",
                           "floor", "ceil"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int k = builtin_find(names[i]);
        Value r;
        int good = k >= 0 && builtins[k].unop >= 0 && call(c, names[i], &x, 1, &r) == 0;
        for (int j = 0; good && j < 4; j++)
            good &= same_bits(r.u.a->d[j], num_unop(builtins[k].unop, x.u.a->d[j]));
        ok(good, "%s builtin matches num_unop", names[i]);
        if (k >= 0 && good) val_decref(c, &r);
    }
    call_is(c, "abs", &x, 1, "[1.5, 0, 0.25, 4]", "abs");
    call_is(c, "sign", &x, 1, "[-1, 0, 1, 1]", "sign");
    call_is(c, "floor", &x, 1, "[-2, 0, 0, 4]", "floor");
    call_is(c, "ceil", &x, 1, "[-1, 0, 1, 4]", "ceil");
    call_is(c, "sqrt", &x, 1, "[nan, 0, 0.5, 2]", "sqrt");
    Value s = str(c, "x");
    call_err(c, "exp", &s, 1, "exp: expected an array or a number, got string", "exp(string)");
    Value y = vec(c, 4, (double[]){0, 0, NAN, 5});
    Value ab[2] = {x, y};
    call_is(c, "maximum", ab, 2, "[0, 0, nan, 5]", "maximum");
    call_is(c, "minimum", ab, 2, "[-1.5, 0, nan, 4]", "minimum");
    Value sc[2] = {x, val_num(1)};
    call_is(c, "maximum", sc, 2, "[1, 1, 1, 4]", "maximum with a number");
    Value bs[2] = {s, x};
    call_err(c, "minimum", bs, 2, "minimum: expected arrays or numbers, got string and array",
             "minimum(string, array)");
    Value vals[] = {x, s, y};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) val_decref(c, &vals[i]);
}

static void test_builtins_more(Ctx *c)
{
    Value m = iota(c, 2, (int64_t[]){2, 3});
    call_is(c, "transpose", &m, 1, "[[0, 3], [1, 4], [2, 5]]", "transpose((2, 3))");
    Value t3 = iota(c, 3, (int64_t[]){2, 3, 4});
    Value r;
    call(c, "transpose", &t3, 1, &r);
    ok(r.u.a->nd == 3 && r.u.a->shape[0] == 4 && r.u.a->shape[2] == 2 &&
       r.u.a->d[1] == 12 && r.u.a->d[2] == 4,
       "transpose of 3-d reverses the axes");
    val_decref(c, &r);
    Value v = iota(c, 1, (int64_t[]){3});
    call(c, "transpose", &v, 1, &r);
    ok(r.t == T_ARR && r.u.a == v.u.a, "transpose of 1-d is the array itself");
    val_decref(c, &r);
    Value num = val_num(4), s = str(c, "s");
    call_is(c, "transpose", &num, 1, "4", "transpose(4)");
    call_err(c, "transpose", &s, 1, "transpose: expected an array or a number, got string",
             "transpose(string)");

    Value parts[3] = {v, iota(c, 1, (int64_t[]){0}), iota(c, 1, (int64_t[]){2})};
    call_is(c, "concat", parts, 3, "[0, 1, 2, 0, 1]", "concat 1-d");
    Value rows[2] = {m, iota(c, 2, (int64_t[]){1, 3})};
    call_is(c, "concat", rows, 2, "[[0, 1, 2], [3, 4, 5], [0, 1, 2]]", "concat 2-d");
    Value badc[2] = {m, v};
    call_err(c, "concat", badc, 2,
             "concat: item 2 has shape (3,), which does not match (2, 3) beyond the first axis",
             "concat rank mismatch");
    Value badn[2] = {v, num};
    call_err(c, "concat", badn, 2,
             "concat: item 2 is a number, expected an array of 1 or more dimensions",
             "concat of a number");

    Value st[2] = {v, v};
    call_is(c, "stack", st, 2, "[[0, 1, 2], [0, 1, 2]]", "stack");
    Value sn[2] = {val_num(1), val_num(2)};
    call_is(c, "stack", sn, 2, "[1, 2]", "stack of numbers");
    Value sb[2] = {v, m};
    call_err(c, "stack", sb, 2, "stack: item 2 has shape (2, 3), expected (3,)",
             "stack mismatch names stack");

    Value cond = vec(c, 3, (double[]){1, 0, NAN});
    Value w[3] = {cond, v, val_num(-1)};
    call_is(c, "where", w, 3, "[0, -1, 2]", "where(c, x, -1) (nan is true)");
    Value w2[3] = {val_num(0), val_num(1), val_num(2)};
    call_is(c, "where", w2, 3, "2", "where of numbers is a number");
    Value col = iota(c, 2, (int64_t[]){2, 1});
    Value w3[3] = {col, m, v};
    call_is(c, "where", w3, 3, "[[0, 1, 2], [3, 4, 5]]", "where broadcasts three operands");
    Value w4[3] = {m, v, parts[2]};
    call_err(c, "where", w4, 3,
             "operands could not be broadcast together with shapes (2, 3) (3,) (2,)",
             "where broadcast error lists all shapes");
    Value w5[3] = {s, v, v};
    call_err(c, "where", w5, 3, "where: expected arrays or numbers, got string", "where(string)");
    /* val_where reuses dst and tolerates dst aliasing an operand */
    Value d = iota(c, 1, (int64_t[]){3});
    Arr *da = d.u.a;
    Value zero = val_num(0);
    ok(val_where(c, &d, &d, &d, &zero) == 0 && d.u.a == da, "val_where writes into dst in place");
    text_is(&d, "[0, 1, 2]", "where(d, d, 0)");

    Value dd[2] = {v, v};
    call_is(c, "dot", dd, 2, "5", "dot of 1-d");
    Value dm[2] = {m, v};
    call_is(c, "dot", dm, 2, "[5, 14]", "dot 2-d . 1-d");
    Value ds[2] = {val_num(2), m};
    call_is(c, "dot", ds, 2, "[[0, 2, 4], [6, 8, 10]]", "dot with a number multiplies");
    Value dbad[2] = {m, m};
    call_err(c, "dot", dbad, 2, "dot: shapes (2, 3) and (2, 3) are not aligned",
             "dot mismatch names dot");
    Value dstr[2] = {m, s};
    call_err(c, "dot", dstr, 2, "dot: expected arrays or numbers, got array and string",
             "dot(array, string)");
    Value o[2] = {parts[2], v};
    call_is(c, "outer", o, 2, "[[0, 0, 0], [0, 1, 2]]", "outer");
    Value o2[2] = {m, val_num(2)};
    call_is(c, "outer", o2, 2, "[[0], [2], [4], [6], [8], [10]]", "outer flattens");

    Value pm[2] = {m, val_num(0)};
    Value ones = val_arr(arr_full(c, 2, (int64_t[]){2, 3}, 2));
    Value pm1[2] = {ones, val_num(0)};
    call_is(c, "prod", &m, 1, "0", "prod(m)");
    call_is(c, "prod", pm1, 2, "[4, 4, 4]", "prod(2s, 0)");
    call_is(c, "prod", &parts[1], 1, "1", "prod([]) is 1");
    call_is(c, "mean", &m, 1, "2.5", "mean(m)");
    call_is(c, "mean", pm, 2, "[1.5, 2.5, 3.5]", "mean(m, 0)");
    pm[1] = val_num(1);
    call_is(c, "mean", pm, 2, "[1, 4]", "mean(m, 1)");
    call_is(c, "mean", &parts[1], 1, "nan", "mean([]) is nan");
    Value am = vec(c, 4, (double[]){1, 9, 9, 3});
    call_is(c, "argmax", &am, 1, "1", "argmax: the first largest");
    Value an = vec(c, 4, (double[]){1, NAN, 9, NAN});
    call_is(c, "argmax", &an, 1, "1", "argmax: the first nan");
    call_is(c, "argmax", &m, 1, "5", "argmax of 2-d is a flat index");
    pm[1] = val_num(0);
    Value m2 = vec(c, 4, (double[]){1, 9, 8, 2});
    Value m22 = val_nil();
    Value shp = vec(c, 2, (double[]){2, 2});
    Value ra[2] = {m2, shp};
    call(c, "reshape", ra, 2, &m22);
    Value a0[2] = {m22, val_num(0)}, a1[2] = {m22, val_num(-1)};
    call_is(c, "argmax", a0, 2, "[1, 0]", "argmax(m, 0)");
    call_is(c, "argmax", a1, 2, "[1, 0]", "argmax(m, -1)");
    call_err(c, "argmax", &parts[1], 1, "argmax of an empty array", "argmax([])");

    Value vals[] = {m, t3, v, s, parts[1], parts[2], rows[1], cond, col, d, ones, am, an, m2,
                    m22, shp};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) val_decref(c, &vals[i]);
}

static void test_random(Ctx *c)
{
    Value a[2] = {val_num(1), val_num(1000)}, x, y, z;
    call(c, "rand", a, 2, &x);
    call(c, "rand", a, 2, &y);
    ok(x.t == T_ARR && x.u.a->n == 1000 && memcmp(x.u.a->d, y.u.a->d, 8000) == 0,
       "rand is deterministic for a seed");
    double lo = 1, hi = 0, sum = 0;
    for (int i = 0; i < 1000; i++) {
        lo = fmin(lo, x.u.a->d[i]);
        hi = fmax(hi, x.u.a->d[i]);
        sum += x.u.a->d[i];
    }
    ok(lo >= 0 && hi < 1 && fabs(sum / 1000 - 0.5) < 0.05, "rand is uniform in [0, 1)");
    a[0] = val_num(2);
    call(c, "rand", a, 2, &z);
    ok(memcmp(x.u.a->d, z.u.a->d, 8000) != 0, "another seed, other numbers");
    val_decref(c, &x);
    val_decref(c, &y);
    val_decref(c, &z);
    Value b[2] = {val_num(3), val_num(10001)};
    call(c, "randn", b, 2, &x);
    double m1 = 0, m2 = 0;
    for (int i = 0; i < 10001; i++) m1 += x.u.a->d[i], m2 += x.u.a->d[i] * x.u.a->d[i];
    ok(fabs(m1 / 10001) < 0.05 && fabs(m2 / 10001 - 1) < 0.05, "randn: mean 0, variance 1");
    val_decref(c, &x);
    Value sh = vec(c, 2, (double[]){2, 3});
    Value d[2] = {val_num(7), sh};
    call(c, "randn", d, 2, &x);
    call_is(c, "shape", &x, 1, "[2, 3]", "randn(7, [2, 3])");
    val_decref(c, &x);
    Value e[2] = {val_num(7), val_nil()};
    e[1] = vec(c, 0, NULL);
    call(c, "rand", e, 2, &x);
    ok(x.t == T_NUM && x.u.n >= 0 && x.u.n < 1, "rand(seed, []) is a number");
    Value f[2] = {val_num(1.5), val_num(3)};
    call_err(c, "rand", f, 2, "rand: seed 1.5 is not an integer", "rand(1.5, 3)");
    Value g[2] = {val_num(1), val_num(-3)};
    call_err(c, "randn", g, 2, "randn: dimension -3 is negative", "randn(1, -3)");
    val_decref(c, &sh);
    val_decref(c, &e[1]);
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

/* A .npy file as NumPy writes it, with the given header dict. */
static void write_npy(const char *path, const char *dict, const double *d, size_t n, int swap)
{
    char buf[512];
    size_t len = strlen(dict), total = 10 + len + 1;
    total += (64 - total % 64) % 64;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)(total - 10), buf[9] = 0;
    memcpy(buf + 10, dict, len);
    memset(buf + 10 + len, ' ', total - 10 - len - 1);
    buf[total - 1] = '\n';
    for (size_t i = 0; i < n; i++) {
        unsigned char *p = (unsigned char *)(buf + total + 8 * i);
        memcpy(p, &d[i], 8);
        if (swap)
            for (int j = 0; j < 4; j++) {
                unsigned char t = p[j];
                p[j] = p[7 - j], p[7 - j] = t;
            }
    }
    write_file(path, buf, total + 8 * n);
}

static void test_files(Ctx *c)
{
    char dir[] = "/tmp/unit-array-XXXXXX";
    if (!mkdtemp(dir)) {
        ok(0, "mkdtemp");
        return;
    }
    char path[64], p2[64];
    snprintf(path, sizeof path, "%s/a.npy", dir);
    Value name = str(c, path);
    Value m = iota(c, 2, (int64_t[]){2, 3});
    m.u.a->d[1] = 0.1;
    Value sv[2] = {name, m}, r;
    ok(call(c, "save", sv, 2, &r) == 0 && r.t == T_NIL, "save a (2, 3) array");
    FILE *f = fopen(path, "rb");
    char head[128] = {0};
    size_t got = fread(head, 1, sizeof head, f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    ok(got == 128 && memcmp(head, "\x93NUMPY\x01\x00", 8) == 0 && head[8] == 118 &&
       strncmp(head + 10, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 59) == 0 &&
       head[127] == '\n' && size == 128 + 48,
       "save writes NumPy's .npy layout");
    call_is(c, "load", &name, 1, "[[0, 0.1, 2], [3, 4, 5]]", "load what save wrote");
    Value n5[2] = {name, val_num(-2.5)};
    call(c, "save", n5, 2, &r);
    call_is(c, "load", &name, 1, "-2.5", "a number saves as 0-d and loads as a number");
    Value e[2] = {name, iota(c, 2, (int64_t[]){0, 4})};
    call(c, "save", e, 2, &r);
    Value le;
    call(c, "load", &name, 1, &le);
    ok(le.t == T_ARR && le.u.a->nd == 2 && le.u.a->shape[0] == 0 && le.u.a->shape[1] == 4,
       "an empty (0, 4) array round-trips");
    val_decref(c, &le);

    double six[6] = {0, 1, 2, 3, 4, 5};
    write_npy(path, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", six, 6, 0);
    call_is(c, "load", &name, 1, "[[0, 2, 4], [1, 3, 5]]", "load a Fortran-order file");
    write_npy(path, "{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }", six, 3, 1);
    call_is(c, "load", &name, 1, "[0, 1, 2]", "load a big-endian file");
    write_npy(path, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", six, 3, 0);
    char want[160];
    snprintf(want, sizeof want, "load: '%s' does not hold float64 values", path);
    call_err(c, "load", &name, 1, want, "load of int64 data");
    write_npy(path, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", six, 3, 0);
    snprintf(want, sizeof want, "load: '%s' is shorter than its shape says", path);
    call_err(c, "load", &name, 1, want, "load of a truncated file");
    write_npy(path, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, -3), }", six, 3, 0);
    snprintf(want, sizeof want, "load: '%s' has a shape dial cannot read", path);
    call_err(c, "load", &name, 1, want, "load of a bad shape");
    write_file(path, "hello world, not numpy", 22);
    snprintf(want, sizeof want, "load: '%s' is not a .npy file", path);
    call_err(c, "load", &name, 1, want, "load of a text file");
    remove(path);
    snprintf(want, sizeof want, "load: cannot open '%s': No such file or directory", path);
    call_err(c, "load", &name, 1, want, "load of a missing file");
    snprintf(p2, sizeof p2, "%s/no/such/dir.npy", dir);
    Value bad = str(c, p2);
    Value sb[2] = {bad, m};
    snprintf(want, sizeof want, "save: cannot write '%s': No such file or directory", p2);
    call_err(c, "save", sb, 2, want, "save into a missing directory");
    Value ns[2] = {val_num(1), m};
    call_err(c, "save", ns, 2, "save: the file name must be a string, got number",
             "save(1, m)");
    call_err(c, "load", &m, 1, "load: the file name must be a string, got array", "load(m)");
    rmdir(dir);
    Value vals[] = {name, m, e[1], bad};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) val_decref(c, &vals[i]);
}

int main(void)
{
    Ctx c;
    memset(&c, 0, sizeof c);
    c.out = stdout;
    test_alloc(&c);
    test_checkshape(&c);
    test_memlimit(&c);
    test_binary_ops(&c);
    test_unary_ops(&c);
    test_broadcast(&c);
    test_reuse(&c);
    test_matmul(&c);
    test_truth(&c);
    test_stack(&c);
    test_index(&c);
    test_setindex(&c);
    test_fmt_num();
    test_fmt_value(&c);
    test_builtins_basic(&c);
    test_builtins_ranges(&c);
    test_reshape(&c);
    test_reductions(&c);
    test_builtins_elementwise(&c);
    test_builtins_more(&c);
    test_random(&c);
    test_files(&c);
    ok(c.bytes == 0, "every byte is released (%zu left)", c.bytes);
    printf("1..%d\n", ntest);
    return nfail ? 1 : 0;
}
