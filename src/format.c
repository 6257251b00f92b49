/* format.c: the text of values (see array.h): numbers in their shortest
 * round-trip form, shapes, and values as `print` and the REPL show them.
 *
 * Arrays print as nested brackets, laid out as NumPy's repr does, with
 * dial's number texts (fmt_num's shortest round-trip form, never a fixed
 * precision) and `, ` between items:
 *
 *   - A 1-d array is one line, its elements unpadded: [1, 20, 3]. (NumPy
 *     pads and wraps these too; dial keeps DESIGN.md's `[1, 2, 3]` and one
 *     line however long.) Empty arrays are one line too: [], [[], []].
 *   - An array of 2 or more dimensions prints one row (its last axis) per
 *     line; every element is right-aligned to the width of the widest one
 *     printed, so the columns line up across the whole array:
 *         [[ 1,  2, 30],
 *          [40,  5,  6]]
 *     Between items of the axis k from the end (k >= 2) there are k - 1
 *     blank lines, so 3-d blocks are separated by one blank line.
 *   - Continuation lines start under the first item of their axis,
 *     counted from the column where the array's `[` stands, wherever that
 *     is: inside a tuple, `(1, [[1, 2],` continues with `     [3, 4]])`,
 *     and `print("m =", m)` aligns its rows under the first one.
 *   - A row longer than LINE_WIDTH columns (the whole line, indentation
 *     included) wraps between elements, its continuation lines aligned
 *     under its first element; a line keeps at least one element.
 *   - Arrays of more than SUMMARY_THRESHOLD elements are summarised: along
 *     each axis longer than 2 * SUMMARY_EDGE only the first and the last
 *     SUMMARY_EDGE items print, with `...` between, as its own column in a
 *     row and as its own line (` ...,`) between rows or blocks. The width
 *     of the columns is that of the widest element printed.
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "builtins.h"

/* Arrays above this many elements print only their first and last
 * SUMMARY_EDGE entries along each axis longer than 2 * SUMMARY_EDGE, as
 * NumPy does with its default threshold. */
#define SUMMARY_THRESHOLD 1000
#define SUMMARY_EDGE 3
/* NumPy's default linewidth. */
#define LINE_WIDTH 75

/* The longest number text: a sign, 17 digits, a point and "e-308" (24),
 * or "-0.000" and 17 digits (23); and the NUL. */
#define NUM_TEXT 32

/* fmt_num's text of x into t, NUL-terminated; returns its length. */
static size_t num_text(char *t, double x)
{
    if (isnan(x)) return (size_t)snprintf(t, NUM_TEXT, "nan");
    if (isinf(x) || x == 0)
        return (size_t)snprintf(t, NUM_TEXT, "%s%s", signbit(x) ? "-" : "", x == 0 ? "0" : "inf");
    /* The fewest significant digits that read back to x. %e rounds
     * correctly, and a double is within half an ulp (< 1.2e-16 relative)
     * of any decimal that reads back to it, while 15-digit decimals are
     * more than 5e-16 apart: so when some text of at most 15 digits reads
     * back, the 15-digit text is it, padded with zeros (stripped below).
     * Only 15, 16 and 17 digits need trying — except for subnormals,
     * whose ulp is relatively larger. Only digits and the exponent are
     * taken from the text, so a host's locale (its decimal comma) cannot
     * leak into it. */
    char e[40];
    for (int p = fabs(x) < DBL_MIN ? 1 : 15; p <= 17; p++) {
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

    size_t n = 0;
    if (x < 0) t[n++] = '-';
    /* Python's repr: positional for exponents in [-4, 16) */
    if (ex < -4 || ex >= 16) {
        t[n++] = dig[0];
        if (nd > 1) {
            t[n++] = '.';
            memcpy(t + n, dig + 1, (size_t)nd - 1);
            n += (size_t)nd - 1;
        }
        n += (size_t)snprintf(t + n, NUM_TEXT - n, "e%c%02d", ex < 0 ? '-' : '+', abs(ex));
    } else if (ex < 0) {
        t[n++] = '0';
        t[n++] = '.';
        for (int i = 0; i < -ex - 1; i++) t[n++] = '0';
        memcpy(t + n, dig, (size_t)nd);
        n += (size_t)nd;
    } else {
        for (int i = 0; i <= ex; i++) t[n++] = i < nd ? dig[i] : '0';
        if (nd > ex + 1) {
            t[n++] = '.';
            memcpy(t + n, dig + ex + 1, (size_t)(nd - ex - 1));
            n += (size_t)(nd - ex - 1);
        }
    }
    t[n] = '\0';
    return n;
}

void fmt_num(Sbuf *b, double x)
{
    char t[NUM_TEXT];
    sb_add(b, t, num_text(t, x));
}

void fmt_shape(Sbuf *b, int nd, const int64_t *shape)
{
    sb_putc(b, '(');
    for (int k = 0; k < nd; k++) sb_printf(b, k ? ", %lld" : "%lld", (long long)shape[k]);
    sb_puts(b, nd == 1 ? ",)" : ")");
}

/* -- one line: 1-d and empty arrays ---------------------------------------- */

/* One axis of an array: block is the element count of one step along it.
 * Recursion follows the axes, so it is at most DIAL_MAXDIM deep. */
static void flat_axis(Sbuf *b, const Arr *a, int k, const double *d, const int64_t *block,
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
        else flat_axis(b, a, k + 1, d + i * block[k], block, summary);
    }
    sb_putc(b, ']');
}

