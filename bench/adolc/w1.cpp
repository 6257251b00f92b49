/* W1 seed loop with ADOL-C: 100 elements, 1000 steps of s = s + 0.01*sin(s),
   loss = sum(s*s), gradient with respect to s0. Argument: tape|revolve.
   revolve uses 10 snapshots for the 1000 steps. */
#include "common.h"

enum { N = 100, STEPS = 1000, SNAPSHOTS = 10 };

static int step_a(int n, adouble *s)
{
    for (int i = 0; i < n; i++) s[i] = s[i] + 0.01 * sin(s[i]);
    return 1;
}

static int step_d(int n, double *s)
{
    for (int i = 0; i < n; i++) s[i] = s[i] + 0.01 * sin(s[i]);
    return 1;
}

int main(int argc, char **argv)
{
    int rev = revolve_mode(argc, argv);
    double s0[N], g[N], loss;
    for (int i = 0; i < N; i++) s0[i] = 0.01 * i;
    double t0 = bench_now();

    adouble *s = new adouble[N];
    if (!rev) {
        trace_on_sized(1, 1, 4.0 * N * STEPS + 10 * N);
        for (int i = 0; i < N; i++) s[i] <<= s0[i];
        for (int k = 0; k < STEPS; k++) step_a(N, s);
        adouble l = 0;
        for (int i = 0; i < N; i++) l += s[i] * s[i];
        l >>= loss;
        trace_off();
        double u = 1;
        fos_reverse(1, 1, N, &u, g);      /* Taylors kept by trace_on: no re-run */
    } else {
        CP_Context cpc(step_a);
        cpc.setDoubleFct(step_d);
        cpc.setNumberOfSteps(STEPS);
        cpc.setNumberOfCheckpoints(SNAPSHOTS);
        cpc.setDimensionXY(N);
        cpc.setInput(s);
        cpc.setOutput(s);
        cpc.setTapeNumber(3);
        cpc.setAlwaysRetaping(false);
        trace_on(2);
        for (int i = 0; i < N; i++) s[i] <<= s0[i];
        cpc.checkpointing();
        adouble l = 0;
        for (int i = 0; i < N; i++) l += s[i] * s[i];
        l >>= loss;
        trace_off();
        gradient(2, N, s0, g);
    }
    print_result(t0, loss, g, N);
    delete[] s;
    return 0;
}
