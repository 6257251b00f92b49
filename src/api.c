/* api.c: the public API (dial.h) over the internal modules. Every entry
 * checks its arguments, so misuse is a status code, not a crash. */
#include "dial.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "builtins.h"
#include "compile.h"
#include "parse.h"
#include "vm.h"

struct dial_vm {
    Vm *vm;
};

dial_vm *dial_new(void)
{
    dial_vm *d = malloc(sizeof *d);
    if (!d) return NULL;
    d->vm = vm_new();
    if (!d->vm) {
        free(d);
        return NULL;
    }
    return d;
}

void dial_free(dial_vm *d)
{
    if (!d) return;
    vm_free(d->vm);
    free(d);
}

static int fail(Vm *vm, int status, const char *fmt, const char *arg, const char *why)
{
    sb_clear(&vm->err);
    sb_printf(&vm->err, fmt, arg, why);
    sb_putc(&vm->err, '\n');
    return status;
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

int dial_exec(dial_vm *d, const char *name, const char *code, size_t len, unsigned flags)
{
    if (!d || !code) return DIAL_ERROR_USAGE;
    Vm *vm = d->vm;
    sb_clear(&vm->err);
    vm->interrupt = 0;   /* a request made while nothing ran is dropped */
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
    Proto *main = compile_chunk(vm, pr.program, src, (flags & DIAL_ECHO) != 0, &vm->err);
    /* functions and rules stay known to grad: keep their trees */
    if (!main || vm_keeparena(vm, arena)) arena_free(arena);
    if (!main) return DIAL_ERROR_SYNTAX;
    if (flags & DIAL_DISASM) {
        Sbuf b;
        sb_init(&b);
        for (int k = 0; k < vm->nprotos; k++)
            if (vm->protos[k]->src == src) disasm_proto(&b, vm->protos[k]);
        fwrite(b.s ? b.s : "", 1, b.len, vm->ctx.out);
        sb_free(&b);
        return DIAL_OK;
    }
    Value result;
    if (vm_run(vm, main, &result)) return DIAL_ERROR_RUNTIME;
    if (flags & DIAL_ECHO) print_result(vm, &result);
    val_decref(&vm->ctx, &result);
    fflush(vm->ctx.out);
    return DIAL_OK;
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
    if (!d || !path) return DIAL_ERROR_USAGE;
    size_t len;
    char *text = read_file(path, &len);
    if (!text)
        return fail(d->vm, DIAL_ERROR_FILE, "dial: cannot open '%s': %s", path, strerror(errno));
    int rc = dial_exec(d, strcmp(path, "-") == 0 ? "stdin" : path, text, len, flags);
    free(text);
    return rc;
}

const char *dial_error(const dial_vm *d)
{
    return d ? sb_str(&d->vm->err) : "dial: no VM";
}

void dial_set_output(dial_vm *d, FILE *out)
{
    if (d) d->vm->ctx.out = out ? out : stdout;
}

int dial_set_args(dial_vm *d, int argc, char **argv)
{
    if (!d || argc < 0 || (argc && !argv)) return DIAL_ERROR_USAGE;
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
    return DIAL_OK;
}

int dial_ad_stats(const dial_vm *d, char *buf, size_t size)
{
    if (!d) return -1;
    const Tape *t = &d->vm->ctx.tape;
    return snprintf(buf, size,
                    "{\"forward_steps\": %d, \"taped_steps\": %zu, \"snapshots_peak\": %d, "
                    "\"snapshot_bytes_peak\": %d, \"tape_bytes_peak\": %zu, \"pushes\": %zu}",
                    0, t->taped_steps, 0, 0, t->bytes_peak, t->pushes);
}

void dial_interrupt(dial_vm *d)
{
    if (d) d->vm->interrupt = 1;
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
    if (!d) return DIAL_ERROR_USAGE;
    Vm *vm = d->vm;
    sb_clear(&vm->err);
    if (!name || !out)
        return fail(vm, DIAL_ERROR_USAGE, "dial_disasm: %s is NULL%s", name ? "out" : "name", "");
    int g = vm_findglobal(vm, name);
    const Value *v = g >= 0 && vm->g[g].t != T_NIL ? &vm->g[g] : NULL;
    int builtin = builtin_find(name) >= 0 || strcmp(name, "grad") == 0 ||
                  strcmp(name, "value_and_grad") == 0;
    if (!v && !builtin) return fail(vm, DIAL_ERROR_USAGE, "dial: no global '%s'%s", name, "");
    if (!v || v->t != T_FN)
        return fail(vm, DIAL_ERROR_USAGE, "dial: '%s' is not a compiled function (%s)", name,
                    !v || v->t == T_BUILTIN ? "a builtin" : val_typename(v));
    Sbuf b;
    sb_init(&b);
    disasm_proto(&b, v->u.fn);
    fwrite(b.s ? b.s : "", 1, b.len, out);
    sb_free(&b);
    fflush(out);
    return DIAL_OK;
}