/* -- rows and columns: arrays of 2 or more dimensions ----------------------- */

typedef struct Grid {
    const Arr *a;
    int64_t block[DIAL_MAXDIM];
    int summary;
    size_t width;  /* of the widest element printed */
} Grid;

/* The items printed along an axis of length len: all of them, or the first
 * and last SUMMARY_EDGE with `...` (returned as -1) between. */
static int64_t grid_item(const Grid *g, int64_t len, int64_t j)
{
    if (!g->summary || len <= 2 * SUMMARY_EDGE) return j;
    if (j < SUMMARY_EDGE) return j;
    if (j == SUMMARY_EDGE) return -1;
    return len - (2 * SUMMARY_EDGE + 1 - j);
}

static int64_t grid_count(const Grid *g, int64_t len)
{
    return g->summary && len > 2 * SUMMARY_EDGE ? 2 * SUMMARY_EDGE + 1 : len;
}

/* The widest text among the elements that will be printed. grid_axis
 * formats each element again rather than keeping the texts: printing is
 * not a hot path, and this needs no memory. At most DIAL_MAXDIM deep. */
static void grid_width(Grid *g, int k, const double *d)
{
    int64_t len = g->a->shape[k], m = grid_count(g, len);
    for (int64_t j = 0; j < m; j++) {
        int64_t i = grid_item(g, len, j);
        if (i < 0) continue;
        if (k + 1 == g->a->nd) {
            char t[NUM_TEXT];
            size_t w = num_text(t, d[i]);
            if (w > g->width) g->width = w;
        } else {
            grid_width(g, k + 1, d + i * g->block[k]);
        }
    }
}

static void put_spaces(Sbuf *b, size_t n)
{
    static const char sp[] = "                                ";
    while (n > 0) {
        size_t m = n < sizeof sp - 1 ? n : sizeof sp - 1;
        sb_add(b, sp, m);
        n -= m;
    }
}

/* Axis k of the array at d, NumPy's _formatArray: the caller has put the
 * cursor where `[` goes, and `hang` is the column just after it (where
 * this axis's continuation lines start); lines of the last axis are
 * wrapped to stay within `room` columns, counting from the line's start.
 * At most DIAL_MAXDIM deep. */
static void grid_axis(Grid *g, Sbuf *b, int k, const double *d, size_t hang, size_t room)
{
    int64_t len = g->a->shape[k], m = grid_count(g, len);
    int left = g->a->nd - k; /* axes left, this one included */
    sb_putc(b, '[');
    if (left == 1) {
        /* room for an element: one column is kept for the `,` or `]` after it */
        size_t fit = room - 1, col = hang;
        for (int64_t j = 0; j < m; j++) {
            int64_t i = grid_item(g, len, j);
            char t[NUM_TEXT] = "...";
            size_t tl = i < 0 ? 3 : num_text(t, d[i]);
            size_t wl = i < 0 ? 3 : g->width;
            if (j) {
                /* col counts the ", " already; wrap unless it gains nothing */
                if (col + wl > fit && col > hang) {
                    sb_putc(b, '\n');
                    put_spaces(b, hang);
                    col = hang;
                } else {
                    sb_putc(b, ' ');
                }
            }
            put_spaces(b, wl - tl);
            sb_add(b, t, tl);
            col += wl;
            if (j + 1 < m) {
                sb_putc(b, ',');
                col += 2;
            }
        }
    } else {
        for (int64_t j = 0; j < m; j++) {
            int64_t i = grid_item(g, len, j);
            if (j) put_spaces(b, hang);
            if (i < 0) sb_puts(b, "...");
            else grid_axis(g, b, k + 1, d + i * g->block[k], hang + 1, room - 1);
            if (j + 1 < m) {
                sb_putc(b, ',');
                for (int n = 1; n < left; n++) sb_putc(b, '\n');
            }
        }
    }
    sb_putc(b, ']');
}

/* The column the text appended to b next starts at: characters (UTF-8
 * sequences) since its last newline. */
static size_t sb_column(const Sbuf *b)
{
    size_t col = 0;
    for (size_t i = b->len; i > 0 && b->s[i - 1] != '\n'; i--)
        if (((unsigned char)b->s[i - 1] & 0xC0) != 0x80) col++;
    return col;
}

static void fmt_arr(Sbuf *b, const Arr *a)
{
    Grid g;
    g.a = a;
    g.summary = a->n > SUMMARY_THRESHOLD;
    int64_t n = 1;
    for (int k = a->nd - 1; k >= 0; k--) {
        g.block[k] = n;
        /* an empty array's extents after its 0 may multiply past int64
         * (no element is ever read through them) */
        if (__builtin_mul_overflow(n, a->shape[k], &n)) n = INT64_MAX;
    }
    if (a->nd < 2 || a->n == 0) {
        flat_axis(b, a, 0, a->d, g.block, g.summary);
        return;
    }
    g.width = 0;
    grid_width(&g, 0, a->d);
    /* LINE_WIDTH less one column per axis below still leaves room */
    grid_axis(&g, b, 0, a->d, sb_column(b) + 1, LINE_WIDTH);
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
