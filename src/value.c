/* value.c: reference counting, accounted allocation and the small heap
 * objects (strings, tuples). Arrays live in array.c. */
#include "value.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

int ctx_err(Ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* Blocks from this size up are kept on free: malloc maps them afresh each
 * time, and touching fresh pages costs more than the work on them. */
#define CACHE_MIN ((size_t)1 << 20)
#define NCACHE ((int)(sizeof ((Ctx *)0)->cache / sizeof (void *)))

/* The smallest kept block that holds n bytes and wastes at most an
 * eighth: arrays of n and n - 1 elements (x[1:], x[:-1]) share blocks. */
static void *cache_take(Ctx *c, size_t n)
{
    int best = -1;
    for (int i = 0; i < NCACHE; i++)
        if (c->cache[i] && c->cachesize[i] >= n && c->cachesize[i] - n <= n / 8 &&
            (best < 0 || c->cachesize[i] < c->cachesize[best]))
            best = i;
    if (best < 0) return NULL;
    void *p = c->cache[best];
    c->cache[best] = NULL;
    return p;
}

/* Small blocks freed are kept in lists by size class and reused: a loop
 * runner's steps return a tuple each, millions of them, and malloc's own
 * bookkeeping costs more than the step. A sanitizer build goes to malloc
 * every time, so that a use after free is still caught. */
#define SMALL_MAX ((size_t)16 * 8)
#define SMALL_KEEP 64
#if defined(__SANITIZE_ADDRESS__)
#define SMALL_LISTS 0
#else
#define SMALL_LISTS 1
#endif

static int small_class(size_t n) { return SMALL_LISTS && n && n <= SMALL_MAX ? (int)((n - 1) / 16) : -1; }

void ctx_release(Ctx *c)
{
    for (int i = 0; i < NCACHE; i++) {
        free(c->cache[i]);
        c->cache[i] = NULL;
    }
    for (int k = 0; k < 8; k++) {
        while (c->small[k]) {
            void *next = *(void **)c->small[k];
            free(c->small[k]);
            c->small[k] = next;
        }
        c->nsmall[k] = 0;
    }
}

int ctx_charge(Ctx *c, size_t n)
{
    if (c->limit && (n > c->limit || c->bytes > c->limit - n))
        return ctx_err(c, "memory limit exceeded: %zu bytes in use, %zu more requested, limit %zu",
                       c->bytes, n, c->limit);
    c->bytes += n;
    if (c->bytes > c->peak) c->peak = c->bytes;
    return 0;
}

void *ctx_alloc(Ctx *c, size_t n)
{
    if (ctx_charge(c, n)) return NULL;
    int k = small_class(n);
    void *p = n >= CACHE_MIN ? cache_take(c, n) : NULL;
    if (k >= 0 && c->small[k]) {
        p = c->small[k];
        c->small[k] = *(void **)p;
        c->nsmall[k]--;
    }
    if (!p && c->limit) ctx_release(c);   /* cached blocks count against a limit */
    if (!p) p = malloc(k >= 0 ? (size_t)(k + 1) * 16 : n ? n : 1);
    if (!p) {
        c->bytes -= n;
        ctx_err(c, "out of memory allocating %zu bytes", n);
        return NULL;
    }
    c->nalloc++;
    return p;
}

void ctx_free(Ctx *c, void *p, size_t n)
{
    if (!p) return;
    c->bytes -= n;
    int k = small_class(n);
    if (k >= 0 && c->nsmall[k] < SMALL_KEEP) {
        *(void **)p = c->small[k];
        c->small[k] = p;
        c->nsmall[k]++;
        return;
    }
    if (n >= CACHE_MIN && !c->limit) {
        int slot = 0;                     /* an empty slot, else the oldest */
        for (int i = 0; i < NCACHE; i++)
            if (!c->cache[i]) {
                slot = i;
                break;
            }
        free(c->cache[slot]);
        memmove(&c->cache[slot], &c->cache[slot + 1], (size_t)(NCACHE - 1 - slot) * sizeof c->cache[0]);
        memmove(&c->cachesize[slot], &c->cachesize[slot + 1], (size_t)(NCACHE - 1 - slot) * sizeof c->cachesize[0]);
        c->cache[NCACHE - 1] = p;
        c->cachesize[NCACHE - 1] = n;
        return;
    }
    free(p);
}

/* Tuples nest as deep as a program makes them (t = (t, 1) in a loop):
 * the tuples a freed tuple held the last reference to wait in a list
 * rather than on the C stack. */
static void tup_free(Ctx *c, Tuple *t)
{
    Tuple **todo = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        for (int i = 0; i < t->n; i++) {
            Value *v = &t->v[i];
            if (v->t == T_TUPLE && *v->u.rc == 1) {
                if (n == cap) {
                    size_t nc = cap ? 2 * cap : 64;
                    Tuple **p = realloc(todo, nc * sizeof *p);
                    if (!p) {               /* no room: recursion it is */
                        val_decref(c, v);
                        continue;
                    }
                    todo = p;
                    cap = nc;
                }
                todo[n++] = v->u.tu;        /* its reference moves to the list */
            } else
                val_decref(c, v);
        }
        ctx_free(c, t, sizeof *t + (size_t)t->n * sizeof(Value));
        if (!n) break;
        t = todo[--n];
    }
    free(todo);
}

void val_free(Ctx *c, Value *v)
{
    switch (v->t) {
    case T_ARR: arr_free(c, v->u.a); break;
    case T_STR: ctx_free(c, v->u.s, sizeof(Str) + (size_t)v->u.s->len + 1); break;
    case T_TUPLE: tup_free(c, v->u.tu); break;
    }
}

Str *str_new(Ctx *c, const char *s, size_t len)
{
    if (len > INT32_MAX) {
        ctx_err(c, "string too long");
        return NULL;
    }
    Str *r = ctx_alloc(c, sizeof *r + len + 1);
    if (!r) return NULL;
    r->rc = 1;
    r->len = (int32_t)len;
    memcpy(r->s, s, len);
    r->s[len] = '\0';
    return r;
}

Tuple *tup_new(Ctx *c, int n)
{
    Tuple *t = ctx_alloc(c, sizeof *t + (size_t)n * sizeof(Value));
    if (!t) return NULL;
    t->rc = 1;
    t->n = n;
    for (int i = 0; i < n; i++) t->v[i] = val_nil();
    return t;
}

const char *val_typename(const Value *v)
{
    switch (v->t) {
    case T_NIL: return "nothing";
    case T_NUM: return "number";
    case T_ARR: return "array";
    case T_STR: return "string";
    case T_TUPLE: return "tuple";
    case T_FN: case T_BUILTIN: return "function";
    }
    return "value";
}
