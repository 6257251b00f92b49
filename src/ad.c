/* ad.c: reverse-mode differentiation by source transformation (ad.h).
 *
 * A function is transformed in four passes over its syntax tree:
 *  1. lower: every local gets a unique name (so all can live at function
 *     level), expressions become three-address statements whose operands
 *     are names or constants (`t = sin(x)`), `while` conditions are
 *     recomputed at the end of the body, early returns become a flag;
 *  2. activity: which variables depend on the differentiated parameters;
 *  3. needs: the variables whose values the active rules read, found by
 *     instantiating each active statement's rule;
 *  4. emit: the forward sweep (the lowered code plus pushes) and the
 *     reverse sweep (statements backwards: adjoint, then restore).
 * Generated names contain characters the lexer never produces ('#', '$',
 * '\''), so they cannot meet a user's names. */
#include "ad.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "builtins.h"
#include "compile.h"
#include "fuse.h"
#include "rules.h"
#include "sbuf.h"

/* A new zeroed element at the end of a growable array; NULL when memory
 * runs out. */
static void *grow(void *arrp, int *n, int *cap, size_t elem)
{
    void **arr = arrp;
    if (*n == *cap) {
        int ncap = *cap ? *cap * 2 : 16;
        void *p = realloc(*arr, (size_t)ncap * elem);
        if (!p) return NULL;
        *arr = p;
        *cap = ncap;
    }
    char *e = (char *)*arr + (size_t)(*n)++ * elem;
    memset(e, 0, elem);
    return e;
}

/* -- name sets ----------------------------------------------------------- */

typedef struct Names {
    const char **s;
    int n, cap;
} Names;

static int names_has(const Names *ns, const char *s)
{
    for (int i = 0; i < ns->n; i++)
        if (strcmp(ns->s[i], s) == 0) return 1;
    return 0;
}

static int names_add(Names *ns, const char *s)
{
    if (names_has(ns, s)) return 0;
    if (ns->n == ns->cap) {
        int cap = ns->cap ? ns->cap * 2 : 32;
        const char **p = realloc(ns->s, (size_t)cap * sizeof *p);
        if (!p) return 0;
        ns->s = p;
        ns->cap = cap;
    }
    ns->s[ns->n++] = s;
    return 1;
}

/* -- the transform's state ---------------------------------------------- */

/* A lowered block and the unique names of the locals it declares. */
typedef struct Region {
    const Node *block;
    Names locals;
} Region;

/* What pass 3 learned of a statement `x = op(...)`: its rule instantiated
 * for the reverse sweep, and the temporaries receiving its operands'
 * adjoint contributions. */
typedef struct Site {
    Node *rev;             /* N_BLOCK of the rule's active statements */
    const char *contrib[RULE_MAXOPS];
    int site;              /* operands recorded by %site, 0 if none */
    int direct[RULE_MAXOPS];   /* the rule assigns the adjoint unconditionally */
    int siteof[RULE_MAXOPS];   /* operand -> position in the site record, -1 */
} Site;

typedef struct Scope {
    const char **from, **to;
    int n, cap;
    struct Scope *up;
    Names *locals;
} Scope;

typedef struct Ad {
    Vm *vm;
    Arena *ar;
    const Source *src;
    Sbuf *errs;
    int nerrs;
    int counter;
    Loc at;
    /* per function */
    Scope *scope;
    Region *reg;
    int nreg, regcap;
    Site *site;
    int nsite, sitecap;
    Names varied, needed, vars;
    Names remat;           /* values the reverse computes again, not cached */
    Names shapes;          /* $shape temporaries of shape(x) ... */
    const char **shapecls; /* ... and the shape class of their x */
    const Node *body;      /* the lowered function body */
    Names shaped;          /* variables whose shape (only) the reverse reads */
    struct Pos *pos;       /* each statement's order and enclosing loops */
    int npos, poscap;
    struct Def *def;       /* hash table: where each variable is assigned */
    unsigned defcap;
    struct Read *read;     /* where the reverse reads each variable */
    int nread, readcap;
    struct Read *pre;      /* statements pass 3 adds: the site they precede */
    int npre, precap;
    int cur;               /* the statement being analysed (index in pos) */
    struct Ck *ck;         /* the function's checkpointed loops */
    int nck, ckcap;
    struct Arena **keep;   /* where trees that outlive the transform go */
    const char *fname;     /* the function being transformed */
    const Node *fnnode;    /* and its tree */
    const Node *blk;       /* its block, and its index there */
    int blkat;
    int loops;             /* loop nesting while lowering */
    int ordered;           /* keep the order of accumulations (commute) */
    int returns;           /* `return`s lowered into the return flag */
    int jumps;             /* breaks/continues lowered in the current loop */
    const char *brk, *cnt; /* the current loop's flags, once needed */
} Ad;

static void aderr(Ad *a, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void aderr(Ad *a, Loc loc, const char *fmt, ...)
{
    if (a->nerrs++ >= 10) return;
    va_list ap;
    va_start(ap, fmt);
    diag_vreport(a->errs, a->src, loc.first_line, loc.first_column, fmt, ap);
    va_end(ap);
}

/* -- building trees ------------------------------------------------------ */

static Node *node(Ad *a, int kind)
{
    Node *n = ast_node(a->ar, kind, a->at);
    if (!n) a->nerrs++;
    return n;
}

static Node *add(Ad *a, Node *parent, Node *child)
{
    if (parent && !ast_add(a->ar, parent, child)) a->nerrs++;
    return parent;
}

static const char *fresh(Ad *a, const char *prefix, const char *base)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s%s#%d", prefix, base ? base : "", ++a->counter);
    return arena_strdup(a->ar, buf, strlen(buf));
}

static Node *name(Ad *a, const char *s)
{
    Node *n = node(a, N_NAME);
    if (n) n->str = (char *)s;
    return n;
}

static Node *num(Ad *a, double x)
{
    Node *n = node(a, N_NUM);
    if (n) n->num = x;
    return n;
}

static Node *assign(Ad *a, Node *target, Node *value)
{
    Node *n = node(a, N_ASSIGN);
    if (n) n->op = -1;
    return add(a, add(a, n, target), value);
}

static Node *set(Ad *a, const char *var, Node *value) { return assign(a, name(a, var), value); }

static Node *call(Ad *a, const char *fn, int nargs, Node **args)
{
    Node *n = add(a, node(a, N_CALL), name(a, fn));
    for (int i = 0; i < nargs; i++) add(a, n, args[i]);
    return n;
}

static Node *call1(Ad *a, const char *fn, Node *x) { return call(a, fn, 1, &x); }

static Node *binop(Ad *a, int op, Node *x, Node *y)
{
    Node *n = node(a, N_BINOP);
    if (n) n->op = op;
    return add(a, add(a, n, x), y);
}

static Node *block(Ad *a) { return node(a, N_BLOCK); }

/* d'x: the adjoint of variable x */
static const char *adj(Ad *a, const char *x)
{
    char buf[256];
    snprintf(buf, sizeof buf, "d'%s", x);
    return arena_strdup(a->ar, buf, strlen(buf));
}

/* d'x = d'x + value */
static Node *accumulate(Ad *a, const char *x, Node *value)
{
    const char *d = adj(a, x);
    return set(a, d, binop(a, BIN_ADD, name(a, d), value));
}

/* A node like n, without its children. */
static Node *shell(Ad *a, const Node *n)
{
    Node *c = node(a, n->kind);
    if (!c) return NULL;
    c->op = n->op;
    c->loc = n->loc;
    c->num = n->num;
    c->str = n->str;
    return c;
}

static Node *copy(Ad *a, const Node *n)
{
    Node *c = n ? shell(a, n) : NULL;
    for (int i = 0; c && i < n->n; i++) add(a, c, copy(a, n->k[i]));
    return c;
}

/* -- pass 1: lowering ----------------------------------------------------- */

static void scope_push(Ad *a, Scope *s, Names *locals)
{
    memset(s, 0, sizeof *s);
    s->up = a->scope;
    s->locals = locals;
    a->scope = s;
}

static void scope_pop(Ad *a)
{
    Scope *s = a->scope;
    a->scope = s->up;
    free(s->from);
    free(s->to);
}

static const char *lookup(Ad *a, const char *n)
{
    for (Scope *s = a->scope; s; s = s->up)
        for (int i = s->n - 1; i >= 0; i--)
            if (strcmp(s->from[i], n) == 0) return s->to[i];
    return NULL;
}

static const char *declare(Ad *a, const char *n, const char *unique)
{
    Scope *s = a->scope;
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 16;
        const char **f = realloc(s->from, (size_t)cap * sizeof *f);
        if (f) s->from = f;
        const char **t = realloc(s->to, (size_t)cap * sizeof *t);
        if (t) s->to = t;
        if (!f || !t) {
            a->nerrs++;
            return unique;
        }
        s->cap = cap;
    }
    s->from[s->n] = n;
    s->to[s->n++] = unique;
    if (s->locals) names_add(s->locals, unique);
    names_add(&a->vars, unique);
    return unique;
}

static Node *lower_expr(Ad *a, Node *out, const Node *e);

/* A copy of e with its names renamed, for code kept as it is (conditions
 * of `and`/`or`, expression statements). */
static Node *rename_tree(Ad *a, const Node *e)
{
    if (!e) return NULL;
    if (e->kind == N_NAME) {
        const char *u = lookup(a, e->str);
        Node *n = name(a, u ? u : e->str);
        if (n) n->loc = e->loc;
        return n;
    }
    Node *c = shell(a, e);
    for (int i = 0; c && i < e->n; i++) add(a, c, rename_tree(a, e->k[i]));
    return c;
}

static int is_leaf(const Node *e) { return e->kind == N_NAME || e->kind == N_NUM || e->kind == N_STR; }

/* Statement `t = value` into out, t fresh; returns the name node of t. */
static Node *bind(Ad *a, Node *out, Node *value)
{
    const char *t = fresh(a, "$", NULL);
    names_add(&a->vars, t);
    add(a, out, set(a, t, value));
    return name(a, t);
}

/* The value of e as one operation over leaves (or a leaf), its operands
 * lowered into out first. */
static Node *lower_op(Ad *a, Node *out, const Node *e)
{
    double x;
    Loc keep = a->at;
    a->at = e->loc;
    Node *r = NULL;
    if (e->kind == N_NUM || e->kind == N_STR) {
        r = copy(a, e);
    } else if (e->kind == N_NAME) {
        r = rename_tree(a, e);
    } else if (e->kind == N_BINOP || e->kind == N_UNOP) {
        /* fold constants the way the compiler would, so `-1` stays a number */
        if (e->kind == N_UNOP && e->k[0]->kind == N_NUM) {
            x = num_unop(e->op, e->k[0]->num);
            r = num(a, x);
        } else {
            r = node(a, e->kind);
            if (r) r->op = e->op;
            for (int i = 0; i < e->n; i++) add(a, r, lower_expr(a, out, e->k[i]));
        }
    } else if (e->kind == N_MATMUL || e->kind == N_ARRAY) {
        r = node(a, e->kind);
        for (int i = 0; i < e->n; i++) add(a, r, lower_expr(a, out, e->k[i]));
    } else if (e->kind == N_CALL) {
        if (e->k[0]->kind != N_NAME) {
            aderr(a, e->loc, "grad: only functions called by name can be differentiated");
            return num(a, 0);
        }
        r = add(a, node(a, N_CALL), rename_tree(a, e->k[0]));
        for (int i = 1; i < e->n; i++) add(a, r, lower_expr(a, out, e->k[i]));
    } else if (e->kind == N_INDEX) {
        r = add(a, node(a, N_INDEX), lower_expr(a, out, e->k[0]));
        for (int i = 1; i < e->n; i++) {
            const Node *it = e->k[i];
            if (it->kind != N_SLICE) {
                add(a, r, lower_expr(a, out, it));
                continue;
            }
            Node *s = node(a, N_SLICE);
            if (s) s->loc = it->loc;
            for (int j = 0; j < 3; j++) add(a, s, it->k[j] ? lower_expr(a, out, it->k[j]) : NULL);
            add(a, r, s);
        }
    } else {
        r = rename_tree(a, e);              /* and/or: kept whole, not differentiated */
    }
    if (r) r->loc = e->loc;
    a->at = keep;
    return r;
}

/* e as a leaf: a constant, or a name holding its value. */
static Node *lower_expr(Ad *a, Node *out, const Node *e)
{
    Node *v = lower_op(a, out, e);
    if (!v || is_leaf(v)) return v;
    return bind(a, out, v);
}

static Node *lower_block(Ad *a, const Node *b, int region);

/* x = e, the operation of e assigned straight to x unless x is one of its
 * operands (the reverse sweep must see the operands' old values). */
static void lower_assign(Ad *a, Node *out, const Node *s)
{
    const Node *t = s->k[0];
    Node tmp, *kids[2];
    const Node *e = ast_assigned(s, &tmp, kids);
    if (t->kind == N_INDEX && t->k[0]->kind == N_INDEX) {
        /* x[i][j] = v: read x[i], store into it, write it back */
        Node *tmp = lower_expr(a, out, t->k[0]);
        Node *inner = copy(a, t);
        inner->k[0] = tmp;
        Node *st = assign(a, inner, (Node *)e);
        lower_assign(a, out, st);
        lower_assign(a, out, assign(a, t->k[0], copy(a, tmp)));
        return;
    }
    if (t->kind == N_INDEX) {
        if (t->k[0]->kind != N_NAME) {
            aderr(a, t->loc, "grad: cannot differentiate a store into this expression");
            return;
        }
        Node *target = lower_op(a, out, t);   /* x[items], items lowered */
        Node *v = lower_expr(a, out, e);
        add(a, out, assign(a, target, v));
        return;
    }
    if (t->kind != N_NAME) {
        aderr(a, t->loc, "grad: cannot differentiate this assignment");
        return;
    }
    Node *v = lower_op(a, out, e);
    const char *u = lookup(a, t->str);
    if (!u) u = declare(a, t->str, fresh(a, "", t->str));
    if (v && v->kind == N_NAME && strcmp(v->str, u) == 0) return;   /* x = x */
    if (v && !is_leaf(v) && ast_mentions(v, u)) v = bind(a, out, v);
    add(a, out, set(a, u, v));
}

static void lower_stmt(Ad *a, Node *out, const Node *s);

/* not (flag or flag ...): the flags a statement may have raised, which
 * skip the rest of a block. */
static Node *flags_down(Ad *a)
{
    const char *f[3];
    int n = 0;
    if (a->returns) f[n++] = "$ret'flag";
    if (a->brk) f[n++] = a->brk;
    if (a->cnt) f[n++] = a->cnt;
    Node *e = name(a, f[0]);
    for (int i = 1; i < n; i++) e = add(a, add(a, node(a, N_OR), e), name(a, f[i]));
    Node *u = node(a, N_UNOP);
    if (u) u->op = UN_NOT;
    return add(a, u, e);
}

/* The statements of b, into out; after a statement that may return, break
 * or continue, the rest runs only while no flag is up. */
static void lower_stmts(Ad *a, Node *out, const Node *b, int from)
{
    for (int i = from; i < b->n; i++) {
        int before = a->returns + a->jumps;
        lower_stmt(a, out, b->k[i]);
        if (a->returns + a->jumps > before && i + 1 < b->n) {
            Node *c = bind(a, out, flags_down(a));
            Node *rest = block(a);
            lower_stmts(a, rest, b, i + 1);
            add(a, out, add(a, add(a, add(a, node(a, N_IF), c), rest), NULL));
            return;
        }
    }
}

/* Put s first in block b. */
static void prepend(Ad *a, Node *b, Node *s)
{
    add(a, b, s);
    if (!b || b->n < 2) return;
    Node *last = b->k[b->n - 1];
    memmove(b->k + 1, b->k, (size_t)(b->n - 1) * sizeof *b->k);
    b->k[0] = last;
}

/* A loop's flags while its body is lowered. */
typedef struct LoopFlags {
    const char *brk, *cnt;
    int jumps, returns;
} LoopFlags;

static void loop_enter(Ad *a, LoopFlags *save)
{
    save->brk = a->brk;
    save->cnt = a->cnt;
    save->jumps = a->jumps;
    save->returns = a->returns;
    a->brk = a->cnt = NULL;
    a->jumps = 0;
    a->loops++;
}

/* Whether the loop must stop early (a break, or a return inside), after
 * putting `continue`'s reset at the top of the body. Restores the outer
 * loop's flags; returns the stop condition's flag names in *brk. */
static int loop_leave(Ad *a, LoopFlags *save, Node *body, const char **brk, int *ret)
{
    a->loops--;
    if (a->cnt) prepend(a, body, set(a, a->cnt, num(a, 0)));
    *brk = a->brk;
    *ret = a->returns > save->returns;
    a->brk = save->brk;
    a->cnt = save->cnt;
    a->jumps = save->jumps;
    return *brk || *ret;
}

/* cond and not (break flag or return flag) */
static Node *and_not_stopped(Ad *a, Node *cond, const char *brk, int ret)
{
    Node *stop = brk ? name(a, brk) : NULL;
    if (ret) stop = stop ? add(a, add(a, node(a, N_OR), stop), name(a, "$ret'flag")) : name(a, "$ret'flag");
    Node *u = node(a, N_UNOP);
    if (u) u->op = UN_NOT;
    return add(a, add(a, node(a, N_AND), cond), add(a, u, stop));
}

static Region *region_new(Ad *a) { return grow(&a->reg, &a->nreg, &a->regcap, sizeof(Region)); }

static Region *region_of(Ad *a, const Node *b)
{
    for (int i = 0; i < a->nreg; i++)
        if (a->reg[i].block == b) return &a->reg[i];
    return NULL;
}

/* A lowered block; a region (a block of the source) records its locals. */
static Node *lower_block(Ad *a, const Node *b, int region)
{
    Node *out = block(a);
    Scope s;
    int r = -1;
    if (region) {
        Region *rg = region_new(a);
        if (rg) {
            rg->block = out;
            r = (int)(rg - a->reg);
        }
    }
    scope_push(a, &s, NULL);
    /* the scope records locals into the region; the region array may move
     * while lowering nested blocks, so record into a local set first */
    Names locals = {0};
    s.locals = &locals;
    lower_stmts(a, out, b, 0);
    scope_pop(a);
    if (r >= 0) a->reg[r].locals = locals;
    else free(locals.s);
    return out;
}

/* -- checkpointed loops ------------------------------------------------------ */

/* `for i in a..b checkpoint(s) { body }` becomes a loop over one call,
 * `v.. = f'loop#k(i, v.., u..)`: the body made a function of the index, the
 * outer variables it assigns (v, the state it carries) and the outer ones it
 * only reads (u). The function is compiled as ordinary code (the untaped
 * advances) and grad builds its fwd/rev pair like any callee's; the VM's
 * loop runner (checkpoint.c) drives the three under a Revolve schedule. */
typedef struct Ck {
    const Node *loop;      /* the lowered N_FOR */
    const char *step;      /* the function's global name */
    const char *adv;       /* the same over steps from..to-1 */
    int autom;             /* a loop without `checkpoint`: checkpointed only
                              when its cache would exceed the AD budget */
    const char *cond;      /* a `while`'s condition as a function, or NULL */
    Names v, u;            /* lowered names of the carried and read variables */
    uint64_t *dep;         /* per carried variable, the step's parameters its
                              value after a step depends on (step_deps) */
} Ck;

/* The names body reads (rd) and assigns (wr); *jumps counts the break and
 * continue statements of the loop itself and every return. */
static void names_in(const Node *e, Names *rd, Names *wr, int *jumps, int nested)
{
    if (!e) return;
    switch (e->kind) {
    case N_NAME: names_add(rd, e->str); return;
    case N_BREAK: case N_CONTINUE: *jumps += !nested; return;
    case N_RETURN: (*jumps)++; break;
    case N_FOR: case N_WHILE: nested = 1; break;
    case N_ASSIGN: {
        const Node *t = e->k[0];
        while (t->kind == N_INDEX) {      /* x[i] = v reads x and writes it */
            for (int i = 1; i < t->n; i++) names_in(t->k[i], rd, wr, jumps, nested);
            t = t->k[0];
        }
        if (t->kind == N_NAME) names_add(wr, t->str);
        if (t != e->k[0] || e->op >= 0) names_in(t, rd, wr, jumps, nested);
        names_in(e->k[1], rd, wr, jumps, nested);
        return;
    }
    case N_MASSIGN:
        for (int i = 0; i + 1 < e->n; i++) names_add(wr, e->k[i]->str);
        names_in(e->k[e->n - 1], rd, wr, jumps, nested);
        return;
    default: break;
    }
    for (int i = 0; i < e->n; i++) names_in(e->k[i], rd, wr, jumps, nested);
}

static Ck *ck_of(Ad *a, const Node *loop)
{
    for (int i = 0; i < a->nck; i++)
        if (a->ck[i].loop == loop) return &a->ck[i];
    return NULL;
}

/* Compile fn (its tree in the arena that lives as long as the VM) and
 * make it the global of its name, known to grad; -1 on failure. */
static int define(Ad *a, Node *fn)
{
    Proto *p = compile_function(a->vm, fn, a->src, a->errs);
    int g = p ? vm_global(a->vm, fn->str) : -1;
    if (g >= 0) vm_setfnast(a->vm, g, fn);
    if (g < 0 || vm_fnast(a->vm, fn->str) != fn) {
        a->nerrs++;
        return -1;
    }
    a->vm->g[g].t = T_FN;
    a->vm->g[g].u.fn = p;
    return 0;
}

