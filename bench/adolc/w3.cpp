/* W3 scalar ode with ADOL-C: x = 1, v = 0, dt = 1e-3, 10^6 steps of
   v = v - dt*sin(x); x = x + dt*v; loss = x; gradient with respect to (x0, v0).
   Argument: tape|revolve. revolve uses 100 snapshots for the 10^6 steps. */
#include "common.h"

enum { STEPS = 1000000, SNAPSHOTS = 100 };
static const double dt = 1e-3;

static int step_a(int, adouble *y)       /* y = (x, v) */
{
    y[1] = y[1] - dt * sin(y[0]);
    y[0] = y[0] + dt * y[1];
    return 1;
}

static int step_d(int, double *y)
{
    y[1] = y[1] - dt * sin(y[0]);
    y[0] = y[0] + dt * y[1];
    return 1;
}

int main(int argc, char **argv)
{
    int rev = revolve_mode(argc, argv);
    double y0[2] = {1, 0}, g[2], loss;
    double t0 = bench_now();

    adouble y[2];
    if (!rev) {
        trace_on_sized(1, 1, 8.0 * STEPS);
        y[0] <<= y0[0];
        y[1] <<= y0[1];
        for (long k = 0; k < STEPS; k++) step_a(2, y);
        y[0] >>= loss;
        trace_off();
        double u = 1;
        fos_reverse(1, 1, 2, &u, g);
    } else {
        CP_Context cpc(step_a);
        cpc.setDoubleFct(step_d);
        cpc.setNumberOfSteps(STEPS);
        cpc.setNumberOfCheckpoints(SNAPSHOTS);
        cpc.setDimensionXY(2);
        cpc.setInput(y);
        cpc.setOutput(y);
        cpc.setTapeNumber(3);
        cpc.setAlwaysRetaping(false);
        trace_on(2);
        y[0] <<= y0[0];
        y[1] <<= y0[1];
        cpc.checkpointing();
        adouble l = y[0];
        l >>= loss;
        trace_off();
        gradient(2, 2, y0, g);
    }
    print_result(t0, loss, g, 2);
    return 0;
}
