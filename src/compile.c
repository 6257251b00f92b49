/* compile.c: syntax tree to register bytecode.
 *
 * One pass per function over the tree, Lua-style register allocation: the
 * locals of the active blocks occupy the low registers in declaration
 * order, temporaries stack above them (freereg). Expressions are compiled
 * either into a given register (expr_to) or to an operand (a register or a
 * constant). A binary operation whose destination is a fresh temporary
 * evaluates its left operand into that same register, so chains like
 * `100*a*a + b*b` run in place (array.h reuses a writable destination).
 *
 * Scoping: a name is first looked up among the locals of the enclosing
 * blocks, then among the globals (top-level names of this chunk or of
 * earlier ones, collected before compiling so functions may use globals
 * defined below them), then among the builtins. In a function, assigning a
 * name that is not a local declares a local: functions read globals but do
 * not assign them. Function definitions are hoisted: every top-level `fn`
 * is bound before the chunk's first statement runs. */
#include "compile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "ad.h"
#include "builtins.h"
#include "rules.h"
#include "tape.h"

#define MAXREGS 65535
#define MAXERRS 10

typedef struct Local {
    const char *name;
    int reg;
    int depth;
} Local;

typedef struct Jumps {
    int *pc;
    int n, cap;
} Jumps;

typedef struct Loop {
    Jumps breaks, conts;
    int nloc;              /* locals alive outside the loop body */
    struct Loop *up;
} Loop;

typedef struct Fs {
    Proto *p;
    int main;              /* top-level code: depth-0 names are globals */
    Local *loc;
    int nloc, loccap;
    int depth;             /* block nesting, 0 = the function's body */
    int freereg;
    Loop *loop;
    int codecap, kcap, patcap;
} Fs;

typedef struct C {
    Vm *vm;
    const Source *src;
    Sbuf *errs;
    int nerrs;
    int oom;
    Fs *fs;
    Loc at;                /* source position of emitted instructions */
    const Node **leaf;     /* leaves of the kernels being built (a stack: */
    int *leafreg;          /* a leaf may hold a kernel of its own) and the */
    int nleaf, leafcap;    /* registers holding them */
    int fallback;          /* compiling a kernel's fallback: no fusion */
    const Node *into;      /* a value stored by `x[...] = e` or `+=`: its */
    int into_target, into_pat, into_flags;   /* kernel may write x itself */
} C;

/* -- errors ------------------------------------------------------------ */

