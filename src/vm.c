/* vm.c: the VM state and the bytecode interpreter.
 *
 * Dispatch uses computed goto where the compiler has it and a switch
 * otherwise, through one set of macros (vmdispatch/vmcase/vmbreak, as in
 * Lua). Numbers are unboxed in registers, so scalar code allocates nothing;
 * every arithmetic opcode tries the number-number case inline before
 * calling the array kernels.
 *
 * Calls do not recurse in C: a call pushes a Frame whose registers start
 * just after the callee's slot in the caller's frame, so arguments are
 * already in place. Errors unwind to vm_run, releasing every register of
 * the unwound frames. */
#include "vm.h"

#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "array.h"
#include "ast.h"
#include "builtins.h"
#include "checkpoint.h"
#include "tape.h"

#define VM_MAXSTACK ((size_t)1 << 22)   /* values: 64 MB of registers */
#define VM_MAXDEPTH 10000               /* nested calls */
#define TRACE_EDGE 10                   /* traceback lines kept at each end */

const char *const op_names[OP__N] = {
#define X(name) #name,
    OPCODES(X)
#undef X
#define X(c, n) #c,
    PRIM_BINARY(X)
    PRIM_UNARY(X)
#undef X
};

/* -- state ------------------------------------------------------------- */

Vm *vm_new(void)
{
    Vm *vm = calloc(1, sizeof *vm);
    if (!vm) return NULL;
    vm->ctx.out = stdout;
    vm->maxdepth = VM_MAXDEPTH;
    sb_init(&vm->err);
    return vm;
}

static void proto_free(Ctx *c, Proto *p)
{
    for (int i = 0; i < p->nk; i++) val_decref(c, &p->k[i]);
    free(p->k);
    free(p->code);
    free(p->line);
    free(p->col);
    free(p->pat);
    for (int i = 0; i < p->nkern; i++) kernel_free(&p->kern[i]);
    free(p->kern);
    free(p->name);
    free(p);
}

void vm_free(Vm *vm)
{
    if (!vm) return;
    for (size_t i = 0; i < vm->stacksize; i++) val_decref(&vm->ctx, &vm->stack[i]);
    free(vm->stack);
    free(vm->frames);
    for (int i = 0; i < vm->ng; i++) {
        val_decref(&vm->ctx, &vm->g[i]);
        free(vm->gname[i]);
    }
    free(vm->g);
    free(vm->gname);
    free(vm->ghash);
    free(vm->gfn);
    free(vm->ctx.tape.loops);
    for (int i = 0; i < vm->narenas; i++) arena_free(vm->arenas[i]);
    free(vm->arenas);
    free(vm->rules);
    vm_dropprotos(vm, 0);
    free(vm->protos);
    for (int i = 0; i < vm->nsrcs; i++) src_free(vm->srcs[i]);
    free(vm->srcs);
    sb_free(&vm->err);
    free(vm->ctx.scratch);
    tape_clear(&vm->ctx);
    ctx_release(&vm->ctx);
    free(vm);
}

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

int vm_findglobal(const Vm *vm, const char *name)
{
    if (!vm->ghcap) return -1;
    for (unsigned i = hash(name) & (unsigned)(vm->ghcap - 1);; i = (i + 1) & (unsigned)(vm->ghcap - 1)) {
        int s = vm->ghash[i];
        if (!s) return -1;
        if (strcmp(vm->gname[s - 1], name) == 0) return s - 1;
    }
}

static void ghash_put(Vm *vm, int slot)
{
    unsigned i = hash(vm->gname[slot]) & (unsigned)(vm->ghcap - 1);
    while (vm->ghash[i]) i = (i + 1) & (unsigned)(vm->ghcap - 1);
    vm->ghash[i] = slot + 1;
}

static int ghash_rebuild(Vm *vm, int cap)
{
    int *h = calloc((size_t)cap, sizeof *h);
    if (!h) return -1;
    free(vm->ghash);
    vm->ghash = h;
    vm->ghcap = cap;
    for (int i = 0; i < vm->ng; i++) ghash_put(vm, i);
    return 0;
}

int vm_global(Vm *vm, const char *name)
{
    int s = vm_findglobal(vm, name);
    if (s >= 0) return s;
    if (vm->ng == vm->gcap) {
        int cap = vm->gcap ? vm->gcap * 2 : 64;
        Value *g = realloc(vm->g, (size_t)cap * sizeof *g);
        if (!g) return -1;
        vm->g = g;
        char **n = realloc(vm->gname, (size_t)cap * sizeof *n);
        if (!n) return -1;
        vm->gname = n;
        vm->gcap = cap;
    }
    char *copy = strdup(name);
    if (!copy) return -1;
    if ((vm->ng + 1) * 2 > vm->ghcap && ghash_rebuild(vm, vm->ghcap ? vm->ghcap * 2 : 128)) {
        free(copy);
        return -1;
    }
    s = vm->ng++;
    vm->g[s] = val_nil();
    vm->gname[s] = copy;
    ghash_put(vm, s);
    return s;
}

