/* gen-grad.c: random differentiable dial programs for differential testing
 * of gradients (t/gradfuzz.test).
 *
 *     t/gen-grad [--seed S] [--first K] [--count N] > prog.dial
 *     cat prog.dial t/grad/fd.inc t/gradfuzz.inc | dial -
 *
 * writes functions number K .. K+N-1 of seed S. Function k depends on S
 * and k alone, so one failing function is reproduced with --first k
 * --count 1. Each function has one to three array parameters (numbers,
 * rows, columns and matrices of extents R x C that broadcast together) and
 * mixes arithmetic, builtins with rules in lib/derivatives.rules, slices,
 * indexing, indexed stores, regions, if on the data, for and bounded while
 * loops (with break and continue), calls to helper functions (tuples and
 * recursion included) and early returns. Functions whose loops can be
 * checkpointed come in five variants: store-all (no annotation), every loop
 * `checkpoint(1)`, `checkpoint(2)`, `checkpoint` (snapshots from the
 * budget) and `checkpoint(s)` with s from 3 to 6. The generated checks (in
 * t/gradfuzz.inc) compare every variant's gradient with the store-all one
 * bit for bit, and the store-all one with central finite differences at two
 * random points.
 *
 * Kinks and domain edges are kept away from the points where that is
 * cheap (log(1 + e*e), 1.5 + e*e as a divisor, bases of powers kept
 * positive and variable exponents bounded: a power that overflows in a
 * part of an array the function drops has adjoint 0 * inf = NaN, seed
 * 112 function 416 of the second long run; the steps of floor and mod
 * taken of bounded values: on a large one they are so dense that finite
 * differences see the average slope, seed 206 function 18 of the third);
 * where it is not (abs, maximum, mod, floor, branches and trip
 * counts on data) the checker skips a derivative whose finite differences
 * at two step sizes disagree. A comment at the end counts the features. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

enum { S, V, W, M, NTYPES };     /* number, (C,), (R,), (R, C) */
enum { SAME = NTYPES, BC, ANY }; /* operand types relative to the result */
#define BIT(t) (1u << (t))
#define ALL (BIT(S) | BIT(V) | BIT(W) | BIT(M))

#define NVAR 128
#define NHELP 4
#define NVARIANT 5

typedef struct Var {
    char name[16];
    int type;
    int index; /* 1 a for loop's index, 2 a while loop's counter: never
                  assigned; only an index is below R */
} Var;

typedef struct Helper {
    char name[24];
    int np, pt[2]; /* parameter count and types */
    int nret, rt[2];
    int rec;       /* recursive: takes a depth as an extra argument */
} Helper;

/* The features the generated programs use, counted over the run. */
enum {
    F_FOR, F_WHILE, F_WHILE_DATA, F_NESTED, F_CKPT_LOOP, F_JUMP, F_IF,
    F_RETURN, F_STORE, F_REGION, F_CALL, F_TUPLE, F_RECURSION, F_PARAMS,
    NFEAT
};
static const char *const feat_name[NFEAT] = {
    "for", "while", "while on data", "nested loop", "checkpointable loop",
    "break/continue", "if", "early return", "indexed store", "region",
    "call", "tuple call", "recursive helper", "parameters",
};

typedef struct Op {
    unsigned mask;       /* result types it makes */
    const char *t;       /* template: #0-#2 operands, %x see fill() */
    signed char arg[3];  /* operand types, -1 past the last */
    const char *cat;
} Op;

#define A1(a) { a, -1, -1 }
#define A2(a, b) { a, b, -1 }
#define A3(a, b, c) { a, b, c }