/* The assignments of name n in e, and the value of the last one seen. */
static int assignments(const Node *e, const char *n, const Node **val)
{
    if (!e) return 0;
    int c = 0;
    if (e->kind == N_ASSIGN && e->k[0]->kind == N_NAME && strcmp(e->k[0]->str, n) == 0) {
        c = 1;
        *val = e->op < 0 ? e->k[1] : NULL;
    }
    if (e->kind == N_MASSIGN)
        for (int i = 0; i + 1 < e->n; i++) c += strcmp(e->k[i]->str, n) == 0 ? 2 : 0;
    for (int i = 0; i < e->n; i++) c += assignments(e->k[i], n, val);
    return c;
}

/* A variable of fn that only ever holds one number (`dt = 1e-3`), which a
 * step function may read as that number: shapes known, nothing to pass. */
static int constant(const Node *fn, const char *n, double *x)
{
    const Node *v = NULL;
    for (int i = 0; fn && i + 1 < fn->n; i++)
        if (strcmp(fn->k[i]->str, n) == 0) return 0;        /* a parameter */
    if (!fn || assignments(fn->k[fn->n - 1], n, &v) != 1 || !v) return 0;
    if (v->kind == N_NUM) *x = v->num;
    else if (v->kind == N_UNOP && v->op == UN_NEG && v->k[0]->kind == N_NUM) *x = -v->k[0]->num;
    else return 0;
    return 1;
}

static void inline_const(Ad *a, Node *e, const char *n, double x)
{
    for (int i = 0; e && i < e->n; i++) {
        Node *k = e->k[i];
        if (k && k->kind == N_NAME && strcmp(k->str, n) == 0) e->k[i] = num(a, x);
        else inline_const(a, k, n, x);
    }
}

/* fn NAME(first.., v.., u..) { body; return ret } in the lasting arena
 * (first: up to two names). */
static Node *make_fn(Ad *a, const char *what, const char *const *first, const Names *v, const Names *u,
                     const Node *body, const Node *ret)
{
    Node *fn = node(a, N_FN), *b = block(a), *r = node(a, N_RETURN);
    char buf[300];
    snprintf(buf, sizeof buf, "%s'%s#%d", a->fname, what, ++a->counter);
    if (fn) fn->str = arena_strdup(a->ar, buf, strlen(buf));
    for (int i = 0; first && i < 2 && first[i]; i++) add(a, fn, name(a, first[i]));
    for (int i = 0; i < v->n; i++) add(a, fn, name(a, v->s[i]));
    for (int i = 0; i < u->n; i++) add(a, fn, name(a, u->s[i]));
    for (int i = 0; body && i < body->n; i++) add(a, b, copy(a, body->k[i]));
    if (ret) {
        add(a, r, copy(a, ret));
    } else {
        for (int i = 0; i < v->n; i++) add(a, r, name(a, v->s[i]));
    }
    add(a, b, r);
    return add(a, fn, b);
}

/* What the names of a step function depend on: a mask of its parameters
 * per name. */
typedef struct Deps {
    Names n;
    uint64_t *m;
} Deps;

static uint64_t *dep_of(Deps *d, const char *name, int add)
{
    for (int i = 0; i < d->n.n; i++)
        if (strcmp(d->n.s[i], name) == 0) return &d->m[i];
    if (!add || !names_add(&d->n, name)) return NULL;
    uint64_t *m = realloc(d->m, (size_t)d->n.n * sizeof *m);
    if (!m) return NULL;
    d->m = m;
    m[d->n.n - 1] = 0;
    return &m[d->n.n - 1];
}

static uint64_t dep_names(Deps *d, const Node *e)
{
    if (!e) return 0;
    uint64_t *m = e->kind == N_NAME ? dep_of(d, e->str, 0) : NULL, r = m ? *m : 0;
    for (int i = 0; i < e->n; i++) r |= dep_names(d, e->k[i]);
    return r;
}

static int dep_add(Deps *d, const char *name, uint64_t m)
{
    uint64_t *t = dep_of(d, name, 1);
    if (!t) return -1;
    int changed = (*t | m) != *t;
    *t |= m;
    return changed;
}

/* One pass over e: every assigned name takes in what its value reads
 * (an indexed store or x op= e keeps what x held); -1 out of memory. */
static int dep_walk(Deps *d, const Node *e)
{
    int changed = 0, c;
    if (!e) return 0;
    if (e->kind == N_ASSIGN) {
        const Node *t = e->k[0];
        uint64_t m = dep_names(d, e->k[1]);
        if (t->kind == N_INDEX || e->op >= 0) m |= dep_names(d, t);
        while (t->kind == N_INDEX) t = t->k[0];
        return t->kind == N_NAME ? dep_add(d, t->str, m) : 0;
    }
    if (e->kind == N_MASSIGN) {
        uint64_t m = dep_names(d, e->k[e->n - 1]);
        for (int i = 0; i + 1 < e->n; i++) {
            if ((c = dep_add(d, e->k[i]->str, m)) < 0) return -1;
            changed |= c;
        }
        return changed;
    }
    if (e->kind == N_FOR && e->str) {       /* the loop variable: its bounds */
        if ((c = dep_add(d, e->str, dep_names(d, e->k[0]) | dep_names(d, e->k[1]))) < 0) return -1;
        changed = c;
    }
    for (int i = 0; i < e->n; i++) {
        if ((c = dep_walk(d, e->k[i])) < 0) return -1;
        changed |= c;
    }
    return changed;
}

/* Per carried variable v_j of step fn(i, v.., u..), the parameters its
 * value after the step depends on through data (as activity sees it: a
 * branch's condition is no dependence): bit k for parameter k. All bits
 * when there are more than 64 parameters or memory runs out. */
static uint64_t *step_deps(const Node *fn, int nv)
{
    int np = fn->n - 1;
    uint64_t *dep = malloc((size_t)(nv ? nv : 1) * sizeof *dep);
    if (!dep) return NULL;
    Deps d = {{0}, NULL};
    int ok = np <= 64;
    for (int k = 0; ok && k < np; k++) ok = dep_add(&d, fn->k[k]->str, (uint64_t)1 << k) >= 0;
    for (int rc = ok ? 1 : -1; rc > 0;) rc = dep_walk(&d, fn->k[np]);
    for (int j = 0; j < nv; j++) {
        const uint64_t *m = ok ? dep_of(&d, fn->k[1 + j]->str, 0) : NULL;
        dep[j] = m ? *m : ~(uint64_t)0;
    }
    free(d.n.s);
    free(d.m);
    return dep;
}

/* The loop s (a `for` or a `while`) rewritten over its step function
 * (compiled and registered here; for a `while`, its condition too), with
 * *ck describing it; NULL (and s stays as it is) when the body carries
 * nothing. */
static const Node *ckpt_loop(Ad *a, const Node *s, Ck **ckp, int quiet)
{
    Names rd = {0}, wr = {0}, v = {0}, u = {0}, k = {0};   /* k: constants, values kv */
    double kv[64];
    int jumps = 0, isfor = s->kind == N_FOR;
    const Node *out = NULL, *body = s->k[isfor ? 2 : 1];
    const char *ivar = isfor ? s->str : "$step";
    names_in(body, &rd, &wr, &jumps, 0);
    if (!isfor) names_in(s->k[0], &rd, &wr, &jumps, 0);
    if (jumps) {
        if (!quiet) aderr(a, s->loc, "grad: a checkpointed loop cannot contain break, continue or return");
        goto done;
    }
    for (int i = 0; i < wr.n; i++)
        if (strcmp(wr.s[i], ivar) != 0 && lookup(a, wr.s[i])) names_add(&v, wr.s[i]);
    for (int i = 0; i < rd.n; i++) {
        if (strcmp(rd.s[i], ivar) == 0 || !lookup(a, rd.s[i]) || names_has(&v, rd.s[i])) continue;
        if (k.n < 64 && constant(a->fnnode, rd.s[i], &kv[k.n])) names_add(&k, rd.s[i]);
        else names_add(&u, rd.s[i]);
    }
    if (!v.n) goto done;
    /* the functions live as long as the VM: grad finds them by name */
    Arena *keep = a->ar;
    if (!*a->keep && (!(*a->keep = arena_new()) || vm_keeparena(a->vm, *a->keep))) {
        arena_free(*a->keep);
        *a->keep = NULL;
        a->nerrs++;
        goto done;
    }
    a->ar = *a->keep;
    const char *one[2] = {ivar, NULL}, *two[2] = {"$from", "$to"};
    Node *fn = make_fn(a, "loop", one, &v, &u, body, NULL);
    Node *cond = isfor ? NULL : make_fn(a, "cond", NULL, &v, &u, NULL, s->k[0]);
    /* the untaped advances: steps from..to-1 in one call */
    Node *steps = add(a, add(a, add(a, node(a, N_FOR), name(a, two[0])), name(a, two[1])), copy(a, body));
    if (steps) steps->str = (char *)ivar;
    add(a, steps, NULL);
    Node *sb = add(a, block(a), steps);
    Node *adv = make_fn(a, "advance", two, &v, &u, sb, NULL);
    char an[320];
    snprintf(an, sizeof an, "%s'advance", fn ? fn->str : "");
    if (adv) adv->str = arena_strdup(a->ar, an, strlen(an));   /* f'loop#k'advance */
    for (int i = 0; i < k.n; i++) {
        inline_const(a, fn, k.s[i], kv[i]);
        inline_const(a, cond, k.s[i], kv[i]);
        inline_const(a, adv, k.s[i], kv[i]);
    }
    a->ar = keep;
    if (a->nerrs || !fn || !adv || (!isfor && !cond) || define(a, fn) || define(a, adv) ||
        (cond && define(a, cond)))
        goto done;
    /* the loop over the call */
    Node *c = add(a, node(a, N_CALL), name(a, fn->str));
    add(a, c, isfor ? name(a, ivar) : num(a, 0));
    for (int i = 0; i < v.n; i++) add(a, c, name(a, v.s[i]));
    for (int i = 0; i < u.n; i++) add(a, c, name(a, u.s[i]));
    Node *st;
    if (v.n == 1) {
        st = set(a, v.s[0], c);
    } else {
        st = node(a, N_MASSIGN);
        for (int i = 0; i < v.n; i++) add(a, st, name(a, v.s[i]));
        add(a, st, c);
    }
    Node *loop = shell(a, s), *lb = block(a);
    add(a, lb, st);
    if (isfor) add(a, add(a, add(a, add(a, loop, s->k[0]), s->k[1]), lb), s->k[3]);
    else add(a, add(a, add(a, loop, s->k[0]), lb), s->k[2]);
    Ck *ck = grow(&a->ck, &a->nck, &a->ckcap, sizeof(Ck));
    if (!ck || !loop) {
        a->nerrs++;
        goto done;
    }
    memset(ck, 0, sizeof *ck);
    ck->step = fn->str;
    ck->adv = adv->str;
    ck->cond = cond ? cond->str : NULL;
    ck->dep = step_deps(fn, v.n);
    for (int i = 0; i < v.n; i++) names_add(&ck->v, lookup(a, v.s[i]));
    for (int i = 0; i < u.n; i++) names_add(&ck->u, lookup(a, u.s[i]));
    *ckp = ck;
    out = loop;
done:
    free(rd.s);
    free(wr.s);
    free(v.s);
    free(u.s);
    free(k.s);
    return out;
}

/* Before lowering loop *s: its step functions when it is checkpointed,
 * written so (*s becomes the loop over the step's call) or, a `for`
 * without `checkpoint`, if its cache may exceed the AD budget. Returns
 * the index of its Ck, or -1: loops nested in it add theirs, which may
 * move the array. */
static int ckpt_prepare(Ad *a, const Node **s)
{
    Ck *ck = NULL;
    if ((*s)->op == 1) {
        const Node *r = ckpt_loop(a, *s, &ck, 0);
        if (r) *s = r;
    } else if ((*s)->kind == N_FOR && ckpt_loop(a, *s, &ck, 1)) {
        ck->autom = 1;
    }
    return ck ? (int)(ck - a->ck) : -1;
}

/* The lowered loop of a checkpointed one: op 1 marks it written so. */
static void ckpt_mark(Ad *a, int k, Node *loop)
{
    if (k < 0 || !loop) return;
    Ck *ck = &a->ck[k];
    loop->op = !ck->autom;
    ck->loop = loop;
}

static void lower_stmt(Ad *a, Node *out, const Node *s)
{
    Loc keep = a->at;
    a->at = s->loc;
    switch (s->kind) {
    case N_ASSIGN: lower_assign(a, out, s); break;
    case N_EXPR: add(a, out, add(a, node(a, N_EXPR), rename_tree(a, s->k[0]))); break;
    case N_BLOCK: add(a, out, lower_block(a, s, 1)); break;
    case N_IF: {
        /* the reverse reads the condition after the branch ran: a copy, in
         * case the branch reassigns the variable */
        Node *c = lower_expr(a, out, s->k[0]);
        if (c && c->kind == N_NAME && c->str[0] != '$') c = bind(a, out, c);
        Node *iff = add(a, add(a, node(a, N_IF), c), lower_block(a, s->k[1], 1));
        Node *els = NULL;
        if (s->k[2] && s->k[2]->kind == N_IF) {
            els = block(a);
            lower_stmt(a, els, s->k[2]);
        } else if (s->k[2]) {
            els = lower_block(a, s->k[2], 1);
        }
        add(a, out, add(a, iff, els));
        break;
    }
    case N_FOR: {
        int ck = ckpt_prepare(a, &s);
        Node *from = bind(a, out, lower_op(a, out, s->k[0]));
        Node *to = bind(a, out, lower_op(a, out, s->k[1]));
        Node *count = ck >= 0 && s->k[3] ? bind(a, out, lower_op(a, out, s->k[3])) : NULL;
        Scope sc;
        Names dummy = {0};
        scope_push(a, &sc, &dummy);
        const char *var = declare(a, s->str, fresh(a, "", s->str));
        LoopFlags lf;
        loop_enter(a, &lf);
        Node *body = lower_block(a, s->k[2], 1);
        const char *brk;
        int ret;
        int stops = loop_leave(a, &lf, body, &brk, &ret);
        scope_pop(a);
        free(dummy.s);
        if (!stops) {
            Node *f = add(a, add(a, add(a, node(a, N_FOR), from), to), body);
            if (f) f->str = (char *)var;
            add(a, f, count);
            add(a, out, f);
            ckpt_mark(a, ck, f);
            break;
        }
        /* a loop that may stop early runs as a while loop over a counter */
        const char *i = fresh(a, "$i", NULL);
        names_add(&a->vars, i);
        add(a, out, set(a, i, copy(a, from)));
        if (brk) add(a, out, set(a, brk, num(a, 0)));
        Node *c = bind(a, out, binop(a, BIN_LT, name(a, i), copy(a, to)));
        Node *inner = block(a);
        add(a, inner, set(a, var, name(a, i)));
        add(a, inner, body);
        add(a, inner, set(a, i, binop(a, BIN_ADD, name(a, i), num(a, 1))));
        add(a, inner, set(a, c->str, and_not_stopped(a, binop(a, BIN_LT, name(a, i), copy(a, to)), brk, ret)));
        Node *w = add(a, add(a, node(a, N_WHILE), c), inner);
        add(a, w, NULL);
        add(a, out, w);
        break;
    }
    case N_WHILE: {
        int ck = ckpt_prepare(a, &s);
        Node *count = ck >= 0 && s->k[2] ? bind(a, out, lower_op(a, out, s->k[2])) : NULL;
        Node *c = lower_expr(a, out, s->k[0]);
        if (c->kind != N_NAME) c = bind(a, out, c);
        LoopFlags lf;
        loop_enter(a, &lf);
        Node *body = lower_block(a, s->k[1], 1);
        const char *brk;
        int ret;
        int stops = loop_leave(a, &lf, body, &brk, &ret);
        if (brk) add(a, out, set(a, brk, num(a, 0)));
        /* recompute the condition into the same name at the end of the body */
        Node *again = block(a);
        Node *c2 = lower_op(a, again, s->k[0]);
        if (stops) c2 = and_not_stopped(a, c2, brk, ret);
        add(a, again, set(a, c->str, c2));
        Node *inner = block(a);
        add(a, inner, body);
        for (int i = 0; i < again->n; i++) add(a, inner, again->k[i]);
        Node *w = add(a, add(a, node(a, N_WHILE), c), inner);
        add(a, w, count);
        add(a, out, w);
        ckpt_mark(a, ck, w);
        break;
    }
    case N_RETURN:
        if (s->n == 0) {
            aderr(a, s->loc, "grad: a differentiated function must return a value");
            break;
        }
        if (s->n == 1) {
            add(a, out, set(a, "$ret", lower_op(a, out, s->k[0])));
        } else {                          /* return a, b: a tuple */
            Node *t = add(a, node(a, N_CALL), name(a, "%tuple"));
            for (int i = 0; i < s->n; i++) add(a, t, lower_expr(a, out, s->k[i]));
            add(a, out, set(a, "$ret", t));
        }
        add(a, out, set(a, "$ret'flag", num(a, 1)));
        a->returns++;
        break;
    case N_BREAK:
        if (!a->brk) names_add(&a->vars, a->brk = fresh(a, "$brk", NULL));
        add(a, out, set(a, a->brk, num(a, 1)));
        a->jumps++;
        break;
    case N_CONTINUE:
        if (!a->cnt) names_add(&a->vars, a->cnt = fresh(a, "$cnt", NULL));
        add(a, out, set(a, a->cnt, num(a, 1)));
        a->jumps++;
        break;
    case N_MASSIGN: {                     /* a, b = g(x) */
        const Node *v = s->k[s->n - 1];
        if (v->kind != N_CALL || v->k[0]->kind != N_NAME || !vm_fnast(a->vm, v->k[0]->str)) {
            aderr(a, s->loc, "grad: a multiple assignment must take the values of a function call");
            break;
        }
        Node *m = node(a, N_MASSIGN);
        Node *call = lower_op(a, out, v);
        for (int i = 0; i + 1 < s->n; i++) {
            const char *u = lookup(a, s->k[i]->str);
            if (!u) u = declare(a, s->k[i]->str, fresh(a, "", s->k[i]->str));
            /* an argument the assignment overwrites is passed as a copy: the
             * reverse must see the call's operands as they were */
            for (int j = 1; call && j < call->n; j++)
                if (call->k[j]->kind == N_NAME && strcmp(call->k[j]->str, u) == 0)
                    call->k[j] = bind(a, out, call->k[j]);
            add(a, m, name(a, u));
        }
        add(a, out, add(a, m, call));
        break;
    }
    default: aderr(a, s->loc, "grad: cannot differentiate this statement");
    }
    a->at = keep;
}

/* -- what a statement does ------------------------------------------------ */

enum { K_OTHER, K_COPY, K_PRIM, K_CALL, K_INDEX, K_STORE, K_ARRAY, K_TUPLE, K_UNPACK };

/* The kind of `x = v` and, for primitives, the rule's name and operands. */
static int classify(Ad *a, const Node *s, const char **prim, const Node ***args, int *nargs)
{
    *prim = NULL;
    *args = NULL;
    *nargs = 0;
    if (s->kind == N_MASSIGN) {
        const Node *c = s->k[s->n - 1];
        *args = (const Node **)c->k + 1;
        *nargs = c->n - 1;
        *prim = c->k[0]->str;
        return K_UNPACK;
    }
    const Node *t = s->k[0], *v = s->k[1];
    if (t->kind == N_INDEX) return K_STORE;
    if (!v) return K_OTHER;
    switch (v->kind) {
    case N_NAME: return K_COPY;
    case N_BINOP: *prim = prim_binname[v->op]; break;
    case N_UNOP: *prim = prim_unname[v->op]; break;
    case N_MATMUL: *prim = "matmul"; break;
    case N_INDEX: return K_INDEX;
    case N_ARRAY: return K_ARRAY;
    case N_CALL: {
        const char *fn = v->k[0]->str;
        *args = (const Node **)v->k + 1;
        *nargs = v->n - 1;
        if (strcmp(fn, "%tuple") == 0) return K_TUPLE;
        *prim = fn;
        if (!rules_find(a->vm, fn, *nargs, 1) && vm_fnast(a->vm, fn)) return K_CALL;
        return K_PRIM;
    }
    default: return K_OTHER;
    }
    *args = (const Node **)v->k;
    *nargs = v->n;
    return K_PRIM;
}

static int varied_leaf(Ad *a, const Node *e) { return e && e->kind == N_NAME && names_has(&a->varied, e->str); }

/* -- statement order ------------------------------------------------------ */

#define MAXLOOPS 16

/* A statement's place: its index in execution order of the text, and the
 * loops around it (whose earlier iterations run before it too). */
typedef struct Pos {
    const Node *s;
    int nloops;
    const Node *loop[MAXLOOPS];
} Pos;

typedef struct Read {
    const char *var;
    int at;                /* index in pos */
} Read;

static void number(Ad *a, const Node *b, const Node **loops, int nloops)
{
    for (int i = 0; b && i < b->n; i++) {
        const Node *s = b->k[i];
        if (!s) continue;
        Pos *p = grow(&a->pos, &a->npos, &a->poscap, sizeof(Pos));
        if (!p) {
            a->nerrs++;
            return;
        }
        p->s = s;
        p->nloops = nloops < MAXLOOPS ? nloops : MAXLOOPS;
        memcpy(p->loop, loops, (size_t)p->nloops * sizeof *loops);
        int inner = nloops;
        if ((s->kind == N_FOR || s->kind == N_WHILE) && nloops < MAXLOOPS) loops[inner++] = s;
        for (int j = 0; j < s->n; j++)
            if (s->k[j] && s->k[j]->kind == N_BLOCK) number(a, s->k[j], loops, inner);
        if (s->kind == N_BLOCK) number(a, s, loops, inner);
    }
}