void vm_dropglobals(Vm *vm, int nglobals)
{
    if (nglobals >= vm->ng) return;
    while (vm->ng > nglobals) {
        vm->ng--;
        if (vm->ng < vm->gfncap) vm->gfn[vm->ng] = NULL;
        val_decref(&vm->ctx, &vm->g[vm->ng]);
        free(vm->gname[vm->ng]);
    }
    memset(vm->ghash, 0, (size_t)vm->ghcap * sizeof *vm->ghash);
    for (int i = 0; i < vm->ng; i++) ghash_put(vm, i);
}

const struct Node *vm_fnast(const Vm *vm, const char *name)
{
    int g = vm_findglobal(vm, name);
    return g >= 0 && g < vm->gfncap ? vm->gfn[g] : NULL;
}

const struct Node *vm_setfnast(Vm *vm, int slot, const struct Node *fn)
{
    if (slot >= vm->gfncap) {
        int cap = vm->gcap > slot ? vm->gcap : slot + 1;
        const struct Node **f = realloc(vm->gfn, (size_t)cap * sizeof *f);
        if (!f) return NULL;
        for (int i = vm->gfncap; i < cap; i++) f[i] = NULL;
        vm->gfn = f;
        vm->gfncap = cap;
    }
    const struct Node *old = vm->gfn[slot];
    vm->gfn[slot] = fn;
    return old;
}

int vm_keeparena(Vm *vm, struct Arena *a)
{
    if (vm->narenas == vm->arenacap) {
        int cap = vm->arenacap ? vm->arenacap * 2 : 8;
        struct Arena **as = realloc(vm->arenas, (size_t)cap * sizeof *as);
        if (!as) return -1;
        vm->arenas = as;
        vm->arenacap = cap;
    }
    vm->arenas[vm->narenas++] = a;
    return 0;
}

Proto *vm_newproto(Vm *vm, const char *name, const Source *src)
{
    if (vm->nprotos == vm->protocap) {
        int cap = vm->protocap ? vm->protocap * 2 : 16;
        Proto **ps = realloc(vm->protos, (size_t)cap * sizeof *ps);
        if (!ps) return NULL;
        vm->protos = ps;
        vm->protocap = cap;
    }
    Proto *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->name = strdup(name);
    if (!p->name) {
        free(p);
        return NULL;
    }
    p->src = src;
    vm->protos[vm->nprotos++] = p;
    return p;
}

void vm_dropprotos(Vm *vm, int nprotos)
{
    while (vm->nprotos > nprotos) proto_free(&vm->ctx, vm->protos[--vm->nprotos]);
}

const Source *vm_addsource(Vm *vm, const char *name, const char *text, size_t len)
{
    if (vm->nsrcs == vm->srccap) {
        int cap = vm->srccap ? vm->srccap * 2 : 8;
        Source **ss = realloc(vm->srcs, (size_t)cap * sizeof *ss);
        if (!ss) return NULL;
        vm->srcs = ss;
        vm->srccap = cap;
    }
    Source *s = src_new(name, text, len);
    if (!s) return NULL;
    vm->srcs[vm->nsrcs++] = s;
    return s;
}

/* -- errors ------------------------------------------------------------ */

const char *vm_arity(const Builtin *bi, int nargs, char *buf, size_t n)
{
    if (nargs >= bi->minargs && (bi->maxargs < 0 || nargs <= bi->maxargs)) return NULL;
    const char *s = bi->minargs == 1 ? "" : "s";
    if (bi->minargs == bi->maxargs)
        snprintf(buf, n, "%s() takes %d argument%s (%d given)", bi->name, bi->minargs, s, nargs);
    else if (bi->maxargs < 0)
        snprintf(buf, n, "%s() takes at least %d argument%s (%d given)", bi->name, bi->minargs, s, nargs);
    else
        snprintf(buf, n, "%s() takes %d to %d arguments (%d given)", bi->name, bi->minargs,
                 bi->maxargs, nargs);
    return buf;
}

static void where(const Frame *f, int *line, int *col)
{
    int pc = (int)(f->pc - f->p->code) - 1;
    if (pc < 0) pc = 0;
    *line = f->p->ncode ? f->p->line[pc] : 0;
    *col = f->p->ncode ? f->p->col[pc] : 0;
}

static void trace_line(Sbuf *b, const Frame *f)
{
    int line, col;
    if (!f->p->src) return;          /* vm_call's chunk: no place in a source */
    where(f, &line, &col);
    sb_printf(b, "    %s:%d:%d: in ", f->p->src ? f->p->src->name : "?", line, col);
    if (strcmp(f->p->name, "main chunk") == 0) sb_puts(b, "main chunk\n");
    else sb_printf(b, "function '%s'\n", f->p->name);
}

/* The report of a runtime error: position of the failing instruction,
 * then, when functions were active, a traceback innermost first (long ones
 * keep both ends). */
