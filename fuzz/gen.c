/* gen.c: fuzzer bytes to a dial program (gen.h).
 *
 * Every function and the top level start by assigning the variables
 * v0..v3, so any later read of them compiles; loop indices are named by
 * their nesting depth. Sizes, nesting and statement counts are bounded so
 * a program stays small; the VM's step and memory limits bound its run. */
#include "gen.h"

#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NVARS 4
#define MAXEXPR 4      /* expression nesting */
#define MAXBLOCK 3     /* statement nesting */

typedef struct Gen {
    const uint8_t *p, *e;
    Sbuf *out;
    int mode;
    int fors;          /* enclosing for loops (index names i0, i1 ...) */
    int whiles;        /* enclosing while loops (counters c0, c1 ...) */
    int breakable;     /* inside a loop that may break (not checkpointed) */
    int infn;          /* inside a function: `return` allowed */
} Gen;

/* The next choice among n; 0 once the input is used up. */
static unsigned pick(Gen *g, unsigned n)
{
    return g->p < g->e ? *g->p++ % n : 0;
}

#define PICK(g, table) (table)[pick((g), sizeof(table) / sizeof *(table))]

static const char *const numbers[] = {
    "1", "0", "2", "0.5", "-1", "3", "0.25", "-2.5", "1e300", "1e-300", "-0.0", "100", "7",
};
/* without the extremes, whose rounding makes differences meaningless */
static const char *const numbers_grad[] = {"1", "0", "2", "0.5", "-1", "3", "0.25", "-2.5", "-0.0", "7"};
static const char *const sizes[] = {"2", "3", "1", "0", "4", "300", "2000"};
static const char *const binops[] = {
    "+", "-", "*", "/", "^", "%", "@", "<", ">=", "==", "!=", "and", "or",
};
static const char *const binops_grad[] = {"+", "-", "*", "/", "^", "@", "%", "<"};
static const char *const unary[] = {
    "exp", "log", "sin", "cos", "tan", "tanh", "sqrt", "abs", "sign", "floor", "ceil",
};
static const char *const unary_grad[] = {"exp", "sin", "cos", "tanh", "abs", "sqrt", "log", "floor"};
static const char *const reductions[] = {"sum", "prod", "mean", "max", "min", "argmax", "cumsum"};
static const char *const reductions_grad[] = {"sum", "prod", "mean", "max", "min"};
static const char *const axes[] = {"", ", 0", ", -1", ", 1", ", 2"};
/* (e) and (e, e) builtins; `#` stands for an expression */
static const char *const calls[] = {
    "reshape(#, -1)", "transpose(#)", "concat(#, #)", "stack(#, #)", "where(#, #, #)",
    "clip(#, -1, #)", "maximum(#, #)", "minimum(#, #)", "dot(#, #)", "outer(#, #)",
    "sum_to(#, 1)", "norm(#)", "swapaxes(#, 0, -1)", "shape(#)", "len(#)", "size(#)",
    "reshape(#, 2, -1)", "full(shape(#), #)", "sum_to(#, shape(#))", "#[::-1]",
    "eye(len(#))", "zeros(shape(#))",
};
static const char *const calls_grad[] = {
    "reshape(#, -1)", "transpose(#)", "concat(#, #)", "stack(#, #)", "where(#, #, #)",
    "clip(#, -1, #)", "maximum(#, #)", "minimum(#, #)", "dot(#, #)", "outer(#, #)",
    "sum_to(#, 1)", "norm(#)", "swapaxes(#, 0, -1)", "shape(#)", "#[::-1]", "#[1:]",
    "reshape(#, 2, -1)",
};
static const char *const makers[] = {
    "zeros(&)", "ones(&, 2)", "arange(&)", "full(&, 0.5)", "eye(&)", "linspace(0, 1, &)",
    "rand(7, &)", "randn(3, [&, 2])", "arange(1, &, 0.5)",
};
static const char *const indices[] = {
    "0", "-1", "1", "1:", ":-1", "::-1", "::2", ":", "0, 1", ":, 0", "1:3", "I", "I, 0",
};
static const char *const inits[] = {
    "[0.5, -1.2, 0.8]", "0.7", "[[0.55, -1.15, 0.85], [0.3, 1.4, -2.1]]", "[[0.4], [-0.9], [1.3]]",
    "[2]", "arange(4)", "[]",
};

static void expr(Gen *g, int depth);

static void put(Gen *g, const char *s) { sb_puts(g->out, s); }

static const char *number(Gen *g)
{
    return g->mode == GEN_GRAD ? PICK(g, numbers_grad) : PICK(g, numbers);
}

static void var(Gen *g) { sb_printf(g->out, "v%u", pick(g, NVARS)); }

/* A template: '#' an expression, '&' a size, 'I' a loop index (or 0). */
static void fill(Gen *g, const char *t, int depth)
{
    for (; *t; t++) {
        if (*t == '#') expr(g, depth + 1);
        else if (*t == '&') put(g, PICK(g, sizes));
        else if (*t == 'I' && g->fors) sb_printf(g->out, "i%u", pick(g, (unsigned)g->fors));
        else if (*t == 'I') put(g, "0");
        else sb_putc(g->out, *t);
    }
}

