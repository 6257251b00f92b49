/* load.c: the array file loaders' shared check (load.h). */
#include "load.h"

#include <math.h>
#include <string.h>

#include "array.h"
#include "fuzz.h"
#include "io.h"

/* Equal shapes and elements, bit for bit but for a nan's payload. */
static int same(const Value *a, const Value *b)
{
    if (a->t != b->t) return 0;
    if (a->t == T_NUM) return (isnan(a->u.n) && isnan(b->u.n)) || !memcmp(&a->u.n, &b->u.n, 8);
    const Arr *x = a->u.a, *y = b->u.a;
    if (x->nd != y->nd || memcmp(x->shape, y->shape, (size_t)x->nd * sizeof *x->shape)) return 0;
    for (int64_t i = 0; i < x->n; i++)
        if (!(isnan(x->d[i]) && isnan(y->d[i])) && memcmp(&x->d[i], &y->d[i], 8)) return 0;
    return 1;
}

void fuzz_load(const char *suffix, const char *copy, const uint8_t *data, size_t size)
{
    Ctx c;
    memset(&c, 0, sizeof c);
    c.limit = FUZZ_MAX_MEMORY;
    Value v = val_nil(), w = val_nil();
    if (io_load(&c, fuzz_file(suffix, data, size), &v) != 0) {
        fuzz_assert(strncmp(c.msg, "load: ", 6) == 0, "a load error without its prefix");
    } else {
        Sbuf b;
        sb_init(&b);
        fmt_value(&b, &v);
        sb_free(&b);
        const char *path = fuzz_file(copy, NULL, 0);
        /* a .csv file holds 1-d and 2-d arrays only */
        if (io_save(&c, path, &v) == 0) {
            fuzz_assert(io_load(&c, path, &w) == 0, "what save wrote does not load");
            fuzz_assert(same(&v, &w), "load(save(x)) differs from x");
        }
    }
    val_decref(&c, &v);
    val_decref(&c, &w);
    fuzz_assert(c.bytes == 0, "memory accounted after everything was freed");
    ctx_release(&c);
}
