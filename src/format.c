/* format.c: the text of values (see array.h): numbers in their shortest
 * round-trip form, shapes, and values as `print` shows them. */
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "builtins.h"

/* Arrays above this many elements print only their first and last
 * SUMMARY_EDGE entries along each axis longer than 2 * SUMMARY_EDGE, as
 * NumPy does with its default threshold. */
#define SUMMARY_THRESHOLD 1000
#define SUMMARY_EDGE 3

void fmt_num(Sbuf *b, double x)
{
    if (isnan(x)) {
        sb_puts(b, "nan");
        return;
    }
    if (isinf(x) || x == 0) {
        sb_puts(b, signbit(x) ? "-" : "");
        sb_puts(b, x == 0 ? "0" : "inf");
        return;
    }
    /* The fewest significant digits that read back to x; %e rounds
     * correctly, so the first precision that round-trips is the shortest.
     * Only digits and the exponent are taken from it, so a host's locale
     * (its decimal comma) cannot leak into the text. */
    char e[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, x);
        if (strtod(e, NULL) == x) break;
    }
    char dig[20];
    int nd = 0;
    const char *q = e + (x < 0);
    for (; *q != 'e'; q++)
        if (*q >= '0' && *q <= '9') dig[nd++] = *q;
    int ex = atoi(q + 1);
    while (nd > 1 && dig[nd - 1] == '0') nd--;

    if (x < 0) sb_putc(b, '-');
    /* Python's repr: positional for exponents in [-4, 16) */
    if (ex < -4 || ex >= 16) {
        sb_putc(b, dig[0]);
        if (nd > 1) {
            sb_putc(b, '.');
            sb_add(b, dig + 1, (size_t)nd - 1);
        }
        sb_printf(b, "e%c%02d", ex < 0 ? '-' : '+', abs(ex));
    } else if (ex < 0) {
        sb_puts(b, "0.");
        for (int i = 0; i < -ex - 1; i++) sb_putc(b, '0');
        sb_add(b, dig, (size_t)nd);
    } else {
        for (int i = 0; i <= ex; i++) sb_putc(b, i < nd ? dig[i] : '0');
        if (nd > ex + 1) {
            sb_putc(b, '.');
            sb_add(b, dig + ex + 1, (size_t)(nd - ex - 1));
        }
    }
}

void fmt_shape(Sbuf *b, int nd, const int64_t *shape)
{
    sb_putc(b, '(');
    for (int k = 0; k < nd; k++) sb_printf(b, k ? ", %lld" : "%lld", (long long)shape[k]);
    sb_puts(b, nd == 1 ? ",)" : ")");
}

/* One axis of an array: block is the element count of one step along it.
 * Recursion follows the axes, so it is at most DIAL_MAXDIM deep. */
static void fmt_axis(Sbuf *b, const Arr *a, int k, const double *d, const int64_t *block,
                     int summary)
{
    int64_t len = a->shape[k];
    sb_putc(b, '[');
    for (int64_t i = 0; i < len; i++) {
        if (i) sb_puts(b, ", ");
        if (summary && len > 2 * SUMMARY_EDGE && i == SUMMARY_EDGE) {
            sb_puts(b, "...");
            i = len - SUMMARY_EDGE - 1;
            continue;
        }
        if (k + 1 == a->nd) fmt_num(b, d[i]);
        else fmt_axis(b, a, k + 1, d + i * block[k], block, summary);
    }
    sb_putc(b, ']');
}

static void fmt_arr(Sbuf *b, const Arr *a)
{
    int64_t block[DIAL_MAXDIM], n = 1;
    for (int k = a->nd - 1; k >= 0; k--) {
        block[k] = n;
        n *= a->shape[k];
    }
    fmt_axis(b, a, 0, a->d, block, a->n > SUMMARY_THRESHOLD);
}

/* Tuples may hold tuples; depth bounds the recursion. */
static void fmt_val(Sbuf *b, const Value *v, int depth)
{
    switch (v->t) {
    case T_NIL: sb_puts(b, "nil"); break;
    case T_NUM: fmt_num(b, v->u.n); break;
    case T_ARR: fmt_arr(b, v->u.a); break;
    case T_STR: sb_add(b, v->u.s->s, (size_t)v->u.s->len); break;
    case T_FN: sb_puts(b, "<fn>"); break;
    case T_BUILTIN:
        if (v->u.bi >= 0 && v->u.bi < nbuiltins)
            sb_printf(b, "<builtin %s>", builtins[v->u.bi].name);
        else
            sb_puts(b, "<builtin>");
        break;
    case T_TUPLE:
        if (depth >= DIAL_MAXDIM) {
            sb_puts(b, "(...)");
            break;
        }
        sb_putc(b, '(');
        for (int i = 0; i < v->u.tu->n; i++) {
            if (i) sb_puts(b, ", ");
            fmt_val(b, &v->u.tu->v[i], depth + 1);
        }
        sb_puts(b, v->u.tu->n == 1 ? ",)" : ")");
        break;
    }
}

void fmt_value(Sbuf *b, const Value *v) { fmt_val(b, v, 0); }