static void report(Vm *vm, int depth0)
{
    const Frame *top = &vm->frames[vm->nframes - 1];
    int line, col;
    if (vm->err.len) {
        /* a run inside this one (a loop runner's call) already reported
         * the error: the traceback goes on with the frames around it */
        const char *e = sb_str(&vm->err);
        int lines = 0;
        for (const char *p = e; (p = strchr(p, '\n')); p++) lines++;
        if (!strstr(e, "stack traceback:\n")) sb_puts(&vm->err, "stack traceback:\n");
        /* runners nested through recursion: the innermost calls, then the
         * outermost (the run that started it all, depth0 = 0) */
        if (lines > 4 * TRACE_EDGE && depth0 > 0) {
            if (!strstr(e, "    ...\n")) sb_puts(&vm->err, "    ...\n");
            return;
        }
        int from = lines > 4 * TRACE_EDGE && vm->nframes - depth0 > TRACE_EDGE ? depth0 + TRACE_EDGE : vm->nframes;
        for (int k = from - 1; k >= depth0; k--) trace_line(&vm->err, &vm->frames[k]);
        return;
    }
    where(top, &line, &col);
    diag_report(&vm->err, top->p->src, line, col, "%s", vm->ctx.msg);
    int n = vm->nframes - depth0;
    if (n <= 1 && !depth0) return;     /* a run inside another goes on below */
    sb_puts(&vm->err, "stack traceback:\n");
    for (int k = 0; k < n; k++) {
        if (k == TRACE_EDGE && n > 2 * TRACE_EDGE + 1) {
            sb_printf(&vm->err, "    ... (%d more calls)\n", n - 2 * TRACE_EDGE);
            k = n - TRACE_EDGE;
        }
        trace_line(&vm->err, &vm->frames[vm->nframes - 1 - k]);
    }
}

/* -- frames ------------------------------------------------------------ */

static int ensure_stack(Vm *vm, size_t need)
{
    if (need <= vm->stacksize) return 0;
    if (need > VM_MAXSTACK) return ctx_err(&vm->ctx, "stack overflow (more than %zu registers in use)", VM_MAXSTACK);
    size_t n = vm->stacksize ? vm->stacksize : 256;
    while (n < need) n *= 2;
    Value *s = realloc(vm->stack, n * sizeof *s);
    if (!s) return ctx_err(&vm->ctx, "out of memory growing the stack");
    for (size_t i = vm->stacksize; i < n; i++) s[i] = val_nil();
    vm->stack = s;
    vm->stacksize = n;
    return 0;
}

/* Push a frame for p at stack index base; its registers past the
 * parameters start out nil (they may hold the caller's stale temporaries). */
static int push_frame(Vm *vm, Proto *p, size_t base)
{
    if (vm->nframes >= vm->maxdepth)
        return ctx_err(&vm->ctx, "stack overflow: recursion deeper than %d calls", vm->maxdepth);
    if (ensure_stack(vm, base + (size_t)p->nregs + 1)) return -1;
    if (vm->nframes == vm->framecap) {
        int cap = vm->framecap ? vm->framecap * 2 : 32;
        Frame *f = realloc(vm->frames, (size_t)cap * sizeof *f);
        if (!f) return ctx_err(&vm->ctx, "out of memory growing the call stack");
        vm->frames = f;
        vm->framecap = cap;
    }
    for (int r = p->nparams; r < p->nregs; r++) val_decref(&vm->ctx, &vm->stack[base + (size_t)r]);
    Frame *f = &vm->frames[vm->nframes++];
    f->p = p;
    f->pc = p->code;
    f->base = base;
    return 0;
}

static void clear_regs(Vm *vm, size_t from, int n)
{
    for (int r = 0; r < n; r++) val_decref(&vm->ctx, &vm->stack[from + (size_t)r]);
}

static void pop_frame(Vm *vm)
{
    Frame *f = &vm->frames[--vm->nframes];
    clear_regs(vm, f->base, f->p->nregs);
}

/* -- the interpreter ---------------------------------------------------- */

#if defined(__GNUC__) && !defined(DIAL_NO_COMPUTED_GOTO)
#define VM_GOTO 1
#endif

#ifdef VM_GOTO
#define vmdispatch(o) goto *disptab[o];
#define vmcase(l) L_##l:
#define vmbreak do { i = pc++; goto *disptab[i->op]; } while (0)
#else
#define vmdispatch(o) switch (o)
#define vmcase(l) case l:
#define vmbreak break
#endif

#define RA (&R[i->a])
#define RB (&R[i->u.bc.b])
#define RKB ((i->f & F_BK) ? &K[i->u.bc.b] : &R[i->u.bc.b])
#define RKC ((i->f & F_CK) ? &K[i->u.bc.c] : &R[i->u.bc.c])
#define LOADFRAME() \
    (fr = &vm->frames[vm->nframes - 1], pc = fr->pc, R = vm->stack + fr->base, K = fr->p->k)
