/* Shared by the C peers: a monotonic clock, and the "time" line on stderr.
   stdout carries only the numbers (loss, then grad_checksum); the in-program
   time goes to stderr so bench/run can show it next to the process wall time.
   The in-program clock starts once the inputs are built and stops after the
   loss (and gradient) are computed, before printing. */
#ifndef BENCH_CLOCK_H
#define BENCH_CLOCK_H
#include <stdio.h>
#include <string.h>
#include <time.h>

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void bench_report(double t0)
{
    fprintf(stderr, "time %.6f\n", bench_now() - t0);
}

/* "forward" as first argument: run the forward only and print just the loss. */
static inline int bench_forward_only(int argc, char **argv)
{
    return argc > 1 && strcmp(argv[1], "forward") == 0;
}
#endif