static int pos_of(const Ad *a, const Node *s)
{
    for (int i = 0; i < a->npos; i++)
        if (a->pos[i].s == s) return i;
    for (int i = 0; i < a->npre; i++)
        if ((const Node *)a->pre[i].var == s) return a->pre[i].at;
    return -1;
}

/* The reverse reads variable v while reversing the current statement. */
static void need(Ad *a, const char *v)
{
    names_add(&a->needed, v);
    Read *r = grow(&a->read, &a->nread, &a->readcap, sizeof(Read));
    if (!r) {
        a->nerrs++;
        return;
    }
    r->var = v;
    r->at = a->cur;
}

static int share_loop(const Pos *p, const Pos *q)
{
    for (int i = 0; i < p->nloops; i++)
        for (int j = 0; j < q->nloops; j++)
            if (p->loop[i] == q->loop[j]) return 1;
    return 0;
}

/* Whether statement s overwriting v must cache v's old value: the reverse
 * reads v at a statement that can run before s (earlier in the text, or
 * in a loop around both). */
static int needed_before(const Ad *a, const Node *s, const char *v)
{
    int at = pos_of(a, s);
    for (int i = 0; i < a->nread; i++) {
        const Read *r = &a->read[i];
        if (strcmp(r->var, v) != 0) continue;
        if (at < 0 || r->at < at || share_loop(&a->pos[r->at], &a->pos[at])) return 1;
    }
    return 0;
}

/* -- pass 2: activity ------------------------------------------------------ */

static const Ck *ck_of_step(const Ad *a, const char *fn);

static int activity(Ad *a, const Node *b)
{
    int changed = 0;
    for (int i = 0; i < b->n; i++) {
        const Node *s = b->k[i];
        if (!s) continue;
        if (s->kind != N_ASSIGN && s->kind != N_MASSIGN) {
            for (int j = 0; j < s->n; j++)
                if (s->k[j] && s->k[j]->kind == N_BLOCK) changed |= activity(a, s->k[j]);
            if (s->kind == N_BLOCK) changed |= activity(a, s);
            continue;
        }
        const char *prim;
        const Node **args;
        int nargs, v = 0;
        int kind = classify(a, s, &prim, &args, &nargs);
        const Node *val = s->k[1];
        const Ck *ck = (kind == K_UNPACK || kind == K_CALL) && prim ? ck_of_step(a, prim) : NULL;
        if (ck && ck->dep && nargs == 1 + ck->v.n + ck->u.n && nargs <= 64) {
            /* a checkpointed loop's step: each carried variable depends on
             * the parameters step_deps found */
            for (int j = 0; j < ck->v.n; j++) {
                int vj = 0;
                for (int k = 0; k < nargs; k++) vj |= (ck->dep[j] >> k & 1) && varied_leaf(a, args[k]);
                const char *t = kind == K_UNPACK ? s->k[j]->str : s->k[0]->str;
                if (vj) changed |= names_add(&a->varied, t);
            }
            continue;
        }
        if (kind == K_UNPACK) {            /* every target depends on every argument */
            for (int j = 0; j < nargs; j++) v |= varied_leaf(a, args[j]);
            for (int j = 0; v && j + 1 < s->n; j++) changed |= names_add(&a->varied, s->k[j]->str);
            continue;
        }
        switch (kind) {
        case K_COPY: v = varied_leaf(a, val); break;
        case K_INDEX: v = varied_leaf(a, val->k[0]); break;
        case K_STORE: v = varied_leaf(a, val); break;
        case K_ARRAY:
            for (int j = 0; j < val->n; j++) v |= varied_leaf(a, val->k[j]);
            break;
        case K_TUPLE:
        case K_PRIM:
        case K_CALL: {
            for (int j = 0; j < nargs; j++) v |= varied_leaf(a, args[j]);
            if (v && kind == K_PRIM) {
                /* an empty rule means zero; no rule at all is an error
                 * (need_prim reports it), never a silent zero */
                const Node *r = rules_find(a->vm, prim, nargs, 0);
                v = !r || r->k[r->n - 1]->n > 0;
            }
            break;
        }
        }
        const Node *t = s->k[0]->kind == N_INDEX ? s->k[0]->k[0] : s->k[0];
        if (v && t->kind == N_NAME) changed |= names_add(&a->varied, t->str);
    }
    return changed;
}


/* -- shapes known equal ---------------------------------------------------- */

/* A name for the shape of variable v's value read at statement `at`, or
 * NULL when nothing is known: values with the same class have the same
 * shape, so an operation between them cannot broadcast and needs no shape
 * record. Elementwise operations and constant operands keep a class;
 * slices `[s:e]` (constant bounds, s >= 0 >= e, step 1) of one value share
 * one per s - e (the same length for every size); a variable assigned more
 * than once is named with the number of its assignments before `at`, so
 * two reads with no assignment between them agree. */
static const char *shape_class(Ad *a, const char *v, int at, int depth);

/* The statements (positions in pos, ascending) assigning a variable:
 * found by hashing, where scanning every statement for each question made
 * the analyses quadratic in a function's length. */
typedef struct Def {
    const char *name;
    int *at;
    int n, cap;
} Def;

static unsigned tally_hash(const char *s);

static Def *def_entry(const Ad *a, const char *v)
{
    unsigned i = tally_hash(v) & (a->defcap - 1);
    while (a->def[i].name && strcmp(a->def[i].name, v) != 0) i = (i + 1) & (a->defcap - 1);
    return &a->def[i];
}

static void def_add(Ad *a, const char *v, int at)
{
    Def *d = def_entry(a, v);
    d->name = v;
    if (d->n == d->cap) {
        int cap = d->cap ? 2 * d->cap : 2;
        int *p = realloc(d->at, (size_t)cap * sizeof *p);
        if (!p) {
            a->nerrs++;
            return;
        }
        d->at = p;
        d->cap = cap;
    }
    d->at[d->n++] = at;
}

/* Made once the statements are numbered; a table at least twice as big
 * as the names it can hold. */
static void index_defs(Ad *a)
{
    unsigned names = 0;
    for (int i = 0; i < a->npos; i++) names += (unsigned)(a->pos[i].s->kind == N_MASSIGN ? a->pos[i].s->n : 1);
    for (a->defcap = 64; a->defcap < 2 * names; a->defcap *= 2) {}
    if (!(a->def = calloc(a->defcap, sizeof *a->def))) {
        a->defcap = 0;
        a->nerrs++;
        return;
    }
    for (int i = 0; i < a->npos; i++) {
        const Node *st = a->pos[i].s;
        if (st->kind == N_ASSIGN && st->k[0]->kind == N_NAME) def_add(a, st->k[0]->str, i);
        for (int j = 0; st->kind == N_MASSIGN && j + 1 < st->n; j++) {
            int again = 0;              /* `x, x = f()` assigns x once */
            for (int q = 0; q < j; q++) again |= strcmp(st->k[q]->str, st->k[j]->str) == 0;
            if (!again) def_add(a, st->k[j]->str, i);
        }
        if (st->kind == N_FOR && st->str) def_add(a, st->str, i);
    }
}

static void free_defs(Ad *a)
{
    for (unsigned i = 0; i < a->defcap; i++) free(a->def[i].at);
    free(a->def);
    a->def = NULL;
    a->defcap = 0;
}

/* How many statements assign v, and how many of them come before `at`. */
static int ndefs(const Ad *a, const char *v, int at, int *before)
{
    const Def *d = a->defcap ? def_entry(a, v) : NULL;
    int n = d && d->name ? d->n : 0, lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (d->at[mid] < at) lo = mid + 1;
        else hi = mid;
    }
    if (before) *before = lo;
    return n;
}

static const char *class_of(Ad *a, const Node *e, int at, int depth)
{
    if (e->kind == N_NAME) return shape_class(a, e->str, at, depth + 1);
    return NULL;
}

/* The class of the value statement s (at position at) assigns. */
static const char *derived(Ad *a, const Node *s, int at, int depth)
{
    if (s->kind != N_ASSIGN || depth > 16) return NULL;
    const Node *v = s->k[1];
    const char *prim;
    const Node **args;
    int nargs, un;
    char buf[512];
    if (v->kind == N_NUM) return "num";       /* a number: broadcasts nothing */
    switch (classify(a, s, &prim, &args, &nargs)) {
    case K_COPY: return class_of(a, v, at, depth);
    case K_INDEX:
        if (v->n == 2 && v->k[1]->kind == N_SLICE && !v->k[1]->k[2]) {
            const Node *lo = v->k[1]->k[0], *hi = v->k[1]->k[1];
            double s0 = lo ? (lo->kind == N_NUM ? lo->num : -1) : 0;
            double e0 = hi ? (hi->kind == N_NUM ? hi->num : 1) : 0;
            const char *b = class_of(a, v->k[0], at, depth);
            if (!b || s0 < 0 || e0 > 0 || s0 != (int)s0 || e0 != (int)e0) return NULL;
            snprintf(buf, sizeof buf, "%s[%d]", b, (int)(s0 - e0));
            return arena_strdup(a->ar, buf, strlen(buf));
        }
        return NULL;
    case K_PRIM: {
        int elementwise = v->kind == N_UNOP || v->kind == N_BINOP;
        if (v->kind == N_CALL) {
            int b = builtin_find(prim);
            elementwise = b >= 0 && (builtins[b].unop >= 0 || builtins[b].binop >= 0);
        }
        if (!elementwise) return NULL;
        const char *c = NULL;
        for (int j = 0; j < nargs; j++) {
            if (args[j]->kind == N_NUM) continue;
            const char *cj = class_of(a, args[j], at, depth);
            if (cj && strcmp(cj, "num") == 0) continue;
            if (!cj || (c && strcmp(c, cj) != 0)) return NULL;
            c = cj;
        }
        (void)un;
        return c ? c : "num";
    }
    default: return NULL;
    }
}

static const char *shape_class(Ad *a, const char *v, int at, int depth)
{
    int before, ndef = ndefs(a, v, at, &before);
    int only = ndef ? def_entry(a, v)->at[ndef - 1] : -1;
    if (ndef == 1 && a->pos[only].s->kind == N_ASSIGN && only < at)
        return derived(a, a->pos[only].s, only, depth);
    char buf[512];
    snprintf(buf, sizeof buf, "%s@%d", v, ndef ? before : 0);
    return arena_strdup(a->ar, buf, strlen(buf));
}

/* -- pass 3: rules and needs ------------------------------------------------ */

typedef struct Inst {
    Node *pre;             /* statements to run just before the site */
    const Node *rule;
    const Node **args;
    int nargs;
    const char *result;    /* x */
    const char *dy;
    const char **contrib;  /* per parameter: contribution temp, NULL inactive */
    const char **from, **to;
    int nmap, mapcap;
} Inst;

static const char *inst_map(Ad *a, Inst *in, const char *n)
{
    for (int i = 0; i < in->nmap; i++)
        if (strcmp(in->from[i], n) == 0) return in->to[i];
    if (in->nmap == in->mapcap) {
        int cap = in->mapcap ? in->mapcap * 2 : 8;
        const char **f = realloc(in->from, (size_t)cap * sizeof *f);
        if (f) in->from = f;
        const char **t = realloc(in->to, (size_t)cap * sizeof *t);
        if (t) in->to = t;
        if (!f || !t) return n;
        in->mapcap = cap;
    }
    const char *u = fresh(a, "$r'", n);
    names_add(&a->vars, u);
    in->from[in->nmap] = n;
    in->to[in->nmap++] = u;
    return u;
}

static int rule_param(const Node *rule, const char *n)
{
    for (int i = 0; i < rule->op; i++)
        if (strcmp(rule->k[i]->str, n) == 0) return i;
    return -1;
}

static int shape_call(const Node *e)
{
    return e->kind == N_CALL && e->n == 2 && e->k[0]->kind == N_NAME && e->k[1]->kind == N_NAME &&
           (strcmp(e->k[0]->str, "shape") == 0 || strcmp(e->k[0]->str, "size") == 0 ||
            strcmp(e->k[0]->str, "len") == 0);
}

/* Does the rule's active code read operand p's value (not only its shape)? */
static int value_read(const Inst *in, const Node *e, int p)
{
    if (!e || shape_call(e)) return 0;
    const Node *rule = in->rule;
    if (e->kind == N_ASSIGN && e->k[0]->kind == N_NAME && e->k[0]->str[0] == 'd') {
        int q = rule_param(rule, e->k[0]->str + 1);
        if (q >= 0 && !in->contrib[q]) return 0;      /* an inactive adjoint: dropped */
    }
    if (e->kind == N_NAME) return strcmp(e->str, rule->k[p]->str) == 0;
    for (int i = 0; i < e->n; i++)
        if (value_read(in, e->k[i], p)) return 1;
    return 0;
}

/* Is variable v assigned anywhere in the function (else its shape never
 * changes and costs nothing to read)? */
static int assigned(const Ad *a, const char *v)
{
    return ndefs(a, v, 0, NULL) > 0;
}

/* A variable holding, at the current statement, a value of v's shape, so a
 * rule's shape(v) keeps no computed temporary alive (it then fuses into its
 * one use): v itself, a variable the function never assigns (a parameter)
 * or a view read earlier in the same block, when their shape classes
 * agree. */
static Node *shape_source(Ad *a, const Node *v)
{
    const char *cls = shape_class(a, v->str, a->cur, 0);
    if (!cls || strcmp(cls, "num") == 0) return copy(a, v);
    const char *c;
    char base[256];
    size_t n = strcspn(cls, "@");
    if (n < sizeof base && cls[n]) {
        memcpy(base, cls, n);
        base[n] = 0;
        if (!assigned(a, base) && (c = shape_class(a, base, a->cur, 0)) && strcmp(c, cls) == 0)
            return name(a, arena_strdup(a->ar, base, n));
    }
    for (int i = 0; a->blk && i < a->blkat; i++) {
        const Node *s = a->blk->k[i];
        if (!s || s->kind != N_ASSIGN || s->k[0]->kind != N_NAME || s->k[1]->kind != N_INDEX) continue;
        const char *t = s->k[0]->str;
        if ((c = shape_class(a, t, a->cur, 0)) && strcmp(c, cls) == 0) return name(a, t);
    }
    return copy(a, v);
}

/* The definition `v = e` of a value the reverse may compute again instead
 * of caching it: assigned once, at the function's top level, by a cheap
 * elementwise operation or a slice with constant bounds, of numbers,
 * variables the function never assigns (parameters, globals) and other
 * such values. Recomputed, it fuses into the expressions that read it, and
 * the forward need not build it at all (x[1:] - x[:-1]^2 of Rosenbrock).
 * NULL otherwise. */
static int fixed(const Ad *a, const char *v);
static int stored(const Ad *a, const char *v);

static const Node *remat_def(Ad *a, const char *v, int depth)
{
    const Node *def = NULL;
    int ndef = ndefs(a, v, 0, NULL);
    for (int i = 0; a->body && i < a->body->n && ndef == 1; i++) {
        const Node *s = a->body->k[i];
        if (s && s->kind == N_ASSIGN && s->k[0]->kind == N_NAME && strcmp(s->k[0]->str, v) == 0) def = s;
    }
    if (!def || depth > 8 || stored(a, v)) return NULL;
    const Node *e = def->k[1];
    if (e->kind == N_INDEX) {
        for (int i = 1; i < e->n; i++) {
            const Node *it = e->k[i];
            for (int j = 0; j < (it->kind == N_SLICE ? 3 : 1); j++) {
                const Node *p = it->kind == N_SLICE ? it->k[j] : it;
                if (p && p->kind != N_NUM) return NULL;
            }
        }
        e = e->k[0];
        if (e->kind != N_NAME || !fixed(a, e->str)) return NULL;
        return def;
    }
    int cheap = (e->kind == N_BINOP && (e->op == BIN_ADD || e->op == BIN_SUB || e->op == BIN_MUL ||
                                        (e->op == BIN_POW && e->k[1]->kind == N_NUM))) ||
                (e->kind == N_UNOP && e->op == UN_NEG);
    for (int i = 0; cheap && i < e->n; i++) {
        const Node *k = e->k[i];
        cheap = k->kind == N_NUM || (k->kind == N_NAME && (fixed(a, k->str) || remat_def(a, k->str, depth + 1)));
    }
    return cheap ? def : NULL;
}

/* Does the function store into elements of v (x[i] = e)? */
static int stored(const Ad *a, const char *v)
{
    for (int i = 0; i < a->npos; i++) {
        const Node *s = a->pos[i].s, *t = s->kind == N_ASSIGN ? s->k[0] : NULL;
        while (t && t->kind == N_INDEX) t = t->k[0];
        if (t && t != s->k[0] && t->kind == N_NAME && strcmp(t->str, v) == 0) return 1;
    }
    return 0;
}

/* Does the function never change v, by assignment or indexed store? */
static int fixed(const Ad *a, const char *v) { return !assigned(a, v) && !stored(a, v); }

static int is_param(const Ad *a, const char *v)
{
    for (int p = 0; a->fnnode && p + 1 < a->fnnode->n; p++)
        if (strcmp(a->fnnode->k[p]->str, v) == 0) return 1;
    return 0;
}

/* The reverse reads v's value: cache it, or compute it again there. */
static void need_value(Ad *a, const char *v)
{
    const Node *def = remat_def(a, v, 0);
    if (!def) {
        need(a, v);
        return;
    }
    if (names_has(&a->remat, v)) return;
    names_add(&a->remat, v);
    const Node *e = def->k[1];
    if (e->kind == N_INDEX) e = e->k[0];
    if (e->kind == N_NAME) {
        if (is_param(a, e->str)) need(a, e->str);
        return;
    }
    for (int i = 0; i < e->n; i++) {
        const Node *k = e->k[i];
        if (k->kind != N_NAME) continue;
        if (!fixed(a, k->str)) need_value(a, k->str);
        else if (is_param(a, k->str)) need(a, k->str);
    }
}

/* The instantiated copy of rule statement e; NULL drops it (the adjoint of
 * an inactive operand). Primal reads are added to the needed set. */
static Node *inst(Ad *a, Inst *in, const Node *e)
{
    if (!e) return NULL;
    const Node *rule = in->rule;
    if (e->kind == N_ASSIGN && e->k[0]->kind == N_NAME && e->k[0]->str[0] == 'd') {
        int p = rule_param(rule, e->k[0]->str + 1);
        if (p >= 0) {
            if (!in->contrib[p]) return NULL;
            return set(a, in->contrib[p], inst(a, in, e->k[1]));
        }
    }
    /* shape(x), size(x), len(x) of an operand: only that small value is
     * cached (computed just before the site), not the operand itself */
    if (shape_call(e)) {
        int p = rule_param(rule, e->k[1]->str);
        if (p >= 0 && in->args[p]->kind == N_NAME && in->pre && !value_read(in, rule->k[rule->n - 1], p) &&
            assigned(a, in->args[p]->str)) {
            const char *t = fresh(a, "$shape", NULL);
            names_add(&a->vars, t);
            if (strcmp(e->k[0]->str, "shape") == 0) {     /* for scalar_fulls */
                const char *cls = shape_class(a, in->args[p]->str, a->cur, 0);
                const char **sc = realloc(a->shapecls, (size_t)(a->shapes.n + 1) * sizeof *sc);
                if (sc && cls && names_add(&a->shapes, t)) sc[a->shapes.n - 1] = cls;
                if (sc) a->shapecls = sc;
            }
            add(a, in->pre, set(a, t, call1(a, e->k[0]->str, shape_source(a, in->args[p]))));
            need(a, t);
            return name(a, t);
        }
    }
    if (e->kind == N_NAME) {
        const char *n = e->str;
        int p = rule_param(rule, n);
        if (p >= 0) {
            const Node *arg = in->args[p];
            if (arg->kind == N_NAME) need_value(a, arg->str);
            return copy(a, arg);
        }
        if (strcmp(n, rule->k[rule->op]->str) == 0) {
            need_value(a, in->result);
            return name(a, in->result);
        }
        if (strcmp(n, "dy") == 0) return name(a, in->dy);
        if (rules_is_local(rule, n)) return name(a, inst_map(a, in, n));
        Node *c = copy(a, e);          /* a builtin's name: located at the site */
        if (c) c->loc = a->at;
        return c;
    }
    Node *c = shell(a, e);
    if (!c) return NULL;
    c->loc = a->at;
    for (int i = 0; i < e->n; i++) {
        Node *k = inst(a, in, e->k[i]);
        if (k || e->kind != N_BLOCK) add(a, c, k);
    }
    return c;
}

static Site *site_new(Ad *a) { return grow(&a->site, &a->nsite, &a->sitecap, sizeof(Site)); }

static int broadcasting(const char *prim)
{
    for (int i = 0; i < BIN__N; i++)
        if (strcmp(prim, prim_binname[i]) == 0) return 1;
    return strcmp(prim, "where") == 0 || strcmp(prim, "clip") == 0;
}