#define FAIL(...) do { ctx_err(ctx, __VA_ARGS__); goto error; } while (0)
/* At backward jumps and calls: the interrupt flag and the step limit. */
#define CHECK_INTERRUPT() \
    do { \
        if (vm->interrupt) { vm->interrupt = 0; FAIL("interrupted"); } \
        if (vm->steplimit && ++vm->steps > vm->steplimit) \
            FAIL("step limit exceeded (%llu loop iterations and calls)", \
                 (unsigned long long)vm->steplimit); \
    } while (0)

/* Store a number into a register, releasing what it held. */
static inline void setnum(Ctx *ctx, Value *r, double x)
{
    if (val_isref(r)) val_decref(ctx, r);
    r->t = T_NUM;
    r->u.n = x;
}

/* Replace a register's value by `v` (a new reference). */
static inline void setval(Ctx *ctx, Value *r, Value v)
{
    Value old = *r;
    *r = v;
    val_decref(ctx, &old);
}

static inline int truth(Ctx *ctx, const Value *v, int *t)
{
    if (v->t == T_NUM) {
        *t = v->u.n != 0;
        return 0;
    }
    return val_truth(ctx, v, t);
}

/* Decode an index pattern and its registers into Idx items. */
static int get_items(Ctx *ctx, const Proto *p, int off, const Value *R, Idx *ix, int *n, int *next)
{
    const unsigned char *pat = p->pat + off;
    int r = pat[1] | pat[2] << 8;
    *n = pat[0];
    for (int k = 0; k < *n; k++) {
        unsigned char bits = pat[3 + k];
        Idx *x = &ix[k];
        memset(x, 0, sizeof *x);
        x->slice = (bits & IX_SLICE) != 0;
        int parts = x->slice ? 3 : 1;
        for (int j = 0; j < parts; j++) {
            if (x->slice && !(bits & (1 << j))) continue;
            const Value *v = &R[r++];
            if (v->t != T_NUM)
                return ctx_err(ctx, "an index must be a number, not %s", val_typename(v));
            if (!x->slice) x->i = v->u.n;
            else if (j == 0) x->start = v->u.n, x->has_start = 1;
            else if (j == 1) x->stop = v->u.n, x->has_stop = 1;
            else x->step = v->u.n, x->has_step = 1;
        }
    }
    *next = r;
    return 0;
}

static inline int arr_writable_val(const Value *v) { return v->t == T_ARR && arr_writable(v->u.a); }

/* The common case of x[i] on a 1-d array, without building an Idx. */
static inline int fast_elem(const Value *t, const Value *i, double **elem)
{
    if (t->t != T_ARR || t->u.a->nd != 1 || i->t != T_NUM) return 0;
    double x = i->u.n;
    int64_t n = t->u.a->n;
    if (!(x >= -(double)n && x < (double)n) || x != (double)(int64_t)x) return 0;
    int64_t k = (int64_t)x;
    *elem = t->u.a->d + (k < 0 ? k + n : k);
    return 1;
}

static int int_index(Ctx *ctx, Value *out, const Value *t, const Value *i)
{
    if (i->t != T_NUM) return ctx_err(ctx, "an index must be a number, not %s", val_typename(i));
    Idx ix;
    memset(&ix, 0, sizeof ix);
    ix.i = i->u.n;
    return val_index(ctx, out, t, &ix, 1);
}

/* Replace a view by a copy of its elements (a read that must not keep the
 * array it came from shared). */
static int unview(Ctx *ctx, Value *v)
{
    if (v->t != T_ARR || !v->u.a->base) return 0;
    Arr *cp = arr_copy(ctx, v->u.a);
    if (!cp) {
        val_decref(ctx, v);
        return -1;
    }
    val_decref(ctx, v);
    *v = val_arr(cp);
    return 0;
}

static int call_builtin(Vm *vm, const Builtin *bi, Value *args, int nargs, Value *out)
{
    char buf[128];
    if (vm_arity(bi, nargs, buf, sizeof buf)) return ctx_err(&vm->ctx, "%s", buf);
    int rc = bi->fn(&vm->ctx, args, nargs, out);
    for (int k = 0; k < nargs; k++) val_decref(&vm->ctx, &args[k]);
    return rc;
}

