/* Shared by the C peers: a clock, and the "time" line on stderr.
   stdout carries only the numbers (loss, then grad_checksum); the in-program
   time goes to stderr so bench/run can show it next to the process wall time.
   The in-program clock starts once the inputs are built and stops after the
   loss (and gradient) are computed, before printing. It reads the process's
   CPU time, like Lua's os.clock() and Python's time.process_time() in the
   other peers: for these single-threaded loops that is the wall time of a
   quiet machine, and it stays put when other work shares the machine. */
#ifndef BENCH_CLOCK_H
#define BENCH_CLOCK_H
#include <stdio.h>
#include <string.h>
#include <time.h>

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
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
