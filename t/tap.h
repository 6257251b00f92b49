/* tap.h: TAP output for the C unit tests (t/unit-*.c): ok() prints one
 * test line and returns its condition; the test prints the plan
 * ("1..ntest") at the end and exits nonzero when nfail is. */
#ifndef DIAL_TAP_H
#define DIAL_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int ntest, nfail;

static int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3), unused));
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
