/* W2 rnn: h of 256, W 256x256 with W[i][j] = 0.01*sin(i*256+j), xs 2000x256 with
   xs[t][i] = 0.001*cos(t+i), h0 = 0; 2000 steps of h = tanh(W @ h + xs[t]);
   loss = sum(h); gradients with respect to W and h0,
   grad_checksum = sum(dW) + sum(dh0).
   Hand-written adjoint with plain loops (no BLAS), store-all: every h_t is kept
   (2001 x 256 doubles, 4 MB); the reverse step is
   da = dh*(1 - h_{t+1}^2);  dW += outer(da, h_t);  dh = W^T da.
   Prints loss and grad_checksum, one per line; "forward" prints the loss only. */
#include <math.h>
#include <stdlib.h>
#include "clock.h"

enum { H = 256, T = 2000 };

int main(int argc, char **argv)
{
    int fwd = bench_forward_only(argc, argv);
    static double W[H][H], xs[T][H];
    for (int i = 0; i < H; i++)
        for (int j = 0; j < H; j++) W[i][j] = 0.01 * sin((double)(i * H + j));
    for (int t = 0; t < T; t++)
        for (int i = 0; i < H; i++) xs[t][i] = 0.001 * cos((double)(t + i));
    double t0 = bench_now();              /* inputs built: the workload starts here */

    /* hs[t] is h before step t; hs[T] the final h (forward-only keeps two rows) */
    double (*hs)[H] = calloc(fwd ? 2 : T + 1, sizeof(double[H]));
    for (int t = 0; t < T; t++) {
        double *in = hs[fwd ? t % 2 : t], *out = hs[fwd ? (t + 1) % 2 : t + 1];
        for (int i = 0; i < H; i++) {
            double a = 0;
            for (int j = 0; j < H; j++) a += W[i][j] * in[j];
            out[i] = tanh(a + xs[t][i]);
        }
    }
    double *hT = hs[fwd ? T % 2 : T];
    double loss = 0;
    for (int i = 0; i < H; i++) loss += hT[i];
    if (fwd) {
        bench_report(t0);
        printf("%.17g\n", loss);
        free(hs);
        return 0;
    }

    static double dW[H][H];
    double dh[H], da[H];
    for (int i = 0; i < H; i++) dh[i] = 1;
    for (int t = T - 1; t >= 0; t--) {
        const double *hin = hs[t], *hout = hs[t + 1];
        for (int i = 0; i < H; i++) da[i] = dh[i] * (1 - hout[i] * hout[i]);
        for (int i = 0; i < H; i++)
            for (int j = 0; j < H; j++) dW[i][j] += da[i] * hin[j];
        for (int j = 0; j < H; j++) dh[j] = 0;
        for (int i = 0; i < H; i++)          /* row-wise: W^T da without striding */
            for (int j = 0; j < H; j++) dh[j] += W[i][j] * da[i];
    }
    double sumW = 0, sumh = 0;
    for (int i = 0; i < H; i++)
        for (int j = 0; j < H; j++) sumW += dW[i][j];
    for (int j = 0; j < H; j++) sumh += dh[j];
    bench_report(t0);
    printf("%.17g\n%.17g\n", loss, sumW + sumh);
    free(hs);
    return 0;
}