static const Op ops[] = {
    /* elementwise, any shape */
    { ALL, "sin(#0)", A1(SAME), "elementwise" },
    { ALL, "cos(#0)", A1(SAME), "elementwise" },
    { ALL, "tanh(#0)", A1(SAME), "elementwise" },
    { ALL, "exp(tanh(#0))", A1(SAME), "elementwise" },
    { ALL, "log(1 + #0 * #0)", A1(SAME), "elementwise" },
    { ALL, "sqrt(1 + #0 * #0)", A1(SAME), "elementwise" },
    { ALL, "(#0 ^ 2)", A1(SAME), "elementwise" },
    { ALL, "(#0 ^ 3)", A1(SAME), "elementwise" },
    { ALL, "((1.2 + sin(#0)) ^ 1.5)", A1(SAME), "elementwise" },
    { ALL, "tan(0.5 * tanh(#0))", A1(SAME), "elementwise" },
    { ALL, "(-#0)", A1(SAME), "elementwise" },
    { ALL, "abs(#0)", A1(SAME), "kink" },
    { ALL, "(sign(#0) * #0)", A1(SAME), "kink" },
    { ALL, "(3 * tanh(#0) %% 1.7)", A1(SAME), "kink" },
    { ALL, "(floor(4 * tanh(#0)) * 0.2 + #0)", A1(SAME), "kink" },
    { ALL, "clip(#0, -0.6, 0.5)", A1(SAME), "kink" },
    /* arithmetic, the second operand broadcasting */
    { ALL, "(#0 + #1)", A2(SAME, BC), "broadcast" },
    { ALL, "(#1 + #0)", A2(SAME, BC), "broadcast" },
    { ALL, "(#0 - %c * #1)", A2(SAME, BC), "broadcast" },
    { ALL, "(#1 - #0)", A2(SAME, BC), "broadcast" },
    { ALL, "(#0 * #1)", A2(SAME, BC), "broadcast" },
    { ALL, "(#1 * #0)", A2(SAME, BC), "broadcast" },
    { ALL, "(#0 / (1.5 + #1 * #1))", A2(SAME, BC), "broadcast" },
    { ALL, "(#1 / (1.5 + #0 * #0))", A2(SAME, BC), "broadcast" },
    { ALL, "((1.5 + cos(#0)) ^ (2 * tanh(#1)))", A2(SAME, BC), "broadcast" },
    { ALL, "((1.5 + cos(#1)) ^ (2 * tanh(#0)))", A2(SAME, BC), "broadcast" },
    { ALL, "(3 * tanh(#0) %% (2 + sin(#1)))", A2(SAME, BC), "kink" },
    { ALL, "(#0 * (#1 > %t))", A2(SAME, BC), "select" },
    { ALL, "where(#1 > %t, #0, #2)", A3(SAME, BC, BC), "select" },
    { ALL, "maximum(#0, #1)", A2(SAME, BC), "select" },
    { ALL, "minimum(#1, #0)", A2(SAME, BC), "select" },
    /* numbers */
    { BIT(S), "sum(#0)", A1(ANY), "reduction" },
    { BIT(S), "mean(#0)", A1(ANY), "reduction" },
    { BIT(S), "max(#0)", A1(ANY), "reduction" },
    { BIT(S), "min(#0)", A1(ANY), "reduction" },
    { BIT(S), "prod(#0)", A1(ANY), "reduction" },
    { BIT(S), "norm(#0)", A1(ANY), "reduction" },
    { BIT(S), "sum(#0[%s])", A1(V), "slice" },
    { BIT(S), "mean(#0[%S])", A1(W), "slice" },
    { BIT(S), "cumsum(#0)[-1]", A1(V), "reduction" },
    { BIT(S), "(#0 @ #1)", A2(V, V), "matmul" },
    { BIT(S), "(#0 @ #1)", A2(W, W), "matmul" },
    { BIT(S), "dot(#0, #1)", A2(V, V), "matmul" },
    { BIT(S), "(#0 @ (#1 @ #2))", A3(W, M, V), "matmul" },
    { BIT(S), "(%w @ #0 @ %v)", A1(M), "matmul" },
    { BIT(S), "#0[%j]", A1(V), "index" },
    { BIT(S), "#0[%r]", A1(W), "index" },
    { BIT(S), "#0[%r, %j]", A1(M), "index" },
    { BIT(S), "#0[%r][%j]", A1(M), "index" },
    { BIT(S), "#0[-1]", A1(V), "index" },
    /* rows (C,) */
    { BIT(V), "#0[%r]", A1(M), "index" },
    { BIT(V), "#0[-1]", A1(M), "index" },
    { BIT(V), "transpose(#0)[:, %r]", A1(M), "index" },
    { BIT(V), "sum(#0, 0)", A1(M), "reduction" },
    { BIT(V), "mean(#0, 0)", A1(M), "reduction" },
    { BIT(V), "max(#0, 0)", A1(M), "reduction" },
    { BIT(V), "min(#0, -2)", A1(M), "reduction" },
    { BIT(V), "prod(#0, 0)", A1(M), "reduction" },
    { BIT(V), "cumsum(#0)", A1(V), "reduction" },
    { BIT(V), "(#0 @ #1)", A2(W, M), "matmul" },
    { BIT(V), "(#0 @ %m)", A1(W), "matmul" },
    { BIT(V), "(%w @ #0)", A1(M), "matmul" },
    { BIT(V), "dot(#0, #1)", A2(W, M), "matmul" },
    { BIT(V), "(#0 @ %q)", A1(V), "matmul" },
    { BIT(V), "(%q @ #0)", A1(V), "matmul" },
    { BIT(V), "(transpose(#0) @ #1)", A2(M, W), "matmul" },
    { BIT(V), "#0[::-1]", A1(V), "slice" },
    { BIT(V), "concat(#0[%k:], #0[:%k])", A1(V), "slice" },
    { BIT(V), "concat(#0[:%k] * #1, #0[%k:])", A2(V, S), "slice" },
    { BIT(V), "concat(#0, #1)[%k:%K]", A2(V, V), "slice" },
    { BIT(V), "stack(#0, #1)[1]", A2(V, V), "join" },
    { BIT(V), "sum(stack(#0, #1, #0), 0)", A2(V, V), "join" },
    { BIT(V), "full(%C, #0)", A1(S), "join" },
    /* columns (R,) */
    { BIT(W), "#0[:, %j]", A1(M), "index" },
    { BIT(W), "transpose(#0)[%j]", A1(M), "index" },
    { BIT(W), "sum(#0, 1)", A1(M), "reduction" },
    { BIT(W), "mean(#0, -1)", A1(M), "reduction" },
    { BIT(W), "max(#0, 1)", A1(M), "reduction" },
    { BIT(W), "cumsum(#0)", A1(W), "reduction" },
    { BIT(W), "(#0 @ #1)", A2(M, V), "matmul" },
    { BIT(W), "(%m @ #0)", A1(V), "matmul" },
    { BIT(W), "(#0 @ %T)", A1(V), "matmul" },
    { BIT(W), "dot(#0, #1)", A2(M, V), "matmul" },
    { BIT(W), "(#0 @ transpose(#1))", A2(V, M), "matmul" },
    { BIT(W), "#0[::-1]", A1(W), "slice" },
    { BIT(W), "concat(#0[%l:], #0[:%l])", A1(W), "slice" },
    { BIT(W), "full(%R, #0)", A1(S), "join" },
    /* matrices (R, C) */
    { BIT(M), "outer(#0, #1)", A2(W, V), "matmul" },
    { BIT(M), "(#0 @ %q)", A1(M), "matmul" },
    { BIT(M), "sum(stack(#0, #1) @ %q, 0)", A2(M, M), "matmul" },
    { BIT(M), "reshape(transpose(#0), %R, %C)", A1(M), "reshape" },
    { BIT(M), "transpose(transpose(#0) * %T)", A1(M), "reshape" },
    { BIT(M), "swapaxes(swapaxes(#0, 0, 1) + %T, 0, 1)", A1(M), "reshape" },
    { BIT(M), "reshape(concat(reshape(#0, -1)[%k:], reshape(#0, -1)[:%k]), %R, %C)", A1(M), "reshape" },
    { BIT(M), "concat(#0[%l:], #0[:%l])", A1(M), "slice" },
    { BIT(M), "#0[:, ::-1]", A1(M), "slice" },
    { BIT(M), "concat(stack(#0), #1[1:])", A2(V, M), "join" },
    { BIT(M), "sum(stack(#0, #1), 0)", A2(M, M), "join" },
    { BIT(M), "(#0 * reshape(#1, %R, 1))", A2(M, W), "broadcast" },
    { BIT(M), "(reshape(#1, %R, 1) - #0)", A2(M, W), "broadcast" },
    { BIT(M), "cumsum(#0, 1)", A1(M), "reduction" },
    { BIT(M), "full([%R, %C], #0)", A1(S), "join" },
};
#define NOPS ((int)(sizeof ops / sizeof ops[0]))

