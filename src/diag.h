/* diag.h: source texts and the one format every error is reported in:
 *
 *   file:line:col: error: message
 *   <the source line>
 *   <spaces up to the column>^
 *
 * A Source owns a copy of its text. Very long lines are shown as a window
 * around the column, so a 10 MB one-line file gives a short report. */
#ifndef DIAL_DIAG_H
#define DIAL_DIAG_H

#include <stdarg.h>
#include <stddef.h>

#include "sbuf.h"

typedef struct Source {
    char *name;
    char *text;   /* NUL-terminated; may also contain NUL bytes before len */
    size_t len;
} Source;

Source *src_new(const char *name, const char *text, size_t len);
void src_free(Source *s);

/* Append one report to out. line/col are 1-based; col 0 or a line past the
 * end shows no source line. */
void diag_report(Sbuf *out, const Source *s, int line, int col,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void diag_vreport(Sbuf *out, const Source *s, int line, int col,
                  const char *fmt, va_list ap);

#endif