/* Instantiate the rule of active primitive statement s = `x = prim(args)`. */
static void need_prim(Ad *a, Node *s, const char *prim, const Node **args, int nargs, Node *pre)
{
    const Node *rule = rules_find(a->vm, prim, nargs, 0);
    if (!rule) {
        aderr(a, s->k[1]->loc, "grad: no derivative rule for '%s' with %d operand%s", prim, nargs,
              nargs == 1 ? "" : "s");
        return;
    }
    Site *st = site_new(a);
    if (!st) return;
    s->num = (double)a->nsite;     /* the statement's Site, 1-based */
    int np = rule->op;
    const char *contrib[RULE_MAXOPS] = {0};
    for (int p = 0; p < np; p++)
        if (varied_leaf(a, args[p])) contrib[p] = fresh(a, "$c'", rule->k[p]->str);
    Inst in = {pre, rule, args, nargs, s->k[0]->str, fresh(a, "$dy", NULL), contrib, NULL, NULL, 0, 0};
    names_add(&a->vars, in.dy);
    st = &a->site[a->nsite - 1];
    st->rev = inst(a, &in, rule->k[rule->n - 1]);
    if (st->rev) st->rev->num = 0;
    const Node *body = rule->k[rule->n - 1];
    for (int p = 0; p < RULE_MAXOPS; p++) {
        st->contrib[p] = contrib[p];
        st->siteof[p] = -1;
        if (contrib[p]) names_add(&a->vars, contrib[p]);
        for (int j = 0; p < np && j < body->n; j++) {
            const Node *b = body->k[j];
            st->direct[p] |= b->kind == N_ASSIGN && b->k[0]->kind == N_NAME && b->k[0]->str[0] == 'd' &&
                             strcmp(b->k[0]->str + 1, rule->k[p]->str) == 0;
        }
    }
    /* stash the adjoint's name in the block's str: the reverse reads it */
    if (st->rev) st->rev->str = (char *)in.dy;
    /* only two operands that are both variables can broadcast one against
     * the other (a constant never widens the result); the shapes of the
     * differentiated ones are recorded */
    /* a differentiated operand p is never broadcast when every other
     * operand has p's shape or is a number */
    int names = 0, same = 1;
    const char *cls[3] = {0};
    for (int p = 0; p < np && p < 3; p++)
        if (args[p]->kind == N_NAME) {
            names++;
            cls[p] = shape_class(a, args[p]->str, a->cur, 0);
        } else {
            cls[p] = "num";
        }
    for (int p = 0; p < np && p < 3; p++) {
        if (!contrib[p]) continue;
        for (int q = 0; q < np && q < 3; q++) {
            if (q == p || (cls[q] && strcmp(cls[q], "num") == 0)) continue;
            if (!cls[p] || !cls[q] || strcmp(cls[p], cls[q]) != 0) same = 0;
        }
    }
    if (broadcasting(prim) && names >= 2 && !same) {
        int k = 0;                       /* every variable operand's shape */
        for (int p = 0; p < np && p < 3; p++)
            if (args[p]->kind == N_NAME) {
                if (contrib[p]) st->siteof[p] = k;
                k++;
            }
        st->site = k;
    }
    free(in.from);
    free(in.to);
}

static void needs(Ad *a, Node *b)
{
    for (int i = 0; i < b->n; i++) {
        Node *s = b->k[i];
        if (!s || s->kind == N_MASSIGN) continue;   /* the callee caches its own */
        if (s->kind != N_ASSIGN) {
            for (int j = 0; j < s->n; j++)
                if (s->k[j] && s->k[j]->kind == N_BLOCK) needs(a, s->k[j]);
            if (s->kind == N_BLOCK) needs(a, s);
            continue;
        }
        const char *prim;
        const Node **args;
        int nargs;
        int kind = classify(a, s, &prim, &args, &nargs);
        const Node *t = s->k[0];
        a->at = s->loc;
        a->cur = pos_of(a, s);
        if (kind == K_STORE) {
            for (int j = 1; j < t->n; j++) {
                const Node *it = t->k[j];
                if (it->kind == N_NAME) need(a, it->str);
                if (it->kind == N_SLICE)
                    for (int q = 0; q < 3; q++)
                        if (it->k[q] && it->k[q]->kind == N_NAME) need(a, it->k[q]->str);
            }
            continue;
        }
        if (!names_has(&a->varied, t->str)) continue;
        int any = 0;
        for (int j = 0; j < nargs; j++) any |= varied_leaf(a, args[j]);
        if (kind == K_PRIM && any) {
            Node *pre = block(a);
            a->blk = b;
            a->blkat = i;
            need_prim(a, s, prim, args, nargs, pre);
            for (int j = 0; pre && j < pre->n; j++) {   /* before s */
                Read *r = grow(&a->pre, &a->npre, &a->precap, sizeof(Read));
                if (r) {
                    r->var = (const char *)pre->k[j];
                    r->at = a->cur;
                }
                add(a, b, pre->k[j]);
                memmove(b->k + i + 1, b->k + i, (size_t)(b->n - 1 - i) * sizeof *b->k);
                b->k[i++] = pre->k[j];
            }
        }
        if (kind == K_INDEX) {
            const Node *v = s->k[1];
            /* a constant's shape needs no caching (`0[0]` is a runtime error) */
            if (v->k[0]->kind == N_NAME) names_add(&a->shaped, v->k[0]->str);
            for (int j = 1; j < v->n; j++) {
                const Node *it = v->k[j];
                if (it->kind == N_NAME) need(a, it->str);
                if (it->kind == N_SLICE)
                    for (int q = 0; q < 3; q++)
                        if (it->k[q] && it->k[q]->kind == N_NAME) need(a, it->k[q]->str);
            }
        }
    }
}

/* -- pass 4: the forward sweep --------------------------------------------- */

/* Whether overwriting x by a plain assignment must cache its old value:
 * the reverse reads its value, or its shape (which an assignment may
 * change; an indexed store never does). */
static int cached(Ad *a, const Node *s, const char *x)
{
    return names_has(&a->shaped, x) || (s ? needed_before(a, s, x) : names_has(&a->needed, x));
}

static Node *push(Ad *a, Node *v) { return add(a, node(a, N_EXPR), call1(a, "%push", v)); }

static Node *pop(Ad *a, const char *var) { return set(a, var, call(a, "%pop", 0, NULL)); }

static const char *pair_name(Ad *a, const Node *fn, const char *which);

static Node *fwd_block(Ad *a, const Node *b, int clear);

static Node *tuple_of(Ad *a, const Names *ns, int take)
{
    Node *t = add(a, node(a, N_CALL), name(a, "%tuple"));
    for (int i = 0; i < ns->n; i++)
        add(a, t, take ? call1(a, "%take", name(a, adj(a, ns->s[i]))) : name(a, ns->s[i]));
    return t;
}

static Node *item(Ad *a, const char *t, int i)
{
    return add(a, add(a, node(a, N_INDEX), name(a, t)), num(a, i));
}

/* v.. = %ckpt_fwd(count, from, to, (v..), (u..), step, step'fwd, line, col
 * [, cond]): the loop runs under the runner, which keeps what the reverse
 * needs; a `while` passes its condition as a function (and 0, 0 for the
 * bounds). */
static void ckpt_fwd(Ad *a, Node *out, const Node *s, const Ck *ck)
{
    const Node *step = vm_fnast(a->vm, ck->step), *count = s->k[s->kind == N_FOR ? 3 : 2];
    int isfor = s->kind == N_FOR;
    Node *args[10] = {count ? copy(a, count) : num(a, -1), isfor ? copy(a, s->k[0]) : num(a, 0),
                      isfor ? copy(a, s->k[1]) : num(a, 0), tuple_of(a, &ck->v, 0), tuple_of(a, &ck->u, 0),
                      name(a, ck->adv), name(a, pair_name(a, step, "fwd")), num(a, s->loc.first_line),
                      num(a, s->loc.first_column), ck->cond ? name(a, ck->cond) : NULL};
    const char *t = fresh(a, "$ck", NULL);
    names_add(&a->vars, t);
    add(a, out, set(a, t, call(a, "%ckpt_fwd", isfor ? 9 : 10, args)));
    for (int j = 0; j < ck->v.n; j++) add(a, out, set(a, ck->v.s[j], item(a, t, j)));
    add(a, out, set(a, t, num(a, 0)));
}

/* The reverse of a checkpointed loop: the runner reverses every step and
 * hands back the carried variables' adjoints, the read ones' and the
 * carried variables' values before the loop. */
static void ckpt_rev(Ad *a, Node *out, const Ck *ck)
{
    const Node *step = vm_fnast(a->vm, ck->step);
    const char *made[2] = {"back", "tail"};
    pair_name(a, step, "fwd");              /* builds the pair, and with it these */
    Node *fns[2];
    for (int k = 0; k < 2; k++) {           /* made with the step's pair */
        char buf[320];
        snprintf(buf, sizeof buf, "%s'%s", ck->step, made[k]);
        if (vm_findglobal(a->vm, buf) < 0) {
            aderr(a, a->at, "internal error: grad made no %s function for a checkpointed loop", made[k]);
            return;
        }
        fns[k] = name(a, arena_strdup(a->ar, buf, strlen(buf)));
    }
    int nv = ck->v.n, nu = ck->u.n;
    /* the read values' adjoints go in and come back with the loop's
     * contributions added, in store-all's order */
    Node *du = add(a, node(a, N_CALL), name(a, "%tuple"));
    for (int m = 0; m < nu; m++)
        add(a, du, names_has(&a->varied, ck->u.s[m]) ? call1(a, "%take", name(a, adj(a, ck->u.s[m]))) : num(a, 0));
    Node *args[4] = {tuple_of(a, &ck->v, 1), fns[1], fns[0], du};
    const char *g = fresh(a, "$g", NULL);
    names_add(&a->vars, g);
    add(a, out, set(a, g, call(a, "%ckpt_rev", 4, args)));
    for (int j = 0; j < nv; j++) add(a, out, accumulate(a, ck->v.s[j], item(a, g, j)));
    for (int m = 0; m < nu; m++)
        if (names_has(&a->varied, ck->u.s[m])) add(a, out, set(a, adj(a, ck->u.s[m]), item(a, g, nv + m)));
    for (int j = 0; j < nv; j++) add(a, out, set(a, ck->v.s[j], item(a, g, nv + nu + j)));
    add(a, out, set(a, g, num(a, 0)));
}

static int is_call(const Node *e, const char *f)
{
    return e && e->kind == N_CALL && e->k[0]->kind == N_NAME && strcmp(e->k[0]->str, f) == 0;
}

/* The calls of f in e. */
static int count_calls(const Node *e, const char *f)
{
    if (!e) return 0;
    int n = is_call(e, f);
    for (int i = 0; i < e->n; i++) n += count_calls(e->k[i], f);
    return n;
}

/* A loop without `checkpoint` runs checkpointed when its store-all cache
 * would exceed the AD budget: the forward chooses between the two
 * versions when the loop starts (%ckpt_auto, from the trip count, the
 * state's size and the values each step pushes) and pushes its choice for
 * the reverse. */
static void ckpt_auto_fwd(Ad *a, Node *out, const Node *s, const Ck *ck, Node *all)
{
    const char *flag = fresh(a, "$auto", NULL);
    names_add(&a->vars, flag);
    Node *args[4] = {copy(a, s->k[0]), copy(a, s->k[1]), tuple_of(a, &ck->v, 0), num(a, count_calls(all, "%push"))};
    add(a, out, set(a, flag, call(a, "%ckpt_auto", 4, args)));
    Node *cb = block(a);
    ckpt_fwd(a, cb, s, ck);
    add(a, out, add(a, add(a, add(a, node(a, N_IF), name(a, flag)), cb), all));
    add(a, out, push(a, name(a, flag)));
}

static Node *fwd_stmt(Ad *a, const Node *s)
{
    Node *out = block(a);
    a->at = s->loc;
    switch (s->kind) {
    case N_ASSIGN: {
        const Node *t = s->k[0];
        const char *prim;
        const Node **args;
        int nargs;
        int kind = classify(a, s, &prim, &args, &nargs);
        if (kind == K_STORE) {
            const char *x = t->k[0]->str;
            if (needed_before(a, s, x)) add(a, out, push(a, copy(a, t)));
            if (varied_leaf(a, s->k[1])) add(a, out, add(a, node(a, N_EXPR), call1(a, "%shpush", copy(a, s->k[1]))));
            add(a, out, copy(a, s));
            break;
        }
        const char *x = t->str;
        if (cached(a, s, x)) add(a, out, push(a, name(a, x)));
        if (s->num > 0 && a->site[(int)s->num - 1].site) {
            /* the operands' shapes, taken before x (maybe an operand) changes */
            Node *args2[3];
            int k = 0;
            for (int p = 0; p < nargs && p < 3 && k < 3; p++)
                if (args[p]->kind == N_NAME) args2[k++] = copy(a, args[p]);
            add(a, out, add(a, node(a, N_EXPR), call(a, "%site", k, args2)));
        }
        Node *v = copy(a, s->k[1]);
        if (kind == K_CALL && names_has(&a->varied, x))
            v->k[0]->str = (char *)pair_name(a, vm_fnast(a->vm, v->k[0]->str), "fwd");
        add(a, out, set(a, x, v));
        break;
    }
    case N_IF: {
        Node *iff = add(a, add(a, node(a, N_IF), copy(a, s->k[0])), fwd_block(a, s->k[1], 1));
        add(a, iff, s->k[2] ? fwd_block(a, s->k[2], 1) : NULL);
        add(a, out, iff);
        add(a, out, push(a, copy(a, s->k[0])));
        break;
    }
    case N_FOR: {
        Ck *ck = ck_of(a, s);
        if (s->op == 1 && ck) {
            ckpt_fwd(a, out, s, ck);
            break;
        }
        Node *all = out;
        if (ck) out = block(a);        /* the store-all version, one of two */
        const char *n = fresh(a, "$n", NULL);
        names_add(&a->vars, n);
        add(a, out, set(a, n, num(a, 0)));
        Node *body = fwd_block(a, s->k[2], 1);
        add(a, body, set(a, n, binop(a, BIN_ADD, name(a, n), num(a, 1))));
        Node *f = add(a, add(a, add(a, node(a, N_FOR), copy(a, s->k[0])), copy(a, s->k[1])), body);
        if (f) f->str = s->str;
        add(a, f, NULL);
        add(a, out, f);
        Node *le[2] = {copy(a, s->k[0]), name(a, n)};
        add(a, out, add(a, node(a, N_EXPR), call(a, "%loopend", 2, le)));
        if (ck) ckpt_auto_fwd(a, all, s, ck, out);
        out = all;
        break;
    }
    case N_WHILE: {
        if (s->op == 1 && ck_of(a, s)) {
            ckpt_fwd(a, out, s, ck_of(a, s));
            break;
        }
        const char *n = fresh(a, "$n", NULL);
        names_add(&a->vars, n);
        add(a, out, set(a, n, num(a, 0)));
        Node *body = fwd_block(a, s->k[1], 0);
        add(a, body, set(a, n, binop(a, BIN_ADD, name(a, n), num(a, 1))));
        Node *w = add(a, add(a, node(a, N_WHILE), copy(a, s->k[0])), body);
        add(a, w, NULL);
        add(a, out, w);
        Node *le[2] = {num(a, 0), name(a, n)};
        add(a, out, add(a, node(a, N_EXPR), call(a, "%loopend", 2, le)));
        break;
    }
    case N_MASSIGN: {
        for (int j = 0; j + 1 < s->n; j++)
            if (cached(a, s, s->k[j]->str)) add(a, out, push(a, name(a, s->k[j]->str)));
        Node *m = copy(a, s);
        Node *c = m->k[m->n - 1];
        if (names_has(&a->varied, s->k[0]->str))
            c->k[0]->str = (char *)pair_name(a, vm_fnast(a->vm, c->k[0]->str), "fwd");
        add(a, out, m);
        break;
    }
    case N_BLOCK: add(a, out, fwd_block(a, s, 1)); break;
    default: add(a, out, copy(a, s));
    }
    return out;
}

/* The forward sweep of block b; a region's locals are cleared at its end
 * (pushed first when the reverse needs them), unless `clear` is 0. */
static Node *fwd_block(Ad *a, const Node *b, int clear)
{
    Node *out = block(a);
    for (int i = 0; i < b->n; i++) {
        if (!b->k[i]) continue;
        Node *s = fwd_stmt(a, b->k[i]);
        for (int j = 0; s && j < s->n; j++) add(a, out, s->k[j]);
    }
    Region *r = clear ? region_of(a, b) : NULL;
    for (int i = 0; r && i < r->locals.n; i++) {
        const char *l = r->locals.s[i];
        if (cached(a, NULL, l)) add(a, out, push(a, name(a, l)));
        add(a, out, set(a, l, num(a, 0)));
    }
    return out;
}

/* -- pass 4: the reverse sweep --------------------------------------------- */

static Node *rev_block(Ad *a, const Node *b, int clear);

/* The most assignments to c on one path through statements b, 2 meaning
 * "more than one"; -1 when c is read. */
static int path_assigns(const Node *b, const char *c)
{
    int n = 0;
    for (int i = 0; b && i < b->n; i++) {
        const Node *s = b->k[i];
        if (!s) continue;
        if (s->kind == N_ASSIGN && s->k[0]->kind == N_NAME && strcmp(s->k[0]->str, c) == 0) {
            if (ast_mentions(s->k[1], c)) return -1;
            n++;
        } else if (s->kind == N_IF) {
            if (ast_mentions(s->k[0], c)) return -1;
            int t = path_assigns(s->k[1], c), e = 0;
            if (s->k[2]) {
                Node wrap = {.kind = N_BLOCK, .n = 1, .k = (Node **)&s->k[2]};
                e = path_assigns(s->k[2]->kind == N_IF ? &wrap : s->k[2], c);
            }
            if (t < 0 || e < 0) return -1;
            n += t > e ? t : e;
        } else if (ast_mentions(s, c)) {
            return s->kind == N_ASSIGN || s->kind == N_EXPR ? -1 : 2;
        }
    }
    return n > 2 ? 2 : n;
}

/* `c = e` becomes `d = d + e` throughout rule code b. */
static void retarget(Ad *a, Node *b, const char *c, const char *d)
{
    for (int i = 0; b && i < b->n; i++) {
        Node *s = b->k[i];
        if (!s) continue;
        if (s->kind == N_ASSIGN && s->k[0]->kind == N_NAME && strcmp(s->k[0]->str, c) == 0)
            b->k[i] = set(a, d, binop(a, BIN_ADD, name(a, d), s->k[1]));
        else if (s->kind == N_IF || s->kind == N_BLOCK)
            retarget(a, s, c, d);
    }
}

/* Reverse of `x = v`: take x's adjoint, spread it to the operands, restore
 * x's old value. */
