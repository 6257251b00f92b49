/* descent.c: gradient descent driven from C, with dial computing the
 * gradient.
 *
 *   descent [model.dial]
 *
 * The host makes a data set, hands it to dial without copying
 * (dial_array_wrap), and updates the parameters, which it also owns, with
 * the gradient dial_grad returns for the model script's `loss`. */
#include <dial.h>
#include <math.h>
#include <stdio.h>

#define N 64   /* samples */
#define D 3    /* features */

static int fail(dial_vm *vm, const char *what)
{
    fprintf(stderr, "descent: %s failed:\n%s", what, dial_error(vm));
    dial_free(vm);
    return 1;
}

int main(int argc, char **argv)
{
    const char *model = argc > 1 ? argv[1] : "model.dial";
    static const double w_true[D] = {0.5, -0.25, 0.75};
    const double b_true = 0.1;
    double x[N][D], y[N], w[D] = {0, 0, 0}, b = 0;
    for (int i = 0; i < N; i++) {
        double s = b_true;
        for (int j = 0; j < D; j++) {
            x[i][j] = sin(1.7 * i + 2.3 * j + 0.5 * i * j);
            s += x[i][j] * w_true[j];
        }
        y[i] = tanh(s);
    }

    dial_vm *vm = dial_new();
    if (!vm) return 1;
    if (dial_exec_file(vm, model, 0) != DIAL_OK) return fail(vm, "loading the model");

    /* The data and the weights are read in place: dial never writes them,
     * and sees the host's updates to w in the next call. */
    int64_t xs[2] = {N, D}, ys[1] = {N}, ws[1] = {D};
    dial_array *args[4] = {
        dial_array_wrap(vm, 1, ws, w, NULL, NULL),
        NULL,
        dial_array_wrap(vm, 2, xs, &x[0][0], NULL, NULL),
        dial_array_wrap(vm, 1, ys, y, NULL, NULL),
    };
    int wrt[2] = {0, 1};
    double first = 0, last = 0, rate = 0.2;
    for (int step = 0; step <= 400; step++) {
        args[1] = dial_number(vm, b);   /* a number is copied: a new one each step */
        dial_array *value, *grad[2];
        if (!args[1] || dial_grad(vm, "loss", wrt, 2, args, 4, &value, grad) != DIAL_OK)
            return fail(vm, "dial_grad");
        dial_array_number(value, &last);
        if (step == 0) first = last;
        if (step % 100 == 0) printf("step %d loss %.3e\n", step, last);
        const double *gw = dial_array_data(grad[0]);
        double gb;
        dial_array_number(grad[1], &gb);
        for (int j = 0; j < D; j++) w[j] -= rate * gw[j];
        b -= rate * gb;
        dial_array_free(value);
        dial_array_free(grad[0]);
        dial_array_free(grad[1]);
        dial_array_free(args[1]);
        args[1] = NULL;
    }
    printf("w = [%.3f, %.3f, %.3f], b = %.3f\n", w[0], w[1], w[2], b);
    int ok = last < first / 100;
    for (int j = 0; j < D; j++) ok &= fabs(w[j] - w_true[j]) < 0.05;
    printf("%s: loss %.3e -> %.3e\n", ok ? "converged" : "NOT converged", first, last);
    for (int k = 0; k < 4; k++) dial_array_free(args[k]);
    dial_free(vm);
    return !ok;
}
