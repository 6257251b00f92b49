/* unit-array.c: TAP test of the array core (array.c), value text
 * (format.c) and the builtins (builtins.c), without the VM. Exits 1 if any
 * test fails. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "builtins.h"

#include "tap.h"

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
    val_matmul(c, &r, &T, &v2);
    text_is(&r, "[[1, 3], [5, 7]]", "(2, 2, 2) @ (2,): a stack of matrices (t/unit-matmul.c has more)");
    Value n2 = val_num(2), s = str(c, "s");
    err_is(c, val_matmul(c, &r, &n2, &v2),
           "matmul: a number is not an array; use * to multiply by a number",
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

/* clip, cumsum, norm and eye; values as NumPy gives them */
static void test_builtins_numpy(Ctx *c)
{
    Value x = vec(c, 5, (double[]){-2, 0.5, 3, NAN, 1});
    Value cl[3] = {x, val_num(0), val_num(2)};
    call_is(c, "clip", cl, 3, "[0, 0.5, 2, nan, 1]", "clip(x, 0, 2); nan stays nan");
    Value lo = vec(c, 5, (double[]){-3, 1, 1, 1, 5}), hi = iota(c, 2, (int64_t[]){2, 1});
    Value cb[3] = {x, lo, hi};
    call_is(c, "clip", cb, 3, "[[-2, 0, 0, nan, 0], [-2, 1, 1, nan, 1]]",
            "clip broadcasts (5,) (5,) (2, 1); lo > hi gives hi");
    Value cn[3] = {val_num(7), val_num(0), val_num(5)};
    call_is(c, "clip", cn, 3, "5", "clip of numbers is a number");
    Value cnan[3] = {val_num(1), val_num(NAN), val_num(5)};
    call_is(c, "clip", cnan, 3, "nan", "clip with a nan bound gives nan");
    Value e = vec(c, 0, NULL);
    Value ce[3] = {e, val_num(0), val_num(1)};
    call_is(c, "clip", ce, 3, "[]", "clip([])");
    Value m = iota(c, 2, (int64_t[]){2, 3});
    Value cm[3] = {m, vec(c, 2, (double[]){1, 2}), val_num(3)};
    call_err(c, "clip", cm, 3,
             "clip: operands could not be broadcast together with shapes (2, 3) (2,)",
             "clip broadcast error");
    Value s = str(c, "s");
    Value cs[3] = {x, val_num(0), s};
    call_err(c, "clip", cs, 3, "clip: expected arrays or numbers, got array, number and string",
             "clip(x, 0, string)");
    Value r;
    ok(call(c, "clip", cl, 3, &r) == 0 && r.u.a != x.u.a && isnan(x.u.a->d[3]) &&
       x.u.a->d[0] == -2, "clip leaves its argument alone");
    val_decref(c, &r);

    call_is(c, "cumsum", &m, 1, "[0, 1, 3, 6, 10, 15]", "cumsum(m) flattens");
    Value ax[2] = {m, val_num(0)};
    call_is(c, "cumsum", ax, 2, "[[0, 1, 2], [3, 5, 7]]", "cumsum(m, 0)");
    ax[1] = val_num(1);
    call_is(c, "cumsum", ax, 2, "[[0, 1, 3], [3, 7, 12]]", "cumsum(m, 1)");
    ax[1] = val_num(-1);
    call_is(c, "cumsum", ax, 2, "[[0, 1, 3], [3, 7, 12]]", "cumsum(m, -1)");
    ax[1] = val_num(-2);
    call_is(c, "cumsum", ax, 2, "[[0, 1, 2], [3, 5, 7]]", "cumsum(m, -2)");
    ax[1] = val_num(2);
    call_err(c, "cumsum", ax, 2, "axis 2 is out of bounds for array of dimension 2",
             "cumsum(m, 2)");
    ax[1] = val_num(0.5);
    call_err(c, "cumsum", ax, 2, "cumsum: axis 0.5 is not an integer", "cumsum(m, 0.5)");
    Value t = iota(c, 3, (int64_t[]){2, 2, 2});
    Value ta[2] = {t, val_num(1)};
    call_is(c, "cumsum", ta, 2, "[[[0, 1], [2, 4]], [[4, 5], [10, 12]]]", "cumsum((2, 2, 2), 1)");
    Value n5[2] = {val_num(-0.0), val_num(0)};
    call_is(c, "cumsum", n5, 1, "[-0]", "cumsum(-0) is [-0] (1-d; the first term as is)");
    call_is(c, "cumsum", n5, 2, "[-0]", "cumsum(number, 0)");
    n5[1] = val_num(1);
    call_err(c, "cumsum", n5, 2, "axis 1 is out of bounds for array of dimension 1",
             "cumsum(number, 1)");
    call_is(c, "cumsum", &e, 1, "[]", "cumsum([])");
    Value e2 = iota(c, 2, (int64_t[]){2, 0});
    Value ea[2] = {e2, val_num(1)};
    call_is(c, "cumsum", ea, 2, "[[], []]", "cumsum((2, 0), 1)");
    ea[1] = val_num(0);
    call_is(c, "cumsum", ea, 2, "[[], []]", "cumsum((2, 0), 0)");
    Value tenth = vec(c, 3, (double[]){0.1, 0.2, 0.3});
    call_is(c, "cumsum", &tenth, 1, "[0.1, 0.30000000000000004, 0.6000000000000001]",
            "cumsum adds in order");
    call_err(c, "cumsum", &s, 1, "cumsum: expected an array or a number, got string",
             "cumsum(string)");

    Value v34 = vec(c, 2, (double[]){3, -4});
    call_is(c, "norm", &v34, 1, "5", "norm([3, -4])");
    call_is(c, "norm", &m, 1, "7.416198487095663", "norm of 2-d is Frobenius's");
    Value big = vec(c, 2, (double[]){3e200, 4e200});
    call_is(c, "norm", &big, 1, "4.9999999999999995e+200",
            "norm does not overflow (correctly rounded, as math.hypot)");
    Value tiny = vec(c, 2, (double[]){3e-200, 4e-200});
    call_is(c, "norm", &tiny, 1, "5e-200", "norm does not underflow");
    Value sub = vec(c, 2, (double[]){0x1p-1074, 0x1p-1074});
    call_is(c, "norm", &sub, 1, "5e-324", "norm of subnormals");
    Value mx = vec(c, 3, (double[]){1e308, 1e308, 1});
    call_is(c, "norm", &mx, 1, "1.4142135623730951e+308", "norm near the largest double");
    Value ov = vec(c, 2, (double[]){1.7e308, 1.7e308});
    call_is(c, "norm", &ov, 1, "inf", "a norm past the largest double is inf");
    Value nn = vec(c, 3, (double[]){INFINITY, NAN, 1});
    call_is(c, "norm", &nn, 1, "nan", "norm: nan wins over inf");
    Value ni = vec(c, 2, (double[]){-INFINITY, 1});
    call_is(c, "norm", &ni, 1, "inf", "norm: inf");
    Value nm = val_num(-2.5);
    call_is(c, "norm", &nm, 1, "2.5", "norm of a number is its magnitude");
    call_is(c, "norm", &e, 1, "0", "norm([]) is 0");
    call_err(c, "norm", &s, 1, "norm: expected an array or a number, got string", "norm(string)");
    /* where nothing overflows, norm(x) is sqrt(sum(x * x)) bit for bit */
    int64_t nr = 1001;
    Value rs[2] = {val_num(5), val_num((double)nr)}, rv, sq = val_nil(), sum, nv;
    call(c, "randn", rs, 2, &rv);
    val_binary(c, BIN_MUL, &sq, &rv, &rv);
    call(c, "sum", &sq, 1, &sum);
    call(c, "norm", &rv, 1, &nv);
    ok(same_bits(nv.u.n, sqrt(sum.u.n)), "norm(x) == sqrt(sum(x * x)) bit for bit (%.17g)",
       nv.u.n);
    for (int64_t i = 0; i < nr; i++) rv.u.a->d[i] *= 0x1p-1000;
    call(c, "norm", &rv, 1, &r);
    ok(same_bits(r.u.n, nv.u.n * 0x1p-1000), "... and scales exactly by a power of two");

    Value three = val_num(3);
    call_is(c, "eye", &three, 1, "[[1, 0, 0], [0, 1, 0], [0, 0, 1]]", "eye(3)");
    Value e23[2] = {val_num(2), val_num(3)};
    call_is(c, "eye", e23, 2, "[[1, 0, 0], [0, 1, 0]]", "eye(2, 3)");
    Value e32[2] = {val_num(3), val_num(1)};
    call_is(c, "eye", e32, 2, "[[1], [0], [0]]", "eye(3, 1)");
    Value e0 = val_num(0);
    call(c, "eye", &e0, 1, &r);
    ok(r.t == T_ARR && r.u.a->nd == 2 && r.u.a->shape[0] == 0 && r.u.a->shape[1] == 0,
       "eye(0) has shape (0, 0)");
    val_decref(c, &r);
    Value eb[2] = {val_num(2), val_num(-1)};
    call_err(c, "eye", eb, 2, "eye: dimension -1 is negative", "eye(2, -1)");
    Value eh = val_num(1.5);
    call_err(c, "eye", &eh, 1, "eye: dimension 1.5 is not an integer", "eye(1.5)");
    Value eg[2] = {val_num(1e7), val_num(1e7)};
    call_err(c, "eye", eg, 2, "array too large: shape (10000000, 10000000)", "eye(1e7, 1e7)");

    Value vals[] = {x, lo, hi, e, m, cm[1], s, t, e2, tenth, v34, big, tiny, sub, mx, ov, nn, ni,
                    rv, sq};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) val_decref(c, &vals[i]);
}

