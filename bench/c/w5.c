/* W5 heat: u of 1000, u0[i] = sin(pi*i/999); 20000 steps of
   u[1:-1] = u[1:-1] + 0.25*(u[2:] - 2*u[1:-1] + u[:-2])   (right side read before the
   store, boundaries u[0] and u[999] fixed); loss = sum(u*u); gradient with respect to u0.
   The step is linear, so the hand-written adjoint keeps no primal state at all:
   it applies the transposed step 20000 times to du = 2u.
   Prints loss and grad_checksum, one per line; "forward" prints the loss only. */
#include <math.h>
#include <string.h>
#include "clock.h"

enum { N = 1000, STEPS = 20000 };

int main(int argc, char **argv)
{
    int fwd = bench_forward_only(argc, argv);
    static double u[N], w[N];
    for (int i = 0; i < N; i++) u[i] = sin(3.141592653589793 * i / 999);
    double t0 = bench_now();              /* inputs built: the workload starts here */
    for (int k = 0; k < STEPS; k++) {
        memcpy(w, u, sizeof u);
        for (int i = 1; i < N - 1; i++)
            u[i] = w[i] + 0.25 * (w[i + 1] - 2 * w[i] + w[i - 1]);
    }
    double loss = 0;
    for (int i = 0; i < N; i++) loss += u[i] * u[i];
    if (fwd) {
        bench_report(t0);
        printf("%.17g\n", loss);
        return 0;
    }

    /* Transpose of the step: interior row i sends 0.25 of its adjoint to i-1 and i+1
       and keeps 1 - 0.5 = 0.5 of it; boundary rows pass theirs through unchanged. */
    static double du[N], dw[N];
    for (int i = 0; i < N; i++) du[i] = 2 * u[i];
    for (int k = 0; k < STEPS; k++) {
        memcpy(dw, du, sizeof du);
        du[0] = dw[0] + 0.25 * dw[1];
        du[N - 1] = dw[N - 1] + 0.25 * dw[N - 2];
        for (int i = 1; i < N - 1; i++) {
            double acc = 0.5 * dw[i];
            if (i - 1 >= 1) acc += 0.25 * dw[i - 1];
            if (i + 1 <= N - 2) acc += 0.25 * dw[i + 1];
            du[i] = acc;
        }
    }
    double checksum = 0;
    for (int i = 0; i < N; i++) checksum += du[i];
    bench_report(t0);
    printf("%.17g\n%.17g\n", loss, checksum);
    return 0;
}
