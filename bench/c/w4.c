/* W4 rosenbrock: x of 10^7, x[i] = 0.5 + 0.1*sin(i);
   f = sum(100*(x[1:] - x[:-1]^2)^2 + (1 - x[:-1])^2) over the 10^7-1 pairs;
   gradient with respect to x (one adjoint array of 10^7).
   Prints loss and grad_checksum, one per line; "forward" prints the loss only. */
#include <math.h>
#include <stdlib.h>
#include "clock.h"

enum { N = 10000000 };

int main(int argc, char **argv)
{
    int fwd = bench_forward_only(argc, argv);
    double *x = malloc(sizeof(double) * N);
    for (long i = 0; i < N; i++) x[i] = 0.5 + 0.1 * sin((double)i);
    double t0 = bench_now();              /* inputs built: the workload starts here */
    double loss = 0;
    for (long i = 0; i < N - 1; i++) {
        double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
        loss += 100 * a * a + b * b;
    }
    if (fwd) {
        bench_report(t0);
        printf("%.17g\n", loss);
        free(x);
        return 0;
    }

    double *g = calloc(N, sizeof(double));
    for (long i = 0; i < N - 1; i++) {
        double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
        double da = 200 * a, db = 2 * b;      /* d/da 100a^2, d/db b^2 */
        g[i + 1] += da;
        g[i] += -2 * x[i] * da - db;
    }
    double checksum = 0;
    for (long i = 0; i < N; i++) checksum += g[i];
    bench_report(t0);
    printf("%.17g\n%.17g\n", loss, checksum);
    free(x);
    free(g);
    return 0;
}