/* -- files ------------------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

/* A .npy file byte by byte as numpy.lib.format documents it: the magic
 * "\x93NUMPY", the version (major.0), the header length (2 bytes
 * little-endian for 1.0, 4 for 2.0 and 3.0), the header dict padded with
 * spaces and ended by a newline so the data starts at a multiple of 64,
 * then n bytes of data. */
static void npy_file(const char *path, int major, const char *dict, const void *data, size_t n)
{
    static unsigned char buf[1 << 16];
    size_t pre = major == 1 ? 10 : 12, len = strlen(dict), total = pre + len + 1;
    total += (64 - total % 64) % 64;
    if (total + n > sizeof buf) abort(); /* a test too big for the buffer */
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major, buf[7] = 0;
    size_t h = total - pre;
    for (size_t k = 0; k < pre - 8; k++) buf[8 + k] = (unsigned char)(h >> 8 * k);
    memcpy(buf + pre, dict, len);
    memset(buf + pre + len, ' ', total - pre - len - 1);
    buf[total - 1] = '\n';
    memcpy(buf + total, data, n);
    write_file(path, buf, total + n);
}

/* The header dict of a version 1.0 file with the given descr, order and
 * shape text. */
static void npy_simple(const char *path, const char *descr, const char *fortran,
                       const char *shape, const void *data, size_t n)
{
    char dict[256];
    snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr,
             fortran, shape);
    npy_file(path, 1, dict, data, n);
}

