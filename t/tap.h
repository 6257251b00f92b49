/* tap.h: the TAP helper of the C unit tests (one per test program, hence
 * static): ok() prints "ok N - ..." or "not ok N - ..." and counts
 * failures in nfail; main prints the plan "1..ntest" at the end. */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>

static int ntest, nfail;

static int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ok(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%sok %d - ", cond ? "" : "not ", ++ntest);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!cond) nfail++;
    return cond;
}

#endif