/* The categories of ops, counted as features after the statements. */
static const char *const op_cat[] = {
    "elementwise", "kink", "broadcast", "select", "reduction", "slice",
    "matmul", "index", "join", "reshape",
};
#define NCAT ((int)(sizeof op_cat / sizeof op_cat[0]))

typedef struct Gen {
    uint64_t rng;
    int fn;              /* the function's number */
    int R, C;            /* extents, R < C */
    Var var[NVAR];       /* the names in scope */
    int nv;
    Helper help[NHELP];
    int nh;
    int fresh;           /* counter for new names */
    int loops;           /* loop nesting */
    int in_loop_ckpt;    /* the function has a checkpointable loop */
    int indent;
    Sbuf *o;             /* the function group's text, with markers */
    long feat[NFEAT];
    long cat[NCAT];
    long stmts, exprs;
} Gen;

/* Markers in a function group's text, replaced per variant. */
#define MARK_CKPT '\1'   /* where a loop annotation goes */
#define MARK_NAME '\2'   /* after a function's name: the variant suffix */

/* --- random numbers (splitmix64: the same sequence on every machine) ----- */

static uint64_t next(Gen *g)
{
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static int pick(Gen *g, int n) { return (int)(next(g) % (uint64_t)n); }
static double unif(Gen *g, double lo, double hi)
{
    return lo + (hi - lo) * (double)(next(g) >> 11) / 9007199254740992.0;
}
static int chance(Gen *g, double p) { return unif(g, 0, 1) < p; }

/* --- names ------------------------------------------------------------------- */

/* A new variable; past NVAR (never in practice) the last one's slot is
 * reused, which only hides that variable from later statements. */
static Var *declare(Gen *g, char prefix, int type, int index)
{
    Var *v = &g->var[g->nv < NVAR ? g->nv++ : NVAR - 1];
    snprintf(v->name, sizeof v->name, "%c%d", prefix, g->fresh++);
    v->type = type;
    v->index = index;
    return v;
}

/* A random variable of type t (-1: any) that may be assigned if assignable,
 * or NULL. */
static Var *find(Gen *g, int t, int assignable)
{
    int cand[NVAR], n = 0;
    for (int i = 0; i < g->nv; i++)
        if ((t < 0 || g->var[i].type == t) && !(assignable && g->var[i].index))
            cand[n++] = i;
    return n ? &g->var[cand[pick(g, n)]] : NULL;
}

static void pad(Gen *g)
{
    for (int i = 0; i < g->indent; i++) sb_puts(g->o, "    ");
}

/* --- expressions ------------------------------------------------------------ */

static void ex(Gen *g, Sbuf *o, int t, int d);

/* An index below n: a constant, negative at times, or a loop index in
 * scope (loops run below R <= n). */
static void index_below(Gen *g, Sbuf *o, int n)
{
    Var *v = find(g, S, 0);
    if (v && v->index == 1 && chance(g, 0.4)) {
        sb_puts(o, v->name);
        return;
    }
    int i = pick(g, n);
    sb_printf(o, "%d", chance(g, 0.2) ? i - n : i);
}

static void slice_of(Gen *g, Sbuf *o, int n)
{
    static const char *const fixed[] = { "::2", "::-1", "1:", ":-1", "-2:" };
    int k = pick(g, 7);
    if (k < 5) {
        sb_puts(o, fixed[k]);
        return;
    }
    int a = pick(g, n), b = a + 1 + pick(g, n - a);
    sb_printf(o, "%d:%d", a, b);
}

/* A type that broadcasts to t. */
static int bcast_type(Gen *g, int t)
{
    if (t == S || chance(g, 0.5)) return t;
    if (t == M && chance(g, 0.4)) return V;
    return S;
}

/* The template's placeholders:
 *   #0-#2  the operands          %c  a constant in [0.1, 1.5]     %%  %
 *   %t     a branch threshold    %j %r  a column / row index
 *   %s %S  a slice of C / R      %k %l  a split point of C / R (one per op)
 *   %K     %k + C                %R %C  the extents
 *   %m %v %w %q %T  the constant (R,C) (C,) (R,) (C,C) (C,R) arrays */
static void fill(Gen *g, Sbuf *o, const char *t, Sbuf *arg)
{
    int k = 1 + pick(g, g->C - 1), l = 1 + pick(g, g->R - 1);
    for (; *t; t++) {
        if (*t == '#') {
            sb_puts(o, sb_str(&arg[*++t - '0']));
            continue;
        }
        if (*t != '%') {
            sb_putc(o, *t);
            continue;
        }
        switch (*++t) {
        case 'c': sb_printf(o, "%.2f", unif(g, 0.1, 1.5)); break;
        case 't': sb_printf(o, "%.3f", unif(g, -1, 1)); break;
        case 'j': index_below(g, o, g->C); break;
        case 'r': index_below(g, o, g->R); break;
        case 's': slice_of(g, o, g->C); break;
        case 'S': slice_of(g, o, g->R); break;
        case 'k': sb_printf(o, "%d", k); break;
        case 'l': sb_printf(o, "%d", l); break;
        case 'K': sb_printf(o, "%d", k + g->C); break;
        case 'R': sb_printf(o, "%d", g->R); break;
        case 'C': sb_printf(o, "%d", g->C); break;
        case '%': sb_putc(o, '%'); break;
        default: sb_printf(o, "K%c%d", *t, g->fn); break;
        }
    }
}

static void op(Gen *g, Sbuf *o, const Op *p, int t, int d)
{
    Sbuf arg[3];
    for (int i = 0; i < 3; i++) {
        sb_init(&arg[i]);
        int a = p->arg[i];
        if (a < 0) continue;
        if (a == SAME) a = t;
        else if (a == BC) a = bcast_type(g, t);
        else if (a == ANY) a = V + pick(g, 3);
        /* a matrix's operand may also be a column (R, 1) */
        if (p->arg[i] == BC && t == M && a == S && chance(g, 0.4)) {
            sb_puts(&arg[i], "reshape(");
            ex(g, &arg[i], W, d - 1);
            sb_printf(&arg[i], ", %d, 1)", g->R);
        } else {
            ex(g, &arg[i], a, d - 1);
        }
    }
    fill(g, o, p->t, arg);
    for (int i = 0; i < 3; i++) sb_free(&arg[i]);
    for (int i = 0; i < NCAT; i++)
        if (!strcmp(op_cat[i], p->cat)) g->cat[i]++;
}

static void call_args(Gen *g, Sbuf *o, const Helper *h, int d)
{
    sb_printf(o, "%s%c(", h->name, MARK_NAME);
    for (int i = 0; i < h->np; i++) {
        if (i) sb_puts(o, ", ");
        ex(g, o, h->pt[i], d - 1);
    }
    if (h->rec) sb_printf(o, ", %d", 1 + pick(g, 3));
    sb_putc(o, ')');
}

/* A helper of one result of type t, or NULL. */
static const Helper *helper_of(Gen *g, int t)
{
    int cand[NHELP], n = 0;
    for (int i = 0; i < g->nh; i++)
        if (g->help[i].nret == 1 && g->help[i].rt[0] == t) cand[n++] = i;
    return n ? &g->help[cand[pick(g, n)]] : NULL;
}

/* Variable v turned into type t. */
static void convert(Gen *g, Sbuf *o, int t, const Var *v)
{
    static const char *const conv[NTYPES][NTYPES] = {
        /* to S */ { "#0", "#0[%j]", "#0[%r]", "#0[%r, %j]" },
        /* to V */ { "(#0 * %v)", "#0", "(#0 @ %m)", "#0[%r]" },
        /* to W */ { "(#0 * %w)", "(%m @ #0)", "#0", "#0[:, %j]" },
        /* to M */ { "(#0 * %m)", "(#0 * %m)", "outer(#0, %v)", "#0" },
    };
    Sbuf name;
    sb_init(&name);
    sb_puts(&name, v->name);
    fill(g, o, conv[t][v->type], &name);
    sb_free(&name);
}

/* A variable of type t, at times one of another type turned into t, or a
 * constant. */
static void leaf(Gen *g, Sbuf *o, int t)
{
    Var *v = find(g, t, 0);
    if (!v || chance(g, 0.15)) v = find(g, -1, 0);
    if (t == S && chance(g, 0.05)) sb_printf(o, "%.2f", unif(g, -1.5, 1.5));
    else convert(g, o, t, v);
}

static void ex(Gen *g, Sbuf *o, int t, int d)
{
    g->exprs++;
    if (d <= 0 || chance(g, 0.2)) {
        leaf(g, o, t);
        return;
    }
    const Helper *h = helper_of(g, t);
    if (h && chance(g, 0.15)) {
        g->feat[F_CALL]++;
        call_args(g, o, h, d);
        return;
    }
    const Op *p;
    do p = &ops[pick(g, NOPS)];
    while (!(p->mask & BIT(t)));
    op(g, o, p, t, d);
}

/* --- statements ------------------------------------------------------------- */

static void block(Gen *g, int n, int d);
static void stmt(Gen *g, int d);

/* "name = e" for a new variable of type t */
static void let(Gen *g, int t, int d)
{
    pad(g);
    Sbuf e;
    sb_init(&e);
    ex(g, &e, t, d);
    Var *v = declare(g, 'v', t, 0);
    sb_printf(g->o, "%s = %s\n", v->name, sb_str(&e));
    sb_free(&e);
}

/* An assignment to an existing variable that keeps its size bounded in
 * loops. */
static void update(Gen *g, Var *v, int d)
{
    static const char *const form[] = {
        "%s = 0.7 * %s + 0.3 * sin(", "%s += 0.2 * tanh(",
        "%s *= 1 + 0.2 * tanh(", "%s -= 0.1 * (", "%s /= 1.5 + 0.2 * cos(",
        "%s = %s + 0.1 * sin(",
    };
    int f = pick(g, 6);
    pad(g);
    sb_printf(g->o, form[f], v->name, v->name);
    ex(g, g->o, v->type, d);
    sb_puts(g->o, ")");
    if (f == 5) {
        Var *i = find(g, S, 0);
        if (i && i->index) sb_printf(g->o, " * (%s + 1)", i->name);
    }
    sb_putc(g->o, '\n');
}

/* An indexed or sliced store into an array variable: an element, a
 * matrix's row or column, or a slice (of the same slice of an expression,
 * or of a number, which broadcasts). */
static void store(Gen *g, Var *b, int d)
{
    static const char *const mat[] = { "[%r, %j] = ", "[%r][%j] = ", "[%r] = ", "[%r] += ", "[:, %j] = " };
    static const int mat_type[] = { S, S, V, V, W };
    int n = b->type == W ? g->R : g->C; /* a vector's extent */
    int k = b->type == M ? 4 + pick(g, 6) : pick(g, 4), t = S;
    Sbuf sl;
    sb_init(&sl);
    pad(g);
    sb_puts(g->o, b->name);
    if (k < 2) {
        sb_putc(g->o, '[');
        index_below(g, g->o, n);
        sb_puts(g->o, k ? "] += " : "] = ");
    } else if (k == 3) {
        slice_of(g, &sl, n);
        sb_printf(g->o, "[%s] *= ", sb_str(&sl));
        sb_clear(&sl);
    } else if (k < 9 && k != 2) {
        fill(g, g->o, mat[k - 4], NULL);
        t = mat_type[k - 4];
    } else { /* k == 2 or 9: the same slice on both sides */
        slice_of(g, &sl, k == 2 ? n : g->R);
        sb_printf(g->o, "[%s] %s= (", sb_str(&sl), k == 2 ? "" : "-");
        t = b->type;
    }
    ex(g, g->o, t, d);
    if (sl.len) sb_printf(g->o, ")[%s]", sb_str(&sl));
    sb_putc(g->o, '\n');
    sb_free(&sl);
    g->feat[F_STORE]++;
}

/* A buffer: zeros, a copy or an alias of a variable, then stores. */
static void buffer(Gen *g, int d)
{
    static const char *const shp[NTYPES] = { "", "zeros(%d)", "zeros(%d)", "zeros(%d, %d)" };
    int t = V + pick(g, 3);
    Var *src = find(g, t, 0);
    pad(g);
    Var *b = declare(g, 'b', t, 0);
    if (src && chance(g, 0.6)) {
        sb_printf(g->o, "%s = %s%s\n", b->name, src->name, chance(g, 0.5) ? "" : " * 1");
    } else {
        sb_printf(g->o, "%s = ", b->name);
        sb_printf(g->o, shp[t], t == V ? g->C : g->R, g->C);
        sb_putc(g->o, '\n');
    }
    for (int n = 1 + pick(g, 3); n > 0; n--) store(g, b, d);
}

static void open_block(Gen *g, int *saved)
{
    sb_puts(g->o, "{\n");
    g->indent++;
    *saved = g->nv;
}

static void close_block(Gen *g, int saved, const char *after)
{
    g->nv = saved; /* the block's locals are gone */
    g->indent--;
    pad(g);
    sb_printf(g->o, "}%s", after);
}

static void if_stmt(Gen *g, int d)
{
    int saved;
    pad(g);
    sb_puts(g->o, "if ");
    ex(g, g->o, S, d - 1);
    sb_printf(g->o, " > %.3f ", unif(g, -1, 1));
    open_block(g, &saved);
    block(g, 1 + pick(g, 2), d);
    if (chance(g, 0.3)) {
        close_block(g, saved, "\n");
        return;
    }
    close_block(g, saved, " else ");
    open_block(g, &saved);
    block(g, 1 + pick(g, 2), d);
    close_block(g, saved, "\n");
    g->feat[F_IF]++;
}

/* "if c { break }" or continue, in a loop that is not checkpointed */
static void jump(Gen *g)
{
    pad(g);
    sb_puts(g->o, "if ");
    ex(g, g->o, S, 1);
    sb_printf(g->o, " > %.3f { %s }\n", unif(g, -1, 1), chance(g, 0.5) ? "break" : "continue");
    g->feat[F_JUMP]++;
}

/* The body of a loop: first an update of a variable the loop carries, then
 * more statements, a break or continue where the loop may have one. */
static void loop_body(Gen *g, int plain, int d)
{
    Var *v = find(g, -1, 1);
    if (v) update(g, v, d - 1);
    int n = pick(g, 3);
    int j = plain ? pick(g, n + 1) : -1;
    for (int i = 0; i <= n; i++) {
        if (i == j) jump(g);
        if (i < n) stmt(g, d - 1);
    }
}

/* The annotation marker, unless the loop may break: checkpointed loops
 * may not. */
static void annotation(Gen *g, int plain)
{
    if (plain) return;
    sb_putc(g->o, MARK_CKPT);
    g->in_loop_ckpt = 1;
    g->feat[F_CKPT_LOOP]++;
}

static void loop(Gen *g, int d)
{
    int saved, plain = chance(g, 0.25);
    if (g->loops) g->feat[F_NESTED]++;
    if (chance(g, 0.35)) {
        Var *k = declare(g, 'k', S, 2);
        int data = chance(g, 0.4);
        pad(g);
        sb_printf(g->o, "%s = 0\n", k->name);
        pad(g);
        sb_printf(g->o, "while %s < %d", k->name, pick(g, g->R + 1));
        if (data) {
            sb_puts(g->o, " and ");
            ex(g, g->o, S, 1);
            sb_printf(g->o, " < %.3f", unif(g, 0, 1.5));
        }
        annotation(g, plain);
        sb_putc(g->o, ' ');
        open_block(g, &saved);
        pad(g);
        sb_printf(g->o, "%s = %s + 1\n", k->name, k->name);
        g->feat[data ? F_WHILE_DATA : F_WHILE]++;
    } else {
        int lo = pick(g, 2), hi = lo + pick(g, g->R + 1 - lo);
        pad(g);
        Var *i = declare(g, 'i', S, 1);
        sb_printf(g->o, "for %s in %d..%d", i->name, lo, hi);
        g->feat[F_FOR]++;
        annotation(g, plain);
        sb_putc(g->o, ' ');
        open_block(g, &saved);
        saved--; /* the index belongs to the loop */
    }
    g->loops++;
    loop_body(g, plain, d);
    g->loops--;
    close_block(g, saved, "\n");
}

/* A region: a block of its own with a local buffer, read back into an
 * outer variable. */
static void region(Gen *g, int d)
{
    int saved;
    Var *out = find(g, -1, 1);
    if (!out) return;
    pad(g);
    open_block(g, &saved);
    buffer(g, d);
    pad(g);
    sb_printf(g->o, "%s = %s + 0.5 * ", out->name, out->name);
    convert(g, g->o, out->type, &g->var[g->nv - 1]);
    sb_putc(g->o, '\n');
    close_block(g, saved, "\n");
    g->feat[F_REGION]++;
}

static void tuple_call(Gen *g, int d)
{
    for (int i = 0, first = pick(g, NHELP); i < g->nh; i++) {
        const Helper *h = &g->help[(first + i) % g->nh];
        if (h->nret != 2) continue;
        Sbuf e;
        sb_init(&e);
        call_args(g, &e, h, d);
        Var *p = declare(g, 'p', h->rt[0], 0);
        Var *q = declare(g, 'q', h->rt[1], 0);
        pad(g);
        sb_printf(g->o, "%s, %s = %s\n", p->name, q->name, sb_str(&e));
        sb_free(&e);
        g->feat[F_TUPLE]++;
        return;
    }
}

static void stmt(Gen *g, int d)
{
    g->stmts++;
    int k = pick(g, 17);
    Var *v;
    if (k < 4) let(g, pick(g, NTYPES), d);
    else if (k < 6 && (v = find(g, -1, 1))) update(g, v, d);
    else if (k < 8) buffer(g, d);
    else if (k < 9 && (v = find(g, V + pick(g, 3), 1))) store(g, v, d);
    else if (k < 10 && d > 1) if_stmt(g, d);
    else if (k < 13 && d > 1 && g->loops < 2) loop(g, d);
    else if (k < 14) region(g, d);
    else if (k < 15) tuple_call(g, d);
    else let(g, pick(g, NTYPES), d);
}

static void block(Gen *g, int n, int d)
{
    while (n-- > 0) stmt(g, d - 1);
}

/* --- functions ---------------------------------------------------------------- */

/* The result: e, plus a little of every variable in scope when live, so
 * that most values reach it. */
static void result(Gen *g, int t)
{
    ex(g, g->o, t, 3);
    if (!chance(g, 0.7)) return;
    sb_puts(g->o, " + 0.01 * (");
    for (int i = 0; i < g->nv; i++) {
        if (i) sb_puts(g->o, " + ");
        sb_printf(g->o, g->var[i].type == S ? "%s" : "sum(%s)", g->var[i].name);
    }
    sb_putc(g->o, ')');
}

static void params(Gen *g, int n, const int *types, char prefix)
{
    g->nv = 0;
    for (int i = 0; i < n; i++) {
        Var *v = &g->var[g->nv++];
        snprintf(v->name, sizeof v->name, "%c%d", prefix, i);
        v->type = types[i];
        v->index = 0;
        if (i) sb_puts(g->o, ", ");
        sb_puts(g->o, v->name);
    }
}

static void early_return(Gen *g)
{
    pad(g);
    sb_puts(g->o, "if ");
    ex(g, g->o, S, 1);
    sb_printf(g->o, " > %.3f { return ", unif(g, 0.5, 1.5));
    ex(g, g->o, S, 2);
    sb_puts(g->o, " }\n");
    g->feat[F_RETURN]++;
}

static void recursive_helper(Gen *g, Helper *h)
{
    h->np = 1;
    h->pt[0] = h->rt[0] = pick(g, NTYPES);
    h->nret = 1;
    h->rec = 1;
    sb_printf(g->o, "fn %s%c(", h->name, MARK_NAME);
    params(g, 1, h->pt, 'y');
    sb_printf(g->o, ", n) {\n    if n <= 0 { return y0 }\n    return %s%c(0.5 * y0 + sin(", h->name, MARK_NAME);
    ex(g, g->o, h->pt[0], 2);
    sb_puts(g->o, "), n - 1)\n}\n");
    g->feat[F_RECURSION]++;
}

static void helper(Gen *g)
{
    Helper *h = &g->help[g->nh];
    snprintf(h->name, sizeof h->name, "f%d_h%d", g->fn, g->nh);
    h->rec = 0;
    if (chance(g, 0.2)) {
        recursive_helper(g, h);
        g->nh++;
        return;
    }
    h->np = 1 + pick(g, 2);
    h->nret = chance(g, 0.3) ? 2 : 1;
    for (int i = 0; i < 2; i++) {
        h->pt[i] = pick(g, NTYPES);
        h->rt[i] = pick(g, NTYPES);
    }
    sb_printf(g->o, "fn %s%c(", h->name, MARK_NAME);
    params(g, h->np, h->pt, 'y');
    sb_puts(g->o, ") {\n");
    g->indent = 1;
    block(g, 1 + pick(g, 3), 3);
    pad(g);
    sb_puts(g->o, "return ");
    result(g, h->rt[0]);
    if (h->nret == 2) {
        sb_puts(g->o, ", ");
        ex(g, g->o, h->rt[1], 2);
    }
    sb_puts(g->o, "\n}\n");
    g->indent = 0;
    g->nh++; /* callable from here on, not from its own body */
}

static void constants(Gen *g, FILE *out)
{
    int R = g->R, C = g->C, n = g->fn;
    fprintf(out, "Km%d = reshape(sin(arange(%d) * 1.3 + %d) * 0.6, %d, %d)\n", n, R * C, n, R, C);
    fprintf(out, "Kv%d = cos(arange(%d) * 0.7 + %d)\n", n, C, n);
    fprintf(out, "Kw%d = sin(arange(%d) * 1.1 - %d)\n", n, R, n);
    fprintf(out, "Kq%d = reshape(cos(arange(%d) * 0.9 + %d) * 0.4, %d, %d)\n", n, C * C, n, C, C);
    fprintf(out, "KT%d = reshape(sin(arange(%d) * 0.5 - %d) * 0.8, %d, %d)\n", n, R * C, n, C, R);
}

/* The group's text with the markers replaced for variant k: 0 store-all,
 * then checkpoint(1), checkpoint(2), checkpoint, checkpoint(3..6). */
static const char *const suffix[NVARIANT] = { "", "_c1", "_c2", "_cb", "_cs" };
static const char *const label[NVARIANT] = {
    "", "checkpoint(1)", "checkpoint(2)", "checkpoint", "checkpoint(3..6)",
};

static void variant(FILE *out, const char *text, int k)
{
    int loop = 0;
    for (const char *s = text; *s; s++) {
        if (*s == MARK_NAME) fputs(suffix[k], out);
        else if (*s != MARK_CKPT) fputc(*s, out);
        else if (k == 1 || k == 2) fprintf(out, " checkpoint(%d)", k);
        else if (k == 3) fputs(" checkpoint", out);
        else if (k == 4) fprintf(out, " checkpoint(%d)", 3 + loop++ % 4);
    }
}

/* A random point's coordinates: never a number of three decimals, as the
 * kinks the functions write are (clip(e, -0.6, 0.5), thresholds), since
 * central differences across a kink right at the point agree at every
 * step (seed 105 function 111 of the second long run: x = 0.5 in clip). */
static void literal(Gen *g, FILE *out, int t)
{
    int rows = t == M ? g->R : 1, cols = t == S ? 1 : t == W ? g->R : g->C;
    if (t == M) fputc('[', out);
    for (int r = 0; r < rows; r++) {
        fputs(r ? ", " : "", out);
        if (t != S) fputc('[', out);
        for (int c = 0; c < cols; c++)
            fprintf(out, "%s%.4f", c ? ", " : "", floor(unif(g, -1.2, 1.2) * 1000) / 1000 + 0.0007);
        if (t != S) fputc(']', out);
    }
    if (t == M) fputc(']', out);
}

static void names(FILE *out, const char *p, int n)
{
    for (int i = 0; i < n; i++) fprintf(out, "%s%s%d", i ? ", " : "", p, i);
}

/* "    LEAD0, LEAD1 = HOW(fN_c1, 0, 1)(x0, x1)", or "HOW(fN)(x0)" for one
 * parameter: the gradients of variant k. */
static void grads(FILE *out, const char *lead, const char *var, const char *how, int n, int k, int np)
{
    fprintf(out, "    %s", lead);
    names(out, var, np);
    fprintf(out, " = %s(f%d%s", how, n, suffix[k]);
    for (int i = 0; np > 1 && i < np; i++) fprintf(out, ", %d", i);
    fputs(")(", out);
    names(out, "x", np);
    fputs(")\n", out);
}

/* The variants' gradients against the store-all ones g, bit for bit:
 * value_and_grad's and checkpoint(1)'s (a last-bit difference reported
 * apart, fz_close), the other checkpointed ones against checkpoint(1)'s h. */
static void compare_variants(FILE *out, int n, int np, int nvariant)
{
    grads(out, "v, ", "q", "value_and_grad", n, 0, np);
    fputs("    bad = fz_value(fv, v)\n    lastbits = 0\n", out);
    for (int i = 0; i < np; i++) fprintf(out, "    bad += fz_same(\"value_and_grad\", %d, g%d, q%d)\n", i, i, i);
    if (nvariant == 1) return;
    grads(out, "", "h", "grad", n, 1, np);
    for (int i = 0; i < np; i++)
        fprintf(out, "    b, l = fz_close(\"%s\", %d, g%d, h%d)\n    bad += b\n    lastbits += l\n",
                label[1], i, i, i);
    for (int k = 2; k < nvariant; k++) {
        grads(out, "", "q", "grad", n, k, np);
        for (int i = 0; i < np; i++)
            fprintf(out, "    bad += fz_same(\"%s against checkpoint(1)\", %d, h%d, q%d)\n", label[k], i, i, i);
    }
}

/* The store-all gradients g against finite differences. */
static void compare_fd(FILE *out, int n, int np)
{
    fputs("    skipped = 0\n", out);
    for (int i = 0; i < np; i++) {
        fprintf(out, "    b, s = fz_fd(f%d, %d, ", n, np);
        for (int j = 0; j < 3; j++) fprintf(out, j < np ? "x%d, " : "0, ", j);
        fprintf(out, "%d, g%d, fv)\n    bad += b\n    skipped += s\n", i, i);
    }
}

/* fN_check(x...), the checks at one point, returning the failures, the
 * derivatives skipped and the last-bit differences; then its calls at two
 * random points and the TAP line. */
static void checks(Gen *g, FILE *out, uint64_t seed, int np, const int *pt, int nvariant)
{
    int n = g->fn, size = 0;
    fprintf(out, "fn f%d_check(", n);
    names(out, "x", np);
    fprintf(out, ") {\n    fv = f%d(", n);
    names(out, "x", np);
    fputs(")\n", out);
    grads(out, "", "g", "grad", n, 0, np);
    compare_variants(out, n, np, nvariant);
    compare_fd(out, n, np);
    fputs("    return bad, skipped, lastbits\n}\n", out);
    for (int i = 0; i < np; i++) size += pt[i] == S ? 1 : pt[i] == V ? g->C : pt[i] == W ? g->R : g->R * g->C;
    for (int p = 1; p <= 2; p++) {
        fprintf(out, "fz_b%d, fz_s%d, fz_l%d = f%d_check(", p, p, p, n);
        for (int i = 0; i < np; i++) {
            fputs(i ? ", " : "", out);
            literal(g, out, pt[i]);
        }
        fputs(")\n", out);
    }
    fprintf(out, "fz_tap(%" PRIu64 ", %d, fz_b1 + fz_b2, fz_s1 + fz_s2, fz_l1 + fz_l2, %d)\n", seed, n, 2 * size);
}

static void function(Gen *g, FILE *out, uint64_t seed, int n)
{
    Sbuf text;
    sb_init(&text);
    g->rng = seed * 0x2545f4914f6cdd1du + (uint64_t)n * 0x9e3779b97f4a7c15u;
    next(g);
    g->fn = n;
    g->R = 2 + pick(g, 2);
    g->C = g->R + 1 + pick(g, 2);
    g->o = &text;
    g->nh = g->fresh = g->loops = g->in_loop_ckpt = g->indent = 0;
    for (int i = pick(g, 3); i > 0; i--) helper(g);
    int np = 1 + pick(g, 3), pt[3];
    for (int i = 0; i < np; i++) pt[i] = pick(g, NTYPES);
    if (pt[0] == S && np == 1) pt[0] = V + pick(g, 3);
    g->feat[F_PARAMS] += np;
    sb_printf(&text, "fn f%d%c(", n, MARK_NAME);
    params(g, np, pt, 'x');
    sb_puts(&text, ") {\n");
    g->indent = 1;
    block(g, 3 + pick(g, 4), 4);
    if (chance(g, 0.2)) early_return(g);
    pad(g);
    sb_puts(&text, "return ");
    result(g, S);
    sb_puts(&text, "\n}\n");

    fprintf(out, "# function %d (seed %" PRIu64 ")\n", n, seed);
    constants(g, out);
    int nvariant = g->in_loop_ckpt ? NVARIANT : 1;
    for (int k = 0; k < nvariant; k++) variant(out, sb_str(&text), k);
    checks(g, out, seed, np, pt, nvariant);
    fprintf(out, "# end of function %d\n", n);
    sb_free(&text);
}

static void mix(const Gen *g, FILE *out)
{
    fputs("# mix:", out);
    for (int i = 0; i < NFEAT; i++) fprintf(out, " %s=%ld,", feat_name[i], g->feat[i]);
    for (int i = 0; i < NCAT; i++) fprintf(out, " %s=%ld,", op_cat[i], g->cat[i]);
    fprintf(out, " statements=%ld, expressions=%ld\n", g->stmts, g->exprs);
}

static int usage(void)
{
    fputs("usage: gen-grad [--seed S] [--first K] [--count N]\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    uint64_t seed = 1;
    long first = 0, count = 20;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (i + 1 >= argc) return usage();
        unsigned long long v = strtoull(argv[i + 1], &end, 10);
        if (*end || end == argv[i + 1]) return usage();
        if (!strcmp(argv[i], "--seed")) seed = v;
        else if (!strcmp(argv[i], "--first")) first = (long)v;
        else if (!strcmp(argv[i], "--count")) count = (long)v;
        else return usage();
        i++;
    }
    static Gen g;
    printf("# generated by t/gen-grad --seed %" PRIu64 " --first %ld --count %ld\n", seed, first, count);
    for (long n = first; n < first + count; n++) function(&g, stdout, seed, (int)n);
    mix(&g, stdout);
    return 0;
}
