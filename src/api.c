/* api.c: the public API (dial.h) over the internal modules. Every entry
 * checks its arguments, so misuse is a status code, not a crash. */
#include "dial.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "builtins.h"
#include "compile.h"
#include "parse.h"
#include "rules.h"
#include "vm.h"

/* Host memory under dial_array_wrap: the views over it share one owner,
 * `k`, that is no array of the VM's heap and that the VM holds one extra
 * reference to (the pin), so no view of it is ever writable (copy on write
 * copies before any store) and its count falls to 1 when the VM holds
 * none of the views any more; sweep() then frees it and tells the host. */
typedef struct Keeper {
    Arr *k;
    void (*release)(void *ud);
    void *ud;
} Keeper;

typedef struct Host {
    char *name;
    int nargs;
    dial_host_fn fn;
    dial_host_rev rev;
    void *ud;
} Host;

/* Compiled value_and_grad functions by "name argnums", with the `fn` tree
 * they were made from (a redefinition compiles again). */
typedef struct GradFn {
    char *key;
    const void *ast;
    Value fn;
} GradFn;

struct dial_vm {
    Vm *vm;
    int code;                /* status of the last call */
    int running;             /* a run is under way (host functions inside) */
    dial_array *live;        /* every handle not freed yet */
    Keeper *keep;
    int nkeep, keepcap;
    Host *hosts;
    int nhosts, hostcap;
    GradFn *grads;
    int ngrads, gradcap;
};

struct dial_array {
    dial_vm *vm;             /* NULL once the VM is freed */
    dial_array *prev, *next; /* in vm->live */
    int borrowed;            /* an argument of a host function: dial frees it */
    Value v;                 /* T_NUM, T_ARR or T_TUPLE; one reference */
};