/* load(path) prints as want */
static void load_is(Ctx *c, const char *path, const char *want, const char *what)
{
    Value name = str(c, path);
    call_is(c, "load", &name, 1, want, what);
    val_decref(c, &name);
}

/* load(path) fails with "load: PATH: " + want */
static void load_err(Ctx *c, const char *path, const char *want, const char *what)
{
    char full[600];
    snprintf(full, sizeof full, "load: %s: %s", path, want);
    Value name = str(c, path);
    call_err(c, "load", &name, 1, full, what);
    val_decref(c, &name);
}

/* save(path, v) then load(path): the same shape and the same bits. */
static void round_trip(Ctx *c, const char *path, const Value *v, const char *what)
{
    Value args[2] = {str(c, path), *v}, r = val_nil(), back = val_nil();
    int good = call(c, "save", args, 2, &r) == 0 && call(c, "load", args, 1, &back) == 0;
    if (!good) {
        ok(0, "%s (error: %s)", what, c->msg);
    } else if (v->t == T_NUM) {
        ok(back.t == T_NUM && same_bits(back.u.n, v->u.n), "%s", what);
    } else {
        const Arr *a = v->u.a, *b = back.t == T_ARR ? back.u.a : NULL;
        ok(b && b->nd == a->nd && memcmp(b->shape, a->shape, (size_t)a->nd * 8) == 0 &&
           (a->n == 0 || memcmp(b->d, a->d, (size_t)a->n * 8) == 0), "%s", what);
    }
    val_decref(c, &back);
    val_decref(c, &args[0]);
}

/* n doubles of every kind: random bit patterns (nan payloads aside),
 * zeros of both signs, infinities, subnormals, extremes. */
static Value odd_values(Ctx *c, int nd, const int64_t *shape)
{
    static const double edge[] = {0, -0.0, INFINITY, -INFINITY, 0x1p-1074, -0x1p-1022,
                                  1.7976931348623157e308, 0.1, 1e23, -5e-324, 123456789012345678};
    Value v = mk(c, nd, shape, NULL);
    uint64_t s = 88172645463325252u;
    for (int64_t i = 0; i < v.u.a->n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17; /* xorshift64 */
        double x;
        memcpy(&x, &s, 8);
        if (isnan(x)) x = (double)s;
        v.u.a->d[i] = i < (int64_t)(sizeof edge / sizeof edge[0]) ? edge[i] : x;
    }
    return v;
}