static void rev_assign(Ad *a, Node *out, const Node *s)
{
    const Node *t = s->k[0], *v = s->k[1];
    const char *prim;
    const Node **args;
    int nargs;
    int kind = classify(a, s, &prim, &args, &nargs);
    if (kind == K_STORE) {
        const char *x = t->k[0]->str;
        Node *idx = copy(a, t);
        idx->k[0]->str = (char *)adj(a, x);
        if (varied_leaf(a, v)) {
            const char *r = fresh(a, "$st", NULL), *sh = fresh(a, "$sh", NULL);
            names_add(&a->vars, r);
            names_add(&a->vars, sh);
            add(a, out, set(a, sh, call(a, "%shpop", 0, NULL)));
            Node *take = block(a);
            Node *rd = copy(a, idx);
            if (rd) rd->op = 1;                         /* a copy, not a view */
            add(a, take, set(a, r, rd));
            add(a, take, assign(a, copy(a, idx), num(a, 0)));
            Node *zero = block(a);
            add(a, zero, set(a, r, num(a, 0)));
            Node *iff = add(a, add(a, add(a, node(a, N_IF), call1(a, "%nz", name(a, adj(a, x)))), take), zero);
            add(a, out, iff);
            Node *ra[2] = {name(a, r), name(a, sh)};
            add(a, out, accumulate(a, v->str, call(a, "%reduce_to", 2, ra)));
        } else if (names_has(&a->varied, x)) {
            Node *zero = block(a);
            add(a, zero, assign(a, copy(a, idx), num(a, 0)));
            add(a, out, add(a, add(a, add(a, node(a, N_IF), call1(a, "%nz", name(a, adj(a, x)))), zero), NULL));
        }
        if (needed_before(a, s, x)) add(a, out, assign(a, copy(a, t), call(a, "%pop", 0, NULL)));
        return;
    }
    const char *x = t->str;
    if (names_has(&a->varied, x)) {
        const char *dx = adj(a, x), *dy = fresh(a, "$dy", NULL);
        names_add(&a->vars, dy);
        /* the rule reads the adjoint under its own name; copies hand it on */
        if (kind == K_PRIM && s->num > 0) dy = a->site[(int)s->num - 1].rev->str;
        if (kind == K_COPY) {            /* d'v += d'x; d'x = 0 */
            Node *at[2] = {name(a, adj(a, v->str)), name(a, dx)};
            add(a, out, add(a, node(a, N_EXPR), call(a, "%addtake", 2, at)));
        } else {
            add(a, out, set(a, dy, call1(a, "%take", name(a, dx))));
        }
        switch (kind) {
        case K_PRIM:
            if (s->num > 0) {
                Site *st = &a->site[(int)s->num - 1];
                const char *sv = NULL;
                if (st->site) {
                    sv = fresh(a, "$s", NULL);
                    names_add(&a->vars, sv);
                    add(a, out, set(a, sv, call1(a, "%unsite", num(a, st->site))));
                }
                /* an adjoint still the number 0 contributes exactly nothing:
                 * the rule is skipped (it might not accept a number) */
                Node *body = block(a);
                Node *rb = copy(a, st->rev);
                /* a contribution assigned at most once on any path and
                 * never read adds straight into the adjoint, so the
                 * compiler sees the accumulation (d'W + outer(dy, h)) */
                int direct[RULE_MAXOPS] = {0};
                for (int p = 0; p < RULE_MAXOPS; p++) {
                    if (!st->contrib[p] || (sv && st->siteof[p] >= 0)) continue;
                    int k = path_assigns(rb, st->contrib[p]);
                    direct[p] = k == 0 || k == 1;
                    if (direct[p]) retarget(a, rb, st->contrib[p], adj(a, args[p]->str));
                }
                for (int p = 0; p < RULE_MAXOPS; p++)
                    if (st->contrib[p] && !st->direct[p] && !direct[p])
                        add(a, body, set(a, st->contrib[p], num(a, 0)));
                for (int j = 0; rb && j < rb->n; j++) add(a, body, rb->k[j]);
                for (int p = 0; p < RULE_MAXOPS; p++) {
                    if (!st->contrib[p] || direct[p]) continue;
                    Node *c = name(a, st->contrib[p]);
                    if (sv && st->siteof[p] >= 0) {
                        Node *ra[3] = {c, name(a, sv), num(a, st->siteof[p])};
                        c = call(a, "%reduce", 3, ra);
                    }
                    add(a, body, accumulate(a, args[p]->str, c));
                }
                add(a, out, add(a, add(a, add(a, node(a, N_IF), call1(a, "%nz", name(a, dy))), body), NULL));
            }
            break;
        case K_CALL: {
            const Node *fn = vm_fnast(a->vm, v->k[0]->str);
            const char *g = fresh(a, "$g", NULL);
            names_add(&a->vars, g);
            add(a, out, set(a, g, call1(a, pair_name(a, fn, "rev"), name(a, dy))));
            int np = fn->n - 1;
            for (int p = 0; p < nargs; p++) {
                if (!varied_leaf(a, args[p])) continue;
                Node *gp = name(a, g);
                if (np > 1) gp = add(a, add(a, node(a, N_INDEX), gp), num(a, p));
                add(a, out, accumulate(a, args[p]->str, gp));
            }
            break;
        }
        case K_INDEX: {
            if (!varied_leaf(a, v->k[0])) break;
            const char *y = v->k[0]->str, *dyy = adj(a, y);
            Node *body = block(a);
            Node *ma[2] = {name(a, dyy), name(a, y)};
            add(a, body, set(a, dyy, call(a, "%mat", 2, ma)));
            Node *idx = copy(a, v);
            idx->k[0]->str = (char *)dyy;
            Node *acc = assign(a, idx, name(a, dy));      /* d'y[idx] += dy, in place */
            if (acc) acc->op = BIN_ADD;
            add(a, body, acc);
            add(a, out, add(a, add(a, add(a, node(a, N_IF), call1(a, "%nz", name(a, dy))), body), NULL));
            break;
        }
        case K_ARRAY:
        case K_TUPLE: {
            Node *body = block(a);
            int first = kind == K_TUPLE;       /* %tuple's arguments follow its name */
            for (int j = first; j < v->n; j++) {
                if (!varied_leaf(a, v->k[j])) continue;
                Node *ij = add(a, add(a, node(a, N_INDEX), name(a, dy)), num(a, j - first));
                add(a, body, accumulate(a, v->k[j]->str, ij));
            }
            add(a, out, add(a, add(a, add(a, node(a, N_IF), call1(a, "%nz", name(a, dy))), body), NULL));
            break;
        }
        }
    }
    if (cached(a, s, x)) add(a, out, pop(a, x));
}

static int reads_beyond_acc(const Node *e, const char *n);

/* Is s `d = d + outer(x, y)`? */
static int outer_acc(const Node *s)
{
    if (s->kind != N_ASSIGN || s->k[0]->kind != N_NAME) return 0;
    const Node *v = s->k[1];
    return v->kind == N_BINOP && v->op == BIN_ADD && v->k[0]->kind == N_NAME &&
           strcmp(v->k[0]->str, s->k[0]->str) == 0 && v->k[1]->kind == N_CALL && v->k[1]->n == 3 &&
           v->k[1]->k[0]->kind == N_NAME && strcmp(v->k[1]->k[0]->str, "outer") == 0;
}

/* The outer-product accumulations into d in block b (ifs included, not
 * inner loops); replaced by %outer_acc(acc, x, y) when `acc`. */
static int count_outer(Ad *a, Node *b, const char *d, const char *acc)
{
    int n = 0;
    for (int i = 0; b && i < b->n; i++) {
        Node *s = b->k[i];
        if (!s) continue;
        if (outer_acc(s) && strcmp(s->k[0]->str, d) == 0) {
            n++;
            if (acc) {
                Node *c = s->k[1]->k[1], *ar[3] = {name(a, acc), c->k[1], c->k[2]};
                b->k[i] = add(a, node(a, N_EXPR), call(a, "%outer_acc", 3, ar));
            }
        } else if (s->kind == N_IF) {
            n += count_outer(a, s->k[1], d, acc);
            if (s->k[2]) {
                Node wrap = {.kind = N_BLOCK, .n = 1, .k = &s->k[2]};
                n += count_outer(a, s->k[2]->kind == N_IF ? &wrap : s->k[2], d, acc);
            }
        } else if (s->kind == N_BLOCK) {
            n += count_outer(a, s, d, acc);
        }
    }
    return n;
}

/* The adjoints d block b adds outer products to (`d = d + outer(x, y)`, ifs
 * included, not inner loops), into ds. */
static void outer_targets(const Node *b, Names *ds)
{
    for (int i = 0; b && i < b->n; i++) {
        const Node *s = b->k[i];
        if (!s) continue;
        if (outer_acc(s)) {
            if (!names_has(ds, s->k[0]->str)) names_add(ds, s->k[0]->str);
        } else if (s->kind == N_IF) {
            outer_targets(s->k[1], ds);
            if (s->k[2]) {
                const Node *e = s->k[2];
                Node wrap = {.kind = N_BLOCK, .n = 1, .k = (Node **)&e};
                outer_targets(e->kind == N_IF ? &wrap : e, ds);
            }
        } else if (s->kind == N_BLOCK) {
            outer_targets(s, ds);
        }
    }
}

/* An adjoint a loop's reverse only accumulates into, outer products among
 * others (d'W of h = tanh(W @ h + x)), takes those in blocks (%outer_acc),
 * added once after the loop: a rank-k update instead of k rank-1 updates
 * of the matrix. Decided for each adjoint alone, as a checkpointed loop's
 * reverse decides it (turn_outer), whose sum must be the same. */
static void defer_outer(Ad *a, Node *body, Node *before, Node *after)
{
    Names ds = {0};
    outer_targets(body, &ds);
    for (int i = 0; i < ds.n; i++) {
        const char *d = ds.s[i];
        if (reads_beyond_acc(body, d)) continue;   /* the loop reads it */
        const char *acc = fresh(a, "$oacc", NULL);
        names_add(&a->vars, acc);
        count_outer(a, body, d, acc);
        add(a, before, set(a, acc, num(a, 0)));
        add(a, after, accumulate(a, d + 2, call1(a, "%outer_sum", name(a, acc))));
        add(a, after, set(a, acc, num(a, 0)));
    }
    free(ds.s);
}

static Node *rev_stmt(Ad *a, const Node *s)
{
    Node *out = block(a);
    a->at = s->loc;
    switch (s->kind) {
    case N_ASSIGN: rev_assign(a, out, s); break;
    case N_IF: {
        const char *c = fresh(a, "$if", NULL);
        names_add(&a->vars, c);
        add(a, out, pop(a, c));
        Node *iff = add(a, add(a, node(a, N_IF), name(a, c)), rev_block(a, s->k[1], 1));
        add(a, iff, s->k[2] ? rev_block(a, s->k[2], 1) : NULL);
        add(a, out, iff);
        break;
    }
    case N_FOR:
    case N_WHILE: {
        Ck *ck = ck_of(a, s);
        if (s->op == 1 && ck) {
            ckpt_rev(a, out, ck);
            break;
        }
        Node *all = out;
        if (ck) out = block(a);
        const char *n = fresh(a, "$n", NULL), *st = fresh(a, "$a", NULL), *k = fresh(a, "$k", NULL);
        names_add(&a->vars, n);
        names_add(&a->vars, st);
        add(a, out, pop(a, n));
        add(a, out, pop(a, st));
        Node *body = block(a);
        Node *rb = rev_block(a, s->kind == N_FOR ? s->k[2] : s->k[1], s->kind == N_FOR);
        if (s->kind == N_FOR && ast_mentions(rb, s->str)) {   /* i = start + n - 1 - k */
            Node *i = binop(a, BIN_SUB, binop(a, BIN_ADD, name(a, st), name(a, n)),
                            binop(a, BIN_ADD, name(a, k), num(a, 1)));
            add(a, body, set(a, s->str, i));
        }
        for (int j = 0; rb && j < rb->n; j++) add(a, body, rb->k[j]);
        Node *after = block(a);
        defer_outer(a, body, out, after);
        Node *f = add(a, add(a, add(a, node(a, N_FOR), num(a, 0)), name(a, n)), body);
        if (f) f->str = (char *)k;
        add(a, f, NULL);
        add(a, out, f);
        for (int j = 0; j < after->n; j++) add(a, out, after->k[j]);
        if (ck) {                       /* which version the forward ran */
            const char *flag = fresh(a, "$auto", NULL);
            names_add(&a->vars, flag);
            Node *cb = block(a);
            ckpt_rev(a, cb, ck);
            add(a, all, pop(a, flag));
            add(a, all, add(a, add(a, add(a, node(a, N_IF), name(a, flag)), cb), out));
        }
        out = all;
        break;
    }
    case N_MASSIGN: {
        int nt = s->n - 1;
        const Node *c = s->k[nt];
        if (names_has(&a->varied, s->k[0]->str)) {
            /* g'rev takes the tuple of the targets' adjoints */
            const Node *fn = vm_fnast(a->vm, c->k[0]->str);
            Node *t = add(a, node(a, N_CALL), name(a, "%tuple"));
            for (int j = 0; j < nt; j++) {
                /* targets are assigned in order: one a later target repeats
                 * is overwritten, and its item gets no adjoint */
                int later = 0;
                for (int q = j + 1; q < nt; q++) later |= strcmp(s->k[q]->str, s->k[j]->str) == 0;
                add(a, t, later ? num(a, 0) : call1(a, "%take", name(a, adj(a, s->k[j]->str))));
            }
            const char *g = fresh(a, "$g", NULL);
            add(a, out, set(a, g, call1(a, pair_name(a, fn, "rev"), t)));
            int np = fn->n - 1;
            for (int p = 0; p < c->n - 1; p++) {
                if (!varied_leaf(a, c->k[p + 1])) continue;
                Node *gp = name(a, g);
                if (np > 1) gp = add(a, add(a, node(a, N_INDEX), gp), num(a, p));
                add(a, out, accumulate(a, c->k[p + 1]->str, gp));
            }
        } else {
            /* a constant tuple overwrites the targets: their adjoints end here */
            for (int j = 0; j < nt; j++)
                if (names_has(&a->varied, s->k[j]->str)) add(a, out, set(a, adj(a, s->k[j]->str), num(a, 0)));
        }
        for (int j = nt - 1; j >= 0; j--)
            if (cached(a, s, s->k[j]->str)) add(a, out, pop(a, s->k[j]->str));
        break;
    }
    case N_BLOCK: add(a, out, rev_block(a, s, 1)); break;
    default: break;                 /* expression statements: nothing */
    }
    return out;
}

/* The reverse sweep of block b: restore the locals the forward cleared,
 * reverse the statements, then free the region's locals and adjoints. */
static Node *rev_block(Ad *a, const Node *b, int clear)
{
    Node *out = block(a);
    Region *r = clear ? region_of(a, b) : NULL;
    for (int i = r ? r->locals.n - 1 : -1; i >= 0; i--) {
        const char *l = r->locals.s[i];
        if (cached(a, NULL, l)) add(a, out, pop(a, l));
    }
    for (int i = b->n - 1; i >= 0; i--) {
        if (!b->k[i]) continue;
        Node *s = rev_stmt(a, b->k[i]);
        for (int j = 0; s && j < s->n; j++) add(a, out, s->k[j]);
    }
    r = clear ? region_of(a, b) : NULL;
    for (int i = 0; r && i < r->locals.n; i++) {
        add(a, out, set(a, r->locals.s[i], num(a, 0)));
        add(a, out, set(a, adj(a, r->locals.s[i]), num(a, 0)));
    }
    return out;
}

/* -- simplifying the generated code ---------------------------------------- */

/* Temporaries ('$' names) used once are substituted into their use when
 * nothing between assigns their operands: the expression trees come back,
 * so the compiler fuses them, and the temporaries are not kept alive. */

typedef struct Count {
    Names name;            /* in the order first met (release() follows it) */
    int *uses, *defs;
    int cap;
    int *index;            /* hash table of 1 + the name's slot, 0: empty */
    unsigned icap;         /* a power of 2, at least twice name.n */
} Count;

static unsigned tally_hash(const char *s);

/* Where n's index is, or the empty entry it would take. */
static int *count_entry(const Count *c, const char *n)
{
    unsigned i = tally_hash(n) & (c->icap - 1);
    while (c->index[i] && strcmp(c->name.s[c->index[i] - 1], n) != 0) i = (i + 1) & (c->icap - 1);
    return &c->index[i];
}

static int count_grow(Count *c)
{
    unsigned icap = c->icap ? c->icap * 2 : 128;
    int cap = (int)(icap / 2);
    int *u = realloc(c->uses, (size_t)cap * sizeof *u), *d2 = realloc(c->defs, (size_t)cap * sizeof *d2);
    const char **ns = realloc(c->name.s, (size_t)cap * sizeof *ns);
    if (u) c->uses = u;
    if (d2) c->defs = d2;
    if (ns) c->name.s = ns;
    int *index = calloc(icap, sizeof *index);
    if (!u || !d2 || !ns || !index) {
        free(index);
        return -1;
    }
    free(c->index);
    c->index = index;
    c->icap = icap;
    c->cap = c->name.cap = cap;
    for (int i = 0; i < c->name.n; i++) *count_entry(c, c->name.s[i]) = i + 1;
    return 0;
}

static int count_slot(Count *c, const char *n)
{
    if (c->name.n == c->cap && count_grow(c)) return -1;
    int *e = count_entry(c, n);
    if (!*e) {
        c->name.s[c->name.n] = n;
        c->uses[c->name.n] = c->defs[c->name.n] = 0;
        *e = ++c->name.n;
    }
    return *e - 1;
}

static void count(Count *c, const Node *e)
{
    if (!e) return;
    if (e->kind == N_NAME && e->str[0] == '$') {
        int i = count_slot(c, e->str);
        if (i >= 0) c->uses[i]++;
        return;
    }
    if (e->kind == N_ASSIGN && e->k[0]->kind == N_NAME) {
        if (e->k[0]->str[0] == '$') {
            int i = count_slot(c, e->k[0]->str);
            if (i >= 0) c->defs[i]++;
        }
        count(c, e->k[1]);
        return;
    }
    for (int i = 0; i < e->n; i++) count(c, e->k[i]);
}

static void count_free(Count *c)
{
    free(c->name.s);
    free(c->uses);
    free(c->defs);
    free(c->index);
}

/* The slot of n, -1 if it is not counted. */
static int count_find(const Count *c, const char *n)
{
    return c->icap ? *count_entry(c, n) - 1 : -1;
}

static int uses_of(const Count *c, const char *n)
{
    int i = count_find(c, n);
    return i >= 0 && c->defs[i] == 1 ? c->uses[i] : -1;
}

/* Only builtins without effects: a call of any other function (a user's,
 * a generated fwd/rev, which push and pop the tape) or of an intrinsic must
 * stay where it is. */
static int pure(Ad *a, const Node *e)
{
    if (!e) return 1;
    if (e->kind == N_CALL) {
        const char *f = e->k[0]->kind == N_NAME ? e->k[0]->str : "";
        if (builtin_find(f) < 0 || strcmp(f, "print") == 0 || strcmp(f, "save") == 0 ||
            strcmp(f, "load") == 0)
            return 0;
    }
    (void)a;
    for (int i = 0; i < e->n; i++)
        if (!pure(a, e->k[i])) return 0;
    return 1;
}

/* %take(d) and %addtake(d, e) assign their arguments (adjoints). */
static int takes(const Node *e)
{
    return e->kind == N_CALL && e->n >= 2 && e->k[0]->kind == N_NAME &&
           (strcmp(e->k[0]->str, "%take") == 0 || strcmp(e->k[0]->str, "%addtake") == 0);
}

static int takes_any(const Node *s, const Node *e)
{
    if (!s) return 0;
    if (takes(s))
        for (int i = 1; i < s->n; i++)
            if (ast_mentions(e, s->k[i]->str)) return 1;
    for (int i = 0; i < s->n; i++)
        if (takes_any(s->k[i], e)) return 1;
    return 0;
}

static const Node *target_name(const Node *s)
{
    if (s->kind != N_ASSIGN) return NULL;
    const Node *t = s->k[0];
    while (t->kind == N_INDEX) t = t->k[0];
    return t;
}

/* Does statement s (with everything nested in it) assign a name e reads? */
static int clobbers(const Node *s, const Node *e)
{
    if (!s) return 0;
    if (takes_any(s, e)) return 1;
    const Node *t = target_name(s);
    if (t && t->kind == N_NAME && ast_mentions(e, t->str)) return 1;
    if (s->kind == N_FOR && s->str && ast_mentions(e, s->str)) return 1;
    for (int i = 0; i < s->n; i++)
        if (s->k[i] && (s->k[i]->kind == N_BLOCK || s->k[i]->kind == N_ASSIGN || s->k[i]->kind == N_IF ||
                        s->k[i]->kind == N_FOR || s->k[i]->kind == N_WHILE) &&
            clobbers(s->k[i], e))
            return 1;
    return 0;
}

/* Replace the use of name n in e's own expression (not nested blocks) by v;
 * returns whether it was found. */
static int replace(Node *e, const char *n, Node *v)
{
    for (int i = 0; e && i < e->n; i++) {
        Node *k = e->k[i];
        if (!k || k->kind == N_BLOCK) continue;
        if (k->kind == N_NAME && strcmp(k->str, n) == 0) {
            e->k[i] = v;
            return 1;
        }
        if (replace(k, n, v)) return 1;
    }
    return 0;
}

static int reads_here(const Node *s, const char *n)
{
    for (int i = 0; s && i < s->n; i++) {
        const Node *k = s->k[i];
        if (!k || k->kind == N_BLOCK) continue;
        if (k->kind == N_NAME ? strcmp(k->str, n) == 0 : reads_here(k, n)) return 1;
    }
    return 0;
}

static void drop(Node *b, int i)
{
    memmove(b->k + i, b->k + i + 1, (size_t)(b->n - i - 1) * sizeof *b->k);
    b->n--;
}

static int tree_size(const Node *e, int limit)
{
    int n = 1;
    for (int i = 0; e && i < e->n && n <= limit; i++) n += e->k[i] ? tree_size(e->k[i], limit) : 0;
    return n;
}

static int simplify_block(Ad *a, Node *b, const Count *c)
{
    int changed = 0;
    for (int i = 0; i < b->n; i++) {
        Node *s = b->k[i];
        if (!s) continue;
        for (int j = 0; j < s->n; j++)
            if (s->k[j] && s->k[j]->kind == N_BLOCK) changed |= simplify_block(a, s->k[j], c);
        if (s->kind == N_BLOCK) changed |= simplify_block(a, s, c);
        if (s->kind != N_ASSIGN || s->k[0]->kind != N_NAME || s->k[0]->str[0] != '$') continue;
        const char *t = s->k[0]->str;
        Node *e = s->k[1];
        int u = uses_of(c, t);
        if (!pure(a, e)) continue;
        if (u == 0) {                       /* never read */
            drop(b, i--);
            changed = 1;
            continue;
        }
        /* a kernel fuses at most FUSE_MAXOPS operations: bigger trees gain
         * nothing, and a long chain of statements would make one deep
         * expression the compiler walks again at every level */
        if (u != 1 || tree_size(e, FUSE_MAXOPS) > FUSE_MAXOPS) continue;
        for (int j = i + 1; j < b->n; j++) {
            Node *n = b->k[j];
            if (!n) continue;
            if (reads_here(n, t)) {
                if (n->kind != N_ASSIGN && n->kind != N_EXPR && n->kind != N_RETURN && n->kind != N_IF)
                    break;
                if (n->kind == N_IF && !(n->k[0]->kind == N_NAME && strcmp(n->k[0]->str, t) == 0)) break;
                if (replace(n, t, e)) {
                    drop(b, i--);
                    changed = 1;
                }
                break;
            }
            if (n->kind == N_IF && !n->k[2] && ast_mentions(n->k[1], t) && !clobbers(n, e)) {
                /* its one use is in the branch: the definition moves there
                 * (it is pure), to be substituted in the next round */
                Node *body = n->k[1];
                add(a, body, s);
                memmove(body->k + 1, body->k, (size_t)(body->n - 1) * sizeof *body->k);
                body->k[0] = s;
                drop(b, i--);
                changed = 1;
                break;
            }
            if (ast_mentions(n, t) || clobbers(n, e)) break;
        }
    }
    return changed;
}

