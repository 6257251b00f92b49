/* diag.c: source texts and error reports (see diag.h).
 *
 * A report is a header line, then the source line it points into and a
 * caret under the column. The shown line is made safe for a terminal:
 * control bytes and broken UTF-8 print as `?`, and a long line is cut to a
 * window around the column. */
#include "diag.h"

#include <stdlib.h>
#include <string.h>

#define LONGLINE 120  /* longer lines are cut ... */
#define WINDOW   100  /* ... to this many bytes around the column */

static char *copy(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    if (n) memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

Source *src_new(const char *name, const char *text, size_t len)
{
    Source *s = malloc(sizeof *s);
    if (!s) return NULL;
    if (!name) name = "<input>";
    if (!text) len = 0;
    s->name = copy(name, strlen(name));
    s->text = copy(text, len);
    s->len = len;
    if (!s->name || !s->text) {
        src_free(s);
        return NULL;
    }
    return s;
}

void src_free(Source *s)
{
    if (!s) return;
    free(s->name);
    free(s->text);
    free(s);
}

/* Find line `line` (1-based); its bytes are [*start, *end) without the
 * newline or a trailing CR. Returns 0 when the text has no such line. */
static int find_line(const Source *s, int line, size_t *start, size_t *end)
{
    const char *t = s->text, *e = t + s->len, *p = t;
    for (int l = 1; l < line; l++) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        if (!nl) return 0;
        p = nl + 1;
    }
    const char *nl = memchr(p, '\n', (size_t)(e - p));
    const char *q = nl ? nl : e;
    if (q > p && q[-1] == '\r') q--;
    *start = (size_t)(p - t);
    *end = (size_t)(q - t);
    return 1;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t len;
    unsigned min;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) len = 2, min = 0x80;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF) len = 3, min = 0x800;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4) len = 4, min = 0x10000;
    else return 0;
    if (len > n) return 0;
    unsigned c = p[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    return len;
}

/* Append the bytes [from, to) of the text as one display line, and the
 * caret line's padding for the bytes before `at` to `pad`: a tab stays a
 * tab so the caret aligns, anything else is one column. */
static void show(Sbuf *out, Sbuf *pad, const unsigned char *t,
                 size_t from, size_t to, size_t at)
{
    size_t i = from;
    while (i < to) {
        size_t n = 1;
        unsigned char c = t[i];
        if (c == '\t') sb_putc(out, '\t');
        else if (c < 0x20 || c == 0x7F) sb_putc(out, '?');
        else if (c < 0x80) sb_putc(out, (char)c);
        else if ((n = utf8_len(t + i, to - i)) > 0) sb_add(out, (const char *)t + i, n);
        else n = 1, sb_putc(out, '?');
        if (i < at) sb_putc(pad, c == '\t' ? '\t' : ' ');
        i += n;
    }
}

static void show_line(Sbuf *out, const Source *s, size_t start, size_t end,
                      int col)
{
    const unsigned char *t = (const unsigned char *)s->text;
    size_t len = end - start;
    size_t at = (size_t)col - 1;
    if (at > len) at = len;   /* a column past the end: caret just after it */
    size_t from = 0, to = len;
    if (len > LONGLINE) {
        from = at > WINDOW / 2 ? at - WINDOW / 2 : 0;
        to = from + WINDOW;
        if (to > len) {
            to = len;
            from = len - WINDOW;
        }
        /* never cut inside a UTF-8 sequence */
        while (from < at && (t[start + from] & 0xC0) == 0x80) from++;
        while (to < len && (t[start + to] & 0xC0) == 0x80) to++;
    }
    Sbuf pad;
    sb_init(&pad);
    if (from > 0) {
        sb_puts(out, "...");
        sb_puts(&pad, "   ");
    }
    show(out, &pad, t + start, from, to, at);
    if (to < len) sb_puts(out, "...");
    sb_putc(out, '\n');
    sb_add(out, sb_str(&pad), pad.len);
    sb_puts(out, "^\n");
    sb_free(&pad);
}

void diag_vreport(Sbuf *out, const Source *s, int line, int col,
                  const char *fmt, va_list ap)
{
    sb_puts(out, s && s->name ? s->name : "<input>");
    if (line > 0) sb_printf(out, ":%d", line);
    if (line > 0 && col > 0) sb_printf(out, ":%d", col);
    sb_puts(out, ": error: ");
    sb_vprintf(out, fmt, ap);
    sb_putc(out, '\n');
    size_t start, end;
    if (s && line > 0 && col > 0 && find_line(s, line, &start, &end))
        show_line(out, s, start, end, col);
}

void diag_report(Sbuf *out, const Source *s, int line, int col,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vreport(out, s, line, col, fmt, ap);
    va_end(ap);
}