static void test_npy_roundtrip(Ctx *c, const char *dir)
{
    char path[96];
    snprintf(path, sizeof path, "%s/r.npy", dir);
    Value m = iota(c, 2, (int64_t[]){2, 3});
    m.u.a->d[1] = 0.1;
    Value sv[2] = {str(c, path), m}, r;
    ok(call(c, "save", sv, 2, &r) == 0 && r.t == T_NIL, "save a (2, 3) array returns nil");
    FILE *f = fopen(path, "rb");
    unsigned char head[200] = {0};
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    static const char dict23[] = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
    static const char dict0[] = "{'descr': '<f8', 'fortran_order': False, 'shape': (), }";
    double d1;
    memcpy(&d1, head + 136, 8);
    ok(got == 128 + 48 && memcmp(head, "\x93NUMPY\x01\x00\x76\x00", 10) == 0 &&
       memcmp(head + 10, dict23, sizeof dict23 - 1) == 0 && head[9 + sizeof dict23] == ' ' &&
       head[126] == ' ' && head[127] == '\n' && head[136] == 0x9a && head[143] == 0x3f &&
       d1 == 0.1,
       "save writes numpy.save's bytes: header to 128, little-endian data");
    sv[1] = val_num(-2.5);
    call(c, "save", sv, 2, &r);
    f = fopen(path, "rb");
    got = fread(head, 1, sizeof head, f);
    fclose(f);
    ok(got == 136 && memcmp(head + 10, dict0, sizeof dict0 - 1) == 0 && head[127] == '\n',
       "a number saves as a 0-d array");
    val_decref(c, &sv[0]);

    Value n = val_num(-0.0);
    round_trip(c, path, &n, "round trip: -0 (0-d)");
    n = val_num(NAN);
    round_trip(c, path, &n, "round trip: nan (0-d)");
    static const int64_t shapes[][4] = {{0}, {1}, {7}, {0, 4}, {4, 0}, {3, 5}, {2, 3, 4},
                                        {1, 1, 1, 1}, {200}, {2000}};
    static const int nds[] = {1, 1, 1, 2, 2, 2, 3, 4, 1, 1};
    for (size_t i = 0; i < sizeof nds / sizeof nds[0]; i++) {
        Value v = odd_values(c, nds[i], shapes[i]);
        Sbuf b;
        sb_init(&b);
        fmt_shape(&b, nds[i], shapes[i]);
        char what[80];
        snprintf(what, sizeof what, "round trip, bit for bit: shape %s", sb_str(&b));
        round_trip(c, path, &v, what);
        sb_free(&b);
        val_decref(c, &v);
    }
    int64_t s16[16];
    for (int k = 0; k < 16; k++) s16[k] = k < 2 ? 2 : 1;
    Value v16 = odd_values(c, 16, s16);
    round_trip(c, path, &v16, "round trip: 16 dimensions");
    val_decref(c, &v16);
    snprintf(path, sizeof path, "%s/UPPER.NPY", dir);
    round_trip(c, path, &m, "the extension is case-insensitive (.NPY)");
    remove(path);
    snprintf(path, sizeof path, "%s/r.npy", dir);
    remove(path);
    val_decref(c, &m);
}