static void simplify(Ad *a, Node *fnbody)
{
    for (int round = 0; round < 8; round++) {
        Count c;
        memset(&c, 0, sizeof c);
        count(&c, fnbody);
        int changed = simplify_block(a, fnbody, &c);
        count_free(&c);
        if (!changed) break;
    }
}


/* Release temporaries after their last read: generated functions keep
 * every variable at function level, and an adjoint or a rule's temporary
 * would otherwise hold its array until the function returns. A
 * temporary read only in one block is set to 0 after the statement that
 * reads it last there. */
static void release_block(Ad *a, Node *b, const Count *c)
{
    for (int i = 0; i < b->n; i++) {
        Node *s = b->k[i];
        /* in a loop the next step overwrites them: no need, and no cost */
        if (s && (s->kind == N_FOR || s->kind == N_WHILE)) continue;
        for (int j = 0; s && j < s->n; j++)
            if (s->k[j] && s->k[j]->kind == N_BLOCK) release_block(a, s->k[j], c);
        if (s && s->kind == N_BLOCK) release_block(a, s, c);
    }
    /* each statement counted once: how often it reads each name of c, and
     * the last statement that reads it */
    int nv = c->name.n, n0 = b->n;
    int *reads = calloc((size_t)nv + 1, sizeof *reads), *last = malloc(((size_t)nv + 1) * sizeof *last);
    int *kills = calloc((size_t)n0 + 1, sizeof *kills);   /* inserted after statement i */
    if (!reads || !last || !kills) goto out;
    for (int v = 0; v < nv; v++) last[v] = -1;
    for (int i = 0; i < n0; i++) {
        Count here;
        memset(&here, 0, sizeof here);
        count(&here, b->k[i]);
        for (int q = 0; q < here.name.n; q++) {
            int v = here.uses[q] ? count_find(c, here.name.s[q]) : -1;
            if (v < 0) continue;
            reads[v] += here.uses[q];
            last[v] = i;
        }
        count_free(&here);
    }
    /* a name's `t = 0` goes right after its last reader, in front of the
     * ones put there before it */
    for (int v = 0; v < nv; v++) {
        if (!c->defs[v]) continue;      /* a parameter */
        int l = last[v];
        if (l < 0 || reads[v] != c->uses[v] || l + 1 >= n0) continue;
        int at = l;
        for (int i = 0; i < l; i++) at += kills[i];
        Node *s = b->k[at];
        if (s->kind == N_FOR || s->kind == N_WHILE) continue;
        add(a, b, set(a, c->name.s[v], num(a, 0)));
        Node *kill = b->k[b->n - 1];
        memmove(b->k + at + 2, b->k + at + 1, (size_t)(b->n - at - 2) * sizeof *b->k);
        b->k[at + 1] = kill;
        kills[l]++;
    }
out:
    free(reads);
    free(last);
    free(kills);
}

static void release(Ad *a, Node *fnbody)
{
    Count c;
    memset(&c, 0, sizeof c);
    count(&c, fnbody);
    release_block(a, fnbody, &c);
    count_free(&c);
}

/* -- forwarding adjoints ---------------------------------------------------- */

/* The reverse sweep reverses three-address code, one statement at a time:
 * a temporary's adjoint is accumulated by its one use, then taken where the
 * temporary was computed:
 *
 *     if %nz(dy1) { d't = d't + E }   ...   dy2 = %take(d't)
 *     if %nz(dy2) { BODY }
 *
 * When nothing in between conflicts, `dy2 = E; BODY` moves to where E was
 * added, so the adjoint chain of an expression becomes nested expressions
 * again, which simplify() substitutes and the compiler fuses. Inside the
 * %nz(dy1) guard dy2's own guard is dropped: an adjoint computed from a
 * nonzero one has its primal's shape, so BODY's rules accept it (not a
 * part of a tuple's adjoint, which may still be 0). */

/* Is s an accumulation into a name n (`n = n + e`, `n = %mat(n, x)`,
 * `n[i] += e`)? Sets *n. */
static int is_acc(const Node *s, const char **n)
{
    if (s->kind != N_ASSIGN) return 0;
    const Node *t = s->k[0], *v = s->k[1];
    if (t->kind == N_INDEX) {
        while (t->kind == N_INDEX) t = t->k[0];
        *n = t->str;
        return s->op == BIN_ADD && t->kind == N_NAME;
    }
    *n = t->str;
    if (v->kind == N_BINOP && v->op == BIN_ADD && v->k[0]->kind == N_NAME)
        return strcmp(v->k[0]->str, t->str) == 0 && !ast_mentions(v->k[1], t->str);
    return v->kind == N_CALL && v->n == 3 && strcmp(v->k[0]->str, "%mat") == 0 &&
           v->k[1]->kind == N_NAME && strcmp(v->k[1]->str, t->str) == 0 && !ast_mentions(v->k[2], t->str);
}

/* Does e read n other than by accumulating into it? */
static int reads_beyond_acc(const Node *e, const char *n)
{
    if (!e) return 0;
    const char *m;
    if (is_acc(e, &m) && strcmp(m, n) == 0) {
        const Node *t = e->k[0], *v = e->k[1];
        if (t->kind != N_INDEX) return 0;      /* is_acc checked the value */
        for (; t->kind == N_INDEX; t = t->k[0])
            for (int j = 1; j < t->n; j++)
                if (ast_mentions(t->k[j], n)) return 1;
        return ast_mentions(v, n);
    }
    if (e->kind == N_NAME) return strcmp(e->str, n) == 0;
    for (int i = 0; i < e->n; i++)
        if (reads_beyond_acc(e->k[i], n)) return 1;
    return 0;
}

/* The names e's statements assign (*acc: by accumulating). */
static void assigned_names(const Node *e, Names *set, Names *acc)
{
    if (!e) return;
    const char *n;
    if (is_acc(e, &n)) names_add(acc, n);
    else if (e->kind == N_ASSIGN) names_add(set, target_name(e)->str);
    if (e->kind == N_MASSIGN)
        for (int i = 0; i + 1 < e->n; i++) names_add(set, e->k[i]->str);
    if (takes(e))
        for (int i = 1; i < e->n; i++)
            if (e->k[i]->kind == N_NAME) names_add(set, e->k[i]->str);
    if (e->kind == N_FOR && e->str) names_add(set, e->str);
    for (int i = 0; i < e->n; i++) assigned_names(e->k[i], set, acc);
}

/* Can x run before y instead of after (both are statement lists)?
 * Accumulations into one adjoint commute in exact arithmetic, not in
 * floating point; they may meet unless `ordered`: in a function with a
 * loop and in a loop's step function, where the move would be made in
 * some contexts and not in others (a loop body reversed in place has the
 * tape's pops in between, its checkpointed step function has not; shapes
 * known after a loop make sites, and so barriers, of their own), and a
 * checkpointed gradient must equal store-all's bit for bit. */
static int commute(const Node *x, const Node *y, int ordered)
{
    Names set[2] = {{0}}, acc[2] = {{0}};
    assigned_names(x, &set[0], &acc[0]);
    assigned_names(y, &set[1], &acc[1]);
    int ok = 1;
    for (int s = 0; s < 2 && ok; s++) {
        const Node *other = s ? x : y;
        for (int i = 0; i < set[s].n && ok; i++) ok = !ast_mentions(other, set[s].s[i]);
        for (int i = 0; i < acc[s].n && ok; i++) ok = !reads_beyond_acc(other, acc[s].s[i]);
    }
    for (int i = 0; i < acc[0].n && ok && ordered; i++)
        for (int j = 0; j < acc[1].n && ok; j++) ok = strcmp(acc[0].s[i], acc[1].s[j]) != 0;
    for (int s = 0; s < 2; s++) {
        free(set[s].s);
        free(acc[s].s);
    }
    return ok;
}

/* Code that may move: builtins, and the intrinsics that only compute (the
 * tape's %pop, %unsite, ... and calls of generated code must keep their
 * order). */
static int movable(const Node *e)
{
    if (!e) return 1;
    if (e->kind == N_CALL) {
        const char *f = e->k[0]->kind == N_NAME ? e->k[0]->str : "";
        static const char *const ok[] = {"%take", "%nz", "%mat", "%reduce_to", "%addtake", NULL};
        int fine = f[0] != '%' && builtin_find(f) >= 0 && strcmp(f, "print") != 0 &&
                   strcmp(f, "save") != 0 && strcmp(f, "load") != 0;
        for (int i = 0; ok[i]; i++) fine |= strcmp(f, ok[i]) == 0;
        if (!fine) return 0;
    }
    for (int i = 0; i < e->n; i++)
        if (!movable(e->k[i])) return 0;
    return 1;
}

static int mentions_count(const Node *e, const char *n)
{
    if (!e) return 0;
    if (e->kind == N_NAME) return strcmp(e->str, n) == 0;
    if (e->kind == N_ASSIGN && e->k[0]->kind == N_NAME && strcmp(e->k[0]->str, n) == 0 &&
        e->k[1]->kind == N_NUM && e->k[1]->num == 0)
        return 0;                       /* a reset */
    int c = 0;
    for (int i = 0; i < e->n; i++) c += mentions_count(e->k[i], n);
    return c;
}

/* The place of the accumulation `d = d + E` in statements b[0..end): the
 * blocks and indices from b down, depth returned (0: not found, -1: more
 * than one). guarded: the innermost if on the way tests %nz. */
#define FWD_DEPTH 32
typedef struct Path {
    Node *blk[FWD_DEPTH];
    int at[FWD_DEPTH];
    int guarded;
} Path;

static int find_acc(Node *b, int end, const char *d, Path *p, int depth)
{
    int found = 0;
    /* from the end: d is mentioned by its accumulation and its take only
     * (the caller counted), so the first statement mentioning it holds it */
    for (int i = end - 1; i >= 0 && depth < FWD_DEPTH && !found; i--) {
        Node *s = b->k[i];
        const char *n;
        if (!s || !ast_mentions(s, d)) continue;
        Path q = *p;
        q.blk[depth] = b;
        q.at[depth] = i;
        if (is_acc(s, &n) && strcmp(n, d) == 0 && s->k[0]->kind == N_NAME && s->k[1]->kind == N_BINOP) {
            q.guarded = 0;
            found = depth + 1;
        } else if (s->kind == N_IF && !s->k[2] && !ast_mentions(s->k[0], d)) {
            found = find_acc(s->k[1], s->k[1]->n, d, &q, depth + 1);
            const Node *c = s->k[0];
            if (found == depth + 2)
                q.guarded = c->kind == N_CALL && c->n == 2 && strcmp(c->k[0]->str, "%nz") == 0;
        } else if (s->kind == N_BLOCK) {
            found = find_acc(s, s->n, d, &q, depth + 1);
        } else {
            return -1;
        }
        if (found <= 0) return -1;
        *p = q;
    }
    return found;
}

/* Statements strictly between the accumulation at path p (depth n) and
 * statement `end` of the outermost block, in a scratch block. */
static Node *between(Ad *a, const Path *p, int n, int end)
{
    Node *w = block(a);
    for (int k = n - 1; k >= 0; k--) {
        int stop = k == 0 ? end : p->blk[k]->n;
        for (int i = p->at[k] + 1; i < stop; i++) add(a, w, p->blk[k]->k[i]);
    }
    return w;
}

static void rename_all(Ad *a, Node *e, const char *n, const Node *v)
{
    for (int i = 0; e && i < e->n; i++) {
        Node *k = e->k[i];
        if (k && k->kind == N_NAME && strcmp(k->str, n) == 0) e->k[i] = copy(a, v);
        else rename_all(a, k, n, v);
    }
}

/* Splice statements into block b at index i, replacing b->k[i]. */
static void splice(Ad *a, Node *b, int i, Node *with)
{
    int n = with->n;
    Node **tail = malloc(sizeof(Node *) * (size_t)(b->n - i - 1 + 1));
    if (!tail) return;
    int nt = b->n - i - 1;
    memcpy(tail, b->k + i + 1, (size_t)nt * sizeof *tail);
    b->n = i;
    for (int j = 0; j < n; j++) add(a, b, with->k[j]);
    for (int j = 0; j < nt; j++) add(a, b, tail[j]);
    free(tail);
}

static int has_index(const Node *e)
{
    if (!e || e->kind == N_INDEX) return e != NULL;
    for (int i = 0; i < e->n; i++)
        if (has_index(e->k[i])) return 1;
    return 0;
}

/* How many times each name is mentioned in a tree (resets `n = 0` not
 * counted, as mentions_count): a hash table, made once per round. */
typedef struct Tally {
    const char **key;
    int *val;
    unsigned cap;          /* a power of 2 */
} Tally;

static unsigned tally_hash(const char *s)
{
    unsigned h = 2166136261u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static int *tally_slot(Tally *t, const char *n)
{
    for (unsigned i = tally_hash(n) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (!t->key[i]) t->key[i] = n;
        if (strcmp(t->key[i], n) == 0) return &t->val[i];
    }
}

static void tally_tree(Tally *t, const Node *e)
{
    if (!e) return;
    if (e->kind == N_NAME) {
        ++*tally_slot(t, e->str);
        return;
    }
    if (e->kind == N_ASSIGN && e->k[0]->kind == N_NAME && e->k[1]->kind == N_NUM && e->k[1]->num == 0) return;
    for (int i = 0; i < e->n; i++) tally_tree(t, e->k[i]);
}

static int tally_init(Tally *t, const Node *e)
{
    int names = tree_size(e, INT32_MAX / 4);
    for (t->cap = 64; t->cap < 2u * (unsigned)names; t->cap *= 2) {}
    t->key = calloc(t->cap, sizeof *t->key);
    t->val = calloc(t->cap, sizeof *t->val);
    if (!t->key || !t->val) return -1;
    tally_tree(t, e);
    return 0;
}

static void tally_free(Tally *t)
{
    free(t->key);
    free(t->val);
}

static int tally_of(Tally *t, const char *n) { return *tally_slot(t, n); }

static int forward_block(Ad *a, Node *b, Tally *tl)
{
    int changed = 0;
    for (int i = 0; i < b->n; i++) {
        Node *s = b->k[i];
        if (!s) continue;
        for (int j = 0; j < s->n; j++)
            if (s->k[j] && s->k[j]->kind == N_BLOCK) changed |= forward_block(a, s->k[j], tl);
        if (s->kind == N_BLOCK) changed |= forward_block(a, s, tl);
    }
    for (int i = 1; i + 1 < b->n; i++) {
        Node *s = b->k[i], *g = b->k[i + 1];
        if (!s || !g || s->kind != N_ASSIGN || s->k[0]->kind != N_NAME || s->k[1]->kind != N_CALL ||
            s->k[1]->n != 2 || strcmp(s->k[1]->k[0]->str, "%take") != 0 || s->k[1]->k[1]->kind != N_NAME)
            continue;
        const char *dy = s->k[0]->str, *d = s->k[1]->k[1]->str;
        const Node *c = g->kind == N_IF ? g->k[0] : NULL;   /* g may have no operands */
        if (g->kind != N_IF || g->k[2] || c->kind != N_CALL || c->n != 2 || strcmp(c->k[0]->str, "%nz") != 0 ||
            c->k[1]->kind != N_NAME || strcmp(c->k[1]->str, dy) != 0 || dy[0] != '$')
            continue;
        /* counts from the round's start: a move made since only adds
         * mentions of the names it copies, which makes this test fail */
        if (tally_of(tl, d) != 3 || tally_of(tl, dy) != 1 + mentions_count(g->k[1], dy) + 1) continue;
        Path p;
        int n = find_acc(b, i, d, &p, 0);
        if (n <= 0) continue;
        Node *acc = p.blk[n - 1]->k[p.at[n - 1]];
        Node *e = acc->k[1]->k[1];
        /* a tuple's adjoint may be nonzero with a part still 0 */
        if (has_index(e)) p.guarded = 0;
        /* E stays where it is evaluated (but becomes a statement of its
         * own, `dy = E`: it must be one that may stand alone); only the
         * body moves, and E with it where it replaces dy there (a name
         * read later) */
        int inline_e = p.guarded && (e->kind == N_NAME || e->kind == N_NUM);
        Node *moved = block(a);
        if (inline_e) add(a, moved, add(a, node(a, N_EXPR), e));
        add(a, moved, p.guarded ? g->k[1] : g);
        if (!movable(e) || !movable(moved) || !commute(moved, between(a, &p, n, i), a->ordered)) continue;
        Node *with = block(a);
        Node *body = g->k[1];
        if (inline_e) {
            rename_all(a, body, dy, e);
            for (int j = 0; j < body->n; j++) add(a, with, body->k[j]);
        } else if (p.guarded) {
            add(a, with, set(a, dy, e));
            for (int j = 0; j < body->n; j++) add(a, with, body->k[j]);
        } else {
            add(a, with, set(a, dy, e));
            add(a, with, g);
        }
        drop(b, i + 1);                 /* first: the splice may be into b */
        drop(b, i);
        splice(a, p.blk[n - 1], p.at[n - 1], with);
        i--;
        changed = 1;
    }
    return changed;
}

/* -- broadcasting instead of full() ------------------------------------------- */

/* The shape class of elementwise expression e in the reverse, `t` counted
 * as a number: from variables holding one value all along (never changed,
 * or assigned once and never stored into), numbers, constant slices of
 * them, and elementwise operations; NULL when unknown. */
static const char *expr_class(Ad *a, const Node *e, const char *t)
{
    char buf[512];
    switch (e->kind) {
    case N_NUM: return "num";
    case N_NAME: {
        if (strcmp(e->str, t) == 0) return "num";
        int ndef = ndefs(a, e->str, 0, NULL);
        /* one value all along; the reverse's own names get a class of
         * their own, which matches no other */
        return ndef > 1 || stored(a, e->str) ? NULL : shape_class(a, e->str, a->npos, 0);
    }
    case N_INDEX: {
        if (e->n != 2 || e->k[1]->kind != N_SLICE || e->k[1]->k[2] || e->k[0]->kind != N_NAME) return NULL;
        const Node *lo = e->k[1]->k[0], *hi = e->k[1]->k[1];
        if ((lo && lo->kind != N_NUM) || (hi && hi->kind != N_NUM)) return NULL;
        double s0 = lo ? lo->num : 0, e0 = hi ? hi->num : 0;
        const char *b = expr_class(a, e->k[0], t);
        if (!b || s0 < 0 || e0 > 0 || s0 != (int)s0 || e0 != (int)e0) return NULL;
        snprintf(buf, sizeof buf, "%s[%d]", b, (int)(s0 - e0));
        return arena_strdup(a->ar, buf, strlen(buf));
    }
    case N_BINOP: case N_UNOP: case N_CALL: {
        int first = 0;
        if (e->kind == N_BINOP && e->op > BIN_POW && e->op != BIN_MAXIMUM && e->op != BIN_MINIMUM) return NULL;
        if (e->kind == N_CALL) {
            int b = e->k[0]->kind == N_NAME ? builtin_find(e->k[0]->str) : -1;
            if (b < 0 || (builtins[b].unop < 0 && builtins[b].binop < 0)) return NULL;
            first = 1;
        }
        const char *c = "num";
        for (int i = first; i < e->n; i++) {
            const char *ci = expr_class(a, e->k[i], t);
            if (!ci) return NULL;
            if (strcmp(ci, "num") == 0) continue;
            if (strcmp(c, "num") != 0 && strcmp(c, ci) != 0) return NULL;
            c = ci;
        }
        return c;
    }
    default: return NULL;
    }
}

/* Does every statement in b mentioning t read it in its value only, as an
 * elementwise expression of shape class cls? */
static int scalar_ok(Ad *a, const Node *b, const char *t, const char *cls, const Node *def)
{
    for (int i = 0; b && i < b->n; i++) {
        const Node *s = b->k[i];
        if (!s || s == def || !ast_mentions(s, t)) continue;
        if (s->kind == N_IF) {
            if (ast_mentions(s->k[0], t) || !scalar_ok(a, s->k[1], t, cls, def)) return 0;
            if (s->k[2]) {
                Node wrap = {.kind = N_BLOCK, .n = 1, .k = (Node **)&s->k[2]};
                if (!scalar_ok(a, s->k[2]->kind == N_IF ? &wrap : s->k[2], t, cls, def)) return 0;
            }
            continue;
        }
        if (s->kind == N_BLOCK) {
            if (!scalar_ok(a, s, t, cls, def)) return 0;
            continue;
        }
        if (s->kind != N_ASSIGN || ast_mentions(s->k[0], t)) return 0;
        const char *c = expr_class(a, s->k[1], t);
        if (!c || strcmp(c, cls) != 0) return 0;
    }
    return 1;
}

/* `t = full(shape, dy)` (the adjoint of sum) only ever combined,
 * elementwise, with values of that shape: t = dy, which broadcasts to the
 * same values, so no array of the full shape is built. */
static void scalar_fulls(Ad *a, Node *b, Node *fnbody)
{
    for (int i = 0; b && i < b->n; i++) {
        Node *s = b->k[i];
        if (!s) continue;
        if (s->kind == N_IF) {
            scalar_fulls(a, s->k[1], fnbody);
            continue;
        }
        if (s->kind != N_ASSIGN || s->k[0]->kind != N_NAME || s->k[1]->kind != N_CALL || s->k[1]->n != 3 ||
            strcmp(s->k[1]->k[0]->str, "full") != 0 || s->k[1]->k[1]->kind != N_NAME)
            continue;
        int k = -1;
        for (int j = 0; j < a->shapes.n; j++)
            if (strcmp(a->shapes.s[j], s->k[1]->k[1]->str) == 0) k = j;
        if (k < 0 || strcmp(a->shapecls[k], "num") == 0) continue;
        const char *t = s->k[0]->str;
        /* every use after it in this block: t is assigned once */
        if (mentions_count(fnbody, t) != mentions_count(b, t) || !scalar_ok(a, b, t, a->shapecls[k], s))
            continue;
        s->k[1] = s->k[1]->k[2];
    }
}

static void forward_adjoints(Ad *a, Node *fnbody)
{
    for (int round = 0, changed = 1; round < 64 && changed; round++) {
        Tally t;
        changed = !tally_init(&t, fnbody) && forward_block(a, fnbody, &t);
        tally_free(&t);
    }
}

/* -- functions ------------------------------------------------------------ */

static void reset(Ad *a)
{
    for (int i = 0; i < a->nreg; i++) free(a->reg[i].locals.s);
    free(a->reg);
    free(a->site);
    free(a->varied.s);
    free(a->needed.s);
    free(a->remat.s);
    memset(&a->remat, 0, sizeof a->remat);
    free(a->shapes.s);
    free(a->shapecls);
    memset(&a->shapes, 0, sizeof a->shapes);
    a->shapecls = NULL;
    free(a->shaped.s);
    free(a->vars.s);
    free(a->pos);
    free_defs(a);
    free(a->read);
    free(a->pre);
    for (int i = 0; i < a->nck; i++) {
        free(a->ck[i].v.s);
        free(a->ck[i].u.s);
        free(a->ck[i].dep);
    }
    free(a->ck);
    a->ck = NULL;
    a->nck = a->ckcap = 0;
    a->pos = NULL;
    a->read = NULL;
    a->pre = NULL;
    a->npos = a->poscap = a->nread = a->readcap = a->npre = a->precap = 0;
    a->reg = NULL;
    a->site = NULL;
    a->nreg = a->regcap = a->nsite = a->sitecap = 0;
    memset(&a->varied, 0, sizeof a->varied);
    memset(&a->needed, 0, sizeof a->needed);
    memset(&a->shaped, 0, sizeof a->shaped);
    memset(&a->vars, 0, sizeof a->vars);
    a->returns = a->loops = a->jumps = 0;
    a->brk = a->cnt = NULL;
}

/* name'fwd@mask / name'rev@mask: the global holding a pair's function */
static const char *pair_key(Ad *a, const Node *fn, const char *which, unsigned mask)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s'%s@%p#%x", fn->str, which, (const void *)fn, mask);
    return arena_strdup(a->ar, buf, strlen(buf));
}

