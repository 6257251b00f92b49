/* SCALE: x of 10^7 zeros; 50 passes of x[i] = x[i] * 1.0001 + 0.5, the loop
   dial's `x = x * 1.0001 + 0.5` runs; prints sum(x). The sum is taken in long
   double: 10^7 equal terms summed naively in double would be off by ~1e-9
   relative, as much as the check allows (dial sums pairwise, as NumPy). */
#include <stdlib.h>
#include "clock.h"

enum { N = 10000000, PASSES = 50 };

int main(void)
{
    double *x = calloc(N, sizeof *x);
    double t0 = bench_now();
    for (int r = 0; r < PASSES; r++)
        for (long i = 0; i < N; i++) x[i] = x[i] * 1.0001 + 0.5;
    long double s = 0;
    for (long i = 0; i < N; i++) s += x[i];
    bench_report(t0);
    printf("%.17g\n", (double)s);
    free(x);
    return 0;
}