/* Files as other programs write them, byte by byte. */
static void test_npy_fixtures(Ctx *c, const char *dir)
{
    char path[96];
    snprintf(path, sizeof path, "%s/x.npy", dir);
    /* [[1, 2, -3], [4, 5, 65536]] as big-endian int32 in Fortran order */
    static const unsigned char be_i4[] = {0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2,
                                          0, 0, 0, 5, 0xff, 0xff, 0xff, 0xfd, 0, 1, 0, 0};
    npy_simple(path, ">i4", "True", "(2, 3)", be_i4, sizeof be_i4);
    load_is(c, path, "[[1, 2, -3], [4, 5, 65536]]", "'>i4' in Fortran order, 2x3");
    npy_simple(path, ">i4", "False", "(2, 3)", be_i4, sizeof be_i4);
    load_is(c, path, "[[1, 4, 2], [5, -3, 65536]]", "'>i4' in C order, 2x3");
    /* 0..23 as '<f8' in Fortran order, shape (2, 3, 4) */
    double f3[24];
    for (int i = 0; i < 24; i++) f3[i] = (i % 2) * 12 + (i / 2 % 3) * 4 + i / 6;
    npy_simple(path, "<f8", "True", "(2, 3, 4)", f3, sizeof f3);
    load_is(c, path, "[[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]], "
            "[[12, 13, 14, 15], [16, 17, 18, 19], [20, 21, 22, 23]]]", "Fortran order, 3-d");
    static const unsigned char le_f8[] = {0, 0, 0, 0, 0, 0, 0xf0, 0x3f,  /* 1 */
                                          0, 0, 0, 0, 0, 0, 0x04, 0xc0}; /* -2.5 */
    npy_file(path, 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", le_f8, 16);
    load_is(c, path, "[1, -2.5]", "version 2.0 (4-byte header length)");
    npy_file(path, 3, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", le_f8, 16);
    load_is(c, path, "[1, -2.5]", "version 3.0 (UTF-8 header)");
    static const unsigned char be_f8[] = {0xc0, 0x04, 0, 0, 0, 0, 0, 0};
    npy_simple(path, ">f8", "False", "()", be_f8, 8);
    load_is(c, path, "-2.5", "'>f8' 0-d is a number");
    static const unsigned char le_f4[] = {0xcd, 0xcc, 0xcc, 0x3d, 0, 0, 0x80, 0xff};
    npy_simple(path, "<f4", "False", "(2,)", le_f4, 8);
    load_is(c, path, "[0.10000000149011612, -inf]", "'<f4' widens exactly");
    static const unsigned char be_f4[] = {0x3d, 0xcc, 0xcc, 0xcd};
    npy_simple(path, ">f4", "False", "(1,)", be_f4, 4);
    load_is(c, path, "[0.10000000149011612]", "'>f4'");
    static const unsigned char u1[] = {0, 1, 128, 255};
    npy_simple(path, "|u1", "False", "(2, 2)", u1, 4);
    load_is(c, path, "[[0, 1], [128, 255]]", "'|u1'");
    npy_simple(path, "|i1", "False", "(4,)", u1, 4);
    load_is(c, path, "[0, 1, -128, -1]", "'|i1'");
    static const unsigned char b1[] = {1, 0, 0, 1, 1, 0};
    npy_simple(path, "|b1", "True", "(3, 2)", b1, 6);
    load_is(c, path, "[[1, 1], [0, 1], [0, 0]]", "'|b1' in Fortran order");
    static const unsigned char i8[] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0x7f, 0xfe, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff};
    npy_simple(path, "<i8", "False", "(3,)", i8, 24);
    load_is(c, path, "[-9.223372036854776e+18, 9.223372036854776e+18, -2]", "'<i8' extremes");
    npy_simple(path, ">u8", "False", "(1,)", "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
    load_is(c, path, "[1.8446744073709552e+19]", "'>u8' largest");
    npy_simple(path, "<i2", "False", "(2,)", "\x00\x80\xff\x7f", 4);
    load_is(c, path, "[-32768, 32767]", "'<i2'");
    npy_simple(path, ">u2", "False", "(1,)", "\x01\x02", 2);
    load_is(c, path, "[258]", "'>u2'");
    npy_simple(path, "<i4", "False", "(0, 3)", "", 0);
    Value name = str(c, path), e;
    call(c, "load", &name, 1, &e);
    ok(e.t == T_ARR && e.u.a->nd == 2 && e.u.a->shape[0] == 0 && e.u.a->shape[1] == 3,
       "an empty (0, 3) file");
    val_decref(c, &e);
    val_decref(c, &name);
    npy_file(path, 1, "{\"shape\":(2,),\"fortran_order\":False,\"descr\":\"<f8\"}", le_f8, 16);
    load_is(c, path, "[1, -2.5]", "keys in any order, double quotes, no spaces");
    npy_file(path, 1, "{ 'descr' : '<f8' ,\n 'fortran_order' : False , 'shape' : ( 2 , ) }",
             le_f8, 16);
    load_is(c, path, "[1, -2.5]", "whitespace anywhere Python allows");
    unsigned char tail[20] = {0};
    memcpy(tail, le_f8, 16);
    memcpy(tail + 16, "junk", 4);
    npy_simple(path, "<f8", "False", "(2,)", tail, 20);
    load_is(c, path, "[1, -2.5]", "trailing bytes after the data are ignored");
    remove(path);
}

/* Every way a .npy file can be wrong: an error naming the file. */
static void test_npy_hostile(Ctx *c, const char *dir)
{
    char path[96];
    snprintf(path, sizeof path, "%s/h.npy", dir);
    double six[6] = {0, 1, 2, 3, 4, 5};
    write_file(path, "", 0);
    load_err(c, path, "not a .npy file (no \\x93NUMPY magic string)", "an empty file");
    write_file(path, "hello world, not numpy", 22);
    load_err(c, path, "not a .npy file (no \\x93NUMPY magic string)", "wrong magic");
    write_file(path, "\x93NUMPY\x01", 7);
    load_err(c, path, "the file ends before the header", "cut inside the version");
    write_file(path, "\x93NUMPY\x02\x00\x10\x00\x00", 11);
    load_err(c, path, "the file ends before the header", "cut inside a 4-byte length");
    npy_file(path, 4, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", six, 8);
    load_err(c, path, "unsupported .npy format version 4.0 (dial reads 1.0, 2.0 and 3.0)",
             "version 4.0");
    write_file(path, "\x93NUMPY\x01\x01\x00\x00", 10);
    load_err(c, path, "unsupported .npy format version 1.1 (dial reads 1.0, 2.0 and 3.0)",
             "version 1.1");
    write_file(path, "\x93NUMPY\x01\x00\xff\xff{", 11);
    load_err(c, path, "the header length 65535 runs past the end of the file (11 bytes)",
             "header length past the end");
    write_file(path, "\x93NUMPY\x02\x00\xff\xff\xff\xff{}", 14);
    load_err(c, path, "the header length 4294967295 runs past the end of the file (14 bytes)",
             "a 4 GiB header length in a 14-byte file");
    FILE *f = fopen(path, "wb");
    fwrite("\x93NUMPY\x02\x00\x01\x00\x20\x00", 1, 12, f);
    fseek(f, 0x200001 + 12, SEEK_SET);
    fputc(0, f);
    fclose(f);
    load_err(c, path, "the header length 2097153 is more than dial reads (1048576)",
             "a 2 MiB header");

    static const struct {
        const char *dict, *err, *what;
    } bad[] = {
        {"['descr', '<f8']", "the header is not a dict", "a list, not a dict"},
        {"", "the header is not a dict", "an empty header"},
        {"{'descr': '<f8', 'fortran_order': False}", "the header has no 'shape'", "no shape"},
        {"{'fortran_order': False, 'shape': (2,)}", "the header has no 'descr'", "no descr"},
        {"{'descr': '<f8', 'shape': (2,)}", "the header has no 'fortran_order'", "no order"},
        {"{}", "the header has no 'descr'", "an empty dict"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}",
         "the header has an unexpected key 'x'", "an extra key"},
        {"{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}",
         "the header has a repeated key 'descr'", "a repeated key"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,)", 
         "the header is malformed at byte 118", "no closing brace"},
        {"{'descr': '<f8' 'fortran_order': False, 'shape': (2,)}",
         "the header is malformed at byte 16", "a missing comma"},
        {"{'descr: '<f8', 'fortran_order': False, 'shape': (2,)}",
         "the header is malformed at byte 10", "an unterminated key"},
        {"{descr: '<f8', 'fortran_order': False, 'shape': (2,)}",
         "the header is malformed at byte 1", "an unquoted key"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,)} x",
         "the header is malformed at byte 56", "text after the dict"},
        {"{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}",
         "'fortran_order' is not True or False", "fortran_order 0"},
        {"{'descr': '<f8', 'fortran_order': Falsey, 'shape': (2,)}",
         "'fortran_order' is not True or False", "fortran_order Falsey"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, -3)}",
         "'shape' is not a tuple of non-negative integers", "a negative extent"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2)}",
         "'shape' is not a tuple of non-negative integers", "(2) is not a tuple"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': 2}",
         "'shape' is not a tuple of non-negative integers", "a bare number"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,,)}",
         "'shape' is not a tuple of non-negative integers", "two commas"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (,)}",
         "'shape' is not a tuple of non-negative integers", "(,)"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2.0,)}",
         "'shape' is not a tuple of non-negative integers", "a float extent"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': [2]}",
         "'shape' is not a tuple of non-negative integers", "a list shape"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3}",
         "'shape' is not a tuple of non-negative integers", "an unclosed tuple"},
        {"{'descr': '<c16', 'fortran_order': False, 'shape': (2,)}",
         "unsupported dtype '<c16' (dial reads f4, f8, i1, i2, i4, i8, u1, u2, u4, u8 and b1, "
         "little- or big-endian)", "complex"},
        {"{'descr': '<f2', 'fortran_order': False, 'shape': (2,)}",
         "unsupported dtype '<f2' (dial reads f4, f8, i1, i2, i4, i8, u1, u2, u4, u8 and b1, "
         "little- or big-endian)", "half floats"},
        {"{'descr': '|f8', 'fortran_order': False, 'shape': (2,)}",
         "unsupported dtype '|f8' (dial reads f4, f8, i1, i2, i4, i8, u1, u2, u4, u8 and b1, "
         "little- or big-endian)", "no byte order for 8 bytes"},
        {"{'descr': 'O', 'fortran_order': False, 'shape': (2,)}",
         "unsupported dtype 'O' (dial reads f4, f8, i1, i2, i4, i8, u1, u2, u4, u8 and b1, "
         "little- or big-endian)", "objects"},
        {"{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,)}",
         "'descr' is not a dtype string (structured dtypes are not supported)", "structured"},
        {"{'descr': '<f8', 'fortran_order': False, "
         "'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)}",
         "too many dimensions (17, max 16)", "17 dimensions"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 2)}",
         "array too large: shape (1099511627776, 2)", "a product past ARR_MAXN"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}",
         "array too large: shape (4294967296, 4294967296)", "a product past int64"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (0, 99999999999999999999999)}",
         "array too large: shape (0, 9223372036854775807)", "an extent past int64"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (7,)}",
         "the data is 48 bytes, shape (7,) of '<f8' needs 56", "data shorter than the shape"},
        {"{'descr': '<i4', 'fortran_order': True, 'shape': (3, 5)}",
         "the data is 48 bytes, shape (3, 5) of '<i4' needs 60", "short Fortran-order data"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000)}",
         "the data is 48 bytes, shape (1000000, 1000000) of '<f8' needs 8000000000000",
         "a 8 TB shape in a small file allocates nothing"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t peak = c->peak;
        c->peak = c->bytes;
        npy_file(path, 1, bad[i].dict, six, 48);
        load_err(c, path, bad[i].err, bad[i].what);
        ok(c->peak - c->bytes < 4096, "... allocating at most the header (%zu bytes)",
           c->peak - c->bytes);
        c->peak = peak > c->peak ? peak : c->peak;
    }
    /* a NUL in the padding after the dict */
    const char *dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}";
    npy_file(path, 1, dict, six, 16);
    f = fopen(path, "r+b");
    fseek(f, 10 + (long)strlen(dict) + 1, SEEK_SET);
    fputc(0, f);
    fclose(f);
    load_err(c, path, "the header is malformed at byte 56", "a NUL in the padding");
    /* a big valid file under a memory limit */
    static double big[4096];
    npy_simple(path, "<f8", "False", "(4096,)", big, sizeof big);
    c->limit = c->bytes + 8192;
    Value name = str(c, path), r = val_nil();
    int rc = call(c, "load", &name, 1, &r);
    c->limit = 0;
    char want[160];
    snprintf(want, sizeof want, "load: %s: memory limit exceeded", path);
    ok(rc == -1 && strncmp(c->msg, want, strlen(want)) == 0, "load under a memory limit: %s",
       c->msg);
    remove(path);
    char sub[128];
    snprintf(sub, sizeof sub, "%s/d.npy", dir);
    mkdir(sub, 0700);
    load_err(c, sub, "not a regular file", "a directory named .npy");
    rmdir(sub);
    char missing[200];
    snprintf(missing, sizeof missing, "load: cannot open %s: No such file or directory", path);
    call_err(c, "load", &name, 1, missing, "a missing file");
    val_decref(c, &name);
}