/* A generated function's body, simplified, with `var = 0` first for every
 * variable it assigns (so all live at function level) — the parameters'
 * adjoints included in the reverse, where they are returned even when no
 * contribution reached them. */
static void collect_vars(Names *vs, const Node *e);

static Node *finish(Ad *a, Node *body, const Node *fn, const Node *self, int rev)
{
    if (rev) forward_adjoints(a, body);
    simplify(a, body);
    if (rev) scalar_fulls(a, body, body);
    release(a, body);
    Names vs = {0};
    collect_vars(&vs, body);
    int np = fn->n - 1;
    if (rev)                            /* the reverse returns them all */
        for (int p = 0; p < np; p++) names_add(&vs, adj(a, fn->k[p]->str));
    Node *out = block(a);
    for (int i = 0; i < vs.n; i++) {
        int param = 0;
        for (int p = 0; p < self->n; p++) param |= strcmp(self->k[p]->str, vs.s[i]) == 0;
        if (!param) add(a, out, set(a, vs.s[i], num(a, 0)));
    }
    free(vs.s);
    for (int i = 0; i < body->n; i++) add(a, out, body->k[i]);
    return out;
}

static void collect_vars(Names *vs, const Node *e)
{
    if (!e) return;
    if ((e->kind == N_ASSIGN) && e->k[0]->kind == N_NAME) names_add(vs, e->k[0]->str);
    if (e->kind == N_MASSIGN)
        for (int i = 0; i + 1 < e->n; i++) names_add(vs, e->k[i]->str);
    if (takes(e))                        /* taking an adjoint zeroes it */
        for (int i = 1; i < e->n; i++) names_add(vs, e->k[i]->str);
    if (e->kind == N_FOR && e->str) names_add(vs, e->str);
    for (int i = 0; i < e->n; i++) collect_vars(vs, e->k[i]);
}

static int build_pair(Ad *a, const Node *fn, unsigned mask);

/* The pair of fn for the parameters in mask, built once per VM. */
static const char *pair_name(Ad *a, const Node *fn, const char *which)
{
    unsigned all = (1u << (fn->n - 1)) - 1;
    const char *key = pair_key(a, fn, which, all);
    if (vm_findglobal(a->vm, key) < 0) build_pair(a, fn, all);
    return key;
}

static Proto *compile_fn(Ad *a, Node *f, const char *global)
{
    if (a->vm->adsrc) ast_unparse(a->vm->adsrc, f, 0);
    Proto *p = compile_function(a->vm, f, a->src, a->errs);
    if (!p) {
        a->nerrs++;
        return NULL;
    }
    int g = vm_global(a->vm, global);
    if (g < 0) {
        a->nerrs++;
        return NULL;
    }
    a->vm->g[g].t = T_FN;
    a->vm->g[g].u.fn = p;
    return p;
}

/* The cache statements of body (%push(e), or x = %pop()) when each is a
 * statement of the body itself, so runs once; -1 when some are nested. */
static int flat_cache(const Node *body, const char *op)
{
    int top = 0;
    for (int i = 0; i < body->n; i++) {
        const Node *s = body->k[i];
        top += s->kind == N_EXPR ? is_call(s->k[0], op) : s->kind == N_ASSIGN && s->op < 0 && is_call(s->k[1], op);
    }
    return top == count_calls(body, op) ? top : -1;
}

static int is_zero_set(const Node *s)
{
    return s->kind == N_ASSIGN && s->op < 0 && s->k[0]->kind == N_NAME && s->k[1]->kind == N_NUM &&
           s->k[1]->num == 0;
}

static int assigns_plain(const Node *t, const char *y)
{
    return t->kind == N_ASSIGN && t->op < 0 && t->k[0]->kind == N_NAME && strcmp(t->k[0]->str, y) == 0;
}

/* The next statement of b from `from` on that names y: *at, and 2 if it
 * reads y, 1 if it only assigns it; 0 if none does. */
static int next_use(const Node *b, int from, const char *y, int *at)
{
    for (int j = from; j < b->n; j++) {
        const Node *t = b->k[j];
        if (assigns_plain(t, y)) {
            *at = j;
            return mentions_count(t->k[1], y) ? 2 : 1;
        }
        if (mentions_count(t, y)) {
            *at = j;
            return 2;
        }
    }
    return 0;
}

/* Whether t stores into an element of y (anywhere inside). */
static int stores_into(const Node *t, const char *y)
{
    if (!t) return 0;
    if (t->kind == N_ASSIGN && t->k[0]->kind == N_INDEX) {
        const Node *r = t->k[0];
        while (r->kind == N_INDEX) r = r->k[0];
        if (r->kind == N_NAME && !strcmp(r->str, y)) return 1;
    }
    for (int i = 0; i < t->n; i++)
        if (stores_into(t->k[i], y)) return 1;
    return 0;
}

/* Whether statement t may assign y or store into it. */
static int collects(const Node *t, const char *y)
{
    if (stores_into(t, y)) return 1;
    Names vs = {0};
    collect_vars(&vs, t);
    int has = names_has(&vs, y);
    free(vs.s);
    return has;
}
/* Tidy the turn's statements b, whose names other than live's are read
 * nowhere after b: drop `y = 0` and pure values y = e that nothing reads
 * (an error one could raise, the forward sweep raised first),
 * and a copy back y = z after z = y with neither assigned between; a
 * first accumulation into a zero becomes an assignment (y = y + e: y = e;
 * %addtake(y, z): y = %take(z)); A = %take(B) then C = %take(A), A dead
 * after: C = %take(B). Whether it dropped any. */
static int tidy(Ad *a, Node *b, const Names *live)
{
    int n0 = b->n;
    if (b->n > 1000) return 0;      /* quadratic: a step function is short */
    for (int i = 0; i < b->n; i++) {
        Node *s = b->k[i];
        if (s->kind != N_ASSIGN || s->op >= 0 || s->k[0]->kind != N_NAME) continue;
        const char *y = s->k[0]->str;
        int zero = is_zero_set(s), copy = s->k[1]->kind == N_NAME, j = 0, j2 = 0;
        int out = names_has(live, y), use = next_use(b, i + 1, y, &j);
        if (zero && use == 2) {
            Node *t = b->k[j];
            if (assigns_plain(t, y) && t->k[1]->kind == N_BINOP && t->k[1]->op == BIN_ADD &&
                t->k[1]->k[0]->kind == N_NAME && !strcmp(t->k[1]->k[0]->str, y) && !mentions_count(t->k[1]->k[1], y)) {
                t->k[1] = t->k[1]->k[1];
                use = 1;
            } else if (t->kind == N_EXPR && is_call(t->k[0], "%addtake") && t->k[0]->n == 3 &&
                       t->k[0]->k[1]->kind == N_NAME && !strcmp(t->k[0]->k[1]->str, y) &&
                       !mentions_count(t->k[0]->k[2], y)) {
                b->k[j] = set(a, y, call1(a, "%take", t->k[0]->k[2]));
                use = 1;
            }
        }
        int back = 0;                   /* y = z after z = y */
        for (int p = i - 1; copy && p >= 0 && !back; p--) {
            const Node *t = b->k[p];
            if (assigns_plain(t, s->k[1]->str) && t->k[1]->kind == N_NAME && !strcmp(t->k[1]->str, y)) back = 1;
            else if (collects(t, y) || collects(t, s->k[1]->str)) break;
        }
        if (back || (pure(a, s->k[1]) && (use == 1 || (use == 0 && (zero || !out))))) {
            drop(b, i--);
            continue;
        }
        /* A = %take(B); .. C = %take(A): B unnamed in between, A dead after */
        if (use == 2 && is_call(s->k[1], "%take") && s->k[1]->n == 2 && s->k[1]->k[1]->kind == N_NAME && !out) {
            Node *t = b->k[j];
            const char *bn = s->k[1]->k[1]->str;
            int clean = t->kind == N_ASSIGN && t->op < 0 && t->k[0]->kind == N_NAME && is_call(t->k[1], "%take") &&
                        t->k[1]->n == 2 && t->k[1]->k[1]->kind == N_NAME && !strcmp(t->k[1]->k[1]->str, y);
            for (int k = i + 1; k < j && clean; k++) clean = !mentions_count(b->k[k], bn);
            if (clean && next_use(b, j + 1, y, &j2) != 2) {
                t->k[1]->k[1] = name(a, bn);
                drop(b, i--);
            }
        }
    }
    return b->n < n0;
}

static const char *dollar(Ad *a, const char *what, int j)
{
    char buf[32];
    snprintf(buf, sizeof buf, "$%s%d", what, j);
    return arena_strdup(a->ar, buf, strlen(buf));
}

/* Whether rev takes its seed, the tuple of the state's adjoints, as
 *     d'$ret = $seed; $dy = %take(d'$ret); if %nz($dy) { d'v = d'v + $dy[j] .. }
 * so that the turn can add each $d_j to d'v straight away. */
static int direct_seed(const Node *rb)
{
    for (int i = 0; i + 2 < rb->n; i++) {
        const Node *s = rb->k[i], *t = rb->k[i + 1], *u = rb->k[i + 2];
        if (!(s->kind == N_ASSIGN && s->k[1]->kind == N_NAME && !strcmp(s->k[1]->str, "$seed"))) continue;
        if (!(t->kind == N_ASSIGN && t->op < 0 && t->k[0]->kind == N_NAME && is_call(t->k[1], "%take") &&
              t->k[1]->k[1]->kind == N_NAME && !strcmp(t->k[1]->k[1]->str, s->k[0]->str)))
            return 0;
        const char *dy = t->k[0]->str;
        if (u->kind != N_IF || u->n < 2 || (u->n > 2 && u->k[2]) || !is_call(u->k[0], "%nz") ||
            u->k[0]->k[1]->kind != N_NAME || strcmp(u->k[0]->k[1]->str, dy) != 0)
            return 0;
        const Node *in = u->k[1];
        for (int j = 0; j < in->n; j++) {
            const Node *e = in->k[j], *v = e->kind == N_ASSIGN && e->op < 0 ? e->k[1] : NULL;
            if (!v || e->k[0]->kind != N_NAME || v->kind != N_BINOP || v->op != BIN_ADD ||
                v->k[0]->kind != N_NAME || strcmp(v->k[0]->str, e->k[0]->str) != 0 || v->k[1]->kind != N_INDEX ||
                v->k[1]->n != 2 || v->k[1]->k[0]->kind != N_NAME || strcmp(v->k[1]->k[0]->str, dy) != 0 ||
                v->k[1]->k[1]->kind != N_NUM)
                return 0;
        }
        /* $dy is read nowhere else */
        for (int k = i + 3; k < rb->n; k++)
            if (mentions_count(rb->k[k], dy)) return 0;
        return 1;
    }
    return 0;
}

/* Whether e names A only in accumulations, x without A: A = A + x,
 * A[items] += x, and A = %mat(A, x) (A made an array of x's shape). */
static int only_accumulates(const Node *e, const char *A)
{
    if (!e) return 1;
    if (e->kind == N_NAME) return strcmp(e->str, A) != 0;
    if (assigns_plain(e, A)) {
        const Node *v = e->k[1];
        if (is_call(v, "%mat") && v->n == 3 && v->k[1]->kind == N_NAME && !strcmp(v->k[1]->str, A))
            return !mentions_count(v->k[2], A);
        return v->kind == N_BINOP && v->op == BIN_ADD && v->k[0]->kind == N_NAME && !strcmp(v->k[0]->str, A) &&
               !mentions_count(v->k[1], A);
    }
    if (is_call(e, "%addtake") && e->n == 3 && e->k[1]->kind == N_NAME && !strcmp(e->k[1]->str, A))
        return !mentions_count(e->k[2], A);
    if (e->kind == N_ASSIGN && e->op == BIN_ADD && e->k[0]->kind == N_INDEX && e->k[0]->k[0]->kind == N_NAME &&
        !strcmp(e->k[0]->k[0]->str, A)) {
        for (int i = 1; i < e->k[0]->n; i++)
            if (mentions_count(e->k[0]->k[i], A)) return 0;
        return !mentions_count(e->k[1], A);
    }
    for (int i = 0; i < e->n; i++)
        if (!only_accumulates(e->k[i], A)) return 0;
    return 1;
}

/* The read value m's adjoint in rev's body rb (its result's item), when
 * rb only sets it to 0 first and then adds to it (itself, or through a
 * checkpointed loop's runner): the turn adds straight
 * into $du_m instead, in the order store-all adds (its gradient is then
 * the same bit for bit). NULL otherwise. */
static int adds_only(const Node *b, int from, int to, const char *A, int top);

/* An if, for or while: its blocks add only to A, the rest does not name
 * it. */
static int nested_adds_only(const Node *s, const char *A)
{
    for (int j = 0; j < s->n; j++) {
        const Node *k = s->k[j];
        if (!k) continue;
        if (k->kind == N_BLOCK ? !adds_only(k, 0, k->n, A, 0)
                               : k->kind == N_IF ? !nested_adds_only(k, A) : mentions_count(k, A) > 0)
            return 0;
    }
    return 1;
}

/* Whether the statements b[from .. to) name A only to add to it: as
 * only_accumulates, through blocks, and through a checkpointed loop inside
 * that takes A and hands it back with its own contributions added
 * (g = %ckpt_rev(.., (.., %take(A), ..)); .. A = g[k]); a zero setting of
 * A only at the top (top) before any addition. */
static int adds_only(const Node *b, int from, int to, const char *A, int top)
{
    const char *g = NULL;
    int added = 0;
    for (int i = from; i < to; i++) {
        const Node *s = b->k[i];
        if (is_zero_set(s) && !strcmp(s->k[0]->str, A)) {
            if (!top || added) return 0;
            continue;
        }
        const Node *v = s->kind == N_ASSIGN && s->op < 0 && s->k[0]->kind == N_NAME ? s->k[1] : NULL;
        if (v && is_call(v, "%ckpt_rev") && mentions_count(v, A)) {
            const Node *du = v->k[v->n - 1];
            int ok = is_call(du, "%tuple");
            for (int j = 1; ok && j < v->n - 1; j++) ok = !mentions_count(v->k[j], A);
            for (int j = 1; ok && j < du->n; j++)
                ok = !mentions_count(du->k[j], A) ||
                     (is_call(du->k[j], "%take") && du->k[j]->k[1]->kind == N_NAME && !strcmp(du->k[j]->k[1]->str, A));
            if (!ok) return 0;
            g = s->k[0]->str;
            added = 1;
            continue;
        }
        if (assigns_plain(s, A) && g && s->k[1]->kind == N_INDEX && s->k[1]->k[0]->kind == N_NAME &&
            !strcmp(s->k[1]->k[0]->str, g))
            continue;
        if (s->kind == N_BLOCK) {
            if (!adds_only(s, 0, s->n, A, 0)) return 0;
        } else if (s->kind == N_IF || s->kind == N_FOR || s->kind == N_WHILE) {
            if (!nested_adds_only(s, A)) return 0;
        } else if (!only_accumulates(s, A)) {
            return 0;
        }
        added |= mentions_count(s, A) > 0;
    }
    return 1;
}

static const char *direct_du(const Node *rb, int nv, int m)
{
    const Node *r = rb->n ? rb->k[rb->n - 1] : NULL;
    if (!r || r->kind != N_RETURN || 1 + nv + m >= r->n || r->k[1 + nv + m]->kind != N_NAME) return NULL;
    const char *A = r->k[1 + nv + m]->str;
    return adds_only(rb, 0, rb->n - 1, A, 1) ? A : NULL;
}

/* Step i reversed into b, with (turn) or without (tail: its cache is on
 * the tape) running it with its cache first: fwd's body without its
 * result, then rev's seeded with $d.., whose result becomes $d.. again and
 * adds to $du... When every push and pop is a statement of those bodies,
 * a turn keeps the cache in locals instead of on the tape: the k-th pop
 * takes the k-th push from the end. */
static void turn_block(Ad *a, Node *b, int nv, int nu, const Node *fwd, const Node *rev, int turn)
{
    int np = fwd->n - 1;
    const Node *fb = fwd->k[np], *rb = rev->k[1];
    int npush = flat_cache(fb, "%push"), local = turn && npush >= 0 && npush == flat_cache(rb, "%pop");
    /* the same for the records of broadcasting sites: the k-th %site's
     * record, made at once (%siterec), goes straight to the name the k-th
     * %unsite from the end reads it into */
    int nsite = flat_cache(fb, "%site"), sites = turn && nsite > 0 && nsite == flat_cache(rb, "%unsite");
    Names un = {0};
    for (int i = 0; sites && i < rb->n; i++)
        if (rb->k[i]->kind == N_ASSIGN && is_call(rb->k[i]->k[1], "%unsite")) names_add(&un, rb->k[i]->k[0]->str);
    sites = sites && un.n == nsite;     /* each read into a name of its own */
    Node *seed = nv > 1 ? add(a, node(a, N_CALL), name(a, "%tuple")) : NULL;
    for (int j = 0; j < nv; j++) seed = seed ? add(a, seed, name(a, dollar(a, "d", j))) : name(a, dollar(a, "d", j));
    int k = 0, ks = nsite;
    for (int i = 0; turn && i < fb->n; i++) {
        const Node *s = fb->k[i];
        if (s->kind == N_RETURN || (s->kind == N_ASSIGN && s->k[0]->kind == N_NAME && !strcmp(s->k[0]->str, "$ret")))
            continue;
        if (local && s->kind == N_EXPR && is_call(s->k[0], "%push")) {
            add(a, b, set(a, dollar(a, "c", k++), copy(a, s->k[0]->k[1])));
        } else if (sites && s->kind == N_EXPR && is_call(s->k[0], "%site")) {
            Node *r = copy(a, s->k[0]);
            r->k[0] = name(a, "%siterec");
            add(a, b, set(a, un.s[--ks], r));
        } else {
            add(a, b, copy(a, s));
        }
    }
    const char *du[64] = {0};
    for (int m = 0; m < nu && m < 64; m++) du[m] = direct_du(rb, nv, m);
    int direct = nv > 1 && direct_seed(rb);
    if (!direct) add(a, b, set(a, "$seed", seed));
    for (int i = 0; i < rb->n; i++) {
        const Node *s = rb->k[i];
        int skip = 0;
        for (int m = 0; m < nu && m < 64; m++)
            skip |= du[m] && is_zero_set(s) && !strcmp(s->k[0]->str, du[m]);
        if (skip) continue;
        if (direct && s->kind == N_ASSIGN && s->k[1]->kind == N_NAME && !strcmp(s->k[1]->str, "$seed")) {
            const Node *in = rb->k[i + 2]->k[1];     /* d'v = d'v + $dy[j] */
            for (int j = 0; j < in->n; j++) {
                Node *e = copy(a, in->k[j]);
                e->k[1]->k[1] = name(a, dollar(a, "d", (int)in->k[j]->k[1]->k[1]->k[1]->num));
                add(a, b, e);
            }
            i += 2;
        } else if (local && s->kind == N_ASSIGN && is_call(s->k[1], "%pop")) {
            add(a, b, assign(a, copy(a, s->k[0]), name(a, dollar(a, "c", --k))));
        } else if (sites && s->kind == N_ASSIGN && s->k[0]->kind == N_NAME && names_has(&un, s->k[0]->str) &&
                   (is_call(s->k[1], "%unsite") || is_zero_set(s))) {
            continue;                       /* the record is there already */
        } else if (s->kind == N_RETURN) {        /* d'i, d'v.., d'u.. */
            for (int j = 1; j < s->n; j++) {
                int m = j - 1 - nv;
                const char *d = dollar(a, j <= nv ? "d" : "du", j <= nv ? j - 1 : m);
                if (j > nv && m < 64 && du[m]) continue;   /* added already */
                add(a, b, set(a, d, j <= nv ? copy(a, s->k[j]) : binop(a, BIN_ADD, name(a, d), copy(a, s->k[j]))));
            }
        } else {
            Node *e = copy(a, s);
            for (int m = 0; m < nu && m < 64; m++)
                if (du[m]) rename_all(a, e, du[m], name(a, dollar(a, "du", m)));
            add(a, b, e);
        }
    }
    free(un.s);
}

