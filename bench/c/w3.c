/* W3 scalar ode: x = 1, v = 0, dt = 1e-3; 10^6 steps of v = v - dt*sin(x); x = x + dt*v;
   loss = x; gradient with respect to (x0, v0), grad_checksum = dx0 + dv0.
   Hand-written adjoint, store-all: the reverse needs only x before each step
   (for cos(x)), so 10^6 doubles (8 MB) are kept.
   Prints loss and grad_checksum, one per line; "forward" prints the loss only. */
#include <math.h>
#include <stdlib.h>
#include "clock.h"

enum { STEPS = 1000000 };

int main(int argc, char **argv)
{
    int fwd = bench_forward_only(argc, argv);
    double t0 = bench_now();
    double *xs = fwd ? NULL : malloc(sizeof(double) * STEPS);
    double x = 1, v = 0, dt = 1e-3;
    for (long k = 0; k < STEPS; k++) {
        if (!fwd) xs[k] = x;
        v = v - dt * sin(x);
        x = x + dt * v;
    }
    if (fwd) {
        bench_report(t0);
        printf("%.17g\n", x);
        return 0;
    }

    /* reverse of  v' = v - dt*sin(x);  x' = x + dt*v'  */
    double dx = 1, dv = 0;
    for (long k = STEPS - 1; k >= 0; k--) {
        dv = dv + dt * dx;                    /* x' = x + dt*v' */
        dx = dx - dt * cos(xs[k]) * dv;       /* v' = v - dt*sin(x) */
    }
    bench_report(t0);
    printf("%.17g\n%.17g\n", x, dx + dv);
    free(xs);
    return 0;
}