static void array_literal(Gen *g, int depth)
{
    unsigned n = pick(g, 4), rows = pick(g, 3);
    put(g, "[");
    for (unsigned r = 0; r <= rows; r++) {
        if (rows) put(g, r ? ", [" : "[");
        for (unsigned i = 0; i <= n; i++) {
            if (i) put(g, ", ");
            if (pick(g, 3)) put(g, number(g));
            else expr(g, depth + 1);
        }
        if (rows) put(g, "]");
    }
    put(g, "]");
}

static void call_user(Gen *g, int depth)
{
    if (g->mode == GEN_GRAD) {
        fill(g, "h(#, #)", depth);
        return;
    }
    static const char *const forms[] = {
        "f0(#, #)", "f1(#, #)", "grad(sq)(#, #)", "value_and_grad(sq, 0, 1)(#, #)",
    };
    fill(g, PICK(g, forms), depth);
}

static void expr(Gen *g, int depth)
{
    int grad = g->mode == GEN_GRAD;
    if (depth >= MAXEXPR) {
        if (pick(g, 2)) put(g, number(g));
        else var(g);
        return;
    }
    switch (pick(g, 12)) {
    case 0: var(g); break;
    case 1: put(g, number(g)); break;
    case 2: array_literal(g, depth); break;
    case 3:
        put(g, "(");
        expr(g, depth + 1);
        sb_printf(g->out, " %s ", grad ? PICK(g, binops_grad) : PICK(g, binops));
        expr(g, depth + 1);
        put(g, ")");
        break;
    case 4: fill(g, pick(g, 2) ? "(-#)" : "(not #)", depth); break;
    case 5:
        sb_printf(g->out, "%s(", grad ? PICK(g, unary_grad) : PICK(g, unary));
        fill(g, "#)", depth);
        break;
    case 6:
        sb_printf(g->out, "%s(", grad ? PICK(g, reductions_grad) : PICK(g, reductions));
        expr(g, depth + 1);
        sb_printf(g->out, "%s)", PICK(g, axes));
        break;
    case 7: fill(g, PICK(g, makers), depth); break;
    case 8: fill(g, grad ? PICK(g, calls_grad) : PICK(g, calls), depth); break;
    case 9:
        expr(g, depth + 1);
        put(g, "[");
        fill(g, PICK(g, indices), depth);
        put(g, "]");
        break;
    case 10: call_user(g, depth); break;
    default: fill(g, "I", depth);
    }
}

static void block(Gen *g, int depth);

/* `return` in the grad mode returns a number, as grad requires. */
static void ret(Gen *g)
{
    put(g, g->mode == GEN_GRAD ? "return sum(" : "return (");
    expr(g, 0);
    put(g, ")\n");
}

static void loop(Gen *g, int depth, int isfor)
{
    int ck = g->mode == GEN_GRAD && pick(g, 2);
    int saved = g->breakable;
    g->breakable = !ck;
    int *n = isfor ? &g->fors : &g->whiles;
    if (isfor) {
        sb_printf(g->out, "for i%d in %d..%d", *n, (int)pick(g, 3) - 1, (int)pick(g, 12));
    } else {
        /* a counter, so most while loops end before the step limit */
        sb_printf(g->out, "c%d = 0\nwhile c%d < %u", *n, *n, pick(g, 8));
    }
    if (ck) sb_printf(g->out, " checkpoint(%u)", pick(g, 4) + 1);
    put(g, " {\n");
    if (!isfor) sb_printf(g->out, "c%d = c%d + 1\n", *n, *n);
    ++*n;
    block(g, depth + 1);
    --*n;
    put(g, "}\n");
    g->breakable = saved;
}

static void stmt(Gen *g, int depth)
{
    static const char *const assign_ops[] = {"+=", "-=", "*=", "/="};
    switch (pick(g, depth >= MAXBLOCK ? 3 : 10)) {
    case 0: var(g); put(g, " = "); expr(g, 0); put(g, "\n"); break;
    case 1: var(g); sb_printf(g->out, " %s ", PICK(g, assign_ops)); expr(g, 0); put(g, "\n"); break;
    case 2:
        var(g);
        put(g, "[");
        fill(g, PICK(g, indices), 0);
        put(g, pick(g, 2) ? "] = " : "] += ");
        expr(g, 0);
        put(g, "\n");
        break;
    case 3:
        put(g, "if ");
        fill(g, pick(g, 2) ? "sum(#) > 0" : "#", 0);
        put(g, " {\n");
        block(g, depth + 1);
        put(g, "} else {\n");
        block(g, depth + 1);
        put(g, "}\n");
        break;
    case 4: loop(g, depth, 1); break;
    case 5: loop(g, depth, 0); break;
    case 6:
        if (g->breakable) put(g, pick(g, 2) ? "break\n" : "continue\n");
        else if (g->mode == GEN_RUN) fill(g, "print(#)\n", 0);
        break;
    case 7: if (g->infn && !g->fors && !g->whiles) ret(g); break;
    case 8: put(g, "{\n"); block(g, depth + 1); put(g, "}\n"); break;
    default: var(g); put(g, ", "); var(g); put(g, " = "); fill(g, "t(#, #)\n", 0);
    }
}