static int execute(Vm *vm, int depth0, Value *result)
{
    Ctx *ctx = &vm->ctx;
    Frame *fr;
    const Ins *pc, *i;
    Value *R;
    const Value *K;
#ifdef VM_GOTO
    static const void *const disptab[OP__N] = {
#define X(name) &&L_OP_##name,
        OPCODES(X)
#undef X
#define X(c, n) &&L_OP_##c,
        PRIM_BINARY(X)
        PRIM_UNARY(X)
#undef X
    };
#endif
    LOADFRAME();
    for (;;) {
        i = pc++;
        vmdispatch(i->op) {
        vmcase(OP_MOVE) {
            if (i->a != i->u.bc.b) {
                Value v = *RB;
                RB->t = T_NIL;
                setval(ctx, RA, v);
            }
        } vmbreak;
        vmcase(OP_COPY) {
            val_set(ctx, RA, RB);
        } vmbreak;
        vmcase(OP_LOADK) {
            val_set(ctx, RA, &K[i->u.bc.b]);
        } vmbreak;
        vmcase(OP_GETG) {
            const Value *g = &vm->g[i->u.bc.b];
            if (g->t == T_NIL) FAIL("undefined name '%s'", vm->gname[i->u.bc.b]);
            val_set(ctx, RA, g);
        } vmbreak;
        vmcase(OP_SETG) {
            Value *g = &vm->g[i->a];
            if (i->f & F_MOVE) {
                Value v = *RB;
                RB->t = T_NIL;
                setval(ctx, g, v);
            } else {
                val_set(ctx, g, RB);
            }
        } vmbreak;
#define BINCASE(C, name_) \
        vmcase(OP_##C) { \
            const Value *b = RKB, *c = RKC; \
            if (b->t == T_NUM && c->t == T_NUM) setnum(ctx, RA, num_binop(BIN_##C, b->u.n, c->u.n)); \
            else if (val_binary(ctx, BIN_##C, RA, b, c)) goto error; \
        } vmbreak;
        PRIM_BINARY(BINCASE)
#undef BINCASE
#define UNCASE(C, name_) \
        vmcase(OP_##C) { \
            const Value *b = RKB; \
            if (b->t == T_NUM) setnum(ctx, RA, num_unop(UN_##C, b->u.n)); \
            else if (val_unary(ctx, UN_##C, RA, b)) goto error; \
        } vmbreak;
        PRIM_UNARY(UNCASE)
#undef UNCASE
        vmcase(OP_MATMUL) {
            if (val_matmul(ctx, RA, RKB, RKC)) goto error;
        } vmbreak;
        vmcase(OP_BOOL) {
            int t;
            if (truth(ctx, RB, &t)) goto error;
            setnum(ctx, RA, t);
        } vmbreak;
        vmcase(OP_JMP) {
            pc += i->u.sbx;
            if (i->u.sbx < 0) CHECK_INTERRUPT();
        } vmbreak;
        vmcase(OP_JT) {
            int t;
            if (truth(ctx, RA, &t)) goto error;
            if (t) pc += i->u.sbx;
        } vmbreak;
        vmcase(OP_JF) {
            int t;
            if (truth(ctx, RA, &t)) goto error;
            if (!t) pc += i->u.sbx;
        } vmbreak;
        vmcase(OP_JZERO) {
            if (RA->t == T_NUM && RA->u.n == 0) pc += i->u.sbx;
        } vmbreak;
        vmcase(OP_FORPREP) {
            Value *a = RA;
            if (a[0].t != T_NUM || a[1].t != T_NUM)
                FAIL("a for loop's bounds must be numbers, not %s", val_typename(a[0].t != T_NUM ? &a[0] : &a[1]));
            if (a[0].u.n < a[1].u.n) {
                setnum(ctx, &a[2], a[0].u.n);
                CHECK_INTERRUPT();      /* the first iteration is a step too */
            } else
                pc += i->u.sbx;
        } vmbreak;
        vmcase(OP_FORLOOP) {
            Value *a = RA;
            double x = a[0].u.n + 1;
            a[0].u.n = x;
            if (x < a[1].u.n) {
                setnum(ctx, &a[2], x);
                pc += i->u.sbx;
                CHECK_INTERRUPT();
            }
        } vmbreak;
        vmcase(OP_CALL) {
            Value *f = RA;
            int nargs = i->u.bc.b;
            if (f->t == T_FN) {
                Proto *p = f->u.fn;
                if (nargs != p->nparams)
                    FAIL("%s() takes %d argument%s (%d given)", p->name, p->nparams,
                         p->nparams == 1 ? "" : "s", nargs);
                fr->pc = pc;
                if (push_frame(vm, p, (size_t)(R - vm->stack) + i->a + 1)) goto error;
                LOADFRAME();
                CHECK_INTERRUPT();
            } else if (f->t == T_BUILTIN) {
                Value out = val_nil();
                if (call_builtin(vm, &builtins[f->u.bi], RA + 1, nargs, &out)) goto error;
                setval(ctx, RA, out);
            } else {
                FAIL("cannot call %s %s", f->t == T_ARR ? "an" : "a", val_typename(f));
            }
        } vmbreak;
        vmcase(OP_CALLB) {
            Value out = val_nil();
            if (call_builtin(vm, &builtins[i->u.bc.b], RA + 1, i->u.bc.c, &out)) goto error;
            setval(ctx, RA, out);
        } vmbreak;
        vmcase(OP_INTRIN) {
            Value out = val_nil();
            if (call_builtin(vm, &intrinsics[i->u.bc.b], RA + 1, i->u.bc.c, &out)) goto error;
            setval(ctx, RA, out);
        } vmbreak;
        vmcase(OP_RET) {
            Value ret = val_nil();
            if (i->u.bc.b) {
                ret = *RA;
                RA->t = T_NIL;
            }
            pop_frame(vm);
            if (vm->nframes == depth0) {
                if (result) *result = ret;
                else val_decref(ctx, &ret);
                if (!depth0) tape_clear(ctx);   /* its stacks count as memory in use */
                return 0;
            }
            LOADFRAME();
            setval(ctx, &R[(pc - 1)->a], ret);
        } vmbreak;
        vmcase(OP_TUPLE) {
            int n = i->u.bc.c;
            Tuple *t = tup_new(ctx, n);
            if (!t) goto error;
            for (int k = 0; k < n; k++) {
                t->v[k] = R[i->u.bc.b + k];
                R[i->u.bc.b + k].t = T_NIL;
            }
            Value v;
            v.t = T_TUPLE;
            v.u.tu = t;
            setval(ctx, RA, v);
        } vmbreak;
        vmcase(OP_UNPACK) {
            Value *src = RB;
            int n = i->u.bc.c;
            if (src->t != T_TUPLE)
                FAIL("cannot unpack %s %s into %d names", src->t == T_ARR ? "an" : "a", val_typename(src), n);
            if (src->u.tu->n != n)
                FAIL("cannot unpack %d values into %d names", src->u.tu->n, n);
            for (int k = 0; k < n; k++) val_set(ctx, &R[i->a + k], &src->u.tu->v[k]);
            val_decref(ctx, src);
        } vmbreak;
        vmcase(OP_NEWARR) {
            Value out = val_nil();
            int rc = val_stack(ctx, &out, RB, i->u.bc.c);
            clear_regs(vm, (size_t)(R - vm->stack) + i->u.bc.b, i->u.bc.c);
            if (rc) goto error;
            setval(ctx, RA, out);
        } vmbreak;
        vmcase(OP_INDEX) {
            Idx ix[DIAL_MAXDIM];
            int n, next;
            Value out = val_nil();
            if (get_items(ctx, fr->p, i->u.bc.c, R, ix, &n, &next) ||
                val_index(ctx, &out, RB, ix, n))
                goto error;
            if ((i->f & F_COPY) && unview(ctx, &out)) goto error;
            setval(ctx, RA, out);
        } vmbreak;
        vmcase(OP_INDEX1) {
            double *e;
            if (fast_elem(RB, RKC, &e)) {
                setnum(ctx, RA, *e);
            } else {
                Value out = val_nil();
                if (int_index(ctx, &out, RB, RKC)) goto error;
                if ((i->f & F_COPY) && unview(ctx, &out)) goto error;
                setval(ctx, RA, out);
            }
        } vmbreak;
        vmcase(OP_SETINDEX) {
            Value *t = (i->f & F_GLOBAL) ? &vm->g[i->a] : RA;
            Idx ix[DIAL_MAXDIM];
            int n, v;
            if (t->t == T_NIL) FAIL("undefined name '%s'", vm->gname[i->a]);
            if (get_items(ctx, fr->p, i->u.bc.c, R, ix, &n, &v)) goto error;
            int rc = (i->f & F_ADD ? val_addindex : val_setindex)(ctx, t, ix, n, &R[v]);
            val_decref(ctx, &R[v]);
            if (rc) goto error;
        } vmbreak;
        vmcase(OP_SETINDEX1) {
            Value *t = (i->f & F_GLOBAL) ? &vm->g[i->a] : RA;
            Value *v = &R[i->u.bc.c];
            double *e;
            if (t->t == T_NIL) FAIL("undefined name '%s'", vm->gname[i->a]);
            if (v->t == T_NUM && arr_writable_val(t) && fast_elem(t, RB, &e)) {
                if (i->f & F_ADD) *e += v->u.n;
                else *e = v->u.n;
            } else {
                Idx ix;
                if (RB->t != T_NUM) FAIL("an index must be a number, not %s", val_typename(RB));
                memset(&ix, 0, sizeof ix);
                ix.i = RB->u.n;
                int rc = (i->f & F_ADD ? val_addindex : val_setindex)(ctx, t, &ix, 1, v);
                val_decref(ctx, v);
                if (rc) goto error;
            }
        } vmbreak;
        vmcase(OP_FUSEDIDX) {
            const Kernel *k = &fr->p->kern[i->u.bc.c];
            Idx ix[DIAL_MAXDIM];
            int n, v;
            /* anything unusual (bad items included) is left to the
             * ordinary code, which reports it */
            if (RA->t == T_ARR && !get_items(ctx, fr->p, i->u.bc.b, R, ix, &n, &v)) {
                int rc = fuse_into(ctx, k, R, RA, ix, n, i->f & F_ADD);
                if (rc < 0) goto error;
                if (rc) pc += k->skip + 2;
            }
        } vmbreak;
        vmcase(OP_FUSED) {
            /* numbers only (scalar code) take the ordinary path at once */
            const Kernel *k = &fr->p->kern[i->u.bc.c];
            int j = 0;
            while (j < k->nleaf && R[k->leafreg[j]].t != T_ARR) j++;
            if (j < k->nleaf) {
                int rc = fuse_run(ctx, k, R, RA);
                if (rc < 0) goto error;
                if (rc) pc += k->skip;
            }
        } vmbreak;
        vmcase(OP_PUSH) {
            if (tape_push(ctx, RA)) goto error;
        } vmbreak;
        vmcase(OP_POP) {
            Value out;
            if (tape_pop(ctx, &out)) goto error;
            setval(ctx, RA, out);
        } vmbreak;
        vmcase(OP_SITE) {
            const Value *op[2] = {RA, RB};
            if (tape_site(ctx, op, 2)) goto error;
        } vmbreak;
        vmcase(OP_SITEREC) {
            Value out;
            if (RB->t == T_NUM && R[i->u.bc.c].t == T_NUM) {
                setnum(ctx, RA, 0);
            } else {
                const Value *op[2] = {RB, &R[i->u.bc.c]};
                if (tape_siterec(ctx, op, 2, &out)) goto error;
                setval(ctx, RA, out);
            }
        } vmbreak;
        vmcase(OP_UNSITE) {
            Value out = val_nil();
            if (tape_unsite(ctx, i->u.bc.b, &out)) goto error;
            setval(ctx, RA, out);
        } vmbreak;
        vmcase(OP_ACCR) {
            const Value *b = RKB, *s = &R[i->u.bc.c];
            Value *a = RA;
            if (s->t != T_TUPLE) {
                if (a->t == T_NUM && b->t == T_NUM) a->u.n += b->u.n;
                else if (val_binary(ctx, BIN_ADD, a, a, b)) goto error;
            } else {
                Value r = val_nil();
                if (tape_reduce(ctx, b, s, i->f >> 4, &r)) goto error;
                if (a->t == T_NUM && a->u.n == 0) {
                    setval(ctx, a, r);      /* the first contribution: moved */
                } else {
                    int rc = val_binary(ctx, BIN_ADD, a, a, &r);
                    val_decref(ctx, &r);
                    if (rc) goto error;
                }
            }
        } vmbreak;
        vmcase(OP_SINCOS) {
            const Value *x = RB;
            if (x->t == T_NUM) {
                double s, c;
#ifdef HAVE_SINCOS
                sincos(x->u.n, &s, &c);
#else
                s = sin(x->u.n);
                c = cos(x->u.n);
#endif
                setnum(ctx, &R[i->u.bc.c], c);
                setnum(ctx, RA, s);
            } else if (val_unary(ctx, UN_COS, &R[i->u.bc.c], x) || val_unary(ctx, UN_SIN, RA, x)) {
                goto error;
            }
        } vmbreak;
        vmcase(OP_ACC) {
            const Value *b = RKB;
            Value *a = RA;
            if (a->t == T_NUM && b->t == T_NUM) a->u.n += b->u.n;
            else if (a->t == T_NUM && a->u.n == 0 && b->t == T_ARR) val_set(ctx, a, b);
            else if (val_binary(ctx, BIN_ADD, a, a, b)) goto error;
        } vmbreak;
        vmcase(OP_CKPT) {
            /* the runner calls functions, which may move the stack and
             * the frames: its arguments are moved out first, and the frame
             * is loaded again after */
            Value args[16];
            int n = i->u.bc.b;
            for (int k = 0; k < n; k++) {
                args[k] = RA[1 + k];
                RA[1 + k].t = T_NIL;
            }
            Value out = val_nil();
            fr->pc = pc;
            int rc = -1;
            if (vm->cknest >= VM_MAXCKNEST) {
                ctx_err(ctx, "checkpointed loops nested more than %d deep (through recursion)", VM_MAXCKNEST);
            } else {
                vm->cknest++;
                rc = (i->f == 1 ? ckpt_reverse : i->f == 2 ? ckpt_auto : ckpt_forward)(vm, args, n, &out);
                vm->cknest--;
            }
            for (int k = 0; k < n; k++) val_decref(ctx, &args[k]);
            LOADFRAME();
            if (rc) goto error;
            setval(ctx, RA, out);
        } vmbreak;
        vmcase(OP_CKNEXT) {
            /* a reversal may call the step's reverse: the stack may move */
            fr->pc = pc;
            int rc = ckpt_next(vm, RB, &R[i->u.bc.c]);
            LOADFRAME();
            if (rc) goto error;
        } vmbreak;
        vmcase(OP_OUTERACC) {
            if (val_outer_push(ctx, RA, &R[i->u.bc.b], &R[i->u.bc.c])) goto error;
        } vmbreak;
        vmcase(OP_ADDOUTER) {
            if (val_outer(ctx, RA, &R[i->u.bc.b], &R[i->u.bc.c], 1)) goto error;
        } vmbreak;
        vmcase(OP_ADDTAKE) {
            Value *a = RA, *b = RB;
            if (a->t == T_NUM && b->t == T_NUM) {
                a->u.n += b->u.n;
            } else if (b->t == T_NUM && b->u.n == 0) {
                /* nothing was handed on */
            } else if (a->t == T_NUM && a->u.n == 0) {
                setval(ctx, a, *b);       /* 0 + b is b: the array moves */
                b->t = T_NUM;
            } else if (val_binary(ctx, BIN_ADD, a, a, b)) {
                goto error;
            } else {
                val_decref(ctx, b);
                b->t = T_NUM;
            }
            b->u.n = 0;
        } vmbreak;
        vmcase(OP_TAKE) {
            /* field by field: a 16-byte copy of a number just written by
             * two stores would stall on store forwarding */
            Value *b = RB;
            if (b->t == T_NUM) {
                double x = b->u.n;
                b->u.n = 0;
                setnum(ctx, RA, x);
            } else {
                Value v = *b;
                b->t = T_NUM;
                b->u.n = 0;
                setval(ctx, RA, v);
            }
            /* generated code tests the adjoint it took at once (if %nz):
             * that JZERO runs here, without a dispatch of its own */
            if (pc->op == OP_JZERO && pc->a == i->a) {
                i = pc++;
                if (RA->t == T_NUM && RA->u.n == 0) pc += i->u.sbx;
            }
        } vmbreak;
        vmcase(OP_HOST) {
            Value out = val_nil();
            if (!vm->host) FAIL("no host functions in this VM");
            if (vm->host(vm, i->u.bc.b, R, i->u.bc.c, &out)) {
                /* reported at the call in the caller */
                if (vm->nframes - 1 > depth0) {
                    pop_frame(vm);
                    LOADFRAME();
                }
                goto error;
            }
            setval(ctx, RA, out);
        } vmbreak;
        vmcase(OP_CLEAR) {
            clear_regs(vm, (size_t)(R - vm->stack) + i->a, i->u.bc.b);
        } vmbreak;
        }
    }
error:
    fr->pc = pc;
    report(vm, depth0);
    while (vm->nframes > depth0) pop_frame(vm);
    if (!depth0) tape_clear(ctx);   /* an aborted gradient leaves its cache */
    return -1;
}

int vm_run(Vm *vm, Proto *main, Value *result)
{
    sb_clear(&vm->err);
    if (result) *result = val_nil();
    int depth0 = vm->nframes;
    size_t base = 0;
    if (depth0) {
        const Frame *f = &vm->frames[depth0 - 1];
        base = f->base + (size_t)f->p->nregs;
    }
    if (push_frame(vm, main, base)) {
        diag_report(&vm->err, main->src, 0, 0, "%s", vm->ctx.msg);
        return -1;
    }
    return execute(vm, depth0, result);
}

int vm_call(Vm *vm, const Value *fn, const Value *args, int nargs, Value *result)
{
    if (result) *result = val_nil();
    sb_clear(&vm->err);
    size_t base = 0;
    if (vm->nframes) {
        const Frame *f = &vm->frames[vm->nframes - 1];
        base = f->base + (size_t)f->p->nregs;
    }
    if (nargs < 0 || nargs > 250 || ensure_stack(vm, base + (size_t)nargs + 2)) {
        if (nargs < 0 || nargs > 250) ctx_err(&vm->ctx, "too many arguments (%d)", nargs);
        diag_report(&vm->err, NULL, 0, 0, "%s", vm->ctx.msg);
        return -1;
    }
    if (fn->t == T_FN && fn->u.fn->nparams == nargs) {
        /* a dial function: its frame straight over the arguments (the
         * loop runner calls step functions this way millions of times) */
        for (int k = 0; k < nargs; k++) val_set(&vm->ctx, &vm->stack[base + (size_t)k], &args[k]);
        int depth0 = vm->nframes;
        if (push_frame(vm, fn->u.fn, base)) {
            clear_regs(vm, base, nargs);
            diag_report(&vm->err, NULL, 0, 0, "%s", vm->ctx.msg);
            return -1;
        }
        return execute(vm, depth0, result);
    }
    /* anything else (a builtin, a wrong argument count): a chunk whose
     * parameters are the function and its arguments, CALL r0 nargs; RET r0 */
    Ins code[2];
    int pos[2] = {0, 0};
    memset(code, 0, sizeof code);
    code[0].op = OP_CALL;
    code[0].u.bc.b = (uint16_t)nargs;
    code[1].op = OP_RET;
    code[1].u.bc.b = 1;
    Proto t;
    memset(&t, 0, sizeof t);
    t.name = (char *)"main chunk";
    t.nparams = t.nregs = nargs + 1;
    t.code = code;
    t.ncode = 2;
    t.line = t.col = pos;
    val_set(&vm->ctx, &vm->stack[base], fn);
    for (int k = 0; k < nargs; k++) val_set(&vm->ctx, &vm->stack[base + 1 + (size_t)k], &args[k]);
    return vm_run(vm, &t, result);
}