/* Grow a table of `size`-byte entries; -1 when out of memory. */
static int grow(void **p, int *cap, int n, size_t size)
{
    if (n < *cap) return 0;
    int c = *cap ? *cap * 2 : 8;
    void *q = realloc(*p, (size_t)c * size);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* -- errors ----------------------------------------------------------------- */

/* Record a status with its message (printf-style; none for DIAL_OK). While
 * a run is under way (inside a host function) the message goes to the
 * runtime context, where the failing host call picks it up. */
static int seterr(dial_vm *d, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int seterr(dial_vm *d, int code, const char *fmt, ...)
{
    va_list ap;
    if (d->running) {
        if (fmt) {
            va_start(ap, fmt);
            vsnprintf(d->vm->ctx.msg, sizeof d->vm->ctx.msg, fmt, ap);
            va_end(ap);
        }
        return code;
    }
    d->code = code;
    sb_clear(&d->vm->err);
    if (fmt) {
        sb_puts(&d->vm->err, "dial: ");
        va_start(ap, fmt);
        char buf[1024];
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        sb_puts(&d->vm->err, buf);
        sb_putc(&d->vm->err, '\n');
    }
    return code;
}

static int fail(Vm *vm, int status, const char *fmt, const char *arg, const char *why)
{
    sb_clear(&vm->err);
    sb_printf(&vm->err, fmt, arg, why);
    sb_putc(&vm->err, '\n');
    return status;
}

/* The status of a failed run, from the message the VM stopped with. */
static int run_status(const Vm *vm)
{
    const char *m = vm->ctx.msg;
    if (strncmp(m, "interrupted", 11) == 0) return DIAL_ERROR_INTERRUPTED;
    if (strncmp(m, "step limit exceeded", 19) == 0 || strncmp(m, "memory limit exceeded", 21) == 0)
        return DIAL_ERROR_LIMIT;
    if (strstr(m, "out of memory")) return DIAL_ERROR_MEMORY;
    return DIAL_ERROR_RUNTIME;
}

static int usage(dial_vm *d, const char *fn, const char *what)
{
    return seterr(d, DIAL_ERROR_USAGE, "%s: %s", fn, what);
}

/* -- handles ---------------------------------------------------------------- */

/* A handle for v (taking over its reference); NULL (v released) when out
 * of memory. */
static dial_array *handle(dial_vm *d, Value v)
{
    dial_array *h = malloc(sizeof *h);
    if (!h) {
        val_decref(&d->vm->ctx, &v);
        return NULL;
    }
    h->vm = d;
    h->borrowed = 0;
    h->v = v;
    h->prev = NULL;
    h->next = d->live;
    if (d->live) d->live->prev = h;
    d->live = h;
    return h;
}

static void unlink_handle(dial_array *h)
{
    dial_vm *d = h->vm;
    if (h->prev) h->prev->next = h->next;
    else d->live = h->next;
    if (h->next) h->next->prev = h->prev;
    h->vm = NULL;
}

/* Hand release callbacks the host memory no value refers to any more
 * (all of it when `all`). */
static void sweep(dial_vm *d, int all)
{
    int j = 0;
    for (int i = 0; i < d->nkeep; i++) {
        Keeper *k = &d->keep[i];
        if (!all && k->k->rc > 1) {
            d->keep[j++] = *k;
            continue;
        }
        if (k->release) k->release(k->ud);
        free(k->k);
    }
    d->nkeep = j;
}

static void free_handle(dial_array *h)
{
    dial_vm *d = h->vm;
    if (d) {
        unlink_handle(h);
        val_decref(&d->vm->ctx, &h->v);
    }
    free(h);
}

void dial_array_free(dial_array *h)
{
    if (!h || h->borrowed) return;
    dial_vm *d = h->vm;
    free_handle(h);
    if (d && !d->running) sweep(d, 0);
}

/* Check an argument handle: of this VM and alive. */
static int check_arg(dial_vm *d, const char *fn, const dial_array *h)
{
    if (!h) return usage(d, fn, "NULL array");
    if (!h->vm) return usage(d, fn, "an array of a freed VM");
    if (h->vm != d) return usage(d, fn, "an array of another VM");
    return DIAL_OK;
}

static int out_of_memory(dial_vm *d, const char *fn)
{
    return seterr(d, DIAL_ERROR_MEMORY, "%s: out of memory", fn);
}

/* The failure of an allocation in the VM's context: the limit or the
 * system. */
static int alloc_failed(dial_vm *d, const char *fn)
{
    return seterr(d, run_status(d->vm) == DIAL_ERROR_LIMIT ? DIAL_ERROR_LIMIT : DIAL_ERROR_MEMORY,
                  "%s: %s", fn, d->vm->ctx.msg);
}

static int check_shape(dial_vm *d, const char *fn, int ndim, const int64_t *shape)
{
    if (ndim < 0 || ndim > DIAL_MAXDIM) return usage(d, fn, "ndim must be 0 to 16");
    if (ndim > 0 && !shape) return usage(d, fn, "NULL shape");
    if (arr_checkshape(&d->vm->ctx, ndim, shape) < 0) return usage(d, fn, d->vm->ctx.msg);
    return DIAL_OK;
}

dial_array *dial_array_new(dial_vm *d, int ndim, const int64_t *shape, const double *data)
{
    if (!d) return NULL;
    if (check_shape(d, "dial_array_new", ndim, shape)) return NULL;
    Value v;
    if (ndim == 0) {
        v = val_num(data ? data[0] : 0);
    } else {
        Arr *a = arr_new(&d->vm->ctx, ndim, shape);
        if (!a) {
            alloc_failed(d, "dial_array_new");
            return NULL;
        }
        if (data) memcpy(a->d, data, (size_t)a->n * sizeof(double));
        else memset(a->d, 0, (size_t)a->n * sizeof(double));
        v = val_arr(a);
    }
    dial_array *h = handle(d, v);
    if (!h) out_of_memory(d, "dial_array_new");
    else seterr(d, DIAL_OK, NULL);
    return h;
}

dial_array *dial_number(dial_vm *d, double x)
{
    return dial_array_new(d, 0, NULL, &x);
}

dial_array *dial_array_wrap(dial_vm *d, int ndim, const int64_t *shape, double *data,
                            void (*release)(void *ud), void *ud)
{
    const char *fn = "dial_array_wrap";
    if (!d) return NULL;
    if (ndim < 1) {
        usage(d, fn, "ndim must be 1 to 16 (use dial_number for a number)");
        return NULL;
    }
    if (check_shape(d, fn, ndim, shape)) return NULL;
    if (!data) {
        usage(d, fn, "NULL data");
        return NULL;
    }
    if (grow((void **)&d->keep, &d->keepcap, d->nkeep, sizeof *d->keep)) {
        out_of_memory(d, fn);
        return NULL;
    }
    Arr *k = calloc(1, sizeof *k);
    if (!k) {
        out_of_memory(d, fn);
        return NULL;
    }
    k->rc = 1;
    k->nd = 1;
    k->d = data;
    Arr *a = arr_view(&d->vm->ctx, k, data, ndim, shape);
    if (!a) {
        free(k);
        alloc_failed(d, fn);
        return NULL;
    }
    d->keep[d->nkeep++] = (Keeper){k, release, ud};
    dial_array *h = handle(d, val_arr(a));
    if (!h) out_of_memory(d, fn);
    else seterr(d, DIAL_OK, NULL);
    return h;
}

dial_array *dial_tuple_new(dial_vm *d, dial_array *const *items, int n)
{
    const char *fn = "dial_tuple_new";
    if (!d) return NULL;
    if (n < 0 || (n && !items)) {
        usage(d, fn, "n must be >= 0, items not NULL");
        return NULL;
    }
    for (int k = 0; k < n; k++)
        if (check_arg(d, fn, items[k])) return NULL;
    Tuple *t = tup_new(&d->vm->ctx, n);
    if (!t) {
        alloc_failed(d, fn);
        return NULL;
    }
    for (int k = 0; k < n; k++) val_set(&d->vm->ctx, &t->v[k], &items[k]->v);
    Value v = {T_TUPLE, {.tu = t}};
    dial_array *h = handle(d, v);
    if (!h) out_of_memory(d, fn);
    else seterr(d, DIAL_OK, NULL);
    return h;
}

static int is_array(const dial_array *a) { return a && a->vm && a->v.t != T_TUPLE; }

int dial_array_ndim(const dial_array *a)
{
    if (!is_array(a)) return -1;
    return a->v.t == T_ARR ? a->v.u.a->nd : 0;
}

const int64_t *dial_array_shape(const dial_array *a)
{
    if (!is_array(a)) return NULL;
    static const int64_t none[1] = {0}; /* a number's (empty) shape */
    return a->v.t == T_ARR ? a->v.u.a->shape : none;
}

int64_t dial_array_size(const dial_array *a)
{
    if (!is_array(a)) return -1;
    return a->v.t == T_ARR ? a->v.u.a->n : 1;
}

const double *dial_array_data(const dial_array *a)
{
    if (!is_array(a)) return NULL;
    return a->v.t == T_ARR ? a->v.u.a->d : &a->v.u.n;
}

int dial_array_number(const dial_array *a, double *x)
{
    if (!is_array(a) || !x || dial_array_size(a) != 1) return DIAL_ERROR_USAGE;
    *x = dial_array_data(a)[0];
    return DIAL_OK;
}

int dial_tuple_size(const dial_array *a)
{
    return a && a->vm && a->v.t == T_TUPLE ? a->v.u.tu->n : -1;
}

dial_array *dial_tuple_get(const dial_array *a, int i)
{
    if (dial_tuple_size(a) < 0 || i < 0 || i >= a->v.u.tu->n) return NULL;
    Value v = a->v.u.tu->v[i];
    val_incref(&v);
    return handle(a->vm, v);
}

/* A value the host may hold: an array, a number or a tuple of them. The
 * tuples still to look into wait in a list: they nest as deep as a program
 * makes them (t = (t, 1) in a loop), too deep for the C stack. */
static int hostable(const Value *v)
{
    if (v->t != T_TUPLE) return v->t == T_NUM || v->t == T_ARR;
    const Tuple **todo = NULL;
    int n = 0, cap = 0, ok = !grow((void **)&todo, &cap, n, sizeof *todo);
    if (ok) todo[n++] = v->u.tu;
    while (ok && n) {
        const Tuple *t = todo[--n];
        for (int k = 0; ok && k < t->n; k++) {
            const Value *e = &t->v[k];
            if (e->t != T_TUPLE)
                ok = e->t == T_NUM || e->t == T_ARR;
            else if ((ok = !grow((void **)&todo, &cap, n, sizeof *todo)))
                todo[n++] = e->u.tu;
        }
    }
    free(todo);
    return ok;
}

/* -- VMs ---------------------------------------------------------------------- */

static int host_call(Vm *vm, int id, const Value *args, int nargs, Value *out);

dial_vm *dial_new(void)
{
    dial_vm *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->vm = vm_new();
    if (!d->vm) {
        free(d);
        return NULL;
    }
    d->vm->host = host_call;
    d->vm->hostdata = d;
    return d;
}

void dial_free(dial_vm *d)
{
    if (!d) return;
    while (d->live) {
        dial_array *h = d->live;
        val_decref(&d->vm->ctx, &h->v);
        unlink_handle(h);
    }
    for (int i = 0; i < d->ngrads; i++) free(d->grads[i].key);
    free(d->grads);
    for (int i = 0; i < d->nhosts; i++) free(d->hosts[i].name);
    free(d->hosts);
    vm_free(d->vm);          /* releases every view of host memory */
    sweep(d, 1);
    free(d->keep);
    free(d);
}

static void print_result(Vm *vm, Value *v)
{
    if (v->t == T_NIL) return;
    Sbuf b;
    sb_init(&b);
    fmt_value(&b, v);
    sb_putc(&b, '\n');
    fwrite(b.s, 1, b.len, vm->ctx.out);
    sb_free(&b);
}

/* Start a run: not from inside a host function; fresh step count and
 * interrupt flag. */
static int begin(dial_vm *d, const char *fn)
{
    if (d->running) {
        d->vm->ctx.msg[0] = 0;
        seterr(d, DIAL_ERROR_USAGE, "%s: not allowed inside a host function", fn);
        return DIAL_ERROR_USAGE;
    }
    d->vm->interrupt = 0;   /* a request made while nothing ran is dropped */
    d->vm->steps = 0;
    return DIAL_OK;
}

/* Run a function value; the status, with the report in vm->err. */
static int run_call(dial_vm *d, const Value *fn, const Value *args, int nargs, Value *result)
{
    d->running = 1;
    int rc = vm_call(d->vm, fn, args, nargs, result);
    d->running = 0;
    sweep(d, 0);
    d->code = rc ? run_status(d->vm) : DIAL_OK;
    return d->code;
}

/* Compile and run source; with `result`, the chunk's value (echo mode). */
static int exec(dial_vm *d, const char *name, const char *code, size_t len, unsigned flags,
                Value *result)
{
    Vm *vm = d->vm;
    sb_clear(&vm->err);
    const Source *src = vm_addsource(vm, name ? name : "?", code, len);
    if (!src) return fail(vm, DIAL_ERROR_MEMORY, "%s: %s", name ? name : "?", "out of memory");
    Arena *arena = arena_new();
    if (!arena) return fail(vm, DIAL_ERROR_MEMORY, "%s: %s", src->name, "out of memory");
    ParseResult pr = parse_source(arena, src, &vm->err);
    if (!pr.program) {
        arena_free(arena);
        if ((flags & DIAL_REPL) && pr.incomplete) {
            sb_clear(&vm->err);
            return DIAL_INCOMPLETE;
        }
        return DIAL_ERROR_SYNTAX;
    }
    int echo = (flags & DIAL_ECHO) || result;
    Sbuf gen;
    sb_init(&gen);
    if (flags & DIAL_AD_SOURCE) vm->adsrc = &gen;
    vm->ctx.msg[0] = '\0';         /* set if making a constant fails */
    Proto *main = compile_chunk(vm, pr.program, src, echo, &vm->err);
    vm->adsrc = NULL;
    /* functions and rules stay known to grad: keep their trees */
    if (!main || vm_keeparena(vm, arena)) arena_free(arena);
    if (main && (flags & DIAL_AD_SOURCE)) fwrite(gen.s ? gen.s : "", 1, gen.len, vm->ctx.out);
    sb_free(&gen);
    if (!main) {
        /* a constant too big for the memory is no syntax error */
        int st = vm->ctx.msg[0] ? run_status(vm) : DIAL_ERROR_SYNTAX;
        return st == DIAL_ERROR_LIMIT || st == DIAL_ERROR_MEMORY ? st : DIAL_ERROR_SYNTAX;
    }
    if (flags & DIAL_AD_SOURCE) return DIAL_OK;
    if (flags & DIAL_DISASM) {
        Sbuf b;
        sb_init(&b);
        for (int k = 0; k < vm->nprotos; k++)
            if (vm->protos[k]->src == src) disasm_proto(&b, vm->protos[k]);
        fwrite(b.s ? b.s : "", 1, b.len, vm->ctx.out);
        sb_free(&b);
        return DIAL_OK;
    }
    Value r;
    d->running = 1;
    int rc = vm_run(vm, main, &r);
    d->running = 0;
    sweep(d, 0);
    if (rc) return run_status(vm);
    if (result) *result = r;
    else {
        if (flags & DIAL_ECHO) print_result(vm, &r);
        val_decref(&vm->ctx, &r);
    }
    fflush(vm->ctx.out);
    return DIAL_OK;
}

int dial_exec(dial_vm *d, const char *name, const char *code, size_t len, unsigned flags)
{
    if (!d) return DIAL_ERROR_USAGE;
    if (!code) return usage(d, "dial_exec", "NULL code");
    if (begin(d, "dial_exec")) return DIAL_ERROR_USAGE;
    return d->code = exec(d, name, code, len, flags, NULL);
}

/* Read a whole file; NULL with errno set on failure. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *nb = cap < ((size_t)1 << 40) ? realloc(buf, cap * 2) : NULL;
        if (!nb) {
            free(buf);
            buf = NULL;
            errno = ENOMEM;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int err = ferror(f) ? errno : 0;
    if (f != stdin) fclose(f);
    if (buf && err) {
        free(buf);
        errno = err;
        return NULL;
    }
    *len = n;
    return buf;
}

int dial_exec_file(dial_vm *d, const char *path, unsigned flags)
{
    if (!d) return DIAL_ERROR_USAGE;
    if (!path) return usage(d, "dial_exec_file", "NULL path");
    if (begin(d, "dial_exec_file")) return DIAL_ERROR_USAGE;
    size_t len;
    char *text = read_file(path, &len);
    if (!text)
        return d->code = fail(d->vm, DIAL_ERROR_FILE, "dial: cannot open '%s': %s", path,
                              strerror(errno));
    int rc = dial_exec(d, strcmp(path, "-") == 0 ? "stdin" : path, text, len, flags);
    free(text);
    return rc;
}

const char *dial_error(const dial_vm *d)
{
    return d ? sb_str(&d->vm->err) : "dial: no VM\n";
}

int dial_error_code(const dial_vm *d)
{
    return d ? d->code : DIAL_ERROR_USAGE;
}

void dial_set_output(dial_vm *d, FILE *out)
{
    if (d) d->vm->ctx.out = out ? out : stdout;
}

int dial_set_args(dial_vm *d, int argc, char **argv)
{
    if (!d) return DIAL_ERROR_USAGE;
    if (argc < 0 || (argc && !argv)) return usage(d, "dial_set_args", "argc < 0 or NULL argv");
    if (begin(d, "dial_set_args")) return DIAL_ERROR_USAGE;
    Vm *vm = d->vm;
    int slot = vm_global(vm, "args");
    Tuple *t = slot < 0 ? NULL : tup_new(&vm->ctx, argc);
    if (!t) return fail(vm, DIAL_ERROR_MEMORY, "%s: %s", "dial", "out of memory");
    for (int k = 0; k < argc; k++) {
        Str *s = str_new(&vm->ctx, argv[k], strlen(argv[k]));
        if (!s) {
            Value v = {T_TUPLE, {.tu = t}};
            val_decref(&vm->ctx, &v);
            return fail(vm, DIAL_ERROR_MEMORY, "%s: %s", "dial", "out of memory");
        }
        t->v[k].t = T_STR;
        t->v[k].u.s = s;
    }
    Value v = {T_TUPLE, {.tu = t}};
    val_decref(&vm->ctx, &vm->g[slot]);
    vm->g[slot] = v;
    return seterr(d, DIAL_OK, NULL);
}

int dial_ad_stats(const dial_vm *d, char *buf, size_t size)
{
    if (!d) return -1;
    const Tape *t = &d->vm->ctx.tape;
    Sbuf b;
    sb_init(&b);
    sb_printf(&b,
              "{\"forward_steps\": %zu, \"taped_steps\": %zu, \"snapshots_peak\": %zu, "
              "\"snapshot_bytes_peak\": %zu, \"tape_bytes_peak\": %zu, \"pushes\": %zu, \"loops\": [",
              t->forward_steps, t->taped_steps, t->snapshots_peak, t->snapshot_bytes_peak, t->bytes_peak,
              t->pushes);
    for (size_t k = 0; k < t->nloops; k++) {
        const CkStat *l = &t->loops[k];
        sb_printf(&b,
                  "%s{\"line\": %d, \"col\": %d, \"kind\": \"%s\", \"n\": %lld, \"s\": %lld, "
                  "\"runs\": %lld, \"optimum\": %lld, \"forward_steps\": %lld, \"taped_steps\": %lld}",
                  k ? ", " : "", l->line, l->col, l->online ? "online" : "offline", (long long)l->n,
                  (long long)l->s, (long long)l->runs, (long long)(l->t * l->runs), (long long)l->advances,
                  (long long)l->taped);
    }
    sb_puts(&b, "]}");
    int n = (int)b.len;
    if (size) snprintf(buf, size, "%s", sb_str(&b));
    sb_free(&b);
    return n;
}

void dial_interrupt(dial_vm *d)
{
    if (d) d->vm->interrupt = 1;
}

/* -- limits ------------------------------------------------------------------ */

int dial_set_memory_limit(dial_vm *d, size_t bytes)
{
    if (!d) return DIAL_ERROR_USAGE;
    if (begin(d, "dial_set_memory_limit")) return DIAL_ERROR_USAGE;
    d->vm->ctx.limit = bytes;
    if (bytes) ctx_release(&d->vm->ctx);   /* cached blocks count against a limit */
    return seterr(d, DIAL_OK, NULL);
}

size_t dial_memory_used(const dial_vm *d)
{
    return d ? d->vm->ctx.bytes : 0;
}

int dial_set_step_limit(dial_vm *d, uint64_t steps)
{
    if (!d) return DIAL_ERROR_USAGE;
    d->vm->steplimit = steps;
    return seterr(d, DIAL_OK, NULL);
}

int dial_set_ad_budget(dial_vm *d, size_t bytes)
{
    if (!d) return DIAL_ERROR_USAGE;
    d->vm->ad_budget = bytes;
    return seterr(d, DIAL_OK, NULL);
}

size_t dial_ad_budget(const dial_vm *d)
{
    return d ? (d->vm->ad_budget ? d->vm->ad_budget : VM_AD_BUDGET) : 0;
}

/* -- globals and calls ----------------------------------------------------- */

/* An identifier: what dial code could name. */
static int identifier(const char *s)
{
    if (!s || !(*s == '_' || ((*s | 32) >= 'a' && (*s | 32) <= 'z'))) return 0;
    for (s++; *s; s++)
        if (!(*s == '_' || (*s >= '0' && *s <= '9') || ((*s | 32) >= 'a' && (*s | 32) <= 'z')))
            return 0;
    return 1;
}

int dial_set_global(dial_vm *d, const char *name, const dial_array *value)
{
    const char *fn = "dial_set_global";
    if (!d) return DIAL_ERROR_USAGE;
    if (begin(d, fn)) return DIAL_ERROR_USAGE;
    if (!identifier(name)) return usage(d, fn, "the name must be an identifier");
    if (check_arg(d, fn, value)) return DIAL_ERROR_USAGE;
    int g = vm_global(d->vm, name);
    if (g < 0) return out_of_memory(d, fn);
    val_set(&d->vm->ctx, &d->vm->g[g], &value->v);
    return seterr(d, DIAL_OK, NULL);
}

int dial_get_global(dial_vm *d, const char *name, dial_array **value)
{
    const char *fn = "dial_get_global";
    if (!d) return DIAL_ERROR_USAGE;
    if (!value) return usage(d, fn, "NULL value");
    *value = NULL;
    if (!name) return usage(d, fn, "NULL name");
    int g = vm_findglobal(d->vm, name);
    if (g < 0 || d->vm->g[g].t == T_NIL)
        return seterr(d, DIAL_ERROR_USAGE, "%s: no global '%s'", fn, name);
    const Value *v = &d->vm->g[g];
    if (!hostable(v))
        return seterr(d, DIAL_ERROR_USAGE, "%s: '%s' is %s %s, not an array", fn, name,
                      v->t == T_ARR ? "an" : "a", val_typename(v));
    Value c = *v;
    val_incref(&c);
    if (!(*value = handle(d, c))) return out_of_memory(d, fn);
    return seterr(d, DIAL_OK, NULL);
}

/* The values of argument handles (borrowed), into vals[nargs]. */
static int arg_values(dial_vm *d, const char *fn, dial_array *const *args, int nargs,
                      Value **vals)
{
    *vals = NULL;
    if (nargs < 0 || nargs > 250 || (nargs && !args))
        return usage(d, fn, "nargs must be 0 to 250, args not NULL");
    for (int k = 0; k < nargs; k++)
        if (check_arg(d, fn, args[k])) return DIAL_ERROR_USAGE;
    *vals = malloc(((size_t)nargs + 1) * sizeof **vals);
    if (!*vals) return out_of_memory(d, fn);
    for (int k = 0; k < nargs; k++) (*vals)[k] = args[k]->v;
    return DIAL_OK;
}

/* The function a name calls: a global holding a function, else a builtin. */
static int find_function(dial_vm *d, const char *fn, const char *name, int nargs, Value *f)
{
    if (!name) return usage(d, fn, "NULL function name");
    int g = vm_findglobal(d->vm, name);
    if (g >= 0 && d->vm->g[g].t != T_NIL) {
        *f = d->vm->g[g];
    } else if ((g = builtin_find(name)) >= 0) {
        f->t = T_BUILTIN;
        f->u.bi = g;
    } else {
        return seterr(d, DIAL_ERROR_USAGE, "%s: unknown function '%s'", fn, name);
    }
    char buf[160];
    if (f->t == T_FN && f->u.fn->nparams != nargs)
        return seterr(d, DIAL_ERROR_USAGE, "%s: %s() takes %d argument%s (%d given)", fn, name,
                      f->u.fn->nparams, f->u.fn->nparams == 1 ? "" : "s", nargs);
    if (f->t == T_BUILTIN && vm_arity(&builtins[f->u.bi], nargs, buf, sizeof buf))
        return seterr(d, DIAL_ERROR_USAGE, "%s: %s", fn, buf);
    if (f->t != T_FN && f->t != T_BUILTIN)
        return seterr(d, DIAL_ERROR_USAGE, "%s: '%s' is %s %s, not a function", fn, name,
                      f->t == T_ARR ? "an" : "a", val_typename(f));
    return DIAL_OK;
}

/* Hand a run's result to the host: NULL for nothing; values the host
 * cannot hold (functions, strings) are an error. */
static int give(dial_vm *d, const char *fn, Value *r, dial_array **result)
{
    if (r->t != T_NIL && !hostable(r)) {
        int rc = seterr(d, DIAL_ERROR_USAGE, "%s: the result is %s %s, not an array", fn,
                        r->t == T_ARR ? "an" : "a", val_typename(r));
        val_decref(&d->vm->ctx, r);
        return rc;
    }
    if (!result) {
        val_decref(&d->vm->ctx, r);
        return DIAL_OK;
    }
    if (r->t == T_NIL) return DIAL_OK;
    if (!(*result = handle(d, *r))) return out_of_memory(d, fn);
    return DIAL_OK;
}

int dial_call(dial_vm *d, const char *name, dial_array *const *args, int nargs,
              dial_array **result)
{
    const char *fn = "dial_call";
    if (!d) return DIAL_ERROR_USAGE;
    if (result) *result = NULL;
    if (begin(d, fn)) return DIAL_ERROR_USAGE;
    Value f, *vals, r;
    if (find_function(d, fn, name, nargs, &f) || arg_values(d, fn, args, nargs, &vals))
        return d->code;
    int rc = run_call(d, &f, vals, nargs, &r);
    free(vals);
    if (rc) return rc;
    return d->code = give(d, fn, &r, result);
}

/* The value_and_grad function of `name` for argnums, compiled once. */
static int grad_function(dial_vm *d, const char *name, const int *argnums, int nargnums,
                         Value *f)
{
    const char *fn = "dial_grad";
    const void *ast = name ? vm_fnast(d->vm, name) : NULL;
    if (!identifier(name) || !ast)
        return seterr(d, DIAL_ERROR_USAGE, "%s: '%s' is not a function defined with fn", fn,
                      name ? name : "(null)");
    int np = ((const Node *)ast)->n - 1;
    if (nargnums < 0 || nargnums > 32 || (nargnums && !argnums))
        return usage(d, fn, "nargnums must be 0 to 32, argnums not NULL");
    Sbuf key;
    sb_init(&key);
    sb_printf(&key, "value_and_grad(%s", name);
    for (int k = 0; k < nargnums; k++) {
        if (argnums[k] < 0 || argnums[k] >= np) {
            sb_free(&key);
            return seterr(d, DIAL_ERROR_USAGE, "%s: %s() has %d parameter%s, so %d is not a parameter index",
                          fn, name, np, np == 1 ? "" : "s", argnums[k]);
        }
        sb_printf(&key, ", %d", argnums[k]);
    }
    sb_puts(&key, ")");
    int hit = -1;
    for (int i = 0; i < d->ngrads && hit < 0; i++)
        if (strcmp(d->grads[i].key, sb_str(&key)) == 0) hit = i;
    if (hit >= 0 && d->grads[hit].ast == ast) {
        sb_free(&key);
        *f = d->grads[hit].fn;
        return DIAL_OK;
    }
    if (grow((void **)&d->grads, &d->gradcap, d->ngrads, sizeof *d->grads)) {
        sb_free(&key);
        return out_of_memory(d, fn);
    }
    Value r;
    int rc = exec(d, "dial_grad", sb_str(&key), key.len, 0, &r);
    if (rc || hit >= 0) sb_free(&key);
    if (rc) return d->code = rc;
    *f = r;
    if (hit >= 0) {                 /* made stale by a redefinition */
        d->grads[hit].ast = ast;
        d->grads[hit].fn = r;
        return DIAL_OK;
    }
    d->grads[d->ngrads++] = (GradFn){key.s, ast, r};   /* T_FN: no reference */
    return DIAL_OK;
}

int dial_grad(dial_vm *d, const char *name, const int *argnums, int nargnums,
              dial_array *const *args, int nargs, dial_array **value, dial_array **grads)
{
    const char *fn = "dial_grad";
    if (!d) return DIAL_ERROR_USAGE;
    if (value) *value = NULL;
    if (grads)
        for (int k = 0; k < (nargnums > 0 && nargnums <= 32 ? nargnums : 1); k++) grads[k] = NULL;
    if (!grads) return usage(d, fn, "NULL grads");
    if (begin(d, fn)) return DIAL_ERROR_USAGE;
    Value f, *vals, r;
    if (grad_function(d, name, argnums, nargnums, &f) ||
        find_function(d, fn, name, nargs, &(Value){0}) ||
        arg_values(d, fn, args, nargs, &vals))
        return d->code;
    int rc = run_call(d, &f, vals, nargs, &r);
    free(vals);
    if (rc) return rc;
    int ng = nargnums ? nargnums : 1;
    if (r.t != T_TUPLE || r.u.tu->n != ng + 1 || !hostable(&r)) {
        val_decref(&d->vm->ctx, &r);
        return seterr(d, DIAL_ERROR_RUNTIME, "%s: %s() did not give a value and gradients", fn, name);
    }
    dial_array *made[33];
    for (int k = 0; k <= ng; k++) {
        Value v = r.u.tu->v[k];
        val_incref(&v);
        if (!(made[k] = handle(d, v))) {
            for (int j = 0; j < k; j++) free_handle(made[j]);
            val_decref(&d->vm->ctx, &r);
            return out_of_memory(d, fn);
        }
    }
    for (int k = 1; k <= ng; k++) grads[k - 1] = made[k];
    if (value) *value = made[0];
    else free_handle(made[0]);
    val_decref(&d->vm->ctx, &r);
    return seterr(d, DIAL_OK, NULL);
}

/* -- host functions ------------------------------------------------------- */

int dial_fail(dial_vm *d, const char *message)
{
    if (!d) return DIAL_ERROR_RUNTIME;
    return seterr(d, DIAL_ERROR_RUNTIME, "%s", message ? message : "host function failed");
}

/* Borrowed handles for a host function's arguments. */
static dial_array *borrow(dial_vm *d, const Value *v)
{
    Value c = *v;
    val_incref(&c);
    dial_array *h = handle(d, c);
    if (h) h->borrowed = 1;
    return h;
}

/* Take a value a host function returned in a handle (which is freed). */
static int take(dial_vm *d, const Host *h, const char *what, dial_array *r, Value *out)
{
    if (!r) return ctx_err(&d->vm->ctx, "%s '%s' gave no %s", "host function", h->name, what);
    if (r->vm != d || r->borrowed) {
        if (r->vm == d && r->borrowed) return ctx_err(&d->vm->ctx, "host function '%s' gave back an argument as its %s; return a new handle", h->name, what);
        return ctx_err(&d->vm->ctx, "host function '%s' gave an array of %s VM as its %s", h->name,
                       r->vm ? "another" : "a freed", what);
    }
    *out = r->v;
    r->v = val_nil();
    free_handle(r);
    return 0;
}

static int same_shape(const Value *a, const Value *b)
{
    if (a->t == T_NUM || b->t == T_NUM) return a->t == b->t;
    return a->t == T_ARR && b->t == T_ARR && arr_sameshape(a->u.a, b->u.a->nd, b->u.a->shape);
}

/* Run host function id>>1 (its derivative when id is odd; then args are
 * the function's arguments, its result and the result's adjoint, and the
 * result is the tuple of the arguments' adjoints). */
static int host_call(Vm *vm, int id, const Value *args, int nargs, Value *out)
{
    dial_vm *d = vm->hostdata;
    const Host *h = &d->hosts[id >> 1];
    int rev = id & 1, n = rev ? nargs - 2 : nargs;
    dial_array *in[66], *res[66];
    int made = 0, rc = -1;
    Tuple *t = NULL;
    for (; made < nargs; made++) {
        if (!hostable(&args[made])) {
            ctx_err(&vm->ctx, "%s() takes arrays, not %s %s", h->name,
                    args[made].t == T_ARR ? "an" : "a", val_typename(&args[made]));
            goto out;
        }
        if (!(in[made] = borrow(d, &args[made]))) {
            ctx_err(&vm->ctx, "out of memory calling %s()", h->name);
            goto out;
        }
    }
    vm->ctx.msg[0] = 0;
    int st;
    for (int k = 0; k < n || k < 1; k++) res[k] = NULL;
    if (!rev) st = h->fn(d, h->ud, in, n, res);
    else st = h->rev(d, h->ud, in, n, in[n], in[n + 1], res);
    if (st != DIAL_OK) {
        for (int k = 0; k < (rev ? n : 1); k++)
            if (res[k] && res[k]->vm == d && !res[k]->borrowed) free_handle(res[k]);
        if (!vm->ctx.msg[0]) ctx_err(&vm->ctx, "host function '%s' failed (status %d)", h->name, st);
        goto out;
    }
    if (!rev) {
        rc = take(d, h, "result", res[0], out);
        goto out;
    }
    t = tup_new(&vm->ctx, n);
    int bad = !t;
    for (int k = 0; k < n; k++) {
        Value g = val_num(0);
        if (res[k] && !bad) {
            if (take(d, h, "adjoint", res[k], &g)) bad = 1;
            else if (!same_shape(&g, &args[k])) {
                Sbuf b1, b2;
                sb_init(&b1);
                sb_init(&b2);
                const Value *v[2] = {&g, &args[k]};
                Sbuf *b[2] = {&b1, &b2};
                for (int j = 0; j < 2; j++)
                    if (v[j]->t == T_ARR) fmt_shape(b[j], v[j]->u.a->nd, v[j]->u.a->shape);
                    else sb_puts(b[j], v[j]->t == T_NUM ? "()" : val_typename(v[j]));
                ctx_err(&vm->ctx, "the derivative of host function '%s' gave shape %s for argument %d of shape %s",
                        h->name, sb_str(&b1), k, sb_str(&b2));
                sb_free(&b1);
                sb_free(&b2);
                val_decref(&vm->ctx, &g);
                bad = 1;
            }
        } else if (res[k] && res[k]->vm == d && !res[k]->borrowed) {
            free_handle(res[k]);
        }
        if (t) t->v[k] = g;
    }
    if (bad) {
        if (t) {
            Value tv = {T_TUPLE, {.tu = t}};
            val_decref(&vm->ctx, &tv);
        }
        goto out;
    }
    out->t = T_TUPLE;
    out->u.tu = t;
    rc = 0;
out:
    for (int k = 0; k < made; k++) {
        in[k]->borrowed = 0;
        free_handle(in[k]);
    }
    return rc;
}

/* A host proto: HOST r(n) id n; RET r(n). */
static Proto *host_proto(dial_vm *d, const char *name, int id, int n)
{
    Proto *p = vm_newproto(d->vm, name, NULL);
    if (!p) return NULL;
    p->code = calloc(2, sizeof *p->code);
    p->line = calloc(2, sizeof *p->line);
    p->col = calloc(2, sizeof *p->col);
    if (!p->code || !p->line || !p->col) return NULL;   /* freed with the VM */
    p->nparams = n;
    p->nregs = n + 1;
    p->ncode = 2;
    p->code[0].op = OP_HOST;
    p->code[0].a = (uint16_t)n;
    p->code[0].u.bc.b = (uint16_t)id;
    p->code[0].u.bc.c = (uint16_t)n;
    p->code[1].op = OP_RET;
    p->code[1].a = (uint16_t)n;
    p->code[1].u.bc.b = 1;
    return p;
}

static int set_function(dial_vm *d, const char *name, Proto *p)
{
    int g = vm_global(d->vm, name);
    if (g < 0) return -1;
    if (g < d->vm->gfncap) d->vm->gfn[g] = NULL;   /* no `fn` body to differentiate */
    Value v;
    v.t = T_FN;
    v.u.fn = p;
    val_set(&d->vm->ctx, &d->vm->g[g], &v);
    return 0;
}

static void rename_names(Node *e, const char *from, const char *to)
{
    if (!e) return;
    if (e->kind == N_NAME && strcmp(e->str, from) == 0) e->str = (char *)to;
    for (int i = 0; i < e->n; i++) rename_names(e->k[i], from, to);
}

/* The derivative rule of host function `name`: its body calls the hidden
 * global NAME'rev, which no script can name, and takes the adjoints from
 * the tuple it returns:
 *   rule NAME(a0, a1) -> y { g = NAME'rev(a0, a1, y, dy); da0 = g[0]; da1 = g[1] } */
static int host_rule(dial_vm *d, const char *name, const char *revname, int n)
{
    Vm *vm = d->vm;
    Sbuf b;
    sb_init(&b);
    sb_printf(&b, "rule %s(", name);
    for (int k = 0; k < n; k++) sb_printf(&b, "%sa%d", k ? ", " : "", k);
    sb_puts(&b, ") -> y { g = hostrev__(");
    for (int k = 0; k < n; k++) sb_printf(&b, "a%d, ", k);
    sb_puts(&b, "y, dy)");
    for (int k = 0; k < n; k++) sb_printf(&b, "; da%d = g[%d]", k, k);
    sb_puts(&b, " }\n");
    const Source *src = vm_addsource(vm, revname, sb_str(&b), b.len);
    sb_free(&b);
    Arena *ar = src ? arena_new() : NULL;
    if (!ar || vm_keeparena(vm, ar)) {
        arena_free(ar);
        return out_of_memory(d, "dial_register");
    }
    Sbuf errs;
    sb_init(&errs);
    ParseResult pr = parse_source(ar, src, &errs);
    char *to = arena_strdup(ar, revname, strlen(revname));
    int rc = DIAL_OK;
    if (!pr.program || !to || pr.program->n != 1) {
        rc = seterr(d, DIAL_ERROR_MEMORY, "dial_register: cannot make the rule of '%s': %s", name, sb_str(&errs));
    } else {
        Node *rule = pr.program->k[0];
        rename_names(rule, "hostrev__", to);
        if (rules_add(vm, rule, 1, src, &errs))
            rc = seterr(d, DIAL_ERROR_MEMORY, "dial_register: cannot add the rule of '%s': %s", name, sb_str(&errs));
    }
    sb_free(&errs);
    return rc;
}

int dial_register(dial_vm *d, const char *name, int nargs, dial_host_fn fn, dial_host_rev rev,
                  void *ud)
{
    const char *what = "dial_register";
    if (!d) return DIAL_ERROR_USAGE;
    if (begin(d, what)) return DIAL_ERROR_USAGE;
    if (!identifier(name)) return usage(d, what, "the name must be an identifier");
    if (builtin_find(name) >= 0)
        return seterr(d, DIAL_ERROR_USAGE, "%s: '%s' is a builtin's name", what, name);
    if (!fn) return usage(d, what, "NULL function");
    if (nargs < 0 || nargs > (rev ? RULE_MAXOPS : 64))
        return seterr(d, DIAL_ERROR_USAGE, "%s: nargs must be 0 to %d", what, rev ? RULE_MAXOPS : 64);
    if (strlen(name) > 200) return usage(d, what, "the name is too long");
    if (d->nhosts >= 30000) return usage(d, what, "too many host functions");
    if (grow((void **)&d->hosts, &d->hostcap, d->nhosts, sizeof *d->hosts))
        return out_of_memory(d, what);
    char revname[256];
    snprintf(revname, sizeof revname, "%s'rev", name);
    Host *h = &d->hosts[d->nhosts];
    int id = 2 * d->nhosts;
    *h = (Host){strdup(name), nargs, fn, rev, ud};
    Proto *p = h->name ? host_proto(d, name, id, nargs) : NULL;
    Proto *pr = p && rev ? host_proto(d, revname, id + 1, nargs + 2) : NULL;
    if (!p || (rev && !pr) || set_function(d, name, p) || (rev && set_function(d, revname, pr))) {
        free(h->name);
        return out_of_memory(d, what);
    }
    d->nhosts++;
    if (rev) return d->code = host_rule(d, name, revname, nargs);
    /* registered again without a derivative: the old one must not be
     * used, neither by grad from now on nor by code it already made */
    rules_drop(d->vm, name);
    int g = vm_findglobal(d->vm, revname);
    if (g >= 0) val_decref(&d->vm->ctx, &d->vm->g[g]);
    return seterr(d, DIAL_OK, NULL);
}

/* --- Introspection (the REPL) ------------------------------------------- */

/* grad and value_and_grad are compiled, not in the builtin table; the
 * keywords are the lexer's (grammar/lexer.re). */
static const char *const special_names[] = {"grad", "value_and_grad"};
static const char *const keywords[] = {
    "fn", "return", "if", "else", "for", "in", "while", "break", "continue",
    "and", "or", "not", "rule", "checkpoint", "true", "false",
};
#define COUNT(a) ((int)(sizeof(a) / sizeof(a)[0]))

const char *dial_name(const dial_vm *d, int i, unsigned kinds)
{
    if (!d || i < 0) return NULL;
    const Vm *vm = d->vm;
    if (kinds & DIAL_NAME_GLOBAL)
        for (int g = 0; g < vm->ng; g++)
            if (vm->g[g].t != T_NIL && i-- == 0) return vm->gname[g];
    if (kinds & DIAL_NAME_BUILTIN) {
        if (i < nbuiltins) return builtins[i].name;
        i -= nbuiltins;
        if (i < COUNT(special_names)) return special_names[i];
        i -= COUNT(special_names);
    }
    if ((kinds & DIAL_NAME_KEYWORD) && i < COUNT(keywords)) return keywords[i];
    return NULL;
}

int dial_disasm(dial_vm *d, const char *name, FILE *out)
{
    const char *fn = "dial_disasm";
    if (!d) return DIAL_ERROR_USAGE;
    if (!name || !out) return usage(d, fn, name ? "NULL out" : "NULL name");
    Vm *vm = d->vm;
    int g = vm_findglobal(vm, name);
    const Value *v = g >= 0 && vm->g[g].t != T_NIL ? &vm->g[g] : NULL;
    int builtin = builtin_find(name) >= 0 || strcmp(name, "grad") == 0 ||
                  strcmp(name, "value_and_grad") == 0;
    if (!v && !builtin) return seterr(d, DIAL_ERROR_USAGE, "%s: no global '%s'", fn, name);
    if (!v || v->t != T_FN)
        return seterr(d, DIAL_ERROR_USAGE, "%s: '%s' is not a compiled function (%s)", fn, name,
                      !v || v->t == T_BUILTIN ? "a builtin" : val_typename(v));
    Sbuf b;
    sb_init(&b);
    disasm_proto(&b, v->u.fn);
    fwrite(b.s ? b.s : "", 1, b.len, out);
    sb_free(&b);
    fflush(out);
    return seterr(d, DIAL_OK, NULL);
}
