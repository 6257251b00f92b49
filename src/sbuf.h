/* sbuf.h: growable byte buffers for building messages and output text.
 * An Sbuf owns its bytes; sb_free releases them. The text is always
 * NUL-terminated. Allocation failure truncates instead of aborting, so an
 * embedding host never sees an abort from message formatting. */
#ifndef DIAL_SBUF_H
#define DIAL_SBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct Sbuf {
    char *s;     /* NUL-terminated text, or NULL while empty */
    size_t len;  /* bytes used, not counting the NUL */
    size_t cap;
} Sbuf;

void sb_init(Sbuf *b);
void sb_free(Sbuf *b);
void sb_clear(Sbuf *b);
void sb_add(Sbuf *b, const char *s, size_t n);
void sb_puts(Sbuf *b, const char *s);
void sb_putc(Sbuf *b, char c);
void sb_printf(Sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sb_vprintf(Sbuf *b, const char *fmt, va_list ap);
const char *sb_str(const Sbuf *b); /* "" when empty */

#endif
