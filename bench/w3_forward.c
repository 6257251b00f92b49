/* W3 forward in plain C: the practical limit for the scalar ODE loop.
   Prints the final x (the W3 loss). Build: gcc -O2 w3_forward.c -lm */
#include <math.h>
#include "c/clock.h"

static double ode(long n)
{
    double x = 1, v = 0, dt = 1e-3;
    for (long i = 0; i < n; i++) {
        v = v - dt * sin(x);
        x = x + dt * v;
    }
    return x;
}

int main(void)
{
    double t0 = bench_now();
    double x = ode(1000000);
    bench_report(t0);
    printf("%.17g\n", x);
    return 0;
}