/* Turn statements A = d .. d = A, d unnamed in between and A not before:
 * the adjoint A accumulates in d itself. */
static void coalesce(Ad *a, Node *b, const char *d)
{
    int first = -1, last = -1;
    for (int i = 0; i < b->n; i++)
        if (mentions_count(b->k[i], d) || assigns_plain(b->k[i], d)) {
            if (first < 0) first = i;
            last = i;
        }
    if (first < 0 || last <= first) return;
    const Node *s = b->k[first], *t = b->k[last];
    if (s->kind != N_ASSIGN || s->op >= 0 || s->k[0]->kind != N_NAME || s->k[1]->kind != N_NAME ||
        strcmp(s->k[1]->str, d) != 0 || !assigns_plain(t, d) || t->k[1]->kind != N_NAME ||
        strcmp(t->k[1]->str, s->k[0]->str) != 0)
        return;
    const char *adj = s->k[0]->str;
    for (int i = 0; i < b->n; i++)
        if ((i < first || i > last) && (mentions_count(b->k[i], adj) || assigns_plain(b->k[i], adj))) return;
    drop(b, last);
    drop(b, first);
    Node *dn = name(a, d);
    for (int i = first; i < last - 1; i++) {
        if (assigns_plain(b->k[i], adj)) b->k[i]->k[0] = copy(a, dn);
        rename_all(a, b->k[i], adj, dn);
    }
}

/* The read values' adjoints $du.. that the turn b adds outer products to
 * and reads no other way: as store-all's loop (defer_outer), it pushes
 * them into block accumulators $oacc0.. instead, one per adjoint, in the
 * order of m, which the runner hands from turn to turn (the tail's, then
 * the back function's) so that the blocks, and so the sums, are
 * store-all's. With no < 0 it decides which m and writes them into om;
 * else it defers the no adjoints om names. Returns how many. */
static int turn_outer(Ad *a, Node *b, int nu, int *om, int no)
{
    int k = 0;
    for (int m = 0; m < nu; m++) {
        const char *d = dollar(a, "du", m);
        int defer = no >= 0 ? k < no && om[k] == m : count_outer(a, b, d, NULL) && !reads_beyond_acc(b, d);
        if (!defer) continue;
        if (no < 0) om[k] = m;
        count_outer(a, b, d, dollar(a, "oacc", k));
        k++;
    }
    return k;
}

/* fn step'tail($d.., $du.., $oacc..): the reverse of the step whose cache
 * is on the tape (the loop's last, which the forward sweep ran taped),
 * adding to the read values' adjoints $du.. as a turn does (turn_outer:
 * the no accumulators for om's); returns ($d.., $du.., $oacc..). */
static void tail_fn(Ad *a, const Ck *ck, const Node *fwd, const Node *rev, int *om, int no)
{
    int nv = ck->v.n, nu = ck->u.n;
    Node *fn = node(a, N_FN), *b = block(a), *r = node(a, N_RETURN);
    char buf[320];
    snprintf(buf, sizeof buf, "%s'tail", ck->step);
    const char *key = arena_strdup(a->ar, buf, strlen(buf));
    if (fn) fn->str = (char *)key;
    for (int j = 0; j < nv; j++) add(a, fn, name(a, dollar(a, "d", j)));
    for (int m = 0; m < nu; m++) add(a, fn, name(a, dollar(a, "du", m)));
    for (int k = 0; k < no; k++) add(a, fn, name(a, dollar(a, "oacc", k)));
    turn_block(a, b, nv, nu, fwd, rev, 0);
    turn_outer(a, b, nu, om, no);
    for (int j = 0; j < nv; j++) add(a, r, name(a, dollar(a, "d", j)));
    for (int m = 0; m < nu; m++) add(a, r, name(a, dollar(a, "du", m)));
    for (int k = 0; k < no; k++) add(a, r, name(a, dollar(a, "oacc", k)));
    add(a, b, r);
    add(a, fn, b);
    if (!a->nerrs) compile_fn(a, fn, key);
}

/* The call sin(n), n a name, that evaluating e always makes (not under
 * and/or), if any. */
static Node *sin_of_name(Node *e)
{
    if (is_call(e, "sin") && e->n == 2 && e->k[1]->kind == N_NAME) return e;
    if (!e || (e->kind != N_BINOP && e->kind != N_UNOP && e->kind != N_CALL)) return NULL;
    for (int i = e->kind == N_CALL; i < e->n; i++) {
        Node *f = sin_of_name(e->k[i]);
        if (f) return f;
    }
    return NULL;
}

/* Replace cos(n) in e by the name c; how many. */
static int cos_to(Ad *a, Node *e, const char *n, const char *c)
{
    int k = 0;
    for (int i = 0; e && i < e->n; i++) {
        Node *f = e->k[i];
        if (is_call(f, "cos") && f->n == 2 && f->k[1]->kind == N_NAME && strcmp(f->k[1]->str, n) == 0) {
            e->k[i] = name(a, c);
            k++;
        } else {
            k += cos_to(a, f, n, c);
        }
    }
    return k;
}

static int assigns_name(const Node *s, const char *n)
{
    Names set = {0}, acc = {0};
    assigned_names(s, &set, &acc);
    int r = names_has(&set, n) || names_has(&acc, n);
    free(set.s);
    free(acc.s);
    return r;
}

/* A turn runs a step and at once its reverse: sin(x) in the one, its
 * derivative cos(x) in the other. While x (a parameter of fn) is not
 * assigned in between, one %sincos(x, c) gives both, the cosine into c
 * (one libm call for two, the same bits); c's are set to 0 in init. */
static void pair_sincos(Ad *a, Node *b, const Node *fn, Node *init)
{
    if (vm_findglobal(a->vm, "sin") >= 0 || vm_findglobal(a->vm, "cos") >= 0) return;   /* not the builtins */
    for (int i = 0; i < b->n; i++) {
        Node *s = b->k[i], *f = s && s->kind == N_ASSIGN ? sin_of_name(s->k[1]) : NULL;
        if (!f) continue;
        const char *x = f->k[1]->str, *c = fresh(a, "$cos", NULL);
        int param = 0, k = 0;
        for (int p = 0; p < fn->n; p++) param |= fn->k[p]->kind == N_NAME && strcmp(fn->k[p]->str, x) == 0;
        if (!param || assigns_name(s, x)) continue;
        for (int j = i + 1; j < b->n && !assigns_name(b->k[j], x); j++) k += cos_to(a, b->k[j], x, c);
        if (!k) continue;
        f->k[0] = name(a, "%sincos");
        add(a, f, name(a, c));
        add(a, init, set(a, c, num(a, 0)));
    }
}

/* fn step'back($run, $k, $adv, $lo, $hi, v.., u.., $d.., $du.., $oacc..): the
 * reverse of a checkpointed loop after its last step, in one call from the
 * runner: OP_CKNEXT (%ck_next) runs the schedule's stores and restores on
 * the state v.. and hands back each advance ($adv = 1: steps $lo .. $hi-1,
 * a copy of the advance function's loop) and each turn ($adv = 0: step
 * $lo, see turn_block) until the end ($k = 0); then adds the sums of the
 * block accumulators (turn_outer) the tail began. Returns ($d.., $du..):
 * the state's adjoints before the loop and the read values'. */
static void back_fn(Ad *a, const Ck *ck, const Node *fwd, const Node *rev)
{
    int np = fwd->n - 1, nv = ck->v.n, nu = ck->u.n;
    const Node *adv = vm_fnast(a->vm, ck->adv);
    if (!adv || np != 1 + nv + nu) {
        aderr(a, a->at, "internal error: a checkpointed loop's functions");
        return;
    }
    Node *fn = node(a, N_FN), *b = block(a), *next = add(a, node(a, N_CALL), name(a, "%ck_next"));
    char buf[320];
    snprintf(buf, sizeof buf, "%s'back", ck->step);
    const char *key = arena_strdup(a->ar, buf, strlen(buf)), *head[5] = {"$run", "$k", "$adv", "$lo", "$hi"};
    if (fn) fn->str = (char *)key;
    for (int j = 0; j < 5; j++) {
        add(a, fn, name(a, head[j]));
        add(a, next, name(a, head[j]));
    }
    for (int p = 1; p < np; p++) add(a, fn, copy(a, fwd->k[p]));
    for (int j = 0; j < nv; j++) add(a, next, copy(a, fwd->k[1 + j]));
    for (int j = 0; j < nv; j++) add(a, fn, name(a, dollar(a, "d", j)));
    for (int m = 0; m < nu; m++) add(a, fn, name(a, dollar(a, "du", m)));
    /* advance: the advance function's loop over $lo..$hi */
    Node *steps = copy(a, adv->k[adv->n - 1]->k[0]);
    if (steps) {
        steps->k[0] = name(a, "$lo");
        steps->k[1] = name(a, "$hi");
    }
    Node *turn = block(a);
    add(a, turn, set(a, fwd->k[0]->str, name(a, "$lo")));
    turn_block(a, turn, nv, nu, fwd, rev, 1);
    int *om = malloc((size_t)(nu + 1) * sizeof *om);
    if (!om) {
        aderr(a, a->at, "out of memory");
        return;
    }
    int no = turn_outer(a, turn, nu, om, -1);
    for (int k = 0; k < no; k++) add(a, fn, name(a, dollar(a, "oacc", k)));
    Names live = {0};           /* after a turn: its adjoints (the state is
                                   restored before it is read again) */
    for (int p = 5 + nv; p < fn->n; p++) names_add(&live, fn->k[p]->str);
    for (int pass = 0; pass < 8 && tidy(a, turn, &live); pass++) {
    }                           /* a drop may free another */
    free(live.s);
    for (int j = 0; j < nv; j++) coalesce(a, turn, dollar(a, "d", j));
    pair_sincos(a, turn, fn, b);
    /* the turn's names are the function's, not the block's: no clearing
     * them at the end of every turn; but not those the advance reads (a
     * global the turn assigns a cached copy of) */
    Names vs = {0};
    collect_vars(&vs, turn);
    for (int i = 0; i < vs.n; i++) {
        int keep = mentions_count(steps, vs.s[i]) > 0;
        for (int p = 0; p < fn->n; p++) keep |= strcmp(fn->k[p]->str, vs.s[i]) == 0;
        if (!keep) add(a, b, set(a, vs.s[i], num(a, 0)));
    }
    free(vs.s);
    Node *act = add(a, add(a, add(a, node(a, N_IF), call1(a, "%nz", name(a, "$adv"))), add(a, block(a), steps)), turn);
    Node *loop = block(a);
    add(a, loop, act);
    add(a, loop, add(a, node(a, N_EXPR), next));
    add(a, b, add(a, node(a, N_EXPR), copy(a, next)));
    add(a, b, add(a, add(a, add(a, node(a, N_WHILE), name(a, "$k")), loop), NULL));
    for (int k = 0; k < no; k++) {       /* after the loop, as store-all */
        const char *du = dollar(a, "du", om[k]);
        add(a, b, set(a, du, binop(a, BIN_ADD, name(a, du), call1(a, "%outer_sum", name(a, dollar(a, "oacc", k))))));
    }
    Node *r = node(a, N_RETURN);
    for (int j = 0; j < nv; j++) add(a, r, name(a, dollar(a, "d", j)));
    for (int m = 0; m < nu; m++) add(a, r, name(a, dollar(a, "du", m)));
    add(a, b, r);
    add(a, fn, b);
    if (!a->nerrs) compile_fn(a, fn, key);
    if (!a->nerrs) tail_fn(a, ck, fwd, rev, om, no);
    free(om);
}

/* The checkpointed loop whose step fn is, if any. */
static const Ck *ck_of_step(const Ad *a, const char *fn)
{
    for (int i = 0; i < a->nck; i++)
        if (strcmp(a->ck[i].step, fn) == 0) return &a->ck[i];
    return NULL;
}

static int has_loop(const Node *e)
{
    if (!e) return 0;
    if (e->kind == N_FOR || e->kind == N_WHILE) return 1;
    for (int i = 0; i < e->n; i++)
        if (has_loop(e->k[i])) return 1;
    return 0;
}

/* Build fn'fwd and fn'rev for the parameters in mask. */
static int build_pair(Ad *a, const Node *fn, unsigned mask)
{
    const char *kf = pair_key(a, fn, "fwd", mask), *kr = pair_key(a, fn, "rev", mask);
    /* register both names first: recursion refers to them */
    if (vm_global(a->vm, kf) < 0 || vm_global(a->vm, kr) < 0) return -1;
    Ad sub = *a;                 /* a fresh per-function state */
    /* positions in fn's pair are in the chunk that defined fn, which is
     * not the grad's when they were entered apart (a REPL, an embedding) */
    int gi = vm_findglobal(a->vm, fn->str);
    if (gi >= 0 && a->vm->g[gi].t == T_FN && a->vm->g[gi].u.fn->src) sub.src = a->vm->g[gi].u.fn->src;
    sub.scope = NULL;
    sub.reg = NULL;
    sub.site = NULL;
    sub.nreg = sub.regcap = sub.nsite = sub.sitecap = 0;
    memset(&sub.varied, 0, sizeof sub.varied);
    memset(&sub.needed, 0, sizeof sub.needed);
    memset(&sub.remat, 0, sizeof sub.remat);
    memset(&sub.shapes, 0, sizeof sub.shapes);
    sub.shapecls = NULL;
    memset(&sub.shaped, 0, sizeof sub.shaped);
    memset(&sub.vars, 0, sizeof sub.vars);
    sub.pos = NULL;
    sub.def = NULL;
    sub.defcap = 0;
    sub.read = NULL;
    sub.pre = NULL;
    sub.ck = NULL;
    sub.nck = sub.ckcap = 0;
    sub.npos = sub.poscap = sub.nread = sub.readcap = sub.npre = sub.precap = 0;
    sub.returns = sub.loops = sub.jumps = 0;
    sub.ordered = ck_of_step(a, fn->str) || has_loop(fn);
    sub.brk = sub.cnt = NULL;
    Ad *b = &sub;
    b->at = fn->loc;
    b->fname = fn->str;
    b->fnnode = fn;
    int np = fn->n - 1;
    Scope top;
    Names params = {0};
    scope_push(b, &top, &params);
    for (int p = 0; p < np; p++) declare(b, fn->k[p]->str, fn->k[p]->str);
    names_add(&b->vars, "$ret");
    names_add(&b->vars, "$ret'flag");
    Node *body = lower_block(b, fn->k[np], 0);
    scope_pop(b);
    free(params.s);
    for (int p = 0; p < np; p++)
        if (mask & (1u << p)) names_add(&b->varied, fn->k[p]->str);
    if (b->nerrs) goto done;
    while (activity(b, body)) {
    }
    const Node *loops[MAXLOOPS];
    number(b, body, loops, 0);
    index_defs(b);
    b->body = body;
    needs(b, body);
    if (b->nerrs) goto done;
    /* forward: the lowered code with pushes, then the values the reverse
     * starts from */
    b->at = fn->loc;
    Node *fb = fwd_block(b, body, 0);
    Node *rb = rev_block(b, body, 0);
    Node *fwd = node(b, N_FN), *fwdbody = block(b);
    if (fwd) fwd->str = (char *)kf;
    for (int p = 0; p < np; p++) add(b, fwd, copy(b, fn->k[p]));
    for (int i = 0; fb && i < fb->n; i++) add(b, fwdbody, fb->k[i]);
    for (int i = 0; i < b->shaped.n; i++) names_add(&b->needed, b->shaped.s[i]);
    for (int i = 0; i < b->needed.n; i++) add(b, fwdbody, push(b, name(b, b->needed.s[i])));
    add(b, fwdbody, add(b, node(b, N_RETURN), name(b, "$ret")));
    add(b, fwd, finish(b, fwdbody, fn, fwd, 0));
    /* reverse: restore, seed, reverse sweep, the parameters' adjoints */
    Node *rev = node(b, N_FN), *revbody = block(b);
    if (rev) rev->str = (char *)kr;
    add(b, rev, name(b, "$seed"));
    for (int i = b->needed.n - 1; i >= 0; i--) add(b, revbody, pop(b, b->needed.s[i]));
    for (int i = 0; i < body->n; i++)       /* values computed again */
        if (body->k[i] && body->k[i]->kind == N_ASSIGN && body->k[i]->k[0]->kind == N_NAME &&
            names_has(&b->remat, body->k[i]->k[0]->str) && !names_has(&b->needed, body->k[i]->k[0]->str))
            add(b, revbody, copy(b, body->k[i]));
    add(b, revbody, set(b, adj(b, "$ret"), name(b, "$seed")));
    for (int i = 0; rb && i < rb->n; i++) add(b, revbody, rb->k[i]);
    Node *rr = node(b, N_RETURN);
    for (int p = 0; p < np; p++) add(b, rr, name(b, adj(b, fn->k[p]->str)));
    if (np == 0) add(b, rr, num(b, 0));
    add(b, revbody, rr);
    add(b, rev, finish(b, revbody, fn, rev, 1));
    if (!b->nerrs) compile_fn(b, fwd, kf);
    if (!b->nerrs) compile_fn(b, rev, kr);
    const Ck *ck = ck_of_step(a, fn->str);
    if (ck && !b->nerrs) back_fn(b, ck, fwd, rev);
done:
    a->nerrs = b->nerrs;
    a->counter = b->counter;
    reset(b);
    return a->nerrs ? -1 : 0;
}

Proto *ad_grad(Vm *vm, const Node *fn, const int *wrt, int nwrt, int value, const Source *src, Loc at,
               Sbuf *errs)
{
    Ad a;
    memset(&a, 0, sizeof a);
    a.vm = vm;
    a.src = src;
    a.errs = errs;
    a.at = at;
    Arena *keep = NULL;
    a.keep = &keep;
    a.ar = arena_new();
    if (!a.ar) return NULL;
    if (rules_load(vm, errs)) {
        arena_free(a.ar);
        return NULL;
    }
    unsigned mask = 0;
    for (int i = 0; i < nwrt; i++) mask |= 1u << wrt[i];
    Proto *p = NULL;
    int np0 = fn->n - 1;
    if (rules_find(vm, fn->str, np0, 1)) {
        /* a script's rule replaces the body: differentiate a call of f */
        Node *w = node(&a, N_FN), *body = block(&a), *c = add(&a, node(&a, N_CALL), name(&a, fn->str));
        if (w) w->str = fn->str;
        for (int i = 0; i < np0; i++) {
            add(&a, w, copy(&a, fn->k[i]));
            add(&a, c, copy(&a, fn->k[i]));
        }
        add(&a, body, add(&a, node(&a, N_RETURN), c));
        fn = add(&a, w, body);
        if (a.nerrs) goto out;
    }
    const char *kf = pair_key(&a, fn, "fwd", mask), *kr = pair_key(&a, fn, "rev", mask);
    if (vm_findglobal(vm, kf) < 0 && build_pair(&a, fn, mask)) goto out;
    /* G(params) { y = f'fwd(params); %scalar(y); g = f'rev(1); return ... } */
    int np = fn->n - 1;
    Node *g = node(&a, N_FN), *body = block(&a);
    char gname[256];
    snprintf(gname, sizeof gname, "%s(%s)", value ? "value_and_grad" : "grad", fn->str);
    if (g) g->str = arena_strdup(a.ar, gname, strlen(gname));
    Node *fargs[64];
    for (int p = 0; p < np && p < 64; p++) {
        add(&a, g, copy(&a, fn->k[p]));
        fargs[p] = copy(&a, fn->k[p]);
    }
    add(&a, body, set(&a, "$y", call1(&a, "%scalar", call(&a, kf, np, fargs))));
    add(&a, body, set(&a, "$g", call1(&a, kr, num(&a, 1))));
    Node *r = node(&a, N_RETURN);
    if (value) add(&a, r, name(&a, "$y"));
    for (int i = 0; i < nwrt; i++) {
        Node *gi = name(&a, "$g");
        if (np > 1) gi = add(&a, add(&a, node(&a, N_INDEX), gi), num(&a, wrt[i]));
        Node *la[2] = {gi, copy(&a, fn->k[wrt[i]])};
        add(&a, r, call(&a, "%like", 2, la));   /* no path: zeros of its shape */
    }
    add(&a, body, r);
    add(&a, g, body);
    if (!a.nerrs) p = compile_function(vm, g, src, errs);
out:
    arena_free(a.ar);
    return p;
}
