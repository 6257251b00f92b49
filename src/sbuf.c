/* sbuf.c: growable byte buffers. */
#include "sbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_init(Sbuf *b) { b->s = NULL; b->len = b->cap = 0; }

void sb_free(Sbuf *b) { free(b->s); sb_init(b); }

void sb_clear(Sbuf *b)
{
    b->len = 0;
    if (b->s) b->s[0] = '\0';
}

/* Make room for n more bytes plus the NUL; on failure keep what fits. */
static size_t reserve(Sbuf *b, size_t n)
{
    if (b->len + n + 1 <= b->cap) return n;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1 && cap < ((size_t)-1) / 2) cap *= 2;
    if (cap < b->len + n + 1) cap = b->len + n + 1;
    char *s = realloc(b->s, cap);
    if (!s) return b->cap > b->len ? b->cap - b->len - 1 : 0;
    b->s = s;
    b->cap = cap;
    return n;
}

void sb_add(Sbuf *b, const char *s, size_t n)
{
    n = reserve(b, n);
    if (!b->s) return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void sb_puts(Sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

void sb_putc(Sbuf *b, char c) { sb_add(b, &c, 1); }

void sb_vprintf(Sbuf *b, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n <= 0) return;
    if (reserve(b, (size_t)n) < (size_t)n) return;
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sb_printf(Sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(b, fmt, ap);
    va_end(ap);
}

const char *sb_str(const Sbuf *b) { return b->s ? b->s : ""; }