static void cerror(C *c, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void cerror(C *c, Loc loc, const char *fmt, ...)
{
    if (++c->nerrs > MAXERRS) {
        if (c->nerrs == MAXERRS + 1)
            diag_report(c->errs, c->src, loc.first_line, loc.first_column, "too many errors");
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    diag_vreport(c->errs, c->src, loc.first_line, loc.first_column, fmt, ap);
    va_end(ap);
}

static int grow(C *c, void **p, int *cap, int need, size_t elem)
{
    if (need <= *cap) return 0;
    int ncap = *cap ? *cap * 2 : 16;
    while (ncap < need) ncap *= 2;
    void *q = realloc(*p, (size_t)ncap * elem);
    if (!q) {
        if (!c->oom) cerror(c, c->at, "out of memory while compiling");
        c->oom = 1;
        return -1;
    }
    *p = q;
    *cap = ncap;
    return 0;
}

/* -- emitting ---------------------------------------------------------- */

static int emit(C *c, int op, int f, int a, int b, int cc)
{
    Fs *fs = c->fs;
    Proto *p = fs->p;
    if (p->ncode == fs->codecap) {
        int cap = fs->codecap ? fs->codecap * 2 : 64;
        Ins *code = realloc(p->code, (size_t)cap * sizeof *code);
        if (code) p->code = code;
        int *line = realloc(p->line, (size_t)cap * sizeof *line);
        if (line) p->line = line;
        int *col = realloc(p->col, (size_t)cap * sizeof *col);
        if (col) p->col = col;
        if (!code || !line || !col) {
            if (!c->oom) cerror(c, c->at, "out of memory while compiling");
            c->oom = 1;
            return 0;
        }
        fs->codecap = cap;
    }
    Ins *i = &p->code[p->ncode];
    i->op = (uint8_t)op;
    i->f = (uint8_t)f;
    i->a = (uint16_t)a;
    i->u.bc.b = (uint16_t)b;
    i->u.bc.c = (uint16_t)cc;
    p->line[p->ncode] = c->at.first_line;
    p->col[p->ncode] = c->at.first_column;
    return p->ncode++;
}

static int emit_jump(C *c, int op, int a)
{
    int pc = emit(c, op, 0, a, 0, 0);
    c->fs->p->code[pc].u.sbx = 0;
    return pc;
}

static int here(C *c) { return c->fs->p->ncode; }

static void patch(C *c, int pc, int target)
{
    if (c->nerrs || pc >= c->fs->p->ncode) return;
    c->fs->p->code[pc].u.sbx = target - (pc + 1);
}

static void jumps_add(C *c, Jumps *j, int pc)
{
    if (grow(c, (void **)&j->pc, &j->cap, j->n + 1, sizeof(int))) return;
    j->pc[j->n++] = pc;
}

static void jumps_patch(C *c, Jumps *j, int target)
{
    for (int i = 0; i < j->n; i++) patch(c, j->pc[i], target);
    free(j->pc);
    j->pc = NULL;
    j->n = j->cap = 0;
}

/* -- registers --------------------------------------------------------- */

static int reg_alloc(C *c)
{
    Fs *fs = c->fs;
    if (fs->freereg >= MAXREGS) {
        if (!c->oom) cerror(c, c->at, "function needs too many registers");
        c->oom = 1;
        return MAXREGS - 1;
    }
    int r = fs->freereg++;
    if (fs->freereg > fs->p->nregs) fs->p->nregs = fs->freereg;
    return r;
}

static int nactive(const Fs *fs) { return fs->nloc ? fs->loc[fs->nloc - 1].reg + 1 : 0; }

static int is_temp(const Fs *fs, int reg) { return reg >= nactive(fs); }

/* -- constants --------------------------------------------------------- */

static int add_const(C *c, Value v)
{
    Proto *p = c->fs->p;
    for (int i = 0; i < p->nk; i++) {
        const Value *k = &p->k[i];
        if (k->t != v.t) continue;
        if ((v.t == T_NUM && memcmp(&k->u.n, &v.u.n, sizeof(double)) == 0) ||
            (v.t == T_FN && k->u.fn == v.u.fn) ||
            (v.t == T_STR && k->u.s->len == v.u.s->len &&
             memcmp(k->u.s->s, v.u.s->s, (size_t)v.u.s->len) == 0)) {
            val_decref(&c->vm->ctx, &v);
            return i;
        }
    }
    if (p->nk >= 65535) {
        if (!c->oom) cerror(c, c->at, "function has too many constants");
        c->oom = 1;
        val_decref(&c->vm->ctx, &v);
        return 0;
    }
    if (grow(c, (void **)&p->k, &c->fs->kcap, p->nk + 1, sizeof(Value))) {
        val_decref(&c->vm->ctx, &v);
        return 0;
    }
    p->k[p->nk] = v;
    return p->nk++;
}

static int num_const(C *c, double x) { return add_const(c, val_num(x)); }

/* -- scopes ------------------------------------------------------------ */

static Local *find_local(Fs *fs, const char *name)
{
    for (int i = fs->nloc - 1; i >= 0; i--)
        if (strcmp(fs->loc[i].name, name) == 0) return &fs->loc[i];
    return NULL;
}

static int declare_local(C *c, const char *name, int reg)
{
    Fs *fs = c->fs;
    if (grow(c, (void **)&fs->loc, &fs->loccap, fs->nloc + 1, sizeof(Local))) return reg;
    fs->loc[fs->nloc].name = name;
    fs->loc[fs->nloc].reg = reg;
    fs->loc[fs->nloc].depth = fs->depth;
    fs->nloc++;
    if (fs->freereg <= reg) fs->freereg = reg + 1;
    if (fs->freereg > fs->p->nregs) fs->p->nregs = fs->freereg;
    return reg;
}

/* Where a name lives: a local register, a global slot or a builtin. */
enum { V_LOCAL, V_GLOBAL, V_BUILTIN, V_NONE };

static int resolve(C *c, const char *name, int *where)
{
    Local *l = find_local(c->fs, name);
    if (l) {
        *where = l->reg;
        return V_LOCAL;
    }
    int g = vm_findglobal(c->vm, name);
    if (g >= 0) {
        *where = g;
        return V_GLOBAL;
    }
    int b = builtin_find(name);
    if (b >= 0) {
        *where = b;
        return V_BUILTIN;
    }
    return V_NONE;
}

/* -- expressions ------------------------------------------------------- */

typedef struct Opnd {
    int k;     /* 1: constant index, 0: register */
    int i;
} Opnd;

static void expr_to(C *c, const Node *e, int reg);
static void expr_to_var(C *c, const Node *e, int reg, const char *var);

/* Fold number-valued constant expressions (`-1`, `2*3`) so slices like
 * `x[:-1]` need no instructions for their bounds. */
static int fold(const Node *e, double *out)
{
    double a, b;
    switch (e->kind) {
    case N_NUM: *out = e->num; return 1;
    case N_UNOP:
        if (!fold(e->k[0], &a)) return 0;
        *out = num_unop(e->op, a);
        return 1;
    case N_BINOP:
        if (!fold(e->k[0], &a) || !fold(e->k[1], &b)) return 0;
        *out = num_binop(e->op, a, b);
        return 1;
    }
    return 0;
}

/* The register of e when e is a leaf of the kernel whose fallback is being
 * compiled (already evaluated), else -1. */
static int leaf_reg(const C *c, const Node *e)
{
    for (int i = 0; i < c->nleaf; i++)
        if (c->leaf[i] == e) return c->leafreg[i];
    return -1;
}

/* A register holding e: a local's own register, or a new temporary. */
static int expr_any(C *c, const Node *e)
{
    int lr = leaf_reg(c, e);
    if (lr >= 0) return lr;
    if (e->kind == N_NAME) {
        Local *l = find_local(c->fs, e->str);
        if (l) return l->reg;
    }
    int r = reg_alloc(c);
    expr_to(c, e, r);
    return r;
}

static Opnd operand(C *c, const Node *e)
{
    Opnd o = {0, 0};
    double x;
    if ((o.i = leaf_reg(c, e)) >= 0) {
        return o;
    } else if (fold(e, &x)) {
        o.k = 1;
        o.i = num_const(c, x);
    } else if (e->kind == N_STR) {
        Str *s = str_new(&c->vm->ctx, e->str, (size_t)e->num);
        if (!s) {
            cerror(c, e->loc, "%s", c->vm->ctx.msg);
            return o;
        }
        Value v;
        v.t = T_STR;
        v.u.s = s;
        o.k = 1;
        o.i = add_const(c, v);
    } else {
        o.i = expr_any(c, e);
    }
    return o;
}

static int opflags(Opnd b, Opnd cc) { return (b.k ? F_BK : 0) | (cc.k ? F_CK : 0); }

static void load_opnd(C *c, Opnd o, int reg)
{
    if (o.k) emit(c, OP_LOADK, 0, reg, o.i, 0);
    else if (o.i != reg) emit(c, is_temp(c->fs, o.i) ? OP_MOVE : OP_COPY, 0, reg, o.i, 0);
}

/* Compile a binary operation into reg. When reg may be clobbered before the
 * right operand is read (a temporary, or a variable the right side does not
 * read), the left operand is built in reg itself. */
static void binary_to(C *c, int op, const Node *e, int reg, const char *var)
{
    Fs *fs = c->fs;
    int save = fs->freereg;
    const Node *l = e->k[0], *r = e->k[1];
    Opnd b;
    double x;
    int direct = !fold(l, &x) && l->kind != N_STR && leaf_reg(c, l) < 0 &&
                 !(l->kind == N_NAME && find_local(fs, l->str)) &&
                 (var ? !ast_mentions(r, var) : is_temp(fs, reg));
    if (direct) {
        expr_to_var(c, l, reg, var);
        b.k = 0;
        b.i = reg;
    } else {
        b = operand(c, l);
    }
    Opnd cc = operand(c, r);
    Loc keep = c->at;
    c->at = e->loc;
    emit(c, op, opflags(b, cc), reg, b.i, cc.i);
    c->at = keep;
    fs->freereg = save;
}

static void unary_to(C *c, int op, const Node *arg, Loc loc, int reg)
{
    int save = c->fs->freereg;
    Opnd b = operand(c, arg);
    Loc keep = c->at;
    c->at = loc;
    emit(c, op, b.k ? F_BK : 0, reg, b.i, 0);
    c->at = keep;
    c->fs->freereg = save;
}

/* Arguments into the registers after the callee's. */
static void args_to(C *c, const Node *call)
{
    for (int i = 1; i < call->n; i++) expr_to(c, call->k[i], reg_alloc(c));
}

/* The register a call's result lands in: reg itself when it is the topmost
 * temporary, so no move is needed. */
static int call_base(C *c, int reg)
{
    Fs *fs = c->fs;
    return (reg == fs->freereg - 1 && is_temp(fs, reg)) ? reg : reg_alloc(c);
}

/* grad(f, i, ...) / value_and_grad(f, ...): f names a function defined
 * with `fn`; the derivative is compiled now, and the call's value is that
 * function. */
static void grad_to(C *c, const Node *e, int reg)
{
    const char *what = e->k[0]->str;
    int value = what[0] == 'v';
    if (e->n < 2 || e->k[1]->kind != N_NAME) {
        cerror(c, e->loc, "%s: the first argument must name a function defined with fn", what);
        return;
    }
    const Node *fn = vm_fnast(c->vm, e->k[1]->str);
    Local *l = find_local(c->fs, e->k[1]->str);
    if (!fn || l) {
        cerror(c, e->k[1]->loc, "%s: '%s' is not a function defined with fn", what, e->k[1]->str);
        return;
    }
    int np = fn->n - 1, wrt[32], nwrt = 0;
    for (int i = 2; i < e->n; i++) {
        double x;
        if (!fold(e->k[i], &x) || x != floor(x)) {      /* (int) of 1e30 is undefined */
            cerror(c, e->k[i]->loc, "%s: parameter indices must be integer constants", what);
            return;
        }
        if (x < 0 || x >= np) {
            cerror(c, e->k[i]->loc, "%s: '%s' has %d parameter%s, so %g is not a parameter index",
                   what, fn->str, np, np == 1 ? "" : "s", x);
            return;
        }
        if (nwrt == 32) {
            cerror(c, e->k[i]->loc, "%s: too many parameter indices", what);
            return;
        }
        wrt[nwrt++] = (int)x;
    }
    if (!nwrt) {
        if (!np) {
            cerror(c, e->loc, "%s: '%s' has no parameters", what, fn->str);
            return;
        }
        wrt[nwrt++] = 0;
    }
    Sbuf errs;
    sb_init(&errs);
    Proto *p = ad_grad(c->vm, fn, wrt, nwrt, value, c->src, e->loc, &errs);
    if (!p) {
        c->nerrs++;
        sb_puts(c->errs, sb_str(&errs));
        if (!errs.len) cerror(c, e->loc, "%s: cannot differentiate '%s'", what, fn->str);
    }
    sb_free(&errs);
    if (!p) return;
    Value v;
    v.t = T_FN;
    v.u.fn = p;
    emit(c, OP_LOADK, 0, reg, add_const(c, v), 0);
}

/* The register of a local named by e, or -1. */
static int local_reg(C *c, const Node *e)
{
    Local *l = e && e->kind == N_NAME ? find_local(c->fs, e->str) : NULL;
    return l ? l->reg : -1;
}

/* The tape operations generated code runs in every step get opcodes of
 * their own when their operands are locals (see tape.h); returns 0 to
 * leave e to the general intrinsic call. */
static int tape_op(C *c, const Node *e, int reg)
{
    const char *f = e->k[0]->str;
    int nargs = e->n - 1;
    if (strcmp(f, "%site") == 0 && nargs == 2 && local_reg(c, e->k[1]) >= 0 &&
        local_reg(c, e->k[2]) >= 0) {
        emit(c, OP_SITE, 0, local_reg(c, e->k[1]), local_reg(c, e->k[2]), 0);
        return 1;
    }
    if (strcmp(f, "%addtake") == 0 && nargs == 2 && local_reg(c, e->k[1]) >= 0 &&
        local_reg(c, e->k[2]) >= 0) {
        emit(c, OP_ADDTAKE, 0, local_reg(c, e->k[1]), local_reg(c, e->k[2]), 0);
        return 1;
    }
    if (strcmp(f, "%siterec") == 0 && nargs == 2 && local_reg(c, e->k[1]) >= 0 &&
        local_reg(c, e->k[2]) >= 0) {
        emit(c, OP_SITEREC, 0, reg, local_reg(c, e->k[1]), local_reg(c, e->k[2]));
        return 1;
    }
    if (strcmp(f, "%unsite") == 0 && nargs == 1 && e->k[1]->kind == N_NUM) {
        emit(c, OP_UNSITE, 0, reg, (int)e->k[1]->num, 0);
        return 1;
    }
    if (strcmp(f, "%push") == 0 && nargs == 1 && local_reg(c, e->k[1]) >= 0) {
        emit(c, OP_PUSH, 0, local_reg(c, e->k[1]), 0, 0);
        return 1;
    }
    if (strcmp(f, "%ck_next") == 0 && nargs >= 4) {
        /* the block it writes: consecutive registers (a back function's
         * parameters) */
        int r0 = local_reg(c, e->k[1]), b = local_reg(c, e->k[2]);
        for (int k = 2; k <= nargs && r0 >= 0 && b >= 0; k++)
            if (local_reg(c, e->k[k]) != b + k - 2) b = -1;
        if (r0 < 0 || b < 0) cerror(c, e->loc, "internal error: %%ck_next's operands");
        emit(c, OP_CKNEXT, 0, 0, r0, b);
        return 1;
    }
    if (strcmp(f, "%sincos") == 0 && nargs == 2 && local_reg(c, e->k[1]) >= 0 && local_reg(c, e->k[2]) >= 0) {
        emit(c, OP_SINCOS, 0, reg, local_reg(c, e->k[1]), local_reg(c, e->k[2]));
        return 1;
    }
    if (strcmp(f, "%pop") == 0 && nargs == 0) {
        emit(c, OP_POP, 0, reg, 0, 0);
        return 1;
    }
    if (strcmp(f, "%take") == 0 && nargs == 1 && local_reg(c, e->k[1]) >= 0) {
        emit(c, OP_TAKE, 0, reg, local_reg(c, e->k[1]), 0);
        return 1;
    }
    return 0;
}

/* Adjoint accumulation, generated: d = d + %reduce(v, site, j) as one
 * ACCR instruction, d = d + outer(x, y) (the adjoint of W @ h) as one
 * ADDOUTER, and d' = d' + v (v a variable or a number) as one ACC;
 * returns 0 when value is of none of these forms. */
static int accumulate_to(C *c, const Node *value, int reg, const char *var)
{
    if (value->kind != N_BINOP || value->op != BIN_ADD || value->k[0]->kind != N_NAME ||
        strcmp(value->k[0]->str, var) != 0)
        return 0;
    const Node *r = value->k[1];
    int where;
    if (r->kind == N_CALL && r->n == 3 && r->k[0]->kind == N_NAME && strcmp(r->k[0]->str, "outer") == 0 &&
        resolve(c, "outer", &where) == V_BUILTIN) {
        int save = c->fs->freereg;
        int x = expr_any(c, r->k[1]), y = expr_any(c, r->k[2]);
        emit(c, OP_ADDOUTER, 0, reg, x, y);
        c->fs->freereg = save;
        return 1;
    }
    if (strncmp(var, "d'", 2) == 0 && (r->kind == N_NUM || (r->kind == N_NAME && local_reg(c, r) >= 0))) {
        /* an adjoint's first contribution is shared, not added to 0 */
        Opnd v = operand(c, r);
        emit(c, OP_ACC, v.k ? F_BK : 0, reg, v.i, 0);
        return 1;
    }
    if (r->kind != N_CALL || r->k[0]->kind != N_NAME || strcmp(r->k[0]->str, "%reduce") != 0 ||
        r->n != 4 || r->k[3]->kind != N_NUM || local_reg(c, r->k[2]) < 0)
        return 0;
    int save = c->fs->freereg;
    Opnd v = operand(c, r->k[1]);
    emit(c, OP_ACCR, (v.k ? F_BK : 0) | ((int)r->k[3]->num << 4), reg, v.i, local_reg(c, r->k[2]));
    c->fs->freereg = save;
    return 1;
}

static void call_to(C *c, const Node *e, int reg)
{
    Fs *fs = c->fs;
    const Node *fn = e->k[0];
    int nargs = e->n - 1;
    int save = fs->freereg;
    int where, kind = V_NONE;
    if (fn->kind == N_NAME && fn->str[0] == '%') {   /* generated code only */
        if (tape_op(c, e, reg)) return;
        if (strcmp(fn->str, "%outer_acc") == 0 && nargs == 3 && local_reg(c, e->k[1]) >= 0) {
            int x = expr_any(c, e->k[2]), y = expr_any(c, e->k[3]);
            emit(c, OP_OUTERACC, 0, local_reg(c, e->k[1]), x, y);
            fs->freereg = save;
            return;
        }
        int which = strcmp(fn->str, "%ckpt_fwd") == 0 ? 0 : strcmp(fn->str, "%ckpt_rev") == 0 ? 1
                    : strcmp(fn->str, "%ckpt_auto") == 0 ? 2 : -1;
        if (which >= 0) {                                 /* the loop runner */
            int base = call_base(c, reg);
            args_to(c, e);
            emit(c, OP_CKPT, which, base, nargs, 0);
            if (base != reg) emit(c, OP_MOVE, 0, reg, base, 0);
            fs->freereg = save;
            return;
        }
        int in = intrinsic_find(fn->str);
        if (in < 0) {
            cerror(c, fn->loc, "internal error: unknown intrinsic '%s'", fn->str);
            return;
        }
        int base = call_base(c, reg);
        args_to(c, e);
        emit(c, OP_INTRIN, 0, base, in, nargs);
        if (base != reg) emit(c, OP_MOVE, 0, reg, base, 0);
        fs->freereg = save;
        return;
    }
    if (fn->kind == N_NAME) {
        kind = resolve(c, fn->str, &where);
        if (kind == V_NONE &&
            (strcmp(fn->str, "grad") == 0 || strcmp(fn->str, "value_and_grad") == 0)) {
            grad_to(c, e, reg);
            return;
        }
        if (kind == V_NONE) {
            cerror(c, fn->loc, "undefined name '%s'", fn->str);
            return;
        }
    }
    if (kind == V_BUILTIN) {
        const Builtin *bi = &builtins[where];
        char buf[128];
        if (vm_arity(bi, nargs, buf, sizeof buf)) {
            cerror(c, e->loc, "%s", buf);
            return;
        }
        if (bi->unop >= 0 && nargs == 1) {
            unary_to(c, OP_UN0 + bi->unop, e->k[1], e->loc, reg);
            return;
        }
        if (bi->binop >= 0 && nargs == 2) {
            Node tmp = *e;
            Node *kids[2] = {e->k[1], e->k[2]};
            tmp.k = kids;
            tmp.n = 2;
            binary_to(c, OP_BIN0 + bi->binop, &tmp, reg, NULL);
            return;
        }
        int base = call_base(c, reg);
        args_to(c, e);
        Loc keep = c->at;
        c->at = e->loc;
        emit(c, OP_CALLB, 0, base, where, nargs);
        c->at = keep;
        if (base != reg) emit(c, OP_MOVE, 0, reg, base, 0);
        fs->freereg = save;
        return;
    }
    int base = call_base(c, reg);
    expr_to(c, fn, base);
    args_to(c, e);
    Loc keep = c->at;
    c->at = e->loc;
    emit(c, OP_CALL, 0, base, nargs, 0);
    c->at = keep;
    if (base != reg) emit(c, OP_MOVE, 0, reg, base, 0);
    fs->freereg = save;
}

/* Index items into consecutive registers from `first`; returns the offset
 * of the pattern in the proto's pattern table. */
static int index_items(C *c, const Node *e, int first)
{
    Fs *fs = c->fs;
    Proto *p = fs->p;
    int nitems = e->n - 1;
    if (nitems > DIAL_MAXDIM) {
        cerror(c, e->loc, "too many indices (%d, max %d)", nitems, DIAL_MAXDIM);
        return 0;
    }
    int off = p->npat;
    if (grow(c, (void **)&p->pat, &fs->patcap, p->npat + 3 + nitems, 1)) return 0;
    p->pat[p->npat++] = (unsigned char)nitems;
    p->pat[p->npat++] = (unsigned char)(first & 0xff);
    p->pat[p->npat++] = (unsigned char)(first >> 8);
    for (int i = 1; i < e->n; i++) {
        const Node *it = e->k[i];
        if (it->kind == N_SLICE) {
            unsigned char bits = IX_SLICE;
            for (int j = 0; j < 3; j++) {
                if (!it->k[j]) continue;
                bits |= (unsigned char)(1 << j);
                expr_to(c, it->k[j], reg_alloc(c));
            }
            p->pat[p->npat++] = bits;
        } else {
            p->pat[p->npat++] = IX_INT;
            expr_to(c, it, reg_alloc(c));
        }
    }
    return off;
}

static int single_int_index(const Node *e) { return e->n == 2 && e->k[1]->kind != N_SLICE; }

static void index_to(C *c, const Node *e, int reg)
{
    Fs *fs = c->fs;
    int save = fs->freereg;
    int arr = expr_any(c, e->k[0]);
    Loc keep = c->at;
    int copy = e->op == 1 ? F_COPY : 0;   /* generated code: never a view */
    if (single_int_index(e)) {
        Opnd i = operand(c, e->k[1]);
        c->at = e->loc;
        emit(c, OP_INDEX1, (i.k ? F_CK : 0) | copy, reg, arr, i.i);
    } else {
        int pat = index_items(c, e, fs->freereg);
        c->at = e->loc;
        emit(c, OP_INDEX, copy, reg, arr, pat);
    }
    c->at = keep;
    fs->freereg = save;
}

static void array_to(C *c, const Node *e, int reg)
{
    Fs *fs = c->fs;
    int save = fs->freereg;
    int first = fs->freereg;
    for (int i = 0; i < e->n; i++) expr_to(c, e->k[i], reg_alloc(c));
    Loc keep = c->at;
    c->at = e->loc;
    emit(c, OP_NEWARR, 0, reg, first, e->n);
    c->at = keep;
    fs->freereg = save;
}

/* A literal made only of numbers becomes one constant array. */
static int fold_array(C *c, const Node *e, Value *out)
{
    if (e->kind == N_ARRAY) {
        Ctx *ctx = &c->vm->ctx;
        Value *items = calloc((size_t)e->n + 1, sizeof(Value));
        if (!items) return 0;
        int ok = 1;
        *out = val_nil();
        for (int i = 0; i < e->n && ok; i++) ok = fold_array(c, e->k[i], &items[i]);
        if (ok && val_stack(ctx, out, items, e->n)) {
            cerror(c, e->loc, "%s", ctx->msg);
            *out = val_num(0);
        }
        for (int i = 0; i < e->n; i++) val_decref(ctx, &items[i]);
        free(items);
        return ok;
    }
    double x;
    if (!fold(e, &x)) return 0;
    *out = val_num(x);
    return 1;
}

/* Where an expression starts: operators and calls are located at the
 * operator or bracket, a truth-value error reads better at the start. */
static Loc expr_start(const Node *e)
{
    while (e->n && (e->kind == N_BINOP || e->kind == N_MATMUL || e->kind == N_AND ||
                    e->kind == N_OR || e->kind == N_INDEX || e->kind == N_CALL))
        e = e->k[0];
    return e->loc;
}

/* Emit an instruction taking the truth of operand e. */
static int emit_truth(C *c, const Node *e, int op, int a, int b)
{
    Loc keep = c->at;
    c->at = expr_start(e);
    int pc = op == OP_BOOL ? emit(c, op, 0, a, b, 0) : emit_jump(c, op, a);
    c->at = keep;
    return pc;
}

/* and/or: short-circuit on truth values, giving 1 or 0. */
static void logic_to(C *c, const Node *e, int reg)
{
    expr_to(c, e->k[0], reg);
    emit_truth(c, e->k[0], OP_BOOL, reg, reg);
    int j = emit_jump(c, e->kind == N_AND ? OP_JF : OP_JT, reg);
    expr_to(c, e->k[1], reg);
    emit_truth(c, e->k[1], OP_BOOL, reg, reg);
    patch(c, j, here(c));
}

static void name_to(C *c, const Node *e, int reg)
{
    int where;
    switch (resolve(c, e->str, &where)) {
    case V_LOCAL:
        if (where != reg) emit(c, OP_COPY, 0, reg, where, 0);
        break;
    case V_GLOBAL: emit(c, OP_GETG, 0, reg, where, 0); break;
    case V_BUILTIN: {
        Value v;
        v.t = T_BUILTIN;
        v.u.bi = where;
        emit(c, OP_LOADK, 0, reg, add_const(c, v), 0);
        break;
    }
    default: cerror(c, e->loc, "undefined name '%s'", e->str);
    }
}

/* -- fused kernels ------------------------------------------------------ */

/* The primitive of an elementwise node (operators, and the elementwise
 * builtins called by name), or -1. */
static int elem_op(C *c, const Node *e, int *unary)
{
    int where;
    if (e->kind == N_BINOP || e->kind == N_UNOP) {
        *unary = e->kind == N_UNOP;
        return e->op;
    }
    if (e->kind != N_CALL || e->k[0]->kind != N_NAME || leaf_reg(c, e) >= 0 ||
        resolve(c, e->k[0]->str, &where) != V_BUILTIN)
        return -1;
    const Builtin *bi = &builtins[where];
    *unary = e->n == 2;
    if (bi->unop >= 0 && e->n == 2) return bi->unop;
    if (bi->binop >= 0 && e->n == 3) return bi->binop;
    return -1;
}

static const Node *elem_arg(const Node *e, int i) { return e->kind == N_CALL ? e->k[1 + i] : e->k[i]; }

/* Elementwise operations in the tree at e, down to its leaves, counted up
 * to cap + 1: a chain of n operators is asked at each of its levels
 * whether it fuses, so a full count would make compiling it cubic. */
static int count_elem(C *c, const Node *e, int cap)
{
    double x;
    int un, n;
    if (fold(e, &x) || elem_op(c, e, &un) < 0) return 0;
    if (cap == 0) return 1;
    n = 1 + count_elem(c, elem_arg(e, 0), cap - 1);
    return un || n > cap ? n : n + count_elem(c, elem_arg(e, 1), cap - n);
}

/* Slot references while a kernel is built: kind in the top bits, since the
 * numbering of constants and operations is known only at the end. */
enum { REF_LEAF = 0, REF_CONST = 1 << 14, REF_OP = 2 << 14, REF_MASK = 3 << 14 };

static int add_leaf(C *c, const Node *e, int reg, int base)
{
    if (c->nleaf == c->leafcap) {
        int cap = c->leafcap ? c->leafcap * 2 : 16;
        const Node **l = realloc(c->leaf, (size_t)cap * sizeof *l);
        if (l) c->leaf = l;
        int *r = realloc(c->leafreg, (size_t)cap * sizeof *r);
        if (r) c->leafreg = r;
        if (!l || !r) {
            c->oom = 1;
            return 0;
        }
        c->leafcap = cap;
    }
    c->leaf[c->nleaf] = e;
    c->leafreg[c->nleaf] = reg;
    return REF_LEAF | (c->nleaf++ - base);
}

/* Add e's operations to kernel kidx (leaves evaluated into registers on
 * the way, in the order the unfused code would evaluate them); returns
 * e's slot. A leaf may build kernels of its own, moving p->kern: the
 * kernel is found by index after each child. */
static int kernel_slot(C *c, int kidx, const Node *e, int base)
{
    double x;
    int un, op = fold(e, &x) ? -1 : elem_op(c, e, &un);
    if (op >= 0) {
        int a = kernel_slot(c, kidx, elem_arg(e, 0), base);
        int b = un ? a : kernel_slot(c, kidx, elem_arg(e, 1), base);
        Kernel *k = &c->fs->p->kern[kidx];
        KOp *o = &k->ops[k->nops];
        o->op = (uint8_t)op;
        o->unary = (uint8_t)un;
        o->a = (uint16_t)a;
        o->b = (uint16_t)b;
        return REF_OP | k->nops++;
    }
    if (fold(e, &x)) {
        Kernel *k = &c->fs->p->kern[kidx];
        for (int i = 0; i < k->nconst; i++)
            if (memcmp(&k->konst[i], &x, sizeof x) == 0) return REF_CONST | i;
        k->konst[k->nconst] = x;
        return REF_CONST | k->nconst++;
    }
    Local *l = e->kind == N_NAME ? find_local(c->fs, e->str) : NULL;
    int reg = l ? l->reg : reg_alloc(c);
    if (!l) expr_to(c, e, reg);
    return add_leaf(c, e, reg, base);
}

static int renumber(const Kernel *k, int ref)
{
    int i = ref & ~REF_MASK;
    switch (ref & REF_MASK) {
    case REF_LEAF: return i;
    case REF_CONST: return k->nleaf + i;
    }
    return k->nleaf + k->nconst + i;
}

/* Compile e as a fused kernel into reg when it is worth it: two or more
 * elementwise operations, or sum() of at least one. The FUSED instruction
 * is followed by the ordinary code for e over the same evaluated leaves,
 * which runs when the kernel cannot. Returns 0 when e is not fused. */
static int fuse_to(C *c, const Node *e, int reg, const char *var)
{
    int where, reduce = KR_NONE;
    const Node *body = e;
    if (c->fallback) return 0;
    if (e->kind == N_CALL && e->n == 2 && e->k[0]->kind == N_NAME &&
        strcmp(e->k[0]->str, "sum") == 0 && resolve(c, "sum", &where) == V_BUILTIN) {
        reduce = KR_SUM;
        body = e->k[1];
    }
    int into = e == c->into && !reduce;
    int nops = count_elem(c, body, FUSE_MAXOPS);
    if (nops < (reduce || into ? 1 : 2) || nops > FUSE_MAXOPS) return 0;
    Proto *p = c->fs->p;
    Kernel *ks = realloc(p->kern, (size_t)(p->nkern + 1) * sizeof *ks);
    if (!ks) {
        c->oom = 1;
        return 0;
    }
    p->kern = ks;
    Kernel *k = &p->kern[p->nkern++];
    memset(k, 0, sizeof *k);
    k->reduce = reduce;
    k->ops = calloc((size_t)nops, sizeof *k->ops);
    k->konst = calloc((size_t)nops + 1, sizeof *k->konst);
    if (!k->ops || !k->konst) {
        c->oom = 1;
        return 0;
    }
    int save = c->fs->freereg;
    int kidx = p->nkern - 1, base = c->nleaf;
    kernel_slot(c, kidx, body, base);
    p = c->fs->p;
    k = &p->kern[kidx];
    k->nleaf = c->nleaf - base;
    k->leafreg = malloc((size_t)(k->nleaf + 1) * sizeof *k->leafreg);
    if (!k->leafreg) {
        c->oom = 1;
        c->nleaf = base;
        return 0;
    }
    for (int i = 0; i < k->nleaf; i++) k->leafreg[i] = (uint16_t)c->leafreg[base + i];
    for (int j = 0; j < k->nops; j++) {
        k->ops[j].a = (uint16_t)renumber(k, k->ops[j].a);
        k->ops[j].b = (uint16_t)renumber(k, k->ops[j].b);
    }
    Loc keep = c->at;
    c->at = e->loc;
    /* FUSEDIDX runs the kernel into the store's region and then skips
     * FUSED, the fallback and the SETINDEX that follow */
    if (into) emit(c, OP_FUSEDIDX, c->into_flags, c->into_target, c->into_pat, kidx);
    c->into = NULL;
    int pc = emit(c, OP_FUSED, 0, reg, 0, kidx);
    c->at = keep;
    c->fallback = 1;                   /* the ordinary code, over the leaves */
    expr_to_var(c, e, reg, var);
    c->fallback = 0;
    c->nleaf = base;
    p->kern[kidx].skip = here(c) - (pc + 1);
    c->fs->freereg = save;
    return 1;
}

static void expr_to_var(C *c, const Node *e, int reg, const char *var)
{
    Loc keep = c->at;
    c->at = e->loc;
    double x;
    Value arr;
    int lr = leaf_reg(c, e);
    if (lr >= 0) {
        if (lr != reg) emit(c, is_temp(c->fs, lr) ? OP_MOVE : OP_COPY, 0, reg, lr, 0);
    } else if (fuse_to(c, e, reg, var)) {
        /* done */
    } else if (fold(e, &x)) {
        emit(c, OP_LOADK, 0, reg, num_const(c, x), 0);
    } else if (e->kind == N_ARRAY && fold_array(c, e, &arr)) {
        emit(c, OP_LOADK, 0, reg, add_const(c, arr), 0);
    } else {
        switch (e->kind) {
        case N_STR: load_opnd(c, operand(c, e), reg); break;
        case N_NAME: name_to(c, e, reg); break;
        case N_ARRAY: array_to(c, e, reg); break;
        case N_UNOP: unary_to(c, OP_UN0 + e->op, e->k[0], e->loc, reg); break;
        case N_BINOP: binary_to(c, OP_BIN0 + e->op, e, reg, var); break;
        case N_MATMUL: binary_to(c, OP_MATMUL, e, reg, var); break;
        case N_AND:
        case N_OR:
            if (is_temp(c->fs, reg)) {
                logic_to(c, e, reg);
            } else {        /* the right side may read the variable */
                int t = reg_alloc(c);
                logic_to(c, e, t);
                emit(c, OP_MOVE, 0, reg, t, 0);
                c->fs->freereg--;
            }
            break;
        case N_CALL: call_to(c, e, reg); break;
        case N_INDEX: index_to(c, e, reg); break;
        case N_SLICE: cerror(c, e->loc, "a slice is only allowed inside [ ]"); break;
        default: cerror(c, e->loc, "not an expression (%s)", ast_kindname(e->kind));
        }
    }
    c->at = keep;
}

static void expr_to(C *c, const Node *e, int reg) { expr_to_var(c, e, reg, NULL); }

/* -- statements -------------------------------------------------------- */

static void block(C *c, const Node *b);
static void stmt(C *c, const Node *s);

/* Leave the current block: its locals go out of scope. Their registers are
 * cleared unless `keep` (loop bodies clear once, after the loop, so a body
 * can reuse last iteration's buffers). Returns the first freed register. */
static int close_block(C *c, int keep)
{
    Fs *fs = c->fs;
    int first = -1, n = 0;
    while (fs->nloc && fs->loc[fs->nloc - 1].depth == fs->depth) {
        first = fs->loc[--fs->nloc].reg;
        n++;
    }
    fs->depth--;
    if (first >= 0) {
        fs->freereg = first;
        if (!keep) emit(c, OP_CLEAR, 0, first, fs->p->nregs - first, 0);
    }
    return first;
}

static void body(C *c, const Node *b, int keep)
{
    c->fs->depth++;
    for (int i = 0; i < b->n; i++) stmt(c, b->k[i]);
    close_block(c, keep);
}

static void block(C *c, const Node *b) { body(c, b, 0); }

/* Assign the value in register `val` (a temporary) to a name. */
static void assign_name_from(C *c, const Node *t, int val)
{
    Fs *fs = c->fs;
    int where;
    int kind = resolve(c, t->str, &where);
    if (kind == V_LOCAL) {
        emit(c, OP_MOVE, 0, where, val, 0);
    } else if (kind == V_GLOBAL && fs->main) {
        emit(c, OP_SETG, F_MOVE, where, val, 0);
    } else {
        int r = nactive(fs);
        if (r != val) emit(c, OP_MOVE, 0, r, val, 0);
        declare_local(c, t->str, r);
    }
}

static void store_index(C *c, const Node *t, int val, int add);

/* Store register val (a temporary) into target t: a name or an index
 * chain. `x[i][j] = v` reads x[i], stores into it, and writes it back. */
static void store(C *c, const Node *t, int val)
{
    if (t->kind == N_NAME) assign_name_from(c, t, val);
    else if (t->kind == N_INDEX) store_index(c, t, val, 0);
    else cerror(c, t->loc, "cannot assign to this expression");
}

/* `add`: F_ADD to add into the region instead (x[i] += v) */
static void store_index(C *c, const Node *t, int val, int add)
{
    Fs *fs = c->fs;
    const Node *base = t->k[0];
    int flag = add, target;
    int save = fs->freereg;
    int chained = 0;
    if (base->kind == N_NAME) {
        int kind = resolve(c, base->str, &target);
        if (kind == V_GLOBAL && fs->main) flag |= F_GLOBAL;
        else if (kind != V_LOCAL) {
            if (kind == V_NONE) cerror(c, base->loc, "undefined name '%s'", base->str);
            else cerror(c, base->loc, "cannot modify global '%s' inside a function: copy it to a local first",
                        base->str);
            return;
        }
    } else {
        target = reg_alloc(c);
        expr_to(c, base, target);
        chained = 1;
    }
    Loc keep = c->at;
    if (single_int_index(t)) {
        Opnd i = operand(c, t->k[1]);
        int ireg = i.i;
        if (i.k) {
            ireg = reg_alloc(c);
            emit(c, OP_LOADK, 0, ireg, i.i, 0);
        }
        c->at = t->loc;
        emit(c, OP_SETINDEX1, flag, target, ireg, val);
    } else {
        int first = fs->freereg;
        int pat = index_items(c, t, first);
        int v = reg_alloc(c);
        emit(c, OP_MOVE, 0, v, val, 0);
        c->at = t->loc;
        emit(c, OP_SETINDEX, flag, target, first, pat);
    }
    c->at = keep;
    if (chained) store(c, base, target);
    fs->freereg = save;
}

/* Are e's index items numbers or locals (so evaluating them before the
 * value changes nothing)? */
static int plain_items(C *c, const Node *e)
{
    double x;
    for (int i = 1; i < e->n; i++) {
        const Node *it = e->k[i];
        for (int j = 0; j < (it->kind == N_SLICE ? 3 : 1); j++) {
            const Node *p = it->kind == N_SLICE ? it->k[j] : it;
            if (p && !fold(p, &x) && local_reg(c, p) < 0) return 0;
        }
    }
    return 1;
}

/* `x[items] = e` or `+= e` with x a local and e elementwise: the items
 * first, then e with a kernel that may write straight into x's region
 * (FUSEDIDX), else the ordinary SETINDEX. Returns 0 when not of that form. */
static int store_fused(C *c, const Node *t, const Node *v, int add)
{
    Fs *fs = c->fs;
    int target;
    if (t->kind != N_INDEX || t->k[0]->kind != N_NAME || single_int_index(t) || !plain_items(c, t) ||
        resolve(c, t->k[0]->str, &target) != V_LOCAL || count_elem(c, v, 1) < 1 || c->fallback)
        return 0;
    int first = fs->freereg;
    int pat = index_items(c, t, first);
    int val = reg_alloc(c);
    c->into = v;
    c->into_target = target;
    c->into_pat = pat;
    c->into_flags = add ? F_ADD : 0;
    expr_to(c, v, val);
    c->into = NULL;
    Loc keep = c->at;
    c->at = t->loc;
    emit(c, OP_SETINDEX, add ? F_ADD : 0, target, first, pat);
    c->at = keep;
    fs->freereg = nactive(fs);
    return 1;
}

static void assign(C *c, const Node *s)
{
    Fs *fs = c->fs;
    const Node *t = s->k[0];
    const Node *v = s->k[1];
    Node op;
    Node *kids[2];
    if ((s->op == BIN_ADD || s->op < 0) && store_fused(c, t, v, s->op == BIN_ADD)) return;
    if (s->op == BIN_ADD && t->kind == N_INDEX && t->k[0]->kind == N_NAME) {
        int r = reg_alloc(c);          /* x[i] += e adds in place */
        expr_to(c, v, r);
        store_index(c, t, r, F_ADD);
        fs->freereg = nactive(fs);
        return;
    }
    v = ast_assigned(s, &op, kids);
    if (t->kind == N_NAME) {
        Local *l = find_local(fs, t->str);
        if (l && accumulate_to(c, v, l->reg, t->str)) return;
        if (l) {               /* build the value in the variable itself */
            expr_to_var(c, v, l->reg, t->str);
            return;
        }
    }
    int r = reg_alloc(c);
    expr_to(c, v, r);
    store(c, t, r);
    fs->freereg = nactive(fs);
}

static void massign(C *c, const Node *s)
{
    Fs *fs = c->fs;
    int n = s->n - 1;
    int src = reg_alloc(c);
    expr_to(c, s->k[n], src);
    int first = fs->freereg;
    for (int i = 0; i < n; i++) reg_alloc(c);
    Loc keep = c->at;
    c->at = s->k[n]->loc;
    emit(c, OP_UNPACK, 0, first, src, n);
    c->at = keep;
    for (int i = 0; i < n; i++) {
        if (s->k[i]->kind != N_NAME) {
            cerror(c, s->k[i]->loc, "cannot assign to this expression");
            continue;
        }
        store(c, s->k[i], first + i);
    }
    fs->freereg = nactive(fs);
}

static int local_reg(C *c, const Node *e);

static void cond_jump(C *c, const Node *cond, int *jf)
{
    int save = c->fs->freereg;
    /* generated code's `if %nz(d)`: one instruction */
    if (cond->kind == N_CALL && cond->n == 2 && cond->k[0]->kind == N_NAME &&
        strcmp(cond->k[0]->str, "%nz") == 0 && local_reg(c, cond->k[1]) >= 0) {
        *jf = emit_jump(c, OP_JZERO, local_reg(c, cond->k[1]));
        return;
    }
    int r = expr_any(c, cond);
    *jf = emit_truth(c, cond, OP_JF, r, 0);
    c->fs->freereg = save;
}

static void if_stmt(C *c, const Node *s)
{
    int jf;
    cond_jump(c, s->k[0], &jf);
    block(c, s->k[1]);
    if (s->k[2]) {
        int jend = emit_jump(c, OP_JMP, 0);
        patch(c, jf, here(c));
        if (s->k[2]->kind == N_IF) stmt(c, s->k[2]);
        else block(c, s->k[2]);
        patch(c, jend, here(c));
    } else {
        patch(c, jf, here(c));
    }
}

static void loop_enter(C *c, Loop *l)
{
    memset(l, 0, sizeof *l);
    l->up = c->fs->loop;
    l->nloc = c->fs->nloc;
    c->fs->loop = l;
}

static void loop_leave(C *c, Loop *l, int cont, int brk)
{
    jumps_patch(c, &l->conts, cont);
    jumps_patch(c, &l->breaks, brk);
    c->fs->loop = l->up;
}

/* Clear what a loop body's locals left in their registers. */
static void clear_from(C *c, int first)
{
    if (first < c->fs->p->nregs) emit(c, OP_CLEAR, 0, first, c->fs->p->nregs - first, 0);
}

static void for_stmt(C *c, const Node *s)
{
    Fs *fs = c->fs;
    int base = reg_alloc(c);
    expr_to(c, s->k[0], base);
    expr_to(c, s->k[1], reg_alloc(c));
    fs->depth++;                    /* the loop variable's own block */
    int var = declare_local(c, s->str, reg_alloc(c));
    (void)var;
    Loc keep = c->at;
    c->at = s->loc;
    int prep = emit_jump(c, OP_FORPREP, base);
    c->at = keep;
    Loop l;
    loop_enter(c, &l);
    int top = here(c);
    body(c, s->k[2], 1);
    c->at = s->loc;
    int step = emit_jump(c, OP_FORLOOP, base);
    c->at = keep;
    patch(c, step, top);
    loop_leave(c, &l, step, here(c));
    patch(c, prep, here(c));
    close_block(c, 1);
    fs->freereg = base;
    clear_from(c, base);
}

static void while_stmt(C *c, const Node *s)
{
    int top = here(c);
    int jf;
    cond_jump(c, s->k[0], &jf);
    Loop l;
    loop_enter(c, &l);
    int first = c->fs->freereg;
    body(c, s->k[1], 1);
    int back = emit_jump(c, OP_JMP, 0);
    patch(c, back, top);
    loop_leave(c, &l, top, here(c));
    patch(c, jf, here(c));
    clear_from(c, first);
}

static void break_stmt(C *c, const Node *s)
{
    Loop *l = c->fs->loop;
    if (!l) {
        cerror(c, s->loc, "'%s' outside a loop", s->kind == N_BREAK ? "break" : "continue");
        return;
    }
    int j = emit_jump(c, OP_JMP, 0);
    jumps_add(c, s->kind == N_BREAK ? &l->breaks : &l->conts, j);
}

static void return_stmt(C *c, const Node *s)
{
    Fs *fs = c->fs;
    int save = fs->freereg;
    if (s->n == 0) {
        emit(c, OP_RET, 0, 0, 0, 0);
    } else if (s->n == 1) {
        int r = expr_any(c, s->k[0]);
        emit(c, OP_RET, 0, r, 1, 0);
    } else {
        int dst = reg_alloc(c);
        int first = fs->freereg;
        for (int i = 0; i < s->n; i++) expr_to(c, s->k[i], reg_alloc(c));
        emit(c, OP_TUPLE, 0, dst, first, s->n);
        emit(c, OP_RET, 0, dst, 1, 0);
    }
    fs->freereg = save;
}

static void expr_stmt(C *c, const Node *s, int echo)
{
    int save = c->fs->freereg;
    int r = reg_alloc(c);
    expr_to(c, s->k[0], r);
    if (echo) emit(c, OP_RET, 0, r, 1, 0);
    c->fs->freereg = save;
}

static void stmt(C *c, const Node *s)
{
    c->at = s->loc;
    switch (s->kind) {
    case N_EXPR: expr_stmt(c, s, 0); break;
    case N_ASSIGN: assign(c, s); break;
    case N_MASSIGN: massign(c, s); break;
    case N_IF: if_stmt(c, s); break;
    case N_FOR: for_stmt(c, s); break;
    case N_WHILE: while_stmt(c, s); break;
    case N_BREAK:
    case N_CONTINUE: break_stmt(c, s); break;
    case N_RETURN: return_stmt(c, s); break;
    case N_BLOCK: block(c, s); break;
    case N_FN:
        if (!c->fs->main || c->fs->depth > 0)
            cerror(c, s->loc, "functions can only be defined at top level");
        break;                     /* top-level ones are hoisted */
    case N_RULE:
        if (!c->fs->main || c->fs->depth > 0)
            cerror(c, s->loc, "rules can only be declared at top level");
        break;                     /* top-level ones are registered first */
    default: cerror(c, s->loc, "unexpected %s", ast_kindname(s->kind));
    }
}

/* -- functions and chunks ---------------------------------------------- */

static void fs_open(C *c, Fs *fs, Proto *p, int main)
{
    memset(fs, 0, sizeof *fs);
    fs->p = p;
    fs->main = main;
    c->fs = fs;
}

static void fs_close(C *c, Fs *fs)
{
    emit(c, OP_RET, 0, 0, 0, 0);
    free(fs->loc);
}

static Proto *function(C *c, const Node *fn)
{
    Fs *up = c->fs;
    Proto *p = vm_newproto(c->vm, fn->str, c->src);
    if (!p) {
        cerror(c, fn->loc, "out of memory while compiling");
        return NULL;
    }
    Fs fs;
    fs_open(c, &fs, p, 0);
    int np = fn->n - 1;
    p->nparams = np;
    for (int i = 0; i < np; i++) {
        const char *name = fn->k[i]->str;
        for (int j = 0; j < i; j++)
            if (strcmp(fn->k[j]->str, name) == 0)
                cerror(c, fn->k[i]->loc, "duplicate parameter '%s'", name);
        declare_local(c, name, reg_alloc(c));
    }
    const Node *b = fn->k[np];
    for (int i = 0; i < b->n; i++) stmt(c, b->k[i]);
    c->at = fn->loc;
    fs_close(c, &fs);
    c->fs = up;
    return p;
}

/* Top-level names get global slots before anything is compiled, so that
 * functions can use globals and functions defined further down. */
static void declare_globals(C *c, const Node *prog)
{
    for (int i = 0; i < prog->n; i++) {
        const Node *s = prog->k[i];
        if (s->kind == N_FN || (s->kind == N_ASSIGN && s->k[0]->kind == N_NAME)) {
            const char *name = s->kind == N_FN ? s->str : s->k[0]->str;
            if (vm_global(c->vm, name) < 0) cerror(c, s->loc, "out of memory");
        } else if (s->kind == N_MASSIGN) {
            for (int j = 0; j + 1 < s->n; j++)
                if (s->k[j]->kind == N_NAME && vm_global(c->vm, s->k[j]->str) < 0)
                    cerror(c, s->loc, "out of memory");
        }
    }
}

/* What a chunk changed outside its protos and globals, undone when it
 * fails to compile. */
typedef struct Undo {
    int nrules;
    int slot[64];
    const Node *old[64];
    int n;
} Undo;

/* Top-level functions are known to grad before any code is compiled, and
 * top-level rules are registered (they may name functions of the chunk). */
static void register_defs(C *c, const Node *prog, Undo *u)
{
    u->nrules = c->vm->nrules;
    for (int i = 0; i < prog->n; i++) {
        const Node *s = prog->k[i];
        if (s->kind == N_FN) {
            int g = vm_findglobal(c->vm, s->str);
            const Node *old = vm_setfnast(c->vm, g, s);
            if (u->n < 64) {
                u->slot[u->n] = g;
                u->old[u->n++] = old;
            }
        } else if (s->kind == N_RULE) {
            if (rules_add(c->vm, s, 1, c->src, c->errs)) c->nerrs++;
        }
    }
}

static void undo_defs(C *c, const Undo *u)
{
    for (int i = u->n - 1; i >= 0; i--) vm_setfnast(c->vm, u->slot[i], u->old[i]);
    c->vm->nrules = u->nrules;
}

static void hoist_functions(C *c, const Node *prog)
{
    for (int i = 0; i < prog->n; i++) {
        const Node *s = prog->k[i];
        if (s->kind != N_FN) continue;
        Proto *p = function(c, s);
        if (!p) continue;
        Value v;
        v.t = T_FN;
        v.u.fn = p;
        c->at = s->loc;
        int r = reg_alloc(c);
        emit(c, OP_LOADK, 0, r, add_const(c, v), 0);
        emit(c, OP_SETG, F_MOVE, vm_findglobal(c->vm, s->str), r, 0);
        c->fs->freereg--;
    }
}

Proto *compile_chunk(Vm *vm, const Node *program, const Source *src, int echo, Sbuf *errs)
{
    C c;
    memset(&c, 0, sizeof c);
    c.vm = vm;
    c.src = src;
    c.errs = errs;
    int nprotos = vm->nprotos, nglobals = vm->ng;
    Proto *main = vm_newproto(vm, "main chunk", src);
    if (!main) {
        diag_report(errs, src, 0, 0, "out of memory while compiling");
        return NULL;
    }
    Fs fs;
    fs_open(&c, &fs, main, 1);
    declare_globals(&c, program);
    Undo undo;
    memset(&undo, 0, sizeof undo);
    register_defs(&c, program, &undo);
    hoist_functions(&c, program);
    int last = program->n - 1;
    for (int i = 0; i <= last; i++) {
        const Node *s = program->k[i];
        if (echo && i == last && s->kind == N_EXPR) {
            c.at = s->loc;
            expr_stmt(&c, s, 1);
        } else {
            stmt(&c, s);
        }
    }
    fs_close(&c, &fs);
    free(c.leaf);
    free(c.leafreg);
    if (c.nerrs) {
        undo_defs(&c, &undo);
        vm_dropprotos(vm, nprotos);
        vm_dropglobals(vm, nglobals);
        return NULL;
    }
    return main;
}

Proto *compile_function(Vm *vm, const Node *fn, const Source *src, Sbuf *errs)
{
    C c;
    memset(&c, 0, sizeof c);
    c.vm = vm;
    c.src = src;
    c.errs = errs;
    c.at = fn->loc;
    Proto *p = function(&c, fn);
    free(c.leaf);
    free(c.leafreg);
    return c.nerrs ? NULL : p;
}
