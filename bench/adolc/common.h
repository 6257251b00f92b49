/* Shared by the ADOL-C peers (Debian libadolc-dev 2.7): mode argument, tape
   buffer sizes, timing and output (stdout: loss, then grad_checksum;
   stderr: `time S`, the clock starting once the inputs are built).
   Modes: tape    - tape the whole loop in memory, one reverse sweep;
          revolve - ADOL-C's checkpointing (CP_Context, Revolve schedule) over
                    the loop, with the snapshot count each program states. */
#ifndef BENCH_ADOLC_COMMON_H
#define BENCH_ADOLC_COMMON_H
#include <adolc/adolc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../c/clock.h"

static int revolve_mode(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "tape";
    if (strcmp(m, "tape") && strcmp(m, "revolve")) {
        fprintf(stderr, "usage: %s [tape|revolve]\n", argv[0]);
        exit(2);
    }
    return strcmp(m, "revolve") == 0;
}

/* Start taping with buffers sized for `ops` operations, so the tape stays in
   memory (ADOL-C spills a tape that outgrows its buffers to files). */
static void trace_on_sized(short tag, int keep, double ops)
{
    unsigned o = ops > 1e3 ? (unsigned)ops : 1000u;
    trace_on(tag, keep, o, 3 * o, o, o);
}

static void print_result(double t0, double loss, const double *g, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++) sum += g[i];
    bench_report(t0);
    printf("%.17g\n%.17g\n", loss, sum);
}
#endif