static void block(Gen *g, int depth)
{
    for (unsigned n = pick(g, 6); n > 0; n--) stmt(g, depth);
}

static void locals(Gen *g, const char *x, const char *y)
{
    sb_printf(g->out, "v0 = %s\nv1 = %s\nv2 = %s * %s\nv3 = 0.5\n", x, y, x, y);
}

static void function(Gen *g, const char *name)
{
    sb_printf(g->out, "fn %s(x, y) {\n", name);
    locals(g, "x", "y");
    g->infn = 1;
    block(g, 0);
    ret(g);
    g->infn = 0;
    put(g, "}\n");
}

/* The grad mode's oracle: the gradient must have its parameter's shape and
 * agree with central differences wherever those are stable (two step
 * sizes agreeing to 1e-6 rule out kinks, jumps and branches switching
 * between x - h and x + h); elements too large to perturb, and values too
 * large for differences to resolve, are skipped. */
static const char fd_check[] =
    "fn fd_at(x, y, k, i, e) {\n"
    "    a = x\n"
    "    if k { a = y }\n"
    "    p = reshape(a, -1)\n"
    "    m = reshape(a, -1)\n"
    "    p[i] += e\n"
    "    m[i] -= e\n"
    "    p = reshape(p, shape(a))\n"
    "    m = reshape(m, shape(a))\n"
    "    if k { return (f(x, p) - f(x, m)) / (2 * e) }\n"
    "    return (f(p, y) - f(m, y)) / (2 * e)\n"
    "}\n"
    "fn fd_check(x, y, k, g) {\n"
    "    a = x\n"
    "    if k { a = y }\n"
    "    if len(shape(g)) != len(shape(a)) or sum(shape(g) != shape(a)) > 0 {\n"
    "        error(\"gradient of the wrong shape\")\n"
    "    }\n"
    "    ga = reshape(g, -1)\n"
    "    aa = reshape(a, -1)\n"
    "    for i in 0..size(ga) {\n"
    "        if abs(aa[i]) < 1000 and abs(f(x, y)) < 1000000 {\n"
    "            d1 = fd_at(x, y, k, i, 0.0001)\n"
    "            d2 = fd_at(x, y, k, i, 0.00001)\n"
    "            s = abs(d1) + abs(ga[i]) + 0.001\n"
    "            if abs(d1 - d2) < 0.000001 * (abs(d1) + 0.001) and abs(d1 - ga[i]) > 0.001 * s {\n"
    "                error(\"gradient mismatch\")\n"
    "            }\n"
    "        }\n"
    "    }\n"
    "}\n"
    "gx, gy = grad(f, 0, 1)(x, y)\n"
    "fd_check(x, y, 0, gx)\n"
    "fd_check(x, y, 1, gy)\n";

void gen_program(Sbuf *out, const uint8_t *data, size_t size, int mode)
{
    Gen g = {data, data + size, out, mode, 0, 0, 0, 0};
    put(&g, "fn t(x, y) { return x * y, x - y }\nfn sq(x, y) { return sum(x * x * y) }\n");
    if (mode == GEN_GRAD) {
        function(&g, "h");
        function(&g, "f");
        sb_printf(out, "x = %s\n", PICK(&g, inits));
        sb_printf(out, "y = %s\n", PICK(&g, inits));
        put(&g, "print(grad(f, 0, 1)(x, y))\nv, d = value_and_grad(f)(x, y)\nprint(v, d)\n");
        put(&g, "print(grad(h, 1)(x, y))\n");
        put(&g, fd_check);
        return;
    }
    function(&g, "f0");
    function(&g, "f1");
    locals(&g, PICK(&g, inits), PICK(&g, inits));
    for (unsigned n = pick(&g, 16); n > 0; n--) stmt(&g, 0);
    put(&g, "print(v0, v1, v2, v3)\n");
}

void gen_run(const uint8_t *data, size_t size, int mode)
{
    Sbuf prog;
    sb_init(&prog);
    gen_program(&prog, data, size, mode);
    if (getenv("FUZZ_PRINT")) fputs(sb_str(&prog), stderr);
    dial_vm *vm = fuzz_vm();
    /* room for the differences of fd_check */
    if (mode == GEN_GRAD) dial_set_step_limit(vm, 20 * FUZZ_MAX_STEPS);
    fuzz_exec(vm, sb_str(&prog), prog.len, 0, NULL);
    fuzz_assert(!strstr(dial_error(vm), "error: gradient "), "a wrong gradient");
    dial_free(vm);
    sb_free(&prog);
}