static void test_csv(Ctx *c, const char *dir)
{
    char path[96];
    snprintf(path, sizeof path, "%s/x.csv", dir);
    Value v = odd_values(c, 1, (int64_t[]){300});
    round_trip(c, path, &v, "CSV round trip, bit for bit: 300 values of every kind (1-d)");
    val_decref(c, &v);
    v = odd_values(c, 2, (int64_t[]){40, 7});
    round_trip(c, path, &v, "CSV round trip, bit for bit: (40, 7)");
    val_decref(c, &v);
    v = odd_values(c, 2, (int64_t[]){1, 3});
    round_trip(c, path, &v, "CSV round trip: one row stays 2-d (1, 3)");
    val_decref(c, &v);
    v = vec(c, 0, NULL);
    round_trip(c, path, &v, "CSV round trip: [] (an empty file)");
    val_decref(c, &v);

    Value m = iota(c, 2, (int64_t[]){2, 3});
    m.u.a->d[1] = -0.1;
    m.u.a->d[5] = 1e100;
    Value sv[2] = {str(c, path), m}, r;
    call(c, "save", sv, 2, &r);
    FILE *f = fopen(path, "rb");
    char text[200] = {0};
    size_t got = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    ok(got == 20 && strcmp(text, "0,-0.1,2\n3,4,1e+100\n") == 0, "save writes rows of shortest numbers");
    Value col = iota(c, 2, (int64_t[]){3, 1});
    sv[1] = col;
    call(c, "save", sv, 2, &r);
    load_is(c, path, "[0, 1, 2]", "a (3, 1) column reads back 1-d (one number per line)");

    static const struct {
        const char *text, *want, *what;
    } good[] = {
        {"1\n2\n3\n", "[1, 2, 3]", "one number per line is 1-d"},
        {"1,2,3\n", "[[1, 2, 3]]", "one row of three is 2-d"},
        {"1, 2 ,3\n\t4 ,5,  6", "[[1, 2, 3], [4, 5, 6]]", "spaces and tabs; no final newline"},
        {"1,2\r\n3,4\r\n", "[[1, 2], [3, 4]]", "CRLF line ends"},
        {"1,2\n3,4\n\n\n  \n", "[[1, 2], [3, 4]]", "blank trailing lines are ignored"},
        {"\n1\n\n2\n", "[1, 2]", "blank lines between rows are skipped (as numpy.loadtxt)"},
        {"nan,inf,-inf\nNaN,+Infinity,-INF\n", "[[nan, inf, -inf], [nan, inf, -inf]]",
         "nan, inf, -inf in any case"},
        {"+1,.5,5.,-0\n", "[[1, 0.5, 5, -0]]", "+1, .5, 5., -0"},
        {"1e3,1E-3,2.5e+2,0.1e1\n", "[[1000, 0.001, 250, 1]]", "exponents"},
        {"1e400,-1e400,1e-400\n", "[[inf, -inf, 0]]", "out of range: inf and 0, as strtod"},
        {"0.1000000000000000055511151231257827021181583404541015625\n", "[0.1]",
         "long digit strings round correctly"},
        {"4.9406564584124654e-324\n", "[5e-324]", "the smallest subnormal"},
        {"\xef\xbb\xbf" "1,2\n3,4\n", "[[1, 2], [3, 4]]", "a UTF-8 byte order mark is skipped"},
        {"", "[]", "an empty file is []"},
        {"\n\n", "[]", "a blank file is []"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        write_file(path, good[i].text, strlen(good[i].text));
        load_is(c, path, good[i].want, good[i].what);
    }
    static const struct {
        const char *text, *err, *what;
    } bad[] = {
        {"1,2,3\n4,5,6\n7,8,9,10\n", ":3: row has 4 values, expected 3", "a long row"},
        {"1,2\n3\n", ":2: row has 1 value, expected 2", "a short row"},
        {"1\n2\n3,4\n", ":3: row has 2 values, expected 1", "a row after single values"},
        {"1,2\nabc,4\n", ":2: 'abc' is not a number", "a word"},
        {"1 2\n", ":1: '1 2' is not a number", "space-separated numbers"},
        {"0x10\n", ":1: '0x10' is not a number", "hex"},
        {"1e\n", ":1: '1e' is not a number", "an exponent without digits"},
        {"1.2.3\n", ":1: '1.2.3' is not a number", "two points"},
        {"nan(1)\n", ":1: 'nan(1)' is not a number", "nan(...)"},
        {"--1\n", ":1: '--1' is not a number", "two signs"},
        {".\n", ":1: '.' is not a number", "a lone point"},
        {"\n\n1,,2\n", ":3: a value is missing", "an empty field"},
        {"1,2,\n", ":1: a value is missing", "a trailing comma"},
        {"x1234567890123456789012345678901234567890123456789\n",
         ":1: 'x123456789012345678901234567890123456789...' is not a number", "a long word"},
        {"\x93NUMPY\x01\x00\n", ":1: '\x93NUMPY\x01' is not a number", "binary bytes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path, bad[i].text, strlen(bad[i].text));
        char want[300];
        snprintf(want, sizeof want, "load: %s%s", path, bad[i].err);
        Value name = str(c, path);
        call_err(c, "load", &name, 1, want, bad[i].what);
        val_decref(c, &name);
    }
    write_file(path, "1\0" "2\n", 4);
    char want[300];
    snprintf(want, sizeof want, "load: %s:1: '1", path);
    Value name = str(c, path);
    r = val_nil();
    ok(call(c, "load", &name, 1, &r) == -1 && strncmp(c->msg, want, strlen(want)) == 0,
       "a NUL byte is not a number: %s", c->msg);
    val_decref(c, &name);

    sv[1] = col;
    call(c, "save", sv, 2, &r);
    Value t3 = iota(c, 3, (int64_t[]){2, 2, 2});
    sv[1] = t3;
    snprintf(want, sizeof want, "save: %s: a .csv file holds a 1-d or 2-d array, not shape (2, 2, 2)",
             path);
    call_err(c, "save", sv, 2, want, "save of 3-d as CSV");
    sv[1] = val_num(1);
    snprintf(want, sizeof want, "save: %s: a .csv file holds a 1-d or 2-d array, not shape ()",
             path);
    call_err(c, "save", sv, 2, want, "save of a number as CSV");
    load_is(c, path, "[0, 1, 2]", "... and the failed saves left the file alone");
    val_decref(c, &sv[0]);
    snprintf(path, sizeof path, "%s/Y.Csv", dir);
    sv[0] = str(c, path);
    sv[1] = m;
    call(c, "save", sv, 2, &r);
    load_is(c, path, "[[0, -0.1, 2], [3, 4, 1e+100]]", "the extension is case-insensitive");
    remove(path);
    val_decref(c, &sv[0]);

    snprintf(path, sizeof path, "%s/x.txt", dir);
    sv[0] = str(c, path);
    snprintf(want, sizeof want, "save: %s: unknown file type (dial writes .npy and .csv files)",
             path);
    call_err(c, "save", sv, 2, want, "save to an unknown extension");
    snprintf(want, sizeof want, "load: %s: unknown file type (dial reads .npy and .csv files)",
             path);
    call_err(c, "load", sv, 1, want, "load of an unknown extension");
    f = fopen(path, "rb");
    ok(f == NULL, "an unknown extension writes no file");
    if (f) fclose(f);
    val_decref(c, &sv[0]);
    sv[0] = str(c, dir);
    snprintf(want, sizeof want, "load: %s: unknown file type (dial reads .npy and .csv files)", dir);
    call_err(c, "load", sv, 1, want, "a name without an extension");
    val_decref(c, &sv[0]);
    snprintf(path, sizeof path, "%s/d.csv", dir);
    mkdir(path, 0700);
    sv[0] = str(c, path);
    snprintf(want, sizeof want, "load: %s: cannot read: Is a directory", path);
    call_err(c, "load", sv, 1, want, "a directory named .csv");
    snprintf(want, sizeof want, "save: cannot write %s: Is a directory", path);
    call_err(c, "save", sv, 2, want, "save over a directory");
    rmdir(path);
    val_decref(c, &sv[0]);
    snprintf(path, sizeof path, "%s/no/such/dir.npy", dir);
    sv[0] = str(c, path);
    snprintf(want, sizeof want, "save: cannot write %s: No such file or directory", path);
    call_err(c, "save", sv, 2, want, "save into a missing directory");
    val_decref(c, &sv[0]);
    Value ns[2] = {val_num(1), m};
    call_err(c, "save", ns, 2, "save: the file name must be a string, got number", "save(1, m)");
    call_err(c, "load", &m, 1, "load: the file name must be a string, got array", "load(m)");
    Value sfn[2] = {str(c, "a.npy"), val_nil()};
    sfn[1].t = T_BUILTIN;
    call_err(c, "save", sfn, 2, "save: expected an array or a number, got function",
             "save of a function");
    val_decref(c, &sfn[0]);
    snprintf(path, sizeof path, "%s/x.csv", dir);
    remove(path);
    val_decref(c, &m);
    val_decref(c, &col);
    val_decref(c, &t3);
}

static void test_files(Ctx *c)
{
    char dir[] = "/tmp/unit-array-XXXXXX";
    if (!mkdtemp(dir)) {
        ok(0, "mkdtemp");
        return;
    }
    test_npy_roundtrip(c, dir);
    test_npy_fixtures(c, dir);
    test_npy_hostile(c, dir);
    test_csv(c, dir);
    ok(rmdir(dir) == 0, "the tests leave no files behind");
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
    test_builtins_numpy(&c);
    test_files(&c);
    ok(c.bytes == 0, "every byte is released (%zu left)", c.bytes);
    ctx_release(&c);
    free(c.scratch);
    printf("1..%d\n", ntest);
    return nfail ? 1 : 0;
}
