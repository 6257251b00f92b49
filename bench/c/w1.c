/* W1 seed loop: s0[i] = 0.01*i (100 elements); 1000 steps of s = s + 0.01*sin(s);
   loss = sum(s*s); gradient with respect to s0.
   Hand-written adjoint, store-all: every state is kept (1000 x 100 doubles, 0.8 MB),
   then the reverse sweep runs ds_prev = ds * (1 + 0.01*cos(s_prev)).
   Prints loss and grad_checksum (sum of ds0), one per line; "forward" prints the loss only. */
#include <math.h>
#include <stdlib.h>
#include "clock.h"

enum { N = 100, STEPS = 1000 };

int main(int argc, char **argv)
{
    int fwd = bench_forward_only(argc, argv);
    double t0 = bench_now();
    /* states[k] is the state before step k; states[STEPS] is the final state */
    double (*states)[N] = malloc(sizeof(double[N]) * (fwd ? 2 : STEPS + 1));
    double *s = states[0];
    for (int i = 0; i < N; i++) s[i] = 0.01 * i;
    for (int k = 0; k < STEPS; k++) {
        double *in = states[fwd ? 0 : k], *out = states[fwd ? 0 : k + 1];
        for (int i = 0; i < N; i++) out[i] = in[i] + 0.01 * sin(in[i]);
    }
    double *sn = states[fwd ? 0 : STEPS];
    double loss = 0;
    for (int i = 0; i < N; i++) loss += sn[i] * sn[i];
    if (fwd) {
        bench_report(t0);
        printf("%.17g\n", loss);
        return 0;
    }

    double ds[N];
    for (int i = 0; i < N; i++) ds[i] = 2 * sn[i];
    for (int k = STEPS - 1; k >= 0; k--)
        for (int i = 0; i < N; i++) ds[i] = ds[i] + ds[i] * 0.01 * cos(states[k][i]);
    double checksum = 0;
    for (int i = 0; i < N; i++) checksum += ds[i];
    bench_report(t0);
    printf("%.17g\n%.17g\n", loss, checksum);
    free(states);
    return 0;
}
