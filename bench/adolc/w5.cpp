/* W5 heat with ADOL-C: 1000 points, 20000 steps of
   u[1:-1] = u[1:-1] + 0.25*(u[2:] - 2*u[1:-1] + u[:-2]), boundaries fixed;
   loss = sum(u*u), gradient with respect to u0. Argument: tape|revolve.
   revolve uses 50 snapshots for the 20000 steps. ADOL-C tapes every operation,
   linear or not, so the store-all tape is large here. */
#include "common.h"

enum { N = 1000, STEPS = 20000, SNAPSHOTS = 50 };

/* One step from `in` to `out` (distinct arrays): what the store-all tape records. */
static void step_to(int n, const adouble *in, adouble *out)
{
    out[0] = in[0];
    out[n - 1] = in[n - 1];
    for (int i = 1; i < n - 1; i++) out[i] = in[i] + 0.25 * (in[i + 1] - 2 * in[i] + in[i - 1]);
}

/* In-place step for CP_Context, through a scratch array allocated once. */
static adouble *scratch;
static int step_a(int n, adouble *u)
{
    step_to(n, u, scratch);
    for (int i = 0; i < n; i++) u[i] = scratch[i];
    return 1;
}

static int step_d(int n, double *u)
{
    double w[N];
    memcpy(w, u, sizeof(double) * n);
    for (int i = 1; i < n - 1; i++) u[i] = w[i] + 0.25 * (w[i + 1] - 2 * w[i] + w[i - 1]);
    return 1;
}

int main(int argc, char **argv)
{
    int rev = revolve_mode(argc, argv);
    static double u0[N], g[N];
    double loss;
    for (int i = 0; i < N; i++) u0[i] = sin(3.141592653589793 * i / 999);
    double t0 = bench_now();

    adouble *u = new adouble[N];
    scratch = new adouble[N];
    if (!rev) {
        trace_on_sized(1, 1, 7.0 * N * STEPS);
        for (int i = 0; i < N; i++) u[i] <<= u0[i];
        for (int k = 0; k < STEPS; k++) {     /* ping-pong between u and scratch */
            step_to(N, u, scratch);
            adouble *t = u; u = scratch; scratch = t;
        }
        adouble l = 0;
        for (int i = 0; i < N; i++) l += u[i] * u[i];
        l >>= loss;
        trace_off();
        double w = 1;
        fos_reverse(1, 1, N, &w, g);
    } else {
        CP_Context cpc(step_a);
        cpc.setDoubleFct(step_d);
        cpc.setNumberOfSteps(STEPS);
        cpc.setNumberOfCheckpoints(SNAPSHOTS);
        cpc.setDimensionXY(N);
        cpc.setInput(u);
        cpc.setOutput(u);
        cpc.setTapeNumber(3);
        cpc.setAlwaysRetaping(false);
        trace_on(2);
        for (int i = 0; i < N; i++) u[i] <<= u0[i];
        cpc.checkpointing();
        adouble l = 0;
        for (int i = 0; i < N; i++) l += u[i] * u[i];
        l >>= loss;
        trace_off();
        gradient(2, N, u0, g);
    }
    print_result(t0, loss, g, N);
    delete[] u;
    delete[] scratch;
    return 0;
}
