/* value.h: dial's values and the runtime context the kernels report to.
 *
 * A Value is a 16-byte tagged union. Numbers (0-d arrays) are unboxed
 * (T_NUM); arrays, strings and tuples are refcounted heap objects whose
 * first field is the count.
 *
 * Ownership rule (as in jq): a function taking `const Value *` borrows it;
 * a function writing a Value through a `Value *out` hands the caller a new
 * reference; `*dst` parameters are overwritten, releasing the reference they
 * held. A VM register owns one reference to what it holds.
 *
 * Functions that can fail return 0 on success and -1 on error, with the
 * message in ctx->msg (no position: the VM adds the position of the
 * instruction). They never abort and never leave a reference behind on
 * failure. */
#ifndef DIAL_VALUE_H
#define DIAL_VALUE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sbuf.h"

#define DIAL_MAXDIM 16

typedef enum {
    T_NIL,     /* an unset register or global */
    T_NUM,     /* u.n */
    T_ARR,     /* u.a, refcounted */
    T_STR,     /* u.s, refcounted */
    T_TUPLE,   /* u.tu, refcounted */
    T_FN,      /* u.fn, a compiled function owned by the program */
    T_BUILTIN  /* u.bi, an index into the builtin table */
} Tag;

typedef struct Arr Arr;
typedef struct Str Str;
typedef struct Tuple Tuple;
struct Proto;

typedef struct Value {
    uint32_t t;
    union {
        double n;
        Arr *a;
        Str *s;
        Tuple *tu;
        struct Proto *fn;
        int bi;
        int32_t *rc; /* the count of any refcounted object */
    } u;
} Value;

/* An n-d float64 array, always C-contiguous. A view (base != NULL) shares
 * the data of base (which it holds a reference to); an owner keeps its
 * elements inline after the header. */
struct Arr {
    int32_t rc;
    int32_t nd;              /* number of dimensions, >= 1 (0-d is T_NUM) */
    int64_t n;               /* element count = product of shape */
    Arr *base;               /* owner of the data for a view, else NULL */
    double *d;               /* first element */
    int64_t shape[DIAL_MAXDIM];
};

struct Str {
    int32_t rc;
    int32_t len;
    char s[];                /* NUL-terminated */
};

struct Tuple {
    int32_t rc;
    int32_t n;
    Value v[];
};

/* The AD tape (tape.c): values the reverse sweep of differentiated code
 * needs, pushed by the forward sweep and popped in reverse order, and a
 * byte stack of operand shapes for summing adjoints back over broadcasts. */
typedef struct Tape {
    Value *v;
    size_t n, cap;
    unsigned char *b;
    size_t nb, bcap;
    size_t bytes;            /* bytes of cached values alive */
    size_t bytes_peak;
    size_t pushes;           /* values pushed */
    size_t taped_steps;      /* loop-body evaluations with cache */
    size_t forward_steps;    /* ... without cache (checkpointed loops) */
    size_t snapshots, snapshots_peak;          /* states checkpointed loops */
    size_t snapshot_bytes, snapshot_bytes_peak; /* keep, and their arrays */
    struct CkStat *loops;    /* per checkpointed loop (checkpoint.c) */
    size_t nloops, loopcap;
} Tape;

/* A checkpointed loop's runs with one n and s: the optimum t(n, s), the
 * untaped step evaluations they made (runs * t when optimal) and the taped
 * ones (runs * n for a `for`; a `while`, online, tapes its whole forward
 * sweep). */
typedef struct CkStat {
    int line, col, online;
    int64_t n, s, t, advances, taped, runs;
} CkStat;

/* The runtime context every kernel and builtin gets: memory accounting and
 * the limit, the output stream of `print`, the AD tape, and the last error
 * message. */
typedef struct Ctx {
    size_t bytes;            /* bytes of arrays, strings, tuples alive */
    size_t peak;             /* highest `bytes` seen */
    size_t limit;            /* 0: no limit */
    size_t nalloc;           /* allocations so far (tests, stats) */
    FILE *out;               /* where print writes */
    void *cache[8];          /* freed large blocks kept for reuse, so a */
    size_t cachesize[8];     /* loop of big temporaries does not fault in
                                fresh pages every step (value.c) */
    void *small[8];          /* freed small blocks (tuples, array headers) */
    int nsmall[8];           /* by size in 16-byte classes: lists (value.c) */
    double *scratch;         /* working space of fused kernels (fuse.c) */
    size_t nscratch;
    Tape tape;
    char msg[512];           /* the message of the last error */
} Ctx;

/* Set ctx->msg and return -1, for `return ctx_err(c, ...)`. */
int ctx_err(Ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Accounted allocation: NULL (with ctx->msg set) past the limit or when
 * malloc fails. */
void *ctx_alloc(Ctx *c, size_t n);
/* Count n more bytes in use, for memory allocated otherwise (the AD tape's
 * stacks): -1 (with ctx->msg set) past the limit. */
int ctx_charge(Ctx *c, size_t n);
void ctx_free(Ctx *c, void *p, size_t n);
/* Return the cached blocks to the system (when the context ends). */
void ctx_release(Ctx *c);

static inline Value val_num(double n) { Value v; v.t = T_NUM; v.u.n = n; return v; }
static inline Value val_nil(void) { Value v; v.t = T_NIL; v.u.n = 0; return v; }
static inline Value val_arr(Arr *a) { Value v; v.t = T_ARR; v.u.a = a; return v; }

static inline int val_isref(const Value *v) { return v->t >= T_ARR && v->t <= T_TUPLE; }
static inline void val_incref(const Value *v) { if (val_isref(v)) ++*v->u.rc; }
void val_free(Ctx *c, Value *v);              /* frees what a last reference held */
/* Release *v and set it to nil. */
static inline void val_decref(Ctx *c, Value *v)
{
    if (val_isref(v) && --*v->u.rc == 0) val_free(c, v);
    v->t = T_NIL;
}
/* *dst = src, counted */
static inline void val_set(Ctx *c, Value *dst, const Value *src)
{
    val_incref(src);
    Value old = *dst;
    *dst = *src;
    val_decref(c, &old);
}

Str *str_new(Ctx *c, const char *s, size_t len);
Tuple *tup_new(Ctx *c, int n);                /* n nil values, rc 1 */

const char *val_typename(const Value *v);     /* "number", "array", ... */

#endif
